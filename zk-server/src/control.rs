//! `start`, `stop` and `status`, as zkServer.sh does them, with a pid file
//! in dataDir. Unlike zkServer.sh, the pid file is written by the server
//! itself once it serves (`start-foreground --pid-file`), so `start` knows
//! whether the server it spawned came up or died, and `status` asks the
//! process in the pid file, not whatever answers on the port.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use zk_server::Config;

const PID_FILE: &str = "zookeeper_server.pid";

/// How long `start` waits for the server to serve (recovery of a large
/// tree takes seconds).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Lines of the server's output shown when it failed.
const TAIL_LINES: usize = 12;

pub fn pid_path(config: &Config) -> PathBuf {
    config.data_dir.join(PID_FILE)
}

/// The pid in `path`, if that process is alive and is a zk-server (a pid
/// file left by a crash may name a pid reused by something else).
pub fn live_pid(path: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(path).ok()?.trim().parse().ok()?;
    is_zk_server(pid).then_some(pid)
}

fn is_zk_server(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains("zk-server"))
}

/// Writes the pid file atomically: a reader sees no file or the whole pid.
pub fn write_pid_file(path: &Path) -> std::io::Result<()> {
    let tmp = path.with_extension("pid.tmp");
    std::fs::write(&tmp, format!("{}\n", std::process::id()))?;
    std::fs::rename(&tmp, path)
}

