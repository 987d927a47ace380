//! Records and enums shared by requests, responses and txns: `Stat`, ACLs,
//! create modes, watch event types and states.

use crate::record;

record! {
    /// The metadata of a znode, as every read and write reports it.
    pub struct Stat {
        /// The zxid of the create.
        pub czxid: i64,
        /// The zxid of the last data change (the create at first).
        pub mzxid: i64,
        /// When the node was created, in ms since the Unix epoch.
        pub ctime: i64,
        /// When the data last changed, in ms since the Unix epoch.
        pub mtime: i64,
        /// The number of data changes: what a conditional `setData` or
        /// `delete` compares against.
        pub version: i32,
        /// The number of changes to the children.
        pub cversion: i32,
        /// The number of ACL changes.
        pub aversion: i32,
        /// The owning session of an ephemeral node; 0 for any other node.
        pub ephemeral_owner: i64,
        /// The length of the data in bytes.
        pub data_length: i32,
        /// The number of children.
        pub num_children: i32,
        /// The zxid of the last change to the children.
        pub pzxid: i64,
    }
}

record! {
    /// An identity: `scheme:id`, e.g. `world:anyone`, `digest:user:hash`.
    pub struct Id {
        /// `world`, `auth`, `digest`, `ip`, ...
        pub scheme: String,
        /// The identity within the scheme, e.g. `anyone` or `user:hash`.
        pub id: String,
    }
}

record! {
    /// One ACL entry: the permission bits granted to an identity.
    pub struct Acl {
        /// The [`perms`] bits, or'ed.
        pub perms: i32,
        /// Who gets them.
        pub id: Id,
    }
}

record! {
    /// One authenticated identity of a connection (`whoAmI`).
    pub struct ClientInfo {
        /// The scheme the identity was added with, e.g. `ip` or `digest`.
        pub auth_scheme: String,
        /// The identity, e.g. `127.0.0.1` or a digest user name.
        pub user: String,
    }
}

/// `ZooDefs.Perms`: the permission bits of an [`Acl`].
pub mod perms {
    /// Reading the data and the children (and, since ZooKeeper 3.9.2, `exists`).
    pub const READ: i32 = 1;
    /// Setting the data.
    pub const WRITE: i32 = 2;
    /// Creating children.
    pub const CREATE: i32 = 4;
    /// Deleting children.
    pub const DELETE: i32 = 8;
    /// Setting the ACL.
    pub const ADMIN: i32 = 16;
    /// Every bit.
    pub const ALL: i32 = READ | WRITE | CREATE | DELETE | ADMIN;

    /// The bits as zkCli writes them, in its order: `cdrwa` for [`ALL`],
    /// `r` for [`READ`].
    ///
    /// ```
    /// use zk_proto::data::perms;
    /// assert_eq!(perms::letters(perms::ALL), "cdrwa");
    /// assert_eq!(perms::letters(perms::READ | perms::WRITE), "rw");
    /// ```
    pub fn letters(bits: i32) -> String {
        [
            (CREATE, 'c'),
            (DELETE, 'd'),
            (READ, 'r'),
            (WRITE, 'w'),
            (ADMIN, 'a'),
        ]
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, c)| *c)
        .collect()
    }
}

/// `scheme:id:perms`, the form zkCli's `setAcl` takes and ZooKeeper's
/// tools print: `world:anyone:cdrwa`.
///
/// ```
/// use zk_proto::data::Acl;
/// assert_eq!(Acl::open_unsafe()[0].to_string(), "world:anyone:cdrwa");
/// ```
impl std::fmt::Display for Acl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.id.scheme,
            self.id.id,
            perms::letters(self.perms)
        )
    }
}

impl Id {
    /// `scheme:id`.
    pub fn new(scheme: &str, id: &str) -> Id {
        Id {
            scheme: scheme.to_owned(),
            id: id.to_owned(),
        }
    }

    /// `world:anyone`: every client.
    pub fn anyone() -> Id {
        Id::new("world", "anyone")
    }
}

impl Acl {
    /// `OPEN_ACL_UNSAFE`: everything for everyone.
    pub fn open_unsafe() -> Vec<Acl> {
        vec![Acl {
            perms: perms::ALL,
            id: Id::anyone(),
        }]
    }

    /// `READ_ACL_UNSAFE`: read for everyone.
    pub fn read_unsafe() -> Vec<Acl> {
        vec![Acl {
            perms: perms::READ,
            id: Id::anyone(),
        }]
    }

    /// `CREATOR_ALL_ACL`: everything for the creator's authenticated ids.
    pub fn creator_all() -> Vec<Acl> {
        vec![Acl {
            perms: perms::ALL,
            id: Id::new("auth", ""),
        }]
    }
}

/// `CreateMode`: the flags of a create request.
///
/// ```
/// use zk_proto::data::CreateMode;
///
/// let mode = CreateMode::from_flags(3).unwrap();
/// assert_eq!(mode, CreateMode::EphemeralSequential);
/// assert!(mode.is_ephemeral() && mode.is_sequential());
/// assert_eq!(CreateMode::Container.flags(), 4);
/// assert_eq!(CreateMode::from_flags(7), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CreateMode {
    /// Lives until deleted.
    Persistent = 0,
    /// Deleted when the creating session ends; cannot have children.
    Ephemeral = 1,
    /// Persistent, with a 10-digit counter of the parent appended to the
    /// name.
    PersistentSequential = 2,
    /// Ephemeral, with the sequence suffix.
    EphemeralSequential = 3,
    /// Deleted by the server some time after its last child is deleted
    /// (a container that never had a child is kept).
    Container = 4,
    /// Persistent, deleted by the server once it has had no change and no
    /// children for its TTL.
    PersistentWithTtl = 5,
    /// A TTL node with the sequence suffix.
    PersistentSequentialWithTtl = 6,
}

