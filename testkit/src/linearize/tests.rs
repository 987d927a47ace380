//! Hand-written histories: legal ones the checker must accept, and one per
//! kind of bug it must catch.

use super::*;

const PATH: &str = "/p";

fn create(data: &str) -> Op {
    Op::Create {
        path: PATH.to_owned(),
        data: data.into(),
    }
}

fn set(data: &str, version: Option<i32>) -> Op {
    Op::SetData {
        path: PATH.to_owned(),
        data: data.into(),
        version,
    }
}

fn delete(version: Option<i32>) -> Op {
    Op::Delete {
        path: PATH.to_owned(),
        version,
    }
}

fn get() -> Op {
    Op::GetData {
        path: PATH.to_owned(),
    }
}

fn read(data: &str, version: i32) -> Outcome {
    Outcome::Data {
        data: data.into(),
        version,
    }
}

fn set_ok(version: i32) -> Outcome {
    Outcome::Set { version }
}

/// Records a call invoked at `span.0` and answered at `span.1`.
fn call(h: &mut History, session: u64, span: (u64, u64), op: Op, outcome: Outcome) -> OpId {
    let pending = h.invoke(session, span.0, op);
    let id = pending.id();
    h.complete(pending, span.1, outcome);
    id
}

/// Records a call whose outcome is unknown (connection loss).
fn lost(h: &mut History, session: u64, invoke: u64, op: Op) -> OpId {
    h.invoke(session, invoke, op).id()
}

fn check(h: &History) -> Result<Linearization, Violation> {
    let linearization = check_writes(h)?;
    check_reads(h, &linearization)?;
    Ok(linearization)
}

fn accepted(h: &History) -> Linearization {
    check(h).unwrap_or_else(|v| panic!("a legal history was rejected:\n{v}"))
}

fn read_rule(h: &History) -> (ReadRule, Option<OpId>) {
    match check(h) {
        Err(Violation::Read { rule, cause, .. }) => (rule, cause.map(|c| c.id)),
        other => panic!("expected a read violation, got {other:?}"),
    }
}

#[test]
fn empty_history_and_reads_of_a_path_never_written_pass() {
    assert_eq!(accepted(&History::new()), Linearization::default());
    let mut h = History::new();
    call(&mut h, 1, (0, 1), get(), Outcome::NoNode);
    accepted(&h);
}

#[test]
fn concurrent_set_data_linearize_in_either_order() {
    for (b_version, c_version) in [(2, 1), (1, 2)] {
        let mut h = History::new();
        let a = call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
        let b = call(&mut h, 1, (2, 10), set("b", None), set_ok(b_version));
        let c = call(&mut h, 2, (3, 9), set("c", None), set_ok(c_version));
        let want = if b_version == 1 { [a, b, c] } else { [a, c, b] };
        assert_eq!(accepted(&h).order(PATH), want);
    }
}

#[test]
fn racing_creates_one_wins_whichever_was_invoked_first() {
    for first_wins in [true, false] {
        let mut h = History::new();
        let (first, second) = if first_wins {
            (Outcome::Ok, Outcome::NodeExists)
        } else {
            (Outcome::NodeExists, Outcome::Ok)
        };
        let a = call(&mut h, 1, (0, 10), create("a"), first);
        let b = call(&mut h, 2, (1, 5), create("b"), second);
        let want = if first_wins { [a, b] } else { [b, a] };
        assert_eq!(accepted(&h).order(PATH), want);
    }
}

#[test]
fn bad_version_fits_after_a_concurrent_set_data() {
    let mut h = History::new();
    let a = call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    let b = call(&mut h, 1, (2, 10), set("b", Some(0)), Outcome::BadVersion);
    let c = call(&mut h, 2, (3, 5), set("c", Some(0)), set_ok(1));
    assert_eq!(accepted(&h).order(PATH), [a, c, b]);
}

#[test]
fn bad_version_with_nothing_concurrent_is_caught() {
    let mut h = History::new();
    call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    call(&mut h, 1, (2, 3), set("b", Some(0)), Outcome::BadVersion);
    assert!(matches!(check(&h), Err(Violation::Writes { .. })));
}

