//! Leader election: the vote logic ([`fle`]) and the service that carries
//! notifications between election ports. The service runs for the life of
//! the server: while this server is settled it still answers servers that
//! look for a leader, so a restarted server learns who leads.

pub mod fle;
mod messenger;
mod wire;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::net::transport::{Listener, Network};

pub use fle::{Decision, Notification, PeerState, Vote};

use super::ensemble::Ensemble;
use fle::{Fle, Out};
use messenger::{accept, send_to_peer};

/// Resends start here and double while nothing is heard (`minNotificationInterval`).
const RESEND_MIN: Duration = Duration::from_millis(200);
/// … up to this (ZooKeeper's `maxNotificationInterval` is 60 s; our
/// ensembles are small and a quick rejoin matters more).
const RESEND_MAX: Duration = Duration::from_secs(2);

enum Cmd {
    Elect {
        own: Vote,
        reply: oneshot::Sender<Decision>,
    },
    Established {
        leader: u64,
        epoch: u32,
    },
}

/// Asks the election service for a leader.
#[derive(Debug, Clone)]
pub struct Election {
    cmd: mpsc::Sender<Cmd>,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cmd::Elect { .. } => f.write_str("Elect"),
            Cmd::Established { epoch, .. } => write!(f, "Established({epoch})"),
        }
    }
}

impl Election {
    /// Starts the service on a bound election listener.
    pub fn start(
        ensemble: Ensemble,
        listener: Box<dyn Listener>,
        net: Arc<dyn Network>,
        shutdown: CancellationToken,
        tasks: &TaskTracker,
    ) -> Election {
        let (cmd_tx, cmd_rx) = mpsc::channel(4);
        let (in_tx, in_rx) = mpsc::channel(256);
        let mut senders = BTreeMap::new();
        for peer in ensemble.others() {
            // Only the latest notification to a peer matters: each one
            // carries this server's whole state, so a newer one replaces
            // one not sent yet (ZooKeeper's send queue holds one).
            let (tx, rx) = watch::channel(None);
            senders.insert(peer.sid, tx);
            tasks.spawn(send_to_peer(
                net.clone(),
                peer.election_addr(),
                rx,
                shutdown.clone(),
            ));
        }
        let peers = senders.keys().copied().collect();
        tasks.spawn(accept(
            listener,
            peers,
            in_tx,
            shutdown.clone(),
            tasks.clone(),
        ));
        let service = Service {
            ensemble,
            senders,
            state: State::Idle,
            clock: 0,
        };
        tasks.spawn(service.run(cmd_rx, in_rx, shutdown));
        Election { cmd: cmd_tx }
    }

    /// Looks for a leader, voting `own` first; returns once decided (or
    /// never, if the service stopped: the caller's shutdown wins then).
    pub async fn elect(&self, own: Vote) -> Option<Decision> {
        let (reply, rx) = oneshot::channel();
        self.cmd.send(Cmd::Elect { own, reply }).await.ok()?;
        rx.await.ok()
    }

    /// The role decided last established `epoch` under `leader` (the
    /// leader has a synced quorum; a learner got UPTODATE): from now on
    /// this server answers servers that look for a leader with that
    /// epoch, as every other member of the epoch does, whatever round
    /// and zxid each decided with. A server joining later needs a quorum
    /// of matching answers (ZooKeeper's `updateElectionVote`,
    /// ZOOKEEPER-1732).
    pub async fn established(&self, leader: u64, epoch: u32) {
        // Stopped service: the server is stopping too.
        let _ = self.cmd.send(Cmd::Established { leader, epoch }).await;
    }
}

enum State {
    Idle,
    Looking {
        fle: Box<Fle>,
        reply: Option<oneshot::Sender<Decision>>,
        resend_at: Instant,
        resend_every: Duration,
    },
    Settled(Decision),
}

struct Service {
    ensemble: Ensemble,
    senders: BTreeMap<u64, watch::Sender<Option<Bytes>>>,
    state: State,
    clock: u64,
}

