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
    /// A storage call failed; the error names the operation and the path.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Durable storage of txns.
pub trait TxnLog: Send + 'static {
    /// Makes `batch` durable; returns only when it is.
    fn persist(
        &mut self,
        batch: &[Txn],
    ) -> impl std::future::Future<Output = Result<(), LogError>> + Send;

    /// After a failed `persist`: undoes what the failed write left behind
    /// and checks that the storage takes writes again (space was freed, a
    /// disk came back). Until it succeeds, nothing is persisted.
    fn heal(&mut self) -> impl std::future::Future<Output = Result<(), LogError>> + Send;
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

    async fn heal(&mut self) -> Result<(), LogError> {
        Ok(())
    }
}

/// A log whose persist times are recorded as `fsynctime` (ZooKeeper
/// times its fsync; ours is the write and the fsync of one batch).
#[derive(Debug)]
pub struct Timed<L> {
    inner: L,
    stats: std::sync::Arc<crate::admin::ServerStats>,
}

impl<L: TxnLog> Timed<L> {
    pub fn new(inner: L, stats: std::sync::Arc<crate::admin::ServerStats>) -> Timed<L> {
        Timed { inner, stats }
    }
}

impl<L: TxnLog> TxnLog for Timed<L> {
    async fn persist(&mut self, batch: &[Txn]) -> Result<(), LogError> {
        let started = std::time::Instant::now();
        let persisted = self.inner.persist(batch).await;
        self.stats
            .metrics
            .fsynctime
            .record_duration(started.elapsed());
        persisted
    }

    fn heal(&mut self) -> impl std::future::Future<Output = Result<(), LogError>> + Send {
        self.inner.heal()
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
    /// After `Failed`, the heal asked for worked: the log takes txns again,
    /// continuing after the last durable one.
    Healed,
    /// After `Failed`, the heal asked for did not work (why).
    StillFailed(String),
}

/// Runs the log stage until its input closes. After a storage failure it
/// reports once and then drops whatever comes in: nothing after the
/// failure is ever acknowledged. (An ensemble member whose log fails
/// leaves its role and recovers from disk instead.)
pub async fn run_log_stage<L: TxnLog>(
    log: L,
    input: mpsc::Receiver<Txn>,
    events: mpsc::UnboundedSender<LogEvent>,
) {
    run_stage(log, input, events, None).await;
}

/// Like [`run_log_stage`], but after a failure each message on `heal` is a
/// request to repair the log and take txns again (answered `Healed` or
/// `StillFailed`). The state task asks only once it has failed every txn
/// it had sent, and sends none until `Healed`.
pub async fn run_healing_log_stage<L: TxnLog>(
    log: L,
    input: mpsc::Receiver<Txn>,
    events: mpsc::UnboundedSender<LogEvent>,
    heal: mpsc::Receiver<()>,
) {
    run_stage(log, input, events, Some(heal)).await;
}

async fn run_stage<L: TxnLog>(
    mut log: L,
    mut input: mpsc::Receiver<Txn>,
    events: mpsc::UnboundedSender<LogEvent>,
    mut heal: Option<mpsc::Receiver<()>>,
) {
    let mut batch = Vec::with_capacity(BATCH_MAX);
    while input.recv_many(&mut batch, BATCH_MAX).await > 0 {
        if let Err(e) = log.persist(&batch).await {
            tracing::error!(error = %e, "txn log failed; no further writes are acknowledged");
            batch.clear();
            let _ = events.send(LogEvent::Failed(e.to_string()));
            if !until_healed(&mut log, &mut input, &events, heal.as_mut()).await {
                return;
            }
            continue;
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

/// Drops every txn that comes in until a heal asked for works; false when
/// the stage should end (input closed, or no way to heal).
async fn until_healed<L: TxnLog>(
    log: &mut L,
    input: &mut mpsc::Receiver<Txn>,
    events: &mpsc::UnboundedSender<LogEvent>,
    mut heal: Option<&mut mpsc::Receiver<()>>,
) -> bool {
    let mut dropped = Vec::new();
    loop {
        let asked = async {
            match heal.as_deref_mut() {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            n = input.recv_many(&mut dropped, BATCH_MAX) => {
                if n == 0 {
                    return false;
                }
                dropped.clear();
            }
            asked = asked => {
                if asked.is_none() {
                    return false;
                }
                // Whatever the state task sent before asking is already
                // queued (it sent it first), and it failed those txns.
                while input.try_recv().is_ok() {}
                match log.heal().await {
                    Ok(()) => {
                        tracing::info!("txn log works again; writes are acknowledged again");
                        return events.send(LogEvent::Healed).is_ok();
                    }
                    Err(e) => {
                        if events.send(LogEvent::StillFailed(e.to_string())).is_err() {
                            return false;
                        }
                    }
                }
            }
        }
    }
}
