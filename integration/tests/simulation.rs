//! Deterministic simulation of whole ensembles (turmoil): the real server
//! on a simulated network and an in-memory disk, under crashes (losing
//! unsynced writes), restarts, partitions and message delays, driven by
//! clients that record every call. After the faults, the network heals and
//! the run must converge. Then:
//! - the writes are linearizable and every read kept ZooKeeper's promises
//!   (read-your-writes, monotonic, no reading the future), checked by
//!   `zk_testkit::linearize`: an acknowledged write that got lost shows up
//!   as a read or a write that no order explains;
//! - every member answers the same data for every key (after sync);
//! - all logs agree: a zxid names the same txn everywhere (two leaders in
//!   one epoch would write different txns under one zxid), in order;
//! - the trees rebuilt from the members' disks at the same zxid are
//!   identical (nodes, data, stats, sessions).
//!
//! A failing run prints its seed; `ZK_SIM_SEED=<seed>` replays it, and
//! `ZK_SIM_SEEDS=<n>` runs more seeds than CI does.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;
use zk_integration::client::SimClient;
use zk_integration::net::SimNet;
use zk_proto::ErrorCode;
use zk_proto::client::{
    CreateRequest, DeleteRequest, PathRequest, PathWatchRequest, Request, Response, SetDataRequest,
};
use zk_proto::data::Acl;
use zk_proto::txn::Txn;
use zk_server::persist::install::snapshot_bytes;
use zk_server::persist::snapshot::Snapshot;
use zk_server::persist::txn_log::read_log;
use zk_server::persist::{
    LogOptions, MemStorage, RecoverOptions, Storage, recover_with, version_dir,
};
use zk_server::{Config, Server};
use zk_testkit::linearize::{History, Op, Outcome, check_reads, check_writes};

const KEYS: usize = 4;
const CLIENT_PORT: u16 = 2181;

#[derive(Debug, Clone, Copy)]
struct Plan {
    members: usize,
    clients: usize,
    fault_secs: u64,
    heal_secs: u64,
}

fn data_dir(sid: usize) -> PathBuf {
    PathBuf::from(format!("/data/n{sid}"))
}

fn member_config(sid: usize, members: usize) -> Config {
    let mut text = format!(
        "tickTime=100\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={CLIENT_PORT}\n\
         maxSessionTimeout=60000\nsnapCount=200\npreAllocSize=64\n",
        data_dir(sid).display()
    );
    for k in 1..=members {
        text.push_str(&format!("server.{k}=n{k}:2888:3888\n"));
    }
    let mut config = Config::parse(&text).expect("config");
    config.myid = Some(sid as u64);
    config
}

fn now_us() -> u64 {
    turmoil::sim_elapsed().map_or(0, |d| d.as_micros() as u64)
}

