//! Request records and the `Request` enum, one variant per op code.

use bytes::{Bytes, BytesMut};

use crate::codec::{Decode, DecodeError, Encode};
use crate::data::Acl;
use crate::op_code::OpCode;
use crate::record;

record! {
    /// create, create2, createContainer.
    pub struct CreateRequest {
        /// The node to create; for a sequential mode, the prefix of its name.
        pub path: String,
        /// The initial data; `None` is null data, distinct from empty.
        pub data: Option<Bytes>,
        /// The node's ACL; must not be empty.
        pub acl: Vec<Acl>,
        /// A [`CreateMode`](crate::data::CreateMode) number.
        pub flags: i32,
    }
}

record! {
    /// createTTL.
    pub struct CreateTtlRequest {
        /// The node to create; for a sequential mode, the prefix of its name.
        pub path: String,
        /// The initial data; `None` is null data.
        pub data: Option<Bytes>,
        /// The node's ACL; must not be empty.
        pub acl: Vec<Acl>,
        /// A TTL [`CreateMode`](crate::data::CreateMode) number.
        pub flags: i32,
        /// How long the node may go without changes and children, in ms.
        pub ttl: i64,
    }
}

record! {
    /// delete.
    pub struct DeleteRequest {
        /// The node to delete.
        pub path: String,
        /// The version the node must have; -1 matches any.
        pub version: i32,
    }
}

record! {
    /// exists, getData, getChildren, getChildren2.
    pub struct PathWatchRequest {
        /// The node to read.
        pub path: String,
        /// Whether to leave a one-shot watch on the node.
        pub watch: bool,
    }
}

record! {
    /// setData.
    pub struct SetDataRequest {
        /// The node to write.
        pub path: String,
        /// The new data; `None` is null data.
        pub data: Option<Bytes>,
        /// The version the node must have; -1 matches any.
        pub version: i32,
    }
}

record! {
    /// getACL, sync, getEphemerals (a prefix), getAllChildrenNumber.
    pub struct PathRequest {
        /// The node (for getEphemerals, a path prefix).
        pub path: String,
    }
}

record! {
    /// setACL.
    pub struct SetAclRequest {
        /// The node whose ACL to replace.
        pub path: String,
        /// The new ACL; must not be empty.
        pub acl: Vec<Acl>,
        /// The ACL version (`aversion`) the node must have; -1 matches any.
        pub version: i32,
    }
}

record! {
    /// check, inside a multi.
    pub struct CheckVersionRequest {
        /// The node to check.
        pub path: String,
        /// The version the node must have; -1 only checks it exists.
        pub version: i32,
    }
}

record! {
    /// reconfig: either incremental (joining and leaving) or a whole new
    /// member list.
    pub struct ReconfigRequest {
        /// Server lines to add, comma-separated.
        pub joining_servers: Option<String>,
        /// Server ids to remove, comma-separated.
        pub leaving_servers: Option<String>,
        /// The complete new member list, comma-separated.
        pub new_members: Option<String>,
        /// The config version the change applies to; -1 matches any.
        pub cur_config_id: i64,
    }
}

record! {
    /// checkWatches and removeWatches; the type is a `WatcherType` number.
    pub struct WatchesRequest {
        /// The watched path.
        pub path: String,
        /// A [`WatcherType`](crate::data::WatcherType) number.
        pub watcher_type: i32,
    }
}

record! {
    /// The mode is an `AddWatchMode` number.
    pub struct AddWatchRequest {
        /// The path to watch; it need not exist.
        pub path: String,
        /// An [`AddWatchMode`](crate::data::AddWatchMode) number.
        pub mode: i32,
    }
}

record! {
    /// Re-registers one-shot watches after a reconnect. The server fires at
    /// once the watches whose node changed after `relative_zxid`.
    pub struct SetWatches {
        /// The last zxid the client saw.
        pub relative_zxid: i64,
        /// Paths with a data watch.
        pub data_watches: Vec<String>,
        /// Paths with an exists watch (the node was missing).
        pub exist_watches: Vec<String>,
        /// Paths with a child watch.
        pub child_watches: Vec<String>,
    }
}

