//! Results of multi and multiRead, framed by `MultiHeader`s like the requests.

use bytes::{Bytes, BytesMut};

use super::request::MultiHeader;
use super::response::{Create2Response, CreateResponse, ErrorResponse, GetDataResponse};
use crate::codec::{Decode, DecodeError, Encode};
use crate::data::Stat;
use crate::op_code::OpCode;

/// The outcome of one operation of a multi or multiRead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiResult {
    /// A plain create (op 1) answers with the path only.
    Create {
        /// The created path, with the sequence suffix if any.
        path: String,
    },
    /// create2, createContainer and createTTL answer with the stat too.
    Create2 {
        /// Which of the three it was.
        op: OpCode,
        /// The created path, with the sequence suffix if any.
        path: String,
        /// The new node's stat.
        stat: Stat,
    },
    /// A delete succeeded.
    Delete,
    /// A version check passed.
    Check,
    /// A setData succeeded.
    SetData {
        /// The node's stat after the write.
        stat: Stat,
    },
    /// A getChildren of a multiRead.
    GetChildren {
        /// The child names.
        children: Vec<String>,
    },
    /// A getData of a multiRead.
    GetData {
        /// The data; `None` for null data.
        data: Option<Bytes>,
        /// The node's stat.
        stat: Stat,
    },
    /// A failed op; in a failed multi the ops before the failure carry 0 (ok)
    /// and the ops after it RuntimeInconsistency.
    Error {
        /// An [`ErrorCode`](crate::ErrorCode) number.
        err: i32,
    },
}

impl MultiResult {
    /// The encoded size of this result's body (its header not counted).
    pub(super) fn encoded_len(&self) -> usize {
        const STAT: usize = 68;
        let string = |s: &str| 4 + s.len();
        match self {
            MultiResult::Create { path } => string(path),
            MultiResult::Create2 { path, .. } => string(path) + STAT,
            MultiResult::Delete | MultiResult::Check => 0,
            MultiResult::SetData { .. } => STAT,
            MultiResult::GetChildren { children } => {
                4 + children.iter().map(|c| string(c)).sum::<usize>()
            }
            MultiResult::GetData { data, .. } => 4 + data.as_ref().map_or(0, Bytes::len) + STAT,
            MultiResult::Error { .. } => 4,
        }
    }

    fn op(&self) -> i32 {
        match self {
            MultiResult::Create { .. } => OpCode::Create.code(),
            MultiResult::Create2 { op, .. } => op.code(),
            MultiResult::Delete => OpCode::Delete.code(),
            MultiResult::Check => OpCode::Check.code(),
            MultiResult::SetData { .. } => OpCode::SetData.code(),
            MultiResult::GetChildren { .. } => OpCode::GetChildren.code(),
            MultiResult::GetData { .. } => OpCode::GetData.code(),
            MultiResult::Error { .. } => OpCode::Error.code(),
        }
    }
}

pub(super) fn encode_multi_results(results: &[MultiResult], buf: &mut BytesMut) {
    for result in results {
        let err = match result {
            MultiResult::Error { err } => *err,
            _ => 0,
        };
        MultiHeader {
            op: result.op(),
            done: false,
            err,
        }
        .encode(buf);
        match result {
            MultiResult::Create { path } => path.encode(buf),
            MultiResult::Create2 { path, stat, .. } => {
                path.encode(buf);
                stat.encode(buf);
            }
            MultiResult::Delete | MultiResult::Check => {}
            MultiResult::SetData { stat } => stat.encode(buf),
            MultiResult::GetChildren { children } => children.encode(buf),
            MultiResult::GetData { data, stat } => {
                data.encode(buf);
                stat.encode(buf);
            }
            MultiResult::Error { err } => err.encode(buf),
        }
    }
    MultiHeader {
        op: -1,
        done: true,
        err: -1,
    }
    .encode(buf);
}

pub(super) fn decode_multi_results(buf: &mut Bytes) -> Result<Vec<MultiResult>, DecodeError> {
    let mut results = Vec::new();
    loop {
        let header = MultiHeader::decode(buf)?;
        if header.done {
            return Ok(results);
        }
        let op = OpCode::try_from(header.op)?;
        results.push(match op {
            OpCode::Create => MultiResult::Create {
                path: CreateResponse::decode(buf)?.path,
            },
            OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTtl => {
                let r = Create2Response::decode(buf)?;
                MultiResult::Create2 {
                    op,
                    path: r.path,
                    stat: r.stat,
                }
            }
            OpCode::Delete => MultiResult::Delete,
            OpCode::Check => MultiResult::Check,
            OpCode::SetData => MultiResult::SetData {
                stat: Stat::decode(buf)?,
            },
            OpCode::GetChildren => MultiResult::GetChildren {
                children: Vec::decode(buf)?,
            },
            OpCode::GetData => {
                let r = GetDataResponse::decode(buf)?;
                MultiResult::GetData {
                    data: r.data,
                    stat: r.stat,
                }
            }
            OpCode::Error => MultiResult::Error {
                err: ErrorResponse::decode(buf)?.err,
            },
            _ => return Err(DecodeError::Invalid("op not allowed in a multi result")),
        });
    }
}
