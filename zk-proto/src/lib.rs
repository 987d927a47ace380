#![warn(missing_docs)]

//! The Apache ZooKeeper client wire protocol (3.9): jute encoding, every
//! request and response record, the connect handshake, framing, op and error
//! codes, and the txn records shared by the log, snapshots and replication.
//!
//! No I/O beyond a `tokio_util` codec.

pub mod client;
pub mod codec;
pub mod data;
pub mod error_code;
pub mod frame;
pub mod op_code;
pub mod path;
pub mod txn;

pub use codec::{Decode, DecodeError, Encode};
pub use error_code::ErrorCode;
pub use op_code::OpCode;
