//! Real ZooKeeper servers for the tests of an application, as Curator's
//! `curator-test` gives Java: no mocks, and no server to install.
//!
//! - [`TestingServer`]: one zk-server in the test's process, on a free port.
//! - [`TestingCluster`]: an ensemble of N members in the test's process,
//!   whose members can be killed, restarted and cut off from the others.
//! - [`containers`] (feature `containers`, on by default): the same in
//!   Docker containers with testcontainers, for our image (`zk-rs`) or the
//!   official `zookeeper` image, behind one API.
//!
//! A lock test with a [`TestingServer`]:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use std::time::Duration;
//! use zk_recipes::{Framework, InterProcessMutex};
//! use zk_testing::TestingServer;
//!
//! let server = TestingServer::start().await?;
//! let a = Framework::connect(zk_client::Client::builder(&server.connect_string())?).await?;
//! let b = Framework::connect(zk_client::Client::builder(&server.connect_string())?).await?;
//! let guard = InterProcessMutex::new(&a, "/locks/job").acquire().await?;
//! // While `a` holds it, `b` cannot have it.
//! let lock_b = InterProcessMutex::new(&b, "/locks/job");
//! assert!(lock_b.try_acquire(Duration::from_millis(200)).await?.is_none());
//! guard.release().await?;
//! assert!(lock_b.try_acquire(Duration::from_secs(5)).await?.is_some());
//! # Ok(()) }
//! ```

mod cluster;
#[cfg(feature = "containers")]
pub mod containers;
mod four;
mod net;
mod server;
mod tempdir;

pub use cluster::TestingCluster;
pub use server::{TestingServer, TestingServerBuilder};
pub(crate) use tempdir::TempDir;

/// Why a test server could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The zoo.cfg lines given are not valid.
    #[error("bad test server config: {0}")]
    Config(zk_server::config::ConfigError),
    /// The server did not start (a port taken, storage failing).
    #[error("the test server did not start: {0}")]
    Start(zk_server::ServerError),
    /// A temporary directory could not be made.
    #[error("cannot create a temporary directory: {0}")]
    TempDir(std::io::Error),
    /// The ensemble did not settle on a leader in time.
    #[error("the ensemble has no leader after {0:?}")]
    NoLeader(std::time::Duration),
    /// A container could not be started or reached.
    #[error("container: {0}")]
    Container(String),
}
