//! What the checker reports, worded so that a failing simulation seed can be
//! debugged from the message alone: the path, each op with its session, its
//! invoke and response times, and its outcome.

use std::fmt;

use super::search::{self, Call};
use super::{Entry, History, Op, OpId, Outcome};

/// An op of the history, quoted in a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cited {
    pub id: OpId,
    pub entry: Entry,
}

impl Cited {
    pub(super) fn new(history: &History, id: OpId) -> Cited {
        Cited {
            id,
            entry: history.entries[id.0].clone(),
        }
    }
}

/// The read rule a read breaks (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadRule {
    /// (a) The node it returned is at no point of the order: that data at
    /// that version was never written.
    NeverWritten,
    /// (a) Read-your-writes: it is older than a write of its own session
    /// that completed before the read was invoked.
    OlderThanOwnWrite,
    /// (b) Monotonic reads: it is older than what the session's previous
    /// read of the path returned.
    Backwards,
    /// (c) It shows a write that was invoked only after the read returned.
    Future,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// The history, or the linearization given with it, is not one a
    /// server and a test could have produced (an outcome the op cannot
    /// have, a response before its invoke, an order of other writes).
    Malformed {
        reason: String,
        op: Option<Box<Cited>>,
    },
    /// No order of the writes on `path` keeps real time and gives each its
    /// recorded outcome. `longest` is the longest order the search placed,
    /// leaving the node at `version` (None = absent); `next` holds each
    /// write that could come next in real time with the outcome it would
    /// get there.
    Writes {
        path: String,
        writes: usize,
        longest: Vec<Cited>,
        version: Option<i32>,
        next: Vec<(Cited, Outcome)>,
    },
    /// A read breaks `rule`; `cause` is the op that rules it out: the own
    /// write, the previous read, or the write from the future.
    Read {
        path: String,
        rule: ReadRule,
        read: Box<Cited>,
        cause: Option<Box<Cited>>,
    },
    /// The search on `path` ran out of steps. `suspect`: the read that
    /// fails against the order of the writes alone, when the search for an
    /// order explaining the reads is the one that ran out.
    Inconclusive {
        path: String,
        step_budget: u64,
        writes: usize,
        reads: usize,
        suspect: Option<Box<Violation>>,
    },
}

impl std::error::Error for Violation {}

/// Builds the report of a path whose writes alone have no order.
pub(super) fn writes(
    history: &History,
    path: &str,
    calls: &[Call<'_>],
    deepest: &[usize],
) -> Violation {
    let (version, next) = search::stuck_at(calls, deepest);
    let cite = |i: usize| Cited::new(history, calls[i].id);
    Violation::Writes {
        path: path.to_owned(),
        writes: calls.len(),
        longest: deepest.iter().map(|&i| cite(i)).collect(),
        version,
        next: next
            .into_iter()
            .map(|(i, outcome)| (cite(i), outcome))
            .collect(),
    }
}

/// How many ops of the longest order a report shows: the end is where it
/// went wrong.
const LONGEST_SHOWN: usize = 12;

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Malformed { reason, op } => {
                write!(f, "malformed history: {reason}")?;
                op.iter().try_for_each(|op| write!(f, "\n    {op}"))
            }
            Violation::Writes {
                path,
                writes,
                longest,
                version,
                next,
            } => fmt_writes(f, path, *writes, longest, *version, next),
            Violation::Read {
                path,
                rule,
                read,
                cause,
            } => {
                write!(f, "read of {path} breaks {rule}\n    {read}")?;
                cause
                    .iter()
                    .try_for_each(|c| write!(f, "\n  {}\n    {c}", rule.cause()))
            }
            Violation::Inconclusive {
                path,
                step_budget,
                writes,
                reads,
                suspect,
            } => {
                write!(
                    f,
                    "inconclusive: the search on {path} ({writes} writes, {reads} reads) ran out of {step_budget} steps"
                )?;
                suspect
                    .iter()
                    .try_for_each(|s| write!(f, "\nagainst the order of the writes alone: {s}"))
            }
        }
    }
}

