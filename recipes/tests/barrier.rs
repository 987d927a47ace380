//! Barriers across sessions: a barrier holds waiters until removed (also
//! across a session expiry); a double barrier lets members in only when
//! all N are there and out only when all have left; timeouts.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{TestEnv, children, eventually, kill_session, wait_generation, within};
use zk_recipes::{DistributedBarrier, DistributedDoubleBarrier};

/// How long a wait that must time out waits.
const SHORT: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn barrier_holds_waiters_until_removed() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(3).await;
    let owner = DistributedBarrier::new(&fws[0], "/b/simple/gate");
    // Not set: waiting passes at once.
    within("unset wait", owner.wait()).await.expect("wait");
    owner.set().await.expect("set");
    owner.set().await.expect("set twice");
    assert!(owner.is_set().await.expect("is_set"));
    let passed = Arc::new(AtomicUsize::new(0));
    let mut waiters = Vec::new();
    for fw in &fws[1..] {
        let barrier = DistributedBarrier::new(fw, "/b/simple/gate");
        // Each framework may be on another member of an ensemble.
        fw.client().sync("/").await.expect("sync");
        assert!(!barrier.try_wait(SHORT).await.expect("try_wait"));
        let passed = passed.clone();
        waiters.push(tokio::spawn(async move {
            barrier.wait().await.expect("wait");
            passed.fetch_add(1, Ordering::SeqCst);
        }));
    }
    assert_eq!(passed.load(Ordering::SeqCst), 0);
    owner.remove().await.expect("remove");
    owner.remove().await.expect("remove twice");
    for w in waiters {
        within("waiters", w).await.expect("waiter");
    }
    assert_eq!(passed.load(Ordering::SeqCst), 2);
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_barrier_wait_outlives_its_session() {
    let env = TestEnv::new().await;
    let owner_fw = env.framework().await;
    let (waiter_fw, proxy) = env.proxied_framework().await;
    let owner = DistributedBarrier::new(&owner_fw, "/b/expiry");
    owner.set().await.expect("set");
    let waiter = DistributedBarrier::new(&waiter_fw, "/b/expiry");
    waiter_fw.client().sync("/").await.expect("sync");
    assert!(!waiter.try_wait(SHORT).await.expect("try_wait"));
    let old = waiter_fw.client();
    let waiting = tokio::spawn(async move { waiter.wait().await });
    kill_session(&env, &proxy, &old).await;
    proxy.restore();
    wait_generation(&waiter_fw, 2).await;
    owner.remove().await.expect("remove");
    within("waiter", waiting)
        .await
        .expect("join")
        .expect("wait");
    env.finish(&[owner_fw, waiter_fw]).await;
}

