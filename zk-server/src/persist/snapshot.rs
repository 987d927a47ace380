//! Snapshots: the whole tree and the open sessions at one zxid, in
//! `dataDir/version-2/snapshot.<zxid in hex>`.
//!
//! ```text
//! snapshot = "ZKRS" · version u32 · zxid i64
//!          · sessions: count u32 · (id i64 · timeout i32)*
//!          · nodes: count u64 · (path · data · acl · czxid mzxid ctime mtime
//!                    version cversion aversion ephemeralOwner pzxid)*
//!          · crc32c(everything before) u32
//! ```
//!
//! Fields use the jute encoding; nodes come parents first. The tree is a
//! persistent structure, so the state task hands a clone (O(1)) to a
//! blocking thread that writes it while writes go on, to a `.tmp` file that
//! is synced and renamed into place: a snapshot file is whole or absent.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use zk_proto::data::Acl;
use zk_proto::{Decode, Encode};

use super::storage::Storage;
use crate::tree::{DataTree, Node};

pub const SNAPSHOT_MAGIC: &[u8; 4] = b"ZKRS";
pub const SNAPSHOT_VERSION: u32 = 1;
/// Bytes buffered before each write to the file.
const CHUNK: usize = 1 << 20;
/// Bytes written between syncs of a snapshot being written.
const SYNC_EVERY: usize = 8 << 20;

pub fn snapshot_name(zxid: i64) -> String {
    format!("snapshot.{zxid:x}")
}

pub fn parse_snapshot_name(name: &str) -> Option<i64> {
    i64::from_str_radix(name.strip_prefix("snapshot.")?, 16).ok()
}

/// A tree and its sessions at `zxid`.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub zxid: i64,
    pub sessions: BTreeMap<i64, u32>,
    pub tree: DataTree,
}

fn encode_node(path: &str, n: &Node, buf: &mut BytesMut) {
    path.encode(buf);
    n.data.encode(buf);
    n.acl.as_ref().encode(buf);
    for v in [n.czxid, n.mzxid, n.ctime, n.mtime] {
        v.encode(buf);
    }
    for v in [n.version, n.cversion, n.aversion] {
        v.encode(buf);
    }
    n.ephemeral_owner.encode(buf);
    n.pzxid.encode(buf);
}

fn decode_node(buf: &mut Bytes) -> Result<(String, Node), zk_proto::DecodeError> {
    let path = String::decode(buf)?;
    let data = Option::<Bytes>::decode(buf)?;
    let acl = Vec::<Acl>::decode(buf)?;
    let (czxid, mzxid, ctime, mtime) = (
        i64::decode(buf)?,
        i64::decode(buf)?,
        i64::decode(buf)?,
        i64::decode(buf)?,
    );
    let (version, cversion, aversion) = (i32::decode(buf)?, i32::decode(buf)?, i32::decode(buf)?);
    let ephemeral_owner = i64::decode(buf)?;
    let pzxid = i64::decode(buf)?;
    let mut node = Node::new(data, Arc::new(acl), czxid, ctime, ephemeral_owner);
    node.mzxid = mzxid;
    node.mtime = mtime;
    node.version = version;
    node.cversion = cversion;
    node.aversion = aversion;
    node.pzxid = pzxid;
    Ok((path, node))
}

