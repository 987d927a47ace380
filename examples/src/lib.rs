//! Shared by the examples: where the server is, and how a participant
//! connects (each with its own session, as separate processes would).
//!
//! Run one with `cargo run -p examples --bin lock [host:port]`; the server
//! comes from the argument, else `ZK_SERVER`, else `127.0.0.1:2181`.

use std::time::Duration;

use zk_recipes::Framework;

/// The connect string: first argument, else `ZK_SERVER`, else
/// `127.0.0.1:2181`.
pub fn server() -> String {
    std::env::args()
        .nth(1)
        .or_else(|| std::env::var("ZK_SERVER").ok())
        .unwrap_or_else(|| "127.0.0.1:2181".to_owned())
}

/// A new session (a framework, which replaces the session if it expires).
pub async fn connect() -> anyhow::Result<Framework> {
    let builder = zk_client::Client::builder(&server())?
        .session_timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5));
    Ok(Framework::connect(builder).await?)
}
