//! The image's 3-member ensemble (as the official image's compose example
//! runs it: `ZOO_MY_ID`, `ZOO_SERVERS`) under a client workload while a
//! nemesis injects faults with Docker: the leader or a follower cut off the
//! network (`docker network disconnect`), stalled (`docker pause`), killed
//! (SIGKILL) and started again. One fault at a time, each healed before the
//! next, for `ZK_FAULT_SECS` seconds (60 by default; 300 for the long run).
//!
//! The workload, from our client and recipes: writers doing creates,
//! conditional and unconditional setData and deletes, and reads, on a few
//! keys with unique data, every call recorded; lock contenders taking an
//! `InterProcessMutex` in turn. Afterwards, with every member serving:
//! - the writes are linearizable and the reads kept ZooKeeper's promises
//!   (`zk_testkit::linearize`); each key ends with a linearizable witness
//!   (a conditional write, or a delete that must find nothing, after a
//!   sync and a read) so an acknowledged write that got lost is caught;
//! - every member answers the same for every key;
//! - no two lock holds overlapped (a hold ends when its holder's session
//!   leaves Connected: from then on a holder must assume it lost the lock,
//!   as Curator tells its users).
//!
//! Skipped, with the reason, without a Docker engine or the image
//! `zk-rs:latest` (`deploy/build-image.sh`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use zk_client::{Client, CreateOptions, Error as ZkError, SessionState};
use zk_recipes::{Framework, InterProcessMutex};
use zk_testing::containers::{ContainerEnsemble, ZooKeeperImage};
use zk_testkit::linearize::{History, Op, Outcome, Pending, check_reads, check_writes};

const IMAGE: &str = "zk-rs:latest";
const KEYS: usize = 12;
const WRITERS: usize = 4;
const LOCKERS: usize = 3;
const ROOT: &str = "/faults";
const LOCK: &str = "/faults/lock";
/// The longest a call may take before its outcome counts as unknown.
const CALL: Duration = Duration::from_secs(20);
const SESSION: Duration = Duration::from_secs(10);

fn now_us() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_micros() as u64
}

fn key(k: usize) -> String {
    format!("{ROOT}/k{k}")
}

/// What the run saw: the history, lock holds, and what should not happen.
#[derive(Default)]
struct Record {
    history: History,
    /// (start, end) of each hold, in `now_us` time.
    holds: Vec<(u64, u64)>,
    /// Holds that ended early because the holder's session left Connected.
    holds_cut: usize,
    /// Unexpected answers (an error the workload cannot cause).
    surprises: Vec<String>,
}

type Shared = Arc<Mutex<Record>>;

fn lock(record: &Shared) -> std::sync::MutexGuard<'_, Record> {
    record.lock().unwrap_or_else(|e| e.into_inner())
}

async fn framework(servers: &str) -> Framework {
    let builder = Client::builder(servers)
        .expect("connect string")
        .session_timeout(SESSION);
    Framework::connect(builder).await.expect("connects")
}

fn random_op(rng: &mut fastrand::Rng, path: String, data: Vec<u8>) -> Op {
    let version = |rng: &mut fastrand::Rng| rng.bool().then(|| rng.i32(0..4));
    match rng.u8(0..10) {
        0..=3 => Op::GetData { path },
        4..=5 => Op::Create { path, data },
        6..=8 => Op::SetData {
            version: version(rng),
            path,
            data,
        },
        _ => Op::Delete {
            version: version(rng),
            path,
        },
    }
}

