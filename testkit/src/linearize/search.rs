//! The search for an order of one path's writes: Wing & Gong's depth-first
//! search, with Lowe's memo of (calls placed, state) so a state reached again
//! by another order is not explored twice (here also skipped when a node
//! already reached had the same state with fewer unknown calls used). It can also place the path's
//! reads as it goes (module docs, rules (a) to (c)): each read takes the
//! first point that fits, which never hurts the reads after it, so reads add
//! no branching; they only prune.

use std::collections::{HashMap, HashSet};

use super::bits::Bits;
use super::session::{Read, Session, Source, sessions};

use super::{
    History, Linearization, OpId, Outcome, PathOps, Response, Violation, Write, reads, report,
    response_time, took_effect,
};

/// `check_writes`: for each path, an order of its writes alone, then, if
/// that order leaves a read unexplained, one that explains the reads too.
pub(super) fn check(history: &History, budget: u64) -> Result<Linearization, Violation> {
    super::validate(history)?;
    let mut linearization = Linearization::default();
    for (path, ops) in super::by_path(history) {
        let calls = calls(history, &ops);
        let order = match Search::new(&calls, Vec::new(), budget).run() {
            Ended::Found(order) => ids(&calls, &order),
            Ended::Exhausted(deepest) => {
                return Err(report::writes(history, path, &calls, &deepest));
            }
            Ended::OutOfSteps => return Err(inconclusive(path, budget, &ops)),
        };
        let order = if reads::first_violation(history, path, &ops, &order).is_none() {
            order
        } else {
            let sessions = sessions(history, &ops, &calls);
            match Search::new(&calls, sessions, budget).run() {
                Ended::Found(explained) => ids(&calls, &explained),
                // No order explains the reads: check_reads names a read.
                Ended::Exhausted(_) => order,
                Ended::OutOfSteps => {
                    linearization.undecided.insert(path.to_owned(), budget);
                    order
                }
            }
        };
        linearization.orders.insert(path.to_owned(), order);
    }
    Ok(linearization)
}

fn inconclusive(path: &str, budget: u64, ops: &PathOps) -> Violation {
    Violation::Inconclusive {
        path: path.to_owned(),
        step_budget: budget,
        writes: ops.writes.len(),
        reads: ops.reads.len(),
        suspect: None,
    }
}

fn ids(calls: &[Call<'_>], order: &[usize]) -> Vec<OpId> {
    order.iter().map(|&i| calls[i].id).collect()
}

/// A write as the search sees it.
#[derive(Debug)]
pub(super) struct Call<'h> {
    pub(super) id: OpId,
    pub(super) write: Write,
    pub(super) data: Option<&'h [u8]>,
    invoke: u64,
    response: u64,
    /// None: unknown, any outcome fits.
    pub(super) expect: Option<&'h Outcome>,
    /// A read returned its data: it took effect, and is tried among the
    /// known calls, in invoke order, rather than last.
    observed: bool,
    /// For an unknown call no read saw: the one before it (by invoke) of
    /// the same kind. Such calls differ only in when they may start, so the
    /// search uses them in invoke order: an order that uses a later one
    /// instead of an earlier works as well with the swap, and trying both
    /// would multiply the orders searched by the ways to pick them.
    twin_before: Option<usize>,
}

/// The path's writes, by invoke time (`PathOps` keeps them so).
fn calls<'h>(history: &'h History, ops: &PathOps) -> Vec<Call<'h>> {
    let returned = ops
        .reads
        .iter()
        .filter_map(|id| match &history.entries[id.0].response {
            Some(Response {
                outcome: Outcome::Data { data, .. },
                ..
            }) => Some(data.as_slice()),
            _ => None,
        });
    let returned: HashSet<&[u8]> = returned.collect();
    let calls = ops.writes.iter().filter_map(|&id| {
        let entry = &history.entries[id.0];
        Some(Call {
            id,
            write: Write::of(&entry.op)?,
            data: entry.op.data(),
            invoke: entry.invoke,
            response: response_time(history, id),
            expect: entry.response.as_ref().map(|r| &r.outcome),
            observed: entry.op.data().is_some_and(|d| returned.contains(d)),
            twin_before: None,
        })
    });
    let mut calls: Vec<Call<'h>> = calls.collect();
    let mut last_of_kind: HashMap<Write, usize> = HashMap::new();
    for (i, call) in calls.iter_mut().enumerate() {
        if call.expect.is_none() && !call.observed {
            call.twin_before = last_of_kind.insert(call.write, i);
        }
    }
    calls
}

