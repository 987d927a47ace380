//! The client's side of watches: who waits for which event, re-armed on
//! every reconnect with setWatches2.
//!
//! The server sends one notification per change per connection; the client
//! fans it out to every watcher it concerns (ZooKeeper's `ZKWatchManager`).
//! One-shot watchers are removed when they fire; persistent ones stay until
//! their stream is dropped.

mod watcher;

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};
use zk_proto::client::SetWatches2;
use zk_proto::data::{EventType, KeeperState, WatcherType};

pub use watcher::{OneshotWatcher, PersistentWatcher};

use crate::chroot::Chroot;
use crate::types::WatchedEvent;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum WatchKind {
    /// getData, or exists on a node that exists.
    Data,
    /// exists on a node that does not exist (yet).
    Exist,
    Child,
    Persistent,
    PersistentRecursive,
}

#[derive(Debug)]
pub(crate) enum WatchSender {
    Oneshot(oneshot::Sender<WatchedEvent>),
    Persistent(u64, mpsc::UnboundedSender<WatchedEvent>),
}

/// A watch to register when its request succeeds.
#[derive(Debug)]
pub(crate) struct WatchReg {
    pub kind: WatchKind,
    /// The server path (chroot applied).
    pub path: String,
    pub sender: WatchSender,
}

/// A persistent watcher: its id (to drop it) and its stream's sender.
type Persistent = (u64, mpsc::UnboundedSender<WatchedEvent>);

#[derive(Debug, Default)]
pub(crate) struct Registry {
    oneshot: HashMap<(WatchKind, String), Vec<oneshot::Sender<WatchedEvent>>>,
    persistent: HashMap<(WatchKind, String), Vec<Persistent>>,
}

fn event(
    chroot: &Chroot,
    event_type: EventType,
    state: KeeperState,
    server_path: &str,
    zxid: i64,
) -> WatchedEvent {
    WatchedEvent {
        event_type,
        state,
        path: chroot.strip(server_path),
        zxid,
    }
}

impl Registry {
    pub fn add(&mut self, reg: WatchReg) {
        match reg.sender {
            WatchSender::Oneshot(tx) => self
                .oneshot
                .entry((reg.kind, reg.path))
                .or_default()
                .push(tx),
            WatchSender::Persistent(id, tx) => {
                self.persistent
                    .entry((reg.kind, reg.path))
                    .or_default()
                    .push((id, tx));
            }
        }
    }

    /// Delivers a notification from the server.
    pub fn dispatch(
        &mut self,
        chroot: &Chroot,
        event_type: EventType,
        server_path: &str,
        zxid: i64,
    ) {
        let ev = event(
            chroot,
            event_type,
            KeeperState::SyncConnected,
            server_path,
            zxid,
        );
        let once: &[WatchKind] = match event_type {
            EventType::NodeCreated | EventType::NodeDataChanged => {
                &[WatchKind::Data, WatchKind::Exist]
            }
            EventType::NodeDeleted => &[WatchKind::Data, WatchKind::Exist, WatchKind::Child],
            EventType::NodeChildrenChanged => &[WatchKind::Child],
            _ => &[],
        };
        for kind in once {
            for tx in self
                .oneshot
                .remove(&(*kind, server_path.to_owned()))
                .unwrap_or_default()
            {
                let _ = tx.send(ev.clone());
            }
        }
        self.send_persistent(WatchKind::Persistent, server_path, &ev);
        if matches!(
            event_type,
            EventType::NodeCreated | EventType::NodeDeleted | EventType::NodeDataChanged
        ) {
            let mut p = server_path;
            loop {
                self.send_persistent(WatchKind::PersistentRecursive, p, &ev);
                if p == "/" {
                    break;
                }
                p = zk_proto::path::parent(p);
            }
        }
    }

    fn send_persistent(&mut self, kind: WatchKind, path: &str, ev: &WatchedEvent) {
        if let Some(list) = self.persistent.get_mut(&(kind, path.to_owned())) {
            list.retain(|(_, tx)| tx.send(ev.clone()).is_ok());
        }
    }

    /// Drops a persistent watcher; true when it was the last of its kind on
    /// the path (the server's watch can go too).
    pub fn remove_persistent(&mut self, id: u64, kind: WatchKind, path: &str) -> bool {
        let key = (kind, path.to_owned());
        let Some(list) = self.persistent.get_mut(&key) else {
            return false;
        };
        list.retain(|(i, _)| *i != id);
        if list.is_empty() {
            self.persistent.remove(&key);
            true
        } else {
            false
        }
    }

    /// After a successful removeWatches: the local watchers of that type on
    /// the path get a `*WatchRemoved` event and are dropped.
    pub fn remove_type(&mut self, chroot: &Chroot, server_path: &str, watcher_type: WatcherType) {
        let kinds: &[(WatchKind, EventType)] = match watcher_type {
            WatcherType::Children => &[(WatchKind::Child, EventType::ChildWatchRemoved)],
            WatcherType::Data => &[
                (WatchKind::Data, EventType::DataWatchRemoved),
                (WatchKind::Exist, EventType::DataWatchRemoved),
            ],
            WatcherType::Persistent => {
                &[(WatchKind::Persistent, EventType::PersistentWatchRemoved)]
            }
            WatcherType::PersistentRecursive => &[(
                WatchKind::PersistentRecursive,
                EventType::PersistentWatchRemoved,
            )],
            WatcherType::Any => &[
                (WatchKind::Child, EventType::ChildWatchRemoved),
                (WatchKind::Data, EventType::DataWatchRemoved),
                (WatchKind::Exist, EventType::DataWatchRemoved),
                (WatchKind::Persistent, EventType::PersistentWatchRemoved),
                (
                    WatchKind::PersistentRecursive,
                    EventType::PersistentWatchRemoved,
                ),
            ],
        };
        for (kind, removed) in kinds {
            let ev = event(
                chroot,
                *removed,
                KeeperState::SyncConnected,
                server_path,
                -1,
            );
            let key = (*kind, server_path.to_owned());
            for tx in self.oneshot.remove(&key).unwrap_or_default() {
                let _ = tx.send(ev.clone());
            }
            for (_, tx) in self.persistent.remove(&key).unwrap_or_default() {
                let _ = tx.send(ev.clone());
            }
        }
    }

