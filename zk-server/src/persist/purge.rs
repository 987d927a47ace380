//! Removing old files: all but the newest `retain` snapshots (at least 3,
//! as ZooKeeper insists), and the log segments whose txns are all covered
//! by the oldest snapshot kept.

use std::io;
use std::path::{Path, PathBuf};

use super::snapshot::list_snapshots;
use super::storage::Storage;
use super::txn_log::parse_segment_name;
use super::version_dir;

/// ZooKeeper's floor for `autopurge.snapRetainCount`.
pub const MIN_RETAIN: usize = 3;

/// Deletes what is no longer needed; returns the deleted files.
pub fn purge(
    storage: &dyn Storage,
    data_dir: &Path,
    log_dir: &Path,
    retain: usize,
) -> io::Result<Vec<PathBuf>> {
    let retain = retain.max(MIN_RETAIN);
    let snaps = list_snapshots(storage, &version_dir(data_dir))?;
    let mut deleted = Vec::new();
    if snaps.len() <= retain {
        return Ok(deleted);
    }
    let oldest_kept = snaps[retain - 1].0;
    for (_, path) in &snaps[retain..] {
        storage.remove(path)?;
        deleted.push(path.clone());
    }
    let log = version_dir(log_dir);
    let mut segments: Vec<(i64, PathBuf)> = storage
        .list(&log)?
        .into_iter()
        .filter_map(|n| parse_segment_name(&n).map(|z| (z, log.join(n))))
        .collect();
    segments.sort();
    // A segment is covered when the next one starts at or before the
    // first txn the oldest kept snapshot does not have.
    for pair in segments.windows(2) {
        if pair[1].0 <= oldest_kept + 1 {
            storage.remove(&pair[0].1)?;
            deleted.push(pair[0].1.clone());
        }
    }
    Ok(deleted)
}
