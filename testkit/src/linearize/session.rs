//! The reads the search places, per session (rules (a) to (c) of the
//! module docs), prepared once per path.

use std::collections::HashMap;

use super::search::Call;
use super::{History, OpId, Outcome, PathOps, SessionOps, response_time};

/// One session's reads of the path, in the order it sent them.
#[derive(Debug)]
pub(super) struct Session<'h> {
    pub(super) reads: Vec<Read<'h>>,
    /// `min_response_from[i]`: the earliest response among `reads[i..]`.
    pub(super) min_response_from: Vec<u64>,
}

#[derive(Debug)]
pub(super) struct Read<'h> {
    /// The node it returned: data and version, or None for absent.
    pub(super) seen: Option<(&'h [u8], i32)>,
    pub(super) source: Source,
    pub(super) response: u64,
    /// Rule (a): the session's writes that completed before this read was
    /// invoked, as indexes into the calls; only the latest in real time,
    /// since the others must be placed before them anyway.
    pub(super) after: Vec<usize>,
}

/// Which call wrote the node a read returned. Tests write unique data, so
/// there is at most one, and its node cannot come back once overwritten.
#[derive(Debug, Clone, Copy)]
pub(super) enum Source {
    /// Absent, or data that several calls wrote: nothing to conclude.
    Open,
    /// No call wrote it: the read can never be placed.
    Nowhere,
    Call(usize),
}

/// The calls of a path, looked up by id and by the data they write.
struct Index<'h> {
    by_id: HashMap<OpId, usize>,
    by_data: HashMap<&'h [u8], Vec<usize>>,
}

pub(super) fn sessions<'h>(
    history: &'h History,
    ops: &PathOps,
    calls: &[Call<'h>],
) -> Vec<Session<'h>> {
    let mut index = Index {
        by_id: HashMap::new(),
        by_data: HashMap::new(),
    };
    for (i, call) in calls.iter().enumerate() {
        index.by_id.insert(call.id, i);
        if let Some(data) = call.data {
            index.by_data.entry(data).or_default().push(i);
        }
    }
    let sessions = ops.sessions(history).into_values();
    sessions.map(|ops| session(history, &ops, &index)).collect()
}

fn source(seen: Option<(&[u8], i32)>, index: &Index<'_>) -> Source {
    let Some((data, _)) = seen else {
        return Source::Open;
    };
    match index.by_data.get(data).map(Vec::as_slice) {
        None | Some([]) => Source::Nowhere,
        Some(&[call]) => Source::Call(call),
        Some(_) => Source::Open,
    }
}

fn session<'h>(history: &'h History, ops: &SessionOps, index: &Index<'h>) -> Session<'h> {
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
        let after = latest.filter_map(|w| index.by_id.get(w).copied()).collect();
        reads.push(Read {
            seen,
            source: source(seen, index),
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
