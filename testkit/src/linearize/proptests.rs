//! Property tests: a real sequential execution, with each op's interval
//! widened around the point where it ran, is legal, so the checker must
//! accept it; a history whose result is changed to one no execution could
//! give must be rejected.

use proptest::prelude::*;
use proptest::sample::Index;

use super::*;

/// What generated histories look like.
#[derive(Debug, Clone, Copy)]
struct Shape {
    sessions: u64,
    paths: usize,
    /// An interval reaches up to this far on each side of the point where
    /// the op ran; points are `SPACING` apart.
    widen_max: u64,
    ops_min: usize,
    ops_max: usize,
}

const SPACING: u64 = 10;

/// For every run: about 8 ops overlap each one.
const SMALL: Shape = Shape {
    sessions: 4,
    paths: 2,
    widen_max: 40,
    ops_min: 0,
    ops_max: 80,
};

/// For the mutations: long enough to hold what they change.
const MUTATED: Shape = Shape {
    ops_min: 20,
    ..SMALL
};

/// For changes to the search (`cargo test -p zk-testkit --release --
/// --ignored`): about 30 ops overlap each one, all on one path.
const LARGE: Shape = Shape {
    sessions: 10,
    paths: 1,
    widen_max: 150,
    ops_min: 400,
    ops_max: 800,
};

#[derive(Debug, Clone, Copy)]
enum Kind {
    Create,
    Set(Wanted),
    Delete(Wanted),
    Get,
}

/// The version a conditional write asks for.
#[derive(Debug, Clone, Copy)]
enum Wanted {
    Any,
    Current,
    Wrong,
}

#[derive(Debug, Clone, Copy)]
enum Fate {
    Answered,
    /// It ran, but the answer was lost.
    Lost,
    /// It never reached a server.
    Dropped,
}

#[derive(Debug, Clone)]
struct Step {
    session: u64,
    path: usize,
    kind: Kind,
    /// How far the interval reaches before and after the execution point.
    widen: (u64, u64),
    fate: Fate,
}

fn steps(shape: Shape) -> impl Strategy<Value = Vec<Step>> {
    let wanted = prop_oneof![
        Just(Wanted::Any),
        Just(Wanted::Current),
        Just(Wanted::Wrong)
    ];
    let kind = prop_oneof![
        Just(Kind::Create),
        wanted.clone().prop_map(Kind::Set),
        wanted.prop_map(Kind::Delete),
        Just(Kind::Get),
    ];
    let fate =
        prop_oneof![8 => Just(Fate::Answered), 1 => Just(Fate::Lost), 1 => Just(Fate::Dropped)];
    let widen = (0..=shape.widen_max, 0..=shape.widen_max);
    let step = (0..shape.sessions, 0..shape.paths, kind, widen, fate);
    let step = step.prop_map(|(session, path, kind, widen, fate)| Step {
        session,
        path,
        kind,
        widen,
        fate,
    });
    prop::collection::vec(step, shape.ops_min..shape.ops_max)
}

/// A path's node in the execution: data and version.
type Node = Option<(Vec<u8>, i32)>;

/// The history of `steps` run one at a time, and per entry the node a
/// getData would return right after it (Some only for a create or setData
/// that took effect).
fn execute(shape: Shape, steps: &[Step]) -> (History, Vec<Option<Outcome>>) {
    let mut nodes: Vec<Node> = vec![None; shape.paths];
    let mut last_invoke = vec![0; shape.sessions as usize];
    let mut history = History::new();
    let mut produced = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let point = shape.widen_max + SPACING * i as u64;
        // A session's ops run in the order it sent them (ZooKeeper serves a
        // session in order), so its invokes never go back.
        let session = step.session as usize;
        let invoke = (point - step.widen.0).max(last_invoke[session]);
        last_invoke[session] = invoke;
        let node = &mut nodes[step.path];
        let op = op_of(step, format!("w{i}").into_bytes(), node);
        let pending = history.invoke(step.session, invoke, op.clone());
        if matches!(step.fate, Fate::Dropped) {
            produced.push(None);
            continue;
        }
        let outcome = run(node, &op);
        let wrote = matches!(op, Op::Create { .. } | Op::SetData { .. });
        let shows = node.as_ref().filter(|_| wrote && took_effect(&outcome));
        produced.push(shows.map(|(data, version)| Outcome::Data {
            data: data.clone(),
            version: *version,
        }));
        if matches!(step.fate, Fate::Answered) {
            history.complete(pending, point + step.widen.1, outcome);
        }
    }
    (history, produced)
}

