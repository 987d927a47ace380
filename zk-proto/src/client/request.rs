//! Request records and the `Request` enum, one variant per op code.

use bytes::{Bytes, BytesMut};

use crate::codec::{Decode, DecodeError, Encode};
use crate::data::Acl;
use crate::op_code::OpCode;
use crate::record;

record! {
    /// create, create2, createContainer.
    pub struct CreateRequest {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub flags: i32,
    }
}

record! {
    pub struct CreateTtlRequest {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub flags: i32,
        pub ttl: i64,
    }
}

record! {
    pub struct DeleteRequest {
        pub path: String,
        pub version: i32,
    }
}

record! {
    /// exists, getData, getChildren, getChildren2.
    pub struct PathWatchRequest {
        pub path: String,
        pub watch: bool,
    }
}

record! {
    pub struct SetDataRequest {
        pub path: String,
        pub data: Option<Bytes>,
        pub version: i32,
    }
}

record! {
    /// getACL, sync, getEphemerals (a prefix), getAllChildrenNumber.
    pub struct PathRequest {
        pub path: String,
    }
}

record! {
    pub struct SetAclRequest {
        pub path: String,
        pub acl: Vec<Acl>,
        pub version: i32,
    }
}

record! {
    pub struct CheckVersionRequest {
        pub path: String,
        pub version: i32,
    }
}

record! {
    pub struct ReconfigRequest {
        pub joining_servers: Option<String>,
        pub leaving_servers: Option<String>,
        pub new_members: Option<String>,
        pub cur_config_id: i64,
    }
}

record! {
    /// checkWatches and removeWatches; the type is a `WatcherType` number.
    pub struct WatchesRequest {
        pub path: String,
        pub watcher_type: i32,
    }
}

record! {
    /// The mode is an `AddWatchMode` number.
    pub struct AddWatchRequest {
        pub path: String,
        pub mode: i32,
    }
}

record! {
    pub struct SetWatches {
        pub relative_zxid: i64,
        pub data_watches: Vec<String>,
        pub exist_watches: Vec<String>,
        pub child_watches: Vec<String>,
    }
}

record! {
    pub struct SetWatches2 {
        pub relative_zxid: i64,
        pub data_watches: Vec<String>,
        pub exist_watches: Vec<String>,
        pub child_watches: Vec<String>,
        pub persistent_watches: Vec<String>,
        pub persistent_recursive_watches: Vec<String>,
    }
}

record! {
    pub struct AuthPacket {
        pub auth_type: i32,
        pub scheme: String,
        pub auth: Bytes,
    }
}

record! {
    pub struct SaslRequest {
        pub token: Bytes,
    }
}

record! {
    /// Frames each operation of a multi request and of its response.
    pub struct MultiHeader {
        pub op: i32,
        pub done: bool,
        pub err: i32,
    }
}

/// A decoded request body. The op code lives in the request header; the
/// variants that share a record keep the op apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Create(CreateRequest),
    Create2(CreateRequest),
    CreateContainer(CreateRequest),
    CreateTtl(CreateTtlRequest),
    Delete(DeleteRequest),
    Exists(PathWatchRequest),
    GetData(PathWatchRequest),
    SetData(SetDataRequest),
    GetAcl(PathRequest),
    SetAcl(SetAclRequest),
    GetChildren(PathWatchRequest),
    GetChildren2(PathWatchRequest),
    Sync(PathRequest),
    Ping,
    Check(CheckVersionRequest),
    /// Writes only: create*, delete, setData, check.
    Multi(Vec<Request>),
    /// Reads only: getData, getChildren.
    MultiRead(Vec<Request>),
    Reconfig(ReconfigRequest),
    CheckWatches(WatchesRequest),
    RemoveWatches(WatchesRequest),
    AddWatch(AddWatchRequest),
    GetEphemerals(PathRequest),
    GetAllChildrenNumber(PathRequest),
    WhoAmI,
    SetWatches(SetWatches),
    SetWatches2(SetWatches2),
    Auth(AuthPacket),
    Sasl(SaslRequest),
    CloseSession,
}

