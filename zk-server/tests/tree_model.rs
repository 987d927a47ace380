//! The data tree against a simple model: random create/delete/setData/
//! closeSession txns go through `DataTree::apply`; after every step the tree
//! and the model agree on every node, and the same txns applied to two
//! fresh trees give identical trees.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;
use proptest::prelude::*;
use zk_proto::ErrorCode;
use zk_proto::data::{Acl, EventType};
use zk_proto::path::{base_name, parent};
use zk_proto::txn::{CloseSessionTxn, CreateTxn, DeleteTxn, SetDataTxn, Txn, TxnBody, TxnHeader};
use zk_server::tree::{Change, DataTree, TxnResult, child_path};

/// The paths the generated ops touch; parents come before children.
const PATHS: &[&str] = &["/a", "/b", "/a/x", "/a/y", "/b/x", "/a/x/z", "/a/x/z/w"];
const SESSIONS: i64 = 2;

#[derive(Debug, Clone)]
enum Op {
    Create {
        path: usize,
        data: Option<Vec<u8>>,
        /// The owning session (1-based) of an ephemeral.
        ephemeral: Option<i64>,
    },
    Delete(usize),
    SetData(usize, Option<Vec<u8>>),
    CloseSession(i64),
}

fn data() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::weighted(0.9, prop::collection::vec(any::<u8>(), 0..5))
}

fn op() -> impl Strategy<Value = Op> {
    let path = 0..PATHS.len();
    prop_oneof![
        4 => (path.clone(), data(), prop::option::weighted(0.3, 1..=SESSIONS))
            .prop_map(|(path, data, ephemeral)| Op::Create { path, data, ephemeral }),
        2 => path.clone().prop_map(Op::Delete),
        3 => (path, data()).prop_map(|(p, d)| Op::SetData(p, d)),
        1 => (1..=SESSIONS).prop_map(Op::CloseSession),
    ]
}

/// What the model keeps of a node.
#[derive(Debug, Clone)]
struct MNode {
    data: Option<Bytes>,
    version: i32,
    /// Child creates (the persisted cversion).
    creates: i32,
    children: BTreeSet<String>,
    czxid: i64,
    mzxid: i64,
    pzxid: i64,
    owner: i64,
}

impl MNode {
    fn new(data: Option<Bytes>, zxid: i64, owner: i64) -> MNode {
        MNode {
            data,
            version: 0,
            creates: 0,
            children: BTreeSet::new(),
            czxid: zxid,
            mzxid: zxid,
            pzxid: zxid,
            owner,
        }
    }
}

type Model = BTreeMap<String, MNode>;

fn initial_model() -> Model {
    let mut m = Model::new();
    let empty = Some(Bytes::new());
    let mut root = MNode::new(empty.clone(), 0, 0);
    root.children.insert("zookeeper".into());
    let mut zk = MNode::new(empty.clone(), 0, 0);
    zk.children
        .extend(["quota".to_owned(), "config".to_owned()]);
    m.insert("/".into(), root);
    m.insert("/zookeeper".into(), zk);
    m.insert("/zookeeper/quota".into(), MNode::new(empty.clone(), 0, 0));
    m.insert("/zookeeper/config".into(), MNode::new(empty, 0, 0));
    m
}

fn ephemerals(m: &Model, session: i64) -> BTreeSet<String> {
    m.iter()
        .filter(|(_, n)| n.owner == session)
        .map(|(p, _)| p.clone())
        .collect()
}

/// Every node of these runs has the open ACL.
fn changed(path: &str, event: EventType) -> Change {
    Change {
        path: path.into(),
        event,
        acl: Arc::new(Acl::open_unsafe()),
    }
}

