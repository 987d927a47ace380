//! Fast Leader Election, the vote logic alone (ZooKeeper's
//! `FastLeaderElection.lookForLeader`), sans IO: notifications and time go
//! in, notifications to send and the decision come out.
//!
//! A vote names a leader with the history it would bring: (peerEpoch, zxid,
//! sid), compared in that order, so the server with the latest history wins
//! and ties go to the larger id. A server adopts any better vote it hears
//! and re-broadcasts; once the voters of a quorum agree with its vote and
//! nothing better arrives within a short wait, it decides. A server that
//! starts while the others are already settled learns the leader from
//! their FOLLOWING/LEADING answers: a quorum of them naming one leader in
//! one epoch, the leader among them.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::zab::ensemble::Ensemble;

/// How long a quorum must stand unchallenged (`finalizeWait`).
pub const FINALIZE_WAIT: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PeerState {
    Looking,
    Following,
    Leading,
    Observing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vote {
    /// The proposed leader; 0 (no server) in an observer's own vote.
    pub leader: u64,
    pub zxid: i64,
    pub peer_epoch: u32,
}

impl Vote {
    fn key(&self) -> (u32, i64, u64) {
        (self.peer_epoch, self.zxid, self.leader)
    }

    /// Servers out of election back the same leadership when they name
    /// the same leader in the same epoch. Their zxids and rounds may
    /// differ: a server can decide for a leader in an earlier round than
    /// the leader's own and still join its epoch, and demanding equal
    /// votes then keeps a restarted server looking forever
    /// (ZOOKEEPER-1732, ZooKeeper's `Vote.equals` out of election).
    fn same_leadership(&self, other: &Vote) -> bool {
        self.leader == other.leader && self.peer_epoch == other.peer_epoch
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notification {
    pub sid: u64,
    pub state: PeerState,
    pub vote: Vote,
    pub election_epoch: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub state: PeerState,
    pub vote: Vote,
    pub election_epoch: u64,
}

/// What to send: to every other server, or back to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Broadcast(Notification),
    Reply(u64, Notification),
}

#[derive(Debug)]
pub struct Fle {
    ensemble: Ensemble,
    logical_clock: u64,
    own: Vote,
    proposal: Vote,
    /// Votes of this election round (LOOKING ones and settled ones alike).
    received: BTreeMap<u64, (Vote, PeerState)>,
    /// Votes of servers already out of election, any round.
    settled: BTreeMap<u64, (Vote, PeerState, u64)>,
    finalize_at: Option<Instant>,
}

impl Fle {
    /// Starts a round after `last_clock`, voting for `own` (this server
    /// with its history; an observer votes for no one).
    pub fn start(ensemble: Ensemble, own: Vote, last_clock: u64) -> (Fle, Vec<Out>) {
        let mut fle = Fle {
            logical_clock: last_clock + 1,
            own,
            proposal: own,
            received: BTreeMap::new(),
            settled: BTreeMap::new(),
            finalize_at: None,
            ensemble,
        };
        fle.record_own();
        let out = vec![Out::Broadcast(fle.notification())];
        (fle, out)
    }

    pub fn logical_clock(&self) -> u64 {
        self.logical_clock
    }

    pub fn proposal(&self) -> Vote {
        self.proposal
    }

    /// This server's current notification (sent again on a resend timer).
    pub fn notification(&self) -> Notification {
        Notification {
            sid: self.ensemble.myid,
            state: PeerState::Looking,
            vote: self.proposal,
            election_epoch: self.logical_clock,
        }
    }

    pub fn finalize_at(&self) -> Option<Instant> {
        self.finalize_at
    }

    /// `totalOrderPredicate`: only a voter can be proposed.
    fn beats(&self, a: Vote, b: Vote) -> bool {
        self.ensemble.is_voter(a.leader) && a.key() > b.key()
    }

    fn record_own(&mut self) {
        if self.ensemble.is_voter(self.ensemble.myid) {
            self.received
                .insert(self.ensemble.myid, (self.proposal, PeerState::Looking));
        }
    }

    pub fn on_notification(
        &mut self,
        n: Notification,
        now: Instant,
    ) -> (Vec<Out>, Option<Decision>) {
        if n.sid == self.ensemble.myid || !self.ensemble.peers.contains_key(&n.sid) {
            return (Vec::new(), None);
        }
        if n.state == PeerState::Looking {
            return self.on_looking(n, now);
        }
        (Vec::new(), self.on_settled(n))
    }

    fn on_looking(&mut self, n: Notification, now: Instant) -> (Vec<Out>, Option<Decision>) {
        let mut out = Vec::new();
        if n.election_epoch < self.logical_clock {
            // A server behind by a round: tell it where we are.
            out.push(Out::Reply(n.sid, self.notification()));
            return (out, None);
        }
        if n.election_epoch > self.logical_clock {
            self.logical_clock = n.election_epoch;
            self.received.clear();
            self.proposal = if self.beats(n.vote, self.own) {
                n.vote
            } else {
                self.own
            };
            self.finalize_at = None;
            self.record_own();
            out.push(Out::Broadcast(self.notification()));
        } else if self.beats(n.vote, self.proposal) {
            self.proposal = n.vote;
            self.finalize_at = None;
            self.record_own();
            out.push(Out::Broadcast(self.notification()));
        }
        if self.ensemble.is_voter(n.sid) {
            self.received.insert(n.sid, (n.vote, n.state));
        }
        if self.agree(self.proposal) {
            self.finalize_at.get_or_insert(now + FINALIZE_WAIT);
        } else {
            self.finalize_at = None;
        }
        (out, None)
    }

    /// A FOLLOWING/LEADING/OBSERVING server answered: the election may
    /// already be over.
    fn on_settled(&mut self, n: Notification) -> Option<Decision> {
        if n.election_epoch == self.logical_clock {
            self.received.insert(n.sid, (n.vote, n.state));
            if self.agree(n.vote) && self.leader_confirmed(n.vote.leader, n.election_epoch) {
                return Some(self.decide(n.vote));
            }
        }
        self.settled
            .insert(n.sid, (n.vote, n.state, n.election_epoch));
        let backers: Vec<u64> = self
            .settled
            .iter()
            .filter(|(_, (v, _, _))| v.same_leadership(&n.vote))
            .map(|(sid, _)| *sid)
            .collect();
        if self.ensemble.is_quorum(&backers)
            && self.leader_confirmed(n.vote.leader, n.election_epoch)
        {
            self.logical_clock = n.election_epoch;
            return Some(self.decide(n.vote));
        }
        None
    }

    /// `checkLeader`: follow a leader only on its own word that it leads.
    fn leader_confirmed(&self, leader: u64, election_epoch: u64) -> bool {
        if leader == self.ensemble.myid {
            return election_epoch == self.logical_clock;
        }
        let leading = |state: PeerState| state == PeerState::Leading;
        self.received.get(&leader).is_some_and(|(_, s)| leading(*s))
            || self
                .settled
                .get(&leader)
                .is_some_and(|(_, s, _)| leading(*s))
    }

    fn agree(&self, vote: Vote) -> bool {
        let backers: Vec<u64> = self
            .received
            .iter()
            .filter(|(_, (v, _))| *v == vote)
            .map(|(sid, _)| *sid)
            .collect();
        self.ensemble.is_quorum(&backers)
    }

    /// The finalize wait ran out: decide if the quorum still stands.
    pub fn on_timer(&mut self, now: Instant) -> Option<Decision> {
        match self.finalize_at {
            Some(at) if at <= now => {
                // Spent either way: a settled answer of this round can
                // replace a vote of the quorum, and a wait left in the
                // past would wake the service again at once, forever.
                self.finalize_at = None;
                let proposal = self.proposal;
                self.agree(proposal).then(|| self.decide(proposal))
            }
            _ => None,
        }
    }

    fn decide(&mut self, vote: Vote) -> Decision {
        self.proposal = vote;
        let state = if vote.leader == self.ensemble.myid {
            PeerState::Leading
        } else if self.ensemble.is_voter(self.ensemble.myid) {
            PeerState::Following
        } else {
            PeerState::Observing
        };
        Decision {
            state,
            vote,
            election_epoch: self.logical_clock,
        }
    }
}

#[cfg(test)]
#[path = "fle_test.rs"]
mod tests;
