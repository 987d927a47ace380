//! `start`, `stop` and `status`, as zkServer.sh does them: a pid file in
//! dataDir, and the mode read from the `srvr` four-letter word.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use zk_server::Config;

const PID_FILE: &str = "zookeeper_server.pid";

fn pid_path(config: &Config) -> PathBuf {
    config.data_dir.join(PID_FILE)
}

fn read_pid(config: &Config) -> Option<u32> {
    std::fs::read_to_string(pid_path(config))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn client_addr(config: &Config) -> SocketAddr {
    let ip = match config.client_port_address {
        Some(ip) if !ip.is_unspecified() => ip,
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    SocketAddr::new(ip, config.client_port)
}

/// The `srvr` answer, if the server answers.
fn srvr(config: &Config) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&client_addr(config), Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"srvr").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

pub fn start(config_path: &Option<PathBuf>) -> Result<ExitCode> {
    let config = match config_path {
        Some(p) => Config::from_file(p)?,
        None => Config::default(),
    };
    if let Some(pid) = read_pid(&config).filter(|p| alive(*p)) {
        println!("zk-server already running as process {pid}.");
        return Ok(ExitCode::FAILURE);
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let out_path = config.data_dir.join("zk-server.out");
    let out = std::fs::File::create(&out_path)
        .with_context(|| format!("creating {}", out_path.display()))?;
    let exe = std::env::current_exe().context("locating zk-server")?;
    let mut cmd = Command::new(exe);
    match config_path {
        Some(p) => cmd.arg("start-foreground").arg(std::path::absolute(p)?),
        None => &mut cmd,
    };
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .context("starting zk-server")?;
    std::fs::write(pid_path(&config), format!("{}\n", child.id()))?;
    print!("Starting zk-server ... ");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if srvr(&config).is_some() {
            println!("STARTED");
            return Ok(ExitCode::SUCCESS);
        }
        if !alive(child.id()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("FAILED TO START (see {})", out_path.display());
    Ok(ExitCode::FAILURE)
}

pub fn stop(config: &Config) -> Result<ExitCode> {
    let Some(pid) = read_pid(config) else {
        println!(
            "no zk-server to stop (could not find file {})",
            pid_path(config).display()
        );
        return Ok(ExitCode::FAILURE);
    };
    print!("Stopping zk-server ... ");
    if alive(pid) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()?;
        if !status.success() {
            bail!("kill {pid} failed");
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if alive(pid) {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
        }
    }
    let _ = std::fs::remove_file(pid_path(config));
    println!("STOPPED");
    Ok(ExitCode::SUCCESS)
}

pub fn status(config: &Config) -> Result<ExitCode> {
    println!(
        "Client port found: {}. Client address: {}.",
        config.client_port,
        client_addr(config).ip()
    );
    match srvr(config) {
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
            println!("Error contacting service. It is probably not running.");
            Ok(ExitCode::FAILURE)
        }
    }
}