impl Service {
    async fn run(
        mut self,
        mut cmds: mpsc::Receiver<Cmd>,
        mut inbound: mpsc::Receiver<Notification>,
        shutdown: CancellationToken,
    ) {
        loop {
            let wake = self.next_wake();
            tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                cmd = cmds.recv() => match cmd {
                    Some(Cmd::Elect { own, reply }) => self.start_round(own, reply),
                    Some(Cmd::Established { leader, epoch }) => self.established(leader, epoch),
                    None => return,
                },
                n = inbound.recv() => match n {
                    Some(n) => self.on_notification(n),
                    None => return,
                },
                () = tokio::time::sleep_until(wake) => self.on_timer(),
            }
        }
    }

    fn next_wake(&self) -> Instant {
        match &self.state {
            State::Looking { fle, resend_at, .. } => {
                fle.finalize_at().map_or(*resend_at, |f| f.min(*resend_at))
            }
            _ => Instant::now() + Duration::from_secs(3600),
        }
    }

    fn start_round(&mut self, own: Vote, reply: oneshot::Sender<Decision>) {
        let (fle, out) = Fle::start(self.ensemble.clone(), own, self.clock);
        self.clock = fle.logical_clock();
        tracing::info!(
            myid = self.ensemble.myid,
            round = self.clock,
            zxid = format_args!("{:#x}", own.zxid),
            "looking for a leader"
        );
        self.send(out);
        self.state = State::Looking {
            fle: Box::new(fle),
            reply: Some(reply),
            resend_at: Instant::now() + RESEND_MIN,
            resend_every: RESEND_MIN,
        };
    }

    fn established(&mut self, leader: u64, epoch: u32) {
        // Commands come in order: a role's word arrives before the next
        // round starts, and only while its decision stands.
        if let State::Settled(d) = &mut self.state
            && d.vote.leader == leader
        {
            d.vote.peer_epoch = epoch;
        }
    }

    fn on_notification(&mut self, n: Notification) {
        let now = Instant::now();
        let (out, decision) = match &mut self.state {
            State::Looking {
                fle,
                resend_at,
                resend_every,
                ..
            } => {
                *resend_every = RESEND_MIN;
                *resend_at = now + RESEND_MIN;
                fle.on_notification(n, now)
            }
            State::Settled(d) if n.state == PeerState::Looking => {
                let answer = settled_notification(self.ensemble.myid, d);
                (vec![Out::Reply(n.sid, answer)], None)
            }
            _ => (Vec::new(), None),
        };
        self.send(out);
        if let Some(d) = decision {
            self.settle(d);
        }
    }

    fn on_timer(&mut self) {
        let now = Instant::now();
        let State::Looking {
            fle,
            resend_at,
            resend_every,
            ..
        } = &mut self.state
        else {
            return;
        };
        if let Some(d) = fle.on_timer(now) {
            self.settle(d);
            return;
        }
        if *resend_at <= now {
            // Nothing heard for a while: say it again, less often each time.
            *resend_every = (*resend_every * 2).min(RESEND_MAX);
            *resend_at = now + *resend_every;
            let out = vec![Out::Broadcast(fle.notification())];
            self.send(out);
        }
    }

    fn settle(&mut self, d: Decision) {
        self.clock = d.election_epoch;
        tracing::info!(
            myid = self.ensemble.myid,
            leader = d.vote.leader,
            state = ?d.state,
            round = d.election_epoch,
            "election decided"
        );
        if let State::Looking { reply, .. } = &mut self.state
            && let Some(reply) = reply.take()
        {
            let _ = reply.send(d);
        }
        // Tell everyone: servers still looking settle faster.
        let n = settled_notification(self.ensemble.myid, &d);
        self.state = State::Settled(d);
        self.send(vec![Out::Broadcast(n)]);
    }

    fn send(&self, out: Vec<Out>) {
        for o in out {
            let (targets, n): (Vec<u64>, Notification) = match o {
                Out::Broadcast(n) => (self.senders.keys().copied().collect(), n),
                Out::Reply(sid, n) => (vec![sid], n),
            };
            let bytes = wire::encode(&n);
            for sid in targets {
                if let Some(tx) = self.senders.get(&sid) {
                    tx.send_replace(Some(bytes.clone()));
                }
            }
        }
    }
}

fn settled_notification(myid: u64, d: &Decision) -> Notification {
    Notification {
        sid: myid,
        state: d.state,
        vote: d.vote,
        election_epoch: d.election_epoch,
    }
}
