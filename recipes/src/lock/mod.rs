//! Locks on sequential nodes, as Curator's `LockInternals` does them: each
//! contender creates an ephemeral-sequential node (with a protection
//! prefix); the lowest `max_leases` hold. A mutex or read-write contender
//! watches only the node it waits for, so a release wakes one waiter (no
//! herd). A semaphore with several leases watches the children instead (as
//! Curator's `InterProcessSemaphoreV2` does): any holder ahead may leave
//! first, and a watch on one of them would miss that.

mod multi;
mod mutex;
mod rw;
mod semaphore;

use std::time::Duration;

use tokio::time::Instant;
use zk_client::{Client, CreateMode};

pub use multi::{InterProcessMultiLock, MultiLockGuard};
pub use mutex::{InterProcessMutex, MutexGuard};
pub use rw::{InterProcessReadWriteLock, WriteGuard};
pub use semaphore::{InterProcessSemaphore, InterProcessSemaphoreMutex, Lease};

use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::nodes::{self, Cleanup};

/// Curator's node name for a mutex contender.
pub const LOCK_NAME: &str = "lock-";

/// Whether a contender may go, given the sorted siblings and its index.
pub(crate) enum Turn {
    Go,
    /// Wait until this sibling is gone, then look again.
    WaitFor(String),
    /// Wait until the contenders change, then look again.
    WaitForChange,
}

/// Creates a contender node under `dir` and waits for its turn. `Some`
/// (client, node path) once it holds; `None` at the timeout, with the node
/// removed. Dropping the future removes the node too.
pub(crate) async fn contend(
    fw: &Framework,
    dir: &str,
    lock_name: &str,
    names: &[&str],
    data: &[u8],
    timeout: Option<Duration>,
    turn: impl Fn(&[String], usize) -> Turn,
) -> Result<Option<(Client, String)>> {
    let client = fw.client();
    let deadline = timeout.map(|t| Instant::now() + t);
    let id = uuid::Uuid::new_v4();
    let cleanup = Cleanup::new(&client, dir, id);
    let path = nodes::create_protected(
        &client,
        dir,
        &id,
        lock_name,
        data,
        CreateMode::EphemeralSequential,
    )
    .await?;
    let name = nodes::name_of(&path).to_owned();
    loop {
        let children = nodes::sorted_children(&client, dir, names).await?;
        let Some(index) = children.iter().position(|c| *c == name) else {
            // Our ephemeral is gone: the session that made it expired.
            return Err(Error::SessionLost);
        };
        match turn(&children, index) {
            Turn::Go => {
                cleanup.disarm();
                return Ok(Some((client, path)));
            }
            Turn::WaitFor(other) => {
                if !nodes::wait_for_delete(&client, &nodes::join(dir, &other), deadline).await? {
                    // Timed out: leave the queue (the cleanup deletes).
                    drop(cleanup);
                    return Ok(None);
                }
            }
            Turn::WaitForChange => {
                if !wait_for_change(&client, dir, names, &children, deadline).await? {
                    drop(cleanup);
                    return Ok(None);
                }
            }
        }
    }
}

/// The first `max_leases` contenders hold. With one lease the others wait
/// for their predecessor; with more, for any change of the contenders (the
/// holders ahead can leave in any order).
pub(crate) fn first_n(max_leases: usize) -> impl Fn(&[String], usize) -> Turn {
    move |children, index| {
        if index < max_leases {
            Turn::Go
        } else if max_leases == 1 {
            Turn::WaitFor(children[index - 1].clone())
        } else {
            Turn::WaitForChange
        }
    }
}

/// Waits until the contenders under `dir` differ from `seen` (or already
/// do), or until `deadline`; false on timeout.
async fn wait_for_change(
    client: &Client,
    dir: &str,
    names: &[&str],
    seen: &[String],
    deadline: Option<Instant>,
) -> Result<bool> {
    let (now, _, watcher) = match client.get_children_and_watch(dir).await {
        Ok(found) => found,
        Err(e) if e.is_retryable() => return Ok(true),
        Err(e) => return Err(e.into()),
    };
    if nodes::siblings(now, names) != seen {
        return Ok(true);
    }
    nodes::fired_before(watcher, deadline).await
}

/// Deletes a held node, retrying connection losses (a repeat delete that
/// finds no node is fine).
pub(crate) async fn release_node(client: &Client, path: &str) -> Result<()> {
    match crate::retry::retry(|| client.delete(path, None)).await {
        Ok(()) | Err(zk_client::Error::NoNode) => Ok(()),
        Err(zk_client::Error::SessionExpired | zk_client::Error::Closed) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Releases in the background when a guard is dropped unreleased.
pub(crate) fn release_in_background(client: Client, path: String) {
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(async move {
            if let Err(e) = release_node(&client, &path).await {
                tracing::warn!(path, error = %e, "releasing a dropped lock failed");
            }
        });
    }
}
