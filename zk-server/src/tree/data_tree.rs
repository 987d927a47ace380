//! The data tree: every znode, indexed by path, plus the indexes the server
//! needs (ephemerals by session, containers, TTL nodes, quota targets).
//!
//! `apply` is the only way a txn changes the tree. It is deterministic: the
//! same txns in the same order give the same tree on every replica and after
//! every recovery. It returns what changed so the caller can fire watches.

use std::collections::BTreeSet;

use imbl::{HashMap, OrdSet};
use std::sync::Arc;

use bytes::Bytes;
use zk_proto::ErrorCode;
use zk_proto::data::{Acl, EventType, Stat};
use zk_proto::path::{base_name, parent};
use zk_proto::txn::{Txn, TxnBody};

use super::node::{CONTAINER_OWNER, Node, NodeKind};
use super::quota::{self, StatsTrack};

/// A change that may fire watches: `event` happened at `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub event: EventType,
    /// The ACL of the node the event is about (the parent's for child
    /// changes, the last one for a delete): only watchers that may READ
    /// it hear the event (ZOOKEEPER-4799, CVE-2024-23944).
    pub acl: Arc<Vec<Acl>>,
}

/// What applying one txn produced, op by op for a multi.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnResult {
    Created { path: String, stat: Stat },
    Deleted,
    SetData { stat: Stat },
    SetAcl { stat: Stat },
    Checked,
    Session,
    Error(ErrorCode),
    Multi(Vec<TxnResult>),
}

/// Every collection is persistent (imbl): `clone()` is O(1), and the clone
/// a snapshot serializes in the background is not disturbed by the writes
/// that go on meanwhile.
#[derive(Debug, Clone)]
pub struct DataTree {
    nodes: HashMap<String, Node>,
    ephemerals: HashMap<i64, OrdSet<String>>,
    containers: OrdSet<String>,
    ttls: OrdSet<String>,
    /// Paths with a `zookeeper_limits` node.
    quota_targets: OrdSet<String>,
    last_zxid: i64,
}

impl Default for DataTree {
    fn default() -> Self {
        DataTree::new()
    }
}