#[test]
fn unknown_write_that_took_effect() {
    let mut h = History::new();
    call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    lost(&mut h, 1, 2, set("b", None));
    // Version 2 counts the lost setData.
    call(&mut h, 2, (5, 6), set("c", None), set_ok(2));
    call(&mut h, 2, (7, 8), get(), read("c", 2));
    accepted(&h);

    // Seen by a read only.
    let mut h = History::new();
    call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    lost(&mut h, 1, 2, set("b", None));
    call(&mut h, 2, (5, 6), get(), read("b", 1));
    accepted(&h);
}

#[test]
fn unknown_write_that_never_took_effect() {
    let mut h = History::new();
    lost(&mut h, 1, 0, create("x"));
    call(&mut h, 2, (5, 6), get(), Outcome::NoNode);
    let a = call(&mut h, 2, (7, 8), create("a"), Outcome::Ok);
    lost(&mut h, 1, 9, set("b", Some(0)));
    let c = call(&mut h, 2, (10, 11), set("c", None), set_ok(1));
    call(&mut h, 2, (12, 13), get(), read("c", 1));
    // Neither lost write is in the order: they never took effect.
    assert_eq!(accepted(&h).order(PATH), [a, c]);
}

#[test]
fn many_unknown_writes_do_not_blow_up_the_search() {
    // 60 lost setData calls, alike but for their data: any 30 of them could
    // make version 31, and proving that nothing makes version 100 visits
    // each count once, not each subset.
    for (version, legal) in [(31, true), (100, false)] {
        let mut h = History::new();
        call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
        for i in 0..60 {
            lost(&mut h, 2 + i, 2, set(&format!("u{i}"), None));
        }
        call(&mut h, 1, (10, 11), set("b", None), set_ok(version));
        let result = check_writes_within(&h, 10_000);
        match result {
            Ok(_) => assert!(legal),
            Err(Violation::Writes { .. }) => assert!(!legal),
            Err(other) => panic!("{other}"),
        }
    }
}

#[test]
fn an_unknown_write_seen_by_a_read_is_placed_where_the_read_needs_it() {
    // The writes alone put the lost setData last, where it would show a
    // write invoked after the read returned; the reads pull it back.
    let mut h = History::new();
    let a = call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    let x = lost(&mut h, 2, 2, set("x", None));
    call(&mut h, 1, (3, 4), get(), read("x", 1));
    let d = call(&mut h, 1, (5, 6), delete(None), Outcome::Ok);
    let b = call(&mut h, 1, (7, 8), create("b"), Outcome::Ok);
    assert_eq!(accepted(&h).order(PATH), [a, x, d, b]);
}

#[test]
fn reads_choose_between_concurrent_create_delete_cycles() {
    // Either cycle may come first as far as the writes go; session 3 saw
    // b's before a's.
    let mut h = History::new();
    let a = call(&mut h, 1, (0, 10), create("a"), Outcome::Ok);
    call(&mut h, 1, (0, 10), delete(None), Outcome::Ok);
    let b = call(&mut h, 2, (0, 10), create("b"), Outcome::Ok);
    call(&mut h, 2, (0, 10), delete(None), Outcome::Ok);
    call(&mut h, 3, (1, 2), get(), read("b", 0));
    call(&mut h, 3, (3, 4), get(), read("a", 0));
    let order = accepted(&h).order(PATH).to_vec();
    let at = |id| order.iter().position(|&o| o == id);
    assert!(at(b) < at(a), "{order:?}");
}

#[test]
fn stale_reads_of_other_sessions_are_legal() {
    let mut h = History::new();
    call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    call(&mut h, 1, (2, 3), set("b", None), set_ok(1));
    // Session 2's server lags: it still shows the create.
    call(&mut h, 2, (4, 5), get(), read("a", 0));
    call(&mut h, 2, (6, 7), get(), read("b", 1));
    call(&mut h, 1, (8, 9), get(), read("b", 1));
    accepted(&h);
}

