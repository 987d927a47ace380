//! The broadcast stage driven by hand: learners are outboxes we read, acks
//! are events we send, the leader's own log is a field we set.

use std::collections::BTreeMap;

use zk_proto::txn::{ErrorTxn, TxnBody, TxnHeader};

use super::*;
use crate::zab::zxid::make;

fn ensemble(voters: u64, observers: u64) -> Ensemble {
    let servers: BTreeMap<u64, String> = (1..=voters + observers)
        .map(|sid| {
            let kind = if sid > voters { ":observer" } else { "" };
            (sid, format!("h:{sid}:{sid}{kind}"))
        })
        .collect();
    Ensemble::new(1, &servers).unwrap()
}

fn txn(zxid: i64) -> Txn {
    Txn {
        header: TxnHeader {
            client_id: 0,
            cxid: 0,
            zxid,
            time_ms: 0,
        },
        body: TxnBody::Error(ErrorTxn { err: 0 }),
    }
}

struct Harness {
    stage: Broadcast,
    commits_tx: mpsc::UnboundedSender<LogEvent>,
    commits: mpsc::UnboundedReceiver<LogEvent>,
    established: oneshot::Receiver<()>,
    outboxes: BTreeMap<u64, mpsc::Receiver<PeerMsg>>,
}

impl Harness {
    /// Leader 1 of `voters` (+ observers), epoch 2, history `recent` after `base`.
    fn new(voters: u64, observers: u64, recent: Vec<Txn>, base: i64) -> Harness {
        let (est_tx, established) = oneshot::channel();
        let stage = Broadcast::new(
            ensemble(voters, observers),
            2,
            (recent, base, 100),
            Arc::new(ServerStats::default()),
            Duration::from_millis(100),
            10,
            5,
            est_tx,
        );
        let (commits_tx, commits) = mpsc::unbounded_channel();
        Harness {
            stage,
            commits_tx,
            commits,
            established,
            outboxes: BTreeMap::new(),
        }
    }

    fn join(&mut self, sid: u64, from: From) -> Joined {
        let (tx, rx) = mpsc::channel(100);
        self.outboxes.insert(sid, rx);
        let observer = !self.stage.ensemble.is_voter(sid);
        self.stage.join(sid, observer, from, tx)
    }

    fn event(&mut self, e: Event) {
        self.stage.on_event(e, &self.commits_tx);
    }

    /// What learner `sid` was sent since the last look.
    fn sent(&mut self, sid: u64) -> Vec<PeerMsg> {
        let rx = self.outboxes.get_mut(&sid).unwrap();
        std::iter::from_fn(|| rx.try_recv().ok()).collect()
    }

    fn committed(&mut self) -> Vec<i64> {
        let mut out = Vec::new();
        while let Ok(LogEvent::Committed(batch)) = self.commits.try_recv() {
            out.extend(batch.iter().map(|t| t.header.zxid));
        }
        out
    }
}

#[test]
fn nothing_commits_before_a_quorum_is_synced_then_a_quorum_of_acks_commits() {
    let mut h = Harness::new(3, 0, Vec::new(), 0);
    assert_eq!(h.join(2, From::Zxid(0)), Joined::Synced);
    assert_eq!(
        h.sent(2),
        [
            PeerMsg::Diff { last_zxid: 0 },
            PeerMsg::NewLeader { epoch: 2 }
        ]
    );
    let p = txn(make(2, 1));
    h.stage.propose(&p);
    h.stage.logged = make(2, 1);
    h.event(Event::Ack {
        sid: 2,
        zxid: make(2, 1),
    });
    assert!(
        h.committed().is_empty(),
        "learner 2 has not acked NEWLEADER"
    );
    assert!(h.established.try_recv().is_err());

    h.event(Event::AckNewLeader { sid: 2 });
    assert!(
        h.established.try_recv().is_ok(),
        "self + 2 is a quorum of 3"
    );
    assert_eq!(h.committed(), [make(2, 1)]);
    assert_eq!(
        h.sent(2),
        [
            PeerMsg::Proposal(p),
            PeerMsg::UpToDate,
            PeerMsg::Commit { zxid: make(2, 1) }
        ]
    );
}