impl CreateMode {
    /// The mode for a request's flags, if they name one.
    pub fn from_flags(flags: i32) -> Option<CreateMode> {
        Some(match flags {
            0 => CreateMode::Persistent,
            1 => CreateMode::Ephemeral,
            2 => CreateMode::PersistentSequential,
            3 => CreateMode::EphemeralSequential,
            4 => CreateMode::Container,
            5 => CreateMode::PersistentWithTtl,
            6 => CreateMode::PersistentSequentialWithTtl,
            _ => return None,
        })
    }

    /// The flags to put in a create request.
    pub fn flags(self) -> i32 {
        self as i32
    }

    /// Whether the node goes with its session.
    pub fn is_ephemeral(self) -> bool {
        matches!(
            self,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential
        )
    }

    /// Whether the server appends a sequence suffix to the name.
    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTtl
        )
    }

    /// Whether the node is a container.
    pub fn is_container(self) -> bool {
        self == CreateMode::Container
    }

    /// Whether the create needs a TTL (`createTTL`).
    pub fn is_ttl(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl
        )
    }
}

/// `Watcher.Event.EventType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A change of the connection's state, about no node.
    None = -1,
    /// The node was created (an `exists` watch on a missing node, or a
    /// persistent watch).
    NodeCreated = 1,
    /// The node was deleted.
    NodeDeleted = 2,
    /// The node's data was set (even to the same bytes).
    NodeDataChanged = 3,
    /// A child was created or deleted; changes to a child's data do not
    /// count.
    NodeChildrenChanged = 4,
    /// A data or exists watch was removed by `removeWatches`.
    DataWatchRemoved = 5,
    /// A child watch was removed by `removeWatches`.
    ChildWatchRemoved = 6,
    /// A persistent watch was removed by `removeWatches`.
    PersistentWatchRemoved = 7,
}

impl EventType {
    /// The type for a wire number, if ZooKeeper defines one.
    pub fn from_code(v: i32) -> Option<EventType> {
        Some(match v {
            -1 => EventType::None,
            1 => EventType::NodeCreated,
            2 => EventType::NodeDeleted,
            3 => EventType::NodeDataChanged,
            4 => EventType::NodeChildrenChanged,
            5 => EventType::DataWatchRemoved,
            6 => EventType::ChildWatchRemoved,
            7 => EventType::PersistentWatchRemoved,
            _ => return None,
        })
    }
}

/// `Watcher.Event.KeeperState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeeperState {
    /// Unused since ZooKeeper 3.1.
    Unknown = -1,
    /// The connection was lost; the session may still be alive.
    Disconnected = 0,
    /// Unused since ZooKeeper 3.1.
    NoSyncConnected = 1,
    /// Connected to a server that takes reads and writes.
    SyncConnected = 3,
    /// Authentication failed.
    AuthFailed = 4,
    /// Connected to a read-only server: reads only.
    ConnectedReadOnly = 5,
    /// SASL authentication succeeded.
    SaslAuthenticated = 6,
    /// The session expired.
    Expired = -112,
    /// The client closed the session.
    Closed = 7,
}

impl KeeperState {
    /// The state for a wire number, if ZooKeeper defines one.
    pub fn from_code(v: i32) -> Option<KeeperState> {
        Some(match v {
            -1 => KeeperState::Unknown,
            0 => KeeperState::Disconnected,
            1 => KeeperState::NoSyncConnected,
            3 => KeeperState::SyncConnected,
            4 => KeeperState::AuthFailed,
            5 => KeeperState::ConnectedReadOnly,
            6 => KeeperState::SaslAuthenticated,
            -112 => KeeperState::Expired,
            7 => KeeperState::Closed,
            _ => return None,
        })
    }
}

/// `Watcher.WatcherType`, used by checkWatches and removeWatches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatcherType {
    /// Child watches.
    Children = 1,
    /// Data and exists watches.
    Data = 2,
    /// Every watch on the path.
    Any = 3,
    /// Persistent watches.
    Persistent = 4,
    /// Persistent recursive watches.
    PersistentRecursive = 5,
}

impl WatcherType {
    /// The type for a wire number, if ZooKeeper defines one.
    pub fn from_code(v: i32) -> Option<WatcherType> {
        Some(match v {
            1 => WatcherType::Children,
            2 => WatcherType::Data,
            3 => WatcherType::Any,
            4 => WatcherType::Persistent,
            5 => WatcherType::PersistentRecursive,
            _ => return None,
        })
    }
}

/// `ZooDefs.AddWatchModes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddWatchMode {
    /// Fires on the node's create, delete, data change and child changes,
    /// and stays set.
    Persistent = 0,
    /// Fires on create, delete and data change of the node and of every
    /// node below it (no child events), and stays set.
    PersistentRecursive = 1,
}

impl AddWatchMode {
    /// The mode for a wire number, if ZooKeeper defines one.
    pub fn from_code(v: i32) -> Option<AddWatchMode> {
        match v {
            0 => Some(AddWatchMode::Persistent),
            1 => Some(AddWatchMode::PersistentRecursive),
            _ => None,
        }
    }
}
