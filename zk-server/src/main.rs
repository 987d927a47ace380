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
    about = "A ZooKeeper-compatible coordination server"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run in the foreground from a zoo.cfg.
    StartForeground { config: PathBuf },
    /// Start in the background (pid file in dataDir, output in dataDir/zk-server.out).
    Start { config: Option<PathBuf> },
    /// Stop the server started with `start`.
    Stop { config: Option<PathBuf> },
    /// Print the server's mode, from `srvr`.
    Status { config: Option<PathBuf> },
    /// Stop, then start.
    Restart { config: Option<PathBuf> },
    /// Print a transaction log segment (`log.<zxid>`), one txn per line.
    DumpLog { file: PathBuf },
    /// Print a snapshot (`snapshot.<zxid>`): every node and session.
    DumpSnapshot {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Check every checksum of the logs and snapshots in a directory.
    Verify { dir: PathBuf },
    /// Run an ensemble of NODES members on this machine, for trying things
    /// out: clients on 2181.., data under DIR/nK.
    Cluster(cluster::ClusterArgs),
    /// Delete all but the newest COUNT snapshots (at least 3) and the log
    /// segments they cover (like zkCleanup.sh).
    Purge {
        config: Option<PathBuf>,
        #[arg(short = 'n', long, default_value_t = 3)]
        count: usize,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
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
        None => foreground(Config::default()),
        Some(Command::StartForeground { config }) => foreground(load(&config)?),
        Some(Command::Start { config }) => control::start(&config_path(config)?),
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
        Some(Command::Cluster(args)) => cluster::run(&args, || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(wait_for_signal());
            }
        }),
        Some(Command::Restart { config }) => {
            let path = config_path(config)?;
            control::stop(&load_opt(path.as_deref())?)?;
            control::start(&path)
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

fn load(path: &Path) -> Result<Config> {
    Config::from_file(path).with_context(|| format!("configuration {}", path.display()))
}

/// `./zoo.cfg` when none is given and one exists, else the defaults.
fn config_path(given: Option<PathBuf>) -> Result<Option<PathBuf>> {
    Ok(given.or_else(|| Some(PathBuf::from("zoo.cfg")).filter(|p| p.exists())))
}

fn load_opt(path: Option<&Path>) -> Result<Config> {
    match path {
        Some(p) => load(p),
        None if Path::new("zoo.cfg").exists() => load(Path::new("zoo.cfg")),
        None => Ok(Config::default()),
    }
}

fn foreground(config: Config) -> Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    runtime.block_on(async {
        let server = Server::start(config).await?;
        let stop = CancellationToken::new();
        let on_signal = stop.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down");
            on_signal.cancel();
        });
        server.run_until(stop).await;
        Ok(ExitCode::SUCCESS)
    })
}

async fn wait_for_signal() {
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