impl DataTree {
    /// A tree with `/`, `/zookeeper`, `/zookeeper/quota` and
    /// `/zookeeper/config`, as ZooKeeper starts.
    pub fn new() -> DataTree {
        let open = Arc::new(Acl::open_unsafe());
        let mut tree = DataTree {
            nodes: HashMap::new(),
            ephemerals: HashMap::new(),
            containers: OrdSet::new(),
            ttls: OrdSet::new(),
            quota_targets: OrdSet::new(),
            last_zxid: 0,
        };
        let mut root = Node::new(Some(Bytes::new()), open.clone(), 0, 0, 0);
        root.children.insert("zookeeper".into());
        let mut proc_node = Node::new(Some(Bytes::new()), open.clone(), 0, 0, 0);
        proc_node.children.insert("quota".into());
        proc_node.children.insert("config".into());
        tree.nodes.insert("/".into(), root);
        tree.nodes.insert("/zookeeper".into(), proc_node);
        tree.nodes.insert(
            quota::QUOTA_ROOT.into(),
            Node::new(Some(Bytes::new()), open, 0, 0, 0),
        );
        // Read-only for everyone (ZOOKEEPER-2014); ZooKeeper sets that ACL
        // with version -1, which shows as aclVersion -1.
        let mut config = Node::new(Some(Bytes::new()), Arc::new(Acl::read_unsafe()), 0, 0, 0);
        config.aversion = -1;
        tree.nodes.insert("/zookeeper/config".into(), config);
        tree
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    pub fn last_zxid(&self) -> i64 {
        self.last_zxid
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Paths and data bytes, as ZooKeeper's `approximateDataSize`.
    pub fn approximate_data_size(&self) -> u64 {
        self.nodes
            .iter()
            .map(|(p, n)| (p.len() + n.data_len()) as u64)
            .sum()
    }

    pub fn ephemerals_of(&self, session_id: i64) -> impl Iterator<Item = &String> {
        self.ephemerals.get(&session_id).into_iter().flatten()
    }

    pub fn ephemeral_sessions(&self) -> impl Iterator<Item = (&i64, &OrdSet<String>)> {
        self.ephemerals.iter()
    }

    pub fn ephemeral_count(&self) -> usize {
        self.ephemerals.values().map(OrdSet::len).sum()
    }

    pub fn containers(&self) -> impl Iterator<Item = &String> {
        self.containers.iter()
    }

    pub fn ttls(&self) -> impl Iterator<Item = &String> {
        self.ttls.iter()
    }

    /// The nearest quota target at or above `path` (none under `/zookeeper`).
    pub fn quota_prefix(&self, path: &str) -> Option<&str> {
        if path == "/zookeeper" || path.starts_with("/zookeeper/") {
            return None;
        }
        self.quota_targets
            .iter()
            .filter(|t| quota::covers(t, path))
            .max_by_key(|t| t.len())
            .map(String::as_str)
    }

    /// Nodes in the subtree under `path`, the node itself excluded.
    pub fn descendant_count(&self, path: &str) -> usize {
        let (count, _) = self.subtree_counts(path);
        count.saturating_sub(1)
    }

    /// Count and data bytes of the subtree at `path`, itself included.
    fn subtree_counts(&self, path: &str) -> (usize, usize) {
        let mut stack = vec![path.to_owned()];
        let (mut count, mut bytes) = (0, 0);
        while let Some(p) = stack.pop() {
            let Some(node) = self.nodes.get(&p) else {
                continue;
            };
            count += 1;
            bytes += node.data_len();
            for child in &node.children {
                stack.push(child_path(&p, child));
            }
        }
        (count, bytes)
    }

    /// Every node, parents before children (the order a snapshot stores
    /// them in).
    pub fn walk(&self) -> impl Iterator<Item = (String, &Node)> + '_ {
        let mut stack = vec!["/".to_owned()];
        std::iter::from_fn(move || {
            let path = stack.pop()?;
            let node = self.nodes.get(&path)?;
            for child in node.children.iter().rev() {
                stack.push(child_path(&path, child));
            }
            Some((path, node))
        })
    }

    /// Rebuilds a tree from nodes (children lists are derived from the
    /// paths, so they need not be stored) at `last_zxid`.
    pub fn from_nodes(nodes: impl IntoIterator<Item = (String, Node)>, last_zxid: i64) -> DataTree {
        let mut tree = DataTree {
            nodes: HashMap::new(),
            ephemerals: HashMap::new(),
            containers: OrdSet::new(),
            ttls: OrdSet::new(),
            quota_targets: OrdSet::new(),
            last_zxid,
        };
        for (path, mut node) in nodes {
            node.children = OrdSet::new();
            if path != "/"
                && let Some(parent_node) = tree.nodes.get_mut(parent(&path))
            {
                parent_node.children.insert(base_name(&path).to_owned());
            }
            tree.index(&path, node.kind());
            if let Some((target, quota::LIMIT_NODE)) = quota::quota_target(&path) {
                tree.quota_targets.insert(target.to_owned());
            }
            tree.nodes.insert(path, node);
        }
        tree
    }

    /// Adds a node to the index of its kind (containers, TTL nodes, a
    /// session's ephemerals).
    fn index(&mut self, path: &str, kind: NodeKind) {
        match kind {
            NodeKind::Container => {
                self.containers.insert(path.to_owned());
            }
            NodeKind::Ttl(_) => {
                self.ttls.insert(path.to_owned());
            }
            NodeKind::Ephemeral(session) => {
                self.ephemerals
                    .entry(session)
                    .or_default()
                    .insert(path.to_owned());
            }
            NodeKind::Persistent => {}
        }
    }

    /// Applies one committed txn.
    pub fn apply(&mut self, txn: &Txn) -> (TxnResult, Vec<Change>) {
        let mut changes = Vec::new();
        let result = self.apply_body(txn, &txn.body, &mut changes);
        if txn.header.zxid > self.last_zxid {
            self.last_zxid = txn.header.zxid;
        }
        (result, changes)
    }

    fn apply_body(&mut self, txn: &Txn, body: &TxnBody, changes: &mut Vec<Change>) -> TxnResult {
        let h = &txn.header;
        let outcome = match body {
            TxnBody::Create(t) => {
                let owner = if t.ephemeral { h.client_id } else { 0 };
                self.create_node(
                    &t.path,
                    &t.data,
                    &t.acl,
                    owner,
                    t.parent_cversion,
                    h,
                    changes,
                )
            }
            TxnBody::CreateContainer(t) => self.create_node(
                &t.path,
                &t.data,
                &t.acl,
                CONTAINER_OWNER,
                t.parent_cversion,
                h,
                changes,
            ),
            TxnBody::CreateTtl(t) => self.create_node(
                &t.path,
                &t.data,
                &t.acl,
                NodeKind::ttl_owner(t.ttl),
                t.parent_cversion,
                h,
                changes,
            ),
            TxnBody::Delete(t) | TxnBody::DeleteContainer(t) => self
                .delete_node(&t.path, h.zxid, changes)
                .map(|()| TxnResult::Deleted),
            TxnBody::SetData(t) => self
                .set_data(&t.path, &t.data, t.version, h.zxid, h.time_ms, changes)
                .map(|stat| TxnResult::SetData { stat }),
            TxnBody::SetAcl(t) => self
                .set_acl(&t.path, &t.acl, t.version)
                .map(|stat| TxnResult::SetAcl { stat }),
            TxnBody::CheckVersion(_) => Ok(TxnResult::Checked),
            TxnBody::CreateSession(_) => Ok(TxnResult::Session),
            TxnBody::CloseSession(t) => {
                // The txn names what prep saw; the index catches anything
                // else the session owns, so no ephemeral outlives it.
                let mut paths: BTreeSet<String> = t.paths_to_delete.iter().cloned().collect();
                paths.extend(self.ephemerals_of(h.client_id).cloned());
                for path in paths {
                    if self
                        .nodes
                        .get(&path)
                        .is_some_and(|n| n.ephemeral_owner == h.client_id)
                    {
                        let _ = self.delete_node(&path, h.zxid, changes);
                    }
                }
                self.ephemerals.remove(&h.client_id);
                Ok(TxnResult::Session)
            }
            TxnBody::Error(t) => Ok(TxnResult::Error(
                ErrorCode::from_code(t.err).unwrap_or(ErrorCode::SystemError),
            )),
            TxnBody::Multi(subs) => Ok(TxnResult::Multi(
                subs.iter()
                    .map(|sub| self.apply_body(txn, sub, changes))
                    .collect(),
            )),
        };
        outcome.unwrap_or_else(TxnResult::Error)
    }

    #[allow(clippy::too_many_arguments)]
    fn create_node(
        &mut self,
        path: &str,
        data: &Option<Bytes>,
        acl: &[Acl],
        owner: i64,
        parent_cversion: i32,
        h: &zk_proto::txn::TxnHeader,
        changes: &mut Vec<Change>,
    ) -> Result<TxnResult, ErrorCode> {
        let parent_path = parent(path);
        if self.nodes.contains_key(path) {
            return Err(ErrorCode::NodeExists);
        }
        let parent_node = self.nodes.get_mut(parent_path).ok_or(ErrorCode::NoNode)?;
        // Replaying a txn over a fuzzy snapshot must not move cversion back.
        if parent_cversion > parent_node.cversion {
            parent_node.cversion = parent_cversion;
            parent_node.pzxid = h.zxid;
        }
        parent_node.children.insert(base_name(path).to_owned());
        let node = Node::new(
            data.clone(),
            Arc::new(acl.to_vec()),
            h.zxid,
            h.time_ms,
            owner,
        );
        let stat = node.stat();
        let bytes = node.data_len() as i64;
        let node_acl = node.acl.clone();
        self.nodes.insert(path.to_owned(), node);
        self.index(path, NodeKind::from_owner(owner));
        if let Some((target, leaf)) = quota::quota_target(path) {
            let target = target.to_owned();
            if leaf == quota::LIMIT_NODE {
                self.quota_targets.insert(target);
            } else {
                self.recount_quota(&target);
            }
        }
        self.update_quota_stats(path, bytes, 1);
        changes.push(Change {
            path: path.to_owned(),
            event: EventType::NodeCreated,
            acl: node_acl,
        });
        changes.push(Change {
            path: parent_path.to_owned(),
            event: EventType::NodeChildrenChanged,
            acl: self.acl_of(parent_path),
        });
        Ok(TxnResult::Created {
            path: path.to_owned(),
            stat,
        })
    }

    fn delete_node(
        &mut self,
        path: &str,
        zxid: i64,
        changes: &mut Vec<Change>,
    ) -> Result<(), ErrorCode> {
        let node = self.nodes.remove(path).ok_or(ErrorCode::NoNode)?;
        let parent_path = parent(path);
        if let Some(p) = self.nodes.get_mut(parent_path) {
            p.children.remove(base_name(path));
            if zxid > p.pzxid {
                p.pzxid = zxid;
            }
        }
        match node.kind() {
            NodeKind::Container => {
                self.containers.remove(path);
            }
            NodeKind::Ttl(_) => {
                self.ttls.remove(path);
            }
            NodeKind::Ephemeral(session) => {
                if let Some(set) = self.ephemerals.get_mut(&session) {
                    set.remove(path);
                    if set.is_empty() {
                        self.ephemerals.remove(&session);
                    }
                }
            }
            NodeKind::Persistent => {}
        }
        if let Some((target, quota::LIMIT_NODE)) = quota::quota_target(path) {
            self.quota_targets.remove(target);
        }
        self.update_quota_stats(path, -(node.data_len() as i64), -1);
        changes.push(Change {
            path: path.to_owned(),
            event: EventType::NodeDeleted,
            acl: node.acl,
        });
        changes.push(Change {
            path: parent_path.to_owned(),
            event: EventType::NodeChildrenChanged,
            acl: self.acl_of(parent_path),
        });
        Ok(())
    }

    fn set_data(
        &mut self,
        path: &str,
        data: &Option<Bytes>,
        version: i32,
        zxid: i64,
        time: i64,
        changes: &mut Vec<Change>,
    ) -> Result<Stat, ErrorCode> {
        let node = self.nodes.get_mut(path).ok_or(ErrorCode::NoNode)?;
        let old_len = node.data_len() as i64;
        node.data = data.clone();
        node.version = version;
        node.mzxid = zxid;
        node.mtime = time;
        let stat = node.stat();
        let acl = node.acl.clone();
        let new_len = stat.data_length as i64;
        self.update_quota_stats(path, new_len - old_len, 0);
        changes.push(Change {
            path: path.to_owned(),
            event: EventType::NodeDataChanged,
            acl,
        });
        Ok(stat)
    }

    fn acl_of(&self, path: &str) -> Arc<Vec<Acl>> {
        self.nodes
            .get(path)
            .map(|n| n.acl.clone())
            .unwrap_or_default()
    }

    fn set_acl(&mut self, path: &str, acl: &[Acl], version: i32) -> Result<Stat, ErrorCode> {
        let node = self.nodes.get_mut(path).ok_or(ErrorCode::NoNode)?;
        node.acl = Arc::new(acl.to_vec());
        node.aversion = version;
        Ok(node.stat())
    }

    /// Adds to the `zookeeper_stats` of the quota covering `path`. The stats
    /// node's data changes in place, without a version bump, as in ZooKeeper.
    fn update_quota_stats(&mut self, path: &str, bytes: i64, count: i64) {
        let Some(target) = self.quota_prefix(path).map(str::to_owned) else {
            return;
        };
        if let Some(stat_node) = self.nodes.get_mut(&quota::stat_path(&target)) {
            let mut stats = StatsTrack::parse(stat_node.data.as_deref().unwrap_or_default());
            stats.set("count", stats.count() + count);
            stats.set("bytes", stats.bytes() + bytes);
            stat_node.data = Some(Bytes::from(stats.render()));
        }
    }

    /// Sets `zookeeper_stats` of `target` to the subtree's real figures.
    fn recount_quota(&mut self, target: &str) {
        let (count, bytes) = self.subtree_counts(target);
        if let Some(stat_node) = self.nodes.get_mut(&quota::stat_path(target)) {
            let mut stats = StatsTrack::default();
            stats.set("count", count as i64);
            stats.set("bytes", bytes as i64);
            stat_node.data = Some(Bytes::from(stats.render()));
        }
    }
}

/// `parent` + `/` + `child`, without a double slash under the root.
pub fn child_path(parent: &str, child: &str) -> String {
    if parent == "/" {
        format!("/{child}")
    } else {
        format!("{parent}/{child}")
    }
}
