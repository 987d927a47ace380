//! Locks across sessions: mutual exclusion (an exact counter), semaphore
//! limits, read-write rules and downgrade, re-entrancy, multi-locks,
//! cancellation that leaves no node, and Curator's node names.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{TestEnv, children, eventually, within};
use zk_client::{Client, CreateOptions};
use zk_recipes::{
    Framework, InterProcessMultiLock, InterProcessMutex, InterProcessReadWriteLock,
    InterProcessSemaphore, InterProcessSemaphoreMutex,
};

/// How long a `try_*` that must fail waits.
const SHORT: Duration = Duration::from_millis(300);

fn name_of(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_owned()
}

async fn read_counter(client: &Client, path: &str) -> u64 {
    let (data, _) = client.get_data(path).await.expect("get counter");
    std::str::from_utf8(&data)
        .expect("utf-8")
        .parse()
        .expect("a number")
}

/// Which lock guards the counter.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Mutex,
    SemaphoreMutex,
}

/// `sessions` frameworks, `tasks` tasks on each (every task with its own
/// lock handle), each incrementing a plain counter node `per_task` times
/// with a get + set under the lock. Returns the counter's final value.
async fn count_under_lock(env: &TestEnv, kind: Kind, sessions: usize, tasks: usize, per_task: u64) {
    let fws = env.frameworks(sessions).await;
    let setup = fws[0].client();
    setup
        .create("/counter", b"0", &CreateOptions::persistent())
        .await
        .expect("create counter");
    let inside = Arc::new(AtomicUsize::new(0));
    let mut joins = Vec::new();
    for fw in &fws {
        for _ in 0..tasks {
            let fw = fw.clone();
            let inside = inside.clone();
            joins.push(tokio::spawn(async move {
                let client = fw.client();
                let mutex = InterProcessMutex::new(&fw, "/locks/counter");
                let sem = InterProcessSemaphoreMutex::new(&fw, "/locks/counter");
                for _ in 0..per_task {
                    let (guard, lease) = match kind {
                        Kind::Mutex => (Some(mutex.acquire().await.expect("acquire")), None),
                        Kind::SemaphoreMutex => (None, Some(sem.acquire().await.expect("acquire"))),
                    };
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                    let n = read_counter(&client, "/counter").await;
                    client
                        .set_data("/counter", (n + 1).to_string().as_bytes(), None)
                        .await
                        .expect("set counter");
                    inside.fetch_sub(1, Ordering::SeqCst);
                    if let Some(g) = guard {
                        g.release().await.expect("release");
                    }
                    if let Some(l) = lease {
                        l.release().await.expect("release");
                    }
                }
            }));
        }
    }
    for j in joins {
        within("counting tasks", j).await.expect("task");
    }
    let expected = (sessions * tasks) as u64 * per_task;
    assert_eq!(read_counter(&setup, "/counter").await, expected);
    eventually("no lock node left", || async {
        children(&setup, "/locks/counter").await.is_empty()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutex_counter_is_exact() {
    let env = TestEnv::new().await;
    // 5 sessions x 2 handles x 100 = 1,000 increments.
    count_under_lock(&env, Kind::Mutex, 5, 2, 100).await;
    env.finish(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semaphore_mutex_counter_is_exact() {
    let env = TestEnv::new().await;
    count_under_lock(&env, Kind::SemaphoreMutex, 4, 2, 40).await;
    env.finish(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semaphore_never_exceeds_max() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(4).await;
    let dir = "/limits/db";

    // Three leases at once, from three sessions; the fourth waits.
    let sems: Vec<_> = fws
        .iter()
        .map(|fw| InterProcessSemaphore::new(fw, dir, 3))
        .collect();
    let mut leases = Vec::new();
    for sem in &sems[..3] {
        leases.push(within("lease", sem.acquire()).await.expect("lease"));
    }
    assert!(sems[3].try_acquire(SHORT).await.expect("try").is_none());
    let client = fws[0].client();
    eventually("timed-out waiter's node gone", || async {
        children(&client, dir).await.len() == 3
    })
    .await;
    // A waiter gets the lease of whichever holder leaves first (here the
    // middle one; the first keeps holding).
    let sem = sems[3].clone();
    let fourth = tokio::spawn(async move { sem.acquire().await.expect("lease") });
    eventually("fourth queued", || async {
        children(&client, dir).await.len() == 4
    })
    .await;
    leases.remove(1).release().await.expect("release");
    let fourth = within("fourth lease", fourth).await.expect("task");
    fourth.release().await.expect("release");
    for l in leases {
        l.release().await.expect("release");
    }

    // Eight contenders cycling: never more than three holders.
    let holders = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut joins = Vec::new();
    for i in 0..8 {
        let sem = InterProcessSemaphore::new(&fws[i % fws.len()], dir, 3);
        let (holders, most) = (holders.clone(), most.clone());
        joins.push(tokio::spawn(async move {
            for _ in 0..5 {
                let lease = sem.acquire().await.expect("lease");
                let now = holders.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                holders.fetch_sub(1, Ordering::SeqCst);
                lease.release().await.expect("release");
            }
        }));
    }
    for j in joins {
        within("semaphore tasks", j).await.expect("task");
    }
    let most = most.load(Ordering::SeqCst);
    assert!((1..=3).contains(&most), "{most} holders at once");
    eventually("no lease left", || async {
        children(&client, dir).await.is_empty()
    })
    .await;
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_write_lock_rules_and_downgrade() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(3).await;
    let dir = "/locks/rw";
    let rw: Vec<_> = fws
        .iter()
        .map(|fw| InterProcessReadWriteLock::new(fw, dir))
        .collect();
    let client = fws[0].client();

    // Readers share.
    let r0 = within("read 0", rw[0].read()).await.expect("read");
    let r1 = within("read 1", rw[1].read()).await.expect("read");
    // A writer waits for them.
    assert!(rw[2].try_write(SHORT).await.expect("try").is_none());
    eventually("timed-out writer's node gone", || async {
        children(&client, dir).await.len() == 2
    })
    .await;

    // A queued writer holds back later readers (arrival order).
    let writer = rw[2].clone();
    let w = tokio::spawn(async move { writer.write().await.expect("write") });
    eventually("writer queued", || async {
        children(&client, dir)
            .await
            .iter()
            .any(|c| c.contains("__WRIT__"))
    })
    .await;
    let late = InterProcessReadWriteLock::new(&fws[0], dir);
    assert!(late.try_read(SHORT).await.expect("try").is_none());
    r0.release().await.expect("release");
    r1.release().await.expect("release");
    let w = within("writer gets it", w).await.expect("task");

    // The writer excludes everyone.
    assert!(rw[0].try_read(SHORT).await.expect("try").is_none());
    assert!(rw[1].try_write(SHORT).await.expect("try").is_none());
    w.release().await.expect("release");

    // Downgrade: write, read on the same handle (no wait), drop the write.
    let w = within("write", rw[0].write()).await.expect("write");
    let r = within("downgrade read", rw[0].read()).await.expect("read");
    assert!(rw[1].try_read(SHORT).await.expect("try").is_none());
    w.release().await.expect("release");
    // Now only a read is held: others read, nobody writes.
    let other = within("read beside", rw[1].read()).await.expect("read");
    assert!(rw[2].try_write(SHORT).await.expect("try").is_none());
    other.release().await.expect("release");
    r.release().await.expect("release");
    let w = within("write after", rw[2].write()).await.expect("write");
    w.release().await.expect("release");

    eventually("no rw node left", || async {
        children(&client, dir).await.is_empty()
    })
    .await;
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutex_is_reentrant_per_handle() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let dir = "/locks/re";
    let lock = InterProcessMutex::new(&fws[0], dir);
    let other = InterProcessMutex::new(&fws[1], dir);
    let client = fws[1].client();

    let g1 = within("acquire", lock.acquire()).await.expect("acquire");
    let node = lock.node().expect("node while held");
    let g2 = within("re-enter", lock.acquire()).await.expect("re-enter");
    assert_eq!(lock.node().as_deref(), Some(node.as_str()), "same node");
    assert_eq!(children(&client, dir).await, vec![name_of(&node)]);

    g1.release().await.expect("release 1");
    assert!(lock.is_held(), "one hold left");
    assert!(other.try_acquire(SHORT).await.expect("try").is_none());
    client.sync("/").await.expect("sync");
    assert!(client.exists(&node).await.expect("exists").is_some());

    g2.release().await.expect("release 2");
    assert!(!lock.is_held());
    client.sync("/").await.expect("sync");
    assert!(client.exists(&node).await.expect("exists").is_none());
    let g = within("other acquires", other.acquire())
        .await
        .expect("acquire");
    g.release().await.expect("release");

    // The semaphore mutex is not re-entrant.
    let sm = InterProcessSemaphoreMutex::new(&fws[0], "/locks/sm");
    let lease = within("sm", sm.acquire()).await.expect("acquire");
    assert!(sm.try_acquire(SHORT).await.expect("try").is_none());
    lease.release().await.expect("release");
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_lock_is_all_or_nothing() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let client = fws[1].client();
    let multi = InterProcessMultiLock::new(vec![
        InterProcessMutex::new(&fws[0], "/locks/a"),
        InterProcessMutex::new(&fws[0], "/locks/b"),
    ]);
    let b_other = InterProcessMutex::new(&fws[1], "/locks/b");
    let held_b = within("other holds b", b_other.acquire())
        .await
        .expect("acquire");
    let b_node = name_of(&b_other.node().expect("node"));

    // The multi-lock takes a, then waits for b; giving up releases a too.
    let attempt = tokio::time::timeout(Duration::from_millis(500), multi.acquire()).await;
    assert!(attempt.is_err(), "b is held elsewhere");
    eventually("a released and b's waiter gone", || async {
        children(&client, "/locks/a").await.is_empty()
            && children(&client, "/locks/b").await == vec![b_node.clone()]
    })
    .await;

    held_b.release().await.expect("release b");
    let both = within("multi", multi.acquire()).await.expect("multi");
    let a_other = InterProcessMutex::new(&fws[1], "/locks/a");
    assert!(a_other.try_acquire(SHORT).await.expect("try").is_none());
    assert!(b_other.try_acquire(SHORT).await.expect("try").is_none());
    both.release().await.expect("release");
    let a = within("a free", a_other.acquire()).await.expect("a");
    let b = within("b free", b_other.acquire()).await.expect("b");
    a.release().await.expect("release");
    b.release().await.expect("release");
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_acquire_leaves_no_node() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let dir = "/locks/cancel";
    let client = fws[1].client();
    let holder = InterProcessMutex::new(&fws[0], dir);
    let held = within("holder", holder.acquire()).await.expect("acquire");
    let holder_node = name_of(&holder.node().expect("node"));
    let only_holder = || {
        let client = client.clone();
        let want = vec![holder_node.clone()];
        async move { children(&client, dir).await == want }
    };

    // A waiter whose node is queued, then dropped.
    let waiter = InterProcessMutex::new(&fws[1], dir);
    {
        let acquire = waiter.acquire();
        tokio::pin!(acquire);
        tokio::select! {
            _ = &mut acquire => panic!("acquired a held lock"),
            () = eventually("waiter queued", || async { children(&client, dir).await.len() == 2 }) => {}
        }
    }
    eventually("cancelled waiter's node gone", only_holder).await;

    // Dropped at every stage, also while its create is in flight.
    for delay_ms in [0, 1, 2, 5, 10, 30] {
        let r = tokio::time::timeout(Duration::from_millis(delay_ms), waiter.acquire()).await;
        assert!(r.is_err(), "acquired a held lock");
    }
    eventually("no node of a cancelled acquire", only_holder).await;

    // A timed try_acquire gives up with None and leaves nothing.
    assert!(waiter.try_acquire(SHORT).await.expect("try").is_none());
    assert!(!waiter.is_held());
    eventually("timed-out waiter's node gone", only_holder).await;

    // The same for a semaphore.
    let sem_dir = "/locks/sem-cancel";
    let sem_holder = InterProcessSemaphoreMutex::new(&fws[0], sem_dir);
    let lease = within("lease", sem_holder.acquire()).await.expect("lease");
    let lease_node = name_of(lease.node());
    let sem = InterProcessSemaphoreMutex::new(&fws[1], sem_dir);
    assert!(sem.try_acquire(SHORT).await.expect("try").is_none());
    let r = tokio::time::timeout(Duration::from_millis(100), sem.acquire()).await;
    assert!(r.is_err());
    eventually("only the lease holder", || async {
        children(&client, sem_dir).await == vec![lease_node.clone()]
    })
    .await;
    lease.release().await.expect("release");

    // The waiter still works afterwards.
    held.release().await.expect("release");
    let g = within("waiter acquires", waiter.acquire())
        .await
        .expect("acquire");
    g.release().await.expect("release");
    env.finish(&fws).await;
}

/// `_c_<uuid>-lock-<10 digits>`, as Curator's InterProcessMutex names them.
fn is_curator_lock_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("_c_") else {
        return false;
    };
    let Some((id, seq)) = rest.get(..36).zip(rest.get(36..)) else {
        return false;
    };
    let Some(digits) = seq.strip_prefix("-lock-") else {
        return false;
    };
    uuid::Uuid::parse_str(id).is_ok()
        && id.len() == 36
        && digits.len() == 10
        && digits.bytes().all(|b| b.is_ascii_digit())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_nodes_use_curator_names() {
    let env = TestEnv::new().await;
    let fw: Framework = env.framework().await;
    let dir = "/locks/names";
    let lock = InterProcessMutex::new(&fw, dir);
    let waiter = InterProcessMutex::new(&fw, dir);
    let g = within("acquire", lock.acquire()).await.expect("acquire");
    let node = lock.node().expect("node");
    assert!(node.starts_with("/locks/names/"), "{node}");
    assert!(is_curator_lock_name(&name_of(&node)), "{node}");
    // A waiter's node too, and both sort by sequence.
    let w = tokio::spawn(async move {
        let g = waiter.acquire().await.expect("acquire");
        g.release().await.expect("release");
    });
    let client = fw.client();
    eventually("two contenders", || async {
        children(&client, dir).await.len() == 2
    })
    .await;
    for name in children(&client, dir).await {
        assert!(is_curator_lock_name(&name), "{name}");
    }
    assert!(!is_curator_lock_name("_c_x-lock-0000000001"));
    g.release().await.expect("release");
    within("waiter", w).await.expect("task");

    // The read-write lock uses Curator's __READ__ / __WRIT__ names.
    let rw = InterProcessReadWriteLock::new(&fw, "/locks/rwnames");
    let w = within("write", rw.write()).await.expect("write");
    let r = within("read", rw.read()).await.expect("read");
    let names = children(&client, "/locks/rwnames").await;
    assert_eq!(names.len(), 2);
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("_c_") && n.contains("-__WRIT__"))
    );
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("_c_") && n.contains("-__READ__"))
    );
    w.release().await.expect("release");
    r.release().await.expect("release");
    env.finish(&[fw]).await;
}
