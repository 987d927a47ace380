//! The follower and observer roles (ZooKeeper's `Learner`): connect to the
//! leader, report the history, take the sync (DIFF, TRUNC or SNAP), then
//! log proposals and ack them, and apply what the leader commits. Until
//! UPTODATE the learner applies to its own copy of the tree; from then on
//! the state task serves clients and gets the commits.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument;
use zk_proto::txn::Txn;

use super::ensemble::Peer;
use super::epoch;
use super::link::{self, Frames};
use super::message::PeerMsg;
use super::node::{Local, RoleCtx};
use crate::admin::Mode;
use crate::log::{LogEvent, Timed, run_log_stage};
use crate::persist::install::{install_snapshot, truncate_to};
use crate::persist::snapshot::{Snapshot, read_snapshot};
use crate::persist::track_session;
use crate::persist::{FileTxnLog, LogWriter};
use crate::request::Downstream;
use crate::tree::DataTree;

const LEADER: &str = "leader";
/// Most forwarded requests written to the leader in one go.
const FORWARD_BATCH: usize = 256;

pub async fn follow(ctx: &RoleCtx, leader: &Peer, local: Local) -> Result<(), String> {
    let me = ctx.ensemble.me().clone();
    let mut frames = connect(ctx, leader).await?;
    let last_zxid = local.last_zxid();
    let info = PeerMsg::LearnerInfo {
        sid: me.sid,
        accepted_epoch: local.accepted_epoch,
        last_zxid,
        observer: me.observer,
    };
    link::send(&mut frames, &info, ctx.init_timeout(), LEADER).await?;
    let PeerMsg::LeaderInfo { epoch } = link::recv(&mut frames, ctx.init_timeout(), LEADER).await?
    else {
        return Err("expected LeaderInfo".into());
    };
    if epoch < local.accepted_epoch {
        return Err(format!(
            "leader's epoch {epoch} is older than the one accepted here ({})",
            local.accepted_epoch
        ));
    }
    if epoch > local.accepted_epoch {
        epoch::write(
            ctx.storage.as_ref(),
            &ctx.config.data_dir,
            epoch::ACCEPTED,
            epoch,
        )
        .map_err(|e| format!("cannot record the accepted epoch: {e}"))?;
    }
    let ack = PeerMsg::AckEpoch {
        current_epoch: local.current_epoch,
        last_zxid,
    };
    link::send(&mut frames, &ack, ctx.init_timeout(), LEADER).await?;
    let first = link::recv(&mut frames, ctx.init_timeout(), LEADER).await?;
    // The history may be replaced from here on: until the new log stage
    // says where it ends, the next election must read the disk.
    ctx.durable.store(
        super::node::DURABLE_UNKNOWN,
        std::sync::atomic::Ordering::Release,
    );
    let kind = match &first {
        PeerMsg::Diff { .. } => "DIFF",
        PeerMsg::Trunc { .. } => "TRUNC",
        PeerMsg::Snap(_) => "SNAP",
        _ => "?",
    };
    let sync_started = std::time::Instant::now();
    let span = tracing::info_span!(
        "sync",
        leader = leader.sid,
        kind,
        from = format_args!("{last_zxid:#x}")
    );
    let (tree, sessions, writer) = take_sync(ctx, first, local)
        .instrument(span.clone())
        .await?;
    span.in_scope(|| {
        tracing::info!(
            ms = sync_started.elapsed().as_millis() as u64,
            to = format_args!("{:#x}", tree.last_zxid()),
            "synced"
        );
    });
    tracing::info!(
        myid = me.sid,
        leader = leader.sid,
        epoch,
        zxid = format_args!("{:#x}", tree.last_zxid()),
        "synced with the leader's history"
    );
    let mut learning = Learning::new(ctx, tree, sessions, me.observer, (leader.sid, epoch));
    learning.run(ctx, frames, writer).await
}

