//! The log stage of the pipeline: txns go in, in zxid order, and come back
//! out once durable, in the same order. Batches form naturally: the stage
//! takes everything that is waiting, persists it as one batch (one fsync for
//! a file log: group commit) and reports the whole batch committed.
//!
//! Standalone, committed means durable. Replication adds the quorum between
//! persist and commit; storage implements `TxnLog`.

use tokio::sync::mpsc;
use zk_proto::txn::Txn;

/// Most txns persisted as one batch: bounds the latency of the first one.
const BATCH_MAX: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("log storage failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Durable storage of txns.
pub trait TxnLog: Send + 'static {
    /// Makes `batch` durable; returns only when it is.
    fn persist(
        &mut self,
        batch: &[Txn],
    ) -> impl std::future::Future<Output = Result<(), LogError>> + Send;
}

/// The log of a server without storage: it counts what passes and keeps
/// nothing, so a restart starts empty. Durable storage replaces it.
#[derive(Debug, Default)]
pub struct MemLog {
    appended: u64,
    last_zxid: i64,
}

impl MemLog {
    /// Txns persisted so far.
    pub fn appended(&self) -> u64 {
        self.appended
    }

    pub fn last_zxid(&self) -> i64 {
        self.last_zxid
    }
}

impl TxnLog for MemLog {
    async fn persist(&mut self, batch: &[Txn]) -> Result<(), LogError> {
        self.appended += batch.len() as u64;
        if let Some(last) = batch.last() {
            debug_assert!(last.header.zxid > self.last_zxid, "zxids go up");
            self.last_zxid = last.header.zxid;
        }
        Ok(())
    }
}

/// What the log stage tells the state task.
#[derive(Debug)]
pub enum LogEvent {
    /// These txns are durable, in this order.
    Committed(Vec<Txn>),
    /// Storage failed (disk full, fsync error): nothing from this batch on
    /// is durable, and nothing more will be.
    Failed(String),
    /// A learner's oldest pending `sync` is answered: every txn the leader
    /// proposed before it has been delivered.
    Synced,
}

/// Runs the log stage until its input closes. After a storage failure it
/// reports once and then drops whatever comes in: nothing after the
/// failure is ever acknowledged.
pub async fn run_log_stage<L: TxnLog>(
    mut log: L,
    mut input: mpsc::Receiver<Txn>,
    events: mpsc::UnboundedSender<LogEvent>,
) {
    let mut batch = Vec::with_capacity(BATCH_MAX);
    while input.recv_many(&mut batch, BATCH_MAX).await > 0 {
        if let Err(e) = log.persist(&batch).await {
            tracing::error!(error = %e, "txn log failed; no further writes are acknowledged");
            let _ = events.send(LogEvent::Failed(e.to_string()));
            while input.recv_many(&mut batch, BATCH_MAX).await > 0 {
                batch.clear();
            }
            return;
        }
        if events
            .send(LogEvent::Committed(std::mem::take(&mut batch)))
            .is_err()
        {
            return;
        }
        batch.reserve(BATCH_MAX);
    }
}
