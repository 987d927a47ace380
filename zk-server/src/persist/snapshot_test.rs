//! Snapshots round-trip; recovery takes the newest good snapshot plus the
//! log after it and falls back to an older snapshot when the newest is
//! damaged; purge keeps what recovery needs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use zk_proto::data::Acl;
use zk_proto::txn::{CreateSessionTxn, CreateTxn, SetDataTxn, Txn, TxnBody, TxnHeader};

use super::snapshot::{Snapshot, list_snapshots, read_snapshot, snapshot_name, write_snapshot};
use super::storage::{MemStorage, Storage};
use super::txn_log::LogWriter;
use super::{LogOptions, purge::purge, recover, version_dir};
use crate::tree::DataTree;

fn create(zxid: i64, path: &str, ephemeral_owner: i64) -> Txn {
    Txn {
        header: TxnHeader {
            client_id: ephemeral_owner,
            cxid: 0,
            zxid,
            time_ms: zxid,
        },
        body: TxnBody::Create(CreateTxn {
            path: path.into(),
            data: Some(Bytes::from(format!("data of {path}"))),
            acl: Acl::open_unsafe(),
            ephemeral: ephemeral_owner != 0,
            parent_cversion: zxid as i32,
        }),
    }
}

fn set(zxid: i64, path: &str, version: i32) -> Txn {
    Txn {
        header: TxnHeader {
            client_id: 0,
            cxid: 0,
            zxid,
            time_ms: zxid,
        },
        body: TxnBody::SetData(SetDataTxn {
            path: path.into(),
            data: Some(Bytes::from(format!("v{version}"))),
            version,
        }),
    }
}

/// Every node with its data and stat, for comparing trees.
fn dump(tree: &DataTree) -> Vec<String> {
    tree.walk()
        .map(|(p, n)| format!("{p} {:?} {:?} {:?}", n.data, n.stat(), n.acl))
        .collect()
}

/// A log of `txns` in `/log`, and the tree they make.
fn logged(storage: &MemStorage, txns: &[Txn]) -> DataTree {
    let mut w = LogWriter::open(
        Arc::new(storage.clone()),
        &version_dir(Path::new("/log")),
        None,
        4096,
        256,
    )
    .expect("open");
    let mut tree = DataTree::new();
    for t in txns {
        w.append(std::slice::from_ref(t)).expect("append");
        tree.apply(t);
    }
    tree
}

fn session(zxid: i64, id: i64) -> Txn {
    Txn {
        header: TxnHeader {
            client_id: id,
            cxid: 0,
            zxid,
            time_ms: zxid,
        },
        body: TxnBody::CreateSession(CreateSessionTxn { timeout_ms: 5000 }),
    }
}

fn history() -> Vec<Txn> {
    let mut txns = vec![
        session(1, 77),
        create(2, "/a", 0),
        create(3, "/a/b", 0),
        create(4, "/e", 77),
    ];
    for (i, z) in (5..40).enumerate() {
        txns.push(set(z, "/a", i as i32 + 1));
    }
    txns
}

fn snap_dir() -> PathBuf {
    version_dir(Path::new("/data"))
}

fn snapshot_at(storage: &MemStorage, txns: &[Txn], zxid: i64) -> PathBuf {
    let mut tree = DataTree::new();
    for t in txns.iter().filter(|t| t.header.zxid <= zxid) {
        tree.apply(t);
    }
    let snap = Snapshot {
        zxid,
        sessions: BTreeMap::from([(77, 5000)]),
        tree,
    };
    write_snapshot(storage, &snap_dir(), &snap).expect("write snapshot")
}

#[test]
fn snapshot_round_trips() {
    let s = MemStorage::default();
    let txns = history();
    let path = snapshot_at(&s, &txns, 20);
    let back = read_snapshot(Bytes::from(s.read(&path).expect("read"))).expect("reads back");
    let mut want = DataTree::new();
    for t in &txns[..20] {
        want.apply(t);
    }
    assert_eq!(back.zxid, 20);
    assert_eq!(back.sessions, BTreeMap::from([(77, 5000)]));
    assert_eq!(dump(&back.tree), dump(&want));
    assert_eq!(
        back.tree.ephemerals_of(77).cloned().collect::<Vec<_>>(),
        vec!["/e".to_owned()]
    );
    assert!(
        s.list(&snap_dir())
            .expect("list")
            .iter()
            .all(|n| !n.ends_with(".tmp"))
    );
}

