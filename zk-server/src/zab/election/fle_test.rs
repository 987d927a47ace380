use std::collections::{BTreeMap, VecDeque};

use super::*;

fn ensemble(myid: u64, voters: u64, observers: u64) -> Ensemble {
    let servers: BTreeMap<u64, String> = (1..=voters + observers)
        .map(|sid| {
            let kind = if sid > voters { ":observer" } else { "" };
            (sid, format!("h:{sid}:{sid}{kind}"))
        })
        .collect();
    Ensemble::new(myid, &servers).unwrap()
}

/// Runs rounds of FLE over a lossless network of in-memory queues until
/// every server decided (or a step bound runs out); returns the decisions.
/// A settled server answers LOOKING notifications with its decision, as
/// the messenger does.
fn run(servers: &[(u64, Vote)], voters: u64, observers: u64) -> BTreeMap<u64, Decision> {
    let mut now = Instant::now();
    let mut fles = BTreeMap::new();
    let mut queue: VecDeque<(u64, Notification)> = VecDeque::new();
    let all: Vec<u64> = servers.iter().map(|(s, _)| *s).collect();
    let mut decided: BTreeMap<u64, Decision> = BTreeMap::new();
    let push = |queue: &mut VecDeque<(u64, Notification)>, from: u64, out: Vec<Out>| {
        for o in out {
            match o {
                Out::Broadcast(n) => {
                    for to in all.iter().filter(|s| **s != from) {
                        queue.push_back((*to, n));
                    }
                }
                Out::Reply(to, n) => queue.push_back((to, n)),
            }
        }
    };
    for (sid, vote) in servers {
        let (fle, out) = Fle::start(ensemble(*sid, voters, observers), *vote, 0);
        fles.insert(*sid, fle);
        push(&mut queue, *sid, out);
    }
    for _ in 0..10_000 {
        if decided.len() == servers.len() {
            break;
        }
        match queue.pop_front() {
            Some((to, n)) => {
                if let Some(d) = decided.get(&to) {
                    if n.state == PeerState::Looking {
                        let answer = Notification {
                            sid: to,
                            state: d.state,
                            vote: d.vote,
                            election_epoch: d.election_epoch,
                        };
                        queue.push_back((n.sid, answer));
                    }
                    continue;
                }
                let (out, decision) = fles.get_mut(&to).unwrap().on_notification(n, now);
                push(&mut queue, to, out);
                if let Some(d) = decision {
                    decided.insert(to, d);
                }
            }
            None => {
                now += FINALIZE_WAIT;
                for (sid, fle) in fles.iter_mut() {
                    if decided.contains_key(sid) {
                        continue;
                    }
                    match fle.on_timer(now) {
                        Some(d) => {
                            decided.insert(*sid, d);
                        }
                        None => queue.push_back((0, fle.notification())),
                    }
                }
                // Resend: the held notifications go to everyone.
                let resend: Vec<Notification> = queue.drain(..).map(|(_, n)| n).collect();
                for n in resend {
                    push(&mut queue, n.sid, vec![Out::Broadcast(n)]);
                }
            }
        }
    }
    decided
}

fn vote(leader: u64, zxid: i64, peer_epoch: u32) -> Vote {
    Vote {
        leader,
        zxid,
        peer_epoch,
    }
}

#[test]
fn the_longest_history_wins() {
    let d = run(
        &[(1, vote(1, 5, 1)), (2, vote(2, 9, 1)), (3, vote(3, 7, 1))],
        3,
        0,
    );
    assert_eq!(d.len(), 3);
    assert!(d.values().all(|d| d.vote.leader == 2));
    assert_eq!(d[&2].state, PeerState::Leading);
    assert_eq!(d[&1].state, PeerState::Following);
}

#[test]
fn epoch_beats_zxid_and_sid_breaks_ties() {
    let d = run(
        &[
            (1, vote(1, 1 << 32, 2)),
            (2, vote(2, 9, 1)),
            (3, vote(3, 1 << 32, 2)),
        ],
        3,
        0,
    );
    assert!(d.values().all(|d| d.vote.leader == 3));
}

#[test]
fn a_quorum_decides_without_the_missing_server() {
    let d = run(&[(1, vote(1, 0, 0)), (3, vote(3, 0, 0))], 3, 0);
    assert_eq!(d.len(), 2);
    assert!(d.values().all(|d| d.vote.leader == 3));
}

