//! The transaction log: segment files `log.<first zxid in hex>` in
//! `dataLogDir`.
//!
//! ```text
//! segment = "ZKRL" · version u32 · reserved u64 · batch* · zeros (preallocated)
//! batch   = "BTCH" · count u32 · len u32 · crc32c(payload) u32 · payload
//! payload = (txn_len u32 · txn)*count          (txn: zk_proto::txn::Txn)
//! ```
//!
//! A batch is written and fsynced before the next one is written, and
//! before any of its txns is acknowledged (group commit: one fsync per
//! batch). So at most the last batch can be torn by a crash: a bad batch
//! with no valid batch after it is a torn tail and is cut; a bad batch
//! followed by a valid one is corruption of acknowledged data, and
//! recovery stops with an error naming the file and offset.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use zk_proto::txn::Txn;
use zk_proto::{Decode, Encode};

use super::storage::{Storage, StorageFile};
use crate::zab::zxid::follows;

pub const SEGMENT_MAGIC: &[u8; 4] = b"ZKRL";
pub const SEGMENT_VERSION: u32 = 1;
pub const SEGMENT_HEADER: usize = 16;
const BATCH_MAGIC: &[u8; 4] = b"BTCH";
const BATCH_HEADER: usize = 16;

pub fn segment_name(first_zxid: i64) -> String {
    format!("log.{first_zxid:x}")
}

pub fn parse_segment_name(name: &str) -> Option<i64> {
    i64::from_str_radix(name.strip_prefix("log.")?, 16).ok()
}

