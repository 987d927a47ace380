//! The leader's broadcast stage (ZooKeeper's `ProposalRequestProcessor`,
//! `Leader.processAck` and `LearnerHandler`'s queue, in one task).
//!
//! Txns come from the state task in zxid order. Each is sent as a PROPOSAL
//! down every follower's FIFO outbox and to the leader's own log; a txn
//! commits once a quorum of voters (the leader included) logged it, and
//! commits go out in order: COMMIT to followers, INFORM to observers, the
//! batch to the state task. Learners join here, so the history they are
//! synced with and the proposals that follow leave through one outbox
//! with no gap.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use zk_proto::txn::Txn;

use super::LeaderInput;
use crate::admin::ServerStats;
use crate::log::LogEvent;
use crate::zab::ensemble::Ensemble;
use crate::zab::message::PeerMsg;

/// Where a joining learner's history ends.
#[derive(Debug, Clone, Copy)]
pub enum From {
    /// Its log: the leader picks DIFF or TRUNC, or asks for a SNAP.
    Zxid(i64),
    /// A SNAP at this zxid is already in its outbox.
    Snapshot(i64),
}

#[derive(Debug)]
pub enum Event {
    Join {
        sid: u64,
        observer: bool,
        from: From,
        outbox: mpsc::Sender<PeerMsg>,
        reply: oneshot::Sender<Joined>,
    },
    Ack {
        sid: u64,
        zxid: i64,
    },
    AckNewLeader {
        sid: u64,
    },
    Heard {
        sid: u64,
    },
    Gone {
        sid: u64,
    },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Joined {
    Synced,
    /// The history does not reach back far enough: send a SNAP first.
    NeedSnap,
}

#[derive(Debug)]
struct Learner {
    outbox: mpsc::Sender<PeerMsg>,
    observer: bool,
    acked: i64,
    /// Acked NEWLEADER: its acks count, it has UPTODATE.
    synced: bool,
    heard: Instant,
}

pub struct Broadcast {
    pub ensemble: Ensemble,
    pub epoch: u32,
    /// Committed txns, oldest first; `base` is the zxid just before them.
    pub recent: VecDeque<Txn>,
    pub base: i64,
    /// Most txns in `recent` (`commitLogCount`).
    pub recent_max: usize,
    pub stats: Arc<ServerStats>,
    pub sync_timeout: Duration,
    pub init_timeout: Duration,
    pub tick: Duration,
    outstanding: VecDeque<Txn>,
    logged: i64,
    learners: BTreeMap<u64, Learner>,
    /// SyncDone to send once the zxid commits.
    syncs: VecDeque<(i64, u64)>,
    established: Option<oneshot::Sender<()>>,
}

/// The channels the stage runs on.
pub struct Wiring {
    pub input: mpsc::Receiver<LeaderInput>,
    pub events: mpsc::Receiver<Event>,
    pub log: mpsc::Sender<Txn>,
    pub logged: mpsc::UnboundedReceiver<LogEvent>,
    pub commits: mpsc::UnboundedSender<LogEvent>,
}

impl Broadcast {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ensemble: Ensemble,
        epoch: u32,
        (history, base, recent_max): (Vec<Txn>, i64, usize),
        stats: Arc<ServerStats>,
        tick: Duration,
        init_limit: u32,
        sync_limit: u32,
        established: oneshot::Sender<()>,
    ) -> Broadcast {
        let mut recent: VecDeque<Txn> = history.into();
        let mut base = base;
        let recent_max = recent_max.max(1);
        while recent.len() > recent_max {
            if let Some(old) = recent.pop_front() {
                base = old.header.zxid;
            }
        }
        let last_zxid = recent.back().map_or(base, |t| t.header.zxid);
        Broadcast {
            ensemble,
            epoch,
            recent,
            base,
            recent_max,
            stats,
            sync_timeout: tick * sync_limit.max(1),
            init_timeout: tick * init_limit.max(1),
            tick,
            outstanding: VecDeque::new(),
            logged: last_zxid,
            learners: BTreeMap::new(),
            syncs: VecDeque::new(),
            established: Some(established),
        }
    }

    /// Runs until the quorum is lost, the log fails, or `token` stops it.
    pub async fn run(mut self, mut w: Wiring, token: CancellationToken) -> Result<(), String> {
        let started = Instant::now();
        let mut tick = tokio::time::interval(self.tick / 2);
        if self.quorum_synced() {
            // A single voter is its own quorum.
            self.establish();
        }
        loop {
            tokio::select! {
                biased;
                () = token.cancelled() => return Ok(()),
                logged = w.logged.recv() => match logged {
                    Some(LogEvent::Committed(batch)) => {
                        if let Some(last) = batch.last() {
                            self.logged = last.header.zxid;
                        }
                        self.try_commit(&w.commits);
                    }
                    Some(LogEvent::Failed(e)) => return Err(format!("the leader's log failed: {e}")),
                    // The leader's log stage does not heal (the role ends).
                    Some(LogEvent::Synced | LogEvent::Healed | LogEvent::StillFailed(_)) | None => {
                        return Err("the leader's log stopped".into())
                    }
                },
                event = w.events.recv() => match event {
                    Some(e) => self.on_event(e, &w.commits),
                    None => return Ok(()),
                },
                input = w.input.recv() => match input {
                    Some(LeaderInput::Propose(txn)) => {
                        self.propose(&txn);
                        if w.log.send(txn).await.is_err() {
                            return Err("the leader's log stopped".into());
                        }
                    }
                    Some(LeaderInput::Sync { sid }) => self.sync(sid),
                    None => return Ok(()),
                },
                _ = tick.tick() => self.check_quorum(started)?,
            }
            self.update_stats();
        }
    }

