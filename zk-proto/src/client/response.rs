//! Response records and the `Response` enum.

use bytes::{Bytes, BytesMut};

use super::multi::{MultiResult, decode_multi_results, encode_multi_results};
use crate::codec::{Decode, DecodeError, Encode};
use crate::data::{Acl, ClientInfo, Stat};
use crate::op_code::OpCode;
use crate::record;

record! {
    /// create.
    pub struct CreateResponse {
        /// The created path, with the sequence suffix if any.
        pub path: String,
    }
}

record! {
    /// create2, createContainer, createTTL.
    pub struct Create2Response {
        /// The created path, with the sequence suffix if any.
        pub path: String,
        /// The new node's stat.
        pub stat: Stat,
    }
}

record! {
    /// getData (and reconfig, which answers with the new config).
    pub struct GetDataResponse {
        /// The data; `None` when the node was created with null data.
        pub data: Option<Bytes>,
        /// The node's stat.
        pub stat: Stat,
    }
}

record! {
    /// getACL.
    pub struct GetAclResponse {
        /// The ACL; digest hashes are hidden without ADMIN.
        pub acl: Vec<Acl>,
        /// The node's stat (`aversion` is the ACL version).
        pub stat: Stat,
    }
}

record! {
    /// getChildren.
    pub struct GetChildrenResponse {
        /// The child names (not paths), in no set order.
        pub children: Vec<String>,
    }
}

record! {
    /// getChildren2.
    pub struct GetChildren2Response {
        /// The child names (not paths), in no set order.
        pub children: Vec<String>,
        /// The parent's stat.
        pub stat: Stat,
    }
}

record! {
    /// The body of an op that failed inside a multi, and of addWatch.
    pub struct ErrorResponse {
        /// An [`ErrorCode`](crate::ErrorCode) number.
        pub err: i32,
    }
}

/// A response body. Which one follows a reply header depends on the op of the
/// request it answers, so decoding takes that op.
///
/// ```
/// use zk_proto::client::{MultiResult, Response};
/// use zk_proto::data::Stat;
/// use zk_proto::{Encode, ErrorCode, OpCode};
///
/// // A failed multi: the failing op has its code, the others say why not.
/// let reply = Response::Multi(vec![
///     MultiResult::Error { err: ErrorCode::Ok.code() },
///     MultiResult::Error { err: ErrorCode::NodeExists.code() },
///     MultiResult::Error { err: ErrorCode::RuntimeInconsistency.code() },
/// ]);
/// let decoded = Response::decode(OpCode::Multi, &mut reply.to_bytes())?;
/// assert_eq!(decoded, reply);
///
/// let stat = Response::Stat(Stat { version: 1, ..Default::default() });
/// assert_eq!(Response::decode(OpCode::SetData, &mut stat.to_bytes())?, stat);
/// # Ok::<(), zk_proto::DecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// No body: delete, ping, check, auth, setWatches, removeWatches, ...,
    /// and every error reply.
    Empty,
    /// create.
    Create(CreateResponse),
    /// create2, createContainer, createTTL.
    Create2(Create2Response),
    /// exists, setData, setACL.
    Stat(Stat),
    /// getData, reconfig.
    GetData(GetDataResponse),
    /// getACL.
    GetAcl(GetAclResponse),
    /// getChildren.
    GetChildren(GetChildrenResponse),
    /// getChildren2.
    GetChildren2(GetChildren2Response),
    /// sync answers with the path.
    Sync(String),
    /// multi and multiRead: one result per op, in order.
    Multi(Vec<MultiResult>),
    /// getEphemerals: the session's ephemeral paths.
    GetEphemerals(Vec<String>),
    /// getAllChildrenNumber: the number of descendants.
    AllChildrenNumber(i32),
    /// whoAmI: the connection's identities.
    WhoAmI(Vec<ClientInfo>),
    /// The server's SASL token.
    Sasl(Bytes),
    /// addWatch answers with an `ErrorResponse{err}` body (0 on success);
    /// the Java client reads it, so it must be there.
    ErrorBody(i32),
}

impl Encode for Response {
    fn encode(&self, buf: &mut BytesMut) {
        match self {
            Response::Empty => {}
            Response::Create(r) => r.encode(buf),
            Response::Create2(r) => r.encode(buf),
            Response::Stat(s) => s.encode(buf),
            Response::GetData(r) => r.encode(buf),
            Response::GetAcl(r) => r.encode(buf),
            Response::GetChildren(r) => r.encode(buf),
            Response::GetChildren2(r) => r.encode(buf),
            Response::Sync(p) => p.encode(buf),
            Response::Multi(results) => encode_multi_results(results, buf),
            Response::GetEphemerals(paths) => paths.encode(buf),
            Response::AllChildrenNumber(n) => n.encode(buf),
            Response::WhoAmI(infos) => infos.encode(buf),
            Response::Sasl(token) => token.encode(buf),
            Response::ErrorBody(err) => err.encode(buf),
        }
    }
}

