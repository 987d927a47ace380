//! Transactions: the unit of the log, of replication and of recovery.
//!
//! The records have ZooKeeper's layouts (`org.apache.zookeeper.txn`), so a
//! txn dump reads like ZooKeeper's. The txn type is written in the header and
//! derived from the body, so the two cannot disagree.

use bytes::{Bytes, BytesMut};

use crate::codec::{Decode, DecodeError, Encode};
use crate::data::Acl;
use crate::op_code::OpCode;
use crate::record;

record! {
    /// A create of a persistent or ephemeral node (the owner is the
    /// header's session).
    pub struct CreateTxn {
        /// The final path, sequence suffix included.
        pub path: String,
        /// The initial data; `None` for null data.
        pub data: Option<Bytes>,
        /// The node's ACL, `auth` ids resolved.
        pub acl: Vec<Acl>,
        /// Whether the node belongs to the header's session.
        pub ephemeral: bool,
        /// The parent's cversion after this create.
        pub parent_cversion: i32,
    }
}

record! {
    /// A create of a container node.
    pub struct CreateContainerTxn {
        /// The final path.
        pub path: String,
        /// The initial data; `None` for null data.
        pub data: Option<Bytes>,
        /// The node's ACL, `auth` ids resolved.
        pub acl: Vec<Acl>,
        /// The parent's cversion after this create.
        pub parent_cversion: i32,
    }
}

record! {
    /// A create of a TTL node.
    pub struct CreateTtlTxn {
        /// The final path, sequence suffix included.
        pub path: String,
        /// The initial data; `None` for null data.
        pub data: Option<Bytes>,
        /// The node's ACL, `auth` ids resolved.
        pub acl: Vec<Acl>,
        /// The parent's cversion after this create.
        pub parent_cversion: i32,
        /// The TTL in ms.
        pub ttl: i64,
    }
}

record! {
    /// A delete.
    pub struct DeleteTxn {
        /// The deleted node.
        pub path: String,
    }
}

record! {
    /// A data write.
    pub struct SetDataTxn {
        /// The written node.
        pub path: String,
        /// The new data; `None` for null data.
        pub data: Option<Bytes>,
        /// The node's version after this write.
        pub version: i32,
    }
}

record! {
    /// A passed version check of a multi; it changes nothing.
    pub struct CheckVersionTxn {
        /// The checked node.
        pub path: String,
        /// The version it had.
        pub version: i32,
    }
}

record! {
    /// An ACL write.
    pub struct SetAclTxn {
        /// The written node.
        pub path: String,
        /// The new ACL, `auth` ids resolved.
        pub acl: Vec<Acl>,
        /// The node's aversion after this write.
        pub version: i32,
    }
}

record! {
    /// Opens the header's session.
    pub struct CreateSessionTxn {
        /// The negotiated session timeout.
        pub timeout_ms: i32,
    }
}

record! {
    /// Closes (or expires) the header's session.
    pub struct CloseSessionTxn {
        /// The session's ephemerals when the close was prepared.
        pub paths_to_delete: Vec<String>,
    }
}

record! {
    /// A write that failed; it changes nothing.
    pub struct ErrorTxn {
        /// An [`ErrorCode`](crate::ErrorCode) number.
        pub err: i32,
    }
}

record! {
    /// Who asked, and when; the type is the body's.
    pub struct TxnHeader {
        /// The session that sent the request.
        pub client_id: i64,
        /// The request's xid in that session.
        pub cxid: i32,
        /// The txn's position in the history.
        pub zxid: i64,
        /// The leader's clock when it proposed the txn, in ms since the Unix
        /// epoch; it becomes `ctime`/`mtime`.
        pub time_ms: i64,
    }
}

/// What a txn does to the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnBody {
    /// create, create2.
    Create(CreateTxn),
    /// createContainer.
    CreateContainer(CreateContainerTxn),
    /// createTTL.
    CreateTtl(CreateTtlTxn),
    /// delete.
    Delete(DeleteTxn),
    /// The reaper's delete of an empty container or an expired TTL node.
    DeleteContainer(DeleteTxn),
    /// setData.
    SetData(SetDataTxn),
    /// A check of a multi.
    CheckVersion(CheckVersionTxn),
    /// setACL.
    SetAcl(SetAclTxn),
    /// A new session.
    CreateSession(CreateSessionTxn),
    /// A closed or expired session.
    CloseSession(CloseSessionTxn),
    /// A failed write.
    Error(ErrorTxn),
    /// All or nothing; a failed multi is a list of `Error`s.
    Multi(Vec<TxnBody>),
}

/// One transaction: a header and a body.
///
/// ```
/// use zk_proto::txn::{DeleteTxn, Txn, TxnBody, TxnHeader};
/// use zk_proto::{Decode, Encode, OpCode};
///
/// let txn = Txn {
///     header: TxnHeader { client_id: 0x1234, cxid: 7, zxid: 0x1_0000_0003, time_ms: 0 },
///     body: TxnBody::Multi(vec![TxnBody::Delete(DeleteTxn { path: "/app".into() })]),
/// };
/// assert_eq!(txn.body.op_code(), OpCode::Multi);
/// assert_eq!(Txn::decode(&mut txn.to_bytes())?, txn);
/// # Ok::<(), zk_proto::DecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Txn {
    /// Who, when, and the zxid.
    pub header: TxnHeader,
    /// The change.
    pub body: TxnBody,
}

