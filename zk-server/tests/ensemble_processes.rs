//! Ensembles of real `zk-server` processes on loopback: kill -9 of the
//! leader under load, a follower's return (DIFF) and a wiped follower's
//! return (SNAP). Each member logs to a file the test reads to tell which
//! sync the leader chose.

mod ensemble;

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ensemble::*;
use tokio::sync::Mutex;
use tokio::time::Instant;
use zk_client::{Client, CreateOptions, Error};

/// A member process, killed (-9) when dropped so no test leaves one behind.
struct Proc {
    child: Child,
    log: std::path::PathBuf,
}

impl Proc {
    fn start(m: &Member) -> Proc {
        let log = m.dir.with_extension(format!("log{}", fastrand::u32(..)));
        let out = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_zk-server"))
            .arg("start-foreground")
            .arg(&m.cfg_path)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .expect("zk-server starts");
        Proc { child, log }
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
        let _ = std::fs::remove_file(&self.log);
    }
}

async fn client(connect: &str) -> Client {
    Client::builder(connect)
        .expect("connect string")
        .session_timeout(Duration::from_secs(20))
        .connect()
        .await
        .expect("connects")
}

/// Creates `/w/n-<i>` as fast as it can; acknowledged paths go in `acked`.
async fn writer(
    c: Client,
    id: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<(Instant, String)>>>,
) {
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let path = format!("/w/n-{id}-{i}");
        i += 1;
        match c.create(&path, b"v", &CreateOptions::persistent()).await {
            Ok(_) => acked.lock().await.push((Instant::now(), path)),
            // Outcome unknown, or no server right now: go on.
            Err(Error::ConnectionLoss | Error::SessionMoved | Error::OperationTimeout) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(Error::NodeExists) => {}
            Err(e) => panic!("write {path} failed: {e:?}"),
        }
    }
}

/// Every path in `paths` is on member `m`, after a sync.
async fn assert_has_all(m: &Member, paths: &BTreeSet<String>) {
    let c = client(&m.addr()).await;
    c.sync("/w").await.expect("sync");
    let children: BTreeSet<String> = c
        .get_children("/w")
        .await
        .expect("children")
        .0
        .into_iter()
        .map(|n| format!("/w/{n}"))
        .collect();
    let missing: Vec<&String> = paths.difference(&children).collect();
    assert!(
        missing.is_empty(),
        "member {} lost acknowledged writes: {missing:?}",
        m.sid
    );
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_leader_under_load_loses_no_acknowledged_write() {
    let members = layout("kill-leader", 3, 0, "");
    let mut procs: Vec<Proc> = members.iter().map(Proc::start).collect();
    let leader = wait_for_roles(&members, &[1, 2, 3]).await;
    let setup = client(&connect_string(&members)).await;
    setup
        .create("/w", b"", &CreateOptions::persistent())
        .await
        .expect("parent");
    setup.close().await;

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for id in 0..4 {
        let c = client(&connect_string(&members)).await;
        writers.push(tokio::spawn(writer(c, id, stop.clone(), acked.clone())));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let killed_at = Instant::now();
    procs[leader as usize - 1].kill9();
    let rest: Vec<u64> = (1..=3).filter(|s| *s != leader).collect();
    let new_leader = wait_for_roles(&members, &rest).await;
    assert_ne!(new_leader, leader);
    // Writes go on after the failover.
    let deadline = Instant::now() + DEADLINE;
    let first_after = loop {
        let after = acked
            .lock()
            .await
            .iter()
            .find(|(at, _)| *at > killed_at)
            .map(|(at, _)| *at);
        if let Some(at) = after {
            break at;
        }
        assert!(
            Instant::now() < deadline,
            "no write succeeded after the leader died"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!(
        "kill -9 of the leader to the next acknowledged write: {:?}",
        first_after - killed_at
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.expect("writer");
    }
    // The old leader comes back, catches up, and all have every ack.
    procs[leader as usize - 1] = Proc::start(&members[leader as usize - 1]);
    wait_for_roles(&members, &[1, 2, 3]).await;
    let paths: BTreeSet<String> = acked.lock().await.iter().map(|(_, p)| p.clone()).collect();
    assert!(paths.len() > 10, "the load made progress: {}", paths.len());
    for m in &members {
        assert_has_all(m, &paths).await;
    }
    drop(procs);
    remove(members[0].dir.parent().expect("root"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_catches_up_by_diff_and_a_wiped_one_by_snap() {
    // A short in-memory history: a follower far behind needs a SNAP.
    let members = layout("catch-up", 3, 0, "commitLogCount=10\n");
    let mut procs: Vec<Proc> = members.iter().map(Proc::start).collect();
    let leader = wait_for_roles(&members, &[1, 2, 3]).await;
    let follower = (1..=3).find(|s| *s != leader).expect("a follower");
    let f = &members[follower as usize - 1];
    let c = client(&members[leader as usize - 1].addr()).await;
    c.create("/w", b"", &CreateOptions::persistent())
        .await
        .expect("parent");

    // Down while writes happen; back, it gets only what it missed.
    procs[follower as usize - 1].kill9();
    let mut paths = BTreeSet::new();
    for i in 0..5 {
        let path = format!("/w/while-down-{i}");
        c.create(&path, b"", &CreateOptions::persistent())
            .await
            .expect("write with a quorum of two");
        paths.insert(path);
    }
    procs[follower as usize - 1] = Proc::start(f);
    wait_for_roles(&members, &[1, 2, 3]).await;
    assert_has_all(f, &paths).await;
    let leader_log = procs[leader as usize - 1].log();
    assert!(
        leader_log.contains(&format!("sid={follower}")) && leader_log.contains("kind=\"DIFF\""),
        "the leader synced the follower by DIFF:\n{leader_log}"
    );

    // Its data wiped (myid kept), it gets the whole tree.
    procs[follower as usize - 1].kill9();
    for i in 0..20 {
        let path = format!("/w/before-wipe-{i}");
        c.create(&path, b"", &CreateOptions::persistent())
            .await
            .expect("write");
        paths.insert(path);
    }
    std::fs::remove_dir_all(f.dir.join("version-2")).expect("wipe");
    for name in ["acceptedEpoch", "currentEpoch"] {
        let _ = std::fs::remove_file(f.dir.join(name));
    }
    procs[follower as usize - 1] = Proc::start(f);
    wait_for_roles(&members, &[1, 2, 3]).await;
    assert_has_all(f, &paths).await;
    let leader_log = procs[leader as usize - 1].log();
    assert!(
        leader_log.contains("sending SNAP"),
        "the leader synced the wiped follower by SNAP:\n{leader_log}"
    );
    c.close().await;
    drop(procs);
    remove(members[0].dir.parent().expect("root"));
}
