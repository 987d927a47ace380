//! Recovery: every log segment, checked and replayed in zxid order into a
//! fresh tree; sessions are rebuilt from their createSession and
//! closeSession txns (a client reconnecting within its timeout keeps its
//! session and ephemerals, as in ZooKeeper).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use zk_proto::txn::TxnBody;

use super::storage::Storage;
use super::txn_log::{LogError, LogWriter, read_log};
use super::{LogOptions, version_dir};
use crate::tree::DataTree;

/// The state a restart starts from.
#[derive(Debug)]
pub struct Recovered {
    pub tree: DataTree,
    /// Open sessions: id -> timeout (ms).
    pub sessions: BTreeMap<i64, u32>,
    pub writer: LogWriter,
    /// Txns replayed.
    pub replayed: usize,
}

pub fn recover(storage: Arc<dyn Storage>, log_dir: &Path, opts: LogOptions) -> Result<Recovered, LogError> {
    let dir = version_dir(log_dir);
    let segments = read_log(storage.as_ref(), &dir)?;
    let mut tree = DataTree::new();
    let mut sessions = BTreeMap::new();
    let mut replayed = 0;
    for seg in &segments {
        for txn in &seg.txns {
            if txn.header.zxid <= tree.last_zxid() {
                continue;
            }
            match &txn.body {
                TxnBody::CreateSession(t) => {
                    sessions.insert(txn.header.client_id, t.timeout_ms.max(0) as u32);
                }
                TxnBody::CloseSession(_) => {
                    sessions.remove(&txn.header.client_id);
                }
                _ => {}
            }
            tree.apply(txn);
            replayed += 1;
        }
    }
    let writer = LogWriter::open(
        storage,
        &dir,
        segments.last(),
        opts.prealloc_bytes,
        opts.segment_max_bytes,
    )?;
    if replayed > 0 {
        tracing::info!(
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
    })
}