    fn propose(&mut self, txn: &Txn) {
        crate::metrics::inc(&self.stats.metrics.proposal_count);
        self.outstanding.push_back(txn.clone());
        let msg = PeerMsg::Proposal(txn.clone());
        let followers: Vec<u64> = self
            .learners
            .iter()
            .filter(|(_, l)| !l.observer)
            .map(|(sid, _)| *sid)
            .collect();
        for sid in followers {
            self.send(sid, msg.clone());
        }
    }

    fn sync(&mut self, sid: u64) {
        match self.outstanding.back() {
            None => self.send(sid, PeerMsg::SyncDone),
            Some(last) => self.syncs.push_back((last.header.zxid, sid)),
        }
    }

    /// Sends to a learner; one whose outbox is full is too slow to keep
    /// and is dropped (it will rejoin and sync again).
    fn send(&mut self, sid: u64, msg: PeerMsg) {
        let Some(l) = self.learners.get(&sid) else {
            return;
        };
        if l.outbox.try_send(msg).is_err() {
            tracing::warn!(sid, "learner too far behind or gone; dropping it");
            self.learners.remove(&sid);
        }
    }

    fn on_event(&mut self, e: Event, commits: &mpsc::UnboundedSender<LogEvent>) {
        match e {
            Event::Join {
                sid,
                observer,
                from,
                outbox,
                reply,
            } => {
                let joined = self.join(sid, observer, from, outbox);
                let _ = reply.send(joined);
            }
            Event::Ack { sid, zxid } => {
                if let Some(l) = self.learners.get_mut(&sid) {
                    l.acked = l.acked.max(zxid);
                    l.heard = Instant::now();
                }
                self.try_commit(commits);
            }
            Event::AckNewLeader { sid } => {
                if let Some(l) = self.learners.get_mut(&sid) {
                    l.synced = true;
                    l.heard = Instant::now();
                }
                if self.established.is_none() {
                    self.send(sid, PeerMsg::UpToDate);
                } else if self.quorum_synced() {
                    self.establish();
                }
                self.try_commit(commits);
            }
            Event::Heard { sid } => {
                if let Some(l) = self.learners.get_mut(&sid) {
                    l.heard = Instant::now();
                }
            }
            Event::Gone { sid } => {
                self.learners.remove(&sid);
            }
        }
    }

    fn quorum_synced(&self) -> bool {
        let mut synced: Vec<u64> = vec![self.ensemble.myid];
        synced.extend(
            self.learners
                .iter()
                .filter(|(_, l)| l.synced)
                .map(|(s, _)| *s),
        );
        self.ensemble.is_quorum(&synced)
    }

    /// A quorum is synced: the leader serves, learners get UPTODATE.
    fn establish(&mut self) {
        if let Some(tx) = self.established.take() {
            let _ = tx.send(());
        }
        let synced: Vec<u64> = self
            .learners
            .iter()
            .filter(|(_, l)| l.synced)
            .map(|(s, _)| *s)
            .collect();
        for sid in synced {
            self.send(sid, PeerMsg::UpToDate);
        }
        tracing::info!(epoch = self.epoch, "a quorum is synced; leading");
    }

    /// Commits, in order, every outstanding txn a quorum has logged.
    fn try_commit(&mut self, commits: &mpsc::UnboundedSender<LogEvent>) {
        if self.established.is_some() {
            return; // nothing commits before a quorum is synced
        }
        let mut batch = Vec::new();
        while let Some(front) = self.outstanding.front() {
            let zxid = front.header.zxid;
            let mut acks: Vec<u64> = self
                .learners
                .iter()
                .filter(|(_, l)| l.synced && l.acked >= zxid)
                .map(|(s, _)| *s)
                .collect();
            if self.logged >= zxid {
                acks.push(self.ensemble.myid);
            }
            if !self.ensemble.is_quorum(&acks) {
                break;
            }
            let Some(txn) = self.outstanding.pop_front() else {
                break;
            };
            self.commit_one(&txn);
            batch.push(txn);
        }
        if !batch.is_empty() {
            let _ = commits.send(LogEvent::Committed(batch));
        }
    }

