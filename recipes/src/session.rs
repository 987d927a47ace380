//! Keeping going through connection trouble, shared by the barriers,
//! queues, naming, group membership and counters.
//!
//! - A dropped connection needs no handling here: the client reconnects,
//!   queues the calls made meanwhile and re-arms its watches. Only the
//!   calls in flight at the drop fail (`ConnectionLoss`), and a write among
//!   them may or may not have happened: each recipe settles that its own
//!   way (a marker node, a uuid in the name, a compare of the data).
//! - An expired session is replaced by the [`Framework`]; code that waits
//!   (a barrier, a queue taker, a group member) asks [`live_client`] for the
//!   new one and carries on.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use tokio::time::Instant;
use zk_client::{Client, CreateMode, CreateOptions, Error as ZkError, SessionState};

use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::nodes;
use crate::retry::MAX_TRIES;

/// The current session's client, once it can be used: at once unless the
/// session expired, then when the framework has made a new one. `None` at
/// the deadline; an error if the framework was closed or authentication
/// failed (no new session will come). A framework made with
/// [`Framework::from_client`] never makes a new session: after its expiry
/// this waits until the deadline (or for ever).
pub(crate) async fn live_client(
    fw: &Framework,
    deadline: Option<Instant>,
) -> Result<Option<Client>> {
    let mut sessions = fw.sessions();
    loop {
        let client = sessions.borrow_and_update().client.clone();
        match client.state() {
            SessionState::Expired if !fw.is_closed() => {}
            SessionState::Expired | SessionState::Closed => return Err(ZkError::Closed.into()),
            SessionState::AuthFailed => return Err(ZkError::AuthFailed.into()),
            _ => return Ok(Some(client)),
        }
        tokio::select! {
            changed = sessions.changed() => {
                if changed.is_err() {
                    return Err(Error::SessionLost);
                }
            }
            () = until(deadline) => return Ok(None),
        }
    }
}

/// Sleeps until `deadline`; forever without one.
pub(crate) async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Runs `work` (which keeps its own `deadline` for waiting), but gives up
/// on it (`None`) once the deadline has passed while the client is not
/// connected: calls made during a disconnect queue until the client is
/// back, and a `try_*` with a timeout must not wait that long. While
/// connected, calls in flight at the deadline are let finish (a
/// zero timeout still gets one look).
pub(crate) async fn bounded<T>(
    fw: &Framework,
    deadline: Option<Instant>,
    work: impl std::future::Future<Output = T>,
) -> Option<T> {
    let Some(deadline) = deadline else {
        return Some(work.await);
    };
    tokio::select! {
        biased;
        out = work => Some(out),
        () = stuck_past(fw, deadline) => None,
    }
}

/// Resolves once `deadline` has passed and the current client is not
/// connected.
async fn stuck_past(fw: &Framework, deadline: Instant) {
    tokio::time::sleep_until(deadline).await;
    let mut sessions = fw.sessions();
    loop {
        let client = sessions.borrow_and_update().client.clone();
        let mut states = client.state_watcher();
        if !states.borrow_and_update().is_connected() {
            return;
        }
        tokio::select! {
            changed = states.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            changed = sessions.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// Whether the deadline has passed.
pub(crate) fn expired(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

/// Whether the error means the session is over (a new client is needed):
/// a call that fails with it was not applied, unless an earlier attempt
/// of it failed with `ConnectionLoss`.
pub(crate) fn session_ended(e: &ZkError) -> bool {
    matches!(e, ZkError::SessionExpired | ZkError::Closed)
}

/// The pauses of a loop that waits on the server for long: exponential
/// with jitter, capped, never running out (the loop ends on its own
/// deadline). Keeps a loop that keeps failing from spinning.
pub(crate) fn pauses() -> ExponentialBackoff {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(20))
        .with_max_delay(Duration::from_secs(1))
        .with_jitter()
        .without_max_times()
        .build()
}

/// Creates the node at `path` (missing parents as containers). Connection
/// losses are retried a bounded number of times, so after one a node made
/// by the lost attempt shows up as `NodeExists`: use it for names only
/// this caller makes (a uuid) or check the node. Not for sequential modes.
pub(crate) async fn create_node(
    client: &Client,
    path: &str,
    data: &[u8],
    mode: CreateMode,
) -> Result<(), ZkError> {
    let opts = CreateOptions::new(mode);
    let mut pauses = crate::retry::policy().build();
    for _ in 1..MAX_TRIES {
        match client.create(path, data, &opts).await {
            Ok(_) => return Ok(()),
            Err(ZkError::NoNode) => ensure_parent(client, path).await?,
            Err(e) if e.is_retryable() => {
                tokio::time::sleep(pauses.next().unwrap_or(Duration::from_millis(100))).await;
            }
            Err(e) => return Err(e),
        }
    }
    client.create(path, data, &opts).await.map(|_| ())
}

/// Creates the parent of `path` and its ancestors as containers.
pub(crate) async fn ensure_parent(client: &Client, path: &str) -> Result<(), ZkError> {
    let parent = match path.rfind('/') {
        Some(0) | None => return Ok(()),
        Some(at) => &path[..at],
    };
    match nodes::ensure_path(client, parent).await {
        Ok(()) => Ok(()),
        Err(Error::Zk(e)) => Err(e),
        Err(e) => Err(ZkError::Protocol(e.to_string())),
    }
}

/// Deletes `path`, retrying connection losses; a node already gone is
/// fine. Errors are returned, but a caller cleaning up an ephemeral node
/// may ignore them (the node goes with its session anyway).
pub(crate) async fn delete_quietly(client: &Client, path: &str) -> Result<(), ZkError> {
    match crate::retry::retry(|| client.delete(path, None)).await {
        Ok(()) | Err(ZkError::NoNode) => Ok(()),
        Err(e) => Err(e),
    }
}

/// After a write failed with `ConnectionLoss`, whether the ephemeral
/// `marker` it would have created exists: `Some(true)` applied,
/// `Some(false)` not applied, `None` unknown (the session ended first, so
/// the marker is gone either way). A sync first, so a server that lags
/// behind the one that took the write answers after catching up.
pub(crate) async fn marker_outcome(client: &Client, marker: &str) -> Result<Option<bool>> {
    let parent = match marker.rfind('/') {
        Some(0) | None => "/",
        Some(at) => &marker[..at],
    };
    match crate::retry::retry(|| client.sync(parent)).await {
        Ok(()) | Err(ZkError::NoNode) => {}
        Err(e) if session_ended(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    match crate::retry::retry(|| client.exists(marker)).await {
        Ok(found) => Ok(Some(found.is_some())),
        Err(e) if session_ended(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines() {
        assert!(!expired(None));
        assert!(expired(Some(Instant::now())));
        assert!(session_ended(&ZkError::SessionExpired));
        assert!(!session_ended(&ZkError::ConnectionLoss));
        assert!(pauses().take(50).all(|d| d <= Duration::from_secs(2)));
    }
}