#[test]
fn damaged_snapshot_is_refused() {
    let s = MemStorage::default();
    let path = snapshot_at(&s, &history(), 10);
    s.edit(&path, |b| {
        let mid = b.len() / 2;
        b[mid] ^= 0x40;
    })
    .expect("edit");
    assert!(read_snapshot(Bytes::from(s.read(&path).expect("read"))).is_err());
}

#[test]
fn recovery_is_snapshot_plus_the_log_after_it() {
    let s = MemStorage::default();
    let txns = history();
    let full = logged(&s, &txns);
    snapshot_at(&s, &txns, 12);
    snapshot_at(&s, &txns, 30);
    let rec = recover(
        Arc::new(s.clone()),
        Path::new("/data"),
        Path::new("/log"),
        LogOptions::default(),
    )
    .expect("recovers");
    assert_eq!(dump(&rec.tree), dump(&full));
    assert_eq!(
        rec.replayed,
        txns.len() - 30,
        "only the txns after the newest snapshot"
    );
    assert_eq!(rec.sessions.get(&77), Some(&5000));
}

#[test]
fn damaged_newest_snapshot_falls_back_to_an_older_one() {
    let s = MemStorage::default();
    let txns = history();
    let full = logged(&s, &txns);
    snapshot_at(&s, &txns, 12);
    let newest = snapshot_at(&s, &txns, 30);
    s.edit(&newest, |b| b.truncate(b.len() - 7)).expect("edit");
    let rec = recover(
        Arc::new(s.clone()),
        Path::new("/data"),
        Path::new("/log"),
        LogOptions::default(),
    )
    .expect("recovers");
    assert_eq!(dump(&rec.tree), dump(&full));
    assert_eq!(rec.replayed, txns.len() - 12);
}

#[test]
fn purge_keeps_what_recovery_needs() {
    let s = MemStorage::default();
    let txns = history();
    let full = logged(&s, &txns);
    for z in [5, 10, 15, 20, 25] {
        snapshot_at(&s, &txns, z);
    }
    let segments_before = s.list(&version_dir(Path::new("/log"))).expect("list").len();
    assert!(
        segments_before > 3,
        "small segments for this test: {segments_before}"
    );
    let deleted = purge(&s, Path::new("/data"), Path::new("/log"), 3).expect("purge");
    let kept: Vec<i64> = list_snapshots(&s, &snap_dir())
        .expect("list")
        .iter()
        .map(|(z, _)| *z)
        .collect();
    assert_eq!(kept, vec![25, 20, 15]);
    assert!(deleted.iter().any(|p| p.ends_with(snapshot_name(5))));
    assert!(
        s.list(&version_dir(Path::new("/log"))).expect("list").len() < segments_before,
        "covered segments go"
    );
    let rec = recover(
        Arc::new(s.clone()),
        Path::new("/data"),
        Path::new("/log"),
        LogOptions::default(),
    )
    .expect("recovers");
    assert_eq!(dump(&rec.tree), dump(&full));
}

#[test]
fn log_missing_after_the_snapshot_is_a_gap() {
    let s = MemStorage::default();
    let txns = history();
    logged(&s, &txns);
    snapshot_at(&s, &txns, 5);
    // Lose the early segments as if purged without a newer snapshot.
    let log = version_dir(Path::new("/log"));
    let mut names = s.list(&log).expect("list");
    names.sort_by_key(|n| super::txn_log::parse_segment_name(n));
    for n in &names[..names.len() - 1] {
        s.remove(&log.join(n)).expect("remove");
    }
    let err = recover(
        Arc::new(s.clone()),
        Path::new("/data"),
        Path::new("/log"),
        LogOptions::default(),
    )
    .expect_err("gap");
    assert!(matches!(err, super::LogError::Gap { .. }), "{err}");
}