#[test]
fn an_absent_read_takes_the_earliest_absent_interval_its_rules_allow() {
    // Session 2's first read may show the node before the create or after
    // the delete; taking the earlier keeps its next read, of the create,
    // legal.
    let mut h = History::new();
    call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    let d = call(&mut h, 1, (2, 3), delete(None), Outcome::Ok);
    call(&mut h, 1, (4, 5), get(), Outcome::NoNode);
    call(&mut h, 2, (4, 5), get(), Outcome::NoNode);
    call(&mut h, 2, (6, 7), get(), read("a", 0));
    accepted(&h);
    // Session 1's own delete rules out the interval before the create.
    call(&mut h, 1, (8, 9), get(), read("a", 0));
    assert_eq!(read_rule(&h), (ReadRule::OlderThanOwnWrite, Some(d)));
}

#[test]
fn lost_acknowledged_write_read_by_its_own_session() {
    let mut h = History::new();
    call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    let b = call(&mut h, 1, (2, 3), set("b", None), set_ok(1));
    call(&mut h, 1, (4, 5), get(), read("a", 0));
    assert!(check_writes(&h).is_ok());
    assert_eq!(read_rule(&h), (ReadRule::OlderThanOwnWrite, Some(b)));
}

#[test]
fn lost_acknowledged_write_overwritten_at_the_same_version() {
    let mut h = History::new();
    call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    call(&mut h, 1, (2, 3), set("b", None), set_ok(1));
    call(&mut h, 2, (4, 5), set("c", None), set_ok(1));
    assert!(matches!(check_writes(&h), Err(Violation::Writes { .. })));
}

