//! Leader election: a recorded timeline never shows two leaders at once,
//! also when the leader's connection is cut until its session expires;
//! close() passes leadership on; a selector with auto-requeue rotates
//! leadership and never runs two terms at once.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{TestEnv, children, eventually, wait_generation, within};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use zk_recipes::{LeaderLatch, LeaderSelector, Participant};

/// Leadership transitions as the candidates' watch channels showed them,
/// in the order they were seen (the time is taken under the lock, so the
/// order is the time order).
#[derive(Clone, Default)]
struct Timeline(Arc<Mutex<Vec<(Instant, usize, bool)>>>);

impl Timeline {
    fn record(&self, who: usize, leader: bool) {
        let mut events = self.0.lock().expect("timeline lock");
        let last = events.iter().rev().find(|e| e.1 == who).map(|e| e.2);
        if last.unwrap_or(false) != leader {
            events.push((Instant::now(), who, leader));
        }
    }

    /// Records every value `rx` takes.
    fn follow(&self, who: usize, mut rx: watch::Receiver<bool>) -> JoinHandle<()> {
        let timeline = self.clone();
        tokio::spawn(async move {
            loop {
                let leader = *rx.borrow_and_update();
                timeline.record(who, leader);
                if rx.changed().await.is_err() {
                    return;
                }
            }
        })
    }

    /// The candidates leading now, replaying the timeline; panics if two
    /// ever led at the same instant.
    fn leaders(&self) -> BTreeSet<usize> {
        let events = self.0.lock().expect("timeline lock");
        let mut now = BTreeSet::new();
        for (at, who, leader) in events.iter() {
            if *leader {
                now.insert(*who);
            } else {
                now.remove(who);
            }
            assert!(
                now.len() <= 1,
                "two leaders at {at:?}: {now:?}; timeline {:?}",
                *events
            );
        }
        now
    }

    fn leader(&self) -> Option<usize> {
        self.leaders().into_iter().next()
    }

    /// Every candidate that led at some point.
    fn ever_led(&self) -> BTreeSet<usize> {
        let events = self.0.lock().expect("timeline lock");
        events.iter().filter(|e| e.2).map(|e| e.1).collect()
    }
}

fn leaders_of(parts: &[Participant]) -> Vec<&str> {
    parts
        .iter()
        .filter(|p| p.is_leader)
        .map(|p| p.id.as_str())
        .collect()
}

// One thread: the followers record transitions in the order they happened
// (a woken follower runs before any task woken later), which a preempted
// worker of a multi-threaded runtime would not guarantee.
#[tokio::test]
async fn latch_timeline_has_one_leader_across_a_cut() {
    let env = TestEnv::new().await;
    let timeline = Timeline::default();
    let mut fws = Vec::new();
    let mut proxies = Vec::new();
    let mut latches = Vec::new();
    let mut followers = Vec::new();
    for i in 0..3 {
        let (fw, proxy) = env.proxied_framework().await;
        let latch = LeaderLatch::new(&fw, "/election", &format!("c{i}"));
        followers.push(timeline.follow(i, latch.leadership()));
        latch.start();
        fws.push(fw);
        proxies.push(proxy);
        latches.push(latch);
    }
    eventually("a leader", || async { timeline.leader().is_some() }).await;
    let first = timeline.leader().expect("leader");
    let other = (first + 1) % 3;
    eventually("three participants", || async {
        latches[other]
            .participants()
            .await
            .expect("participants")
            .len()
            == 3
    })
    .await;
    let parts = latches[other].participants().await.expect("participants");
    let first_id = format!("c{first}");
    assert_eq!(leaders_of(&parts), vec![first_id.as_str()], "{parts:?}");
    assert_eq!(parts[0].id, first_id);

    // Cut the leader off: it is suspended at once, and once its session
    // expires on the server another candidate leads.
    proxies[first].cut();
    eventually("the cut leader is suspended", || async {
        !latches[first].is_leader()
    })
    .await;
    eventually("a new leader", || async {
        timeline.leader().is_some_and(|l| l != first)
    })
    .await;
    let second = timeline.leader().expect("leader");
    assert!(!latches[first].is_leader());

    // Back again: the framework makes a new session and the candidate
    // rejoins, at the end of the line.
    proxies[first].restore();
    wait_generation(&fws[first], 2).await;
    eventually("the cut candidate rejoins", || async {
        latches[second]
            .participants()
            .await
            .expect("participants")
            .len()
            == 3
    })
    .await;
    let parts = latches[second].participants().await.expect("participants");
    let second_id = format!("c{second}");
    assert_eq!(leaders_of(&parts), vec![second_id.as_str()], "{parts:?}");
    assert_eq!(parts[2].id, first_id, "rejoined last: {parts:?}");
    assert_eq!(timeline.leader(), Some(second));

    // Closing the leader passes leadership on.
    latches[second].close().await.expect("close");
    assert!(!latches[second].is_leader());
    eventually("leadership passes on close", || async {
        timeline.leader().is_some_and(|l| l != second)
    })
    .await;
    let third = timeline.leader().expect("leader");
    assert_ne!(third, second);
    for latch in &latches {
        latch.close().await.expect("close");
    }
    eventually("no leader after close", || async {
        timeline.leaders().is_empty()
    })
    .await;
    for f in &followers {
        f.abort();
    }
    assert!(timeline.ever_led().len() >= 2);
    env.finish(&fws).await;
}

