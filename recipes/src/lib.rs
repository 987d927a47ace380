#![warn(missing_docs)]

//! Curator-style recipes on the public `zk-client` API.
//!
//! Everything starts from a [`Framework`]: a client that is replaced by a
//! new session when its session expires, so recipes that must survive
//! expiry (a service registration, an election candidate) can.
//!
//! Node names follow Curator (`_c_<uuid>-lock-`, `latch-`, `__READ__`,
//! `__WRIT__`, x-discovery's JSON), so Rust, Java and Python processes can
//! share locks, elections and discovery paths. Every recipe retries a
//! bounded number of times with backoff. Mutex, write-lock and election
//! waiters watch only their predecessor (no herd); semaphore waiters and
//! queue consumers watch the children, since any release may be theirs.
//! Writes whose outcome a lost connection leaves unknown (protected
//! creates, queue takes, counter updates) are settled by looking for a
//! node carrying the operation's uuid.

pub mod barrier;
pub mod cache;
mod config;
pub mod counter;
pub mod discovery;
mod error;
mod framework;
pub mod group;
pub mod leader;
pub mod lock;
pub mod naming;
pub mod nodes;
pub mod queue;
pub mod retry;
mod session;

pub use barrier::{DistributedBarrier, DistributedDoubleBarrier};
pub use cache::{CacheEvent, ChildrenCache, NodeCache, NodeData, TreeCache};
pub use config::{ConfigPublisher, ConfigSubscriber};
pub use counter::{AtomicValue, DistributedAtomicLong, SharedCount, VersionedValue};
pub use error::{Error, Result};
pub use framework::{Current, Framework};
pub use group::{GroupMember, Members};
pub use leader::{LeaderLatch, LeaderSelector, Leadership, Participant};
pub use lock::{
    InterProcessMultiLock, InterProcessMutex, InterProcessReadWriteLock, InterProcessSemaphore,
    InterProcessSemaphoreMutex, Lease, MultiLockGuard, MutexGuard, WriteGuard,
};
pub use naming::{NameRegistry, UniqueIdGenerator};
pub use queue::{
    DistributedDelayQueue, DistributedIdQueue, DistributedPriorityQueue, DistributedQueue,
};