impl Request {
    pub fn op_code(&self) -> OpCode {
        match self {
            Request::Create(_) => OpCode::Create,
            Request::Create2(_) => OpCode::Create2,
            Request::CreateContainer(_) => OpCode::CreateContainer,
            Request::CreateTtl(_) => OpCode::CreateTtl,
            Request::Delete(_) => OpCode::Delete,
            Request::Exists(_) => OpCode::Exists,
            Request::GetData(_) => OpCode::GetData,
            Request::SetData(_) => OpCode::SetData,
            Request::GetAcl(_) => OpCode::GetAcl,
            Request::SetAcl(_) => OpCode::SetAcl,
            Request::GetChildren(_) => OpCode::GetChildren,
            Request::GetChildren2(_) => OpCode::GetChildren2,
            Request::Sync(_) => OpCode::Sync,
            Request::Ping => OpCode::Ping,
            Request::Check(_) => OpCode::Check,
            Request::Multi(_) => OpCode::Multi,
            Request::MultiRead(_) => OpCode::MultiRead,
            Request::Reconfig(_) => OpCode::Reconfig,
            Request::CheckWatches(_) => OpCode::CheckWatches,
            Request::RemoveWatches(_) => OpCode::RemoveWatches,
            Request::AddWatch(_) => OpCode::AddWatch,
            Request::GetEphemerals(_) => OpCode::GetEphemerals,
            Request::GetAllChildrenNumber(_) => OpCode::GetAllChildrenNumber,
            Request::WhoAmI => OpCode::WhoAmI,
            Request::SetWatches(_) => OpCode::SetWatches,
            Request::SetWatches2(_) => OpCode::SetWatches2,
            Request::Auth(_) => OpCode::Auth,
            Request::Sasl(_) => OpCode::Sasl,
            Request::CloseSession => OpCode::CloseSession,
        }
    }

    /// The path the request is about, if it has one.
    pub fn path(&self) -> Option<&str> {
        Some(match self {
            Request::Create(r) | Request::Create2(r) | Request::CreateContainer(r) => &r.path,
            Request::CreateTtl(r) => &r.path,
            Request::Delete(r) => &r.path,
            Request::Exists(r)
            | Request::GetData(r)
            | Request::GetChildren(r)
            | Request::GetChildren2(r) => &r.path,
            Request::SetData(r) => &r.path,
            Request::GetAcl(r)
            | Request::Sync(r)
            | Request::GetEphemerals(r)
            | Request::GetAllChildrenNumber(r) => &r.path,
            Request::SetAcl(r) => &r.path,
            Request::Check(r) => &r.path,
            Request::CheckWatches(r) | Request::RemoveWatches(r) => &r.path,
            Request::AddWatch(r) => &r.path,
            _ => return None,
        })
    }

    /// Decodes the body of a request of type `op`.
    pub fn decode(op: OpCode, buf: &mut Bytes) -> Result<Request, DecodeError> {
        Ok(match op {
            OpCode::Create => Request::Create(Decode::decode(buf)?),
            OpCode::Create2 => Request::Create2(Decode::decode(buf)?),
            OpCode::CreateContainer => Request::CreateContainer(Decode::decode(buf)?),
            OpCode::CreateTtl => Request::CreateTtl(Decode::decode(buf)?),
            OpCode::Delete => Request::Delete(Decode::decode(buf)?),
            OpCode::Exists => Request::Exists(Decode::decode(buf)?),
            OpCode::GetData => Request::GetData(Decode::decode(buf)?),
            OpCode::SetData => Request::SetData(Decode::decode(buf)?),
            OpCode::GetAcl => Request::GetAcl(Decode::decode(buf)?),
            OpCode::SetAcl => Request::SetAcl(Decode::decode(buf)?),
            OpCode::GetChildren => Request::GetChildren(Decode::decode(buf)?),
            OpCode::GetChildren2 => Request::GetChildren2(Decode::decode(buf)?),
            OpCode::Sync => Request::Sync(Decode::decode(buf)?),
            OpCode::Ping => Request::Ping,
            OpCode::Check => Request::Check(Decode::decode(buf)?),
            OpCode::Multi => Request::Multi(decode_multi(buf, false)?),
            OpCode::MultiRead => Request::MultiRead(decode_multi(buf, true)?),
            OpCode::Reconfig => Request::Reconfig(Decode::decode(buf)?),
            OpCode::CheckWatches => Request::CheckWatches(Decode::decode(buf)?),
            OpCode::RemoveWatches => Request::RemoveWatches(Decode::decode(buf)?),
            OpCode::AddWatch => Request::AddWatch(Decode::decode(buf)?),
            OpCode::GetEphemerals => Request::GetEphemerals(Decode::decode(buf)?),
            OpCode::GetAllChildrenNumber => Request::GetAllChildrenNumber(Decode::decode(buf)?),
            OpCode::WhoAmI => Request::WhoAmI,
            OpCode::SetWatches => Request::SetWatches(Decode::decode(buf)?),
            OpCode::SetWatches2 => Request::SetWatches2(Decode::decode(buf)?),
            OpCode::Auth => Request::Auth(Decode::decode(buf)?),
            OpCode::Sasl => Request::Sasl(Decode::decode(buf)?),
            OpCode::CloseSession => Request::CloseSession,
            OpCode::Notification
            | OpCode::DeleteContainer
            | OpCode::CreateSession
            | OpCode::Error => return Err(DecodeError::UnknownOpCode(op.code())),
        })
    }

