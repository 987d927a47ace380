//! Ensembles for tests: free ports on loopback, a data dir per member with
//! its `myid`, a zoo.cfg per member, and polling helpers with deadlines.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

pub const DEADLINE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Member {
    pub sid: u64,
    pub client_port: u16,
    pub dir: PathBuf,
    pub cfg_path: PathBuf,
}

impl Member {
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }
}

/// A port free a moment ago, below the kernel's ephemeral range (32768
/// and up on Linux): the OS hands those out as the source ports of
/// outgoing connections, which took a member's port between the check
/// and the bind.
fn free_port() -> u16 {
    loop {
        let port = 20_000 + fastrand::u16(0..12_000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Lays out an ensemble of `voters` participants and `observers` under a
/// fresh temp dir; `extra` is added to every zoo.cfg.
pub fn layout(name: &str, voters: u64, observers: u64, extra: &str) -> Vec<Member> {
    let root = std::env::temp_dir().join(format!("zk-ensemble-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let n = voters + observers;
    let ports: Vec<(u16, u16, u16)> = (0..n)
        .map(|_| (free_port(), free_port(), free_port()))
        .collect();
    let mut servers = String::new();
    for (i, (_, peer, election)) in ports.iter().enumerate() {
        let kind = if i as u64 >= voters { ":observer" } else { "" };
        servers.push_str(&format!(
            "server.{}=127.0.0.1:{peer}:{election}{kind}\n",
            i + 1
        ));
    }
    (0..n)
        .map(|i| {
            let sid = i + 1;
            let dir = root.join(format!("n{sid}"));
            std::fs::create_dir_all(&dir).expect("data dir");
            std::fs::write(dir.join("myid"), format!("{sid}\n")).expect("myid");
            let (client_port, _, _) = ports[i as usize];
            let observer = if i >= voters {
                "peerType=observer\n"
            } else {
                ""
            };
            let cfg = format!(
                "tickTime=100\ninitLimit=20\nsyncLimit=10\nmaxSessionTimeout=60000\n\
                 4lw.commands.whitelist=*\ndataDir={}\nclientPort={client_port}\n\
                 clientPortAddress=127.0.0.1\n{observer}{servers}{extra}",
                dir.display()
            );
            let cfg_path = dir.join("zoo.cfg");
            std::fs::write(&cfg_path, cfg).expect("zoo.cfg");
            Member {
                sid,
                client_port,
                dir,
                cfg_path,
            }
        })
        .collect()
}

/// A four-letter word's answer, or None when the port does not answer.
pub fn four_letter(addr: &str, word: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(word.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// The `Mode:` line of `srvr`: leader, follower, observer, or None.
pub fn mode(addr: &str) -> Option<String> {
    let srvr = four_letter(addr, "srvr")?;
    srvr.lines()
        .find_map(|l| l.strip_prefix("Mode: "))
        .map(str::to_owned)
}

/// Polls until every member in `up` serves with a role and exactly one
/// leads; returns the leader's sid.
pub async fn wait_for_roles(members: &[Member], up: &[u64]) -> u64 {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let modes: Vec<(u64, Option<String>)> = members
            .iter()
            .filter(|m| up.contains(&m.sid))
            .map(|m| (m.sid, mode(&m.addr())))
            .collect();
        let leaders: Vec<u64> = modes
            .iter()
            .filter(|(_, m)| m.as_deref() == Some("leader"))
            .map(|(s, _)| *s)
            .collect();
        let serving = modes
            .iter()
            .all(|(_, m)| matches!(m.as_deref(), Some("leader" | "follower" | "observer")));
        if serving && leaders.len() == 1 {
            return leaders[0];
        }
        assert!(
            Instant::now() < deadline,
            "no settled ensemble within {DEADLINE:?}: {modes:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn connect_string(members: &[Member]) -> String {
    members
        .iter()
        .map(Member::addr)
        .collect::<Vec<_>>()
        .join(",")
}

pub fn remove(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}
