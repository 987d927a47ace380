//! Support for whole-ensemble tests: the server's network on turmoil's
//! simulated TCP, and a small ZooKeeper client on the same, so the real
//! server runs inside a deterministic simulation (see `tests/simulation.rs`).

pub mod client;
pub mod net;