    /// Encodes the body (without the request header).
    pub fn encode_body(&self, buf: &mut BytesMut) {
        match self {
            Request::Create(r) | Request::Create2(r) | Request::CreateContainer(r) => r.encode(buf),
            Request::CreateTtl(r) => r.encode(buf),
            Request::Delete(r) => r.encode(buf),
            Request::Exists(r)
            | Request::GetData(r)
            | Request::GetChildren(r)
            | Request::GetChildren2(r) => r.encode(buf),
            Request::SetData(r) => r.encode(buf),
            Request::GetAcl(r)
            | Request::Sync(r)
            | Request::GetEphemerals(r)
            | Request::GetAllChildrenNumber(r) => r.encode(buf),
            Request::SetAcl(r) => r.encode(buf),
            Request::Check(r) => r.encode(buf),
            Request::Multi(ops) | Request::MultiRead(ops) => encode_multi(ops, buf),
            Request::Reconfig(r) => r.encode(buf),
            Request::CheckWatches(r) | Request::RemoveWatches(r) => r.encode(buf),
            Request::AddWatch(r) => r.encode(buf),
            Request::SetWatches(r) => r.encode(buf),
            Request::SetWatches2(r) => r.encode(buf),
            Request::Auth(r) => r.encode(buf),
            Request::Sasl(r) => r.encode(buf),
            Request::Ping | Request::WhoAmI | Request::CloseSession => {}
        }
    }
}

fn encode_multi(ops: &[Request], buf: &mut BytesMut) {
    for op in ops {
        MultiHeader {
            op: op.op_code().code(),
            done: false,
            err: -1,
        }
        .encode(buf);
        op.encode_body(buf);
    }
    MultiHeader {
        op: -1,
        done: true,
        err: -1,
    }
    .encode(buf);
}

/// Reads `MultiHeader`-framed operations up to the `done` header. A write
/// multi takes only writes and a multiRead only reads, as ZooKeeper's
/// `MultiOperationRecord` does.
fn decode_multi(buf: &mut Bytes, reads: bool) -> Result<Vec<Request>, DecodeError> {
    let mut ops = Vec::new();
    loop {
        let header = MultiHeader::decode(buf)?;
        if header.done {
            return Ok(ops);
        }
        let op = OpCode::try_from(header.op)?;
        let allowed = if reads {
            matches!(op, OpCode::GetData | OpCode::GetChildren)
        } else {
            matches!(
                op,
                OpCode::Create
                    | OpCode::Create2
                    | OpCode::CreateTtl
                    | OpCode::CreateContainer
                    | OpCode::Delete
                    | OpCode::SetData
                    | OpCode::Check
            )
        };
        if !allowed {
            return Err(DecodeError::Invalid("op not allowed in this multi"));
        }
        ops.push(Request::decode(op, buf)?);
    }
}