record! {
    /// [`SetWatches`] with the persistent watches too (ZooKeeper 3.6+).
    pub struct SetWatches2 {
        /// The last zxid the client saw.
        pub relative_zxid: i64,
        /// Paths with a data watch.
        pub data_watches: Vec<String>,
        /// Paths with an exists watch (the node was missing).
        pub exist_watches: Vec<String>,
        /// Paths with a child watch.
        pub child_watches: Vec<String>,
        /// Paths with a persistent watch.
        pub persistent_watches: Vec<String>,
        /// Paths with a persistent recursive watch.
        pub persistent_recursive_watches: Vec<String>,
    }
}

record! {
    /// addAuth, sent with xid [`xid::AUTH`](crate::client::xid::AUTH).
    pub struct AuthPacket {
        /// Always 0.
        pub auth_type: i32,
        /// The scheme, e.g. `digest`.
        pub scheme: String,
        /// The credentials, e.g. `user:password` for `digest`.
        pub auth: Bytes,
    }
}

record! {
    /// One step of a SASL exchange.
    pub struct SaslRequest {
        /// The client's SASL token.
        pub token: Bytes,
    }
}

record! {
    /// Frames each operation of a multi request and of its response.
    pub struct MultiHeader {
        /// The op's [`OpCode`] number; -1 on the closing header.
        pub op: i32,
        /// Set on the closing header only.
        pub done: bool,
        /// -1 in a request; in a response, the op's result code.
        pub err: i32,
    }
}

/// A decoded request body. The op code lives in the request header; the
/// variants that share a record keep the op apart.
///
/// ```
/// use bytes::BytesMut;
/// use zk_proto::client::{PathWatchRequest, Request};
///
/// let request = Request::GetData(PathWatchRequest { path: "/app".into(), watch: true });
/// let mut body = BytesMut::new();
/// request.encode_body(&mut body);
/// let decoded = Request::decode(request.op_code(), &mut body.freeze())?;
/// assert_eq!(decoded, request);
/// assert_eq!(decoded.path(), Some("/app"));
/// # Ok::<(), zk_proto::DecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// create: the reply has the path.
    Create(CreateRequest),
    /// create2: the reply has the path and the stat.
    Create2(CreateRequest),
    /// createContainer.
    CreateContainer(CreateRequest),
    /// createTTL.
    CreateTtl(CreateTtlRequest),
    /// delete.
    Delete(DeleteRequest),
    /// exists.
    Exists(PathWatchRequest),
    /// getData.
    GetData(PathWatchRequest),
    /// setData.
    SetData(SetDataRequest),
    /// getACL.
    GetAcl(PathRequest),
    /// setACL.
    SetAcl(SetAclRequest),
    /// getChildren.
    GetChildren(PathWatchRequest),
    /// getChildren2: the children and the node's stat.
    GetChildren2(PathWatchRequest),
    /// sync.
    Sync(PathRequest),
    /// A ping, sent with xid [`xid::PING`](crate::client::xid::PING).
    Ping,
    /// check (inside a multi).
    Check(CheckVersionRequest),
    /// Writes only: create*, delete, setData, check.
    Multi(Vec<Request>),
    /// Reads only: getData, getChildren.
    MultiRead(Vec<Request>),
    /// reconfig.
    Reconfig(ReconfigRequest),
    /// checkWatches.
    CheckWatches(WatchesRequest),
    /// removeWatches.
    RemoveWatches(WatchesRequest),
    /// addWatch.
    AddWatch(AddWatchRequest),
    /// getEphemerals.
    GetEphemerals(PathRequest),
    /// getAllChildrenNumber.
    GetAllChildrenNumber(PathRequest),
    /// whoAmI.
    WhoAmI,
    /// setWatches.
    SetWatches(SetWatches),
    /// setWatches2.
    SetWatches2(SetWatches2),
    /// addAuth.
    Auth(AuthPacket),
    /// A SASL step.
    Sasl(SaslRequest),
    /// closeSession.
    CloseSession,
}

impl Request {
    /// The op code to put in the request header.
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
