//! Durable storage behind the log stage: the transaction log (segments of
//! CRC-checked batches, one fsync per batch) and recovery (replay of the
//! log into a fresh tree and session table).
//!
//! Layout, as in ZooKeeper: `dataLogDir/version-2/log.<zxid>`;
//! `dataDir/version-2/snapshot.<zxid>` (snapshots come with a later step).
//! The byte format of a segment is described in `txn_log`.

pub mod install;
pub mod purge;
mod recovery;
pub mod snapshot;
#[cfg(test)]
mod snapshot_test;
mod snapshotter;
pub mod storage;
pub mod txn_log;
#[cfg(test)]
mod txn_log_test;

use std::path::{Path, PathBuf};

use zk_proto::txn::Txn;

pub use recovery::{RecoverOptions, Recovered, recover, recover_with, track_session};
pub use snapshotter::Snapshotter;
pub use storage::{FileStorage, MemStorage, Storage, StorageFile};
pub use txn_log::{LogError, LogWriter};

use crate::log::{LogError as StageError, TxnLog};

/// ZooKeeper keeps its files in a `version-2` directory under dataDir and
/// dataLogDir; so do we (the file formats are ours, the layout theirs).
pub fn version_dir(dir: &Path) -> PathBuf {
    dir.join("version-2")
}

/// What a write check writes: a few blocks, so a disk with only a sliver
/// of space left does not pass.
const PROBE_BYTES: usize = 64 * 1024;

/// Checks at start-up that files can be created, written, fsynced and
/// removed in `dir/version-2`, so a directory the server cannot use stops
/// it before it serves (it would otherwise fail at the first write).
pub fn check_writable(storage: &dyn Storage, dir: &Path) -> std::io::Result<()> {
    probe(storage, &version_dir(dir))
}

/// Creates, writes, fsyncs and removes a file in `dir`: whether files can
/// be written there now (space, permissions, a working disk).
fn probe(storage: &dyn Storage, dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".write-check.{}", std::process::id()));
    let mut file = storage.create(&probe)?;
    let written = file
        .write_at(0, &[0u8; PROBE_BYTES])
        .and_then(|()| file.sync());
    drop(file);
    let removed = storage.remove(&probe);
    written.and(removed)
}

/// Runs blocking storage work: on a blocking thread for real files, inline
/// for a simulated storage (see [`Storage::simulated`]).
pub async fn off_thread<T: Send + 'static>(
    inline: bool,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<T> {
    if inline {
        return Ok(f());
    }
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))
}

/// Sizes of the log files.
#[derive(Debug, Clone, Copy)]
pub struct LogOptions {
    /// Bytes the file grows by ahead of the writes (`preAllocSize`).
    pub prealloc_bytes: u64,
    /// A new segment starts past this size.
    pub segment_max_bytes: u64,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            prealloc_bytes: 64 << 20,
            segment_max_bytes: 64 << 20,
        }
    }
}

/// The log stage's storage: a [`LogWriter`] driven from a blocking thread,
/// since writes and fsync block.
#[derive(Debug)]
pub struct FileTxnLog {
    /// None only while a write is running on the blocking thread.
    writer: Option<LogWriter>,
    /// A write failed and the log is not healed: it may hold part of that
    /// batch past the last durable one, so nothing is appended.
    torn: bool,
    /// The last zxid durably written, for whoever outlives this log.
    durable: Option<std::sync::Arc<std::sync::atomic::AtomicI64>>,
}

impl FileTxnLog {
    pub fn new(writer: LogWriter) -> FileTxnLog {
        FileTxnLog {
            writer: Some(writer),
            torn: false,
            durable: None,
        }
    }

    /// Also records in `durable` the last zxid each batch made durable.
    pub fn with_progress(
        writer: LogWriter,
        durable: std::sync::Arc<std::sync::atomic::AtomicI64>,
    ) -> FileTxnLog {
        FileTxnLog {
            durable: Some(durable),
            ..FileTxnLog::new(writer)
        }
    }

    /// Runs `f` on the writer off the state task's thread.
    async fn with_writer<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut LogWriter) -> std::io::Result<T> + Send + 'static,
    ) -> std::io::Result<T> {
        let mut writer = self
            .writer
            .take()
            .ok_or_else(|| std::io::Error::other("the log writer was lost"))?;
        let inline = writer.simulated();
        let (writer, result) = off_thread(inline, move || {
            let r = f(&mut writer);
            (writer, r)
        })
        .await?;
        self.writer = Some(writer);
        result
    }
}

impl TxnLog for FileTxnLog {
    async fn persist(&mut self, batch: &[Txn]) -> Result<(), StageError> {
        let Some(first) = batch.first() else {
            return Ok(());
        };
        if self.torn {
            return Err(std::io::Error::other("the log failed earlier and is not healed").into());
        }
        let first_zxid = first.header.zxid;
        let bytes = txn_log::encode_batch(batch);
        let result = self
            .with_writer(move |w| w.append_encoded(first_zxid, &bytes))
            .await;
        if result.is_err() {
            self.torn = true;
        } else if let (Some(d), Some(last)) = (&self.durable, batch.last()) {
            d.store(last.header.zxid, std::sync::atomic::Ordering::Release);
        }
        Ok(result?)
    }

    async fn heal(&mut self) -> Result<(), StageError> {
        self.with_writer(|w| {
            w.repair()?;
            w.check_writable()
        })
        .await?;
        self.torn = false;
        Ok(())
    }
}
