//! `KeeperException.Code`: the error numbers of the protocol.

macro_rules! error_codes {
    ($($(#[$m:meta])* $name:ident = $v:expr),* $(,)?) => {
        /// A result code, with ZooKeeper's numbers.
        ///
        /// ```
        /// use zk_proto::ErrorCode;
        ///
        /// assert_eq!(ErrorCode::from_code(-101), Some(ErrorCode::NoNode));
        /// assert_eq!(ErrorCode::NodeExists.code(), -110);
        /// assert_eq!(ErrorCode::BadVersion.to_string(), "BadVersion (-103)");
        /// // -126 is not assigned.
        /// assert_eq!(ErrorCode::from_code(-126), None);
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(i32)]
        pub enum ErrorCode { $($(#[$m])* $name = $v),* }

        impl ErrorCode {
            /// Every code, for tests and tables.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name),*];

            /// The code for a number, if ZooKeeper defines one.
            pub fn from_code(v: i32) -> Option<ErrorCode> {
                match v {
                    $($v => Some(ErrorCode::$name),)*
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    /// Success.
    Ok = 0,
    /// A server-side failure with no more specific code.
    SystemError = -1,
    /// A runtime inconsistency; in a failed multi, the result of every op
    /// after the one that failed.
    RuntimeInconsistency = -2,
    /// The server found its data inconsistent.
    DataInconsistency = -3,
    /// The connection to the server was lost (client side only): a write
    /// in flight may or may not have been applied.
    ConnectionLoss = -4,
    /// A record could not be encoded or decoded.
    MarshallingError = -5,
    /// The server does not implement the operation.
    Unimplemented = -6,
    /// The operation timed out.
    OperationTimeout = -7,
    /// The request's arguments are invalid: an invalid path, unknown
    /// create flags, a TTL out of range.
    BadArguments = -8,
    /// The session is not known to the server.
    UnknownSession = -12,
    /// A reconfig's new configuration has no quorum connected and up to
    /// date.
    NewConfigNoQuorum = -13,
    /// Another reconfig is in progress.
    ReconfigInProgress = -14,
    /// The start of the API error range; servers do not send it.
    ApiError = -100,
    /// The node (or, for a create, its parent) does not exist.
    NoNode = -101,
    /// The ACL does not grant the permission the operation needs.
    NoAuth = -102,
    /// The expected version does not match the node's.
    BadVersion = -103,
    /// Ephemeral nodes may not have children.
    NoChildrenForEphemerals = -108,
    /// The node already exists.
    NodeExists = -110,
    /// The node has children, so it cannot be deleted.
    NotEmpty = -111,
    /// The session has expired: its ephemerals and watches are gone.
    SessionExpired = -112,
    /// An invalid callback (Java client only).
    InvalidCallback = -113,
    /// The ACL is empty or malformed, or an `auth` ACL was given without an
    /// authenticated identity.
    InvalidAcl = -114,
    /// Authentication failed; the server closes the connection.
    AuthFailed = -115,
    /// The session moved to another server; the request was ignored.
    SessionMoved = -118,
    /// A write was sent to a read-only server.
    NotReadOnly = -119,
    /// An ephemeral create on a local session.
    EphemeralOnLocalSession = -120,
    /// There is no such watch to remove.
    NoWatcher = -121,
    /// The request did not complete within the allowed time.
    RequestTimeout = -122,
    /// Reconfig is disabled on the server.
    ReconfigDisabled = -123,
    /// The server requires SASL authentication, which the session did
    /// not complete; it closed the session.
    SessionClosedRequireSaslAuth = -124,
    /// The write would exceed a hard quota set on the path.
    QuotaExceeded = -125,
    /// The server was overloaded and dropped the operation unexecuted; it
    /// is safe to retry.
    ThrottledOp = -127,
}

impl ErrorCode {
    /// The number on the wire.
    pub fn code(self) -> i32 {
        self as i32
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} ({})", self, self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(c.code()), Some(*c));
        }
        assert_eq!(ErrorCode::from_code(-126), None);
    }
}