/// Writes a snapshot into `dir`; returns its path. Blocking.
pub fn write_snapshot(storage: &dyn Storage, dir: &Path, snap: &Snapshot) -> io::Result<PathBuf> {
    let path = dir.join(snapshot_name(snap.zxid));
    let tmp = dir.join(format!("{}.tmp", snapshot_name(snap.zxid)));
    let mut file = storage.create(&tmp)?;
    let mut offset = 0u64;
    let mut crc = 0u32;
    let mut buf = BytesMut::with_capacity(CHUNK + 4096);
    let mut unsynced = 0usize;
    let mut flush =
        |buf: &mut BytesMut, file: &mut Box<dyn super::StorageFile>| -> io::Result<()> {
            crc = crc32c::crc32c_append(crc, buf);
            file.write_at(offset, buf)?;
            offset += buf.len() as u64;
            unsynced += buf.len();
            buf.clear();
            // Write back as we go: one big flush at the end would stall the
            // log's fsync behind hundreds of MB of dirty pages (write p999).
            if unsynced >= SYNC_EVERY {
                file.sync()?;
                unsynced = 0;
            }
            Ok(())
        };
    buf.extend_from_slice(SNAPSHOT_MAGIC);
    buf.extend_from_slice(&SNAPSHOT_VERSION.to_be_bytes());
    snap.zxid.encode(&mut buf);
    (snap.sessions.len() as i32).encode(&mut buf);
    for (id, timeout) in &snap.sessions {
        id.encode(&mut buf);
        (*timeout as i32).encode(&mut buf);
    }
    (snap.tree.node_count() as i64).encode(&mut buf);
    for (p, node) in snap.tree.walk() {
        encode_node(&p, node, &mut buf);
        if buf.len() >= CHUNK {
            flush(&mut buf, &mut file)?;
        }
    }
    flush(&mut buf, &mut file)?;
    file.write_at(offset, &crc.to_be_bytes())?;
    file.sync()?;
    drop(file);
    storage.rename(&tmp, &path)?;
    Ok(path)
}

/// Reads a snapshot file, checking its checksum first.
pub fn read_snapshot(bytes: Bytes) -> Result<Snapshot, String> {
    if bytes.len() < 4 + 4 + 8 + 4 + 8 + 4 || &bytes[..4] != SNAPSHOT_MAGIC {
        return Err("not a snapshot (bad magic or too short)".into());
    }
    let body_len = bytes.len() - 4;
    let stored = u32::from_be_bytes([
        bytes[body_len],
        bytes[body_len + 1],
        bytes[body_len + 2],
        bytes[body_len + 3],
    ]);
    if crc32c::crc32c(&bytes[..body_len]) != stored {
        return Err("checksum mismatch".into());
    }
    let mut buf = bytes.slice(4..body_len);
    let version = buf.get_u32();
    if version != SNAPSHOT_VERSION {
        return Err(format!("unknown snapshot version {version}"));
    }
    let err = |e: zk_proto::DecodeError| e.to_string();
    let zxid = i64::decode(&mut buf).map_err(err)?;
    let n_sessions = i32::decode(&mut buf).map_err(err)?;
    let mut sessions = BTreeMap::new();
    for _ in 0..n_sessions.max(0) {
        let id = i64::decode(&mut buf).map_err(err)?;
        let timeout = i32::decode(&mut buf).map_err(err)?;
        sessions.insert(id, timeout.max(0) as u32);
    }
    let n_nodes = i64::decode(&mut buf).map_err(err)?;
    let mut nodes = Vec::with_capacity((n_nodes.max(0) as usize).min(1 << 20));
    for _ in 0..n_nodes.max(0) {
        nodes.push(decode_node(&mut buf).map_err(err)?);
    }
    if buf.has_remaining() {
        return Err("bytes after the last node".into());
    }
    Ok(Snapshot {
        zxid,
        sessions,
        tree: DataTree::from_nodes(nodes, zxid),
    })
}

/// Snapshot files in `dir`, newest first.
pub fn list_snapshots(storage: &dyn Storage, dir: &Path) -> io::Result<Vec<(i64, PathBuf)>> {
    let mut snaps: Vec<(i64, PathBuf)> = storage
        .list(dir)?
        .into_iter()
        .filter_map(|n| parse_snapshot_name(&n).map(|z| (z, dir.join(n))))
        .collect();
    snaps.sort_by_key(|s| std::cmp::Reverse(s.0));
    Ok(snaps)
}