/// Member nodes under `dir` (not `ready`).
async fn member_nodes(fw: &zk_recipes::Framework, dir: &str) -> Vec<String> {
    let mut kids = children(&fw.client(), dir).await;
    kids.retain(|k| k != "ready");
    kids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_barrier_enters_only_with_all_members() {
    let env = TestEnv::new().await;
    let n = 4;
    let fws = env.frameworks(n).await;
    let dir = "/b/double";
    let entered = Arc::new(AtomicUsize::new(0));
    let spawn_member = |fw: zk_recipes::Framework, entered: Arc<AtomicUsize>| {
        tokio::spawn(async move {
            let barrier = DistributedDoubleBarrier::new(&fw, dir, n);
            barrier.enter().await.expect("enter");
            // Nobody leaves before everyone is in, so all N are here.
            assert_eq!(member_nodes(&fw, dir).await.len(), n, "entered early");
            entered.fetch_add(1, Ordering::SeqCst);
            barrier
        })
    };
    let mut members = Vec::new();
    for fw in &fws[..n - 1] {
        members.push(spawn_member(fw.clone(), entered.clone()));
    }
    let observer = fws[0].clone();
    eventually("N-1 members waiting", || {
        let observer = observer.clone();
        async move { member_nodes(&observer, dir).await.len() == n - 1 }
    })
    .await;
    assert_eq!(
        entered.load(Ordering::SeqCst),
        0,
        "entered with N-1 members"
    );
    members.push(spawn_member(fws[n - 1].clone(), entered.clone()));
    let mut barriers = Vec::new();
    for m in members {
        barriers.push(within("enter", m).await.expect("member"));
    }
    assert_eq!(entered.load(Ordering::SeqCst), n);

    let left = Arc::new(AtomicUsize::new(0));
    let mut leaving = Vec::new();
    for (barrier, fw) in barriers.into_iter().zip(fws.iter().cloned()) {
        let left = left.clone();
        leaving.push(tokio::spawn(async move {
            barrier.leave().await.expect("leave");
            assert!(member_nodes(&fw, dir).await.is_empty(), "left early");
            left.fetch_add(1, Ordering::SeqCst);
        }));
    }
    for l in leaving {
        within("leave", l).await.expect("member");
    }
    assert_eq!(left.load(Ordering::SeqCst), n);
    // Everyone out: the ready node went too.
    assert!(children(&fws[0].client(), dir).await.is_empty());
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_barrier_leave_waits_for_every_member() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(3).await;
    let dir = "/b/double-leave";
    let mut entering = Vec::new();
    for fw in &fws {
        let fw = fw.clone();
        entering.push(tokio::spawn(async move {
            let barrier = DistributedDoubleBarrier::new(&fw, dir, 3);
            barrier.enter().await.expect("enter");
            barrier
        }));
    }
    let mut barriers = Vec::new();
    for e in entering {
        barriers.push(within("enter", e).await.expect("member"));
    }
    // Two leave; they must wait for the third, whichever the lowest is.
    let last = barriers.pop().expect("a member");
    for b in &barriers {
        assert!(!b.try_leave(SHORT).await.expect("try_leave"));
    }
    let mut leaving = Vec::new();
    for b in barriers {
        leaving.push(tokio::spawn(async move { b.leave().await }));
    }
    within("last leave", last.leave()).await.expect("leave");
    for l in leaving {
        within("leave", l).await.expect("join").expect("leave");
    }
    assert!(member_nodes(&fws[0], dir).await.is_empty());
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_barrier_enter_times_out_and_takes_its_node_back() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let dir = "/b/double-timeout";
    let mut tries = Vec::new();
    for fw in &fws {
        let barrier = DistributedDoubleBarrier::new(fw, dir, 3);
        tries.push(tokio::spawn(async move { barrier.try_enter(SHORT).await }));
    }
    for t in tries {
        assert!(
            !within("try_enter", t)
                .await
                .expect("join")
                .expect("try_enter")
        );
    }
    assert!(member_nodes(&fws[0], dir).await.is_empty());
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_barrier_member_rejoins_after_expiry() {
    let env = TestEnv::new().await;
    let others = env.frameworks(1).await;
    let (fw, proxy) = env.proxied_framework().await;
    let dir = "/b/double-expiry";
    let old = fw.client();
    let member = DistributedDoubleBarrier::new(&fw, dir, 2);
    let waiting = tokio::spawn(async move {
        member.enter().await.expect("enter");
        member
    });
    let observer = others[0].clone();
    eventually("the member waiting", || {
        let observer = observer.clone();
        async move { member_nodes(&observer, dir).await.len() == 1 }
    })
    .await;
    // Its node goes with the session; with the next session it is made
    // again, so the second member completes the count.
    kill_session(&env, &proxy, &old).await;
    eventually("the node gone", || {
        let observer = observer.clone();
        async move { member_nodes(&observer, dir).await.is_empty() }
    })
    .await;
    proxy.restore();
    wait_generation(&fw, 2).await;
    let second = DistributedDoubleBarrier::new(&others[0], dir, 2);
    within("second enter", second.enter()).await.expect("enter");
    let member = within("first enter", waiting).await.expect("member");
    let leaving = tokio::spawn(async move { member.leave().await });
    within("second leave", second.leave()).await.expect("leave");
    within("first leave", leaving)
        .await
        .expect("join")
        .expect("leave");
    let mut all = others;
    all.push(fw);
    env.finish(&all).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_hold_while_disconnected() {
    let env = TestEnv::new().await;
    let owner_fw = env.framework().await;
    let (fw, proxy) = env.proxied_framework().await;
    DistributedBarrier::new(&owner_fw, "/b/cut/gate")
        .set()
        .await
        .expect("set");
    let barrier = DistributedBarrier::new(&fw, "/b/cut/gate");
    let double = DistributedDoubleBarrier::new(&fw, "/b/cut/double", 2);
    proxy.cut();
    assert!(
        !within("try_wait while cut", barrier.try_wait(SHORT))
            .await
            .expect("try_wait")
    );
    assert!(
        !within("try_enter while cut", double.try_enter(SHORT))
            .await
            .expect("try_enter")
    );
    proxy.restore();
    // Back: nothing of the timed-out enter is left once the client is.
    eventually("no member node", || async {
        member_nodes(&owner_fw, "/b/cut/double").await.is_empty()
    })
    .await;
    DistributedBarrier::new(&owner_fw, "/b/cut/gate")
        .remove()
        .await
        .expect("remove");
    within("wait", barrier.wait()).await.expect("wait");
    env.finish(&[owner_fw, fw]).await;
}
