//! The examples run to completion against an in-process server (building
//! them is part of building this package).

use std::time::Duration;

use tokio::process::Command;

async fn server() -> zk_testing::TestingServer {
    zk_testing::TestingServer::start()
        .await
        .expect("the test server starts")
}

/// Runs an example binary against `addr`; returns its output.
async fn run(exe: &str, addr: &str) -> String {
    let child = Command::new(exe).arg(addr).kill_on_drop(true).output();
    let out = tokio::time::timeout(Duration::from_secs(60), child)
        .await
        .unwrap_or_else(|_| panic!("{exe} did not finish"))
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{exe} failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_example_runs() {
    let mut server = server().await;
    let addr = server.connect_string();
    let out = run(env!("CARGO_BIN_EXE_lock"), &addr).await;
    assert!(out.contains("final counter: 9 (expected 9)"), "{out}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_examples_run() {
    let mut server = server().await;
    let addr = server.connect_string();
    let out = run(env!("CARGO_BIN_EXE_leader_election"), &addr).await;
    assert_eq!(out.matches("I am the leader").count(), 3, "{out}");
    let out = run(env!("CARGO_BIN_EXE_config_watch"), &addr).await;
    assert!(
        out.contains("app now runs with Some(Limits { max_connections: 50, read_only: true })"),
        "{out}"
    );
    let out = run(env!("CARGO_BIN_EXE_service_discovery"), &addr).await;
    assert!(
        out.contains(r#"instances now: ["api-2", "api-3"]"#),
        "{out}"
    );
    let out = run(env!("CARGO_BIN_EXE_barrier"), &addr).await;
    assert_eq!(out.matches("everyone has left").count(), 3, "{out}");
    let out = run(env!("CARGO_BIN_EXE_queue"), &addr).await;
    assert!(out.contains("10 jobs taken, 10 distinct"), "{out}");
    server.stop().await;
}