pub(super) enum Ended {
    /// An order, as indexes into the calls.
    Found(Vec<usize>),
    /// No order: the longest prefix the search placed.
    Exhausted(Vec<usize>),
    OutOfSteps,
}

/// The state at a point of the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Point {
    /// The node's version and the call whose data it holds; None = absent.
    node: Option<(i32, usize)>,
    /// The latest invoke among the calls that took effect so far: rule (c)
    /// keeps any read that returned before it away from here and after.
    shaped: u64,
}

/// What the memo files a node of the search under: everything but the
/// unknown calls placed (see `Search::remember`).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Key {
    node: Option<(i32, usize)>,
    known: (usize, Box<[u64]>),
}

#[derive(Debug)]
struct Reached {
    cursors: Box<[usize]>,
    unknown: Box<[u64]>,
}

impl Reached {
    /// Whether a node that reached `self` can do all that one that reached
    /// `other` can: its reads are placed as far (placing a read early
    /// never hurts, module docs) and it has the unknown calls left over.
    fn covers(&self, other: &Reached) -> bool {
        let reads = self.cursors.iter().zip(&other.cursors).all(|(a, b)| a >= b);
        reads
            && self
                .unknown
                .iter()
                .zip(&other.unknown)
                .all(|(a, b)| a & !b == 0)
    }
}

/// What to take back when the search backtracks over a call.
#[derive(Debug)]
struct Undo {
    call: usize,
    before: Point,
    /// The sessions whose next read was placed after the call.
    placed: Vec<usize>,
}

#[derive(Debug)]
struct Frame {
    options: Vec<usize>,
    next: usize,
}

#[derive(Debug)]
struct Search<'a, 'h> {
    calls: &'a [Call<'h>],
    sessions: Vec<Session<'h>>,
    budget: u64,
    steps: u64,
    at: Point,
    placed: Bits,
    /// Per session, how many of its reads are placed.
    cursors: Vec<usize>,
    /// Calls with a known outcome not placed yet. An unknown call may stay
    /// out: it never took effect.
    known_left: usize,
    trail: Vec<Undo>,
    /// Per key, the reads and unknown calls placed at nodes already
    /// reached.
    memo: HashMap<Key, Vec<Reached>>,
    /// The calls whose outcome is unknown.
    unknown: Bits,
    deepest: Vec<usize>,
}