/// Sends `op`; its outcome, `None` when unknown, or `Err` when the answer
/// is one the workload cannot cause.
async fn call(client: &Client, op: &Op) -> Result<Option<Outcome>, String> {
    let answer = match op {
        Op::Create { path, data } => {
            let sent = client.create(path, data, &CreateOptions::persistent());
            tokio::time::timeout(CALL, sent)
                .await
                .map(|r| r.map(|_| Outcome::Ok))
        }
        Op::SetData {
            path,
            data,
            version,
        } => tokio::time::timeout(CALL, client.set_data(path, data, *version))
            .await
            .map(|r| {
                r.map(|stat| Outcome::Set {
                    version: stat.version,
                })
            }),
        Op::Delete { path, version } => tokio::time::timeout(CALL, client.delete(path, *version))
            .await
            .map(|r| r.map(|()| Outcome::Ok)),
        Op::GetData { path } => tokio::time::timeout(CALL, client.get_data(path))
            .await
            .map(|r| {
                r.map(|(data, stat)| Outcome::Data {
                    data,
                    version: stat.version,
                })
            }),
    };
    match answer {
        Err(_) => Ok(None),
        Ok(Ok(outcome)) => Ok(Some(outcome)),
        Ok(Err(ZkError::NoNode)) => Ok(Some(Outcome::NoNode)),
        Ok(Err(ZkError::NodeExists)) => Ok(Some(Outcome::NodeExists)),
        Ok(Err(ZkError::BadVersion)) => Ok(Some(Outcome::BadVersion)),
        // The request may or may not have been applied.
        Ok(Err(
            ZkError::ConnectionLoss
            | ZkError::SessionExpired
            | ZkError::SessionMoved
            | ZkError::OperationTimeout
            | ZkError::RequestTimeout
            | ZkError::Throttled
            | ZkError::NotReadOnly
            | ZkError::Closed,
        )) => Ok(None),
        Ok(Err(e)) => Err(format!("{op:?}: {e}")),
    }
}

/// A writer: random ops on the keys with unique data, each recorded
/// before it is sent and when it returns. A session is the framework's
/// generation (a new one after an expiry).
async fn writer(id: usize, fw: Framework, record: Shared, stop: CancellationToken) {
    let mut rng = fastrand::Rng::with_seed(id as u64 + 1);
    let mut n = 0u64;
    while !stop.is_cancelled() {
        n += 1;
        let current = fw.current();
        let session = (id as u64 + 1) * 1_000_000 + current.generation;
        let path = key(rng.usize(0..KEYS));
        let op = random_op(&mut rng, path, format!("w{id}-{n}").into_bytes());
        let pending = lock(&record).history.invoke(session, now_us(), op.clone());
        let outcome = call(&current.client, &op).await;
        finish(&record, pending, outcome);
        tokio::time::sleep(Duration::from_millis(rng.u64(5..25))).await;
    }
}

fn finish(record: &Shared, pending: Pending, outcome: Result<Option<Outcome>, String>) {
    let mut r = lock(record);
    match outcome {
        Ok(Some(o)) => r.history.complete(pending, now_us(), o),
        // Unknown: it may or may not have taken effect.
        Ok(None) => drop(pending),
        Err(surprise) => {
            drop(pending);
            r.surprises.push(surprise);
        }
    }
}

