//! The client port: the listener (accept, per-IP connection cap) and one
//! task per connection (frames in, outbox out, four-letter words).

mod connection;
mod listener;
pub mod transport;

pub(crate) use listener::{NetCtx, run_listener};