/// Encoded sizes of jute's variable-length values.
fn string_len(s: &str) -> usize {
    4 + s.len()
}

fn strings_len(v: &[String]) -> usize {
    4 + v.iter().map(|s| string_len(s)).sum::<usize>()
}

fn buffer_len(b: &Option<Bytes>) -> usize {
    4 + b.as_ref().map_or(0, Bytes::len)
}

/// A `Stat` is eleven fixed-size fields.
const STAT_LEN: usize = 68;
/// A `MultiHeader`: type (int), done (bool), err (int).
const MULTI_HEADER_LEN: usize = 9;

impl Response {
    /// The number of bytes [`Encode::encode`] writes, computed without
    /// encoding: a server refuses a reply too large to send before it
    /// builds one.
    pub fn encoded_len(&self) -> usize {
        match self {
            Response::Empty => 0,
            Response::Create(r) => string_len(&r.path),
            Response::Create2(r) => string_len(&r.path) + STAT_LEN,
            Response::Stat(_) => STAT_LEN,
            Response::GetData(r) => buffer_len(&r.data) + STAT_LEN,
            Response::GetAcl(r) => {
                4 + r
                    .acl
                    .iter()
                    .map(|a| 4 + string_len(&a.id.scheme) + string_len(&a.id.id))
                    .sum::<usize>()
                    + STAT_LEN
            }
            Response::GetChildren(r) => strings_len(&r.children),
            Response::GetChildren2(r) => strings_len(&r.children) + STAT_LEN,
            Response::Sync(p) => string_len(p),
            Response::Multi(results) => {
                results
                    .iter()
                    .map(|r| MULTI_HEADER_LEN + r.encoded_len())
                    .sum::<usize>()
                    + MULTI_HEADER_LEN
            }
            Response::GetEphemerals(paths) => strings_len(paths),
            Response::AllChildrenNumber(_) | Response::ErrorBody(_) => 4,
            Response::WhoAmI(infos) => {
                4 + infos
                    .iter()
                    .map(|i| string_len(&i.auth_scheme) + string_len(&i.user))
                    .sum::<usize>()
            }
            Response::Sasl(token) => 4 + token.len(),
        }
    }

    /// Decodes the body of a successful reply to a request of type `op`.
    pub fn decode(op: OpCode, buf: &mut Bytes) -> Result<Response, DecodeError> {
        Ok(match op {
            OpCode::Create => Response::Create(Decode::decode(buf)?),
            OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTtl => {
                Response::Create2(Decode::decode(buf)?)
            }
            OpCode::Exists | OpCode::SetData | OpCode::SetAcl => {
                Response::Stat(Decode::decode(buf)?)
            }
            OpCode::GetData | OpCode::Reconfig => Response::GetData(Decode::decode(buf)?),
            OpCode::GetAcl => Response::GetAcl(Decode::decode(buf)?),
            OpCode::GetChildren => Response::GetChildren(Decode::decode(buf)?),
            OpCode::GetChildren2 => Response::GetChildren2(Decode::decode(buf)?),
            OpCode::Sync => Response::Sync(Decode::decode(buf)?),
            OpCode::Multi | OpCode::MultiRead => Response::Multi(decode_multi_results(buf)?),
            OpCode::GetEphemerals => Response::GetEphemerals(Decode::decode(buf)?),
            OpCode::GetAllChildrenNumber => Response::AllChildrenNumber(Decode::decode(buf)?),
            OpCode::WhoAmI => Response::WhoAmI(Decode::decode(buf)?),
            OpCode::Sasl => Response::Sasl(Decode::decode(buf)?),
            OpCode::AddWatch => Response::ErrorBody(Decode::decode(buf)?),
            OpCode::Delete
            | OpCode::Ping
            | OpCode::Check
            | OpCode::Auth
            | OpCode::SetWatches
            | OpCode::SetWatches2
            | OpCode::CheckWatches
            | OpCode::RemoveWatches
            | OpCode::CloseSession
            | OpCode::DeleteContainer
            | OpCode::CreateSession
            | OpCode::Notification
            | OpCode::Error => Response::Empty,
        })
    }
}