fn op_of(step: &Step, data: Vec<u8>, node: &Node) -> Op {
    let path = format!("/p{}", step.path);
    let version = |wanted| {
        let current = node.as_ref().map_or(0, |(_, v)| *v);
        match wanted {
            Wanted::Any => None,
            Wanted::Current => Some(current),
            Wanted::Wrong => Some(current + 1),
        }
    };
    match step.kind {
        Kind::Create => Op::Create { path, data },
        Kind::Set(wanted) => Op::SetData {
            path,
            data,
            version: version(wanted),
        },
        Kind::Delete(wanted) => Op::Delete {
            path,
            version: version(wanted),
        },
        Kind::Get => Op::GetData { path },
    }
}

/// ZooKeeper's rules, written apart from the checker's model so that a
/// mistake in one is not repeated in the other.
fn run(node: &mut Node, op: &Op) -> Outcome {
    let current = node.as_ref().map(|(_, v)| *v);
    match (op, current) {
        (Op::Create { data, .. }, None) => {
            *node = Some((data.clone(), 0));
            Outcome::Ok
        }
        (Op::Create { .. }, Some(_)) => Outcome::NodeExists,
        (Op::SetData { .. } | Op::Delete { .. } | Op::GetData { .. }, None) => Outcome::NoNode,
        (
            Op::SetData {
                version: Some(v), ..
            }
            | Op::Delete {
                version: Some(v), ..
            },
            Some(c),
        ) if *v != c => Outcome::BadVersion,
        (Op::SetData { data, .. }, Some(c)) => {
            *node = Some((data.clone(), c + 1));
            Outcome::Set { version: c + 1 }
        }
        (Op::Delete { .. }, Some(_)) => {
            *node = None;
            Outcome::Ok
        }
        (Op::GetData { .. }, Some(c)) => Outcome::Data {
            data: node.as_ref().map(|(d, _)| d.clone()).unwrap_or_default(),
            version: c,
        },
    }
}

fn check(history: &History) -> Result<(), Violation> {
    let linearization = check_writes(history)?;
    check_reads(history, &linearization)
}

/// Entries whose outcome matches `want`.
fn completed(history: &History, want: impl Fn(&Entry, &Outcome) -> bool) -> Vec<usize> {
    let entries = history.entries().iter().enumerate();
    let matching =
        entries.filter(|(_, e)| e.response.as_ref().is_some_and(|r| want(e, &r.outcome)));
    matching.map(|(i, _)| i).collect()
}

fn set_outcome(history: &mut History, index: usize, outcome: Outcome) {
    if let Some(response) = &mut history.entries[index].response {
        response.outcome = outcome;
    }
}

/// Pairs (read, write) on one path where the write, which took effect,
/// was invoked after the read returned.
fn future_reads(history: &History, produced: &[Option<Outcome>]) -> Vec<(usize, usize)> {
    let entries = history.entries();
    let mut pairs = Vec::new();
    for r in completed(history, |e, _| matches!(e.op, Op::GetData { .. })) {
        let returned = entries[r].response.as_ref().map_or(0, |x| x.time);
        for (w, shows) in produced.iter().enumerate() {
            let later =
                entries[w].invoke > returned && entries[w].op.path() == entries[r].op.path();
            if shows.is_some() && later {
                pairs.push((r, w));
            }
        }
    }
    pairs
}