#[test]
fn a_late_server_learns_the_leader_from_settled_ones() {
    let ens = ensemble(1, 3, 0);
    let (mut fle, _) = Fle::start(ens, vote(1, 100, 5), 0);
    let now = Instant::now();
    // Servers 2 and 3 settled long ago on 3, in round 7.
    let settled = |sid, state| Notification {
        sid,
        state,
        vote: vote(3, 50, 4),
        election_epoch: 7,
    };
    let (_, d) = fle.on_notification(settled(2, PeerState::Following), now);
    assert_eq!(d, None, "the leader itself has not confirmed yet");
    let (_, d) = fle.on_notification(settled(3, PeerState::Leading), now);
    let d = d.expect("decided");
    assert_eq!(
        (d.state, d.vote.leader, d.election_epoch),
        (PeerState::Following, 3, 7)
    );
}

#[test]
fn observers_follow_and_never_lead() {
    let d = run(
        &[
            (1, vote(1, 3, 1)),
            (2, vote(2, 3, 1)),
            (3, vote(3, 3, 1)),
            (4, vote(0, i64::MIN, 0)),
        ],
        3,
        1,
    );
    assert_eq!(d.len(), 4);
    assert!(d.values().all(|d| d.vote.leader == 3));
    assert_eq!(d[&4].state, PeerState::Observing);
}

#[test]
fn a_vote_for_a_non_voter_is_ignored() {
    let (mut fle, _) = Fle::start(ensemble(1, 3, 1), vote(1, 0, 0), 0);
    let n = Notification {
        sid: 4,
        state: PeerState::Looking,
        vote: vote(4, 1000, 9),
        election_epoch: 1,
    };
    let (out, d) = fle.on_notification(n, Instant::now());
    assert!(out.is_empty() && d.is_none());
    assert_eq!(fle.proposal().leader, 1);
}

/// Five voters; servers 2, 3 and 4 are out of election under leader 3.
fn settled_under_3(sid: u64, state: PeerState, zxid: i64, epoch: u32, round: u64) -> Notification {
    Notification {
        sid,
        state,
        vote: vote(3, zxid, epoch),
        election_epoch: round,
    }
}

#[test]
fn settled_servers_that_decided_in_other_rounds_still_make_a_quorum() {
    // Server 4 decided for 3 a round before 3 did, with 3's older zxid,
    // and then joined 3's epoch (ZOOKEEPER-1732): all report epoch 6.
    let (mut fle, _) = Fle::start(ensemble(1, 5, 0), vote(1, 100, 5), 0);
    let now = Instant::now();
    let (_, d) = fle.on_notification(settled_under_3(2, PeerState::Following, 90, 6, 7), now);
    assert_eq!(d, None);
    let (_, d) = fle.on_notification(settled_under_3(4, PeerState::Following, 40, 6, 6), now);
    assert_eq!(d, None, "the leader itself has not confirmed yet");
    let (_, d) = fle.on_notification(settled_under_3(3, PeerState::Leading, 90, 6, 7), now);
    let d = d.expect("decided");
    assert_eq!((d.state, d.vote.leader), (PeerState::Following, 3));
}

#[test]
fn settled_servers_of_another_epoch_do_not_count() {
    let (mut fle, _) = Fle::start(ensemble(1, 5, 0), vote(1, 100, 5), 0);
    let now = Instant::now();
    let answers = [
        settled_under_3(2, PeerState::Following, 90, 6, 7),
        settled_under_3(4, PeerState::Following, 40, 5, 6),
        settled_under_3(3, PeerState::Leading, 90, 6, 7),
    ];
    for n in answers {
        let (_, d) = fle.on_notification(n, now);
        assert_eq!(d, None, "only 2 and 3 are in epoch 6");
    }
}

#[test]
fn a_finalize_wait_that_cannot_decide_is_spent() {
    let (mut fle, _) = Fle::start(ensemble(3, 3, 0), vote(3, 10, 1), 0);
    let now = Instant::now();
    let looking = Notification {
        sid: 1,
        state: PeerState::Looking,
        vote: vote(3, 10, 1),
        election_epoch: 1,
    };
    let _ = fle.on_notification(looking, now);
    assert!(fle.finalize_at().is_some(), "1 and 3 agree on 3");
    // Server 1 settles elsewhere in this round: the quorum is gone.
    let settled = Notification {
        sid: 1,
        state: PeerState::Following,
        vote: vote(2, 20, 3),
        election_epoch: 1,
    };
    let (_, d) = fle.on_notification(settled, now);
    assert_eq!(d, None);
    assert_eq!(fle.on_timer(now + FINALIZE_WAIT), None);
    assert_eq!(fle.finalize_at(), None, "not due again at once");
}
