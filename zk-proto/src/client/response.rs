//! Response records and the `Response` enum.

use bytes::{Bytes, BytesMut};

use super::multi::{MultiResult, decode_multi_results, encode_multi_results};
use crate::codec::{Decode, DecodeError, Encode};
use crate::data::{Acl, ClientInfo, Stat};
use crate::op_code::OpCode;
use crate::record;

record! {
    pub struct CreateResponse {
        pub path: String,
    }
}

record! {
    /// create2, createContainer, createTTL.
    pub struct Create2Response {
        pub path: String,
        pub stat: Stat,
    }
}

record! {
    pub struct GetDataResponse {
        pub data: Option<Bytes>,
        pub stat: Stat,
    }
}

record! {
    pub struct GetAclResponse {
        pub acl: Vec<Acl>,
        pub stat: Stat,
    }
}

record! {
    pub struct GetChildrenResponse {
        pub children: Vec<String>,
    }
}

record! {
    pub struct GetChildren2Response {
        pub children: Vec<String>,
        pub stat: Stat,
    }
}

record! {
    pub struct ErrorResponse {
        pub err: i32,
    }
}

/// A response body. Which one follows a reply header depends on the op of the
/// request it answers, so decoding takes that op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// No body: delete, ping, check, auth, setWatches, removeWatches, ...,
    /// and every error reply.
    Empty,
    Create(CreateResponse),
    Create2(Create2Response),
    /// exists, setData, setACL.
    Stat(Stat),
    GetData(GetDataResponse),
    GetAcl(GetAclResponse),
    GetChildren(GetChildrenResponse),
    GetChildren2(GetChildren2Response),
    /// sync answers with the path.
    Sync(String),
    Multi(Vec<MultiResult>),
    GetEphemerals(Vec<String>),
    AllChildrenNumber(i32),
    WhoAmI(Vec<ClientInfo>),
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

impl Response {
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
