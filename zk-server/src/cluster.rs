//! `zk-server cluster --nodes N`: an ensemble on one machine for trying
//! things out. Each member is its own process (so one can be killed), with
//! its zoo.cfg and myid under `DIR/nK`, clients on 2181, 2182, ...,
//! peers on 2888+K-1 and elections on 3888+K-1, as ZooKeeper's docs lay
//! out a local ensemble.
//!
//! The command supervises its members: it says when one fails to start or
//! dies (with the end of its log), prints a connect string of the members
//! that serve, takes `kill N`, `stop N`, `start N`, `restart N` and
//! `status` on stdin, and stops every member it runs on Ctrl-C or SIGTERM.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::control::{self, Outcome};

/// How long a member may take to serve after it is started.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Lines of a member's log shown when it fails.
const TAIL_LINES: usize = 8;

/// Where the members go and which ports they use.
#[derive(clap::Args, Debug)]
pub struct ClusterArgs {
    /// How many members (1-255).
    #[arg(long, default_value_t = 3)]
    pub nodes: u16,
    /// Directory for the members' files: DIR/nK/{zoo.cfg,myid,version-2,zk-server.out}.
    /// Existing data is kept, so a second run continues the first.
    #[arg(long, default_value = "zk-cluster")]
    pub dir: PathBuf,
    /// Client port of member 1; member K listens on PORT+K-1.
    #[arg(long, default_value_t = 2181)]
    pub client_port: u16,
    /// Peer (quorum) port of member 1; member K uses PORT+K-1.
    #[arg(long, default_value_t = 2888)]
    pub peer_port: u16,
    /// Election port of member 1; member K uses PORT+K-1.
    #[arg(long, default_value_t = 3888)]
    pub election_port: u16,
    /// Admin server port of member 1; member K uses PORT+K-1.
    #[arg(long, default_value_t = 8080)]
    pub admin_port: u16,
    /// An extra zoo.cfg line for every member (repeatable), e.g.
    /// `--set tickTime=200`.
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// The zoo.cfg of member `sid` (1-based).
pub fn member_config(args: &ClusterArgs, sid: u16, data_dir: &Path) -> String {
    let mut cfg = format!(
        "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={}\n\
         4lw.commands.whitelist=*\nadmin.serverPort={}\n",
        data_dir.display(),
        args.client_port + sid - 1,
        args.admin_port + sid - 1,
    );
    for line in &args.set {
        cfg.push_str(line);
        cfg.push('\n');
    }
    for k in 1..=args.nodes {
        cfg.push_str(&format!(
            "server.{k}=127.0.0.1:{}:{}\n",
            args.peer_port + k - 1,
            args.election_port + k - 1
        ));
    }
    cfg
}

/// Writes every member's files (keeping existing data) and returns the
/// member directories.
pub fn lay_out(args: &ClusterArgs) -> Result<Vec<PathBuf>> {
    if args.nodes == 0 || args.nodes > 255 {
        bail!("--nodes must be between 1 and 255");
    }
    let mut dirs = Vec::new();
    for sid in 1..=args.nodes {
        let dir = args.dir.join(format!("n{sid}"));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let abs =
            std::fs::canonicalize(&dir).with_context(|| format!("bad path {}", dir.display()))?;
        let myid = abs.join("myid");
        std::fs::write(&myid, format!("{sid}\n"))
            .with_context(|| format!("cannot write {}", myid.display()))?;
        let cfg = abs.join("zoo.cfg");
        std::fs::write(&cfg, member_config(args, sid, &abs))
            .with_context(|| format!("cannot write {}", cfg.display()))?;
        dirs.push(abs);
    }
    Ok(dirs)
}

/// One member: its files, and its process while it runs.
struct Member {
    sid: u16,
    dir: PathBuf,
    client_port: u16,
    child: Option<Child>,
}

impl Member {
    fn log(&self) -> PathBuf {
        self.dir.join("zk-server.out")
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.join("zookeeper_server.pid")
    }

    /// Spawns the member's process (not waiting for it to serve).
    fn spawn(&mut self) {
        let _ = std::fs::remove_file(self.pid_file());
        let cfg = self.dir.join("zoo.cfg");
        match control::spawn_server(Some(&cfg), &self.pid_file(), &self.log()) {
            Ok(child) => self.child = Some(child),
            Err(e) => println!("member {} failed to start: {e:#}", self.sid),
        }
    }

    /// Waits until the spawned member serves, exits or times out, and says
    /// which.
    fn report_start(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        match control::wait_serving(&mut child, &self.pid_file(), START_TIMEOUT) {
            Outcome::Serving => {
                let mode = self.wait_for_quorum(&mut child);
                let state = if control::serves(&mode) {
                    mode
                } else {
                    format!("not serving yet ({mode}: no quorum reachable)")
                };
                println!(
                    "member {} (pid {}): {state}, clients on 127.0.0.1:{}, log {}",
                    self.sid,
                    child.id(),
                    self.client_port,
                    self.log().display()
                );
                self.child = Some(child);
            }
            Outcome::Exited(status) => println!(
                "member {} failed to start ({status}); the end of {}:\n{}",
                self.sid,
                self.log().display(),
                indent(&control::tail(&self.log(), TAIL_LINES))
            ),
            Outcome::StillStarting => {
                println!(
                    "member {} (pid {}) is not serving after {}s; see {}",
                    self.sid,
                    child.id(),
                    START_TIMEOUT.as_secs(),
                    self.log().display()
                );
                self.child = Some(child);
            }
        }
    }

