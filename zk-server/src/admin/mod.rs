//! Four-letter words and the server statistics they report.

mod stats;
pub mod words;

pub use stats::{Mode, ServerStats};

/// The version clients see first in `srvr`, `stat`, `envi` and `mntr`.
/// Clients gate features on it (3.9 has every op we serve), so it reads as
/// a ZooKeeper 3.9 version with our name after the dash.
pub const VERSION: &str = concat!("3.9.3-zk-rs-", env!("CARGO_PKG_VERSION"));

/// The text ZooKeeper answers with when a word is not whitelisted.
pub fn not_whitelisted(word: &str) -> String {
    format!("{word} is not executed because it is not in the whitelist.\n")
}
