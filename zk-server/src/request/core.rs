//! The state task: its state, its loop, and the order in which a
//! connection's requests run.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use zk_proto::client::{ConnectRequest, ReplyHeader, Request, Response};
use zk_proto::data::Id;
use zk_proto::txn::{Txn, TxnBody, TxnHeader};
use zk_proto::{ErrorCode, OpCode};

use super::conn::{Conn, ConnId, ConnStats, Outbound, Outbox, Queued};
use super::overlay::Overlay;
use super::prep::{self, PrepCtx, PrepView, Rejected};
use super::replica::{Downstream, Pending};
use crate::admin::ServerStats;
use crate::config::Config;
use crate::log::LogEvent;
use crate::persist::purge::purge;
use crate::persist::snapshot::Snapshot;
use crate::persist::{FileStorage, Snapshotter};
use crate::session::SessionTable;
use crate::tree::{DataTree, WatchManager};
use crate::zab::leader::LeaderInput;
use crate::zab::message::Forward;

/// What the state task is asked to do.
#[derive(Debug)]
pub enum StateMsg {
    Connect {
        conn: ConnId,
        peer: SocketAddr,
        req: ConnectRequest,
        outbox: Outbox,
        stats: Arc<ConnStats>,
        /// Ids the transport proved (a TLS client certificate's x509).
        auth: Vec<Id>,
    },
    Request {
        conn: ConnId,
        xid: i32,
        req: Request,
    },
    /// A request that did not decode: answer `err` in its place, then
    /// close the connection if `close`.
    Refuse {
        conn: ConnId,
        xid: i32,
        err: ErrorCode,
        close: bool,
    },
    Closed {
        conn: ConnId,
    },
    /// The connection wrote out what held its reads back (over
    /// `OUTBOX_BUDGET`): run what waits.
    Drained {
        conn: ConnId,
    },
    /// A four-letter word; the answer is the text to send back.
    Command {
        word: String,
        reply: oneshot::Sender<String>,
    },
    /// An admin server command (`admin::json::STATE_COMMANDS`); the
    /// answer is its JSON data.
    Admin {
        name: &'static str,
        reply: oneshot::Sender<serde_json::Map<String, serde_json::Value>>,
    },
    /// The gauges, counters and summaries (Prometheus, `monitor`).
    Samples {
        reply: oneshot::Sender<Vec<crate::metrics::Sample>>,
    },
    /// Whether `ids` have ALL on `/` (admin commands that need auth).
    RootAllows {
        ids: Vec<zk_proto::data::Id>,
        reply: oneshot::Sender<bool>,
    },
    /// The web console's look at one node with the visitor's ids.
    Browse {
        path: String,
        ids: Vec<zk_proto::data::Id>,
        reply: oneshot::Sender<serde_json::Map<String, serde_json::Value>>,
    },
    /// A request learner `sid` forwarded (leader only).
    Remote {
        sid: u64,
        forward: Forward,
    },
    /// The applied tree and sessions, for a learner's SNAP (leader only).
    Snapshot {
        reply: oneshot::Sender<Snapshot>,
    },
}

/// Who waits for a txn in the pipeline.
#[derive(Debug)]
pub(super) enum Origin {
    Client {
        conn: ConnId,
        xid: i32,
        shape: Shape,
    },
    Connect {
        conn: ConnId,
        read_only: Option<bool>,
    },
    /// A learner's client `sync`, answered by the leader's SyncDone.
    Sync {
        conn: ConnId,
        xid: i32,
        path: String,
    },
    /// Session expiry, the container and TTL reaper, what learners forward.
    Internal,
}

/// How to shape the reply of a write: create and create2 answer
/// differently to the same txn.
#[derive(Debug)]
pub(super) enum Shape {
    Op(OpCode),
    Multi(Vec<OpCode>),
}

#[derive(Debug)]
pub(super) struct Inflight {
    pub zxid: i64,
    pub origin: Origin,
}

