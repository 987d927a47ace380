//! The offline tools on real files written by a real server:
//! `zk-server dump-log`, `dump-snapshot [--json]`, `verify`, `purge`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zk-tools-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zk-server"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `2026-12-03T13:45:30.123Z`
fn is_iso_time(text: &str) -> bool {
    let shape: String = text
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    shape == "9999-99-99T99:99:99.999Z"
}

fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    v.sort();
    v
}

/// A data dir with a log and a few snapshots, written through the server.
async fn populate(dir: &Path) {
    let config = zk_server::Config::parse(&format!(
        "tickTime=100\nclientPort=0\nclientPortAddress=127.0.0.1\ndataDir={}\nsnapCount=8\npreAllocSize=64\n",
        dir.display()
    ))
    .expect("config");
    let server = zk_server::Server::start(config).await.expect("start");
    let mut c = common::Client::connect(server.local_addr()).await;
    for i in 0..60 {
        c.create(&format!("/tool{i}"), format!("value {i}").as_bytes(), 0)
            .await
            .expect("create");
    }
    // A snapshot still being written in the background is a `.tmp` file:
    // wait until none is, so the files below are complete.
    let v2 = dir.join("version-2");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_dir(&v2)
        .expect("dir")
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "a snapshot never finished"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.shutdown().await;
}

mod common;

#[tokio::test(flavor = "multi_thread")]
async fn dump_verify_and_purge() {
    let dir = temp_dir("all");
    populate(&dir).await;
    let v2 = dir.join("version-2");
    let logs = files(&v2, "log.");
    let snaps = files(&v2, "snapshot.");
    assert!(
        !logs.is_empty() && snaps.len() > 3,
        "logs {logs:?} snaps {snaps:?}"
    );

    let (ok, out) = run(&["dump-log", logs[0].to_str().expect("utf-8")]);
    assert!(ok, "{out}");
    assert!(
        out.contains("createSession")
            && out.contains("create /tool0 data=\"value 0\" acl=world:anyone:cdrwa"),
        "{out}"
    );
    // As LogFormatter: time, session, cxid, zxid, then the txn; ISO times.
    let first = out.lines().next().unwrap_or_default();
    assert!(
        is_iso_time(first.split(' ').next().unwrap_or_default()),
        "{first}"
    );
    assert!(
        first.contains(" session 0x") && first.contains(" zxid 0x1 "),
        "{first}"
    );

    let newest = snaps.iter().max_by_key(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        i64::from_str_radix(name.trim_start_matches("snapshot."), 16).unwrap_or(0)
    });
    let newest = newest.expect("a snapshot").to_str().expect("utf-8");
    let (ok, out) = run(&["dump-snapshot", newest]);
    assert!(ok, "{out}");
    assert!(out.contains("/tool1\n  cZxid = 0x"), "{out}");
    assert!(out.contains("  acl = world:anyone:cdrwa\n"), "{out}");
    let ctime = out
        .lines()
        .find_map(|l| l.strip_prefix("  ctime = "))
        .unwrap_or_default();
    assert!(is_iso_time(ctime), "{out}");
    let (ok, json) = run(&["dump-snapshot", newest, "--json"]);
    assert!(ok, "{json}");
    let doc: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert!(
        doc["nodes"]
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n["path"] == "/tool1"))
    );

    let (ok, out) = run(&["verify", dir.to_str().expect("utf-8")]);
    assert!(ok && out.contains("snapshots"), "{out}");

    let cfg = dir.join("zoo.cfg");
    std::fs::write(&cfg, format!("dataDir={}\n", dir.display())).expect("cfg");
    let (ok, out) = run(&["purge", cfg.to_str().expect("utf-8"), "-n", "3"]);
    assert!(ok, "{out}");
    assert_eq!(files(&v2, "snapshot.").len(), 3, "{out}");

    // Damage: verify names the file; a server refuses to start on it.
    let log = files(&v2, "log.").into_iter().next().expect("a log");
    let mut bytes = std::fs::read(&log).expect("read");
    bytes[40] ^= 0xff;
    std::fs::write(&log, &bytes).expect("write");
    let (ok, out) = run(&["verify", dir.to_str().expect("utf-8")]);
    assert!(!ok && out.contains("corrupt"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
