//! `zk-bench`: load for a ZooKeeper-wire server (ours or Apache's) through
//! our client, one JSON line per run on stdout: throughput, latency
//! percentiles from HDR histograms, errors, and the CPU the given server
//! processes used in the measured window.

mod cpu;
mod run;
mod workload;

use std::time::Duration;

use clap::Parser;

use workload::Workload;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "zk-bench",
    version,
    about = "Load for a ZooKeeper-wire server; one JSON line per run",
    long_about = "Load for a ZooKeeper-wire server; one JSON line per run on stdout.\n\n\
        Workloads: read, write (setData), mixed:READ% , create, delete, lock \
        (EPHEMERAL_SEQUENTIAL create, getChildren, delete: one cycle), \
        watch:N (N watching sessions, one writer; latency from the write's \
        reply to each event), load:N[:PARENTS] (N znodes under one parent or \
        spread; creates/s at every tenth), multi:K (K setData in one multi)."
)]
pub struct Args {
    /// host:port,... ; session i uses server i mod n (unless --no-spread).
    #[arg(long, default_value = "127.0.0.1:2181")]
    pub servers: String,
    #[arg(long, default_value = "read")]
    pub workload: Workload,
    #[arg(long, default_value_t = 4)]
    pub sessions: usize,
    /// Requests in flight per session.
    #[arg(long, default_value_t = 16)]
    pub inflight: usize,
    /// Bytes of data per write.
    #[arg(long, default_value_t = 128)]
    pub payload: usize,
    /// Keys the read/write workloads pick from.
    #[arg(long, default_value_t = 1000)]
    pub keys: usize,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Seconds measured (unless --ops).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Stop after this many measured operations instead.
    #[arg(long)]
    pub ops: Option<u64>,
    /// Every session on the first server.
    #[arg(long)]
    pub no_spread: bool,
    /// Server process ids whose CPU is reported (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub watch_pids: Vec<u32>,
    /// A label copied into the JSON line.
    #[arg(long)]
    pub label: Option<String>,
    /// The znode everything happens under (deleted and made afresh).
    #[arg(long, default_value = "/zk-bench")]
    pub root: String,
}

impl Args {
    pub fn servers(&self) -> Vec<String> {
        self.servers
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub fn warmup(&self) -> Duration {
        Duration::from_secs_f64(self.warmup.max(0.0))
    }

    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration.max(0.0))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The client's own warnings (reconnects) on stderr; RUST_LOG for more.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let report = run::run(&args).await?;
    println!("{report}");
    Ok(())
}
