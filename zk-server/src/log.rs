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

/// Keeps txns in memory: nothing survives a restart.
#[derive(Debug, Default)]
pub struct MemLog {
    txns: Vec<Txn>,
}

impl MemLog {
    pub fn len(&self) -> usize {
        self.txns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.txns.is_empty()
    }
}

impl TxnLog for MemLog {
    async fn persist(&mut self, batch: &[Txn]) -> Result<(), LogError> {
        self.txns.extend_from_slice(batch);
        Ok(())
    }
}

/// Runs the log stage until its input closes. A storage failure stops the
/// stage: nothing after it is acknowledged, and the state task sees the
/// commit channel close.
pub async fn run_log_stage<L: TxnLog>(
    mut log: L,
    mut input: mpsc::Receiver<Txn>,
    committed: mpsc::UnboundedSender<Vec<Txn>>,
) {
    let mut batch = Vec::with_capacity(BATCH_MAX);
    while input.recv_many(&mut batch, BATCH_MAX).await > 0 {
        if let Err(e) = log.persist(&batch).await {
            tracing::error!(error = %e, "txn log failed; no further writes are acknowledged");
            return;
        }
        if committed.send(std::mem::take(&mut batch)).is_err() {
            return;
        }
        batch.reserve(BATCH_MAX);
    }
}