    /// The member's mode once it serves (it has a leader), or what it
    /// says after a while without one.
    fn wait_for_quorum(&self, child: &mut Child) -> String {
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        loop {
            let mode = control::mode(&self.addr()).unwrap_or_else(|| "no answer".into());
            let exited = matches!(child.try_wait(), Ok(Some(_)));
            if control::serves(&mode) || exited || std::time::Instant::now() >= deadline {
                return mode;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.client_port).into()
    }

    /// Whether the member runs and serves clients now.
    fn serving(&self) -> bool {
        self.child.is_some() && control::mode(&self.addr()).is_some_and(|m| control::serves(&m))
    }

    /// Signals the member and waits for it to exit.
    fn signal(&mut self, sig: &str) {
        if let Some(mut child) = self.child.take() {
            let _ = control::signal(child.id(), sig);
            let _ = child.wait();
            let _ = std::fs::remove_file(self.pid_file());
        }
    }

    /// `Some(status)` once, when the member exited on its own.
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        let status = self.child.as_mut()?.try_wait().ok()??;
        self.child = None;
        Some(status)
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the supervisor reacts to.
enum Event {
    Line(String),
    Stop,
}

/// Starts every member, supervises them until Ctrl-C (or SIGTERM), then
/// stops them all.
pub fn run(args: &ClusterArgs) -> Result<ExitCode> {
    let mut members: Vec<Member> = lay_out(args)?
        .into_iter()
        .zip(1..)
        .map(|(dir, sid)| Member {
            sid,
            dir,
            client_port: args.client_port + sid - 1,
            child: None,
        })
        .collect();
    // Members start together: each waits for a quorum, so starting them
    // one by one and waiting would never see the first one serve.
    for m in &mut members {
        m.spawn();
    }
    for m in &mut members {
        m.report_start();
    }
    print_connect_string(&members);
    println!(
        "Commands: status, kill N (SIGKILL), stop N (SIGTERM), start N, restart N, help. \
         Ctrl-C stops the cluster."
    );
    let events = spawn_event_sources();
    loop {
        match events.recv_timeout(Duration::from_millis(200)) {
            Ok(Event::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Ok(Event::Line(line)) => command(&mut members, &line),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        for m in &mut members {
            if let Some(status) = m.exited() {
                println!(
                    "member {} exited ({status}); the end of {}:\n{}",
                    m.sid,
                    m.log().display(),
                    indent(&control::tail(&m.log(), TAIL_LINES))
                );
            }
        }
    }
    println!("stopping the cluster");
    for m in &mut members {
        m.signal("-TERM");
    }
    Ok(ExitCode::SUCCESS)
}

/// The members that serve right now, as a connect string.
fn print_connect_string(members: &[Member]) {
    let serving: Vec<String> = members
        .iter()
        .filter(|m| m.serving())
        .map(|m| format!("127.0.0.1:{}", m.client_port))
        .collect();
    if serving.is_empty() {
        println!("no member is serving");
    } else {
        println!("connect string: {}", serving.join(","));
    }
}

fn command(members: &mut [Member], line: &str) {
    let words: Vec<&str> = line.split_whitespace().collect();
    let (verb, arg) = match words.as_slice() {
        [] => return,
        [verb] => (*verb, None),
        [verb, n] => (*verb, Some(*n)),
        _ => ("help", None),
    };
    if verb == "status" {
        for m in members.iter() {
            let state = match &m.child {
                Some(c) => {
                    let mode = control::mode(&m.addr()).unwrap_or_else(|| "no answer".into());
                    format!("running (pid {}), {mode}", c.id())
                }
                None => "not running".to_owned(),
            };
            println!(
                "member {}: {state}, clients on 127.0.0.1:{}",
                m.sid, m.client_port
            );
        }
        print_connect_string(members);
        return;
    }
    let target = arg
        .and_then(|n| n.parse::<u16>().ok())
        .and_then(|sid| members.iter_mut().find(|m| m.sid == sid));
    match (verb, target) {
        ("kill", Some(m)) => {
            m.signal("-KILL");
            println!("member {} killed", m.sid);
        }
        ("stop", Some(m)) => {
            m.signal("-TERM");
            println!("member {} stopped", m.sid);
        }
        ("start", Some(m)) if m.child.is_some() => println!("member {} is running", m.sid),
        ("start", Some(m)) => {
            m.spawn();
            m.report_start();
        }
        ("restart", Some(m)) => {
            m.signal("-TERM");
            m.spawn();
            m.report_start();
        }
        _ => println!(
            "commands: status | kill N | stop N | start N | restart N (N = 1..{})",
            members.len()
        ),
    }
    let _ = std::io::stdout().flush();
}

/// Lines typed on stdin, and Ctrl-C / SIGTERM. The end of stdin (a
/// cluster started in the background) ends only the commands, not the
/// cluster.
fn spawn_event_sources() -> mpsc::Receiver<Event> {
    let (tx, rx) = mpsc::channel();
    let lines = tx.clone();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { return };
            if lines.send(Event::Line(line)).is_err() {
                return;
            }
        }
    });
    std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            rt.block_on(crate::wait_for_signal());
        }
        let _ = tx.send(Event::Stop);
    });
    rx
}