fn fmt_writes(
    f: &mut fmt::Formatter<'_>,
    path: &str,
    writes: usize,
    longest: &[Cited],
    version: Option<i32>,
    next: &[(Cited, Outcome)],
) -> fmt::Result {
    writeln!(
        f,
        "writes on {path} are not linearizable: no order of its {writes} writes keeps real time and every outcome"
    )?;
    let node = version.map_or("absent".to_owned(), |v| format!("at version {v}"));
    writeln!(
        f,
        "  longest order found ({} placed), leaving the node {node}:",
        longest.len()
    )?;
    let hidden = longest.len().saturating_sub(LONGEST_SHOWN);
    if hidden > 0 {
        writeln!(f, "    ... {hidden} earlier")?;
    }
    for op in &longest[hidden..] {
        writeln!(f, "    {op}")?;
    }
    write!(f, "  none of these can come next:")?;
    for (op, here) in next {
        let recorded = op.entry.response.as_ref().map(|r| &r.outcome);
        let why = if recorded.is_none_or(|r| r == here) {
            "fits here, but no order goes on from there".to_owned()
        } else {
            format!("here it would get {here}")
        };
        write!(f, "\n    {op}  ({why})")?;
    }
    Ok(())
}

impl ReadRule {
    /// Introduces the op that rules the read out.
    fn cause(self) -> &'static str {
        match self {
            ReadRule::NeverWritten => "no write produced it",
            ReadRule::OlderThanOwnWrite => {
                "which is older than this write of its session, completed before the read was invoked:"
            }
            ReadRule::Backwards => "which is older than what the session's previous read returned:",
            ReadRule::Future => "which shows this write, invoked after the read returned:",
        }
    }
}

impl fmt::Display for ReadRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReadRule::NeverWritten => {
                "(a): it returned a node that no point of the write order shows"
            }
            ReadRule::OlderThanOwnWrite => "(a) read-your-writes",
            ReadRule::Backwards => "(b) monotonic reads",
            ReadRule::Future => "(c) no reading the future",
        })
    }
}

impl fmt::Display for Cited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entry = &self.entry;
        write!(
            f,
            "{} session {} [{}, ",
            self.id, entry.session, entry.invoke
        )?;
        match &entry.response {
            Some(response) => write!(f, "{}] {} -> {}", response.time, entry.op, response.outcome),
            None => write!(f, "?] {} -> unknown", entry.op),
        }
    }
}

/// Data as text for reports: quoted, escaped, cut after a few bytes.
struct Bytes<'a>(&'a [u8]);

impl fmt::Display for Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 32;
        let shown = &self.0[..self.0.len().min(SHOWN)];
        write!(f, "{:?}", String::from_utf8_lossy(shown))?;
        if self.0.len() > SHOWN {
            write!(f, "... ({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

/// A conditional version for reports.
struct Wanted(Option<i32>);

impl fmt::Display for Wanted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(version) => write!(f, "version {version}"),
            None => f.write_str("any version"),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Create { path, data } => write!(f, "create({path}, {})", Bytes(data)),
            Op::SetData {
                path,
                data,
                version,
            } => write!(f, "setData({path}, {}, {})", Bytes(data), Wanted(*version)),
            Op::Delete { path, version } => write!(f, "delete({path}, {})", Wanted(*version)),
            Op::GetData { path } => write!(f, "getData({path})"),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("ok"),
            Outcome::Set { version } => write!(f, "ok, version {version}"),
            Outcome::Data { data, version } => write!(f, "{} at version {version}", Bytes(data)),
            Outcome::NoNode => f.write_str("NoNode"),
            Outcome::NodeExists => f.write_str("NodeExists"),
            Outcome::BadVersion => f.write_str("BadVersion"),
        }
    }
}
