//! The request pipeline, owned by one task (the state task):
//!
//! ```text
//! connection --StateMsg--> state task
//!   read?  -> served from the tree, once this connection's earlier writes are applied
//!   write? -> prep (checks against tree + pending changes) -> Txn
//!          -> log stage (persist, group commit) --committed--> apply to the tree
//!          -> fire watches -> reply
//! state task --Outbound--> connection outbox (in request order)
//! ```
//!
//! The state task owns the tree, the watches, the sessions, the pending
//! changes and the per-connection order. Nothing else touches them, so no
//! lock is needed and apply order is zxid order.

mod apply;
mod conn;
mod connect;
mod core;
mod health;
pub mod ops;
mod overlay;
pub mod prep;
mod read;
mod replica;
mod sasl;

pub use conn::{ConnId, ConnStats, OUTBOX_BUDGET, Outbound, Outbox};
pub use core::{Core, StateMsg};
pub use replica::Downstream;