/// A lock contender: takes the lock, holds it a moment, lets it go. A hold
/// counts from the moment `acquire` returns with the session Connected (and
/// the same session as before the call) until the holder lets go or sees
/// its session leave Connected, whichever is first.
async fn locker(fw: Framework, record: Shared, stop: CancellationToken) {
    let mutex = InterProcessMutex::new(&fw, LOCK);
    let mut rng = fastrand::Rng::new();
    while !stop.is_cancelled() {
        let before = fw.current().generation;
        let acquired = tokio::select! {
            biased;
            () = stop.cancelled() => return,
            r = tokio::time::timeout(CALL, mutex.acquire()) => r,
        };
        let Ok(Ok(guard)) = acquired else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let current = fw.current();
        let mut state = current.client.state_watcher();
        let start = now_us();
        if current.generation == before && *state.borrow_and_update() == SessionState::Connected {
            let hold = Duration::from_millis(rng.u64(10..80));
            let cut = tokio::select! {
                () = tokio::time::sleep(hold) => false,
                _ = state.changed() => true,
            };
            let mut r = lock(&record);
            r.holds.push((start, now_us()));
            r.holds_cut += usize::from(cut);
        }
        let _ = tokio::time::timeout(CALL, guard.release()).await;
        tokio::time::sleep(Duration::from_millis(rng.u64(0..30))).await;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    PartitionLeader,
    PartitionFollower,
    PauseLeader,
    PauseFollower,
    KillLeader,
    KillFollower,
}

const FAULTS: [Fault; 6] = [
    Fault::PartitionLeader,
    Fault::PartitionFollower,
    Fault::PauseLeader,
    Fault::PauseFollower,
    Fault::KillLeader,
    Fault::KillFollower,
];

/// Waits until every member serves, one of them leading.
async fn all_serving(zk: &ContainerEnsemble) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut modes = Vec::new();
        for sid in zk.sids() {
            modes.push(zk.member(sid).mode().await);
        }
        let leaders = modes
            .iter()
            .filter(|m| m.as_deref() == Some("leader"))
            .count();
        if leaders == 1
            && modes
                .iter()
                .all(|m| matches!(m.as_deref(), Some("leader" | "follower")))
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the ensemble did not come back: {modes:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Injects one fault at a time, in rounds of every kind in random order,
/// until `until`; heals each before the next. Returns how many of each.
async fn nemesis(zk: &mut ContainerEnsemble, until: Instant) -> BTreeMap<Fault, usize> {
    let mut rng = fastrand::Rng::with_seed(7);
    let mut done: BTreeMap<Fault, usize> = BTreeMap::new();
    let mut round = Vec::new();
    while Instant::now() < until {
        if round.is_empty() {
            round = FAULTS.to_vec();
            rng.shuffle(&mut round);
        }
        let fault = round.pop().expect("refilled");
        let leader = zk.leader().await.expect("a leader before each fault");
        let followers: Vec<u64> = zk.sids().into_iter().filter(|s| *s != leader).collect();
        let follower = followers[rng.usize(0..followers.len())];
        let target = match fault {
            Fault::PartitionLeader | Fault::PauseLeader | Fault::KillLeader => leader,
            _ => follower,
        };
        let held = Duration::from_millis(rng.u64(2_000..6_000));
        eprintln!("nemesis: {fault:?} on member {target} for {held:?}");
        match fault {
            Fault::PartitionLeader | Fault::PartitionFollower => {
                zk.partition(target).expect("docker network disconnect");
                tokio::time::sleep(held).await;
                zk.heal(target).expect("docker network connect");
            }
            Fault::PauseLeader | Fault::PauseFollower => {
                zk.pause(target).await.expect("docker pause");
                tokio::time::sleep(held).await;
                zk.unpause(target).await.expect("docker unpause");
            }
            Fault::KillLeader | Fault::KillFollower => {
                zk.kill(target).await.expect("docker kill");
                tokio::time::sleep(held).await;
                zk.restart(target).await.expect("docker start");
            }
        }
        *done.entry(fault).or_default() += 1;
        all_serving(zk).await;
    }
    done
}

/// After the workload: per key, from a new session, a sync, a read, and a
/// witness that is linearizable (a write goes through the leader): a
/// setData conditional on the version read, or a delete that must find
/// nothing. All recorded, so the checker holds the final state to every
/// acknowledged write.
async fn witnesses(servers: &str, record: &Shared) {
    let client = Client::builder(servers)
        .expect("connect string")
        .session_timeout(SESSION)
        .connect()
        .await
        .expect("connects");
    let session = u64::MAX;
    for k in 0..KEYS {
        let path = key(k);
        client.sync(&path).await.expect("sync");
        let read = Op::GetData { path: path.clone() };
        let pending = lock(record).history.invoke(session, now_us(), read.clone());
        let seen = call(&client, &read).await.expect("an expected answer");
        let seen = seen.unwrap_or_else(|| panic!("the final read of {path} got no answer"));
        let witness = match &seen {
            Outcome::Data { version, .. } => Op::SetData {
                path: path.clone(),
                data: format!("final-{k}").into_bytes(),
                version: Some(*version),
            },
            _ => Op::Delete {
                path: path.clone(),
                version: None,
            },
        };
        lock(record)
            .history
            .complete(pending, now_us(), seen.clone());
        let pending = lock(record)
            .history
            .invoke(session, now_us(), witness.clone());
        let outcome = call(&client, &witness).await.expect("an expected answer");
        let outcome = outcome.unwrap_or_else(|| panic!("the witness on {path} got no answer"));
        let expected = match (&seen, &outcome) {
            (Outcome::Data { version, .. }, Outcome::Set { version: after }) => {
                after == &(version + 1)
            }
            (Outcome::NoNode, Outcome::NoNode) => true,
            _ => false,
        };
        assert!(
            expected,
            "{path}: read {seen:?}, then the witness {witness:?} gave {outcome:?}"
        );
        lock(record).history.complete(pending, now_us(), outcome);
    }
    client.close().await;
}

/// Every member's answer for every key, after a sync, must be the same.
async fn members_agree(zk: &ContainerEnsemble) {
    let mut answers = BTreeMap::new();
    for sid in zk.sids() {
        let client = Client::connect(&zk.member(sid).connect_string())
            .await
            .expect("connects to a member");
        client.sync(ROOT).await.expect("sync");
        let mut values = Vec::new();
        for k in 0..KEYS {
            values.push(match client.get_data(&key(k)).await {
                Ok((data, stat)) => Some((data, stat.version)),
                Err(ZkError::NoNode) => None,
                Err(e) => panic!("member {sid}: get {}: {e}", key(k)),
            });
        }
        client.close().await;
        answers.insert(sid, values);
    }
    let first = answers.values().next().cloned();
    for (sid, values) in &answers {
        assert_eq!(Some(values), first.as_ref(), "member {sid} differs");
    }
}

fn no_overlapping_holds(holds: &mut [(u64, u64)]) {
    holds.sort_unstable();
    for pair in holds.windows(2) {
        let ((_, end), (start, _)) = (pair[0], pair[1]);
        assert!(
            start >= end,
            "two lock holds overlap: {:?} and {:?} (microseconds)",
            pair[0],
            pair[1]
        );
    }
}

fn fault_secs() -> u64 {
    std::env::var("ZK_FAULT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "starts a 3-member ensemble of zk-rs:latest in Docker for a minute of faults: run with --include-ignored"]
async fn the_image_ensemble_keeps_its_promises_under_faults() {
    zk_testkit::require!(zk_testkit::tools::docker_image(IMAGE));
    let image = ZooKeeperImage::zk_rs()
        .with_env("ZOO_TICK_TIME", "500")
        .with_env("ZOO_INIT_LIMIT", "20")
        .with_env("ZOO_SYNC_LIMIT", "5");
    let mut zk = ContainerEnsemble::start(image, 3).await.expect("starts");
    let servers = zk.connect_string();
    let setup = framework(&servers).await;
    setup
        .client()
        .create(ROOT, b"", &CreateOptions::persistent())
        .await
        .expect("the root");

    let record: Shared = Arc::default();
    let stop = CancellationToken::new();
    let mut writers = Vec::new();
    for id in 0..WRITERS {
        let fw = framework(&servers).await;
        writers.push((
            fw.clone(),
            tokio::spawn(writer(id, fw, record.clone(), stop.clone())),
        ));
    }
    let mut lockers = Vec::new();
    for _ in 0..LOCKERS {
        let fw = framework(&servers).await;
        lockers.push((
            fw.clone(),
            tokio::spawn(locker(fw, record.clone(), stop.clone())),
        ));
    }

    let started = Instant::now();
    let faults = nemesis(&mut zk, started + Duration::from_secs(fault_secs())).await;
    // A little while with nothing broken, then the workload stops.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.cancel();
    for (fw, task) in writers.into_iter().chain(lockers) {
        let _ = task.await;
        fw.close().await;
    }
    setup.close().await;

    witnesses(&servers, &record).await;
    members_agree(&zk).await;

    let mut guard = lock(&record);
    let r = &mut *guard;
    assert!(
        r.surprises.is_empty(),
        "unexpected answers: {:?}",
        r.surprises
    );
    let entries = r.history.entries();
    let answered: Vec<_> = entries.iter().filter(|e| e.response.is_some()).collect();
    let acked_writes = answered
        .iter()
        .filter(|e| !matches!(e.op, Op::GetData { .. }))
        .count();
    let lin = check_writes(&r.history).unwrap_or_else(|v| panic!("writes: {v}"));
    check_reads(&r.history, &lin).unwrap_or_else(|v| panic!("reads: {v}"));
    let holds = r.holds.len();
    let cut = r.holds_cut;
    no_overlapping_holds(&mut r.holds);
    // Straight to stderr, past the test harness's capture: the counts
    // belong in the log of a passing run too.
    let _ = writeln!(
        std::io::stderr(),
        "faults in {:?}: {faults:?}; {} calls, {} answered, {} unknown; \
         {acked_writes} acknowledged writes checked; {holds} lock holds ({cut} cut short by a \
         disconnect), none overlapping",
        started.elapsed(),
        entries.len(),
        answered.len(),
        entries.len() - answered.len(),
    );
    assert!(
        acked_writes > 100 && holds > 10,
        "too little got done to judge"
    );
}
