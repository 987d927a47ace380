//! What a call can fail with: every ZooKeeper error code, plus what the
//! client itself knows (the connection dropped, the client is closed, the
//! path is invalid).

use zk_proto::ErrorCode;

/// An error from a ZooKeeper call.
///
/// ```
/// use zk_client::Error;
/// // A write that failed with ConnectionLoss may or may not have happened.
/// assert!(Error::ConnectionLoss.is_retryable());
/// assert!(!Error::NoNode.is_retryable());
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("node does not exist")]
    NoNode,
    #[error("node already exists")]
    NodeExists,
    #[error("version does not match")]
    BadVersion,
    #[error("node has children")]
    NotEmpty,
    #[error("ephemeral nodes cannot have children")]
    NoChildrenForEphemerals,
    #[error("not authorized")]
    NoAuth,
    #[error("invalid ACL")]
    InvalidAcl,
    #[error("authentication failed")]
    AuthFailed,
    #[error("bad arguments")]
    BadArguments,
    #[error("no such watcher")]
    NoWatcher,
    #[error("quota exceeded")]
    QuotaExceeded,
    #[error("operation not implemented by the server")]
    Unimplemented,
    #[error("connection lost: the outcome of a write is unknown")]
    ConnectionLoss,
    #[error("session expired")]
    SessionExpired,
    #[error("session moved to another server")]
    SessionMoved,
    #[error("server is read-only")]
    NotReadOnly,
    #[error("operation timed out")]
    OperationTimeout,
    #[error("request timed out")]
    RequestTimeout,
    #[error("server throttled the request")]
    Throttled,
    #[error("reconfiguration is disabled")]
    ReconfigDisabled,
    #[error("reconfiguration in progress")]
    ReconfigInProgress,
    #[error("new configuration has no quorum")]
    NewConfigNoQuorum,
    #[error("ephemeral on a local session")]
    EphemeralOnLocalSession,
    #[error("session closed: SASL authentication required")]
    SessionClosedRequireSaslAuth,
    #[error("unknown session")]
    UnknownSession,
    #[error("system error")]
    SystemError,
    #[error("runtime inconsistency")]
    RuntimeInconsistency,
    #[error("data inconsistency")]
    DataInconsistency,
    #[error("marshalling error")]
    MarshallingError,
    #[error("invalid callback")]
    InvalidCallback,
    #[error("API error")]
    ApiError,
    /// A code this client does not know.
    #[error("unknown error code {0}")]
    Unknown(i32),
    /// Caught before any round trip.
    #[error("invalid path {path:?}: {reason}")]
    BadPath { path: String, reason: &'static str },
    /// The op at `index` of a multi failed; nothing was applied.
    #[error("multi op {index} failed: {source}")]
    Multi { index: usize, source: Box<Error> },
    /// The server sent something this client cannot decode.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// No server could be reached in time.
    #[error("no server reachable within the connect timeout")]
    ConnectTimeout,
    /// No host of the connect string resolves to an address (checked once,
    /// before the first connect); the text names each host and why.
    #[error("no host of the connect string resolves: {0}")]
    UnknownHost(String),
    /// The chroot of the connect string (`host:2181/app`) does not exist on
    /// the server: create it first, through a client without the chroot.
    #[error("chroot {chroot} does not exist")]
    NoChroot {
        /// The chroot, as in the connect string.
        chroot: String,
    },
    /// `close()` was called or every handle was dropped.
    #[error("client is closed")]
    Closed,
}

impl Error {
    /// Whether trying again may succeed. After `ConnectionLoss` a write may
    /// have been applied: retry only what is safe to repeat (or check).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::ConnectionLoss
                | Error::OperationTimeout
                | Error::RequestTimeout
                | Error::Throttled
                | Error::SessionMoved
        )
    }

    /// The error for a reply code; `None` for 0 (ok).
    pub fn from_code(code: i32) -> Option<Error> {
        let Some(known) = ErrorCode::from_code(code) else {
            return Some(Error::Unknown(code));
        };
        Some(match known {
            ErrorCode::Ok => return None,
            ErrorCode::NoNode => Error::NoNode,
            ErrorCode::NodeExists => Error::NodeExists,
            ErrorCode::BadVersion => Error::BadVersion,
            ErrorCode::NotEmpty => Error::NotEmpty,
            ErrorCode::NoChildrenForEphemerals => Error::NoChildrenForEphemerals,
            ErrorCode::NoAuth => Error::NoAuth,
            ErrorCode::InvalidAcl => Error::InvalidAcl,
            ErrorCode::AuthFailed => Error::AuthFailed,
            ErrorCode::BadArguments => Error::BadArguments,
            ErrorCode::NoWatcher => Error::NoWatcher,
            ErrorCode::QuotaExceeded => Error::QuotaExceeded,
            ErrorCode::Unimplemented => Error::Unimplemented,
            ErrorCode::ConnectionLoss => Error::ConnectionLoss,
            ErrorCode::SessionExpired => Error::SessionExpired,
            ErrorCode::SessionMoved => Error::SessionMoved,
            ErrorCode::NotReadOnly => Error::NotReadOnly,
            ErrorCode::OperationTimeout => Error::OperationTimeout,
            ErrorCode::RequestTimeout => Error::RequestTimeout,
            ErrorCode::ThrottledOp => Error::Throttled,
            ErrorCode::ReconfigDisabled => Error::ReconfigDisabled,
            ErrorCode::ReconfigInProgress => Error::ReconfigInProgress,
            ErrorCode::NewConfigNoQuorum => Error::NewConfigNoQuorum,
            ErrorCode::EphemeralOnLocalSession => Error::EphemeralOnLocalSession,
            ErrorCode::SessionClosedRequireSaslAuth => Error::SessionClosedRequireSaslAuth,
            ErrorCode::UnknownSession => Error::UnknownSession,
            ErrorCode::SystemError => Error::SystemError,
            ErrorCode::RuntimeInconsistency => Error::RuntimeInconsistency,
            ErrorCode::DataInconsistency => Error::DataInconsistency,
            ErrorCode::MarshallingError => Error::MarshallingError,
            ErrorCode::InvalidCallback => Error::InvalidCallback,
            ErrorCode::ApiError => Error::ApiError,
        })
    }

    pub(crate) fn code(code: i32) -> Error {
        Error::from_code(code).unwrap_or(Error::Unknown(code))
    }
}

impl From<ErrorCode> for Error {
    fn from(code: ErrorCode) -> Error {
        Error::code(code.code())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps() {
        for code in ErrorCode::ALL {
            match Error::from_code(code.code()) {
                None => assert_eq!(*code, ErrorCode::Ok),
                Some(Error::Unknown(_)) => panic!("{code:?} unmapped"),
                Some(_) => {}
            }
        }
        assert_eq!(Error::from_code(-126), Some(Error::Unknown(-126)));
    }
}
