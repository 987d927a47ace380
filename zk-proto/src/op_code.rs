//! `ZooDefs.OpCode`: the request types of the protocol.

use crate::codec::DecodeError;

macro_rules! op_codes {
    ($($(#[$m:meta])* $name:ident = $v:expr),* $(,)?) => {
        /// A request type, with ZooKeeper's numbers.
        ///
        /// ```
        /// use zk_proto::{DecodeError, OpCode};
        ///
        /// assert_eq!(OpCode::try_from(4), Ok(OpCode::GetData));
        /// assert_eq!(OpCode::Create2.code(), 15);
        /// assert!(OpCode::SetData.is_write() && !OpCode::GetData.is_write());
        /// assert_eq!(OpCode::try_from(10), Err(DecodeError::UnknownOpCode(10)));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(i32)]
        pub enum OpCode { $($(#[$m])* $name = $v),* }

        impl OpCode {
            /// Every op code, for tests and tables.
            pub const ALL: &'static [OpCode] = &[$(OpCode::$name),*];
        }

        impl TryFrom<i32> for OpCode {
            type Error = DecodeError;
            fn try_from(v: i32) -> Result<Self, DecodeError> {
                match v {
                    $($v => Ok(OpCode::$name),)*
                    other => Err(DecodeError::UnknownOpCode(other)),
                }
            }
        }
    };
}

op_codes! {
    /// Not a request: the op of a watch event.
    Notification = 0,
    /// Creates a node; the reply has the path only.
    Create = 1,
    /// Deletes a node without children.
    Delete = 2,
    /// The stat of a node, or none; may set a watch even on a missing node.
    Exists = 3,
    /// A node's data and stat.
    GetData = 4,
    /// Replaces a node's data.
    SetData = 5,
    /// A node's ACL and stat.
    GetAcl = 6,
    /// Replaces a node's ACL.
    SetAcl = 7,
    /// A node's child names.
    GetChildren = 8,
    /// Makes the server catch up with the leader before it answers.
    Sync = 9,
    /// Keeps the session alive on an idle connection.
    Ping = 11,
    /// A node's child names and its stat.
    GetChildren2 = 12,
    /// A version check; only inside a multi.
    Check = 13,
    /// Writes applied all or nothing.
    Multi = 14,
    /// Creates a node; the reply has the path and the stat.
    Create2 = 15,
    /// Changes the ensemble's membership.
    Reconfig = 16,
    /// Whether the server holds a watch of the connection.
    CheckWatches = 17,
    /// Removes watches of the connection from the server.
    RemoveWatches = 18,
    /// Creates a container: the server deletes it once its last child is
    /// gone.
    CreateContainer = 19,
    /// Not a request: the txn of the server's delete of a container or an
    /// expired TTL node.
    DeleteContainer = 20,
    /// Creates a persistent node the server deletes after a TTL without
    /// changes or children.
    CreateTtl = 21,
    /// Several reads in one request; each answers on its own.
    MultiRead = 22,
    /// Adds an identity to the connection (`addauth`).
    Auth = 100,
    /// Re-registers one-shot watches on a reconnect.
    SetWatches = 101,
    /// A SASL token exchange.
    Sasl = 102,
    /// The session's ephemeral nodes under a path prefix.
    GetEphemerals = 103,
    /// The number of descendants of a node.
    GetAllChildrenNumber = 104,
    /// `SetWatches` with the persistent watches too.
    SetWatches2 = 105,
    /// Adds a persistent (optionally recursive) watch.
    AddWatch = 106,
    /// The identities of the connection.
    WhoAmI = 107,
    /// Not a request: the txn that opens a session.
    CreateSession = -10,
    /// Closes the session, deleting its ephemerals.
    CloseSession = -11,
    /// Not a request: a failed txn, or a failed op of a multi.
    Error = -1,
}

impl OpCode {
    /// The number on the wire.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// Whether a request of this type changes the tree (goes through the log).
    pub fn is_write(self) -> bool {
        matches!(
            self,
            OpCode::Create
                | OpCode::Create2
                | OpCode::CreateContainer
                | OpCode::CreateTtl
                | OpCode::Delete
                | OpCode::DeleteContainer
                | OpCode::SetData
                | OpCode::SetAcl
                | OpCode::Check
                | OpCode::Multi
                | OpCode::Reconfig
                | OpCode::CreateSession
                | OpCode::CloseSession
        )
    }

    /// The short name the four-letter words print for the last operation
    /// (`cons`: `lop=`), as ZooKeeper's `FinalRequestProcessor` does.
    pub fn short_name(self) -> &'static str {
        match self {
            OpCode::Notification => "NOTI",
            OpCode::Create | OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTtl => {
                "CREA"
            }
            OpCode::Delete | OpCode::DeleteContainer => "DELE",
            OpCode::Exists => "EXIS",
            OpCode::GetData => "GETD",
            OpCode::SetData => "SETD",
            OpCode::GetAcl => "GETA",
            OpCode::SetAcl => "SETA",
            OpCode::GetChildren | OpCode::GetChildren2 => "GETC",
            OpCode::Sync => "SYNC",
            OpCode::Ping => "PING",
            OpCode::Check => "CHEC",
            OpCode::Multi => "MULT",
            OpCode::MultiRead => "MLTR",
            OpCode::Reconfig => "RECO",
            OpCode::CheckWatches => "CHKW",
            OpCode::RemoveWatches => "REMW",
            OpCode::Auth => "AUTH",
            OpCode::SetWatches | OpCode::SetWatches2 => "SETW",
            OpCode::Sasl => "SASL",
            OpCode::GetEphemerals => "GETE",
            OpCode::GetAllChildrenNumber => "GETACN",
            OpCode::AddWatch => "ADDW",
            OpCode::WhoAmI => "HOMI",
            OpCode::CreateSession => "SESS",
            OpCode::CloseSession => "CLOS",
            OpCode::Error => "ERR",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for op in OpCode::ALL {
            assert_eq!(OpCode::try_from(op.code()), Ok(*op));
        }
        assert_eq!(OpCode::try_from(10), Err(DecodeError::UnknownOpCode(10)));
    }
}
