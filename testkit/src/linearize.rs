//! A history checker for the replication simulation tests: were the writes
//! linearizable, and did every read keep ZooKeeper's (weaker) promises?
//!
//! A test client records each call and what came back in a [`History`]. The
//! checker judges each path on its own, as an independent register: tests
//! use leaf znodes under a parent that exists, so paths never interact.
//!
//! ```text
//!  History ──check_writes──▶ Linearization ──check_reads──▶ Ok(())
//!    │       writes: one order      (per path)      reads: stale is fine,
//!    │       per path, real time                    but (a) (b) (c) below
//!    └──────────────────────────────────────────────▶ or a Violation
//! ```
//!
//! **Writes** (create, setData, delete, failed ones too: a BadVersion or
//! NodeExists is a read of the state in effect) must be linearizable (Herlihy
//! & Wing 1990): one order per path that keeps real time and gives every op
//! the outcome it got. The search is Wing & Gong's with Lowe's memo on (ops
//! placed, state) (G. Lowe, "Testing for linearizability", 2017; Porcupine
//! does the same), bounded by a step budget: past it the answer is
//! [`Violation::Inconclusive`], never a hang.
//!
//! **Reads** may be stale: a follower answers from its own, possibly lagging,
//! copy of the history (ZooKeeper Programmer's Guide, "Consistency
//! Guarantees"). Each read is placed at a point of its path's write order
//! and must see the node as it is there, with, per session:
//! - (a) read-your-writes: the point is after every write of the session
//!   that completed before the read was invoked (failed writes too: they go
//!   through the leader like the rest);
//! - (b) monotonic reads: the point is not before the point of the session's
//!   previous read of the path (previous = invoked earlier: a session's
//!   requests are served in order);
//! - (c) no reading the future: every write that took effect up to the point
//!   was invoked before the read returned (a server applies only committed
//!   writes, so what it shows was all sent before its reply).
//!
//! A read is placed at the earliest point that satisfies (a) and (c) and is
//! not before its previous read's: later reads only gain from an early point,
//! so this finds a placement whenever one exists. An absent result, which
//! fits every interval where the node was absent, thus takes the earliest
//! such interval allowed. Tests write unique data per write, so a present
//! result names the write that produced it.
//!
//! The order of concurrent writes is often not unique, and reads can tell
//! the candidates apart: when the order found for the writes alone does not
//! explain the reads, [`check_writes`] searches again with the reads placed
//! as it goes, so [`check_reads`] reports a read only when no order explains
//! it (or when that second search ran out of steps: then the report is
//! [`Violation::Inconclusive`] and carries the suspect read).
//!
//! Time: an op precedes another when it returned strictly before the other
//! was invoked; equal times are concurrent. An op without a response (the
//! connection was lost) may take effect at any point after its invoke, or
//! never; it returns nothing to check and counts for no session rule. A
//! session is a ZooKeeper session, one handle across its reconnects: a new
//! session may read older state than its predecessor wrote.
//!
//! Not checked: ordering between paths, and that a session's write follows
//! what it read before.
//!
//! Limits. When no order explains the reads, the read named is the
//! earliest-invoked one that fails against the order of the writes alone;
//! with concurrent writes around it, another read may be the one at fault.
//! The search is exponential in the worst case, and unknown outcomes are
//! what drives it there (each such write may take effect at many points, or
//! not at all). Histories with about 30 ops overlapping each op and one in
//! five outcomes unknown stay well within the budget (`LARGE` in the
//! property tests); with two in five, some run out and are inconclusive.

use std::collections::BTreeMap;
use std::fmt;

mod bits;
mod reads;
mod report;
mod search;
mod session;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use report::{Cited, ReadRule, Violation};

/// How many steps (ops tried) the search may spend on one path. The memo
/// holds at most one entry per step, each a few words when the placed ops
/// are mostly a prefix, as they are in a history that is right. Running out
/// takes about 20 s (release build) on a path of 500 writes.
pub const DEFAULT_STEP_BUDGET: u64 = 1_000_000;

/// An op's index in its [`History`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId(usize);