    /// What to re-arm after a reconnect; watchers whose receiver is gone are
    /// forgotten first (dropping a watcher unregisters it).
    pub fn rearm(&mut self, relative_zxid: i64) -> Option<SetWatches2> {
        self.oneshot.retain(|_, list| {
            list.retain(|tx| !tx.is_closed());
            !list.is_empty()
        });
        self.persistent.retain(|_, list| {
            list.retain(|(_, tx)| !tx.is_closed());
            !list.is_empty()
        });
        let mut sw = SetWatches2 {
            relative_zxid,
            ..SetWatches2::default()
        };
        for (kind, path) in self.oneshot.keys().chain(self.persistent.keys()) {
            let list = match kind {
                WatchKind::Data => &mut sw.data_watches,
                WatchKind::Exist => &mut sw.exist_watches,
                WatchKind::Child => &mut sw.child_watches,
                WatchKind::Persistent => &mut sw.persistent_watches,
                WatchKind::PersistentRecursive => &mut sw.persistent_recursive_watches,
            };
            list.push(path.clone());
        }
        let empty = sw.data_watches.is_empty()
            && sw.exist_watches.is_empty()
            && sw.child_watches.is_empty()
            && sw.persistent_watches.is_empty()
            && sw.persistent_recursive_watches.is_empty();
        (!empty).then_some(sw)
    }

    /// The session is over: every watcher hears it once, then is dropped.
    pub fn terminate(&mut self, state: KeeperState) {
        let ev = WatchedEvent {
            event_type: EventType::None,
            state,
            path: String::new(),
            zxid: -1,
        };
        for (_, list) in self.oneshot.drain() {
            for tx in list {
                let _ = tx.send(ev.clone());
            }
        }
        for (_, list) in self.persistent.drain() {
            for (_, tx) in list {
                let _ = tx.send(ev.clone());
            }
        }
    }
}

/// Splits a setWatches2 into packets that stay under the 128 KiB the
/// servers accept per packet (ZOOKEEPER-706).
pub(crate) fn chunk(sw: SetWatches2) -> Vec<SetWatches2> {
    const MAX_BYTES: usize = 128 * 1024;
    let mut out = Vec::new();
    let mut cur = SetWatches2 {
        relative_zxid: sw.relative_zxid,
        ..SetWatches2::default()
    };
    let mut size = 0;
    let lists = [
        (0, sw.data_watches),
        (1, sw.exist_watches),
        (2, sw.child_watches),
        (3, sw.persistent_watches),
        (4, sw.persistent_recursive_watches),
    ];
    for (which, paths) in lists {
        for path in paths {
            if size + path.len() + 4 > MAX_BYTES && size > 0 {
                let next = SetWatches2 {
                    relative_zxid: sw.relative_zxid,
                    ..SetWatches2::default()
                };
                out.push(std::mem::replace(&mut cur, next));
                size = 0;
            }
            size += path.len() + 4;
            match which {
                0 => cur.data_watches.push(path),
                1 => cur.exist_watches.push(path),
                2 => cur.child_watches.push(path),
                3 => cur.persistent_watches.push(path),
                _ => cur.persistent_recursive_watches.push(path),
            }
        }
    }
    if size > 0 {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_rearm_is_chunked() {
        let sw = SetWatches2 {
            relative_zxid: 7,
            data_watches: (0..10_000)
                .map(|i| format!("/some/long/path/{i:08}"))
                .collect(),
            ..SetWatches2::default()
        };
        let chunks = chunk(sw);
        assert!(chunks.len() > 1);
        assert_eq!(
            chunks.iter().map(|c| c.data_watches.len()).sum::<usize>(),
            10_000
        );
        assert!(chunks.iter().all(|c| c.relative_zxid == 7));
    }

    #[test]
    fn dispatch_fans_out_and_one_shots_fire_once() {
        let chroot = Chroot::default();
        let mut reg = Registry::default();
        let (tx, mut rx) = oneshot::channel();
        reg.add(WatchReg {
            kind: WatchKind::Data,
            path: "/a".into(),
            sender: WatchSender::Oneshot(tx),
        });
        let (ptx, mut prx) = mpsc::unbounded_channel();
        reg.add(WatchReg {
            kind: WatchKind::PersistentRecursive,
            path: "/".into(),
            sender: WatchSender::Persistent(1, ptx),
        });
        reg.dispatch(&chroot, EventType::NodeDataChanged, "/a", 5);
        assert_eq!(rx.try_recv().map(|e| e.zxid), Ok(5));
        assert_eq!(prx.try_recv().map(|e| e.path), Ok("/a".to_owned()));
        reg.dispatch(&chroot, EventType::NodeChildrenChanged, "/", 6);
        assert!(
            prx.try_recv().is_err(),
            "recursive watches skip child events"
        );
        assert!(reg.remove_persistent(1, WatchKind::PersistentRecursive, "/"));
    }
}
