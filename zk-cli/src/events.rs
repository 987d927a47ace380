//! Watch events and session state changes, printed as they arrive.
//!
//! zkCli has one default watcher: a change that fires several of its
//! registrations (say a `get -w` and an `addWatch` on the same node) is
//! printed once. zk-client hands each registration its own watcher, so the
//! same notification arrives once per watcher; [`Dedup`] knows which
//! watchers a notification reaches and drops the copies.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use zk_client::{
    Client, EventType, KeeperState, OneshotWatcher, PersistentWatcher, SessionState, WatchedEvent,
};

use crate::format;
use crate::output::Printer;

/// What a watcher was registered for (the CLI's view of zk-client's
/// registry; a `stat -w` counts as a data watch, as in zk-client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Data,
    Child,
    Persistent,
    Recursive,
}

#[derive(Debug)]
enum Msg {
    Register {
        watcher: u64,
        kind: Kind,
        path: String,
    },
    Watch {
        watcher: u64,
        event: WatchedEvent,
    },
    Gone {
        watcher: u64,
    },
    State(KeeperState),
}

/// Hands events to the printing task.
#[derive(Debug, Clone)]
pub struct Events {
    tx: mpsc::UnboundedSender<Msg>,
    next_id: Arc<AtomicU64>,
    print_watches: Arc<AtomicBool>,
}

impl Events {
    /// Starts the printing task. `interactive`: also print the connected
    /// and closed events (zkCli prints every state change; scripts and
    /// one-shot runs only hear about trouble).
    pub fn start(printer: Arc<Printer>, interactive: bool) -> (Events, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let print_watches = Arc::new(AtomicBool::new(true));
        let task = tokio::spawn(print_loop(rx, printer, print_watches.clone(), interactive));
        (
            Events {
                tx,
                next_id: Arc::new(AtomicU64::new(1)),
                print_watches,
            },
            task,
        )
    }

    pub fn print_watches(&self) -> bool {
        self.print_watches.load(Ordering::Relaxed)
    }

    pub fn set_print_watches(&self, on: bool) {
        self.print_watches.store(on, Ordering::Relaxed);
    }

    fn register(&self, kind: Kind, path: &str) -> u64 {
        let watcher = self.next_id.fetch_add(1, Ordering::Relaxed);
        let _ = self.tx.send(Msg::Register {
            watcher,
            kind,
            path: path.to_owned(),
        });
        watcher
    }

    /// Prints the event of a one-shot watch (`Data` or `Child` on `path`)
    /// when it fires.
    pub fn oneshot(&self, kind: Kind, path: &str, watcher: OneshotWatcher) {
        let tx = self.tx.clone();
        let id = self.register(kind, path);
        tokio::spawn(async move {
            let event = watcher.await;
            if event.event_type != EventType::None {
                let _ = tx.send(Msg::Watch { watcher: id, event });
            }
            let _ = tx.send(Msg::Gone { watcher: id });
        });
    }

    /// Prints every event of a persistent watch until it is removed or the
    /// session ends.
    pub fn persistent(&self, kind: Kind, path: &str, mut watcher: PersistentWatcher) {
        let tx = self.tx.clone();
        let id = self.register(kind, path);
        tokio::spawn(async move {
            while let Some(event) = watcher.next().await {
                if event.event_type == EventType::None {
                    break;
                }
                if tx.send(Msg::Watch { watcher: id, event }).is_err() {
                    break;
                }
            }
            let _ = tx.send(Msg::Gone { watcher: id });
        });
    }

    /// Follows the session's state until it ends.
    pub fn follow(&self, client: &Client) {
        let tx = self.tx.clone();
        let mut states = Box::pin(client.state_stream());
        tokio::spawn(async move {
            // print changes only; being connected was told already
            let mut last = KeeperState::SyncConnected;
            while let Some(state) = states.next().await {
                let ks = match state {
                    SessionState::Connecting => continue,
                    SessionState::Connected => KeeperState::SyncConnected,
                    SessionState::ConnectedReadOnly => KeeperState::ConnectedReadOnly,
                    SessionState::Disconnected => KeeperState::Disconnected,
                    SessionState::Expired => KeeperState::Expired,
                    SessionState::AuthFailed => KeeperState::AuthFailed,
                    SessionState::Closed => KeeperState::Closed,
                };
                if ks == last {
                    continue;
                }
                last = ks;
                if tx.send(Msg::State(ks)).is_err() {
                    break;
                }
            }
        });
    }

