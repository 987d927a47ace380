//! `check_reads`: each completed read against one order of its path's
//! writes, by rules (a) to (c) of the module docs.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{
    History, Linearization, OpId, Outcome, PathOps, ReadRule, SessionOps, Violation, Write,
    response_time, took_effect,
};

pub(super) fn check(history: &History, linearization: &Linearization) -> Result<(), Violation> {
    super::validate(history)?;
    let paths = super::by_path(history);
    matches_history(history, &paths, linearization)?;
    for (path, ops) in &paths {
        let Some(violation) = first_violation(history, path, ops, linearization.order(path)) else {
            continue;
        };
        return Err(match linearization.undecided.get(*path) {
            Some(&budget) => Violation::Inconclusive {
                path: (*path).to_owned(),
                step_budget: budget,
                writes: ops.writes.len(),
                reads: ops.reads.len(),
                suspect: Some(Box::new(violation)),
            },
            None => violation,
        });
    }
    Ok(())
}

/// The linearization must order the history's writes, path by path: each
/// completed one once, an unknown one at most once (left out, it never took
/// effect). One made for another history would make the verdict meaningless.
fn matches_history(
    history: &History,
    paths: &BTreeMap<&str, PathOps>,
    linearization: &Linearization,
) -> Result<(), Violation> {
    let no_writes = PathOps::default();
    let all_paths = paths.keys().copied().chain(linearization.paths());
    for path in all_paths {
        let writes = &paths.get(path).unwrap_or(&no_writes).writes;
        let order = linearization.order(path);
        let ordered: HashSet<OpId> = order.iter().copied().collect();
        let expected: HashSet<OpId> = writes.iter().copied().collect();
        let mut completed = writes
            .iter()
            .filter(|w| history.entries[w.0].response.is_some());
        let fits = ordered.len() == order.len()
            && ordered.is_subset(&expected)
            && completed.all(|w| ordered.contains(w));
        if !fits {
            return Err(Violation::Malformed {
                reason: format!("the linearization does not order the writes on {path}"),
                op: None,
            });
        }
    }
    Ok(())
}

/// The earliest-invoked read on the path that no placement in `order`
/// explains. `order` must be the path's writes (`matches_history`).
pub(super) fn first_violation(
    history: &History,
    path: &str,
    ops: &PathOps,
    order: &[OpId],
) -> Option<Violation> {
    let timeline = Timeline::new(history, order);
    let sessions = ops.sessions(history);
    let failures = sessions
        .values()
        .filter_map(|s| session_failure(history, &timeline, s));
    let failure = failures.min_by_key(|f| (history.entries[f.read.0].invoke, f.read))?;
    let cite = |id| Box::new(super::Cited::new(history, id));
    Some(Violation::Read {
        path: path.to_owned(),
        rule: failure.rule,
        read: cite(failure.read),
        cause: failure.cause.map(cite),
    })
}

struct Failure {
    read: OpId,
    rule: ReadRule,
    cause: Option<OpId>,
}

/// A point a read cannot be placed before, and why.
#[derive(Clone, Copy)]
struct Bound {
    point: usize,
    because: OpId,
    rule: ReadRule,
}

/// Places one session's reads in the order it sent them, each at the
/// earliest point that fits; the first that cannot be placed fails.
fn session_failure(
    history: &History,
    timeline: &Timeline<'_>,
    ops: &SessionOps,
) -> Option<Failure> {
    let mut own: Option<Bound> = None;
    let mut previous: Option<Bound> = None;
    let mut finished = ops.writes.iter().peekable();
    for &read in &ops.reads {
        let entry = &history.entries[read.0];
        let Some(response) = &entry.response else {
            continue;
        };
        // `ops.writes` is sorted by response time: these completed before the read.
        while let Some(&write) = finished.next_if(|w| response_time(history, **w) < entry.invoke) {
            let point = timeline.position.get(&write).copied().unwrap_or(0);
            if own.is_none_or(|b| point >= b.point) {
                own = Some(Bound {
                    point,
                    because: write,
                    rule: ReadRule::OlderThanOwnWrite,
                });
            }
        }
        let bound = match (own, previous) {
            (Some(o), Some(p)) => Some(if o.point >= p.point { o } else { p }),
            (o, p) => o.or(p),
        };
        let seen = seen(&response.outcome);
        let from = bound.map_or(0, |b| b.point);
        match timeline.earliest(seen, from, response.time) {
            Some(point) => {
                previous = Some(Bound {
                    point,
                    because: read,
                    rule: ReadRule::Backwards,
                })
            }
            None => return Some(diagnose(timeline, read, seen, response.time, bound)),
        }
    }
    None
}