#[derive(Debug)]
pub struct Core {
    pub(crate) config: Arc<Config>,
    pub(crate) tree: DataTree,
    pub(crate) watches: WatchManager,
    pub(crate) sessions: SessionTable,
    pub(crate) conns: HashMap<ConnId, Conn>,
    pub(crate) overlay: Overlay,
    pub(super) inflight: VecDeque<Inflight>,
    pub(crate) next_zxid: i64,
    pub(super) downstream: Downstream,
    /// A learner's requests waiting for the leader, in the order sent.
    pub(super) pending: VecDeque<Pending>,
    /// The sessions as of the applied zxid (created and not closed by
    /// committed txns), for snapshots: the table above also holds
    /// sessions whose createSession is still in the pipeline.
    pub(super) committed_sessions: BTreeMap<i64, u32>,
    /// A learner's sessions with traffic since the last report.
    pub(super) touched: BTreeSet<i64>,
    /// Error replies waiting for the txns they were decided against to be
    /// applied: (zxid, connection, reply).
    pub(super) deferred: VecDeque<(i64, ConnId, Outbound)>,
    pub(crate) stats: Arc<ServerStats>,
    last_reap: Instant,
    /// Set once the log failed: writes are refused, reads go on.
    pub(crate) write_failure: Option<String>,
    /// Asks a standalone server's log stage to heal after a failure.
    pub(super) healer: Option<super::health::Healer>,
    /// A read-only server (`readonlymode.enabled`, no quorum): reads only,
    /// for clients that allow it.
    pub(crate) read_only: bool,
    /// Takes snapshots; none for a server without storage.
    pub(super) snapshotter: Option<Snapshotter>,
    last_purge: Instant,
}

pub(super) use crate::now_ms;

impl Core {
    /// A state task starting from `tree` and the open `sessions` (id ->
    /// timeout ms) that recovery found; their timeouts run from now.
    pub fn new(
        config: Arc<Config>,
        downstream: Downstream,
        stats: Arc<ServerStats>,
        tree: DataTree,
        sessions: &BTreeMap<i64, u32>,
        snapshotter: Option<Snapshotter>,
    ) -> Core {
        let next_zxid = tree.last_zxid() + 1;
        // Session ids carry the server id, so servers never hand out the same.
        let server_id = config.myid.unwrap_or(0) as u8;
        let mut table = SessionTable::new(server_id, now_ms(), config.tick_ms);
        for (id, timeout_ms) in sessions {
            table.insert(*id, *timeout_ms, None);
        }
        Core {
            sessions: table,
            config,
            tree,
            watches: WatchManager::default(),
            conns: HashMap::new(),
            overlay: Overlay::default(),
            inflight: VecDeque::new(),
            next_zxid,
            downstream,
            pending: VecDeque::new(),
            touched: BTreeSet::new(),
            committed_sessions: sessions.clone(),
            deferred: VecDeque::new(),
            stats,
            last_reap: Instant::now(),
            snapshotter,
            write_failure: None,
            healer: None,
            read_only: false,
            last_purge: Instant::now(),
        }
    }

    /// Serves reads only, refusing writes with NotReadOnly, and only to
    /// clients that allow a read-only server.
    pub fn set_read_only(&mut self) {
        self.read_only = true;
        self.write_failure = Some("read-only: no quorum".into());
    }

    /// After a log failure, asks the log stage (`run_healing_log_stage`)
    /// through `ask` to heal, with backoff, and takes writes again once it
    /// has.
    pub fn heal_log_with(&mut self, ask: mpsc::Sender<()>) {
        self.healer = Some(super::health::Healer::new(ask));
    }

    /// A new leader's first zxid: its epoch with counter 1.
    pub fn start_epoch(&mut self, epoch: u32) {
        self.next_zxid = crate::zab::zxid::make(epoch, 1);
    }

