//! The server's logs as a log shipper reads them: `--log-format json` (or
//! `ZK_LOG_FORMAT=json`) writes one JSON object per line, and a request
//! slower than `requestWarnThresholdMs` is logged at warn inside its
//! connection's span (peer address, session id).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use zk_client::Client;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads JSON log lines from `child` until one passes `wanted`; every
/// line read must be JSON.
fn find_line(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    for line in lines {
        let line = line.expect("a log line");
        let parsed: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if wanted(&parsed) {
            return parsed;
        }
        assert!(Instant::now() < deadline, "no such line within 20 s");
    }
    panic!("the log ended before the line looked for");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_carry_the_slow_requests_connection_and_session() {
    let dir = std::env::temp_dir().join(format!("zk-logging-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let port = free_port();
    let cfg = dir.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "dataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             admin.enableServer=false\nrequestWarnThresholdMs=0\n",
            dir.join("data").display()
        ),
    )
    .expect("zoo.cfg");
    let mut child = Command::new(env!("CARGO_BIN_EXE_zk-server"))
        .arg("start-foreground")
        .arg(&cfg)
        .env("ZK_LOG_FORMAT", "json")
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("zk-server starts");
    let stderr = child.stderr.take().expect("stderr");
    let _running = Running(child);
    let mut lines = BufReader::new(stderr).lines();
    let serving = find_line(&mut lines, |v| {
        v["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("serving clients"))
    });
    assert_eq!(serving["level"], "INFO");

    let client = Client::connect(&format!("127.0.0.1:{port}"))
        .await
        .expect("client");
    client.exists("/zookeeper").await.expect("exists");
    let session = format!("0x{:x}", client.session().id);
    // Every request is "slow" over a threshold of 0 ms.
    let slow = tokio::task::spawn_blocking(move || {
        find_line(&mut lines, |v| {
            v["level"] == "WARN"
                && v["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("slow request"))
                && v["fields"]["op"] == "Exists"
        })
    })
    .await
    .expect("reader");
    assert!(slow["fields"]["ms"].is_u64(), "{slow}");
    assert!(slow["fields"]["zxid"].is_i64(), "{slow}");
    let span = &slow["span"];
    assert_eq!(span["name"], "conn", "{slow}");
    assert_eq!(span["session"], session, "{slow}");
    assert!(
        span["peer"]
            .as_str()
            .expect("peer")
            .starts_with("127.0.0.1:"),
        "{slow}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