impl OpId {
    /// Its index in [`History::entries`].
    pub fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A call waiting for its response. Not `Clone`, so an op completes once;
/// drop it unanswered when the outcome is unknown (connection loss).
#[derive(Debug)]
#[must_use = "dropping it leaves the op's outcome unknown"]
pub struct Pending(OpId);

impl Pending {
    pub fn id(&self) -> OpId {
        self.0
    }
}

/// What a client asked. `version: None` is ZooKeeper's -1 (any version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Create {
        path: String,
        data: Vec<u8>,
    },
    SetData {
        path: String,
        data: Vec<u8>,
        version: Option<i32>,
    },
    Delete {
        path: String,
        version: Option<i32>,
    },
    GetData {
        path: String,
    },
}

impl Op {
    pub fn path(&self) -> &str {
        match self {
            Op::Create { path, .. }
            | Op::SetData { path, .. }
            | Op::Delete { path, .. }
            | Op::GetData { path } => path,
        }
    }

    /// The data a create or setData writes.
    fn data(&self) -> Option<&[u8]> {
        match self {
            Op::Create { data, .. } | Op::SetData { data, .. } => Some(data),
            Op::Delete { .. } | Op::GetData { .. } => None,
        }
    }
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A create or delete took effect.
    Ok,
    /// A setData took effect; the node's new version.
    Set {
        version: i32,
    },
    /// A getData found the node.
    Data {
        data: Vec<u8>,
        version: i32,
    },
    NoNode,
    NodeExists,
    BadVersion,
}

/// One recorded call. `invoke` and `response.time` are any clock shared by
/// all sessions (simulated or logical time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub session: u64,
    pub invoke: u64,
    pub op: Op,
    /// None: the outcome is unknown.
    pub response: Option<Response>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub time: u64,
    pub outcome: Outcome,
}

/// The calls of a test run, in the order they were invoked (or any order:
/// the checker sorts by time).
#[derive(Debug, Clone, Default)]
pub struct History {
    entries: Vec<Entry>,
}

impl History {
    pub fn new() -> History {
        History::default()
    }

    /// Records a call before it is sent.
    pub fn invoke(&mut self, session: u64, time: u64, op: Op) -> Pending {
        self.entries.push(Entry {
            session,
            invoke: time,
            op,
            response: None,
        });
        Pending(OpId(self.entries.len() - 1))
    }

    /// Records what came back. A handle from another history is ignored
    /// when out of range (ids are indexes).
    pub fn complete(&mut self, pending: Pending, time: u64, outcome: Outcome) {
        if let Some(entry) = self.entries.get_mut(pending.0.0) {
            entry.response = Some(Response { time, outcome });
        }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

/// For each path, an order of its writes that is linearizable. A write
/// whose outcome is unknown is in it only if it took effect there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Linearization {
    orders: BTreeMap<String, Vec<OpId>>,
    /// Paths whose search for an order that also explains the reads ran out
    /// of steps (the value is the budget): a read that fails against the
    /// order kept is a suspect, not a proven violation.
    undecided: BTreeMap<String, u64>,
}

impl Linearization {
    /// The writes on `path` in linearized order (empty for a path without
    /// writes); unknown-outcome writes that never took effect are left out.
    pub fn order(&self, path: &str) -> &[OpId] {
        self.orders.get(path).map_or(&[], Vec::as_slice)
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.orders.keys().map(String::as_str)
    }
}

/// Finds, path by path, an order of the writes that keeps real time and
/// gives each write its recorded outcome, within [`DEFAULT_STEP_BUDGET`]
/// steps per path. Among such orders it returns one that also explains the
/// reads when there is one.
pub fn check_writes(history: &History) -> Result<Linearization, Violation> {
    check_writes_within(history, DEFAULT_STEP_BUDGET)
}

/// [`check_writes`] with another step budget per path.
pub fn check_writes_within(
    history: &History,
    step_budget: u64,
) -> Result<Linearization, Violation> {
    search::check(history, step_budget)
}

/// Checks every completed read against ZooKeeper's read rules (module docs)
/// and `linearization`, which must come from [`check_writes`] on the same
/// history.
pub fn check_reads(history: &History, linearization: &Linearization) -> Result<(), Violation> {
    reads::check(history, linearization)
}

/// A write as the model sees it. Data does not decide any write's outcome
/// (no write returns data), so the model tracks only the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Write {
    Create,
    Set(Option<i32>),
    Delete(Option<i32>),
}

impl Write {
    fn of(op: &Op) -> Option<Write> {
        match op {
            Op::Create { .. } => Some(Write::Create),
            Op::SetData { version, .. } => Some(Write::Set(*version)),
            Op::Delete { version, .. } => Some(Write::Delete(*version)),
            Op::GetData { .. } => None,
        }
    }

