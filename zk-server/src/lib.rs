//! A ZooKeeper-compatible coordination server.
//!
//! `Server::start` runs a standalone server from a [`Config`]; the binary
//! `zk-server` wraps it with zkServer.sh's commands. Tests embed it the same
//! way (client port 0 picks a free port).

pub mod admin;
pub mod config;
pub mod log;
pub mod metrics;
pub mod net;
pub mod persist;
pub mod request;
mod server;
pub mod session;
pub mod tools;
pub mod tree;
pub mod zab;

pub use config::Config;
pub use server::{Server, ServerError};

/// Wall-clock ms (ctime, mtime, connection stats).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