    /// The event of a new connection (printed in interactive mode).
    pub fn connected(&self, read_only: bool) {
        let _ = self.tx.send(Msg::State(if read_only {
            KeeperState::ConnectedReadOnly
        } else {
            KeeperState::SyncConnected
        }));
    }
}

async fn print_loop(
    mut rx: mpsc::UnboundedReceiver<Msg>,
    printer: Arc<Printer>,
    print_watches: Arc<AtomicBool>,
    interactive: bool,
) {
    let mut dedup = Dedup::default();
    while let Some(msg) = rx.recv().await {
        let event = match msg {
            Msg::Register {
                watcher,
                kind,
                path,
            } => {
                dedup.register(watcher, kind, path);
                continue;
            }
            Msg::Gone { watcher } => {
                dedup.gone(watcher);
                continue;
            }
            Msg::Watch { watcher, event } => {
                if !dedup.first(watcher, &event, Instant::now()) {
                    continue;
                }
                event
            }
            Msg::State(state) => {
                let quiet = matches!(
                    state,
                    KeeperState::SyncConnected
                        | KeeperState::ConnectedReadOnly
                        | KeeperState::Closed
                );
                if quiet && !interactive {
                    continue;
                }
                WatchedEvent {
                    event_type: EventType::None,
                    state,
                    path: String::new(),
                    zxid: -1,
                }
            }
        };
        if print_watches.load(Ordering::Relaxed) {
            printer.event(&format::watch_event(&event));
        }
    }
}

/// Recognizes the copies of one notification that reach several watchers.
///
/// It mirrors what the watchers were registered for. The first copy of a
/// notification is printed, and the other live watchers it reaches (by
/// zk-client's rules) are expected to deliver the same event soon: their
/// copies are dropped. Expectations lapse after a second, so a watcher
/// registered just after a notification cannot swallow a later event.
#[derive(Debug, Default)]
pub struct Dedup {
    watchers: HashMap<u64, (Kind, String)>,
    pending: VecDeque<Pending>,
}

#[derive(Debug)]
struct Pending {
    event_type: EventType,
    path: String,
    zxid: i64,
    at: Instant,
    from: Vec<u64>,
}

const COPIES_WITHIN: Duration = Duration::from_secs(1);

/// Whether a watcher for `kind` on `wpath` hears `ev` (zk-client's
/// `Registry::dispatch` and `remove_type`).
fn reaches(kind: Kind, wpath: &str, ev: &WatchedEvent) -> bool {
    let p = ev.path.as_str();
    let below = wpath == p
        || wpath == "/"
        || (p.starts_with(wpath) && p.as_bytes().get(wpath.len()) == Some(&b'/'));
    match ev.event_type {
        EventType::NodeCreated | EventType::NodeDataChanged => match kind {
            Kind::Data | Kind::Persistent => wpath == p,
            Kind::Recursive => below,
            Kind::Child => false,
        },
        EventType::NodeDeleted => match kind {
            Kind::Data | Kind::Child | Kind::Persistent => wpath == p,
            Kind::Recursive => below,
        },
        EventType::NodeChildrenChanged => {
            matches!(kind, Kind::Child | Kind::Persistent) && wpath == p
        }
        EventType::DataWatchRemoved => kind == Kind::Data && wpath == p,
        EventType::ChildWatchRemoved => kind == Kind::Child && wpath == p,
        EventType::PersistentWatchRemoved => {
            matches!(kind, Kind::Persistent | Kind::Recursive) && wpath == p
        }
        EventType::None => false,
    }
}

impl Dedup {
    pub fn register(&mut self, watcher: u64, kind: Kind, path: String) {
        self.watchers.insert(watcher, (kind, path));
    }

