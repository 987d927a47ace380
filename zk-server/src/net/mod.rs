//! The client ports: the listeners (plain and TLS; accept, per-IP
//! connection cap) and one task per connection (the TLS handshake, then
//! frames in, outbox out, four-letter words).

mod connection;
mod listener;
mod ports;
pub(crate) mod quorum;
pub(crate) mod tls;
pub mod transport;

pub(crate) use listener::{NetCtx, run_listener};
pub(crate) use ports::{Accepted, ClientPorts};
