//! The server's metrics, under ZooKeeper's names (`ServerMetrics`): the
//! same values feed `mntr`, the admin server's `monitor` and the
//! Prometheus endpoint, so a dashboard or alert written for Apache
//! ZooKeeper finds its series.

mod prom;
mod summary;

use std::sync::atomic::{AtomicU64, Ordering};

pub use prom::{CONTENT_TYPE, render};
pub use summary::{Level, Snapshot, Summary};

/// One value as the registries report it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `mntr` only (`version`, `server_state`): Prometheus takes numbers.
    Text(String),
    Gauge(f64),
    Counter(u64),
    Summary(Snapshot),
}

/// A named value, the name without `zk_` (as the Prometheus provider
/// names them; `mntr` adds the prefix).
pub type Sample = (&'static str, Value);

/// Counters and summaries recorded where things happen. Gauges (znode
/// count, connections, ...) are read from the state when asked.
#[derive(Debug)]
pub struct Metrics {
    /// Time to make a batch of the txn log durable (write + fsync), ms.
    pub fsynctime: Summary,
    /// From the start of an election to its outcome, ms.
    pub election_time: Summary,
    /// Time to write a snapshot, ms.
    pub snapshottime: Summary,
    /// From reading a request to writing its reply, ms.
    pub readlatency: Summary,
    pub updatelatency: Summary,
    /// Elections this member took part in.
    pub looking_count: AtomicU64,
    /// Txns proposed (leader) and committed (leader and learners).
    pub proposal_count: AtomicU64,
    pub commit_count: AtomicU64,
    pub learner_proposal_received_count: AtomicU64,
    pub learner_commit_received_count: AtomicU64,
    /// How the leader synced its learners.
    pub diff_count: AtomicU64,
    pub snap_count: AtomicU64,
    /// Failed authentications (SASL, a refused certificate).
    pub auth_failed_count: AtomicU64,
    /// Connections refused at accept (`maxClientCnxns`, `maxCnxns`).
    pub connection_rejected: AtomicU64,
    /// Connections closed for sending no ConnectRequest in time.
    pub sessionless_connections_expired: AtomicU64,
    /// Requests over `jute.maxbuffer`.
    pub large_requests_rejected: AtomicU64,
    /// Bytes read from clients.
    pub bytes_received_count: AtomicU64,
    /// The member left its role on an error it could not recover from in
    /// place (storage failure, a peer protocol error).
    pub unrecoverable_error_count: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            fsynctime: Summary::new(Level::Basic),
            election_time: Summary::new(Level::Basic),
            snapshottime: Summary::new(Level::Basic),
            readlatency: Summary::new(Level::Advanced),
            updatelatency: Summary::new(Level::Advanced),
            looking_count: AtomicU64::new(0),
            proposal_count: AtomicU64::new(0),
            commit_count: AtomicU64::new(0),
            learner_proposal_received_count: AtomicU64::new(0),
            learner_commit_received_count: AtomicU64::new(0),
            diff_count: AtomicU64::new(0),
            snap_count: AtomicU64::new(0),
            auth_failed_count: AtomicU64::new(0),
            connection_rejected: AtomicU64::new(0),
            sessionless_connections_expired: AtomicU64::new(0),
            large_requests_rejected: AtomicU64::new(0),
            bytes_received_count: AtomicU64::new(0),
            unrecoverable_error_count: AtomicU64::new(0),
        }
    }
}

/// Adds one to a counter.
pub fn inc(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    /// Every counter and summary, in a fixed order.
    pub fn samples(&self) -> Vec<Sample> {
        let counter = |c: &AtomicU64| Value::Counter(c.load(Ordering::Relaxed));
        vec![
            ("fsynctime", Value::Summary(self.fsynctime.snapshot())),
            (
                "election_time",
                Value::Summary(self.election_time.snapshot()),
            ),
            ("snapshottime", Value::Summary(self.snapshottime.snapshot())),
            ("readlatency", Value::Summary(self.readlatency.snapshot())),
            (
                "updatelatency",
                Value::Summary(self.updatelatency.snapshot()),
            ),
            ("looking_count", counter(&self.looking_count)),
            ("proposal_count", counter(&self.proposal_count)),
            ("commit_count", counter(&self.commit_count)),
            (
                "learner_proposal_received_count",
                counter(&self.learner_proposal_received_count),
            ),
            (
                "learner_commit_received_count",
                counter(&self.learner_commit_received_count),
            ),
            ("diff_count", counter(&self.diff_count)),
            ("snap_count", counter(&self.snap_count)),
            ("auth_failed_count", counter(&self.auth_failed_count)),
            ("connection_rejected", counter(&self.connection_rejected)),
            (
                "sessionless_connections_expired",
                counter(&self.sessionless_connections_expired),
            ),
            (
                "large_requests_rejected",
                counter(&self.large_requests_rejected),
            ),
            ("bytes_received_count", counter(&self.bytes_received_count)),
            (
                "unrecoverable_error_count",
                counter(&self.unrecoverable_error_count),
            ),
        ]
    }

    /// `srst`: the request latencies start over (as ZooKeeper's
    /// `resetAllValues` on the request metrics).
    pub fn reset_latencies(&self) {
        self.readlatency.reset();
        self.updatelatency.reset();
    }
}

/// `samples` flattened as `mntr` and the admin server's `monitor` print
/// them: a summary becomes `avg_`, `min_`, `max_`, `cnt_`, `sum_` and, for
/// the advanced ones, `p50_` ... `p999_` keys.
pub fn flatten(samples: &[Sample]) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for (name, value) in samples {
        match value {
            Value::Text(s) => out.push(((*name).to_owned(), s.clone().into())),
            Value::Gauge(v) => out.push(((*name).to_owned(), number(*v))),
            Value::Counter(v) => out.push(((*name).to_owned(), (*v).into())),
            Value::Summary(s) => {
                out.push((format!("avg_{name}"), number(s.avg())));
                out.push((format!("min_{name}"), s.min.into()));
                out.push((format!("max_{name}"), s.max.into()));
                out.push((format!("cnt_{name}"), s.count.into()));
                out.push((format!("sum_{name}"), s.sum.into()));
                if s.level == Level::Advanced {
                    for (q, v) in &s.quantiles {
                        let key = match *q {
                            0.5 => "p50",
                            0.95 => "p95",
                            0.99 => "p99",
                            0.999 => "p999",
                            _ => continue,
                        };
                        out.push((format!("{key}_{name}"), (*v).into()));
                    }
                }
            }
        }
    }
    out
}

/// A gauge as JSON: whole numbers as integers (as ZooKeeper's longs),
/// the rest as floats.
fn number(v: f64) -> serde_json::Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        serde_json::Value::from(v as i64)
    } else {
        serde_json::Value::from(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_flatten_as_zookeepers_mntr() {
        let m = Metrics::default();
        m.fsynctime.record(4);
        m.readlatency.record(2);
        let flat = flatten(&m.samples());
        let get = |k: &str| flat.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("cnt_fsynctime"), Some(1.into()));
        assert_eq!(get("max_fsynctime"), Some(4.into()));
        assert_eq!(
            get("p50_fsynctime"),
            None,
            "basic summaries have no quantiles in mntr"
        );
        assert_eq!(get("p99_readlatency"), Some(2.into()));
        assert_eq!(get("looking_count"), Some(0.into()));
    }
}
