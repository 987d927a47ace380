//! The client protocol: handshake, headers, requests, responses, watch events.

mod connect;
mod header;
mod multi;
mod request;
mod response;

pub use connect::{ConnectRequest, ConnectResponse};
pub use header::{ReplyHeader, RequestHeader, WatcherEvent, xid};
pub use multi::MultiResult;
pub use request::*;
pub use response::*;