/// Turns `op` into a txn against the model, applies it to the model, and
/// says what `DataTree::apply` must answer. `None`: a txn prep would never
/// produce (a delete of a node with children, a child of an ephemeral).
fn step(m: &mut Model, op: &Op, zxid: i64) -> Option<(Txn, TxnResult, Vec<Change>)> {
    let mut header = TxnHeader {
        client_id: 0,
        cxid: 1,
        zxid,
        time_ms: 1_000 + zxid,
    };
    let bytes = |d: &Option<Vec<u8>>| d.as_deref().map(Bytes::copy_from_slice);
    let (body, result, changes) = match op {
        Op::Create {
            path,
            data,
            ephemeral,
        } => {
            let path = PATHS[*path];
            let parent_path = parent(path);
            let parent_node = m.get(parent_path);
            if parent_node.is_some_and(|p| p.owner != 0) {
                return None;
            }
            let parent_cversion = parent_node.map_or(1, |p| p.creates + 1);
            let body = TxnBody::Create(CreateTxn {
                path: path.into(),
                data: bytes(data),
                acl: Acl::open_unsafe(),
                ephemeral: ephemeral.is_some(),
                parent_cversion,
            });
            header.client_id = ephemeral.unwrap_or(0);
            if m.contains_key(path) {
                (body, TxnResult::Error(ErrorCode::NodeExists), vec![])
            } else if parent_node.is_none() {
                (body, TxnResult::Error(ErrorCode::NoNode), vec![])
            } else {
                let p = m.get_mut(parent_path).expect("parent");
                p.creates = parent_cversion;
                p.pzxid = zxid;
                p.children.insert(base_name(path).into());
                m.insert(path.into(), MNode::new(bytes(data), zxid, header.client_id));
                // The stat is checked against the tree separately.
                let result = TxnResult::Created {
                    path: path.into(),
                    stat: Default::default(),
                };
                let changes = vec![
                    changed(path, EventType::NodeCreated),
                    changed(parent_path, EventType::NodeChildrenChanged),
                ];
                (body, result, changes)
            }
        }
        Op::Delete(path) => {
            let path = PATHS[*path];
            let body = TxnBody::Delete(DeleteTxn { path: path.into() });
            match m.get(path) {
                None => (body, TxnResult::Error(ErrorCode::NoNode), vec![]),
                Some(n) if !n.children.is_empty() => return None,
                Some(_) => {
                    let changes = delete(m, path, zxid);
                    (body, TxnResult::Deleted, changes)
                }
            }
        }
        Op::SetData(path, data) => {
            let path = PATHS[*path];
            let body = TxnBody::SetData(SetDataTxn {
                path: path.into(),
                data: bytes(data),
                version: m.get(path).map_or(1, |n| n.version + 1),
            });
            match m.get_mut(path) {
                None => (body, TxnResult::Error(ErrorCode::NoNode), vec![]),
                Some(n) => {
                    n.version += 1;
                    n.mzxid = zxid;
                    n.data = bytes(data);
                    let result = TxnResult::SetData {
                        stat: Default::default(),
                    };
                    (
                        body,
                        result,
                        vec![changed(path, EventType::NodeDataChanged)],
                    )
                }
            }
        }
        Op::CloseSession(session) => {
            header.client_id = *session;
            let doomed = ephemerals(m, *session);
            let mut changes = Vec::new();
            for path in &doomed {
                changes.extend(delete(m, path, zxid));
            }
            let body = TxnBody::CloseSession(CloseSessionTxn {
                paths_to_delete: doomed.into_iter().collect(),
            });
            (body, TxnResult::Session, changes)
        }
    };
    Some((Txn { header, body }, result, changes))
}

fn delete(m: &mut Model, path: &str, zxid: i64) -> Vec<Change> {
    m.remove(path);
    let parent_path = parent(path);
    let p = m.get_mut(parent_path).expect("parent");
    p.children.remove(base_name(path));
    p.pzxid = zxid;
    vec![
        changed(path, EventType::NodeDeleted),
        changed(parent_path, EventType::NodeChildrenChanged),
    ]
}

/// The result with the stats blanked (the model does not build them).
fn blank(result: &TxnResult) -> TxnResult {
    match result {
        TxnResult::Created { path, .. } => TxnResult::Created {
            path: path.clone(),
            stat: Default::default(),
        },
        TxnResult::SetData { .. } => TxnResult::SetData {
            stat: Default::default(),
        },
        other => other.clone(),
    }
}

