//! The quorum protocol between a leader and its learners (ZooKeeper's
//! `QuorumPacket`, with our own byte layout): one frame per message, a tag
//! byte, then the fields in jute encoding.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use zk_proto::DecodeError;
use zk_proto::codec::{Decode, Encode};
use zk_proto::data::Id;
use zk_proto::txn::Txn;

/// Largest peer frame: a SNAP carries the whole tree.
pub const PEER_FRAME_MAX: usize = 1 << 30;

/// What a learner asks the leader to run for one of its clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forward {
    /// A client's write, prepped on the leader with the client's identities.
    Request {
        session_id: i64,
        cxid: i32,
        auth: Vec<Id>,
        /// The op code and the request body as the client sent it.
        op: i32,
        body: Bytes,
    },
    /// A new session, with the id the learner made (its myid in the top byte).
    CreateSession { session_id: i64, timeout_ms: i32 },
    /// A client's `sync`: answered after every write proposed before it.
    Sync,
    /// Sessions that had traffic since the last report; the leader's
    /// tracker decides expiry (`LearnerSessionTracker`).
    Touch(Vec<i64>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerMsg {
    // learner -> leader
    /// First message: who, and how far its history goes.
    LearnerInfo {
        sid: u64,
        accepted_epoch: u32,
        last_zxid: i64,
        observer: bool,
    },
    AckEpoch {
        current_epoch: u32,
        last_zxid: i64,
    },
    /// Logged durably up to `zxid` (cumulative).
    Ack {
        zxid: i64,
    },
    /// Synced to the new leader's history, epoch recorded.
    AckNewLeader,
    Forward(Forward),
    // leader -> learner
    LeaderInfo {
        epoch: u32,
    },
    /// Sync by the proposals and commits that follow.
    Diff {
        last_zxid: i64,
    },
    /// Drop every txn after `zxid`, then sync by what follows.
    Trunc {
        zxid: i64,
    },
    /// The whole tree and sessions (our snapshot file format).
    Snap(Bytes),
    Proposal(Txn),
    Commit {
        zxid: i64,
    },
    /// A committed txn, for observers (no proposal, no ack).
    Inform(Txn),
    NewLeader {
        epoch: u32,
    },
    UpToDate,
    /// The learner's oldest pending `sync` is answered.
    SyncDone,
    Ping,
}

impl PeerMsg {
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::new();
        match self {
            PeerMsg::LearnerInfo {
                sid,
                accepted_epoch,
                last_zxid,
                observer,
            } => {
                b.put_u8(1);
                (*sid as i64).encode(&mut b);
                (*accepted_epoch as i32).encode(&mut b);
                last_zxid.encode(&mut b);
                observer.encode(&mut b);
            }
            PeerMsg::AckEpoch {
                current_epoch,
                last_zxid,
            } => {
                b.put_u8(2);
                (*current_epoch as i32).encode(&mut b);
                last_zxid.encode(&mut b);
            }
            PeerMsg::Ack { zxid } => tagged(&mut b, 3, zxid),
            PeerMsg::AckNewLeader => b.put_u8(4),
            PeerMsg::Forward(f) => encode_forward(&mut b, f),
            PeerMsg::LeaderInfo { epoch } => tagged(&mut b, 20, &(*epoch as i32)),
            PeerMsg::Diff { last_zxid } => tagged(&mut b, 21, last_zxid),
            PeerMsg::Trunc { zxid } => tagged(&mut b, 22, zxid),
            PeerMsg::Snap(bytes) => {
                b.put_u8(23);
                b.put_slice(bytes);
            }
            PeerMsg::Proposal(txn) => tagged(&mut b, 24, txn),
            PeerMsg::Commit { zxid } => tagged(&mut b, 25, zxid),
            PeerMsg::Inform(txn) => tagged(&mut b, 26, txn),
            PeerMsg::NewLeader { epoch } => tagged(&mut b, 27, &(*epoch as i32)),
            PeerMsg::UpToDate => b.put_u8(28),
            PeerMsg::SyncDone => b.put_u8(29),
            PeerMsg::Ping => b.put_u8(30),
        }
        b.freeze()
    }

    pub fn decode(mut buf: Bytes) -> Result<PeerMsg, DecodeError> {
        if buf.is_empty() {
            return Err(DecodeError::Truncated { needed: 1 });
        }
        let b = &mut buf;
        let msg = match b.get_u8() {
            1 => PeerMsg::LearnerInfo {
                sid: i64::decode(b)? as u64,
                accepted_epoch: i32::decode(b)? as u32,
                last_zxid: i64::decode(b)?,
                observer: bool::decode(b)?,
            },
            2 => PeerMsg::AckEpoch {
                current_epoch: i32::decode(b)? as u32,
                last_zxid: i64::decode(b)?,
            },
            3 => PeerMsg::Ack {
                zxid: i64::decode(b)?,
            },
            4 => PeerMsg::AckNewLeader,
            tag @ 10..=13 => PeerMsg::Forward(decode_forward(tag, b)?),
            20 => PeerMsg::LeaderInfo {
                epoch: i32::decode(b)? as u32,
            },
            21 => PeerMsg::Diff {
                last_zxid: i64::decode(b)?,
            },
            22 => PeerMsg::Trunc {
                zxid: i64::decode(b)?,
            },
            23 => PeerMsg::Snap(std::mem::take(b)),
            24 => PeerMsg::Proposal(Txn::decode(b)?),
            25 => PeerMsg::Commit {
                zxid: i64::decode(b)?,
            },
            26 => PeerMsg::Inform(Txn::decode(b)?),
            27 => PeerMsg::NewLeader {
                epoch: i32::decode(b)? as u32,
            },
            28 => PeerMsg::UpToDate,
            29 => PeerMsg::SyncDone,
            30 => PeerMsg::Ping,
            _ => return Err(DecodeError::Invalid("peer message tag")),
        };
        Ok(msg)
    }
}

