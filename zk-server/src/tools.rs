//! Offline tools over the data files, as ZooKeeper's LogFormatter,
//! SnapshotFormatter and zkCleanup: dump a log segment, dump a snapshot
//! (text or JSON), verify every checksum in a directory, purge old files.

use std::fmt::Write;
use std::path::Path;

use bytes::Bytes;
use zk_proto::txn::{Txn, TxnBody};

use crate::persist::snapshot::{list_snapshots, read_snapshot};
use crate::persist::txn_log::{parse_segment_name, read_log, read_segment};
use crate::persist::{FileStorage, Storage, version_dir};

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Log(#[from] crate::persist::LogError),
    #[error("{path}: {reason}")]
    Bad { path: String, reason: String },
}

fn data(d: &Option<Bytes>) -> String {
    match d {
        None => "null".into(),
        Some(b) => match std::str::from_utf8(b) {
            Ok(s) if s.chars().all(|c| !c.is_control()) => format!("{s:?}"),
            _ => format!(
                "#{}",
                b.iter().map(|x| format!("{x:02x}")).collect::<String>()
            ),
        },
    }
}

/// A ms timestamp in ISO 8601 UTC (`2026-12-03T13:45:30.123Z`).
pub fn iso_time(ms: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(at).to_string()
}

/// ACLs as ZooKeeper's tools print them: `world:anyone:cdrwa,ip:10.0.0.1:r`.
fn acls(list: &[zk_proto::data::Acl]) -> String {
    let parts: Vec<String> = list.iter().map(ToString::to_string).collect();
    parts.join(",")
}

/// One line per txn, in LogFormatter's order: time, session, cxid, zxid,
/// the op and its fields.
pub fn format_txn(txn: &Txn) -> String {
    let h = &txn.header;
    format!(
        "{} session {:#x} cxid {:#x} zxid {:#x} {}",
        iso_time(h.time_ms),
        h.client_id,
        h.cxid,
        h.zxid,
        format_body(&txn.body)
    )
}

fn format_body(body: &TxnBody) -> String {
    match body {
        TxnBody::Create(t) => format!(
            "create {} data={} acl={} ephemeral={} parentCVersion={}",
            t.path,
            data(&t.data),
            acls(&t.acl),
            t.ephemeral,
            t.parent_cversion
        ),
        TxnBody::CreateContainer(t) => format!("createContainer {} data={}", t.path, data(&t.data)),
        TxnBody::CreateTtl(t) => {
            format!("createTTL {} data={} ttl={}", t.path, data(&t.data), t.ttl)
        }
        TxnBody::Delete(t) => format!("delete {}", t.path),
        TxnBody::DeleteContainer(t) => format!("deleteContainer {}", t.path),
        TxnBody::SetData(t) => format!(
            "setData {} data={} version={}",
            t.path,
            data(&t.data),
            t.version
        ),
        TxnBody::CheckVersion(t) => format!("check {} version={}", t.path, t.version),
        TxnBody::SetAcl(t) => format!(
            "setACL {} acl={} version={}",
            t.path,
            acls(&t.acl),
            t.version
        ),
        TxnBody::CreateSession(t) => format!("createSession timeout={}", t.timeout_ms),
        TxnBody::CloseSession(t) => format!("closeSession ephemerals={:?}", t.paths_to_delete),
        TxnBody::Error(t) => format!("error {}", t.err),
        TxnBody::Multi(subs) => {
            let parts: Vec<String> = subs.iter().map(format_body).collect();
            format!("multi [{}]", parts.join("; "))
        }
    }
}

/// `zk-server dump-log FILE`.
pub fn dump_log(path: &Path) -> Result<String, ToolError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let first = parse_segment_name(name).ok_or_else(|| ToolError::Bad {
        path: path.display().to_string(),
        reason: "not a log segment name (log.<hex zxid>)".into(),
    })?;
    let bytes = FileStorage.read(path)?;
    let seg = read_segment(path, first, &bytes, true)?;
    let mut out = String::new();
    for txn in &seg.txns {
        let _ = writeln!(out, "{}", format_txn(txn));
    }
    let _ = writeln!(
        out,
        "EOF reached after {} txns{}",
        seg.txns.len(),
        if seg.torn {
            " (a torn last batch follows)"
        } else {
            ""
        }
    );
    Ok(out)
}

