//! Four-letter words and the server statistics they report.

pub mod http;
pub(crate) mod json;
mod stats;
pub mod words;

pub use stats::{Mode, ServerStats, Serving, latency_triple};

/// The version clients see first in `srvr`, `stat`, `envi` and `mntr`.
/// Clients gate features on it (3.9 has every op we serve), so it reads as
/// a ZooKeeper 3.9 version with our name after the dash.
macro_rules! version {
    () => {
        concat!("3.9.3-zk-rs-", env!("CARGO_PKG_VERSION"))
    };
}

/// The version, e.g. `3.9.3-zk-rs-0.1.0` (see the macro above for why it reads so).
pub const VERSION: &str = version!();

/// `VERSION, built on 2026-12-03 13:45 UTC`, as ZooKeeper's `srvr` and
/// `envi` print it (the time comes from `build.rs`).
pub const VERSION_BUILT: &str = concat!(version!(), ", built on ", env!("ZK_BUILT_ON"));

/// The text ZooKeeper answers with when a word is not whitelisted.
pub fn not_whitelisted(word: &str) -> String {
    format!("{word} is not executed because it is not in the whitelist.\n")
}
