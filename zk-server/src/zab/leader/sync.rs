//! How a joining learner is brought to the leader's history: DIFF (send
//! what it lacks), TRUNC (cut what the leader never had, then DIFF) or
//! SNAP (its history ends before what the leader keeps).
//!
//! The leader's history here is `(base, recent ++ outstanding]`. A zxid
//! names one txn in the whole ensemble (an epoch has one leader), so a
//! learner's txns up to the leader's last zxid at or below the learner's
//! last are the leader's too; everything after is cut.

use std::collections::VecDeque;

use zk_proto::txn::Txn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// TRUNC to this zxid first.
    pub trunc: Option<i64>,
    /// Send every txn after this one.
    pub after: i64,
}

/// The plan for a learner whose log ends at `learner_last`; None: SNAP.
pub fn plan(
    base: i64,
    recent: &VecDeque<Txn>,
    outstanding: &VecDeque<Txn>,
    learner_last: i64,
) -> Option<Plan> {
    if learner_last < base {
        return None;
    }
    let diff = |after| Plan { trunc: None, after };
    let trunc = |to| Plan {
        trunc: Some(to),
        after: to,
    };
    if learner_last == base {
        return Some(diff(base));
    }
    let mut before = base;
    for txn in recent.iter().chain(outstanding) {
        let z = txn.header.zxid;
        if z == learner_last {
            return Some(diff(learner_last));
        }
        if z > learner_last {
            return Some(trunc(before));
        }
        before = z;
    }
    // Past the leader's last txn: cut back to it.
    Some(trunc(before))
}

/// After a SNAP at `zxid` (a committed state): DIFF the rest, if the kept
/// history still reaches back to it.
pub fn after_snapshot(base: i64, recent: &VecDeque<Txn>, zxid: i64) -> Option<Plan> {
    let known = zxid == base || recent.iter().any(|t| t.header.zxid == zxid);
    known.then_some(Plan {
        trunc: None,
        after: zxid,
    })
}

#[cfg(test)]
mod tests {
    use zk_proto::txn::{TxnBody, TxnHeader};

    use super::*;
    use crate::zab::zxid::make;

    fn history(zxids: &[i64]) -> VecDeque<Txn> {
        zxids
            .iter()
            .map(|&zxid| Txn {
                header: TxnHeader {
                    client_id: 0,
                    cxid: 0,
                    zxid,
                    time_ms: 0,
                },
                body: TxnBody::Error(zk_proto::txn::ErrorTxn { err: 0 }),
            })
            .collect()
    }

    fn diff(after: i64) -> Option<Plan> {
        Some(Plan { trunc: None, after })
    }

    fn trunc(to: i64) -> Option<Plan> {
        Some(Plan {
            trunc: Some(to),
            after: to,
        })
    }

    #[test]
    fn diff_trunc_or_snap() {
        let recent = history(&[make(1, 4), make(1, 5), make(2, 1)]);
        let pending = history(&[make(2, 2)]);
        let base = make(1, 3);
        // Up to date, behind, at the base.
        assert_eq!(plan(base, &recent, &pending, make(2, 2)), diff(make(2, 2)));
        assert_eq!(plan(base, &recent, &pending, make(1, 5)), diff(make(1, 5)));
        assert_eq!(plan(base, &recent, &pending, base), diff(base));
        // An uncommitted txn of epoch 1 the leader never had.
        assert_eq!(plan(base, &recent, &pending, make(1, 6)), trunc(make(1, 5)));
        // A failed epoch-3 leader's proposal, after all the leader has.
        assert_eq!(plan(base, &recent, &pending, make(3, 1)), trunc(make(2, 2)));
        // Older than what the leader keeps.
        assert_eq!(plan(base, &recent, &pending, make(1, 2)), None);
        assert_eq!(plan(0, &VecDeque::new(), &VecDeque::new(), 0), diff(0));
    }

    #[test]
    fn after_a_snapshot() {
        let recent = history(&[make(1, 4), make(1, 5)]);
        assert_eq!(
            after_snapshot(make(1, 3), &recent, make(1, 4)),
            diff(make(1, 4))
        );
        assert_eq!(
            after_snapshot(make(1, 3), &recent, make(1, 3)),
            diff(make(1, 3))
        );
        assert_eq!(after_snapshot(make(1, 3), &recent, make(1, 2)), None);
    }
}