impl<'a, 'h> Search<'a, 'h> {
    fn new(calls: &'a [Call<'h>], sessions: Vec<Session<'h>>, budget: u64) -> Self {
        Search {
            calls,
            cursors: vec![0; sessions.len()],
            known_left: calls.iter().filter(|c| c.expect.is_some()).count(),
            sessions,
            budget,
            steps: 0,
            at: Point {
                node: None,
                shaped: 0,
            },
            placed: Bits::new(calls.len()),
            trail: Vec::new(),
            memo: HashMap::new(),
            unknown: Bits::of(calls.iter().map(|c| c.expect.is_none())),
            deepest: Vec::new(),
        }
    }

    /// Depth first, with an explicit stack so a long history cannot
    /// overflow the thread's.
    fn run(mut self) -> Ended {
        // Reads placed at the start are never taken back: failing there is
        // failing everywhere.
        self.place_reads();
        if self.stuck() {
            return Ended::Exhausted(Vec::new());
        }
        let mut frames = vec![self.frame()];
        while let Some(frame) = frames.last_mut() {
            if self.finished() {
                return Ended::Found(self.trail.iter().map(|u| u.call).collect());
            }
            let Some(&call) = frame.options.get(frame.next) else {
                frames.pop();
                self.undo();
                continue;
            };
            frame.next += 1;
            self.steps += 1;
            if self.steps > self.budget {
                return Ended::OutOfSteps;
            }
            if self.step(call) {
                frames.push(self.frame());
            }
        }
        Ended::Exhausted(self.deepest)
    }

    fn finished(&self) -> bool {
        let reads_placed = self
            .sessions
            .iter()
            .zip(&self.cursors)
            .all(|(s, &c)| c == s.reads.len());
        self.known_left == 0 && reads_placed
    }

    fn version(&self) -> Option<i32> {
        self.at.node.map(|(version, _)| version)
    }

    /// Places call `i` next if it fits here and leads somewhere not seen.
    fn step(&mut self, i: usize) -> bool {
        let call = &self.calls[i];
        let (version, outcome) = call.write.apply(self.version());
        if call.expect.is_some_and(|e| *e != outcome) {
            return false;
        }
        let before = self.at;
        if took_effect(&outcome) {
            self.at = Point {
                node: version.map(|v| (v, i)),
                shaped: self.at.shaped.max(call.invoke),
            };
        }
        self.placed.set(i);
        if call.expect.is_some() {
            self.known_left -= 1;
        }
        let placed = self.place_reads();
        if self.stuck() || !self.remember() {
            self.retract(i, before, &placed);
            return false;
        }
        self.trail.push(Undo {
            call: i,
            before,
            placed,
        });
        if self.trail.len() > self.deepest.len() {
            self.deepest = self.trail.iter().map(|u| u.call).collect();
        }
        true
    }

    fn undo(&mut self) {
        if let Some(undo) = self.trail.pop() {
            self.retract(undo.call, undo.before, &undo.placed);
        }
    }

    fn retract(&mut self, call: usize, before: Point, placed: &[usize]) {
        for &session in placed {
            self.cursors[session] -= 1;
        }
        self.placed.clear(call);
        if self.calls[call].expect.is_some() {
            self.known_left += 1;
        }
        self.at = before;
    }

    /// Records this node unless one reached before is at least as good:
    /// same key, as many reads placed, and a subset of its unknown calls
    /// placed. Unknown calls left over only add ways to go on (Lowe's memo,
    /// with this dominance so that a cycle of unknown calls back to a state
    /// already seen stops at once).
    fn remember(&mut self) -> bool {
        let reached = Reached {
            cursors: self.cursors.clone().into_boxed_slice(),
            unknown: self.placed.and(&self.unknown),
        };
        let seen = self.memo.entry(self.key()).or_default();
        if seen.iter().any(|earlier| earlier.covers(&reached)) {
            return false;
        }
        seen.push(reached);
        true
    }

    /// The memo key keeps only what decides what can follow, so that
    /// equal states meet: the version; the writer only if a read returned
    /// its data (and there are reads); and not `shaped`, since a node that
    /// is not stuck has `shaped` below every read left, where its value
    /// makes no difference to them.
    fn key(&self) -> Key {
        let writer = |w: usize| {
            let seen = !self.sessions.is_empty() && self.calls[w].observed;
            if seen { w } else { usize::MAX }
        };
        Key {
            node: self.at.node.map(|(version, w)| (version, writer(w))),
            known: self.placed.or(&self.unknown).tail(),
        }
    }

    /// Places every session's next reads that fit here; returns the
    /// sessions advanced, one entry per read.
    fn place_reads(&mut self) -> Vec<usize> {
        let mut placed = Vec::new();
        for s in 0..self.sessions.len() {
            while self.sessions[s]
                .reads
                .get(self.cursors[s])
                .is_some_and(|r| self.fits(r))
            {
                self.cursors[s] += 1;
                placed.push(s);
            }
        }
        placed
    }

    fn fits(&self, read: &Read<'_>) -> bool {
        let shows = match (read.seen, self.at.node) {
            (None, None) => true,
            (Some((data, version)), Some((v, writer))) => {
                version == v && self.calls[writer].data == Some(data)
            }
            _ => false,
        };
        shows && read.response >= self.at.shaped && read.after.iter().all(|&w| self.placed.get(w))
    }

    /// Whether a session's next read can no longer be placed: `shaped`
    /// only grows along a branch, so rule (c) shuts it out for good, and a
    /// node whose writer is overwritten does not come back.
    fn stuck(&self) -> bool {
        let mut next = self.sessions.iter().zip(&self.cursors);
        next.any(|(session, &c)| {
            let too_new = session
                .min_response_from
                .get(c)
                .is_some_and(|&m| m < self.at.shaped);
            too_new || session.reads.get(c).is_some_and(|read| self.gone(read))
        })
    }

    fn gone(&self, read: &Read<'_>) -> bool {
        match read.source {
            Source::Open => false,
            Source::Nowhere => true,
            Source::Call(writer) => {
                self.placed.get(writer) && self.at.node.map(|(_, w)| w) != Some(writer)
            }
        }
    }

    fn frame(&self) -> Frame {
        Frame {
            options: self.options(),
            next: 0,
        }
    }

    /// The calls to try next, in the order to try them.
    fn options(&self) -> Vec<usize> {
        let mut options = self.movable();
        // A failed call that fits here changes nothing and no open call must
        // come before it, so placing it now rules out no order that places
        // it later (and a session's write placed early only helps its
        // reads): no need to branch (Lowe 2017, partial-order reduction).
        if let Some(&idle) = options.iter().find(|&&i| self.is_idle(i)) {
            return vec![idle];
        }
        // Known outcomes first: a call with an unknown outcome that no read
        // saw then lands last, or stays out, unless the others need it.
        options.sort_by_key(|&i| self.calls[i].expect.is_none() && !self.calls[i].observed);
        options
    }

    /// The candidates worth trying: an unknown call that would change
    /// nothing here is the same as one that never took effect, which
    /// leaving it out already covers.
    fn movable(&self) -> Vec<usize> {
        let mut movable = self.candidates();
        movable.retain(|&i| {
            let call = &self.calls[i];
            let twin_placed = call.twin_before.is_none_or(|t| self.placed.get(t));
            call.expect.is_some()
                || (twin_placed && took_effect(&call.write.apply(self.version()).1))
        });
        movable
    }

    /// Real time: a call can come next only if no open call returned before
    /// it was invoked. The calls are sorted by invoke, so these are a prefix
    /// of the open ones.
    fn candidates(&self) -> Vec<usize> {
        let open = (0..self.calls.len()).filter(|&i| !self.placed.get(i));
        let horizon = open
            .clone()
            .map(|i| self.calls[i].response)
            .min()
            .unwrap_or(u64::MAX);
        open.take_while(|&i| self.calls[i].invoke <= horizon)
            .collect()
    }

    fn is_idle(&self, i: usize) -> bool {
        let call = &self.calls[i];
        let (_, outcome) = call.write.apply(self.version());
        !took_effect(&outcome) && call.expect == Some(&outcome)
    }
}

/// Where a search of the writes alone got furthest: the version there and,
/// for each call that could come next in real time, the outcome it would
/// get there.
pub(super) fn stuck_at(
    calls: &[Call<'_>],
    deepest: &[usize],
) -> (Option<i32>, Vec<(usize, Outcome)>) {
    let mut search = Search::new(calls, Vec::new(), u64::MAX);
    for &call in deepest {
        // A prefix the search took before: each call fits again.
        search.step(call);
    }
    let version = search.version();
    let next = search.movable().into_iter();
    let next = next.map(|i| (i, calls[i].write.apply(version).1)).collect();
    (version, next)
}