#[test]
fn two_creates_ok_without_a_delete_between() {
    let mut h = History::new();
    call(&mut h, 1, (0, 2), create("a"), Outcome::Ok);
    call(&mut h, 2, (1, 3), create("b"), Outcome::Ok);
    let violation = check_writes(&h).expect_err("two creates cannot both succeed");
    let Violation::Writes { longest, next, .. } = &violation else {
        panic!("{violation:?}");
    };
    assert_eq!(longest.len(), 1);
    assert_eq!(next[0].1, Outcome::NodeExists);
    let text = violation.to_string();
    for needle in [
        "/p",
        "session 2 [1, 3] create(/p, \"b\") -> ok",
        "here it would get NodeExists",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
}

#[test]
fn a_skipped_version_is_caught() {
    let mut h = History::new();
    call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    call(&mut h, 1, (2, 3), set("b", None), set_ok(2));
    let text = check_writes(&h)
        .expect_err("version 1 was skipped")
        .to_string();
    assert!(text.contains("here it would get ok, version 1"), "{text}");
}

#[test]
fn a_read_of_data_never_written() {
    let mut h = History::new();
    call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    call(&mut h, 2, (2, 3), get(), read("z", 0));
    assert_eq!(read_rule(&h), (ReadRule::NeverWritten, None));

    // Right data, wrong version.
    let mut h = History::new();
    call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    call(&mut h, 2, (2, 3), get(), read("a", 1));
    assert_eq!(read_rule(&h), (ReadRule::NeverWritten, None));
}

#[test]
fn monotonic_reads_never_go_back() {
    let mut h = History::new();
    call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    call(&mut h, 1, (2, 3), set("b", None), set_ok(1));
    let first = call(&mut h, 2, (4, 5), get(), read("b", 1));
    call(&mut h, 2, (6, 7), get(), read("a", 0));
    assert_eq!(read_rule(&h), (ReadRule::Backwards, Some(first)));
}

#[test]
fn a_read_from_the_future() {
    let mut h = History::new();
    call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    call(&mut h, 2, (2, 3), get(), read("b", 1));
    let b = call(&mut h, 1, (10, 11), set("b", None), set_ok(1));
    assert_eq!(read_rule(&h), (ReadRule::Future, Some(b)));
}

#[test]
fn read_violation_names_the_path_the_ops_and_their_times() {
    let mut h = History::new();
    call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    call(&mut h, 1, (2, 3), set("b", None), set_ok(1));
    call(&mut h, 1, (4, 5), get(), read("a", 0));
    let text = check(&h).expect_err("lost write").to_string();
    let want = "read of /p breaks (a) read-your-writes\n    \
                #2 session 1 [4, 5] getData(/p) -> \"a\" at version 0\n  \
                which is older than this write of its session, completed before the read was invoked:\n    \
                #1 session 1 [2, 3] setData(/p, \"b\", any version) -> ok, version 1";
    assert_eq!(text, want);
}

#[test]
fn paths_are_checked_apart() {
    let mut h = History::new();
    let a = call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    let q = Op::Create {
        path: "/q".to_owned(),
        data: b"q".to_vec(),
    };
    let b = call(&mut h, 2, (0, 1), q, Outcome::Ok);
    let linearization = accepted(&h);
    assert_eq!(linearization.paths().collect::<Vec<_>>(), ["/p", "/q"]);
    assert_eq!(
        (linearization.order("/p"), linearization.order("/q")),
        (&[a][..], &[b][..])
    );
}

#[test]
fn malformed_histories_are_errors_not_panics() {
    let mut h = History::new();
    call(&mut h, 1, (5, 4), create("a"), Outcome::Ok);
    assert!(matches!(check_writes(&h), Err(Violation::Malformed { .. })));

    let mut h = History::new();
    call(&mut h, 1, (0, 1), get(), set_ok(1));
    assert!(matches!(
        check_reads(&h, &Linearization::default()),
        Err(Violation::Malformed { .. })
    ));

    // A linearization made for another history.
    let mut other = History::new();
    call(&mut other, 1, (0, 1), create("a"), Outcome::Ok);
    call(&mut other, 1, (2, 3), delete(None), Outcome::Ok);
    let linearization = accepted(&other);
    let mut h = History::new();
    call(&mut h, 1, (0, 1), create("a"), Outcome::Ok);
    assert!(matches!(
        check_reads(&h, &linearization),
        Err(Violation::Malformed { .. })
    ));
    assert!(matches!(
        check_reads(&other, &Linearization::default()),
        Err(Violation::Malformed { .. })
    ));
}

#[test]
fn out_of_steps_is_inconclusive() {
    let mut h = History::new();
    for i in 0..4 {
        call(
            &mut h,
            i,
            (0, 10),
            set(&format!("d{i}"), None),
            Outcome::NoNode,
        );
    }
    call(&mut h, 9, (11, 12), create("a"), Outcome::Ok);
    let result = check_writes_within(&h, 2);
    assert!(
        matches!(result, Err(Violation::Inconclusive { suspect: None, .. })),
        "{result:?}"
    );
}

#[test]
fn a_read_search_out_of_steps_reports_its_suspect() {
    // The writes alone take 4 steps; no order explains session 3's reads,
    // which the second search cannot tell within those 4 steps.
    let mut h = History::new();
    call(&mut h, 1, (0, 10), create("a"), Outcome::Ok);
    call(&mut h, 1, (0, 10), delete(None), Outcome::Ok);
    call(&mut h, 2, (0, 10), create("b"), Outcome::Ok);
    call(&mut h, 2, (0, 10), delete(None), Outcome::Ok);
    call(&mut h, 3, (1, 2), get(), read("b", 0));
    call(&mut h, 3, (3, 4), get(), read("a", 0));
    call(&mut h, 3, (5, 6), get(), read("b", 0));
    let linearization = check_writes_within(&h, 4).expect("the writes alone are linearizable");
    let result = check_reads(&h, &linearization);
    let Err(Violation::Inconclusive {
        suspect: Some(suspect),
        ..
    }) = &result
    else {
        panic!("{result:?}");
    };
    assert!(matches!(**suspect, Violation::Read { .. }), "{suspect:?}");
    // With steps enough, the violation is proven.
    assert!(matches!(check(&h), Err(Violation::Read { .. })));
}