/// Checks that the checker accepts the execution of `steps`, and that the
/// order they ran in explains every read.
fn accepts(shape: Shape, steps: &[Step]) -> Result<(), TestCaseError> {
    let (history, _) = execute(shape, steps);
    if let Err(violation) = check(&history) {
        return Err(TestCaseError::fail(format!(
            "a legal history was rejected:\n{violation}"
        )));
    }
    let mut ran = Linearization::default();
    let ran_writes =
        history.entries().iter().enumerate().filter(|(i, e)| {
            Write::of(&e.op).is_some() && !matches!(steps[*i].fate, Fate::Dropped)
        });
    for (i, entry) in ran_writes {
        ran.orders
            .entry(entry.op.path().to_owned())
            .or_default()
            .push(OpId(i));
    }
    if let Err(violation) = check_reads(&history, &ran) {
        return Err(TestCaseError::fail(format!(
            "the order they ran in was rejected:\n{violation}"
        )));
    }
    Ok(())
}

proptest! {
    #[test]
    fn accepts_a_sequential_execution(steps in steps(SMALL)) {
        accepts(SMALL, &steps)?;
    }

    #[test]
    fn rejects_a_version_no_order_reaches(steps in steps(MUTATED), pick in any::<Index>()) {
        let (mut history, _) = execute(MUTATED, &steps);
        let sets = completed(&history, |_, o| matches!(o, Outcome::Set { .. }));
        prop_assume!(!sets.is_empty());
        // Each setData that takes effect adds one, and there are fewer
        // setData calls than entries.
        let version = history.entries().len() as i32 + 1;
        set_outcome(&mut history, *pick.get(&sets), Outcome::Set { version });
        let result = check_writes(&history);
        let rejected = matches!(result, Err(Violation::Writes { .. }));
        prop_assert!(rejected, "{:?}", result);
    }

    #[test]
    fn rejects_a_read_of_data_never_written(steps in steps(MUTATED), pick in any::<Index>()) {
        let (mut history, _) = execute(MUTATED, &steps);
        let reads = completed(&history, |e, _| matches!(e.op, Op::GetData { .. }));
        prop_assume!(!reads.is_empty());
        let never = Outcome::Data { data: b"never".to_vec(), version: 0 };
        set_outcome(&mut history, *pick.get(&reads), never);
        let violation = check(&history).expect_err("read of data never written");
        let rejected = matches!(violation, Violation::Read { .. });
        prop_assert!(rejected, "{}", violation);
    }

    #[test]
    fn rejects_a_read_from_the_future(steps in steps(MUTATED), pick in any::<Index>()) {
        let (mut history, produced) = execute(MUTATED, &steps);
        let pairs = future_reads(&history, &produced);
        prop_assume!(!pairs.is_empty());
        let (read, write) = *pick.get(&pairs);
        let future = produced[write].clone().unwrap_or(Outcome::NoNode);
        set_outcome(&mut history, read, future);
        let violation = check(&history).expect_err("read from the future");
        let rejected = matches!(violation, Violation::Read { .. });
        prop_assert!(rejected, "{}", violation);
    }
}

proptest! {
    // A fixed seed. About one generated history in 700 is beyond the
    // search's step budget (the limit the module docs give) and ends
    // inconclusive, so a random seed failed the suite about one run in
    // eight, and shrinking such a case takes tens of minutes.
    // PROPTEST_RNG_SEED=<n> explores others.
    #![proptest_config(ProptestConfig {
        cases: 100,
        rng_seed: proptest::test_runner::RngSeed::Fixed(
            std::env::var("PROPTEST_RNG_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1)
        ),
        ..ProptestConfig::default()
    })]

    #[test]
    #[ignore = "slow: tens of seconds in release"]
    fn accepts_a_long_concurrent_execution(steps in steps(LARGE)) {
        accepts(LARGE, &steps)?;
    }
}