/// One client: sessions on random members, random ops on a few keys with
/// unique data, each call recorded before it is sent and when it returns.
async fn client(
    id: usize,
    seed: u64,
    plan: Plan,
    history: Rc<RefCell<History>>,
    sessions: Rc<Cell<u64>>,
) -> turmoil::Result {
    let mut rng = fastrand::Rng::with_seed(seed ^ (id as u64 + 1).wrapping_mul(0x9e37_79b9));
    let stop = Duration::from_secs(plan.fault_secs);
    let mut n = 0u32;
    while turmoil::sim_elapsed().unwrap_or_default() < stop {
        let target = format!("n{}:{CLIENT_PORT}", rng.usize(1..=plan.members));
        let connected =
            tokio::time::timeout(Duration::from_secs(1), SimClient::connect(&target, 6000)).await;
        let Ok(Ok(mut c)) = connected else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        sessions.set(sessions.get() + 1);
        let session = sessions.get();
        for _ in 0..rng.usize(5..30) {
            n += 1;
            let path = format!("/k{}", rng.usize(0..KEYS));
            let data = format!("c{id}-{n}").into_bytes();
            let op = random_op(&mut rng, path, data);
            let pending = history.borrow_mut().invoke(session, now_us(), op.clone());
            let result = c.call(&request(&op), Duration::from_secs(2)).await;
            let outcome = match result {
                Ok(Ok(resp)) => outcome_of(resp),
                Ok(Err(code)) => match code {
                    ErrorCode::NoNode => Some(Outcome::NoNode),
                    ErrorCode::NodeExists => Some(Outcome::NodeExists),
                    ErrorCode::BadVersion => Some(Outcome::BadVersion),
                    _ => None,
                },
                Err(_) => None,
            };
            match outcome {
                Some(o) => history.borrow_mut().complete(pending, now_us(), o),
                // Unknown: the call may or may not have taken effect.
                None => {
                    drop(pending);
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(rng.u64(0..15))).await;
        }
    }
    Ok(())
}

fn random_op(rng: &mut fastrand::Rng, path: String, data: Vec<u8>) -> Op {
    let version = || -> Option<i32> { None };
    match rng.u8(0..10) {
        0..=3 => Op::GetData { path },
        4..=5 => Op::Create { path, data },
        6..=8 => Op::SetData {
            path,
            data,
            version: if rng.bool() {
                version()
            } else {
                Some(rng.i32(0..4))
            },
        },
        _ => Op::Delete {
            path,
            version: if rng.bool() {
                None
            } else {
                Some(rng.i32(0..4))
            },
        },
    }
}

fn request(op: &Op) -> Request {
    let bytes = |d: &[u8]| Some(Bytes::copy_from_slice(d));
    match op {
        Op::Create { path, data } => Request::Create(CreateRequest {
            path: path.clone(),
            data: bytes(data),
            acl: Acl::open_unsafe(),
            flags: 0,
        }),
        Op::SetData {
            path,
            data,
            version,
        } => Request::SetData(SetDataRequest {
            path: path.clone(),
            data: bytes(data),
            version: version.unwrap_or(-1),
        }),
        Op::Delete { path, version } => Request::Delete(DeleteRequest {
            path: path.clone(),
            version: version.unwrap_or(-1),
        }),
        Op::GetData { path } => Request::GetData(PathWatchRequest {
            path: path.clone(),
            watch: false,
        }),
    }
}

fn outcome_of(resp: Response) -> Option<Outcome> {
    Some(match resp {
        Response::Create(_) | Response::Empty => Outcome::Ok,
        Response::Stat(stat) => Outcome::Set {
            version: stat.version,
        },
        Response::GetData(r) => Outcome::Data {
            data: r.data.map(|d| d.to_vec()).unwrap_or_default(),
            version: r.stat.version,
        },
        _ => return None,
    })
}

/// Per member, per key: the data and version read, or None (no node).
type Answers = BTreeMap<usize, Vec<Option<(Vec<u8>, i32)>>>;

/// After healing: every member's answer for every key, read after a sync.
async fn final_reads(plan: Plan, answers: Rc<RefCell<Answers>>) -> turmoil::Result {
    for sid in 1..=plan.members {
        let target = format!("n{sid}:{CLIENT_PORT}");
        let mut c = loop {
            let attempt =
                tokio::time::timeout(Duration::from_secs(1), SimClient::connect(&target, 6000))
                    .await;
            match attempt {
                Ok(Ok(c)) => break c,
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        let sync = Request::Sync(PathRequest { path: "/".into() });
        c.call(&sync, Duration::from_secs(5))
            .await?
            .map_err(|e| format!("sync: {e:?}"))?;
        let mut values = Vec::new();
        for k in 0..KEYS {
            let get = Request::GetData(PathWatchRequest {
                path: format!("/k{k}"),
                watch: false,
            });
            let value = match c.call(&get, Duration::from_secs(5)).await? {
                Ok(Response::GetData(r)) => Some((
                    r.data.map(|d| d.to_vec()).unwrap_or_default(),
                    r.stat.version,
                )),
                Err(ErrorCode::NoNode) => None,
                other => return Err(format!("member {sid}: getData gave {other:?}").into()),
            };
            values.push(value);
        }
        answers.borrow_mut().insert(sid, values);
    }
    Ok(())
}

/// Every member's log: a zxid names one txn everywhere, in order.
fn check_logs(storages: &[Arc<MemStorage>]) -> Result<(), String> {
    let mut seen: BTreeMap<i64, (usize, Txn)> = BTreeMap::new();
    for (i, storage) in storages.iter().enumerate() {
        let sid = i + 1;
        let segments = read_log(storage.as_ref(), &version_dir(&data_dir(sid)))
            .map_err(|e| format!("member {sid}'s log does not read back: {e}"))?;
        let mut last = 0i64;
        for txn in segments.iter().flat_map(|s| &s.txns) {
            let zxid = txn.header.zxid;
            if zxid <= last {
                return Err(format!("member {sid}: zxid {zxid:#x} after {last:#x}"));
            }
            last = zxid;
            match seen.get(&zxid) {
                Some((other, t)) if t != txn => {
                    return Err(format!(
                        "zxid {zxid:#x} differs: member {other} has {t:?}, member {sid} has {txn:?}"
                    ));
                }
                Some(_) => {}
                None => {
                    seen.insert(zxid, (sid, txn.clone()));
                }
            }
        }
    }
    Ok(())
}

/// The members' trees, rebuilt from their disks at the same zxid (the
/// lowest last zxid among them), must be identical: the same nodes, data,
/// stats and sessions. A member whose disk no longer reaches back to that
/// zxid (it took a SNAP later) is left out, but a majority must compare.
fn check_trees(storages: &[Arc<MemStorage>]) -> Result<(), String> {
    let opts = LogOptions::default();
    let recover_at = |sid: usize, upto: Option<i64>| {
        let storage: Arc<dyn Storage> = storages[sid - 1].clone();
        let dir = data_dir(sid);
        let how = RecoverOptions {
            log: opts,
            upto,
            keep_tail: false,
        };
        recover_with(storage, &dir, &dir, how).map_err(|e| format!("member {sid}: {e}"))
    };
    let mut target = i64::MAX;
    for sid in 1..=storages.len() {
        target = target.min(recover_at(sid, None)?.tree.last_zxid());
    }
    let mut images = BTreeMap::new();
    for sid in 1..=storages.len() {
        let r = recover_at(sid, Some(target))?;
        if r.tree.last_zxid() != target {
            continue;
        }
        let snap = Snapshot {
            zxid: target,
            sessions: r.sessions,
            tree: r.tree,
        };
        let image = snapshot_bytes(&snap).map_err(|e| e.to_string())?;
        images.insert(sid, image);
    }
    if images.len() * 2 <= storages.len() {
        return Err(format!(
            "only members {:?} reach zxid {target:#x}",
            images.keys()
        ));
    }
    let (first_sid, first) = images.iter().next().ok_or("no member compared")?;
    for (sid, image) in &images {
        if image != first {
            return Err(format!(
                "at zxid {target:#x} member {sid}'s tree differs from member {first_sid}'s"
            ));
        }
    }
    Ok(())
}

/// One seeded run; Err names what broke.
fn run(seed: u64, plan: Plan) -> Result<(), String> {
    fastrand::seed(seed);
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .simulation_duration(Duration::from_secs(plan.fault_secs + plan.heal_secs + 60))
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(25))
        .build();
    let storages: Vec<Arc<MemStorage>> = (0..plan.members)
        .map(|_| Arc::new(MemStorage::default()))
        .collect();
    for sid in 1..=plan.members {
        let storage = storages[sid - 1].clone();
        let members = plan.members;
        sim.host(format!("n{sid}"), move || {
            let storage: Arc<dyn Storage> = storage.clone();
            async move {
                let config = member_config(sid, members);
                let server = Server::start_with(config, storage, Arc::new(SimNet)).await?;
                // Members run until the simulation ends.
                server.run_until(CancellationToken::new()).await;
                Ok(())
            }
        });
    }
    let history = Rc::new(RefCell::new(History::new()));
    let sessions = Rc::new(Cell::new(0));
    for id in 0..plan.clients {
        sim.client(
            format!("c{id}"),
            client(id, seed, plan, history.clone(), sessions.clone()),
        );
    }
    faults(&mut sim, seed, plan, &storages)?;
    let answers = Rc::new(RefCell::new(BTreeMap::new()));
    sim.client("checker", final_reads(plan, answers.clone()));
    sim.run().map_err(|e| format!("simulation: {e}"))?;

    let history = history.borrow();
    let entries = history.entries();
    let answered = entries.iter().filter(|e| e.response.is_some()).count();
    eprintln!(
        "seed {seed}: {} members, {} calls in {} sessions, {answered} answered, {} unknown",
        plan.members,
        entries.len(),
        sessions.get(),
        entries.len() - answered
    );
    let lin = check_writes(&history).map_err(|v| v.to_string())?;
    check_reads(&history, &lin).map_err(|v| v.to_string())?;
    let answers = answers.borrow();
    let first = answers.get(&1).ok_or("no final reads")?;
    for (sid, values) in answers.iter() {
        if values != first {
            return Err(format!(
                "member {sid} answers {values:?}, member 1 {first:?}"
            ));
        }
    }
    check_logs(&storages)?;
    check_trees(&storages)
}

/// Crashes (the disk loses what was not synced), restarts and partitions
/// for `fault_secs`; then everything heals. A partition holds the
/// messages between a member and the others until it heals, as TCP
/// retransmission would deliver them (turmoil's `partition` drops them
/// from open streams, which TCP never does).
fn faults(
    sim: &mut turmoil::Sim<'_>,
    seed: u64,
    plan: Plan,
    storages: &[Arc<MemStorage>],
) -> Result<(), String> {
    let mut rng = fastrand::Rng::with_seed(seed.rotate_left(17));
    let names: Vec<String> = (1..=plan.members).map(|s| format!("n{s}")).collect();
    let mut down: BTreeSet<usize> = BTreeSet::new();
    let mut cut: BTreeSet<usize> = BTreeSet::new();
    let fault_end = Duration::from_secs(plan.fault_secs);
    let mut next = Duration::from_secs(2);
    while sim.elapsed() < fault_end {
        if sim.elapsed() >= next {
            next = sim.elapsed() + Duration::from_millis(rng.u64(300..1500));
            let i = rng.usize(0..plan.members);
            match rng.u8(0..4) {
                0 if !down.contains(&i) => {
                    sim.crash(names[i].as_str());
                    storages[i].crash();
                    down.insert(i);
                }
                1 if down.contains(&i) => {
                    sim.bounce(names[i].as_str());
                    down.remove(&i);
                }
                2 if !cut.contains(&i) => {
                    for (j, other) in names.iter().enumerate() {
                        if j != i {
                            sim.hold(names[i].as_str(), other.as_str());
                        }
                    }
                    cut.insert(i);
                }
                _ => {
                    for j in std::mem::take(&mut cut) {
                        for (k, other) in names.iter().enumerate() {
                            if k != j {
                                sim.release(names[j].as_str(), other.as_str());
                            }
                        }
                    }
                }
            }
        }
        sim.step().map_err(|e| format!("simulation: {e}"))?;
    }
    for j in cut {
        for (k, other) in names.iter().enumerate() {
            if k != j {
                sim.release(names[j].as_str(), other.as_str());
            }
        }
    }
    for i in down {
        sim.bounce(names[i].as_str());
    }
    let heal_end = fault_end + Duration::from_secs(plan.heal_secs);
    while sim.elapsed() < heal_end {
        sim.step().map_err(|e| format!("simulation: {e}"))?;
    }
    Ok(())
}

fn seeds(default: u64) -> Vec<u64> {
    if let Some(seed) = std::env::var("ZK_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let n = std::env::var("ZK_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    (1..=n).collect()
}

/// Log lines carry the simulated time, so members' logs line up.
struct SimTime;

impl tracing_subscriber::fmt::time::FormatTime for SimTime {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        let t = turmoil::sim_elapsed().unwrap_or_default();
        write!(w, "{:>9.3}s", t.as_secs_f64())
    }
}

fn run_seeds(plan: Plan, default_seeds: u64) {
    // RUST_LOG=info shows the members' logs (each line names its host).
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .with_timer(SimTime)
            .try_init();
    }
    for seed in seeds(default_seeds) {
        if let Err(e) = run(seed, plan) {
            panic!(
                "seed {seed} failed ({} members); replay with ZK_SIM_SEED={seed}:\n{e}",
                plan.members
            );
        }
    }
}

#[test]
fn three_members_under_faults() {
    run_seeds(
        Plan {
            members: 3,
            clients: 3,
            fault_secs: 20,
            heal_secs: 10,
        },
        8,
    );
}

#[test]
fn five_members_under_faults() {
    run_seeds(
        Plan {
            members: 5,
            clients: 3,
            fault_secs: 20,
            heal_secs: 10,
        },
        4,
    );
}