async fn connect(ctx: &RoleCtx, leader: &Peer) -> Result<Frames, String> {
    let deadline = Instant::now() + ctx.init_timeout();
    loop {
        let attempt = tokio::time::timeout(ctx.sync_timeout(), ctx.net.connect(leader.peer_addr()));
        match attempt.await {
            Ok(Ok(stream)) => {
                return Ok(link::frames(stream));
            }
            _ if Instant::now() >= deadline => {
                return Err(format!("cannot reach leader {}", leader.sid));
            }
            _ => {
                tokio::select! {
                    () = ctx.token.cancelled() => return Err("stopped".into()),
                    // Short: the new leader binds its port moments after
                    // the election, and every retry is a write gap.
                    () = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
        }
    }
}

type Synced = (DataTree, BTreeMap<i64, u32>, LogWriter);

/// The first sync message decides where this server's history restarts.
async fn take_sync(ctx: &RoleCtx, first: PeerMsg, local: Local) -> Result<Synced, String> {
    let (storage, config) = (ctx.storage.clone(), ctx.config.clone());
    let (data_dir, log_dir, opts) = (
        config.data_dir.clone(),
        config.data_log_dir.clone(),
        config.log_options(),
    );
    let inline = storage.simulated();
    let blocking = |f: Box<dyn FnOnce() -> Result<Synced, String> + Send>| async move {
        crate::persist::off_thread(inline, f)
            .await
            .map_err(|e| e.to_string())?
    };
    match first {
        PeerMsg::Diff { .. } => {
            let r = local.recovered;
            Ok((r.tree, r.sessions, r.writer))
        }
        PeerMsg::Trunc { zxid } => {
            drop(local);
            blocking(Box::new(move || {
                match truncate_to(storage.clone(), &data_dir, &log_dir, zxid, opts) {
                    Ok((snap, writer)) => Ok((snap.tree, snap.sessions, writer)),
                    Err(e) => {
                        // Our history does not reach the leader's cut:
                        // start empty, the next sync sends everything.
                        let empty = Snapshot {
                            zxid: 0,
                            sessions: BTreeMap::new(),
                            tree: DataTree::new(),
                        };
                        let _ = install_snapshot(storage, &data_dir, &log_dir, &empty, opts);
                        Err(format!(
                            "TRUNC to {zxid:#x} failed ({e}); data reset for a full sync"
                        ))
                    }
                }
            }))
            .await
        }
        PeerMsg::Snap(bytes) => {
            drop(local);
            blocking(Box::new(move || {
                let snap = read_snapshot(bytes).map_err(|e| format!("bad SNAP: {e}"))?;
                let writer = install_snapshot(storage, &data_dir, &log_dir, &snap, opts)
                    .map_err(|e| format!("cannot install SNAP: {e}"))?;
                Ok((snap.tree, snap.sessions, writer))
            }))
            .await
        }
        other => Err(format!("expected DIFF, TRUNC or SNAP, got {other:?}")),
    }
}

/// A learner after the sync message: proposals are logged, then acked;
/// commits are delivered once both committed and logged here.
struct Learning {
    /// The tree until UPTODATE; then the state task has it.
    tree: Option<(DataTree, BTreeMap<i64, u32>)>,
    commits: Option<mpsc::UnboundedSender<LogEvent>>,
    observer: bool,
    /// The leader and the epoch it leads, for the election service.
    leadership: (u64, u32),
    proposals: VecDeque<Txn>,
    received: i64,
    logged: i64,
    committed: i64,
    delivered: i64,
    /// NEWLEADER's epoch and the last txn to log before acking it.
    new_leader: Option<(u32, i64)>,
    /// Pending SyncDones, each at the commit point it arrived at.
    syncs: VecDeque<i64>,
    silent_limit: Duration,
}

impl Learning {
    fn new(
        ctx: &RoleCtx,
        tree: DataTree,
        sessions: BTreeMap<i64, u32>,
        observer: bool,
        leadership: (u64, u32),
    ) -> Learning {
        let last = tree.last_zxid();
        Learning {
            tree: Some((tree, sessions)),
            commits: None,
            observer,
            leadership,
            proposals: VecDeque::new(),
            received: last,
            logged: last,
            committed: last,
            delivered: last,
            new_leader: None,
            syncs: VecDeque::new(),
            silent_limit: ctx.init_timeout(),
        }
    }

    async fn run(
        &mut self,
        ctx: &RoleCtx,
        frames: Frames,
        writer: LogWriter,
    ) -> Result<(), String> {
        let (log_tx, log_rx) = mpsc::channel(4096);
        let (logged_tx, mut logged_rx) = mpsc::unbounded_channel();
        ctx.tasks.spawn(run_log_stage(
            Timed::new(
                FileTxnLog::with_progress(writer, ctx.durable_from(self.logged)),
                ctx.stats.clone(),
            ),
            log_rx,
            logged_tx,
        ));
        let (fwd_tx, mut fwd_rx) = mpsc::unbounded_channel();
        let (mut sink, mut stream) = frames.split();
        loop {
            let out: Vec<PeerMsg> = tokio::select! {
                biased;
                () = ctx.token.cancelled() => return Ok(()),
                logged = logged_rx.recv() => match logged {
                    Some(LogEvent::Committed(batch)) => self.on_logged(ctx, &batch)?,
                    _ => return Err("the log failed".into()),
                },
                msg = tokio::time::timeout(self.silent_limit, stream.next()) => {
                    let msg = match msg {
                        Err(_) => return Err("leader silent".into()),
                        Ok(None) => return Err("leader closed the connection".into()),
                        Ok(Some(Err(e))) => return Err(e.to_string()),
                        Ok(Some(Ok(b))) => PeerMsg::decode(b).map_err(|e| e.to_string())?,
                    };
                    self.on_message(ctx, msg, &log_tx, &fwd_tx).await?
                }
                f = fwd_rx.recv() => match f {
                    Some(f) => {
                        // Everything forwarded meanwhile goes in one write.
                        let mut out = vec![PeerMsg::Forward(f)];
                        while out.len() < FORWARD_BATCH
                            && let Ok(more) = fwd_rx.try_recv()
                        {
                            out.push(PeerMsg::Forward(more));
                        }
                        out
                    }
                    None => return Err("state task stopped".into()),
                },
            };
            if out.is_empty() {
                continue;
            }
            let write = async {
                for msg in out {
                    sink.feed(msg.encode()).await?;
                }
                sink.flush().await
            };
            // A leader that stops reading (cut off, crashed) is lost.
            let sent = tokio::select! {
                biased;
                () = ctx.token.cancelled() => return Ok(()),
                s = tokio::time::timeout(self.silent_limit, write) => s,
            };
            match sent {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e.to_string()),
                Err(_) => return Err("leader not reading".into()),
            }
        }
    }

    async fn on_message(
        &mut self,
        ctx: &RoleCtx,
        msg: PeerMsg,
        log: &mpsc::Sender<Txn>,
        forward: &mpsc::UnboundedSender<super::message::Forward>,
    ) -> Result<Vec<PeerMsg>, String> {
        match msg {
            PeerMsg::Proposal(txn) => {
                crate::metrics::inc(&ctx.stats.metrics.learner_proposal_received_count);
                self.on_proposal(txn, log).await?;
            }
            PeerMsg::Inform(txn) => {
                crate::metrics::inc(&ctx.stats.metrics.learner_commit_received_count);
                let zxid = txn.header.zxid;
                self.on_proposal(txn, log).await?;
                self.committed = self.committed.max(zxid);
            }
            PeerMsg::Commit { zxid } => {
                crate::metrics::inc(&ctx.stats.metrics.learner_commit_received_count);
                self.committed = self.committed.max(zxid);
                self.deliver();
            }
            PeerMsg::NewLeader { epoch } => {
                self.new_leader = Some((epoch, self.received));
                return self.ack_new_leader(ctx);
            }
            PeerMsg::UpToDate => self.up_to_date(ctx, forward.clone()).await,
            PeerMsg::SyncDone => {
                self.syncs.push_back(self.committed);
                self.deliver();
            }
            PeerMsg::Ping => return Ok(vec![PeerMsg::Ping]),
            other => return Err(format!("unexpected message from the leader: {other:?}")),
        }
        Ok(Vec::new())
    }

    async fn on_proposal(&mut self, txn: Txn, log: &mpsc::Sender<Txn>) -> Result<(), String> {
        let zxid = txn.header.zxid;
        if !crate::zab::zxid::follows(self.received, zxid) {
            return Err(format!(
                "proposal {zxid:#x} does not follow {:#x}",
                self.received
            ));
        }
        self.received = zxid;
        self.proposals.push_back(txn.clone());
        log.send(txn)
            .await
            .map_err(|_| "the log stopped".to_string())
    }

    fn on_logged(&mut self, ctx: &RoleCtx, batch: &[Txn]) -> Result<Vec<PeerMsg>, String> {
        let Some(last) = batch.last() else {
            return Ok(Vec::new());
        };
        self.logged = last.header.zxid;
        let mut out = Vec::new();
        if !self.observer {
            out.push(PeerMsg::Ack { zxid: self.logged });
        }
        out.extend(self.ack_new_leader(ctx)?);
        self.deliver();
        Ok(out)
    }

    /// NEWLEADER is acked once everything before it is logged and the new
    /// epoch is recorded as this server's.
    fn ack_new_leader(&mut self, ctx: &RoleCtx) -> Result<Vec<PeerMsg>, String> {
        match self.new_leader {
            Some((epoch, upto)) if self.logged >= upto => {
                epoch::write(
                    ctx.storage.as_ref(),
                    &ctx.config.data_dir,
                    epoch::CURRENT,
                    epoch,
                )
                .map_err(|e| format!("cannot record the current epoch: {e}"))?;
                self.new_leader = None;
                Ok(vec![PeerMsg::AckNewLeader])
            }
            _ => Ok(Vec::new()),
        }
    }

    async fn up_to_date(
        &mut self,
        ctx: &RoleCtx,
        forward: mpsc::UnboundedSender<super::message::Forward>,
    ) {
        let Some((tree, sessions)) = self.tree.take() else {
            return;
        };
        let (commit_tx, commit_rx) = mpsc::unbounded_channel();
        let state = ctx.start_core(
            tree,
            &sessions,
            Downstream::Learner(forward),
            commit_rx,
            None,
        );
        self.commits = Some(commit_tx);
        self.silent_limit = ctx.sync_timeout();
        let mode = if self.observer {
            Mode::Observer
        } else {
            Mode::Follower
        };
        ctx.serve_clients(state, mode);
        let (leader, epoch) = self.leadership;
        ctx.election.established(leader, epoch).await;
    }

    /// Hands on every txn both committed and logged here, in order.
    fn deliver(&mut self) {
        let ready = self.committed.min(self.logged);
        let mut batch = Vec::new();
        while self
            .proposals
            .front()
            .is_some_and(|t| t.header.zxid <= ready)
        {
            if let Some(txn) = self.proposals.pop_front() {
                batch.push(txn);
            }
        }
        if let Some(last) = batch.last() {
            self.delivered = last.header.zxid;
        }
        match (&mut self.tree, &self.commits) {
            (Some((tree, sessions)), _) => {
                for txn in &batch {
                    track_session(sessions, txn);
                    tree.apply(txn);
                }
            }
            (None, Some(commits)) => {
                if !batch.is_empty() {
                    let _ = commits.send(LogEvent::Committed(batch));
                }
                while self.syncs.front().is_some_and(|at| *at <= self.delivered) {
                    self.syncs.pop_front();
                    let _ = commits.send(LogEvent::Synced);
                }
            }
            (None, None) => {}
        }
    }
}
