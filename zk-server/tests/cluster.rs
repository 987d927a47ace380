//! `zk-server cluster`: it supervises its members. A member that cannot
//! start is reported with the end of its log and left out of the connect
//! string; `start N`, `kill N` and `status` on stdin work; a member killed
//! from outside is reported; SIGTERM stops every member it runs.

use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const DEADLINE: Duration = Duration::from_secs(60);

/// A port P with P, P+1 and P+2 free a moment ago.
fn three_free_ports() -> u16 {
    loop {
        let base = 20_000 + fastrand::u16(..40_000);
        let held: Vec<_> = (0..3)
            .map_while(|i| TcpListener::bind(("127.0.0.1", base + i)).ok())
            .collect();
        if held.len() == 3 {
            return base;
        }
    }
}

struct Cluster {
    child: Child,
    out: Lines<BufReader<ChildStdout>>,
    seen: Vec<String>,
}

impl Cluster {
    /// Reads lines until one contains `what`; returns it.
    async fn line_with(&mut self, what: &str) -> String {
        let found = tokio::time::timeout(DEADLINE, async {
            while let Ok(Some(line)) = self.out.next_line().await {
                self.seen.push(line.clone());
                if line.contains(what) {
                    return Some(line);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(line)) => line,
            _ => panic!("no line with {what:?}; output:\n{}", self.seen.join("\n")),
        }
    }

    /// A line already read that contains `what`.
    fn seen_with(&self, what: &str) -> String {
        self.seen
            .iter()
            .find(|l| l.contains(what))
            .cloned()
            .unwrap_or_else(|| panic!("no line with {what:?}:\n{}", self.seen.join("\n")))
    }

    async fn send(&mut self, command: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .expect("write a command");
        stdin.flush().await.expect("flush");
    }
}

fn pid_in(line: &str) -> u32 {
    let rest = line.split("(pid ").nth(1).expect("a pid");
    rest.split(')')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a pid")
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_reports_failures_and_takes_commands() {
    let dir = std::env::temp_dir().join(format!("zk-cluster-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (client, peer, election) = (three_free_ports(), three_free_ports(), three_free_ports());
    // Member 2's client port is taken: it fails to start.
    let blocker = TcpListener::bind(("127.0.0.1", client + 1)).expect("block member 2");
    let mut child = Command::new(env!("CARGO_BIN_EXE_zk-server"))
        .arg("cluster")
        .arg("--dir")
        .arg(&dir)
        .args(["--client-port", &client.to_string()])
        .args(["--peer-port", &peer.to_string()])
        .args(["--election-port", &election.to_string()])
        .args(["--set", "tickTime=200"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("cluster starts");
    let out = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut c = Cluster {
        child,
        out,
        seen: Vec::new(),
    };

    let connect = c.line_with("connect string:").await;
    assert_eq!(
        connect,
        format!(
            "connect string: 127.0.0.1:{client},127.0.0.1:{}",
            client + 2
        )
    );
    let failed = c.seen_with("member 2 failed to start");
    assert!(failed.contains("exit status: 1"), "{failed}");
    let why = c.seen_with("zk-server:");
    assert!(
        why.contains(&format!("cannot listen on 0.0.0.0:{}", client + 1)),
        "{why}"
    );
    let one = c.seen_with("member 1 (pid");
    let three = c.seen_with("member 3 (pid");

    // Member 2 once its port is free, supervised like the others.
    drop(blocker);
    c.send("start 2").await;
    let two = c.line_with("member 2 (pid").await;
    assert!(two.contains("follower") || two.contains("leader"), "{two}");
    c.send("status").await;
    let all = c.line_with("connect string:").await;
    assert_eq!(
        all,
        format!(
            "connect string: 127.0.0.1:{client},127.0.0.1:{},127.0.0.1:{}",
            client + 1,
            client + 2
        )
    );

    c.send("kill 3").await;
    c.line_with("member 3 killed").await;
    assert!(!alive(pid_in(&three)));
    // Killed from outside: reported.
    let pid_one = pid_in(&one);
    std::process::Command::new("kill")
        .args(["-9", &pid_one.to_string()])
        .status()
        .expect("kill -9");
    let exited = c.line_with("member 1 exited").await;
    assert!(exited.contains("signal: 9"), "{exited}");

    // SIGTERM stops what is left (member 2, started by `start 2`).
    let pid_two = pid_in(&two);
    let cluster_pid = c.child.id().expect("cluster pid");
    std::process::Command::new("kill")
        .arg(cluster_pid.to_string())
        .status()
        .expect("kill");
    c.line_with("stopping the cluster").await;
    let status = tokio::time::timeout(DEADLINE, c.child.wait())
        .await
        .expect("the cluster exits")
        .expect("wait");
    assert!(status.success(), "{status}");
    assert!(!alive(pid_two), "member 2 was stopped");
    let _ = std::fs::remove_dir_all(&dir);
}
