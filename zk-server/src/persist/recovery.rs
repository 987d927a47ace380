//! Recovery: the newest snapshot that reads back whole (an older one if
//! the newest is damaged), then every logged txn after it, checked and
//! replayed in zxid order. Sessions come from the snapshot and the
//! createSession/closeSession txns after it (a client reconnecting within
//! its timeout keeps its session and ephemerals, as in ZooKeeper).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use zk_proto::txn::{Txn, TxnBody};

use super::snapshot::{Snapshot, list_snapshots, read_snapshot};
use super::storage::Storage;
use super::txn_log::{LogError, LogWriter, read_log_from};
use super::{LogOptions, version_dir};
use crate::tree::DataTree;
use crate::zab::zxid::follows;

/// The state a restart starts from.
#[derive(Debug)]
pub struct Recovered {
    pub tree: DataTree,
    /// Open sessions: id -> timeout (ms).
    pub sessions: BTreeMap<i64, u32>,
    pub writer: LogWriter,
    /// Txns replayed.
    pub replayed: usize,
    /// The zxid of the snapshot recovery started from (0: none).
    pub snapshot_zxid: i64,
    /// The txns replayed, kept when asked: a leader syncs learners by DIFF
    /// from them.
    pub tail: Vec<Txn>,
}

/// What to recover.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecoverOptions {
    pub log: LogOptions,
    /// Stop at this zxid (a learner told to TRUNC); None: everything.
    pub upto: Option<i64>,
    /// Keep the replayed txns in `Recovered::tail`.
    pub keep_tail: bool,
}

pub fn recover(
    storage: Arc<dyn Storage>,
    data_dir: &Path,
    log_dir: &Path,
    opts: LogOptions,
) -> Result<Recovered, LogError> {
    let opts = RecoverOptions {
        log: opts,
        ..RecoverOptions::default()
    };
    recover_with(storage, data_dir, log_dir, opts)
}

pub fn recover_with(
    storage: Arc<dyn Storage>,
    data_dir: &Path,
    log_dir: &Path,
    opts: RecoverOptions,
) -> Result<Recovered, LogError> {
    let upto = opts.upto.unwrap_or(i64::MAX);
    let newest = newest_snapshot(storage.as_ref(), &version_dir(data_dir), upto)?;
    let (mut tree, mut sessions) = match newest {
        Some(snap) => (snap.tree, snap.sessions),
        None => (DataTree::new(), BTreeMap::new()),
    };
    let snapshot_zxid = tree.last_zxid();
    let dir = version_dir(log_dir);
    let segments = read_log_from(storage.as_ref(), &dir, snapshot_zxid + 1)?;
    let mut replayed = 0;
    let mut tail = Vec::new();
    for seg in &segments {
        for txn in &seg.txns {
            if txn.header.zxid <= tree.last_zxid() {
                continue;
            }
            if txn.header.zxid > upto {
                break;
            }
            if !follows(tree.last_zxid(), txn.header.zxid) {
                // The txns between the snapshot and the log are in no file.
                return Err(LogError::Gap {
                    path: seg.path.clone(),
                    from: tree.last_zxid() + 1,
                    to: txn.header.zxid - 1,
                });
            }
            track_session(&mut sessions, txn);
            tree.apply(txn);
            replayed += 1;
            if opts.keep_tail {
                tail.push(txn.clone());
            }
        }
    }
    let writer = LogWriter::open(
        storage,
        &dir,
        segments.last(),
        opts.log.prealloc_bytes,
        opts.log.segment_max_bytes,
    )?;
    if replayed > 0 || snapshot_zxid > 0 {
        tracing::info!(
            snapshot_zxid = format_args!("{snapshot_zxid:#x}"),
            replayed,
            last_zxid = format_args!("{:#x}", tree.last_zxid()),
            sessions = sessions.len(),
            "recovered from the log"
        );
    }
    Ok(Recovered {
        tree,
        sessions,
        writer,
        replayed,
        snapshot_zxid,
        tail,
    })
}

/// Keeps `sessions` (id -> timeout ms) up to date with `txn`.
pub fn track_session(sessions: &mut BTreeMap<i64, u32>, txn: &Txn) {
    match &txn.body {
        TxnBody::CreateSession(t) => {
            sessions.insert(txn.header.client_id, t.timeout_ms.max(0) as u32);
        }
        TxnBody::CloseSession(_) => {
            sessions.remove(&txn.header.client_id);
        }
        _ => {}
    }
}

/// The newest snapshot that reads back whole; damaged ones are skipped with
/// a warning (the log still has what they held, unless it was purged: then
/// replay finds a gap and stops).
fn newest_snapshot(
    storage: &dyn Storage,
    dir: &Path,
    upto: i64,
) -> Result<Option<Snapshot>, LogError> {
    for (zxid, path) in list_snapshots(storage, dir)? {
        if zxid > upto {
            continue;
        }
        let bytes = bytes::Bytes::from(storage.read(&path)?);
        match read_snapshot(bytes) {
            Ok(snap) if snap.zxid == zxid => return Ok(Some(snap)),
            Ok(_) => {
                tracing::warn!(path = %path.display(), "snapshot zxid does not match its name; skipped")
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "damaged snapshot skipped; trying an older one")
            }
        }
    }
    Ok(None)
}
