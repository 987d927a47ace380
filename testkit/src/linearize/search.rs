//! The search for an order of one path's writes: Wing & Gong's depth-first
//! search, with Lowe's memo of (calls placed, state) so a state reached again
//! by another order is not explored twice. It can also place the path's
//! reads as it goes (module docs, rules (a) to (c)): each read takes the
//! first point that fits, which never hurts the reads after it, so reads add
//! no branching; they only prune.

use std::collections::{HashMap, HashSet};

use super::{
    History, Linearization, OpId, Outcome, PathOps, SessionOps, Violation, Write, reads, report,
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
    data: Option<&'h [u8]>,
    invoke: u64,
    response: u64,
    /// None: unknown, any outcome fits.
    pub(super) expect: Option<&'h Outcome>,
}

/// The path's writes, by invoke time (`PathOps` keeps them so).
fn calls<'h>(history: &'h History, ops: &PathOps) -> Vec<Call<'h>> {
    let calls = ops.writes.iter().filter_map(|&id| {
        let entry = &history.entries[id.0];
        Some(Call {
            id,
            write: Write::of(&entry.op)?,
            data: entry.op.data(),
            invoke: entry.invoke,
            response: response_time(history, id),
            expect: entry.response.as_ref().map(|r| &r.outcome),
        })
    });
    calls.collect()
}

/// One session's reads of the path, in the order it sent them.
#[derive(Debug)]
struct Session<'h> {
    reads: Vec<Read<'h>>,
    /// `min_response_from[i]`: the earliest response among `reads[i..]`.
    min_response_from: Vec<u64>,
}

#[derive(Debug)]
struct Read<'h> {
    /// The node it returned: data and version, or None for absent.
    seen: Option<(&'h [u8], i32)>,
    response: u64,
    /// Rule (a): the session's writes that completed before this read was
    /// invoked, as indexes into the calls; only the latest in real time,
    /// since the others must be placed before them anyway.
    after: Vec<usize>,
}

fn sessions<'h>(history: &'h History, ops: &PathOps, calls: &[Call<'h>]) -> Vec<Session<'h>> {
    let index: HashMap<OpId, usize> = calls.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let sessions = ops.sessions(history).into_values();
    sessions.map(|ops| session(history, &ops, &index)).collect()
}

fn session<'h>(
    history: &'h History,
    ops: &SessionOps,
    index: &HashMap<OpId, usize>,
) -> Session<'h> {
    let mut reads = Vec::new();
    for &id in &ops.reads {
        let entry = &history.entries[id.0];
        let Some(response) = &entry.response else {
            continue;
        };
        let seen = match &response.outcome {
            Outcome::Data { data, version } => Some((data.as_slice(), *version)),
            _ => None,
        };
        // `ops.writes` is sorted by response time.
        let finished = ops
            .writes
            .iter()
            .take_while(|w| response_time(history, **w) < entry.invoke);
        let latest_invoke = finished.clone().map(|w| history.entries[w.0].invoke).max();
        let latest = finished.filter(|w| Some(response_time(history, **w)) >= latest_invoke);
        let after = latest.filter_map(|w| index.get(w).copied()).collect();
        reads.push(Read {
            seen,
            response: response.time,
            after,
        });
    }
    let mut min_response_from = vec![u64::MAX; reads.len() + 1];
    for i in (0..reads.len()).rev() {
        min_response_from[i] = min_response_from[i + 1].min(reads[i].response);
    }
    Session {
        reads,
        min_response_from,
    }
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

/// What the memo remembers of a node of the search.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Key {
    at: Point,
    cursors: Box<[usize]>,
    placed: (usize, Box<[u64]>),
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
    trail: Vec<Undo>,
    memo: HashSet<Key>,
    deepest: Vec<usize>,
}

impl<'a, 'h> Search<'a, 'h> {
    fn new(calls: &'a [Call<'h>], sessions: Vec<Session<'h>>, budget: u64) -> Self {
        Search {
            calls,
            cursors: vec![0; sessions.len()],
            sessions,
            budget,
            steps: 0,
            at: Point {
                node: None,
                shaped: 0,
            },
            placed: Bits::new(calls.len()),
            trail: Vec::new(),
            memo: HashSet::new(),
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
        self.trail.len() == self.calls.len() && reads_placed
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
        let placed = self.place_reads();
        if self.stuck() || !self.memo.insert(self.key()) {
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
        self.at = before;
    }

    fn key(&self) -> Key {
        // Without reads, only the version decides what can follow; keeping
        // the writer and `shaped` would tell equal states apart.
        let at = if self.sessions.is_empty() {
            Point {
                node: self.at.node.map(|(version, _)| (version, 0)),
                shaped: 0,
            }
        } else {
            self.at
        };
        Key {
            at,
            cursors: self.cursors.clone().into_boxed_slice(),
            placed: self.placed.tail(),
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

    /// Whether a read left can no longer be placed: `shaped` only grows
    /// along a branch, so rule (c) shuts it out for good.
    fn stuck(&self) -> bool {
        let sessions = self.sessions.iter().zip(&self.cursors);
        sessions.into_iter().any(|(s, &c)| {
            s.min_response_from
                .get(c)
                .is_some_and(|&m| m < self.at.shaped)
        })
    }

    fn frame(&self) -> Frame {
        Frame {
            options: self.options(),
            next: 0,
        }
    }

    /// The calls to try next, in the order to try them.
    fn options(&self) -> Vec<usize> {
        let mut options = self.candidates();
        // A failed call that fits here changes nothing and no open call must
        // come before it, so placing it now rules out no order that places
        // it later (and a session's write placed early only helps its
        // reads): no need to branch (Lowe 2017, partial-order reduction).
        if let Some(&idle) = options.iter().find(|&&i| self.is_idle(i)) {
            return vec![idle];
        }
        // Known outcomes first: a call with an unknown outcome then lands
        // last, as if it never took effect, unless the others need it.
        options.sort_by_key(|&i| self.calls[i].expect.is_none());
        options
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
    let next = search.candidates().into_iter();
    let next = next.map(|i| (i, calls[i].write.apply(version).1)).collect();
    (version, next)
}

/// A fixed-size set of call indexes.
#[derive(Debug, Clone)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }

    fn get(&self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 == 1
    }

    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }

    /// The words after the leading full ones, and how many those were:
    /// placed calls are mostly a prefix, so memo keys stay short.
    fn tail(&self) -> (usize, Box<[u64]>) {
        let full = self.0.iter().take_while(|&&w| w == u64::MAX).count();
        let used = self
            .0
            .iter()
            .rposition(|&w| w != 0)
            .map_or(0, |last| last + 1);
        (full, self.0[full..used.max(full)].into())
    }
}