/// `zk-server dump-snapshot FILE [--json]`.
pub fn dump_snapshot(path: &Path, json: bool) -> Result<String, ToolError> {
    let bytes = Bytes::from(FileStorage.read(path)?);
    let snap = read_snapshot(bytes).map_err(|reason| ToolError::Bad {
        path: path.display().to_string(),
        reason,
    })?;
    if json {
        let nodes: Vec<serde_json::Value> = snap
            .tree
            .walk()
            .map(|(p, n)| {
                let s = n.stat();
                serde_json::json!({
                    "path": p,
                    "data": n.data.as_ref().map(|d| String::from_utf8_lossy(d).into_owned()),
                    "acl": n.acl.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "czxid": s.czxid, "mzxid": s.mzxid, "pzxid": s.pzxid,
                    "ctime": s.ctime, "mtime": s.mtime,
                    "version": s.version, "cversion": s.cversion, "aversion": s.aversion,
                    "ephemeralOwner": s.ephemeral_owner, "dataLength": s.data_length,
                    "numChildren": s.num_children,
                })
            })
            .collect();
        let sessions: Vec<serde_json::Value> = snap
            .sessions
            .iter()
            .map(|(id, t)| serde_json::json!({"id": format!("{id:#x}"), "timeout": t}))
            .collect();
        let doc = serde_json::json!({"zxid": format!("{:#x}", snap.zxid), "sessions": sessions, "nodes": nodes});
        return Ok(serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n");
    }
    let mut out = format!("ZNode Details (count={}):\n", snap.tree.node_count());
    for (p, n) in snap.tree.walk() {
        let s = n.stat();
        let _ = write!(
            out,
            "----\n{p}\n  cZxid = {:#x}\n  ctime = {}\n  mZxid = {:#x}\n  mtime = {}\n  pZxid = {:#x}\n  \
             cversion = {}\n  dataVersion = {}\n  aclVersion = {}\n  ephemeralOwner = {:#x}\n  dataLength = {}\n  \
             acl = {}\n  data = {}\n",
            s.czxid,
            iso_time(s.ctime),
            s.mzxid,
            iso_time(s.mtime),
            s.pzxid,
            s.cversion,
            s.version,
            s.aversion,
            s.ephemeral_owner,
            s.data_length,
            acls(&n.acl),
            data(&n.data)
        );
    }
    let _ = writeln!(out, "----\nSession Details (sid, timeout, ephemeralCount):");
    for (id, timeout) in &snap.sessions {
        let _ = writeln!(
            out,
            "{id:#x}, {timeout}, {}",
            snap.tree.ephemerals_of(*id).count()
        );
    }
    let _ = writeln!(out, "----\nLast zxid: {:#x}", snap.zxid);
    Ok(out)
}

/// `zk-server verify DIR`: every log segment and snapshot under DIR (or
/// DIR/version-2) checked; the summary, or the first damage found.
pub fn verify(dir: &Path) -> Result<String, ToolError> {
    let dir = if version_dir(dir).is_dir() {
        version_dir(dir)
    } else {
        dir.to_owned()
    };
    let segments = read_log(&FileStorage, &dir)?;
    let txns: usize = segments.iter().map(|s| s.txns.len()).sum();
    let torn = segments.iter().any(|s| s.torn);
    let snaps = list_snapshots(&FileStorage, &dir)?;
    let mut out = String::new();
    for (zxid, path) in &snaps {
        let bytes = Bytes::from(FileStorage.read(path)?);
        match read_snapshot(bytes) {
            Ok(s) if s.zxid == *zxid => {
                let _ = writeln!(
                    out,
                    "ok   {} ({} nodes)",
                    path.display(),
                    s.tree.node_count()
                );
            }
            Ok(_) => {
                return Err(ToolError::Bad {
                    path: path.display().to_string(),
                    reason: "zxid differs from its name".into(),
                });
            }
            Err(reason) => {
                return Err(ToolError::Bad {
                    path: path.display().to_string(),
                    reason,
                });
            }
        }
    }
    let _ = writeln!(
        out,
        "ok   {} log segments, {txns} txns{}\nok   {} snapshots",
        segments.len(),
        if torn {
            ", a torn last batch (cut at the next start)"
        } else {
            ""
        },
        snaps.len()
    );
    Ok(out)
}
