#![warn(missing_docs)]

//! An async ZooKeeper client for tokio.
//!
//! - Every op of the ZooKeeper 3.9 protocol, with typed results.
//! - Calls are pipelined on one connection, in call order.
//! - One-shot watches come back as futures next to the result
//!   ([`Client::get_data_and_watch`]); persistent watches as streams
//!   ([`Client::add_watch`]). Dropping a watcher unregisters it.
//! - The session survives reconnects (to the next host, names re-resolved,
//!   exponential backoff with jitter); watches are re-armed with
//!   setWatches2; credentials are replayed. Expiry is reported once and the
//!   client stops.
//! - A chroot in the connect string (`host:2181/app`) applies to requests,
//!   results and events.
//!
//! ```
//! # zk_testkit::doc::run(|servers| async move {
//! use zk_client::{Client, CreateOptions, EventType};
//!
//! // `servers` is a connect string such as "127.0.0.1:2181". The chroot
//! // must exist: make it through a client without one.
//! let root = Client::connect(&servers).await?;
//! root.create("/myapp", b"", &CreateOptions::persistent()).await?;
//!
//! let client = Client::connect(&format!("{servers}/myapp")).await?;
//! client.create("/config", b"v1", &CreateOptions::persistent()).await?;
//! let (data, _stat, watcher) = client.get_data_and_watch("/config").await?;
//! assert_eq!(data, b"v1");
//! client.set_data("/config", b"v2", None).await?;
//! let event = watcher.await;
//! assert_eq!(event.event_type, EventType::NodeDataChanged);
//! assert_eq!(event.path, "/config"); // relative to the chroot
//! assert_eq!(root.get_data("/myapp/config").await?.0, b"v2");
//! client.close().await;
//! # Ok(()) });
//! ```

mod builder;
mod chroot;
mod client;
mod error;
mod multi;
pub mod sasl;
mod session;
pub mod tls;
mod types;
mod watch;

pub use builder::{ClientBuilder, HostPort};
pub use client::Client;
pub use error::{Error, Result};
pub use multi::{MultiBuilder, MultiReadBuilder, OpResult, ReadResult};
pub use session::SessionInfo;
pub use types::*;
pub use watch::{OneshotWatcher, PersistentWatcher};
