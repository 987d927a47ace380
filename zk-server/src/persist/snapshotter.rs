//! When to take a snapshot, and taking it off the state task: every
//! `snapCount` txns, randomized like ZooKeeper (snapCount/2 plus up to
//! snapCount/2) so the servers of an ensemble do not all snapshot at once.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::snapshot::{Snapshot, write_snapshot};
use super::storage::Storage;
use crate::tree::DataTree;

#[derive(Debug)]
pub struct Snapshotter {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    snap_count: u64,
    since: u64,
    threshold: u64,
    /// One snapshot at a time; the next waits for the threshold again.
    running: Arc<AtomicBool>,
}

impl Snapshotter {
    pub fn new(storage: Arc<dyn Storage>, dir: PathBuf, snap_count: u64) -> Snapshotter {
        let snap_count = snap_count.max(2);
        Snapshotter {
            storage,
            dir,
            snap_count,
            since: 0,
            threshold: Self::next_threshold(snap_count),
            running: Arc::new(AtomicBool::new(false)),
        }
    }

    fn next_threshold(snap_count: u64) -> u64 {
        snap_count / 2 + fastrand::u64(0..=snap_count / 2)
    }

    /// Called after each applied txn; starts a snapshot when due.
    pub fn applied(&mut self, tree: &DataTree, sessions: impl FnOnce() -> BTreeMap<i64, u32>) {
        self.since += 1;
        if self.since < self.threshold || self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        self.since = 0;
        self.threshold = Self::next_threshold(self.snap_count);
        self.write(tree, sessions());
    }

    /// Takes a snapshot now, in the background (at start-up, as ZooKeeper
    /// does after loading its data, so the next start replays no log).
    /// Skipped if one is being written.
    pub fn take_now(&mut self, tree: &DataTree, sessions: BTreeMap<i64, u32>) {
        if !self.running.swap(true, Ordering::AcqRel) {
            self.write(tree, sessions);
        }
    }

    /// Writes the snapshot off the state task; `running` is set.
    fn write(&self, tree: &DataTree, sessions: BTreeMap<i64, u32>) {
        let snap = Snapshot {
            zxid: tree.last_zxid(),
            sessions,
            // O(1): the tree is a persistent structure.
            tree: tree.clone(),
        };
        let (storage, dir, running) =
            (self.storage.clone(), self.dir.clone(), self.running.clone());
        let write = move || {
            let started = std::time::Instant::now();
            match write_snapshot(storage.as_ref(), &dir, &snap) {
                Ok(path) => tracing::info!(
                    path = %path.display(),
                    nodes = snap.tree.node_count(),
                    ms = started.elapsed().as_millis() as u64,
                    "snapshot taken"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "snapshot failed; the log still has everything")
                }
            }
            running.store(false, Ordering::Release);
        };
        if self.storage.simulated() {
            write();
        } else {
            tokio::task::spawn_blocking(write);
        }
    }
}
