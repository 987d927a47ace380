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
    pub struct CreateTxn {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub ephemeral: bool,
        /// The parent's cversion after this create.
        pub parent_cversion: i32,
    }
}

record! {
    pub struct CreateContainerTxn {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub parent_cversion: i32,
    }
}

record! {
    pub struct CreateTtlTxn {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub parent_cversion: i32,
        pub ttl: i64,
    }
}

record! {
    pub struct DeleteTxn {
        pub path: String,
    }
}

record! {
    pub struct SetDataTxn {
        pub path: String,
        pub data: Option<Bytes>,
        /// The node's version after this write.
        pub version: i32,
    }
}

record! {
    pub struct CheckVersionTxn {
        pub path: String,
        pub version: i32,
    }
}

record! {
    pub struct SetAclTxn {
        pub path: String,
        pub acl: Vec<Acl>,
        /// The node's aversion after this write.
        pub version: i32,
    }
}

record! {
    pub struct CreateSessionTxn {
        pub timeout_ms: i32,
    }
}

record! {
    pub struct CloseSessionTxn {
        /// The session's ephemerals when the close was prepared.
        pub paths_to_delete: Vec<String>,
    }
}

record! {
    pub struct ErrorTxn {
        pub err: i32,
    }
}

record! {
    /// Who asked, and when; the type is the body's.
    pub struct TxnHeader {
        pub client_id: i64,
        pub cxid: i32,
        pub zxid: i64,
        pub time_ms: i64,
    }
}

/// What a txn does to the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnBody {
    Create(CreateTxn),
    CreateContainer(CreateContainerTxn),
    CreateTtl(CreateTtlTxn),
    Delete(DeleteTxn),
    /// The reaper's delete of an empty container or an expired TTL node.
    DeleteContainer(DeleteTxn),
    SetData(SetDataTxn),
    CheckVersion(CheckVersionTxn),
    SetAcl(SetAclTxn),
    CreateSession(CreateSessionTxn),
    CloseSession(CloseSessionTxn),
    Error(ErrorTxn),
    /// All or nothing; a failed multi is a list of `Error`s.
    Multi(Vec<TxnBody>),
}

/// One transaction: a header and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Txn {
    pub header: TxnHeader,
    pub body: TxnBody,
}

impl TxnBody {
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
