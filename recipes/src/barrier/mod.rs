//! Barriers: a single barrier that holds everyone until it is removed
//! ([`DistributedBarrier`]), and the double barrier of the ZooKeeper
//! recipes, where N members enter together and leave together
//! ([`DistributedDoubleBarrier`]).
//!
//! Both keep waiting through a dropped connection (the client re-arms the
//! watch) and through an expired session (they go on with the framework's
//! next session).

mod double;
mod simple;

pub use double::{DistributedDoubleBarrier, READY_NODE};
pub use simple::DistributedBarrier;
