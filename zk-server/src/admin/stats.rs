use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use tokio::time::Instant;

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
        }
    }
}

impl ServerStats {
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