    fn commit_one(&mut self, txn: &Txn) {
        crate::metrics::inc(&self.stats.metrics.commit_count);
        let zxid = txn.header.zxid;
        let sids: Vec<(u64, bool)> = self
            .learners
            .iter()
            .map(|(s, l)| (*s, l.observer))
            .collect();
        for (sid, observer) in sids {
            let msg = if observer {
                PeerMsg::Inform(txn.clone())
            } else {
                PeerMsg::Commit { zxid }
            };
            self.send(sid, msg);
        }
        while let Some((at, sid)) = self.syncs.front().copied() {
            if at > zxid {
                break;
            }
            self.syncs.pop_front();
            self.send(sid, PeerMsg::SyncDone);
        }
        self.recent.push_back(txn.clone());
        if self.recent.len() > self.recent_max
            && let Some(old) = self.recent.pop_front()
        {
            self.base = old.header.zxid;
        }
    }

    /// Queues a learner's sync (DIFF or TRUNC then the missing txns, then
    /// NEWLEADER) and adds it to the broadcast, in one step.
    fn join(
        &mut self,
        sid: u64,
        observer: bool,
        from: From,
        outbox: mpsc::Sender<PeerMsg>,
    ) -> Joined {
        let plan = match from {
            From::Zxid(z) => super::sync::plan(self.base, &self.recent, &self.outstanding, z),
            From::Snapshot(z) => super::sync::after_snapshot(self.base, &self.recent, z),
        };
        let Some(plan) = plan else {
            // The learner is sent a SNAP (ZooKeeper's `snap_count`).
            crate::metrics::inc(&self.stats.metrics.snap_count);
            return Joined::NeedSnap;
        };
        let mut msgs = Vec::new();
        match (from, plan.trunc) {
            (From::Snapshot(_), _) => {}
            (_, Some(t)) => msgs.push(PeerMsg::Trunc { zxid: t }),
            (_, None) => {
                crate::metrics::inc(&self.stats.metrics.diff_count);
                msgs.push(PeerMsg::Diff {
                    last_zxid: self.last_proposed(),
                });
            }
        }
        let from_zxid = plan.after;
        for txn in self.recent.iter().filter(|t| t.header.zxid > from_zxid) {
            if observer {
                msgs.push(PeerMsg::Inform(txn.clone()));
            } else {
                msgs.push(PeerMsg::Proposal(txn.clone()));
                msgs.push(PeerMsg::Commit {
                    zxid: txn.header.zxid,
                });
            }
        }
        if !observer {
            for txn in self
                .outstanding
                .iter()
                .filter(|t| t.header.zxid > from_zxid)
            {
                msgs.push(PeerMsg::Proposal(txn.clone()));
            }
        }
        msgs.push(PeerMsg::NewLeader { epoch: self.epoch });
        tracing::info!(
            sid,
            observer,
            kind = match (from, plan.trunc) {
                (From::Snapshot(_), _) => "SNAP",
                (_, Some(_)) => "TRUNC",
                _ => "DIFF",
            },
            txns = msgs.len().saturating_sub(2),
            "syncing a learner"
        );
        for msg in msgs {
            if outbox.try_send(msg).is_err() {
                return Joined::Synced; // the outbox is gone or full: the handler ends
            }
        }
        self.learners.insert(
            sid,
            Learner {
                outbox,
                observer,
                acked: 0,
                synced: false,
                heard: Instant::now(),
            },
        );
        Joined::Synced
    }

    fn last_proposed(&self) -> i64 {
        self.outstanding
            .back()
            .or(self.recent.back())
            .map_or(self.base, |t| t.header.zxid)
    }

    /// Pings every learner; steps down when the voters heard from lately
    /// (and synced) are no longer a quorum (`syncLimit`), or when no
    /// quorum synced within `initLimit`.
    fn check_quorum(&mut self, started: Instant) -> Result<(), String> {
        let sids: Vec<u64> = self.learners.keys().copied().collect();
        for sid in sids {
            self.send(sid, PeerMsg::Ping);
        }
        if self.established.is_some() {
            if started.elapsed() > self.init_timeout {
                return Err("no quorum synced within initLimit".into());
            }
            return Ok(());
        }
        let now = Instant::now();
        let mut alive = vec![self.ensemble.myid];
        alive.extend(
            self.learners
                .iter()
                .filter(|(_, l)| l.synced && now.duration_since(l.heard) <= self.sync_timeout)
                .map(|(s, _)| *s),
        );
        if !self.ensemble.is_quorum(&alive) {
            return Err("lost the quorum".into());
        }
        Ok(())
    }

    fn update_stats(&self) {
        let s = &self.stats;
        let learners = self.learners.values();
        s.followers
            .store(self.learners.len() as u64, Ordering::Relaxed);
        s.synced_followers.store(
            learners.filter(|l| l.synced && !l.observer).count() as u64,
            Ordering::Relaxed,
        );
        s.pending_syncs
            .store(self.syncs.len() as u64, Ordering::Relaxed);
        s.synced_observers.store(
            self.learners
                .values()
                .filter(|l| l.synced && l.observer)
                .count() as u64,
            Ordering::Relaxed,
        );
    }
}

#[cfg(test)]
#[path = "broadcast_test.rs"]
mod tests;
