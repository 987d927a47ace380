//! What callers hold: a one-shot watcher is a future of one event, a
//! persistent watcher a stream of events. Dropping either unregisters it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::{mpsc, oneshot};
use zk_proto::data::{EventType, KeeperState};

use super::WatchKind;
use crate::session::Command;
use crate::types::WatchedEvent;

/// Resolves with the one event the watch fires, or, if the session ends
/// first, an event of type `None` with the session's final state.
#[derive(Debug)]
pub struct OneshotWatcher {
    rx: oneshot::Receiver<WatchedEvent>,
}

impl OneshotWatcher {
    pub(crate) fn new(rx: oneshot::Receiver<WatchedEvent>) -> OneshotWatcher {
        OneshotWatcher { rx }
    }
}

impl Future for OneshotWatcher {
    type Output = WatchedEvent;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<WatchedEvent> {
        Pin::new(&mut self.rx).poll(cx).map(|r| {
            r.unwrap_or(WatchedEvent {
                event_type: EventType::None,
                state: KeeperState::Closed,
                path: String::new(),
                zxid: -1,
            })
        })
    }
}

/// Every event of a persistent (or persistent-recursive) watch. The stream
/// ends after the session ends (its last item has type `None`). Dropping it
/// removes the watch, from the server too when it was the last one.
#[derive(Debug)]
pub struct PersistentWatcher {
    rx: mpsc::UnboundedReceiver<WatchedEvent>,
    id: u64,
    kind: WatchKind,
    path: String,
    session: mpsc::WeakUnboundedSender<Command>,
}

impl PersistentWatcher {
    pub(crate) fn new(
        rx: mpsc::UnboundedReceiver<WatchedEvent>,
        id: u64,
        kind: WatchKind,
        path: String,
        session: mpsc::WeakUnboundedSender<Command>,
    ) -> PersistentWatcher {
        PersistentWatcher {
            rx,
            id,
            kind,
            path,
            session,
        }
    }

    /// The next event, or `None` once the session is over.
    pub async fn next(&mut self) -> Option<WatchedEvent> {
        self.rx.recv().await
    }
}

impl Stream for PersistentWatcher {
    type Item = WatchedEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<WatchedEvent>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for PersistentWatcher {
    fn drop(&mut self) {
        if let Some(tx) = self.session.upgrade() {
            let _ = tx.send(Command::Unwatch {
                id: self.id,
                kind: self.kind,
                path: std::mem::take(&mut self.path),
            });
        }
    }
}
