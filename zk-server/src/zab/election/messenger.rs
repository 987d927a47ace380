//! The links between election ports: one outgoing connection to each
//! peer, carrying only this server's latest notification, and the
//! readers of the peers' connections to this one, the latest connection
//! of each peer replacing its older one (ZooKeeper's `QuorumCnxManager`).
//! A peer that restarted or came back from a partition is reached again:
//! a write that fails reconnects, and its notification goes once more.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use zk_proto::frame::FrameCodec;

use super::fle::Notification;
use super::wire;
use crate::net::transport::{Listener, Network, Stream};

const CONNECT_RETRY_MAX: Duration = Duration::from_secs(1);
/// A notification not written within this drops the connection.
const SEND_WITHIN: Duration = Duration::from_secs(1);
/// An accepted connection that names no peer within this is closed (a
/// peer sends its notification as soon as it has connected).
const FIRST_FRAME_WITHIN: Duration = Duration::from_secs(5);

/// Keeps one outgoing connection to a peer's election port, reconnecting
/// with backoff; what cannot be sent is dropped.
pub(super) async fn send_to_peer(
    net: Arc<dyn Network>,
    addr: String,
    mut rx: watch::Receiver<Option<Bytes>>,
    shutdown: CancellationToken,
) {
    let mut backoff = Duration::from_millis(50);
    let mut conn: Option<Framed<Stream, FrameCodec>> = None;
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => return,
            changed = rx.changed() => if changed.is_err() { return },
        }
        let Some(msg) = rx.borrow_and_update().clone() else {
            continue;
        };
        // A connection the peer dropped (it restarted, or closed a stale
        // one) fails the write: the same notification goes once more on
        // a new connection, or a restarted peer would hear nothing until
        // the next one.
        for _ in 0..2 {
            if conn.is_none() {
                match tokio::time::timeout(SEND_WITHIN, net.connect(addr.clone())).await {
                    Ok(Ok(s)) => {
                        conn = Some(Framed::new(s, FrameCodec::new(wire::MAX)));
                        backoff = Duration::from_millis(50);
                    }
                    _ => {
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            () = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(CONNECT_RETRY_MAX);
                        break;
                    }
                }
            }
            // A peer that stops reading is reconnected; the resend covers
            // what was lost.
            if let Some(c) = conn.as_mut() {
                let sent = tokio::select! {
                    biased;
                    () = shutdown.cancelled() => return,
                    s = tokio::time::timeout(SEND_WITHIN, c.send(msg.clone())) => s,
                };
                match sent {
                    Ok(Ok(())) => break,
                    Ok(Err(_)) => conn = None,
                    // Not reading: trying again at once would not help.
                    Err(_) => {
                        conn = None;
                        break;
                    }
                }
            }
        }
    }
}

/// The reader of each peer's latest connection, by sid, with the order it
/// was accepted in. Each pair of servers keeps one connection each way,
/// as ZooKeeper's `QuorumCnxManager` does: a newer connection from a sid
/// replaces the older one, so a peer that restarted or came back from a
/// partition leaves no reader behind on a half-open connection.
type Readers = Arc<std::sync::Mutex<BTreeMap<u64, (u64, CancellationToken)>>>;

/// Reads the connections of `peers` (their sids) to this server.
pub(super) async fn accept(
    listener: Box<dyn Listener>,
    peers: Arc<[u64]>,
    inbound: mpsc::Sender<Notification>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
) {
    let readers: Readers = Arc::default();
    let mut accepted_count = 0u64;
    loop {
        let accepted = tokio::select! {
            biased;
            () = shutdown.cancelled() => return,
            a = listener.accept() => a,
        };
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        accepted_count += 1;
        tasks.spawn(read_peer(
            stream,
            accepted_count,
            peers.clone(),
            readers.clone(),
            inbound.clone(),
            shutdown.child_token(),
        ));
    }
}

/// Reads one accepted connection until it ends or a newer one from the
/// same peer replaces it.
async fn read_peer(
    stream: Stream,
    order: u64,
    peers: Arc<[u64]>,
    readers: Readers,
    inbound: mpsc::Sender<Notification>,
    token: CancellationToken,
) {
    let mut frames = Framed::new(stream, FrameCodec::new(wire::MAX));
    let mut peer = None;
    loop {
        let within = if peer.is_some() {
            Duration::MAX
        } else {
            FIRST_FRAME_WITHIN
        };
        let frame = tokio::select! {
            biased;
            () = token.cancelled() => break,
            f = tokio::time::timeout(within, frames.next()) => f,
        };
        let Ok(Some(Ok(bytes))) = frame else { break };
        // A frame that is not a notification ends the connection.
        let Ok(n) = wire::decode(bytes) else { break };
        if peer.is_none() {
            // Only the ensemble's servers are read, each on its latest
            // connection.
            if !peers.contains(&n.sid) || !register(&readers, n.sid, order, &token) {
                return;
            }
            peer = Some(n.sid);
        }
        if inbound.send(n).await.is_err() {
            break;
        }
    }
    if let Some(sid) = peer {
        // std Mutex: no await while held.
        let mut readers = readers.lock().unwrap_or_else(|e| e.into_inner());
        if readers.get(&sid).is_some_and(|(o, _)| *o == order) {
            readers.remove(&sid);
        }
    }
}

/// Makes `order` the reader of `sid` and stops the older one; false if a
/// newer connection from `sid` is registered already.
fn register(readers: &Readers, sid: u64, order: u64, token: &CancellationToken) -> bool {
    // std Mutex: no await while held.
    let mut readers = readers.lock().unwrap_or_else(|e| e.into_inner());
    match readers.get(&sid) {
        Some((newer, _)) if *newer > order => false,
        _ => {
            if let Some((_, old)) = readers.insert(sid, (order, token.clone())) {
                old.cancel();
            }
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_connection_of_a_peer_replaces_the_older() {
        let readers: Readers = Arc::default();
        let (first, second, late) = (
            CancellationToken::new(),
            CancellationToken::new(),
            CancellationToken::new(),
        );
        assert!(register(&readers, 2, 1, &first));
        assert!(register(&readers, 2, 3, &second));
        assert!(first.is_cancelled() && !second.is_cancelled());
        // Connection 2 named its peer last (its first frame was held up):
        // it is the stale one.
        assert!(!register(&readers, 2, 2, &late));
        assert!(!second.is_cancelled());
        assert!(register(&readers, 3, 4, &late), "another peer");
    }
}
