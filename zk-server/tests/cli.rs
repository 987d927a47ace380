//! The `zk-server` binary: zkServer.sh-style start/status/stop, and
//! configuration errors that name the key.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

fn zk_server(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zk-server"))
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("zk-server runs")
}

/// A port that was free a moment ago (the server binds it right after).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn start_status_stop_like_zkserver_sh() {
    let dir = tempdir("start-stop");
    let port = free_port();
    let cfg = dir.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=200\nclientPort={port}\nclientPortAddress=127.0.0.1\ndataDir={}\n",
            dir.join("data").display()
        ),
    )
    .expect("write config");
    let cfg = cfg.to_str().expect("utf-8 path");

    let started = zk_server(&["start", cfg], &dir);
    let stop_anyway = Guard { dir: &dir, cfg };
    assert!(started.status.success(), "{}", text(&started));
    assert!(text(&started).contains("STARTED"), "{}", text(&started));
    assert!(dir.join("data/zookeeper_server.pid").exists());

    let status = zk_server(&["status", cfg], &dir);
    assert!(status.status.success(), "{}", text(&status));
    assert!(
        text(&status).contains("Mode: standalone"),
        "{}",
        text(&status)
    );

    let again = zk_server(&["start", cfg], &dir);
    assert!(
        !again.status.success(),
        "a second start must refuse: {}",
        text(&again)
    );

    let stopped = zk_server(&["stop", cfg], &dir);
    std::mem::forget(stop_anyway);
    assert!(text(&stopped).contains("STOPPED"), "{}", text(&stopped));
    let status = zk_server(&["status", cfg], &dir);
    assert!(!status.status.success(), "{}", text(&status));
    assert!(
        text(&status).contains("probably not running"),
        "{}",
        text(&status)
    );
    assert!(!dir.join("data/zookeeper_server.pid").exists());
}

/// Stops the background server even when an assertion fails first.
struct Guard<'a> {
    dir: &'a Path,
    cfg: &'a str,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        zk_server(&["stop", self.cfg], self.dir);
    }
}

#[test]
fn bad_value_is_an_error_naming_the_key() {
    let dir = tempdir("bad-value");
    let cfg = dir.join("zoo.cfg");
    std::fs::write(&cfg, "clientPort=99999\n").expect("write config");
    let out = zk_server(&["start-foreground", cfg.to_str().expect("utf-8")], &dir);
    assert!(!out.status.success());
    assert!(text(&out).contains("clientPort"), "{}", text(&out));
}

#[test]
fn unknown_key_is_a_warning_and_the_server_still_runs() {
    let dir = tempdir("unknown-key");
    let port = free_port();
    let cfg = dir.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "clientPort={port}\nclientPortAddress=127.0.0.1\nnoSuchKey=1\ndataDir={}\n",
            dir.display()
        ),
    )
    .expect("write config");
    let child = Command::new(env!("CARGO_BIN_EXE_zk-server"))
        .args(["start-foreground", cfg.to_str().expect("utf-8")])
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "server did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let out = child.wait_with_output().expect("wait");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("noSuchKey"), "{log}");
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("zk-server-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