fn tagged(b: &mut BytesMut, tag: u8, value: &(impl Encode + ?Sized)) {
    b.put_u8(tag);
    value.encode(b);
}

fn encode_forward(b: &mut BytesMut, f: &Forward) {
    match f {
        Forward::Request {
            session_id,
            cxid,
            auth,
            op,
            body,
        } => {
            b.put_u8(10);
            session_id.encode(b);
            cxid.encode(b);
            auth.encode(b);
            op.encode(b);
            body.encode(b);
        }
        Forward::CreateSession {
            session_id,
            timeout_ms,
        } => {
            b.put_u8(11);
            session_id.encode(b);
            timeout_ms.encode(b);
        }
        Forward::Sync => b.put_u8(12),
        Forward::Touch(ids) => tagged(b, 13, ids),
    }
}

fn decode_forward(tag: u8, b: &mut Bytes) -> Result<Forward, DecodeError> {
    Ok(match tag {
        10 => Forward::Request {
            session_id: i64::decode(b)?,
            cxid: i32::decode(b)?,
            auth: Vec::<Id>::decode(b)?,
            op: i32::decode(b)?,
            body: Bytes::decode(b)?,
        },
        11 => Forward::CreateSession {
            session_id: i64::decode(b)?,
            timeout_ms: i32::decode(b)?,
        },
        12 => Forward::Sync,
        _ => Forward::Touch(Vec::<i64>::decode(b)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use zk_proto::txn::{SetDataTxn, TxnBody, TxnHeader};

    fn txn() -> Txn {
        Txn {
            header: TxnHeader {
                client_id: 7,
                cxid: 3,
                zxid: 0x1_0000_0002,
                time_ms: 99,
            },
            body: TxnBody::SetData(SetDataTxn {
                path: "/a".into(),
                data: Some(Bytes::from_static(b"x")),
                version: 1,
            }),
        }
    }

    #[test]
    fn every_message_round_trips() {
        let msgs = [
            PeerMsg::LearnerInfo {
                sid: 2,
                accepted_epoch: 3,
                last_zxid: 0x3_0000_0001,
                observer: true,
            },
            PeerMsg::AckEpoch {
                current_epoch: 3,
                last_zxid: 5,
            },
            PeerMsg::Ack { zxid: 9 },
            PeerMsg::AckNewLeader,
            PeerMsg::Forward(Forward::Request {
                session_id: 1,
                cxid: 2,
                auth: vec![Id {
                    scheme: "digest".into(),
                    id: "u:x".into(),
                }],
                op: 5,
                body: Bytes::from_static(b"body"),
            }),
            PeerMsg::Forward(Forward::CreateSession {
                session_id: 4,
                timeout_ms: 4000,
            }),
            PeerMsg::Forward(Forward::Sync),
            PeerMsg::Forward(Forward::Touch(vec![1, 2, 3])),
            PeerMsg::LeaderInfo { epoch: 4 },
            PeerMsg::Diff { last_zxid: 8 },
            PeerMsg::Trunc { zxid: 8 },
            PeerMsg::Snap(Bytes::from_static(b"snapshot bytes")),
            PeerMsg::Proposal(txn()),
            PeerMsg::Commit { zxid: 8 },
            PeerMsg::Inform(txn()),
            PeerMsg::NewLeader { epoch: 4 },
            PeerMsg::UpToDate,
            PeerMsg::SyncDone,
            PeerMsg::Ping,
        ];
        for msg in msgs {
            assert_eq!(PeerMsg::decode(msg.encode()).unwrap(), msg);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&b""[..], &[0], &[99], &[24, 0, 0], &[1, 0]] {
            assert!(PeerMsg::decode(Bytes::copy_from_slice(bytes)).is_err());
        }
    }
}