    /// Runs until shutdown, until every connection task and the listener are
    /// gone, or until the log stage fails.
    pub async fn run(
        mut self,
        mut requests: mpsc::Receiver<StateMsg>,
        mut committed: mpsc::UnboundedReceiver<LogEvent>,
        shutdown: CancellationToken,
    ) {
        let tick_ms = u64::from(self.config.tick_ms).clamp(10, 1000);
        let mut tick = tokio::time::interval(Duration::from_millis(tick_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                event = committed.recv() => match event {
                    Some(LogEvent::Committed(batch)) => {
                        self.on_committed(batch).await;
                        self.stats.last_zxid.store(self.tree.last_zxid(), std::sync::atomic::Ordering::Relaxed);
                    }
                    Some(LogEvent::Failed(reason)) => self.on_log_failed(reason).await,
                    Some(LogEvent::Synced) => self.on_synced().await,
                    Some(LogEvent::Healed) => self.on_healed(),
                    Some(LogEvent::StillFailed(reason)) => self.on_still_failed(reason),
                    None => {
                        tracing::error!("log stage stopped; the server stops");
                        break;
                    }
                },
                msg = requests.recv() => match msg {
                    Some(msg) => self.on_msg(msg).await,
                    None => break,
                },
                _ = tick.tick() => self.on_tick().await,
            }
        }
        for conn in self.conns.values() {
            conn.send(Outbound::Close);
        }
        shutdown.cancel();
    }

    async fn on_msg(&mut self, msg: StateMsg) {
        match msg {
            StateMsg::Connect {
                conn,
                peer,
                req,
                outbox,
                stats,
                auth,
            } => {
                let c = Conn::new(peer, outbox, stats, auth);
                self.conns.insert(conn, c);
                self.on_connect(conn, req).await;
            }
            StateMsg::Request { conn, xid, req } => self.on_request(conn, xid, req).await,
            StateMsg::Refuse {
                conn,
                xid,
                err,
                close,
            } => self.refuse(conn, xid, err, close),
            StateMsg::Closed { conn } => self.on_closed(conn),
            StateMsg::Drained { conn } => self.drain(conn).await,
            StateMsg::Command { word, reply } => {
                let _ = reply.send(self.four_letter_word(&word));
            }
            StateMsg::Admin { name, reply } => {
                let _ = reply.send(self.admin_command(name));
            }
            StateMsg::Samples { reply } => {
                let _ = reply.send(self.monitor_samples());
            }
            StateMsg::Browse { path, ids, reply } => {
                let _ = reply.send(self.browse(&path, &ids));
            }
            StateMsg::RootAllows { ids, reply } => {
                let _ = reply.send(self.root_allows(&ids));
            }
            StateMsg::Remote { sid, forward } => self.on_remote(sid, forward).await,
            StateMsg::Snapshot { reply } => {
                let _ = reply.send(self.snapshot());
            }
        }
    }