fn assert_agree(tree: &DataTree, m: &Model) -> Result<(), TestCaseError> {
    for path in PATHS.iter().copied().chain(m.keys().map(String::as_str)) {
        let (node, model) = (tree.get(path), m.get(path));
        prop_assert_eq!(node.is_some(), model.is_some(), "existence of {}", path);
        let (Some(node), Some(model)) = (node, model) else {
            continue;
        };
        let stat = node.stat();
        prop_assert_eq!(&node.data, &model.data, "data of {}", path);
        prop_assert_eq!(stat.version, model.version, "version of {}", path);
        prop_assert_eq!(stat.num_children as usize, model.children.len(), "{}", path);
        prop_assert_eq!(
            &node.children.iter().cloned().collect::<BTreeSet<_>>(),
            &model.children,
            "children of {}",
            path
        );
        let cversion = 2 * model.creates - model.children.len() as i32;
        prop_assert_eq!(stat.cversion, cversion, "client cversion of {}", path);
        prop_assert_eq!(
            (stat.czxid, stat.mzxid, stat.pzxid),
            (model.czxid, model.mzxid, model.pzxid),
            "zxids of {}",
            path
        );
        prop_assert_eq!(stat.ephemeral_owner, model.owner, "owner of {}", path);
        prop_assert_eq!(
            stat.data_length as usize,
            model.data.as_ref().map_or(0, Bytes::len)
        );
    }
    prop_assert_eq!(tree.node_count(), m.len());
    for session in 1..=SESSIONS {
        let got: BTreeSet<String> = tree.ephemerals_of(session).cloned().collect();
        prop_assert_eq!(got, ephemerals(m, session), "ephemerals of {}", session);
    }
    Ok(())
}

/// Everything observable about a tree, walked from the root.
fn dump(tree: &DataTree) -> Vec<String> {
    let mut out = vec![format!("last_zxid={}", tree.last_zxid())];
    let mut stack = vec!["/".to_owned()];
    while let Some(path) = stack.pop() {
        let node = tree.get(&path).expect("child exists");
        out.push(format!(
            "{path} {:?} {:?} {:?}",
            node.data,
            node.stat(),
            Arc::clone(&node.acl)
        ));
        stack.extend(node.children.iter().map(|c| child_path(&path, c)));
    }
    for session in 1..=SESSIONS {
        out.push(format!(
            "{session}: {:?}",
            tree.ephemerals_of(session).collect::<Vec<_>>()
        ));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn tree_agrees_with_the_model(ops in prop::collection::vec(op(), 1..80)) {
        let mut tree = DataTree::new();
        let mut replica = DataTree::new();
        let mut model = initial_model();
        assert_agree(&tree, &model)?;
        let mut zxid = 0;
        for op in &ops {
            let mut next = model.clone();
            let Some((txn, want, want_changes)) = step(&mut next, op, zxid + 1) else {
                continue;
            };
            zxid += 1;
            model = next;
            let (result, changes) = tree.apply(&txn);
            let same = replica.apply(&txn);
            prop_assert_eq!(&same, &(result.clone(), changes.clone()), "replica differs");
            prop_assert_eq!(blank(&result), want, "{:?}", op);
            prop_assert_eq!(changes, want_changes, "{:?}", op);
            // Returned stats are the node's stats after the txn.
            match &result {
                TxnResult::Created { path, stat } => {
                    prop_assert_eq!(Some(stat.clone()), tree.get(path).map(|n| n.stat()));
                }
                TxnResult::SetData { stat } => {
                    let path = match &txn.body {
                        TxnBody::SetData(t) => t.path.clone(),
                        _ => unreachable!(),
                    };
                    prop_assert_eq!(Some(stat.clone()), tree.get(&path).map(|n| n.stat()));
                }
                _ => {}
            }
            prop_assert_eq!(tree.last_zxid(), zxid);
            assert_agree(&tree, &model)?;
        }
        // Determinism: the same txns give the same tree.
        prop_assert_eq!(dump(&tree), dump(&replica));
    }
}
