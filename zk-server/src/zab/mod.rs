//! Replication: ZAB, as the seeds and the Zab paper describe it.
//!
//! ```text
//!  LOOKING ──FLE (election/)──▶ LEADING | FOLLOWING | OBSERVING
//!
//!  leader                                   learner
//!   ◀── LearnerInfo(acceptedEpoch, lastZxid) ──     discovery: a new epoch
//!   ── LeaderInfo(newEpoch) ──────────────────▶    above every follower's,
//!   ◀── AckEpoch(currentEpoch, lastZxid) ──────     acked by a quorum
//!   ── DIFF | TRUNC | SNAP, proposals ────────▶    synchronization
//!   ── NewLeader ─────────────────────────────▶
//!   ◀── AckNewLeader ──────────────────────────     quorum synced: serve
//!   ── UpToDate ──────────────────────────────▶
//!   ── Proposal(txn) ─────────────────────────▶    broadcast: log, then ack
//!   ◀── Ack(zxid) ─────────────────────────────
//!   ── Commit(zxid) / Inform(txn) to observers ▶   quorum acked: apply
//! ```
//!
//! The state task (`request/`) is the same in every role. A leader's state
//! task preps every write (its clients' and those learners forward) and
//! hands txns to the broadcast stage instead of the log stage; a learner's
//! state task forwards writes and applies what the leader commits. A lost
//! quorum or leader ends the role: clients are disconnected, the state is
//! reloaded from disk and the server looks for a leader again.

pub mod election;
pub mod ensemble;
pub mod epoch;
pub mod leader;
mod learner;
mod link;
pub mod message;
pub mod node;
pub mod zxid;
