//! The values calls take and return.

pub use zk_proto::data::{
    Acl, AddWatchMode, ClientInfo, EventType, Id, KeeperState, Stat, WatcherType, perms,
};

/// Where a session stands. Read it with [`crate::Client::state`], follow it
/// with [`crate::Client::state_watcher`] or [`crate::Client::state_stream`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// Looking for a server (first connect or after a disconnect).
    Connecting,
    /// Connected to a server that takes reads and writes.
    Connected,
    /// Connected to a server cut off from its quorum: reads only.
    ConnectedReadOnly,
    /// Lost the connection; reconnecting keeps the session if it is quick
    /// enough.
    Disconnected,
    /// The server expired the session: ephemerals and watches are gone.
    /// Terminal: make a new client.
    Expired,
    /// The server rejected the credentials. Terminal.
    AuthFailed,
    /// `close()` was called. Terminal.
    Closed,
}

impl SessionState {
    /// No call can succeed from this state on.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            SessionState::Expired | SessionState::AuthFailed | SessionState::Closed
        )
    }

    /// Connected, read-write or read-only: calls go out now.
    pub fn is_connected(self) -> bool {
        matches!(
            self,
            SessionState::Connected | SessionState::ConnectedReadOnly
        )
    }
}

/// A watch notification. `path` is relative to the client's chroot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedEvent {
    /// What happened to the node; `None` when the event is about the
    /// session instead (it ended before the watch fired).
    pub event_type: EventType,
    /// `SyncConnected` for node events; for a watch released by the
    /// session's end, the final state (`Expired`, `Closed`, ...).
    pub state: KeeperState,
    /// The node's path (empty for session events).
    pub path: String,
    /// The zxid of the change that fired it (servers since 3.9 send it;
    /// -1 when unknown).
    pub zxid: i64,
}

/// How to create a node: its mode, ACL and, for TTL nodes, the TTL.
///
/// ```
/// use zk_client::{CreateMode, CreateOptions, Acl};
/// let opts = CreateOptions::new(CreateMode::EphemeralSequential);
/// let ttl = CreateOptions::ttl(std::time::Duration::from_secs(60)).with_acl(Acl::read_unsafe());
/// assert_eq!(ttl.mode, CreateMode::PersistentWithTtl);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateOptions {
    /// Persistent, ephemeral, sequential, container or TTL.
    pub mode: CreateMode,
    /// The new node's ACL; must not be empty.
    pub acl: Vec<Acl>,
    /// Milliseconds; only for the TTL modes.
    pub ttl_ms: Option<i64>,
}

pub use zk_proto::data::CreateMode;

impl CreateOptions {
    /// `mode` with `world:anyone` allowed everything (`OPEN_ACL_UNSAFE`).
    pub fn new(mode: CreateMode) -> CreateOptions {
        CreateOptions {
            mode,
            acl: Acl::open_unsafe(),
            ttl_ms: None,
        }
    }

    /// A persistent node, open to everyone.
    pub fn persistent() -> CreateOptions {
        CreateOptions::new(CreateMode::Persistent)
    }

    /// An ephemeral node (deleted when the session ends), open to everyone.
    pub fn ephemeral() -> CreateOptions {
        CreateOptions::new(CreateMode::Ephemeral)
    }

    /// A container node (the server deletes it after its last child goes),
    /// open to everyone.
    pub fn container() -> CreateOptions {
        CreateOptions::new(CreateMode::Container)
    }

    /// A persistent node the server deletes when it has had no children and
    /// no change for `ttl` (needs `extendedTypesEnabled` on the server).
    pub fn ttl(ttl: std::time::Duration) -> CreateOptions {
        CreateOptions {
            ttl_ms: Some(ttl.as_millis() as i64),
            ..CreateOptions::new(CreateMode::PersistentWithTtl)
        }
    }

    /// The same options with another mode (a TTL mode needs `ttl_ms`).
    pub fn with_mode(mut self, mode: CreateMode) -> CreateOptions {
        self.mode = mode;
        self
    }

    /// The same options with another ACL.
    pub fn with_acl(mut self, acl: Vec<Acl>) -> CreateOptions {
        self.acl = acl;
        self
    }
}
