//! One run: set up the tree, connect the sessions, run the tasks through
//! the warm-up and the measured window, and report.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use zk_client::{Client, CreateOptions, Error};

use crate::Args;
use crate::cpu;
use crate::workload::{Task, Workload};

/// Latencies in µs up to a minute, 3 significant figures.
fn histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 60_000_000, 3).context("histogram")
}

/// What a task measured.
#[derive(Debug)]
struct Tally {
    latency: Histogram<u64>,
    by_op: BTreeMap<&'static str, u64>,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn new() -> Result<Tally> {
        Ok(Tally {
            latency: histogram()?,
            by_op: BTreeMap::new(),
            errors: 0,
            first_error: None,
        })
    }

    fn record(&mut self, result: Result<&'static str, Error>, took: Duration) {
        match result {
            Ok(op) => {
                let _ = self.latency.record((took.as_micros() as u64).max(1));
                *self.by_op.entry(op).or_default() += 1;
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        let _ = self.latency.add(&other.latency);
        for (op, n) in other.by_op {
            *self.by_op.entry(op).or_default() += n;
        }
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// When measuring starts and stops, shared by the tasks.
#[derive(Debug)]
struct Clock {
    measure_from: Instant,
    until: Instant,
    budget: Option<u64>,
    counted: AtomicU64,
    stop: AtomicBool,
}

impl Clock {
    fn measuring(&self, at: Instant) -> bool {
        at >= self.measure_from
    }

    /// Counts one measured op; false once the window or the budget is spent.
    fn go_on(&self, now: Instant) -> bool {
        if self.stop.load(Ordering::Relaxed) || now >= self.until {
            return false;
        }
        if self.measuring(now) {
            let n = self.counted.fetch_add(1, Ordering::Relaxed) + 1;
            if self.budget.is_some_and(|b| n > b) {
                self.stop.store(true, Ordering::Relaxed);
                return false;
            }
        }
        true
    }
}

pub async fn run(args: &Args) -> Result<Value> {
    let servers = args.servers();
    anyhow::ensure!(!servers.is_empty(), "no servers");
    let admin = Client::connect(&servers.join(","))
        .await
        .context("connecting to set up the tree")?;
    let payload = vec![b'x'; args.payload];
    setup(&admin, args, &payload).await?;

    let sessions = args.sessions.max(1);
    let mut clients = Vec::with_capacity(sessions);
    for i in 0..sessions {
        let server = if args.no_spread {
            &servers[0]
        } else {
            &servers[i % servers.len()]
        };
        clients.push(
            Client::connect(server)
                .await
                .with_context(|| format!("session {i} to {server}"))?,
        );
    }
    let cpu_before: Vec<Option<u64>> = args.watch_pids.iter().map(|p| cpu::ticks(*p)).collect();
    let own_before = cpu::ticks(std::process::id());
    let started = Instant::now();
    let (tally, measured, curve) = match args.workload {
        Workload::Watch(watchers) => {
            let (t, m) = watch(args, &clients, watchers, &payload).await?;
            (t, m, Vec::new())
        }
        Workload::Load { znodes, parents } => {
            load(args, &clients, znodes, parents, &payload).await?
        }
        other => {
            let (t, m) = ops(args, &clients, other, &payload).await?;
            (t, m, Vec::new())
        }
    };
    let wall = started.elapsed().as_secs_f64();
    let cpu_after: Vec<Option<u64>> = args.watch_pids.iter().map(|p| cpu::ticks(*p)).collect();
    let own_after = cpu::ticks(std::process::id());
    for c in clients {
        c.close().await;
    }
    admin.close().await;

    let ops: u64 = tally.by_op.values().sum();
    let seconds = measured.as_secs_f64();
    let h = &tally.latency;
    let pids: serde_json::Map<String, Value> = args
        .watch_pids
        .iter()
        .zip(cpu_before.iter().zip(&cpu_after))
        .map(|(pid, (b, a))| {
            let cores = match (b, a) {
                (Some(b), Some(a)) => json!(cpu::cores(*b, *a, wall)),
                _ => Value::Null,
            };
            (pid.to_string(), cores)
        })
        .collect();
    let client_cores = match (own_before, own_after) {
        (Some(b), Some(a)) => json!(cpu::cores(b, a, wall)),
        _ => Value::Null,
    };
    let mut report = json!({
        "tool": "zk-bench",
        "workload": args.workload.to_string(),
        "label": args.label,
        "servers": servers,
        "sessions": sessions,
        "inflight": args.inflight.max(1),
        "payload": args.payload,
        "duration_s": (seconds * 1000.0).round() / 1000.0,
        "ops": ops,
        "ops_per_s": if seconds > 0.0 { (ops as f64 / seconds).round() } else { 0.0 },
        "errors": tally.errors,
        "first_error": tally.first_error,
        "by_op": tally.by_op,
        "latency_us": {
            "mean": (h.mean() * 10.0).round() / 10.0,
            "p50": h.value_at_quantile(0.5),
            "p90": h.value_at_quantile(0.9),
            "p99": h.value_at_quantile(0.99),
            "p999": h.value_at_quantile(0.999),
            "max": h.max(),
        },
        "cpu": { "pids": pids, "client_cores": client_cores },
    });
    if !curve.is_empty() {
        report["curve"] = Value::Array(curve);
    }
    Ok(report)
}

/// A fresh `root` with what the workload reads and writes.
async fn setup(client: &Client, args: &Args, payload: &[u8]) -> Result<()> {
    remove_tree(client, &args.root).await?;
    let persistent = CreateOptions::persistent();
    client
        .create(&args.root, b"", &persistent)
        .await
        .context("creating the root")?;
    match args.workload {
        Workload::Read | Workload::Write | Workload::Mixed(_) | Workload::Multi(_) => {
            let mut pending = Vec::with_capacity(args.keys);
            for i in 0..args.keys {
                pending.push(client.create(&format!("{}/k{i}", args.root), payload, &persistent));
            }
            for created in futures::future::join_all(pending).await {
                created.context("creating the keys")?;
            }
        }
        Workload::Create | Workload::Delete => {
            client
                .create(&format!("{}/c", args.root), b"", &persistent)
                .await?;
        }
        Workload::Lock => {
            client
                .create(&format!("{}/lock", args.root), b"", &persistent)
                .await?;
        }
        Workload::Watch(_) => {
            client
                .create(&format!("{}/w", args.root), payload, &persistent)
                .await?;
        }
        Workload::Load { parents, .. } => {
            for p in 0..parents {
                client
                    .create(&format!("{}/p{p}", args.root), b"", &persistent)
                    .await?;
            }
        }
    }
    Ok(())
}

/// Deletes `path` and everything under it, if it is there.
async fn remove_tree(client: &Client, path: &str) -> Result<()> {
    let mut stack = vec![path.to_owned()];
    let mut order = Vec::new();
    while let Some(p) = stack.pop() {
        match client.get_children(&p).await {
            Ok((children, _)) => {
                for c in children {
                    stack.push(format!("{p}/{c}"));
                }
                order.push(p);
            }
            Err(Error::NoNode) => {}
            Err(e) => return Err(e).context("listing the old tree"),
        }
    }
    // Children before their parents. Requests of one session are
    // answered in order, so they may be pipelined, a thousand at a time.
    order.reverse();
    for chunk in order.chunks(1000) {
        let deletes = chunk.iter().map(|p| client.delete(p, None));
        for deleted in futures::future::join_all(deletes).await {
            match deleted {
                Ok(()) | Err(Error::NoNode) => {}
                Err(e) => {
                    return Err(e).context(format!(
                        "deleting the old tree ({} paths, first {:?})",
                        chunk.len(),
                        chunk.first()
                    ));
                }
            }
        }
    }
    Ok(())
}

fn progress(args: &Args, clock: &Arc<Clock>) -> Option<tokio::task::JoinHandle<()>> {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return None;
    }
    let total = (args.warmup + args.duration).max(0.1);
    let bar = indicatif::ProgressBar::new((total * 10.0) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {elapsed}/{duration} {msg}").ok()?,
    );
    let clock = clock.clone();
    let started = Instant::now();
    Some(tokio::spawn(async move {
        while !clock.stop.load(Ordering::Relaxed) && Instant::now() < clock.until {
            bar.set_position((started.elapsed().as_secs_f64() * 10.0) as u64);
            bar.set_message(format!(
                "{} ops measured",
                clock.counted.load(Ordering::Relaxed)
            ));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bar.finish_and_clear();
    }))
}

/// The request workloads: `inflight` tasks per session, each repeating
/// its operation until the window (or the op budget) is spent.
async fn ops(
    args: &Args,
    clients: &[Client],
    workload: Workload,
    payload: &[u8],
) -> Result<(Tally, Duration)> {
    let inflight = args.inflight.max(1);
    let mut tasks = Vec::new();
    for (s, client) in clients.iter().enumerate() {
        for slot in 0..inflight {
            let id = s * inflight + slot;
            let mut task = Task {
                id,
                client: client.clone(),
                root: args.root.clone(),
                keys: args.keys,
                payload: payload.to_vec(),
                rng: fastrand::Rng::with_seed(id as u64 + 1),
                own: Vec::new(),
                seq: 0,
            };
            if workload == Workload::Delete {
                task.prepare_deletes(args.keys)
                    .await
                    .context("creating the nodes to delete")?;
            }
            tasks.push(task);
        }
    }
    let now = Instant::now();
    // The delete workload's nodes are made once: none is spent warming up.
    let warmup = if workload == Workload::Delete {
        Duration::ZERO
    } else {
        args.warmup()
    };
    let measure_from = now + warmup;
    let until = if args.ops.is_some() {
        now + Duration::from_secs(86_400)
    } else {
        measure_from + args.duration()
    };
    let clock = Arc::new(Clock {
        measure_from,
        until,
        budget: args.ops,
        counted: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let bar = progress(args, &clock);
    let mut running = Vec::new();
    for mut task in tasks {
        let clock = clock.clone();
        running.push(tokio::spawn(async move {
            let mut tally = Tally::new()?;
            while clock.go_on(Instant::now()) {
                let sent = Instant::now();
                let Some(result) = task.once(workload).await else {
                    break;
                };
                if clock.measuring(sent) {
                    tally.record(result, sent.elapsed());
                }
            }
            anyhow::Ok(tally)
        }));
    }
    let mut total = Tally::new()?;
    for r in running {
        total.merge(r.await.context("a task")??);
    }
    clock.stop.store(true, Ordering::Relaxed);
    if let Some(bar) = bar {
        let _ = bar.await;
    }
    let measured = Instant::now()
        .min(clock.until)
        .saturating_duration_since(clock.measure_from);
    Ok((total, measured))
}

/// Watch fan-out: `watchers` more sessions watch one node; one writer
/// changes it once all are watching again. Latency: from the write being
/// sent to each watcher's event.
async fn watch(
    args: &Args,
    clients: &[Client],
    watchers: usize,
    payload: &[u8],
) -> Result<(Tally, Duration)> {
    let servers = args.servers();
    let path = format!("{}/w", args.root);
    let mut sessions = Vec::with_capacity(watchers);
    for i in 0..watchers {
        let server = if args.no_spread {
            &servers[0]
        } else {
            &servers[i % servers.len()]
        };
        sessions.push(
            Client::connect(server)
                .await
                .with_context(|| format!("watcher {i}"))?,
        );
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(watchers + 1));
    let base = Instant::now();
    let written_at = Arc::new(AtomicU64::new(0));
    let measure_from = base + args.warmup();
    let until = measure_from + args.duration();
    let done = Arc::new(AtomicBool::new(false));
    let mut running = Vec::new();
    for w in sessions.clone() {
        let (barrier, written_at, path, done) = (
            barrier.clone(),
            written_at.clone(),
            path.clone(),
            done.clone(),
        );
        running.push(tokio::spawn(async move {
            let mut tally = Tally::new()?;
            loop {
                let armed = w.get_data_and_watch(&path).await;
                barrier.wait().await;
                let (_, _, watcher) = armed.context("arming the watch")?;
                let _event = watcher.await;
                let sent = base + Duration::from_nanos(written_at.load(Ordering::Acquire));
                if sent >= measure_from {
                    tally.record(Ok("event"), sent.elapsed());
                }
                // The writer says so before its last write.
                if done.load(Ordering::Acquire) {
                    break;
                }
            }
            anyhow::Ok(tally)
        }));
    }
    let writer = clients[0].clone();
    loop {
        // Every watcher is watching again: change the node.
        barrier.wait().await;
        let last = Instant::now() >= until;
        if last {
            done.store(true, Ordering::Release);
        }
        written_at.store(base.elapsed().as_nanos() as u64, Ordering::Release);
        writer
            .set_data(&path, payload, None)
            .await
            .context("the writer")?;
        if last {
            break;
        }
    }
    let mut total = Tally::new()?;
    for r in running {
        total.merge(r.await.context("a watcher")??);
    }
    for s in sessions {
        s.close().await;
    }
    Ok((total, until.saturating_duration_since(measure_from)))
}

/// Large-tree load: `znodes` creates over `parents` parents, as fast as
/// the sessions go; no warm-up. The curve gives creates/s over each tenth.
async fn load(
    args: &Args,
    clients: &[Client],
    znodes: u64,
    parents: u64,
    payload: &[u8],
) -> Result<(Tally, Duration, Vec<Value>)> {
    let next = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let step = (znodes / 10).max(1);
    let marks = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut running = Vec::new();
    for client in clients {
        for _ in 0..args.inflight.max(1) {
            let (client, next, finished, marks, root) = (
                client.clone(),
                next.clone(),
                finished.clone(),
                marks.clone(),
                args.root.clone(),
            );
            let payload = payload.to_vec();
            running.push(tokio::spawn(async move {
                let mut tally = Tally::new()?;
                let opts = CreateOptions::persistent();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= znodes {
                        break;
                    }
                    let path = format!("{root}/p{}/n{i:010}", i % parents);
                    let sent = Instant::now();
                    let result = client
                        .create(&path, &payload, &opts)
                        .await
                        .map(|_| "create");
                    tally.record(result, sent.elapsed());
                    let n = finished.fetch_add(1, Ordering::Relaxed) + 1;
                    if n % step == 0
                        && let Ok(mut m) = marks.lock()
                    {
                        m.push((n, started.elapsed()));
                    }
                }
                anyhow::Ok(tally)
            }));
        }
    }
    let mut total = Tally::new()?;
    for r in running {
        total.merge(r.await.context("a task")??);
    }
    let took = started.elapsed();
    let mut marks = marks.lock().map(|m| m.clone()).unwrap_or_default();
    marks.sort();
    let mut curve = Vec::new();
    let mut last = (0u64, Duration::ZERO);
    for (n, at) in marks {
        let secs = (at - last.1).as_secs_f64();
        let rate = if secs > 0.0 {
            ((n - last.0) as f64 / secs).round()
        } else {
            0.0
        };
        curve.push(json!({"znodes": n, "creates_per_s": rate}));
        last = (n, at);
    }
    Ok((total, took, curve))
}