fn client_addr(config: &Config) -> SocketAddr {
    let ip = match config.client_port_address {
        Some(ip) if !ip.is_unspecified() => ip,
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    SocketAddr::new(ip, config.client_port)
}

/// The `srvr` answer, if the server answers.
fn srvr(addr: &SocketAddr) -> Option<String> {
    four_letter(addr, "srvr")
}

/// A four-letter word's answer, if the server answers in time.
fn four_letter(addr: &SocketAddr, word: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(word.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// What `zk-server probe` checks.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Check {
    /// The process answers (`ruok`).
    Live,
    /// It serves clients (`srvr` mode).
    Ready,
}

/// Runs a probe; prints why it failed.
pub fn probe(check: Check, server: &str) -> ExitCode {
    use std::net::ToSocketAddrs;
    let Some(addr) = server.to_socket_addrs().ok().and_then(|mut a| a.next()) else {
        println!("cannot resolve {server}");
        return ExitCode::FAILURE;
    };
    let (ok, said) = match check {
        // Any answer will do: a whitelist without ruok still answers.
        Check::Live => {
            let answer = four_letter(&addr, "ruok");
            (answer.as_deref().is_some_and(|a| !a.is_empty()), answer)
        }
        Check::Ready => {
            let found = mode(&addr);
            (found.as_deref().is_some_and(serves), found)
        }
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        match said {
            Some(text) => println!("{server}: not {check:?}: {}", text.trim()),
            None => println!("{server}: no answer"),
        }
        ExitCode::FAILURE
    }
}

/// The `Mode:` a server's `srvr` reports (`leader`, `looking`, ...), if
/// it answers.
pub fn mode(addr: &SocketAddr) -> Option<String> {
    srvr(addr)?
        .lines()
        .find_map(|l| l.strip_prefix("Mode: "))
        .map(str::to_owned)
}

/// Whether a mode serves clients (a looking member closes them).
pub fn serves(mode: &str) -> bool {
    matches!(mode, "standalone" | "leader" | "follower" | "observer")
}

/// The last `n` lines of a file (the server's output), for reports.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Spawns `zk-server start-foreground --pid-file PID CONFIG` in its own
/// process group (a Ctrl-C in the terminal that ran `start` does not reach
/// it), with its output in `out`.
pub fn spawn_server(config: Option<&Path>, pid_file: &Path, out: &Path) -> Result<Child> {
    let log =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let exe = std::env::current_exe().context("cannot locate the zk-server binary")?;
    let mut cmd = Command::new(exe);
    cmd.arg("start-foreground").arg("--pid-file").arg(pid_file);
    let (key, format) = crate::log_format_env();
    cmd.env(key, format);
    if let Some(p) = config {
        cmd.arg(std::path::absolute(p).with_context(|| format!("bad path {}", p.display()))?);
    }
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone().context("duplicating the log file")?)
        .stderr(log)
        .spawn()
        .context("cannot start zk-server")
}

/// What became of a spawned server.
pub enum Outcome {
    Serving,
    Exited(ExitStatus),
    StillStarting,
}

/// Waits until `child` serves (it wrote its pid to `pid_file`), exits, or
/// `timeout` passes.
pub fn wait_serving(child: &mut Child, pid_file: &Path, timeout: Duration) -> Outcome {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Outcome::Exited(status);
        }
        if live_pid(pid_file) == Some(child.id()) {
            return Outcome::Serving;
        }
        if Instant::now() >= deadline {
            return Outcome::StillStarting;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn start(config_path: Option<&Path>) -> Result<ExitCode> {
    let config = crate::load_opt(config_path)?;
    let pid_file = pid_path(&config);
    if let Some(pid) = live_pid(&pid_file) {
        println!("zk-server already running as process {pid}.");
        return Ok(ExitCode::FAILURE);
    }
    print!("Starting zk-server ... ");
    let _ = std::io::stdout().flush();
    let failed = |reason: String| {
        println!("FAILED TO START");
        eprintln!("{reason}");
        Ok(ExitCode::FAILURE)
    };
    if let Err(e) = std::fs::create_dir_all(&config.data_dir) {
        return failed(format!("cannot create {}: {e}", config.data_dir.display()));
    }
    // A pid file of a dead server would read as "serving" below.
    let _ = std::fs::remove_file(&pid_file);
    let out = config.data_dir.join("zk-server.out");
    let mut child = match spawn_server(config_path, &pid_file, &out) {
        Ok(child) => child,
        Err(e) => return failed(format!("{e:#}")),
    };
    match wait_serving(&mut child, &pid_file, START_TIMEOUT) {
        Outcome::Serving => {
            println!("STARTED");
            Ok(ExitCode::SUCCESS)
        }
        Outcome::Exited(status) => failed(format!(
            "zk-server exited ({status}); the end of {}:\n{}",
            out.display(),
            tail(&out, TAIL_LINES)
        )),
        Outcome::StillStarting => failed(format!(
            "zk-server (process {}) is not serving after {}s; see {}",
            child.id(),
            START_TIMEOUT.as_secs(),
            out.display()
        )),
    }
}

pub fn stop(config: &Config) -> Result<ExitCode> {
    let pid_file = pid_path(config);
    let Some(pid) = live_pid(&pid_file) else {
        let stale = pid_file.exists();
        let _ = std::fs::remove_file(&pid_file);
        println!(
            "no zk-server to stop ({})",
            if stale {
                format!("removed the stale pid file {}", pid_file.display())
            } else {
                format!("no pid file {}", pid_file.display())
            }
        );
        return Ok(ExitCode::FAILURE);
    };
    print!("Stopping zk-server ... ");
    let _ = std::io::stdout().flush();
    signal(pid, "-TERM")?;
    let deadline = Instant::now() + Duration::from_secs(15);
    while is_zk_server(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if is_zk_server(pid) {
        signal(pid, "-KILL")?;
    }
    let _ = std::fs::remove_file(&pid_file);
    println!("STOPPED");
    Ok(ExitCode::SUCCESS)
}

pub fn signal(pid: u32, sig: &str) -> Result<()> {
    let status = Command::new("kill")
        .arg(sig)
        .arg(pid.to_string())
        .status()
        .context("cannot run kill")?;
    anyhow::ensure!(status.success(), "kill {sig} {pid} failed");
    Ok(())
}

pub fn status(config: &Config) -> Result<ExitCode> {
    let addr = client_addr(config);
    println!(
        "Client port found: {}. Client address: {}.",
        config.client_port,
        addr.ip()
    );
    let pid_file = pid_path(config);
    let Some(pid) = live_pid(&pid_file) else {
        println!(
            "Error contacting service. It is probably not running (no live process in {}).",
            pid_file.display()
        );
        return Ok(ExitCode::FAILURE);
    };
    // The live process holds the client port, so this is its answer.
    match srvr(&addr) {
        Some(text) if text.contains("Mode:") => {
            for line in text.lines().filter(|l| l.starts_with("Mode:")) {
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(text) => {
            println!("{}", text.trim());
            Ok(ExitCode::FAILURE)
        }
        None => {
            println!("zk-server process {pid} is running but does not answer on {addr}.");
            Ok(ExitCode::FAILURE)
        }
    }
}