/// The node a read returned: data and version, or None for absent.
fn seen(outcome: &Outcome) -> Option<(&[u8], i32)> {
    match outcome {
        Outcome::Data { data, version } => Some((data, *version)),
        _ => None,
    }
}

/// Names the rule a read that fits no point breaks: no point shows its
/// node at all (a), every such point is too new (c), or every one allowed
/// by (c) is before its bound (a) or (b).
fn diagnose(
    timeline: &Timeline<'_>,
    read: OpId,
    seen: Option<(&[u8], i32)>,
    response: u64,
    bound: Option<Bound>,
) -> Failure {
    let mut showing = timeline.states.iter().filter(|s| s.node == seen).peekable();
    let Some(first) = showing.peek().copied() else {
        return Failure {
            read,
            rule: ReadRule::NeverWritten,
            cause: None,
        };
    };
    if showing.all(|s| s.shaped.is_some_and(|(t, _)| t > response)) {
        let cause = first.shaped.map(|(_, id)| id);
        return Failure {
            read,
            rule: ReadRule::Future,
            cause,
        };
    }
    match bound {
        Some(b) => Failure {
            read,
            rule: b.rule,
            cause: Some(b.because),
        },
        // Cannot happen: without a bound, `earliest` finds the first point
        // that (c) allows.
        None => Failure {
            read,
            rule: ReadRule::NeverWritten,
            cause: None,
        },
    }
}

/// The node at each point of an order of one path's writes.
struct Timeline<'h> {
    /// `states[k]`: after the first k writes (`states[0]`: absent, before
    /// any).
    states: Vec<State<'h>>,
    /// Each write's point: the first state that includes it.
    position: HashMap<OpId, usize>,
}

#[derive(Clone, Copy)]
struct State<'h> {
    node: Option<(&'h [u8], i32)>,
    /// The latest-invoked write that took effect up to here, with its
    /// invoke time (rule (c)).
    shaped: Option<(u64, OpId)>,
}

impl<'h> Timeline<'h> {
    fn new(history: &'h History, order: &[OpId]) -> Self {
        let mut state = State {
            node: None,
            shaped: None,
        };
        let mut states = vec![state];
        let mut position = HashMap::new();
        for (k, &id) in order.iter().enumerate() {
            let entry = &history.entries[id.0];
            if let Some(write) = Write::of(&entry.op) {
                let (version, outcome) = write.apply(state.node.map(|(_, v)| v));
                if took_effect(&outcome) {
                    state.node = entry.op.data().zip(version);
                    if state.shaped.is_none_or(|(t, _)| entry.invoke > t) {
                        state.shaped = Some((entry.invoke, id));
                    }
                }
            }
            position.insert(id, k + 1);
            states.push(state);
        }
        Timeline { states, position }
    }

    /// The first point from `from` on that shows `seen` and that a read
    /// returning at `response` may see (rule (c); `shaped` only grows).
    fn earliest(&self, seen: Option<(&[u8], i32)>, from: usize, response: u64) -> Option<usize> {
        let mut allowed = (from..self.states.len())
            .take_while(|&k| self.states[k].shaped.is_none_or(|(t, _)| t <= response));
        allowed.find(|&k| self.states[k].node == seen)
    }
}
