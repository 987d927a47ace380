//! The data tree and what hangs off it: ACL checks, watches, quotas.

pub mod acl;
pub mod data_tree;
pub mod node;
pub mod quota;
pub mod watch;

pub use data_tree::{Change, DataTree, TxnResult, child_path};
pub use node::{Node, NodeKind};
pub use watch::{WatchKind, WatchManager, WatcherId};
