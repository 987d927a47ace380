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
        pub xid: i32,
        pub op: i32,
    }
}

record! {
    /// Precedes every response and watch event.
    pub struct ReplyHeader {
        pub xid: i32,
        pub zxid: i64,
        pub err: i32,
    }
}

record! {
    /// A watch notification (sent with xid -1).
    pub struct WatcherEvent {
        pub event_type: i32,
        pub state: i32,
        pub path: String,
    }
}
