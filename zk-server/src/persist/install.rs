//! A learner's history replaced by the leader's: SNAP installs a snapshot,
//! TRUNC rewinds to a zxid. Both end the same way: one snapshot at the new
//! last zxid, no log segments, and a fresh log writer after it.

use std::io;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use super::recovery::{RecoverOptions, recover_with};
use super::snapshot::{Snapshot, list_snapshots, write_snapshot};
use super::storage::{MemStorage, Storage};
use super::txn_log::{LogError, LogWriter, parse_segment_name};
use super::{LogOptions, version_dir};

/// A snapshot as the bytes of its file (what SNAP sends).
pub fn snapshot_bytes(snap: &Snapshot) -> io::Result<Bytes> {
    let mem = MemStorage::default();
    let path = write_snapshot(&mem, Path::new("/snap"), snap)?;
    Ok(Bytes::from(mem.read(&path)?))
}

/// Makes `snap` this server's whole history.
///
/// Order matters for a crash in the middle: newer snapshots go first (then
/// recovery finds the state from before the sync), the new snapshot is
/// written and synced next, and the log segments go last. A crash between
/// the last two steps leaves the old segments: after a SNAP they hold
/// nothing past the snapshot, so recovery skips them; after a TRUNC the
/// dropped txns would come back (a window of two file removals, left open
/// for now).
pub fn install_snapshot(
    storage: Arc<dyn Storage>,
    data_dir: &Path,
    log_dir: &Path,
    snap: &Snapshot,
    opts: LogOptions,
) -> io::Result<LogWriter> {
    let snap_dir = version_dir(data_dir);
    for (zxid, path) in list_snapshots(storage.as_ref(), &snap_dir)? {
        if zxid >= snap.zxid {
            storage.remove(&path)?;
        }
    }
    write_snapshot(storage.as_ref(), &snap_dir, snap)?;
    let log_dir = version_dir(log_dir);
    for name in storage.list(&log_dir)? {
        if parse_segment_name(&name).is_some() {
            storage.remove(&log_dir.join(name))?;
        }
    }
    LogWriter::open(
        storage,
        &log_dir,
        None,
        opts.prealloc_bytes,
        opts.segment_max_bytes,
    )
}

/// TRUNC: the state at `zxid` (every txn after it dropped), installed as
/// this server's history.
pub fn truncate_to(
    storage: Arc<dyn Storage>,
    data_dir: &Path,
    log_dir: &Path,
    zxid: i64,
    opts: LogOptions,
) -> Result<(Snapshot, LogWriter), LogError> {
    let upto = RecoverOptions {
        log: opts,
        upto: Some(zxid),
        keep_tail: false,
    };
    let r = recover_with(storage.clone(), data_dir, log_dir, upto)?;
    if r.tree.last_zxid() != zxid {
        return Err(LogError::Io(io::Error::other(format!(
            "cannot truncate to {zxid:#x}: the history here reaches {:#x} below it",
            r.tree.last_zxid()
        ))));
    }
    drop(r.writer);
    let snap = Snapshot {
        zxid,
        sessions: r.sessions,
        tree: r.tree,
    };
    let writer = install_snapshot(storage, data_dir, log_dir, &snap, opts)?;
    Ok((snap, writer))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use zk_proto::txn::{CreateTxn, Txn, TxnBody, TxnHeader};

    use super::*;
    use crate::persist::recover;
    use crate::zab::zxid::make;

    fn create(zxid: i64, path: &str) -> Txn {
        Txn {
            header: TxnHeader {
                client_id: 1,
                cxid: 1,
                zxid,
                time_ms: 0,
            },
            body: TxnBody::Create(CreateTxn {
                path: path.into(),
                data: None,
                acl: Vec::new(),
                ephemeral: false,
                parent_cversion: 0,
            }),
        }
    }

    #[test]
    fn truncate_drops_the_txns_after_and_survives_restart() {
        let storage: Arc<dyn Storage> = Arc::new(MemStorage::default());
        let dir = PathBuf::from("/d");
        let opts = LogOptions::default();
        let mut r = recover(storage.clone(), &dir, &dir, opts).unwrap();
        let txns: Vec<Txn> = (1..=4)
            .map(|i| create(make(1, i), &format!("/n{i}")))
            .collect();
        r.writer.append(&txns).unwrap();
        drop(r);
        let (snap, mut writer) =
            truncate_to(storage.clone(), &dir, &dir, make(1, 2), opts).unwrap();
        assert_eq!(snap.tree.last_zxid(), make(1, 2));
        writer.append(&[create(make(2, 1), "/new")]).unwrap();
        drop(writer);
        let r = recover(storage, &dir, &dir, opts).unwrap();
        assert!(r.tree.get("/n2").is_some());
        assert!(r.tree.get("/n3").is_none());
        assert!(r.tree.get("/new").is_some());
        assert_eq!(r.tree.last_zxid(), make(2, 1));
    }
}
