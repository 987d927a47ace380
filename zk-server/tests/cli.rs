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
    let cfg = standalone_cfg(&dir, free_port());
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
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zk-server"));
    cmd.args(["start-foreground", cfg.to_str().expect("utf-8")])
        .env("RUST_LOG", "warn");
    let log = log_until_serving(cmd, port);
    assert!(log.contains("noSuchKey"), "{log}");
}

/// Runs the server until it serves on `port`, stops it (SIGTERM) and
/// returns what it logged.
fn log_until_serving(mut cmd: Command, port: u16) -> String {
    let child = cmd
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
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("zk-server-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A zoo.cfg in `dir` for a standalone server on `port`.
fn standalone_cfg(dir: &Path, port: u16) -> std::path::PathBuf {
    let cfg = dir.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=200\nclientPort={port}\nclientPortAddress=127.0.0.1\ndataDir={}\n",
            dir.join("data").display()
        ),
    )
    .expect("write config");
    cfg
}

/// `start` on a port another server holds: the server it spawned dies,
/// `start` says FAILED TO START with the reason (once), and `status`
/// does not report the other server as ours.
#[test]
fn start_fails_on_a_taken_port_and_status_ignores_the_other_server() {
    let dir = tempdir("taken-port");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut other = runtime
        .block_on(zk_testing::TestingServer::start())
        .expect("the other server starts");
    let port = other.port();
    let cfg = standalone_cfg(&dir, port);
    let cfg = cfg.to_str().expect("utf-8");

    let started = zk_server(&["start", cfg], &dir);
    let out = text(&started);
    assert_eq!(started.status.code(), Some(1), "{out}");
    assert!(out.contains("FAILED TO START"), "{out}");
    assert!(
        out.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{out}"
    );
    assert_eq!(out.matches("Address already in use").count(), 1, "{out}");

    let status = zk_server(&["status", cfg], &dir);
    assert_eq!(status.status.code(), Some(1), "{}", text(&status));
    assert!(
        text(&status).contains("probably not running"),
        "{}",
        text(&status)
    );
    runtime.block_on(other.stop());
}

/// A dataDir or dataLogDir the server cannot write stops it at once,
/// naming the key, the directory and the reason.
#[test]
fn unusable_data_dirs_stop_the_server_naming_them() {
    let dir = tempdir("unusable");
    let file = dir.join("a-file");
    std::fs::write(&file, "not a directory").expect("file");
    let port = free_port();
    for (key, cfg_text) in [
        ("dataDir", format!("dataDir={}/data\n", file.display())),
        (
            "dataLogDir",
            format!(
                "dataDir={}/data\ndataLogDir={}/log\n",
                dir.display(),
                file.display()
            ),
        ),
    ] {
        let cfg = dir.join("zoo.cfg");
        std::fs::write(&cfg, format!("clientPort={port}\n{cfg_text}")).expect("cfg");
        let out = zk_server(&["start-foreground", cfg.to_str().expect("utf-8")], &dir);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(1), "{t}");
        assert!(
            t.contains(&format!("{key} {}/", file.display())) && t.contains("is not usable"),
            "{t}"
        );
        assert_eq!(t.matches("Not a directory").count(), 1, "{t}");
    }
}

/// As ZooKeeper: a zoo.cfg must name its dataDir.
#[test]
fn zoo_cfg_without_a_data_dir_is_refused() {
    let dir = tempdir("no-data-dir");
    let cfg = dir.join("zoo.cfg");
    std::fs::write(&cfg, format!("clientPort={}\n", free_port())).expect("cfg");
    let out = zk_server(&["start-foreground", cfg.to_str().expect("utf-8")], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("dataDir is not set"), "{}", text(&out));
}

/// File errors name the file, and say the cause once.
#[test]
fn file_errors_name_the_file_once() {
    let dir = tempdir("file-errors");
    for args in [
        vec!["start-foreground", "missing.cfg"],
        vec!["dump-log", "nowhere/log.1"],
        vec!["dump-snapshot", "nowhere/snapshot.1"],
    ] {
        let out = zk_server(&args, &dir);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(1), "{t}");
        assert!(t.contains(args[1]), "{t}");
        assert_eq!(t.matches("No such file or directory").count(), 1, "{t}");
    }
}

/// Bare `zk-server` runs from `./zoo.cfg` when there is one, and its
/// start-up line says so, with the directories and the port.
#[test]
fn bare_zk_server_uses_the_zoo_cfg_in_its_directory() {
    let dir = tempdir("bare");
    let port = free_port();
    standalone_cfg(&dir, port);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zk-server"));
    cmd.current_dir(&dir).env("RUST_LOG", "info");
    let log = log_until_serving(cmd, port);
    let start = log
        .lines()
        .find(|l| l.contains("zk-server starting"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(start.contains("config=zoo.cfg"), "{start}");
    assert!(
        start.contains(&format!("data_dir={}", dir.join("data").display())),
        "{start}"
    );
    assert!(
        start.contains(&format!("client=127.0.0.1:{port}")),
        "{start}"
    );
    assert!(dir.join("data/version-2").is_dir());
}

/// `srvr` says when the binary was built, as ZooKeeper does.
#[test]
fn srvr_has_the_build_time() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut server = runtime
        .block_on(zk_testing::TestingServer::start())
        .expect("the server starts");
    let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
    std::io::Write::write_all(&mut s, b"srvr").expect("send");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut s, &mut out).expect("read");
    let first = out.lines().next().unwrap_or_default();
    let built = first
        .split(", built on ")
        .nth(1)
        .unwrap_or_else(|| panic!("{out}"));
    // `2026-12-03 13:45 UTC`
    let shape: String = built
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    assert_eq!(shape, "9999-99-99 99:99 UTC", "{first}");
    assert!(!built.starts_with("1970"), "{first}");
    runtime.block_on(server.stop());
}
