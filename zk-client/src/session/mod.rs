//! The session task: owns the connection, the pending requests and the
//! watch registry. Client handles talk to it over a channel, so calls reach
//! the wire in the order they were made.
//!
//! ```text
//! connecting --handshake--> connected --socket lost--> disconnected
//!     ^                         |                           |
//!     +-------------------------+------- next host ---------+
//! expired / auth failed / closed: terminal
//! ```

mod connect;
mod serve;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};
use zk_proto::client::{Request, Response};
use zk_proto::data::KeeperState;

use crate::builder::ClientBuilder;
use crate::error::{Error, Result};
use crate::types::SessionState;
use crate::watch::{Registry, WatchKind, WatchReg};

/// What a client handle asks of the session task.
#[derive(Debug)]
pub(crate) enum Command {
    Request {
        req: Request,
        watch: Option<WatchReg>,
        reply: oneshot::Sender<Result<Response>>,
    },
    /// A persistent watcher was dropped.
    Unwatch {
        id: u64,
        kind: WatchKind,
        path: String,
    },
    Close {
        reply: oneshot::Sender<()>,
    },
}

/// The session's id, password and negotiated timeout.
#[derive(Debug, Clone, Default)]
pub struct SessionInfo {
    /// The session id the server assigned (0 before the first connect).
    pub id: i64,
    /// The password that resumes the session from another connection
    /// ([`ClientBuilder::session`](crate::ClientBuilder::session)).
    pub password: Bytes,
    /// The timeout the server granted, which may differ from the one asked
    /// for: silent longer than this, the session expires.
    pub timeout: Duration,
}

/// What handles read without asking the task.
#[derive(Debug)]
pub(crate) struct Shared {
    pub state: watch::Sender<SessionState>,
    /// std Mutex: a copy in or out, never held across an await.
    pub session: Mutex<SessionInfo>,
}

impl Shared {
    /// The error a call gets once the task is gone.
    pub fn terminal_error(&self) -> Error {
        match *self.state.borrow() {
            SessionState::Expired => Error::SessionExpired,
            SessionState::AuthFailed => Error::AuthFailed,
            _ => Error::Closed,
        }
    }
}

/// A request waiting to be sent (while disconnected).
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub req: Request,
    pub watch: Option<WatchReg>,
    pub reply: Option<oneshot::Sender<Result<Response>>>,
}

pub(crate) struct SessionTask {
    opts: ClientBuilder,
    shared: Arc<Shared>,
    rx: mpsc::UnboundedReceiver<Command>,
    session_id: i64,
    password: Bytes,
    timeout: Duration,
    last_zxid: i64,
    watches: Registry,
    queued: VecDeque<Outgoing>,
    next_xid: i32,
    /// Credentials replayed at every reconnect.
    auth: Vec<(String, Bytes)>,
    /// Callers of `close()`; answered (dropped) when the task ends.
    close_waiters: Vec<oneshot::Sender<()>>,
    /// Connected to a read-write server at least once: until then a
    /// session id is a read-only server's local one, not to be resumed
    /// elsewhere (ZooKeeper's `seenRwServerBefore`).
    seen_rw: bool,
    /// Tried first at the next connect: a read-write server found while
    /// connected read-only.
    prefer: Option<crate::builder::HostPort>,
}

/// How a connected period ended.
enum End {
    Lost,
    Closed,
    AuthFailed,
}

impl SessionTask {
    pub fn new(
        opts: ClientBuilder,
        shared: Arc<Shared>,
        rx: mpsc::UnboundedReceiver<Command>,
    ) -> SessionTask {
        let (session_id, password) = opts
            .session
            .clone()
            .unwrap_or((0, Bytes::from_static(&[0; 16])));
        let auth = opts.auth.clone();
        let seen_rw = opts.session.is_some();
        SessionTask {
            seen_rw,
            prefer: None,
            timeout: opts.session_timeout,
            opts,
            shared,
            rx,
            session_id,
            password,
            last_zxid: 0,
            watches: Registry::default(),
            queued: VecDeque::new(),
            next_xid: 1,
            auth,
            close_waiters: Vec::new(),
        }
    }

    fn set_state(&self, state: SessionState) {
        self.shared.state.send_if_modified(|s| {
            let changed = *s != state;
            *s = state;
            changed
        });
    }

    /// Runs the session until it ends; `ready` hears about the first
    /// connection (or why there was none).
    pub async fn run(mut self, ready: oneshot::Sender<Result<()>>) {
        let mut ready = Some(ready);
        loop {
            let conn = match self.connect_phase().await {
                Ok(conn) => conn,
                Err(err) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(Err(err.clone()));
                    }
                    self.finish(err);
                    return;
                }
            };
            // Connected before `connect()` returns, so that `state()` right
            // after it is not still `Connecting`.
            self.set_state(Self::connected_state(conn.read_only));
            if let Some(r) = ready.take() {
                let _ = r.send(Ok(()));
            }
            match self.serve(conn).await {
                End::Lost => {
                    tracing::info!(
                        session = format_args!("{:#x}", self.session_id),
                        "connection lost; reconnecting"
                    );
                    self.set_state(SessionState::Disconnected);
                }
                End::Closed => return self.finish(Error::Closed),
                End::AuthFailed => return self.finish(Error::AuthFailed),
            }
        }
    }

    /// The session is over: every waiter and watcher hears it once.
    fn finish(&mut self, err: Error) {
        let (state, keeper) = match err {
            Error::SessionExpired => (SessionState::Expired, KeeperState::Expired),
            Error::AuthFailed => (SessionState::AuthFailed, KeeperState::AuthFailed),
            _ => (SessionState::Closed, KeeperState::Closed),
        };
        tracing::info!(
            session = format_args!("{:#x}", self.session_id),
            ?state,
            "session ended"
        );
        self.set_state(state);
        self.watches.terminate(keeper);
        for out in self.queued.drain(..) {
            if let Some(reply) = out.reply {
                let _ = reply.send(Err(err.clone()));
            }
        }
        self.rx.close();
        while let Ok(cmd) = self.rx.try_recv() {
            match cmd {
                Command::Request { reply, .. } => {
                    let _ = reply.send(Err(err.clone()));
                }
                Command::Close { reply } => {
                    let _ = reply.send(());
                }
                Command::Unwatch { .. } => {}
            }
        }
    }

    fn take_xid(&mut self) -> i32 {
        let xid = self.next_xid;
        self.next_xid = if xid == i32::MAX { 1 } else { xid + 1 };
        xid
    }
}