// One thread: the followers record transitions in the order they happened
// (a woken follower runs before any task woken later), which a preempted
// worker of a multi-threaded runtime would not guarantee.
#[tokio::test]
async fn latch_close_relinquishes_and_participants_list_all() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(3).await;
    let timeline = Timeline::default();
    let mut latches = Vec::new();
    let mut followers = Vec::new();
    for (i, fw) in fws.iter().enumerate() {
        let latch = LeaderLatch::new(fw, "/latch", &format!("p{i}"));
        followers.push(timeline.follow(i, latch.leadership()));
        latch.start();
        latches.push(latch);
    }
    eventually("three participants and a leader", || async {
        latches[0].participants().await.expect("participants").len() == 3
            && timeline.leader().is_some()
    })
    .await;
    let parts = latches[0].participants().await.expect("participants");
    let ids: BTreeSet<_> = parts.iter().map(|p| p.id.clone()).collect();
    assert_eq!(ids, ["p0", "p1", "p2"].map(String::from).into());
    let leader = timeline.leader().expect("leader");
    let leader_id = format!("p{leader}");
    assert_eq!(leaders_of(&parts), vec![leader_id.as_str()]);
    assert!(
        latches[leader]
            .await_leadership(Duration::from_secs(1))
            .await
    );
    let follower = (leader + 1) % 3;
    assert!(
        !latches[follower]
            .await_leadership(Duration::from_millis(100))
            .await
    );

    // Relinquish: the next one leads, the list shrinks.
    latches[leader].close().await.expect("close");
    let next = within("next leader", async {
        loop {
            if let Some(l) = timeline.leader().filter(|l| *l != leader) {
                return l;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let parts = latches[next].participants().await.expect("participants");
    assert_eq!(parts.len(), 2, "{parts:?}");
    let next_id = format!("p{next}");
    assert_eq!(leaders_of(&parts), vec![next_id.as_str()]);
    for latch in &latches {
        latch.close().await.expect("close");
    }
    let client = fws[0].client();
    eventually("no latch node left", || async {
        children(&client, "/latch").await.is_empty()
    })
    .await;
    eventually("no leader after close", || async {
        timeline.leaders().is_empty()
    })
    .await;
    for f in &followers {
        f.abort();
    }
    env.finish(&fws).await;
}

/// Counts the leader futures running now; the drop counts a term that was
/// cut short too.
struct Running(Arc<AtomicUsize>);

impl Running {
    fn enter(running: &Arc<AtomicUsize>, most: &AtomicUsize) -> Running {
        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(now, Ordering::SeqCst);
        Running(running.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selector_requeues_and_never_runs_two_terms() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(3).await;
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let terms = Arc::new(Mutex::new(Vec::<usize>::new()));
    let stop = CancellationToken::new();
    let mut runs = Vec::new();
    for (i, fw) in fws.iter().enumerate() {
        let selector = LeaderSelector::new(fw, "/selector", &format!("s{i}")).auto_requeue(true);
        let (running, most, terms) = (running.clone(), most.clone(), terms.clone());
        let stop = stop.clone();
        runs.push(tokio::spawn(async move {
            selector
                .run(
                    move |_leadership| {
                        let (running, most, terms) = (running.clone(), most.clone(), terms.clone());
                        async move {
                            let _running = Running::enter(&running, &most);
                            terms.lock().expect("terms").push(i);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    },
                    stop,
                )
                .await
        }));
    }
    let probe = LeaderSelector::new(&fws[0], "/selector", "probe");
    eventually("every candidate leads twice", || async {
        let terms = terms.lock().expect("terms");
        (0..3).all(|i| terms.iter().filter(|t| **t == i).count() >= 2)
    })
    .await;
    // While they rotate, the participants are the three (and one leads).
    eventually("three participants", || async {
        let parts = probe.participants().await.expect("participants");
        parts.len() == 3 && leaders_of(&parts).len() == 1
    })
    .await;
    stop.cancel();
    for r in runs {
        within("selector stops", r)
            .await
            .expect("task")
            .expect("run");
    }
    assert_eq!(most.load(Ordering::SeqCst), 1, "two terms ran at once");
    assert_eq!(running.load(Ordering::SeqCst), 0);
    let client = fws[0].client();
    eventually("no selector node left", || async {
        children(&client, "/selector").await.is_empty()
    })
    .await;
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selector_term_ends_when_the_connection_is_lost() {
    let env = TestEnv::new().await;
    let (fw, proxy) = env.proxied_framework().await;
    let selector = LeaderSelector::new(&fw, "/sel-cut", "only");
    let lost = Arc::new(Mutex::new(None::<CancellationToken>));
    let slot = lost.clone();
    let run = tokio::spawn(async move {
        selector
            .run(
                move |leadership| {
                    *slot.lock().expect("slot") = Some(leadership.lost);
                    std::future::pending::<()>()
                },
                CancellationToken::new(),
            )
            .await
    });
    eventually("leading", || async { lost.lock().expect("slot").is_some() }).await;
    let token = lost.lock().expect("slot").clone().expect("token");
    assert!(!token.is_cancelled());
    proxy.cut();
    within("leadership taken away", token.cancelled()).await;
    proxy.restore();
    // Without auto-requeue the selector is done once its node is gone.
    within("selector returns", run)
        .await
        .expect("task")
        .expect("run");
    let client = fw.client();
    eventually("no selector node left", || async {
        children(&client, "/sel-cut").await.is_empty()
    })
    .await;
    env.finish(&[fw]).await;
}