    /// ZooKeeper's rules (`DataTree` create/setData/delete) on one path's
    /// version (None = absent): the version after, and the outcome.
    fn apply(self, version: Option<i32>) -> (Option<i32>, Outcome) {
        let fits = |wanted: Option<i32>, current: i32| wanted.is_none_or(|w| w == current);
        match (self, version) {
            (Write::Create, None) => (Some(0), Outcome::Ok),
            (Write::Create, Some(_)) => (version, Outcome::NodeExists),
            (Write::Set(_) | Write::Delete(_), None) => (None, Outcome::NoNode),
            (Write::Set(wanted), Some(current)) if fits(wanted, current) => {
                // Java int arithmetic: the version wraps.
                let next = current.wrapping_add(1);
                (Some(next), Outcome::Set { version: next })
            }
            (Write::Delete(wanted), Some(current)) if fits(wanted, current) => (None, Outcome::Ok),
            (Write::Set(_) | Write::Delete(_), Some(_)) => (version, Outcome::BadVersion),
        }
    }
}

fn took_effect(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Ok | Outcome::Set { .. })
}

/// One path's ops, each list sorted by invoke time.
#[derive(Debug, Default)]
struct PathOps {
    writes: Vec<OpId>,
    reads: Vec<OpId>,
}

/// One session's completed ops on a path: reads by invoke time (the order
/// the session sent them), writes by response time.
#[derive(Debug, Default)]
struct SessionOps {
    reads: Vec<OpId>,
    writes: Vec<OpId>,
}

fn by_path(history: &History) -> BTreeMap<&str, PathOps> {
    let mut ids: Vec<OpId> = (0..history.entries.len()).map(OpId).collect();
    ids.sort_by_key(|id| history.entries[id.0].invoke);
    let mut paths: BTreeMap<&str, PathOps> = BTreeMap::new();
    for id in ids {
        let op = &history.entries[id.0].op;
        let ops = paths.entry(op.path()).or_default();
        match Write::of(op) {
            Some(_) => ops.writes.push(id),
            None => ops.reads.push(id),
        }
    }
    paths
}

impl PathOps {
    fn sessions(&self, history: &History) -> BTreeMap<u64, SessionOps> {
        let mut sessions: BTreeMap<u64, SessionOps> = BTreeMap::new();
        let completed = |id: &&OpId| history.entries[id.0].response.is_some();
        for &id in self.reads.iter().filter(completed) {
            let session = history.entries[id.0].session;
            sessions.entry(session).or_default().reads.push(id);
        }
        for &id in self.writes.iter().filter(completed) {
            let session = history.entries[id.0].session;
            sessions.entry(session).or_default().writes.push(id);
        }
        for ops in sessions.values_mut() {
            ops.writes.sort_by_key(|id| response_time(history, *id));
        }
        sessions
    }
}

/// When the op returned; `u64::MAX` when it is unknown, as it may take
/// effect at any time (Porcupine's treatment).
fn response_time(history: &History, id: OpId) -> u64 {
    history.entries[id.0]
        .response
        .as_ref()
        .map_or(u64::MAX, |r| r.time)
}

/// Rejects what no server could have answered, so the checks can trust the
/// shape of every entry.
fn validate(history: &History) -> Result<(), Violation> {
    for (index, entry) in history.entries.iter().enumerate() {
        let Some(response) = &entry.response else {
            continue;
        };
        let reason = if response.time < entry.invoke {
            "it returned before it was invoked"
        } else if !can_return(&entry.op, &response.outcome) {
            "this op cannot return this outcome"
        } else {
            continue;
        };
        return Err(Violation::Malformed {
            reason: reason.to_owned(),
            op: Some(Box::new(Cited::new(history, OpId(index)))),
        });
    }
    Ok(())
}

fn can_return(op: &Op, outcome: &Outcome) -> bool {
    use Outcome as O;
    match op {
        Op::Create { .. } => matches!(outcome, O::Ok | O::NodeExists),
        Op::SetData { .. } => matches!(outcome, O::Set { .. } | O::NoNode | O::BadVersion),
        Op::Delete { .. } => matches!(outcome, O::Ok | O::NoNode | O::BadVersion),
        Op::GetData { .. } => matches!(outcome, O::Data { .. } | O::NoNode),
    }
}