#[test]
fn the_leaders_own_log_counts_and_commits_stay_in_order() {
    let mut h = Harness::new(3, 0, Vec::new(), 0);
    h.join(2, From::Zxid(0));
    h.event(Event::AckNewLeader { sid: 2 });
    let _ = h.sent(2);
    for i in 1..=3 {
        h.stage.propose(&txn(make(2, i)));
    }
    // The follower acks all three, the leader has logged only the first.
    h.event(Event::Ack {
        sid: 2,
        zxid: make(2, 3),
    });
    h.stage.logged = make(2, 1);
    h.stage.try_commit(&h.commits_tx.clone());
    assert_eq!(h.committed(), [make(2, 1)]);
    h.stage.logged = make(2, 3);
    h.stage.try_commit(&h.commits_tx.clone());
    assert_eq!(h.committed(), [make(2, 2), make(2, 3)]);
}

#[test]
fn observers_get_informs_and_their_acks_do_not_count() {
    let mut h = Harness::new(3, 1, Vec::new(), 0);
    h.join(4, From::Zxid(0));
    h.event(Event::AckNewLeader { sid: 4 });
    assert!(
        h.established.try_recv().is_err(),
        "an observer is no quorum"
    );
    h.join(2, From::Zxid(0));
    h.event(Event::AckNewLeader { sid: 2 });
    let _ = (h.sent(2), h.sent(4));
    let p = txn(make(2, 1));
    h.stage.propose(&p);
    h.stage.logged = make(2, 1);
    h.event(Event::Ack {
        sid: 4,
        zxid: make(2, 1),
    });
    assert!(h.committed().is_empty());
    assert!(h.sent(4).is_empty(), "no proposal for an observer");
    h.event(Event::Ack {
        sid: 2,
        zxid: make(2, 1),
    });
    assert_eq!(h.committed(), [make(2, 1)]);
    assert_eq!(h.sent(4), [PeerMsg::Inform(p)]);
}

#[test]
fn sync_is_answered_after_what_was_proposed_before_it() {
    let mut h = Harness::new(3, 0, Vec::new(), 0);
    h.join(2, From::Zxid(0));
    h.event(Event::AckNewLeader { sid: 2 });
    let _ = h.sent(2);
    h.stage.sync(2);
    assert_eq!(h.sent(2), [PeerMsg::SyncDone], "nothing pending: at once");
    h.stage.propose(&txn(make(2, 1)));
    h.stage.sync(2);
    let _ = h.sent(2);
    h.stage.logged = make(2, 1);
    h.event(Event::Ack {
        sid: 2,
        zxid: make(2, 1),
    });
    assert_eq!(
        h.sent(2),
        [PeerMsg::Commit { zxid: make(2, 1) }, PeerMsg::SyncDone]
    );
}

#[test]
fn joining_learners_get_diff_trunc_or_are_asked_for_a_snap() {
    let history = vec![txn(make(1, 4)), txn(make(1, 5))];
    let mut h = Harness::new(3, 0, history, make(1, 3));
    // Behind by one: the missing txn as proposal and commit.
    h.join(2, From::Zxid(make(1, 4)));
    assert_eq!(
        h.sent(2),
        [
            PeerMsg::Diff {
                last_zxid: make(1, 5)
            },
            PeerMsg::Proposal(txn(make(1, 5))),
            PeerMsg::Commit { zxid: make(1, 5) },
            PeerMsg::NewLeader { epoch: 2 }
        ]
    );
    // With a txn the leader never had: cut back, then nothing to add.
    h.join(3, From::Zxid(make(1, 6)));
    assert_eq!(
        h.sent(3),
        [
            PeerMsg::Trunc { zxid: make(1, 5) },
            PeerMsg::NewLeader { epoch: 2 }
        ]
    );
    // Older than the history kept: a SNAP first.
    let (tx, _rx) = mpsc::channel(10);
    assert_eq!(
        h.stage.join(3, false, From::Zxid(make(1, 1)), tx),
        Joined::NeedSnap
    );
}