    async fn on_request(&mut self, conn: ConnId, xid: i32, req: Request) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.session_id != 0 {
            self.sessions.touch(c.session_id);
            if matches!(self.downstream, Downstream::Learner(_)) {
                self.touched.insert(c.session_id);
            }
        }
        if !self.enforce_auth(conn, xid, &req) {
            return;
        }
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.must_wait(&req) {
            c.queue.push_back(Queued::Request { xid, req });
            return;
        }
        if !req.op_code().is_write() && c.hold() {
            // The client is not taking its replies: its reads wait.
            c.queue.push_back(Queued::Request { xid, req });
            return;
        }
        self.dispatch(conn, xid, req).await;
    }

    /// Runs one request now: a write enters the pipeline, a read is answered.
    pub(super) async fn dispatch(&mut self, conn: ConnId, xid: i32, req: Request) {
        if req.op_code().is_write() {
            if let Err(out) = self.submit_client_write(conn, xid, &req).await
                && let Some(c) = self.conns.get_mut(&conn)
            {
                c.emit_all([out]);
            }
        } else if let (true, Request::Sync(r)) = (self.is_learner(), &req) {
            self.forward_sync(conn, xid, r.path.clone());
        } else {
            self.read(conn, xid, req);
        }
    }

    /// Runs what waited behind a connection's writes, as far as it can.
    pub(super) async fn drain(&mut self, conn: ConnId) {
        loop {
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            let runnable = match c.queue.front() {
                None => return,
                Some(Queued::Ready(_)) => c.inflight_writes == 0,
                Some(Queued::Request { req, .. }) if req.op_code().is_write() => true,
                Some(Queued::Request { .. }) if c.hold() => false,
                Some(Queued::Request { .. }) => c.inflight_writes == 0,
            };
            if !runnable {
                return;
            }
            match c.queue.pop_front() {
                Some(Queued::Ready(out)) => c.send(out),
                Some(Queued::Request { xid, req }) => self.dispatch(conn, xid, req).await,
                None => return,
            }
        }
    }

    /// Preps a client's write and sends it down the pipeline, or returns the
    /// error reply.
    async fn submit_client_write(
        &mut self,
        conn: ConnId,
        xid: i32,
        req: &Request,
    ) -> Result<(), Outbound> {
        let (session_id, auth) = match self.conns.get(&conn) {
            Some(c) => (c.session_id, c.auth.clone()),
            None => return Ok(()),
        };
        let local = self.sessions.get(session_id).is_some_and(|s| s.local);
        if (self.read_only || local) && matches!(req, Request::CloseSession) {
            // A read-only session is local: it ends here, with no txn.
            self.sessions.remove(session_id);
            let header = ReplyHeader {
                xid,
                zxid: self.tree.last_zxid(),
                err: 0,
            };
            if let Some(c) = self.conns.get_mut(&conn) {
                c.emit_all([Outbound::Reply(header, Response::Empty), Outbound::Close]);
            }
            return Ok(());
        }
        if self.write_failure.is_some() {
            // The log cannot take writes: this server is read-only now.
            let header = ReplyHeader {
                xid,
                zxid: self.tree.last_zxid(),
                err: zk_proto::ErrorCode::NotReadOnly.code(),
            };
            return Err(Outbound::Reply(header, Response::Empty));
        }
        let shape = match req {
            Request::Multi(ops) => Shape::Multi(ops.iter().map(Request::op_code).collect()),
            other => Shape::Op(other.op_code()),
        };
        if self.is_learner() {
            if matches!(req, Request::CloseSession)
                && let Some(s) = self.sessions.get_mut(session_id)
            {
                s.closing = true;
            }
            self.forward_write(conn, xid, req, shape);
            return Ok(());
        }
        let zxid = self.next_zxid;
        let time_ms = now_ms();
        let ctx = PrepCtx {
            session_id,
            auth: &auth,
            config: &self.config,
            zxid,
            time_ms,
        };
        let mut view = PrepView::new(&self.tree, &self.overlay);
        let body = match prep::prep(&mut view, &ctx, req) {
            Ok(body) => body,
            Err(rejected) => {
                let (err, body) = match rejected {
                    Rejected::Code(code) => (code.code(), Response::Empty),
                    // A failed multi answers ok in the header and the
                    // errors per op (FinalRequestProcessor).
                    Rejected::Multi(results) => (0, Response::Multi(results)),
                };
                // The failure may rest on txns still in the pipeline (a
                // NodeExists for another session's pending create): the
                // reply waits until they are applied, so a read after it
                // sees what it saw (ZooKeeper sends error replies through
                // the same ordered pipeline).
                if let Some(last) = self.inflight.back().map(|i| i.zxid)
                    && let Some(c) = self.conns.get_mut(&conn)
                {
                    c.inflight_writes += 1;
                    let header = ReplyHeader {
                        xid,
                        zxid: last,
                        err,
                    };
                    self.deferred
                        .push_back((last, conn, Outbound::Reply(header, body)));
                    return Ok(());
                }
                let header = ReplyHeader {
                    xid,
                    zxid: self.tree.last_zxid(),
                    err,
                };
                return Err(Outbound::Reply(header, body));
            }
        };
        let changes = view.into_changes();
        if matches!(req, Request::CloseSession)
            && let Some(s) = self.sessions.get_mut(session_id)
        {
            s.closing = true;
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.inflight_writes += 1;
        }
        self.submit(
            TxnHeader {
                client_id: session_id,
                cxid: xid,
                zxid,
                time_ms,
            },
            body,
            changes,
            Origin::Client { conn, xid, shape },
        )
        .await;
        Ok(())
    }

    /// Sends a prepared txn to the log stage.
    pub(super) async fn submit(
        &mut self,
        header: TxnHeader,
        body: TxnBody,
        changes: Vec<(String, Option<super::overlay::Meta>)>,
        origin: Origin,
    ) {
        debug_assert_eq!(header.zxid, self.next_zxid);
        let zxid = header.zxid;
        self.next_zxid += 1;
        self.overlay.record(zxid, changes);
        self.inflight.push_back(Inflight { zxid, origin });
        // Bounded: when the log stage is behind, the state task waits here
        // and stops taking requests (backpressure, not memory growth).
        let txn = Txn { header, body };
        let sent = match &self.downstream {
            Downstream::Log(tx) => tx.send(txn).await.is_ok(),
            Downstream::Leader(tx) => tx.send(LeaderInput::Propose(txn)).await.is_ok(),
            Downstream::Learner(_) => {
                debug_assert!(false, "a learner prepares no txns");
                false
            }
        };
        if !sent {
            tracing::error!(zxid, "log stage is gone; write not persisted");
        }
    }

    fn refuse(&mut self, conn: ConnId, xid: i32, err: ErrorCode, close: bool) {
        let zxid = self.tree.last_zxid();
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let header = ReplyHeader {
            xid,
            zxid,
            err: err.code(),
        };
        let mut outs = vec![Outbound::Reply(header, Response::Empty)];
        if close {
            outs.push(Outbound::Close);
        }
        if c.queue.is_empty() {
            c.emit_all(outs);
        } else {
            // Behind requests still waiting: keep the place in line.
            c.queue.extend(outs.into_iter().map(Queued::Ready));
        }
    }

    fn on_closed(&mut self, conn: ConnId) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        self.watches.remove_watcher(conn);
        if let Some(s) = self.sessions.get_mut(c.session_id)
            && s.conn == Some(conn)
        {
            s.conn = None;
        }
        tracing::debug!(
            conn,
            session = format_args!("{:#x}", c.session_id),
            "connection closed"
        );
    }

    async fn on_tick(&mut self) {
        let now = Instant::now();
        self.maybe_heal(now);
        if self.is_learner() {
            // The leader expires sessions and reaps nodes; a learner reports.
            self.report_touched();
            self.autopurge(now);
            return;
        }
        for session in self.sessions.expired(now) {
            if self.sessions.get(session).is_some_and(|s| s.local) {
                // No txn made it, none ends it.
                self.sessions.remove(session);
            } else if self.write_failure.is_none() {
                self.expire(session).await;
            }
        }
        if now.duration_since(self.last_reap)
            >= Duration::from_millis(self.config.container_check_ms)
        {
            self.last_reap = now;
            self.reap().await;
        }
        self.autopurge(now);
    }

    /// `autopurge.purgeInterval`: old snapshots and logs go in the
    /// background.
    fn autopurge(&mut self, now: Instant) {
        let every = Duration::from_secs(self.config.purge_interval_hours.saturating_mul(3600));
        if self.config.in_memory || every.is_zero() || now.duration_since(self.last_purge) < every {
            return;
        }
        self.last_purge = now;
        let c = self.config.clone();
        tokio::task::spawn_blocking(move || {
            match purge(
                &FileStorage,
                &c.data_dir,
                &c.data_log_dir,
                c.snap_retain_count,
            ) {
                Ok(deleted) => tracing::info!(files = deleted.len(), "autopurge done"),
                Err(e) => tracing::warn!(error = %e, "autopurge failed"),
            }
        });
    }
}
