use std::sync::atomic::{AtomicI64, AtomicU8, AtomicU64, Ordering};

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::metrics::{Metrics, Sample, Value};
use crate::request::StateMsg;

/// Server-wide counters, shared by the connection tasks (which count
/// packets and latencies) and the state task (which reports them).
#[derive(Debug)]
pub struct ServerStats {
    pub started: Instant,
    pub received: AtomicU64,
    pub sent: AtomicU64,
    pub min_latency_ms: AtomicU64,
    pub max_latency_ms: AtomicU64,
    pub total_latency_ms: AtomicU64,
    pub latency_count: AtomicU64,
    /// Requests read and not yet answered, over all connections.
    pub outstanding: AtomicI64,
    pub connections: AtomicI64,
    /// The server's role, a [`Mode`] as a number.
    pub mode: AtomicU8,
    /// Leader only: learners connected, those synced, syncs waiting.
    pub followers: AtomicU64,
    pub synced_followers: AtomicU64,
    pub pending_syncs: AtomicU64,
    pub synced_observers: AtomicU64,
    /// Voting members in the configuration (`quorum_size`); 0 standalone.
    pub quorum_size: AtomicU64,
    /// The leader's id once a role is decided, -1 before (`leader`).
    pub leader: AtomicI64,
    /// The last zxid the state applied (`zabstate`).
    pub last_zxid: AtomicI64,
    /// `get_trace_mask`/`set_trace_mask` (ZooKeeper's default 306). We
    /// have no trace categories; the mask is kept for tools that set it.
    pub trace_mask: AtomicI64,
    pub metrics: Metrics,
    /// When the current mode began, in ms since `started` (`leader_uptime`).
    pub mode_since_ms: AtomicU64,
    /// The state task of the role serving clients, for the admin server.
    pub serving: Serving,
}

/// The request channel of the state task that serves now: set when a
/// role starts serving; its receiver is gone when the role ends.
#[derive(Debug, Default)]
pub struct Serving(std::sync::Mutex<Option<mpsc::Sender<StateMsg>>>);

impl Serving {
    pub fn set(&self, state: mpsc::Sender<StateMsg>) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(state);
        }
    }

    /// The channel, unless no role serves.
    pub fn get(&self) -> Option<mpsc::Sender<StateMsg>> {
        let slot = self.0.lock().ok()?;
        slot.as_ref().filter(|s| !s.is_closed()).cloned()
    }
}

/// What `srvr` reports as `Mode:` and `mntr` as `zk_server_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    Standalone = 0,
    Leader = 1,
    Follower = 2,
    Observer = 3,
    /// In an election, or between roles: not serving.
    Looking = 4,
    /// Cut off from the quorum, serving reads (`readonlymode.enabled`).
    ReadOnly = 5,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Standalone => "standalone",
            Mode::Leader => "leader",
            Mode::Follower => "follower",
            Mode::Observer => "observer",
            Mode::Looking => "looking",
            Mode::ReadOnly => "read-only",
        }
    }

    fn from_u8(n: u8) -> Mode {
        match n {
            1 => Mode::Leader,
            2 => Mode::Follower,
            3 => Mode::Observer,
            4 => Mode::Looking,
            5 => Mode::ReadOnly,
            _ => Mode::Standalone,
        }
    }
}

impl Default for ServerStats {
    fn default() -> Self {
        ServerStats {
            started: Instant::now(),
            received: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            min_latency_ms: AtomicU64::new(u64::MAX),
            max_latency_ms: AtomicU64::new(0),
            total_latency_ms: AtomicU64::new(0),
            latency_count: AtomicU64::new(0),
            outstanding: AtomicI64::new(0),
            connections: AtomicI64::new(0),
            mode: AtomicU8::new(Mode::Standalone as u8),
            followers: AtomicU64::new(0),
            synced_followers: AtomicU64::new(0),
            pending_syncs: AtomicU64::new(0),
            synced_observers: AtomicU64::new(0),
            quorum_size: AtomicU64::new(0),
            leader: AtomicI64::new(-1),
            last_zxid: AtomicI64::new(0),
            trace_mask: AtomicI64::new(306),
            metrics: Metrics::default(),
            mode_since_ms: AtomicU64::new(0),
            serving: Serving::default(),
        }
    }
}

impl ServerStats {
    pub fn mode(&self) -> Mode {
        Mode::from_u8(self.mode.load(Ordering::Relaxed))
    }

    pub fn set_mode(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::Relaxed);
        self.mode_since_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
        if mode != Mode::Leader {
            for gauge in [
                &self.followers,
                &self.synced_followers,
                &self.pending_syncs,
                &self.synced_observers,
            ] {
                gauge.store(0, Ordering::Relaxed);
            }
        }
    }

    /// The gauges of the member's role: `quorum_size` in an ensemble and,
    /// on the leader only (as ZooKeeper's), its learners.
    pub fn role_samples(&self) -> Vec<Sample> {
        let gauge = |a: &AtomicU64| Value::Gauge(a.load(Ordering::Relaxed) as f64);
        let mut out = Vec::new();
        if self.mode() != Mode::Standalone {
            out.push(("quorum_size", gauge(&self.quorum_size)));
        }
        if self.mode() == Mode::Leader {
            let now = self.started.elapsed().as_millis() as u64;
            let since = self.mode_since_ms.load(Ordering::Relaxed);
            out.push((
                "leader_uptime",
                Value::Gauge(now.saturating_sub(since) as f64),
            ));
            out.push(("learners", gauge(&self.followers)));
            out.push(("followers", gauge(&self.followers)));
            out.push(("synced_followers", gauge(&self.synced_followers)));
            out.push(("synced_observers", gauge(&self.synced_observers)));
            out.push(("pending_syncs", gauge(&self.pending_syncs)));
        }
        out
    }

    pub fn record_latency(&self, ms: u64) {
        self.min_latency_ms.fetch_min(ms, Ordering::Relaxed);
        self.max_latency_ms.fetch_max(ms, Ordering::Relaxed);
        self.total_latency_ms.fetch_add(ms, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
    }

    /// (min, avg, max) in ms; all zero before the first request.
    pub fn latency(&self) -> (u64, f64, u64) {
        latency_triple(
            &self.min_latency_ms,
            &self.total_latency_ms,
            &self.latency_count,
            &self.max_latency_ms,
        )
    }

    /// `srst`: latency and packet counters start over.
    pub fn reset(&self) {
        self.received.store(0, Ordering::Relaxed);
        self.sent.store(0, Ordering::Relaxed);
        self.min_latency_ms.store(u64::MAX, Ordering::Relaxed);
        self.max_latency_ms.store(0, Ordering::Relaxed);
        self.total_latency_ms.store(0, Ordering::Relaxed);
        self.latency_count.store(0, Ordering::Relaxed);
    }
}

pub fn latency_triple(
    min: &AtomicU64,
    total: &AtomicU64,
    count: &AtomicU64,
    max: &AtomicU64,
) -> (u64, f64, u64) {
    let n = count.load(Ordering::Relaxed);
    if n == 0 {
        return (0, 0.0, 0);
    }
    let avg = total.load(Ordering::Relaxed) as f64 / n as f64;
    (
        min.load(Ordering::Relaxed),
        (avg * 10_000.0).round() / 10_000.0,
        max.load(Ordering::Relaxed),
    )
}
