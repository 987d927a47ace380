//! What a call can fail with: every ZooKeeper error code, plus what the
//! client itself knows (the connection dropped, the client is closed, the
//! path is invalid).

use zk_proto::ErrorCode;

/// An error from a ZooKeeper call.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::{Client, CreateOptions, Error};
///
/// let client = Client::connect(&servers).await?;
/// let persistent = CreateOptions::persistent();
///
/// // Caught before any round trip.
/// let bad = client.get_data("no-leading-slash").await;
/// assert!(matches!(bad, Err(Error::BadPath { .. })));
///
/// // The server's answers.
/// assert_eq!(client.delete("/missing", None).await, Err(Error::NoNode));
/// client.create("/app", b"", &persistent).await?;
/// assert_eq!(client.create("/app", b"", &persistent).await, Err(Error::NodeExists));
/// assert_eq!(client.set_data("/app", b"x", Some(7)).await, Err(Error::BadVersion));
///
/// // A multi names the op that failed; nothing was applied.
/// let failed = client
///     .multi()
///     .create("/app/a", b"", &persistent)
///     .create("/app", b"", &persistent)
///     .commit()
///     .await;
/// assert_eq!(failed, Err(Error::Multi { index: 1, source: Box::new(Error::NodeExists) }));
/// assert!(client.exists("/app/a").await?.is_none());
///
/// // A write that failed with ConnectionLoss may or may not have happened.
/// assert!(Error::ConnectionLoss.is_retryable());
/// assert!(!Error::NoNode.is_retryable());
///
/// client.close().await;
/// assert_eq!(client.exists("/app").await, Err(Error::Closed));
/// # Ok(()) });
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The node does not exist (for a create: its parent).
    #[error("node does not exist")]
    NoNode,
    /// The node already exists.
    #[error("node already exists")]
    NodeExists,
    /// The node is not at the expected version (a conditional setData,
    /// delete, setACL or check): someone changed it since it was read.
    #[error("version does not match")]
    BadVersion,
    /// The node has children, so it cannot be deleted.
    #[error("node has children")]
    NotEmpty,
    /// Ephemeral nodes cannot have children.
    #[error("ephemeral nodes cannot have children")]
    NoChildrenForEphemerals,
    /// The node's ACL does not allow this to the session's identities.
    #[error("not authorized")]
    NoAuth,
    /// The ACL is empty or malformed, or an `auth` ACL was given with no
    /// authenticated identity.
    #[error("invalid ACL")]
    InvalidAcl,
    /// The server rejected the credentials. Terminal: the session is over.
    #[error("authentication failed")]
    AuthFailed,
    /// The server refused the arguments (e.g. a TTL out of range, or TTL
    /// nodes disabled on the server).
    #[error("bad arguments")]
    BadArguments,
    /// There is no such watch to remove.
    #[error("no such watcher")]
    NoWatcher,
    /// The write would exceed a hard quota set on the path.
    #[error("quota exceeded")]
    QuotaExceeded,
    /// The server does not know the operation (e.g. persistent watches
    /// before ZooKeeper 3.6).
    #[error("operation not implemented by the server")]
    Unimplemented,
    /// The connection dropped while the call was in flight. A read can be
    /// retried; a write may or may not have been applied, so retry only
    /// what is safe to repeat, or check first. The client reconnects by
    /// itself (calls made meanwhile wait), keeping the session if it is
    /// back within the session timeout.
    #[error("connection lost: the outcome of a write is unknown")]
    ConnectionLoss,
    /// The session expired: its ephemerals and watches are gone. Terminal:
    /// make a new client.
    #[error("session expired")]
    SessionExpired,
    /// The session moved to another server; the call was not applied.
    #[error("session moved to another server")]
    SessionMoved,
    /// A write was sent while connected to a read-only server.
    #[error("server is read-only")]
    NotReadOnly,
    /// The server reports that the operation timed out.
    #[error("operation timed out")]
    OperationTimeout,
    /// The server did not complete the request within its time limit.
    #[error("request timed out")]
    RequestTimeout,
    /// The server was overloaded and dropped the call unexecuted: safe to
    /// retry.
    #[error("server throttled the request")]
    Throttled,
    /// Reconfig is disabled on the server.
    #[error("reconfiguration is disabled")]
    ReconfigDisabled,
    /// Another reconfig is in progress.
    #[error("reconfiguration in progress")]
    ReconfigInProgress,
    /// The new configuration of a reconfig has no quorum up to date.
    #[error("new configuration has no quorum")]
    NewConfigNoQuorum,
    /// An ephemeral create on a local session.
    #[error("ephemeral on a local session")]
    EphemeralOnLocalSession,
    /// The server requires SASL authentication, which this client does
    /// not do; it closed the session.
    #[error("session closed: SASL authentication required")]
    SessionClosedRequireSaslAuth,
    /// The server does not know the session.
    #[error("unknown session")]
    UnknownSession,
    /// A server-side failure with no more specific code.
    #[error("system error")]
    SystemError,
    /// A runtime inconsistency on the server (in a failed multi, the code
    /// of the ops after the failing one).
    #[error("runtime inconsistency")]
    RuntimeInconsistency,
    /// The server found its data inconsistent.
    #[error("data inconsistency")]
    DataInconsistency,
    /// A record could not be encoded or decoded.
    #[error("marshalling error")]
    MarshallingError,
    /// An invalid callback (a Java client code).
    #[error("invalid callback")]
    InvalidCallback,
    /// The start of ZooKeeper's API error range; servers do not send it.
    #[error("API error")]
    ApiError,
    /// A code this client does not know.
    #[error("unknown error code {0}")]
    Unknown(i32),
    /// A path that is not a valid znode path (or a malformed connect
    /// string), caught before any round trip.
    #[error("invalid path {path:?}: {reason}")]
    BadPath {
        /// The path (or connect string) as given.
        path: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The op at `index` of a multi failed; nothing was applied.
    #[error("multi op {index} failed: {source}")]
    Multi {
        /// The position of the failing op in the multi.
        index: usize,
        /// Why it failed.
        source: Box<Error>,
    },
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
    /// The TLS settings cannot be used (a store that does not load, a
    /// missing trust store); the text names the file and the reason.
    #[error("TLS: {0}")]
    Tls(String),
    /// The SASL settings cannot be used (a JAAS file that does not load).
    #[error("SASL: {0}")]
    Sasl(String),
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

/// A call's result.
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
