//! The log against damage: torn tails at every byte, flipped bits, missing
//! segments, an empty directory, a crash that loses unsynced bytes.

use std::path::PathBuf;
use std::sync::Arc;

use zk_proto::txn::{CreateTxn, Txn, TxnBody, TxnHeader};

use super::storage::{MemStorage, Storage};
use super::txn_log::{LogError, LogWriter, read_log, segment_name};

fn txn(zxid: i64) -> Txn {
    Txn {
        header: TxnHeader {
            client_id: 7,
            cxid: zxid as i32,
            zxid,
            time_ms: 1000 + zxid,
        },
        body: TxnBody::Create(CreateTxn {
            path: format!("/n{zxid}"),
            data: Some(bytes::Bytes::from(vec![zxid as u8; 20])),
            acl: zk_proto::data::Acl::open_unsafe(),
            ephemeral: false,
            parent_cversion: zxid as i32,
        }),
    }
}

fn dir() -> PathBuf {
    PathBuf::from("/log/version-2")
}

/// Writes batches of `sizes` txns (zxids from 1), each synced.
fn write(storage: &MemStorage, sizes: &[usize], segment_max: u64) -> LogWriter {
    let mut w =
        LogWriter::open(Arc::new(storage.clone()), &dir(), None, 4096, segment_max).expect("open");
    let mut zxid = 1;
    for &n in sizes {
        let batch: Vec<Txn> = (zxid..zxid + n as i64).map(txn).collect();
        w.append(&batch).expect("append");
        zxid += n as i64;
    }
    w
}

fn zxids(storage: &MemStorage) -> Result<Vec<i64>, LogError> {
    Ok(read_log(storage, &dir())?
        .iter()
        .flat_map(|s| s.txns.iter().map(|t| t.header.zxid))
        .collect())
}

fn only_segment(storage: &MemStorage) -> PathBuf {
    let names = storage.list(&dir()).expect("list");
    assert_eq!(names.len(), 1, "{names:?}");
    dir().join(&names[0])
}

/// The end of the valid data (where the zero padding starts).
fn data_end(bytes: &[u8]) -> usize {
    bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1)
}

#[test]
fn batches_read_back_in_order() {
    let s = MemStorage::default();
    write(&s, &[1, 3, 2], 1 << 20);
    assert_eq!(zxids(&s).expect("reads"), (1..=6).collect::<Vec<_>>());
}

#[test]
fn empty_directory_is_an_empty_log() {
    let s = MemStorage::default();
    assert_eq!(zxids(&s).expect("reads"), Vec::<i64>::new());
}

#[test]
fn torn_last_batch_is_cut_at_every_byte_offset() {
    let s = MemStorage::default();
    write(&s, &[2, 3], 1 << 20);
    let path = only_segment(&s);
    let whole = s.read(&path).expect("read");
    let end = data_end(&whole);
    let last_batch_start = {
        let two = MemStorage::default();
        write(&two, &[2], 1 << 20);
        data_end(&two.read(&only_segment(&two)).expect("read"))
    };
    for cut in last_batch_start..end {
        let damaged = MemStorage::default();
        let mut bytes = whole.clone();
        bytes.truncate(cut);
        let mut f = damaged.create(&path).expect("create");
        f.write_at(0, &bytes).expect("write");
        f.sync().expect("sync");
        let segs = read_log(&damaged, &dir()).expect("a torn tail is not an error");
        assert_eq!(segs[0].txns.len(), 2, "cut at {cut}");
        // The writer cuts the tail and goes on after the good batches.
        let mut w = LogWriter::open(
            Arc::new(damaged.clone()),
            &dir(),
            segs.last(),
            4096,
            1 << 20,
        )
        .expect("open");
        w.append(&[txn(3)]).expect("append after the cut");
        assert_eq!(
            zxids(&damaged).expect("reads"),
            vec![1, 2, 3],
            "cut at {cut}"
        );
    }
}

#[test]
fn flipped_bit_in_the_last_batch_is_a_torn_tail() {
    let s = MemStorage::default();
    write(&s, &[2, 2], 1 << 20);
    let path = only_segment(&s);
    let end = data_end(&s.read(&path).expect("read"));
    s.edit(&path, |b| b[end - 3] ^= 0x10).expect("edit");
    assert_eq!(zxids(&s).expect("cut, not an error"), vec![1, 2]);
}

#[test]
fn flipped_bit_before_a_good_batch_stops_recovery() {
    let s = MemStorage::default();
    write(&s, &[2, 2], 1 << 20);
    let path = only_segment(&s);
    // A byte inside the first batch's payload.
    s.edit(&path, |b| b[super::txn_log::SEGMENT_HEADER + 30] ^= 0x01)
        .expect("edit");
    match zxids(&s) {
        Err(LogError::Corrupt { offset, .. }) => {
            assert_eq!(offset, super::txn_log::SEGMENT_HEADER as u64)
        }
        other => panic!("expected corruption, got {other:?}"),
    }
}

#[test]
fn corruption_in_an_older_segment_stops_recovery() {
    let s = MemStorage::default();
    write(&s, &[3, 3, 3], 64);
    let mut names = s.list(&dir()).expect("list");
    names.sort();
    assert!(names.len() >= 2, "{names:?}");
    let first = dir().join(&names[0]);
    let end = data_end(&s.read(&first).expect("read"));
    s.edit(&first, |b| b[end - 1] ^= 0xff).expect("edit");
    assert!(matches!(zxids(&s), Err(LogError::Corrupt { .. })));
}

#[test]
fn missing_segment_is_an_error() {
    let s = MemStorage::default();
    write(&s, &[3, 3, 3], 64);
    let mut names = s.list(&dir()).expect("list");
    names.sort_by_key(|n| super::txn_log::parse_segment_name(n));
    assert_eq!(names.len(), 3, "{names:?}");
    s.remove(&dir().join(&names[1])).expect("remove");
    assert!(
        matches!(zxids(&s), Err(LogError::Gap { from: 4, to: 6, .. })),
        "{:?}",
        zxids(&s)
    );
}

#[test]
fn crash_keeps_exactly_the_synced_batches() {
    let s = MemStorage::default();
    write(&s, &[2], 1 << 20);
    // Written but never synced: the file layer's write, no sync.
    let path = only_segment(&s);
    let end = data_end(&s.read(&path).expect("read"));
    let mut f = s.open(&path).expect("open");
    f.write_at(end as u64, &super::txn_log::encode_batch(&[txn(3)]))
        .expect("write");
    assert_eq!(zxids(&s).expect("reads"), vec![1, 2, 3]);
    s.crash();
    assert_eq!(zxids(&s).expect("reads"), vec![1, 2]);
    // The writer resumes after what survived.
    let segs = read_log(&s, &dir()).expect("reads");
    let mut w =
        LogWriter::open(Arc::new(s.clone()), &dir(), segs.last(), 4096, 1 << 20).expect("open");
    w.append(&[txn(3)]).expect("append");
    assert_eq!(zxids(&s).expect("reads"), vec![1, 2, 3]);
}

#[test]
fn segments_are_named_by_their_first_zxid() {
    let s = MemStorage::default();
    write(&s, &[3, 3], 64);
    let mut names = s.list(&dir()).expect("list");
    names.sort();
    assert_eq!(names, vec![segment_name(1), segment_name(4)]);
}
