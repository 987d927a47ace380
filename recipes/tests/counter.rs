//! Counters across sessions: DistributedAtomicLong increments add up
//! exactly (also while connections drop), its compare-and-set rules;
//! SharedCount compare-and-set conflicts, and its value followed across
//! a session expiry.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{TestEnv, cut_repeatedly, kill_session, wait_generation, within};
use zk_recipes::{DistributedAtomicLong, Framework, SharedCount};

/// `tasks` tasks on each framework, each incrementing `per_task` times, or
/// until `stop` (again after a run of conflicts used up its tries).
/// Returns every successful increment's post value.
async fn increments(
    fws: &[Framework],
    path: &str,
    tasks: usize,
    per_task: usize,
    stop: Arc<AtomicBool>,
) -> Vec<i64> {
    let mut joins = Vec::new();
    for fw in fws {
        for _ in 0..tasks {
            let counter = DistributedAtomicLong::new(fw, path);
            let stop = stop.clone();
            joins.push(tokio::spawn(async move {
                let mut posts = Vec::new();
                while posts.len() < per_task && !stop.load(Ordering::SeqCst) {
                    let v = counter.increment().await.expect("increment");
                    if v.succeeded {
                        assert_eq!(v.post_value, v.pre_value + 1);
                        posts.push(v.post_value);
                    }
                }
                posts
            }));
        }
    }
    let mut all = Vec::new();
    for j in joins {
        all.extend(within("incrementers", j).await.expect("task"));
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atomic_long_increments_add_up_exactly() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(4).await;
    let (tasks, per_task) = (2, 25);
    let never = Arc::new(AtomicBool::new(false));
    let posts = increments(&fws, "/c/hits", tasks, per_task, never).await;
    let total = (fws.len() * tasks * per_task) as i64;
    // Each increment moved the value by one from a value nobody else moved
    // it from: the post values are exactly 1..=total.
    let distinct: BTreeSet<i64> = posts.iter().copied().collect();
    assert_eq!(distinct, (1..=total).collect::<BTreeSet<_>>());
    // Others wrote through other members, maybe: sync before reading.
    fws[0].client().sync("/").await.expect("sync");
    let counter = DistributedAtomicLong::new(&fws[0], "/c/hits");
    assert_eq!(counter.get().await.expect("get"), total);
    // The node holds 8 big-endian bytes, and no marker is left.
    let (data, stat) = fws[0].client().get_data("/c/hits").await.expect("data");
    assert_eq!(data, total.to_be_bytes());
    assert_eq!(stat.num_children, 0);
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atomic_long_increments_add_up_while_connections_drop() {
    let env = TestEnv::new().await;
    let mut fws = env.frameworks(1).await;
    let mut proxies = Vec::new();
    for _ in 0..2 {
        let (fw, proxy) = env.proxied_framework().await;
        fws.push(fw);
        proxies.push(Arc::new(proxy));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let cutter = cut_repeatedly(&proxies, 30, stop.clone());
    let posts = increments(&fws, "/c/cuts", 2, usize::MAX, stop).await;
    within("cutter", cutter).await.expect("cutter");
    let total = posts.len() as i64;
    let distinct: BTreeSet<i64> = posts.iter().copied().collect();
    assert_eq!(distinct, (1..=total).collect::<BTreeSet<_>>());
    // Others wrote through other members, maybe: sync before reading.
    fws[0].client().sync("/").await.expect("sync");
    let counter = DistributedAtomicLong::new(&fws[0], "/c/cuts");
    assert_eq!(counter.get().await.expect("get"), total);
    for fw in &fws {
        assert_eq!(fw.current().generation, 1, "a session expired");
    }
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atomic_long_compare_and_set_rules() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let a = DistributedAtomicLong::new(&fws[0], "/c/cas");
    let b = DistributedAtomicLong::new(&fws[1], "/c/cas");
    // A missing node reads as 0.
    assert_eq!(a.get().await.expect("get"), 0);
    assert!(a.initialize(10).await.expect("initialize"));
    assert!(!b.initialize(99).await.expect("initialize"));
    assert_eq!(b.get().await.expect("get"), 10);

    let miss = b.compare_and_set(9, 20).await.expect("cas");
    assert!(!miss.succeeded);
    assert_eq!(miss.pre_value, 10);
    let hit = b.compare_and_set(10, 20).await.expect("cas");
    assert!(hit.succeeded);
    assert_eq!((hit.pre_value, hit.post_value), (10, 20));
    assert!(!a.compare_and_set(10, 30).await.expect("cas").succeeded);

    let v = a.add(-25).await.expect("add");
    assert!(v.succeeded);
    assert_eq!(v.post_value, -5);
    assert_eq!(a.decrement().await.expect("decrement").post_value, -6);
    let set = a.try_set(i64::MAX).await.expect("try_set");
    assert!(set.succeeded);
    assert_eq!(a.increment().await.expect("wrap").post_value, i64::MIN);
    b.force_set(7).await.expect("force_set");
    // Others wrote through other members, maybe: sync before reading.
    fws[0].client().sync("/").await.expect("sync");
    assert_eq!(a.get().await.expect("get"), 7);

    // A counter made by force_set on a missing node.
    let c = DistributedAtomicLong::new(&fws[0], "/c/forced/deep").with_max_tries(1);
    c.force_set(3).await.expect("force_set");
    assert_eq!(c.get().await.expect("get"), 3);
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_count_compare_and_set_conflicts() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let a = SharedCount::new(&fws[0], "/c/shared", 5);
    let b = SharedCount::new(&fws[1], "/c/shared", 99);
    a.start().await.expect("start");
    b.start().await.expect("start");
    // The first start made the node with its seed; the second found it.
    assert_eq!(a.count(), 5);
    assert_eq!(b.count(), 5);
    let (data, _) = fws[0].client().get_data("/c/shared").await.expect("data");
    assert_eq!(data, 5i32.to_be_bytes());

    let seen_a = a.versioned_value();
    let seen_b = b.versioned_value();
    assert_eq!(seen_a, seen_b);
    assert!(a.try_set_count(&seen_a, 6).await.expect("try_set"));
    // b's view is stale: the set is refused, and b has read the value again.
    assert!(!b.try_set_count(&seen_b, 60).await.expect("try_set"));
    assert_eq!(b.count(), 6);
    let fresh = b.versioned_value();
    assert!(b.try_set_count(&fresh, 7).await.expect("try_set"));
    // a follows the value through its watch.
    let mut values = a.values();
    within("a sees 7", values.wait_for(|v| v.value == 7))
        .await
        .expect("values");
    assert!(!a.try_set_count(&seen_a, 8).await.expect("try_set"));

    a.set_count(-1).await.expect("set_count");
    let mut values = b.values();
    within("b sees -1", values.wait_for(|v| v.value == -1))
        .await
        .expect("values");
    a.close().await;
    b.close().await;
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_count_increments_by_compare_and_set_add_up() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(3).await;
    let per_session = 15;
    let mut joins = Vec::new();
    for fw in &fws {
        let count = SharedCount::new(fw, "/c/shared-race", 0);
        joins.push(tokio::spawn(async move {
            count.start().await.expect("start");
            let mut done = 0;
            let mut conflicts = 0;
            while done < per_session {
                let seen = count.versioned_value();
                if count
                    .try_set_count(&seen, seen.value + 1)
                    .await
                    .expect("try_set")
                {
                    done += 1;
                } else {
                    conflicts += 1;
                }
            }
            count.close().await;
            conflicts
        }));
    }
    for j in joins {
        within("incrementers", j).await.expect("task");
    }
    // Others wrote through other members, maybe: sync before reading.
    fws[0].client().sync("/").await.expect("sync");
    let check = SharedCount::new(&fws[0], "/c/shared-race", 0);
    assert_eq!(check.read().await.expect("read").value, 3 * per_session);
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_count_follows_across_session_expiry() {
    let env = TestEnv::new().await;
    let writer_fw = env.framework().await;
    let (fw, proxy) = env.proxied_framework().await;
    let count = SharedCount::new(&fw, "/c/shared-expiry", 1);
    count.start().await.expect("start");
    let writer = SharedCount::new(&writer_fw, "/c/shared-expiry", 0);
    writer.start().await.expect("start");
    assert_eq!(writer.count(), 1);
    let old = fw.client();
    kill_session(&env, &proxy, &old).await;
    writer.set_count(2).await.expect("set");
    proxy.restore();
    wait_generation(&fw, 2).await;
    let mut values = count.values();
    within("the value after expiry", values.wait_for(|v| v.value == 2))
        .await
        .expect("values");
    writer.set_count(3).await.expect("set");
    within("a later value", values.wait_for(|v| v.value == 3))
        .await
        .expect("values");
    // And it can write with the new session.
    let seen = count.versioned_value();
    assert!(count.try_set_count(&seen, 4).await.expect("try_set"));
    count.close().await;
    writer.close().await;
    env.finish(&[writer_fw, fw]).await;
}
