//! Every workload of zk-bench against a real server, briefly: one JSON
//! line with operations, no errors, latency percentiles and the CPU of
//! the watched process.

use std::process::Command;

use serde_json::Value;
use zk_testing::TestingServer;

fn bench(server: &TestingServer, args: &[&str]) -> Value {
    let pid = std::process::id().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_zk-bench"))
        .args(["--servers", &server.connect_string(), "--watch-pids", &pid])
        .args([
            "--sessions",
            "2",
            "--inflight",
            "4",
            "--keys",
            "50",
            "--warmup",
            "0.2",
            "--duration",
            "0.5",
        ])
        .args(args)
        .output()
        .expect("zk-bench runs");
    assert!(
        out.status.success(),
        "zk-bench {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 1, "one JSON line: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_workload_reports_a_json_line() {
    let server = TestingServer::start().await.expect("server");
    for workload in [
        "read",
        "write",
        "mixed:70",
        "create",
        "delete",
        "lock",
        "watch:3",
        "multi:4",
        "load:500:5",
    ] {
        let report = tokio::task::block_in_place(|| bench(&server, &["--workload", workload]));
        assert_eq!(report["workload"], workload);
        assert_eq!(report["errors"], 0, "{report}");
        let ops = report["ops"].as_u64().expect("ops");
        assert!(ops > 0, "{workload}: {report}");
        let by_op: u64 = report["by_op"]
            .as_object()
            .expect("by_op")
            .values()
            .filter_map(Value::as_u64)
            .sum();
        assert_eq!(by_op, ops);
        let latency = &report["latency_us"];
        for q in ["p50", "p90", "p99", "p999", "max"] {
            assert!(
                latency[q].as_u64().is_some_and(|v| v > 0),
                "{workload} {q}: {report}"
            );
        }
        assert!(latency["p50"].as_u64() <= latency["p99"].as_u64());
        let pid = std::process::id().to_string();
        assert!(report["cpu"]["pids"][&pid].as_f64().is_some(), "{report}");
        if workload.starts_with("load") {
            assert_eq!(ops, 500);
            assert_eq!(report["curve"].as_array().expect("curve").len(), 10);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_op_budget_stops_the_run() {
    let server = TestingServer::start().await.expect("server");
    let report =
        tokio::task::block_in_place(|| bench(&server, &["--workload", "write", "--ops", "300"]));
    assert_eq!(report["ops"], 300, "{report}");
    let bad = Command::new(env!("CARGO_BIN_EXE_zk-bench"))
        .args([
            "--servers",
            &server.connect_string(),
            "--workload",
            "mixed:200",
        ])
        .output()
        .expect("zk-bench runs");
    assert!(!bad.status.success(), "a percentage over 100 is refused");
}