impl TxnBody {
    /// The txn type written in the header.
    pub fn op_code(&self) -> OpCode {
        match self {
            TxnBody::Create(_) => OpCode::Create,
            TxnBody::CreateContainer(_) => OpCode::CreateContainer,
            TxnBody::CreateTtl(_) => OpCode::CreateTtl,
            TxnBody::Delete(_) => OpCode::Delete,
            TxnBody::DeleteContainer(_) => OpCode::DeleteContainer,
            TxnBody::SetData(_) => OpCode::SetData,
            TxnBody::CheckVersion(_) => OpCode::Check,
            TxnBody::SetAcl(_) => OpCode::SetAcl,
            TxnBody::CreateSession(_) => OpCode::CreateSession,
            TxnBody::CloseSession(_) => OpCode::CloseSession,
            TxnBody::Error(_) => OpCode::Error,
            TxnBody::Multi(_) => OpCode::Multi,
        }
    }

    fn encode_record(&self, buf: &mut BytesMut) {
        match self {
            TxnBody::Create(t) => t.encode(buf),
            TxnBody::CreateContainer(t) => t.encode(buf),
            TxnBody::CreateTtl(t) => t.encode(buf),
            TxnBody::Delete(t) | TxnBody::DeleteContainer(t) => t.encode(buf),
            TxnBody::SetData(t) => t.encode(buf),
            TxnBody::CheckVersion(t) => t.encode(buf),
            TxnBody::SetAcl(t) => t.encode(buf),
            TxnBody::CreateSession(t) => t.encode(buf),
            TxnBody::CloseSession(t) => t.encode(buf),
            TxnBody::Error(t) => t.encode(buf),
            TxnBody::Multi(subs) => {
                // MultiTxn: vector<Txn{int type; buffer data}>
                (subs.len() as i32).encode(buf);
                for sub in subs {
                    sub.op_code().code().encode(buf);
                    sub.to_record_bytes().encode(buf);
                }
            }
        }
    }

    fn to_record_bytes(&self) -> Bytes {
        let mut buf = BytesMut::new();
        self.encode_record(&mut buf);
        buf.freeze()
    }

    /// Decodes the record of a txn of type `op`.
    pub fn decode(op: OpCode, buf: &mut Bytes) -> Result<TxnBody, DecodeError> {
        Ok(match op {
            OpCode::Create | OpCode::Create2 => TxnBody::Create(Decode::decode(buf)?),
            OpCode::CreateContainer => TxnBody::CreateContainer(Decode::decode(buf)?),
            OpCode::CreateTtl => TxnBody::CreateTtl(Decode::decode(buf)?),
            OpCode::Delete => TxnBody::Delete(Decode::decode(buf)?),
            OpCode::DeleteContainer => TxnBody::DeleteContainer(Decode::decode(buf)?),
            OpCode::SetData => TxnBody::SetData(Decode::decode(buf)?),
            OpCode::Check => TxnBody::CheckVersion(Decode::decode(buf)?),
            OpCode::SetAcl => TxnBody::SetAcl(Decode::decode(buf)?),
            OpCode::CreateSession => TxnBody::CreateSession(Decode::decode(buf)?),
            OpCode::CloseSession => TxnBody::CloseSession(Decode::decode(buf)?),
            OpCode::Error => TxnBody::Error(Decode::decode(buf)?),
            OpCode::Multi => {
                let n = i32::decode(buf)?;
                let n = usize::try_from(n).map_err(|_| DecodeError::BadLength(n))?;
                if n > buf.len() {
                    return Err(DecodeError::BadLength(n as i32));
                }
                let mut subs = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    let sub_op = OpCode::try_from(i32::decode(buf)?)?;
                    if sub_op == OpCode::Multi {
                        return Err(DecodeError::Invalid("nested multi txn"));
                    }
                    let mut record = Bytes::decode(buf)?;
                    subs.push(TxnBody::decode(sub_op, &mut record)?);
                }
                TxnBody::Multi(subs)
            }
            other => return Err(DecodeError::UnknownOpCode(other.code())),
        })
    }
}

impl Encode for Txn {
    fn encode(&self, buf: &mut BytesMut) {
        let h = &self.header;
        h.client_id.encode(buf);
        h.cxid.encode(buf);
        h.zxid.encode(buf);
        h.time_ms.encode(buf);
        self.body.op_code().code().encode(buf);
        self.body.encode_record(buf);
    }
}

impl Decode for Txn {
    fn decode(buf: &mut Bytes) -> Result<Txn, DecodeError> {
        let header = TxnHeader {
            client_id: i64::decode(buf)?,
            cxid: i32::decode(buf)?,
            zxid: i64::decode(buf)?,
            time_ms: i64::decode(buf)?,
        };
        let op = OpCode::try_from(i32::decode(buf)?)?;
        Ok(Txn {
            header,
            body: TxnBody::decode(op, buf)?,
        })
    }
}
