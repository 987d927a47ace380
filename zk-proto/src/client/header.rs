use crate::record;

/// The special xids (`ClientCnxn`).
pub mod xid {
    /// A watch event.
    pub const NOTIFICATION: i32 = -1;
    /// A ping and its reply.
    pub const PING: i32 = -2;
    /// An `AuthPacket` and its reply.
    pub const AUTH: i32 = -4;
    /// `SetWatches` / `SetWatches2` on reconnect.
    pub const SET_WATCHES: i32 = -8;
}

record! {
    /// Precedes every request after the handshake.
    pub struct RequestHeader {
        /// The client's sequence number for the request, echoed in the
        /// reply; negative values are the special [`xid`]s.
        pub xid: i32,
        /// The [`OpCode`](crate::OpCode) number.
        pub op: i32,
    }
}

record! {
    /// Precedes every response and watch event.
    pub struct ReplyHeader {
        /// The xid of the request answered, or a special [`xid`].
        pub xid: i32,
        /// The last zxid the server had applied when it replied.
        pub zxid: i64,
        /// An [`ErrorCode`](crate::ErrorCode) number; 0 on success, and
        /// then a body follows.
        pub err: i32,
    }
}

record! {
    /// A watch notification (sent with xid -1).
    pub struct WatcherEvent {
        /// An [`EventType`](crate::data::EventType) number.
        pub event_type: i32,
        /// A [`KeeperState`](crate::data::KeeperState) number.
        pub state: i32,
        /// The znode the event is about; empty for state changes.
        pub path: String,
    }
}