    pub fn gone(&mut self, watcher: u64) {
        self.watchers.remove(&watcher);
    }

    /// Whether this is the first copy (to print).
    pub fn first(&mut self, watcher: u64, ev: &WatchedEvent, now: Instant) -> bool {
        self.pending
            .retain(|p| !p.from.is_empty() && now.duration_since(p.at) <= COPIES_WITHIN);
        let copy = self.pending.iter_mut().find(|p| {
            p.event_type == ev.event_type
                && p.path == ev.path
                && p.zxid == ev.zxid
                && p.from.contains(&watcher)
        });
        if let Some(p) = copy {
            p.from.retain(|w| *w != watcher);
            return false;
        }
        let from: Vec<u64> = self
            .watchers
            .iter()
            .filter(|(id, (kind, path))| **id != watcher && reaches(*kind, path, ev))
            .map(|(id, _)| *id)
            .collect();
        if !from.is_empty() {
            self.pending.push_back(Pending {
                event_type: ev.event_type,
                path: ev.path.clone(),
                zxid: ev.zxid,
                at: now,
                from,
            });
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: EventType, path: &str, zxid: i64) -> WatchedEvent {
        WatchedEvent {
            event_type: t,
            state: KeeperState::SyncConnected,
            path: path.into(),
            zxid,
        }
    }

    #[test]
    fn copies_from_other_watchers_are_dropped() {
        let mut d = Dedup::default();
        let now = Instant::now();
        d.register(1, Kind::Data, "/a".into());
        d.register(2, Kind::Recursive, "/".into());
        d.register(3, Kind::Child, "/a".into());
        let e = ev(EventType::NodeDataChanged, "/a", 7);
        assert!(d.first(2, &e, now));
        assert!(!d.first(1, &e, now));
        d.gone(1);
        // the persistent watcher hears the next change alone
        let e2 = ev(EventType::NodeDataChanged, "/a", -1);
        assert!(d.first(2, &e2, now));
        assert!(d.first(2, &e2, now));
        // a delete reaches the child watch too
        let del = ev(EventType::NodeDeleted, "/a", -1);
        assert!(d.first(3, &del, now));
        assert!(!d.first(2, &del, now));
        // a child event does not reach a recursive watch
        let kids = ev(EventType::NodeChildrenChanged, "/a", -1);
        assert!(d.first(3, &kids, now));
    }

    #[test]
    fn expectations_lapse() {
        let mut d = Dedup::default();
        let now = Instant::now();
        d.register(1, Kind::Persistent, "/a".into());
        d.register(2, Kind::Data, "/a".into());
        let e = ev(EventType::NodeDataChanged, "/a", -1);
        assert!(d.first(1, &e, now));
        // watcher 2 never delivers (registered after the change); much
        // later its own event is printed
        assert!(d.first(2, &e, now + Duration::from_secs(2)));
    }

    #[test]
    fn who_hears_what() {
        let e = |t, p: &str| ev(t, p, -1);
        assert!(reaches(
            Kind::Recursive,
            "/a",
            &e(EventType::NodeCreated, "/a/b/c")
        ));
        assert!(!reaches(
            Kind::Recursive,
            "/a",
            &e(EventType::NodeCreated, "/ab")
        ));
        assert!(reaches(
            Kind::Recursive,
            "/",
            &e(EventType::NodeDeleted, "/x")
        ));
        assert!(!reaches(
            Kind::Recursive,
            "/",
            &e(EventType::NodeChildrenChanged, "/")
        ));
        assert!(reaches(
            Kind::Persistent,
            "/a",
            &e(EventType::NodeChildrenChanged, "/a")
        ));
        assert!(!reaches(
            Kind::Data,
            "/a",
            &e(EventType::NodeChildrenChanged, "/a")
        ));
        assert!(reaches(Kind::Child, "/a", &e(EventType::NodeDeleted, "/a")));
        assert!(reaches(
            Kind::Data,
            "/a",
            &e(EventType::DataWatchRemoved, "/a")
        ));
        assert!(!reaches(
            Kind::Data,
            "/a",
            &e(EventType::ChildWatchRemoved, "/a")
        ));
    }
}
