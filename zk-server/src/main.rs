//! `zk-server`: with no arguments, a standalone server on the embedded
//! defaults; otherwise zkServer.sh's commands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use zk_server::{Config, Server};

mod cluster;
mod control;

#[derive(Parser, Debug)]
#[command(
    name = "zk-server",
    version,
    about = "A ZooKeeper-compatible coordination server",
    long_about = "A ZooKeeper-compatible coordination server.\n\n\
        With no command it runs standalone in the foreground: from ./zoo.cfg when \
        that file exists, else on the embedded defaults (client port 2181, data in \
        ./zk-data). The commands are zkServer.sh's, plus tools for the data files."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// How log lines look on stderr: `text` for people, `json` (one
    /// object per line, with the spans' fields) for log shippers.
    #[arg(long, global = true, env = "ZK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    fn name(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// The log format of this process, which the members and daemons it
/// starts (`start`, `cluster`) are given too (`ZK_LOG_FORMAT`).
static LOG_FORMAT: std::sync::OnceLock<LogFormat> = std::sync::OnceLock::new();

fn log_format_env() -> (&'static str, &'static str) {
    (
        "ZK_LOG_FORMAT",
        LOG_FORMAT.get().copied().unwrap_or(LogFormat::Text).name(),
    )
}

fn init_logging(format: LogFormat) {
    let _ = LOG_FORMAT.set(format);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run in the foreground (logs to stderr; Ctrl-C or SIGTERM stops it).
    StartForeground {
        /// The zoo.cfg to run from [default: ./zoo.cfg if it exists, else
        /// the embedded defaults].
        config: Option<PathBuf>,
        /// Write this process's pid to PATH once it serves clients, and
        /// remove the file when it stops (what `start` waits for).
        #[arg(long, value_name = "PATH")]
        pid_file: Option<PathBuf>,
    },
    /// What the container image runs: as the official `zookeeper` image's
    /// entrypoint, builds $ZOO_CONF_DIR/zoo.cfg (default /conf) from the
    /// ZOO_* variables unless one is mounted, writes $ZOO_DATA_DIR/myid
    /// from ZOO_MY_ID unless it exists, then runs in the foreground.
    Container,
    /// A health check for probes (Kubernetes, compose, load balancers):
    /// `live` passes when the server answers `ruok` (with `imok`, or that
    /// the word is not whitelisted: the process is alive); `ready`
    /// when `srvr` says it serves clients (standalone, leader, follower or
    /// observer: not while it looks for a leader). Exit code 0 or 1.
    Probe {
        /// `live` or `ready`.
        #[arg(value_enum)]
        check: control::Check,
        /// The server's client address.
        #[arg(long, default_value = "127.0.0.1:2181")]
        server: String,
    },
    /// Start in the background and wait until it serves (pid in
    /// dataDir/zookeeper_server.pid, output in dataDir/zk-server.out).
    Start {
        /// The zoo.cfg [default: ./zoo.cfg if it exists, else the embedded
        /// defaults].
        config: Option<PathBuf>,
    },
    /// Stop the server that `start` started (SIGTERM, then SIGKILL after 15 s).
    Stop {
        /// The zoo.cfg it was started with (it names the dataDir that holds
        /// the pid file) [default: ./zoo.cfg, else the embedded defaults].
        config: Option<PathBuf>,
    },
    /// Print the mode (standalone, leader, follower, observer, read-only) of
    /// the server in the pid file; exit code 1 if it is not running.
    Status {
        /// The zoo.cfg it was started with [default: ./zoo.cfg, else the
        /// embedded defaults].
        config: Option<PathBuf>,
    },
    /// Stop, then start.
    Restart {
        /// The zoo.cfg [default: ./zoo.cfg, else the embedded defaults].
        config: Option<PathBuf>,
    },
    /// Print a transaction log segment, one txn per line (like ZooKeeper's
    /// LogFormatter).
    DumpLog {
        /// A log segment: dataLogDir/version-2/log.<zxid>.
        file: PathBuf,
    },
    /// Print a snapshot: every node with its stat and ACL, and the sessions
    /// (like ZooKeeper's SnapshotFormatter).
    DumpSnapshot {
        /// A snapshot: dataDir/version-2/snapshot.<zxid>.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check every checksum of the logs and snapshots in a directory; exit
    /// code 1 on damage.
    Verify {
        /// A dataDir or dataLogDir (or its version-2 directory).
        dir: PathBuf,
    },
    /// Run an ensemble on this machine for trying things out: one process
    /// per member, supervised; type `help` for the commands it takes.
    Cluster(cluster::ClusterArgs),
    /// Delete all but the newest snapshots and the log segments they no
    /// longer need (like zkCleanup.sh).
    Purge {
        /// The zoo.cfg naming dataDir and dataLogDir [default: ./zoo.cfg,
        /// else the embedded defaults].
        config: Option<PathBuf>,
        /// How many snapshots to keep (at least 3).
        #[arg(short = 'n', long, default_value_t = 3)]
        count: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("zk-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        None => foreground(config_path(None).as_deref(), None),
        Some(Command::StartForeground { config, pid_file }) => {
            foreground(config_path(config).as_deref(), pid_file)
        }
        Some(Command::Container) => {
            let cfg = zk_server::config::container::prepare(
                &zk_server::config::container::process_env(),
            )?;
            foreground(Some(&cfg), None)
        }
        Some(Command::Probe { check, server }) => Ok(control::probe(check, &server)),
        Some(Command::Start { config }) => control::start(config_path(config).as_deref()),
        Some(Command::Stop { config }) => control::stop(&load_opt(config.as_deref())?),
        Some(Command::Status { config }) => control::status(&load_opt(config.as_deref())?),
        Some(Command::DumpLog { file }) => print_tool(zk_server::tools::dump_log(&file)),
        Some(Command::DumpSnapshot { file, json }) => {
            print_tool(zk_server::tools::dump_snapshot(&file, json))
        }
        Some(Command::Verify { dir }) => print_tool(zk_server::tools::verify(&dir)),
        Some(Command::Purge { config, count }) => {
            let config = load_opt(config.as_deref())?;
            let deleted = zk_server::persist::purge::purge(
                &zk_server::persist::FileStorage,
                &config.data_dir,
                &config.data_log_dir,
                count,
            )?;
            for path in &deleted {
                println!("removed {}", path.display());
            }
            println!("{} files removed", deleted.len());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Cluster(args)) => cluster::run(&args),
        Some(Command::Restart { config }) => {
            let path = config_path(config);
            control::stop(&load_opt(path.as_deref())?)?;
            control::start(path.as_deref())
        }
    }
}

/// Prints a tool's output; its error goes to stderr with exit code 1.
fn print_tool(result: Result<String, zk_server::tools::ToolError>) -> Result<ExitCode> {
    match result {
        Ok(text) => {
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("zk-server: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The config file to use: the one given, else `./zoo.cfg` when it exists
/// (as zkServer.sh finds conf/zoo.cfg), else none (the embedded defaults).
fn config_path(given: Option<PathBuf>) -> Option<PathBuf> {
    given.or_else(|| Some(PathBuf::from("zoo.cfg")).filter(|p| p.exists()))
}

/// The configuration from `path`, or the embedded defaults; the errors
/// name the file and the key.
pub(crate) fn load_opt(path: Option<&Path>) -> Result<Config> {
    match path.map(PathBuf::from).or_else(|| config_path(None)) {
        Some(p) => Ok(Config::from_file(&p)?),
        None => Ok(Config::default()),
    }
}

fn foreground(config_path: Option<&Path>, pid_file: Option<PathBuf>) -> Result<ExitCode> {
    let config = load_opt(config_path)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the tokio runtime")?;
    runtime.block_on(async {
        let server = Server::start(config).await?;
        if let Some(path) = &pid_file {
            control::write_pid_file(path)
                .with_context(|| format!("cannot write the pid file {}", path.display()))?;
        }
        let stop = CancellationToken::new();
        let on_signal = stop.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down");
            on_signal.cancel();
        });
        server.run_until(stop).await;
        if let Some(path) = &pid_file {
            let _ = std::fs::remove_file(path);
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