/// Why the log cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: corrupt at byte {offset}: {reason}")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("log segment missing: txns {from:#x}..{to:#x} are in no file (before {path})")]
    Gap { path: PathBuf, from: i64, to: i64 },
    /// A storage call failed; the error names the operation and the path.
    #[error(transparent)]
    Io(#[from] io::Error),
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(crate) fn segment_header() -> [u8; SEGMENT_HEADER] {
    let mut h = [0u8; SEGMENT_HEADER];
    h[..4].copy_from_slice(SEGMENT_MAGIC);
    h[4..8].copy_from_slice(&SEGMENT_VERSION.to_be_bytes());
    h
}

/// Encodes a batch frame.
pub(crate) fn encode_batch(txns: &[Txn]) -> Bytes {
    let mut payload = BytesMut::new();
    for txn in txns {
        let start = payload.len();
        payload.extend_from_slice(&[0; 4]);
        txn.encode(&mut payload);
        let len = (payload.len() - start - 4) as u32;
        payload[start..start + 4].copy_from_slice(&len.to_be_bytes());
    }
    let mut out = BytesMut::with_capacity(BATCH_HEADER + payload.len());
    out.extend_from_slice(BATCH_MAGIC);
    out.extend_from_slice(&(txns.len() as u32).to_be_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&crc32c::crc32c(&payload).to_be_bytes());
    out.extend_from_slice(&payload);
    out.freeze()
}

/// A batch at `at`: its txns and total length, or why not.
fn decode_batch(b: &[u8], at: usize) -> Result<(Vec<Txn>, usize), String> {
    if b.len() < at + BATCH_HEADER {
        return Err("truncated batch header".into());
    }
    if &b[at..at + 4] != BATCH_MAGIC {
        return Err("no batch here".into());
    }
    let count = u32_at(b, at + 4) as usize;
    let len = u32_at(b, at + 8) as usize;
    let crc = u32_at(b, at + 12);
    let start = at + BATCH_HEADER;
    let Some(payload) = b.get(start..start + len) else {
        return Err("batch runs past the end of the file".into());
    };
    if crc32c::crc32c(payload) != crc {
        return Err("batch checksum mismatch".into());
    }
    let mut txns = Vec::with_capacity(count.min(4096));
    let mut p = 0;
    for _ in 0..count {
        let Some(l) = payload.get(p..p + 4).map(|s| u32_at(s, 0) as usize) else {
            return Err("txn length past the batch".into());
        };
        let Some(raw) = payload.get(p + 4..p + 4 + l) else {
            return Err("txn past the batch".into());
        };
        let mut raw = Bytes::copy_from_slice(raw);
        txns.push(Txn::decode(&mut raw).map_err(|e| format!("txn does not decode: {e}"))?);
        p += 4 + l;
    }
    if p != len {
        return Err("batch length does not match its txns".into());
    }
    Ok((txns, BATCH_HEADER + len))
}

/// Whether a valid batch starts anywhere after `from`.
fn valid_batch_after(b: &[u8], from: usize) -> bool {
    let mut at = from;
    while let Some(i) = b
        .get(at..)
        .and_then(|rest| rest.windows(4).position(|w| w == BATCH_MAGIC))
    {
        if decode_batch(b, at + i).is_ok() {
            return true;
        }
        at += i + 1;
    }
    false
}

/// One segment as read.
#[derive(Debug)]
pub struct Segment {
    pub path: PathBuf,
    pub first_zxid: i64,
    pub txns: Vec<Txn>,
    /// Where the next batch goes.
    pub end: u64,
    /// Bytes of a torn last batch found (and to be cut) at `end`.
    pub torn: bool,
}

/// Reads a segment. Only the last segment may end in a torn batch.
pub fn read_segment(
    path: &Path,
    first_zxid: i64,
    b: &[u8],
    is_last: bool,
) -> Result<Segment, LogError> {
    let corrupt = |offset: usize, reason: &str| LogError::Corrupt {
        path: path.to_owned(),
        offset: offset as u64,
        reason: reason.to_owned(),
    };
    let mut seg = Segment {
        path: path.to_owned(),
        first_zxid,
        txns: Vec::new(),
        end: SEGMENT_HEADER as u64,
        torn: false,
    };
    if b.len() < SEGMENT_HEADER || &b[..4] != SEGMENT_MAGIC {
        // A segment created just before a crash may not even have its
        // header on disk.
        if is_last && b.iter().all(|&x| x == 0) {
            seg.torn = true;
            return Ok(seg);
        }
        return Err(corrupt(0, "not a log segment (bad magic)"));
    }
    if u32_at(b, 4) != SEGMENT_VERSION {
        return Err(corrupt(4, "unknown segment version"));
    }
    let mut at = SEGMENT_HEADER;
    while at < b.len() {
        if b.get(at..at + 4).is_none_or(|m| m == [0; 4]) && b[at..].iter().all(|&x| x == 0) {
            break; // preallocated zeros: the end
        }
        match decode_batch(b, at) {
            Ok((txns, len)) => {
                for txn in txns {
                    let in_order = match seg.txns.last() {
                        Some(t) => follows(t.header.zxid, txn.header.zxid),
                        None => txn.header.zxid == first_zxid,
                    };
                    if !in_order {
                        return Err(corrupt(
                            at,
                            &format!("zxid {:#x} out of order", txn.header.zxid),
                        ));
                    }
                    seg.txns.push(txn);
                }
                at += len;
            }
            Err(reason) if is_last && !valid_batch_after(b, at + 1) => {
                tracing::warn!(path = %path.display(), offset = at, reason, "torn last batch: cut");
                seg.torn = true;
                break;
            }
            Err(reason) => return Err(corrupt(at, &reason)),
        }
    }
    seg.end = at as u64;
    Ok(seg)
}

/// Appends batches to the current segment, rolling to a new segment when
/// it is full, growing the file ahead of the writes (preallocation keeps
/// the file's size out of most fsyncs).
#[derive(Debug)]
pub struct LogWriter {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    file: Option<Box<dyn StorageFile>>,
    pos: u64,
    allocated: u64,
    prealloc: u64,
    segment_max: u64,
}

impl LogWriter {
    /// A writer that continues `last` (the last segment as read, torn tail
    /// cut) or starts a new segment at the next append.
    pub fn open(
        storage: Arc<dyn Storage>,
        dir: &Path,
        last: Option<&Segment>,
        prealloc: u64,
        segment_max: u64,
    ) -> io::Result<LogWriter> {
        let mut w = LogWriter {
            storage,
            dir: dir.to_owned(),
            file: None,
            pos: 0,
            allocated: 0,
            prealloc: prealloc.max(4096),
            segment_max,
        };
        if let Some(seg) = last
            && seg.end >= SEGMENT_HEADER as u64
            && !(seg.txns.is_empty() && seg.torn)
        {
            let mut f = w.storage.open(&seg.path)?;
            let len = f.len()?;
            if seg.torn {
                // Cut: zero everything after the last good batch, durably.
                f.set_len(seg.end)?;
                f.set_len(len.max(seg.end))?;
                f.sync()?;
            }
            w.pos = seg.end;
            w.allocated = len.max(seg.end);
            w.file = Some(f);
        } else if let Some(seg) = last {
            // An empty or headerless last segment: start it over.
            w.storage.remove(&seg.path)?;
        }
        Ok(w)
    }

    /// Whether the storage underneath is simulated (see `off_thread`).
    pub fn simulated(&self) -> bool {
        self.storage.simulated()
    }

    /// Writes one batch and makes it durable.
    pub fn append(&mut self, txns: &[Txn]) -> io::Result<()> {
        let Some(first) = txns.first() else {
            return Ok(());
        };
        self.append_encoded(first.header.zxid, &encode_batch(txns))
    }

    /// Writes an already encoded batch (framed as `append` frames one)
    /// whose first txn is `first_zxid`, and makes it durable.
    pub fn append_encoded(&mut self, first_zxid: i64, bytes: &[u8]) -> io::Result<()> {
        if self.file.is_none() || self.pos >= self.segment_max {
            self.start_segment(first_zxid)?;
        }
        let Some(file) = self.file.as_mut() else {
            return Err(io::Error::other("no segment open"));
        };
        let end = self.pos + bytes.len() as u64;
        if end > self.allocated {
            self.allocated = end + self.prealloc;
            file.set_len(self.allocated)?;
        }
        file.write_at(self.pos, bytes)?;
        file.sync()?;
        self.pos = end;
        Ok(())
    }

    /// After a failed append: cuts whatever it left past the last durable
    /// batch, durably, so the next append (the same zxids again) follows
    /// the last acknowledged txn. The file grows again at that append.
    pub fn repair(&mut self) -> io::Result<()> {
        if let Some(file) = self.file.as_mut() {
            file.set_len(self.pos)?;
            file.sync()?;
            self.allocated = self.pos;
        }
        Ok(())
    }

    /// Whether the log's directory takes new files now.
    pub fn check_writable(&self) -> io::Result<()> {
        super::probe(self.storage.as_ref(), &self.dir)
    }

    /// The next append starts a new segment (done at each snapshot, so old
    /// segments can be purged whole).
    pub fn roll(&mut self) {
        self.file = None;
    }

    fn start_segment(&mut self, first_zxid: i64) -> io::Result<()> {
        let path = self.dir.join(segment_name(first_zxid));
        let mut f = self.storage.create(&path)?;
        f.set_len(self.prealloc)?;
        f.write_at(0, &segment_header())?;
        f.sync()?;
        self.file = Some(f);
        self.pos = SEGMENT_HEADER as u64;
        self.allocated = self.prealloc;
        Ok(())
    }
}

/// Every segment in `dir`, read and checked in zxid order: contiguous
/// zxids across files (a gap is a missing segment), a torn tail only at
/// the very end.
pub fn read_log(storage: &dyn Storage, dir: &Path) -> Result<Vec<Segment>, LogError> {
    read_log_from(storage, dir, 0)
}

/// Like [`read_log`], skipping the segments that hold only txns before
/// `from_zxid` (those a snapshot already has): recovery reads the tail,
/// not the whole history.
pub fn read_log_from(
    storage: &dyn Storage,
    dir: &Path,
    from_zxid: i64,
) -> Result<Vec<Segment>, LogError> {
    let mut names: Vec<(i64, String)> = storage
        .list(dir)?
        .into_iter()
        .filter_map(|n| parse_segment_name(&n).map(|z| (z, n)))
        .collect();
    names.sort();
    // The last segment starting at or before from_zxid holds it.
    let skip = names
        .iter()
        .rposition(|(z, _)| *z <= from_zxid)
        .unwrap_or(0);
    names.drain(..skip);
    let mut out: Vec<Segment> = Vec::with_capacity(names.len());
    let count = names.len();
    for (i, (first_zxid, name)) in names.into_iter().enumerate() {
        let path = dir.join(&name);
        let bytes = storage.read(&path)?;
        let seg = read_segment(&path, first_zxid, &bytes, i + 1 == count)?;
        if let Some(prev_last) = out.iter().rev().find_map(|s| s.txns.last()) {
            if first_zxid > prev_last.header.zxid + 1 && !follows(prev_last.header.zxid, first_zxid)
            {
                return Err(LogError::Gap {
                    path,
                    from: prev_last.header.zxid + 1,
                    to: first_zxid - 1,
                });
            }
        }
        out.push(seg);
    }
    Ok(out)
}
