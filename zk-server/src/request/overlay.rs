//! Pending changes: what txns that are prepared but not yet applied will do
//! to the nodes they touch (ZooKeeper's `outstandingChanges`). Prep reads
//! through this overlay, so a write is checked against every write before
//! it, while those are still in the log stage.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use zk_proto::data::{Acl, Stat};

use crate::tree::{DataTree, Node};

/// What prep needs to know of a node: its persisted stat and ACL (not its
/// data).
#[derive(Debug, Clone)]
pub struct Meta {
    pub stat: Stat,
    pub acl: Arc<Vec<Acl>>,
}

impl Meta {
    pub fn of(node: &Node) -> Meta {
        Meta {
            stat: node.persisted_stat(),
            acl: node.acl.clone(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Overlay {
    /// Path -> (zxid of the last pending txn that touched it, state after it;
    /// `None` = deleted).
    changes: HashMap<String, (i64, Option<Meta>)>,
    /// The paths each pending txn touched, oldest first.
    by_zxid: VecDeque<(i64, Vec<String>)>,
}

impl Overlay {
    pub fn get(&self, tree: &DataTree, path: &str) -> Option<Meta> {
        match self.changes.get(path) {
            Some((_, meta)) => meta.clone(),
            None => tree.get(path).map(Meta::of),
        }
    }

    /// Records the changes of a txn just prepared with `zxid`.
    pub fn record(&mut self, zxid: i64, changes: Vec<(String, Option<Meta>)>) {
        let mut paths = Vec::with_capacity(changes.len());
        for (path, meta) in changes {
            paths.push(path.clone());
            self.changes.insert(path, (zxid, meta));
        }
        self.by_zxid.push_back((zxid, paths));
    }

    /// The txn `zxid` is in the tree now: its entries are no longer needed,
    /// unless a later pending txn touched the same path.
    pub fn applied(&mut self, zxid: i64) {
        while let Some((z, _)) = self.by_zxid.front() {
            if *z > zxid {
                break;
            }
            let Some((z, paths)) = self.by_zxid.pop_front() else {
                break;
            };
            for path in paths {
                if self.changes.get(&path).is_some_and(|(last, _)| *last == z) {
                    self.changes.remove(&path);
                }
            }
        }
    }

    /// Ephemerals of `session` created by pending txns.
    pub fn pending_ephemerals(&self, session: i64) -> impl Iterator<Item = &String> {
        self.changes.iter().filter_map(move |(path, (_, meta))| {
            meta.as_ref()
                .filter(|m| m.stat.ephemeral_owner == session)
                .map(|_| path)
        })
    }

    /// Paths deleted by pending txns.
    pub fn is_pending_delete(&self, path: &str) -> bool {
        matches!(self.changes.get(path), Some((_, None)))
    }

    pub fn is_empty(&self) -> bool {
        self.by_zxid.is_empty()
    }
}
