//! `zk-server cluster --nodes N`: an ensemble on one machine for trying
//! things out. Each member is its own process (so one can be killed),
//! with its zoo.cfg and myid under `DIR/nK`, clients on 2181, 2182, ...,
//! peers on 2888+K-1 and elections on 3888+K-1, as ZooKeeper's docs lay
//! out a local ensemble.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};

#[derive(clap::Args, Debug)]
pub struct ClusterArgs {
    #[arg(long, default_value_t = 3)]
    pub nodes: u16,
    #[arg(long, default_value = "zk-cluster")]
    pub dir: PathBuf,
    #[arg(long, default_value_t = 2181)]
    pub client_port: u16,
    #[arg(long, default_value_t = 2888)]
    pub peer_port: u16,
    #[arg(long, default_value_t = 3888)]
    pub election_port: u16,
    /// An extra zoo.cfg line for every member (repeatable), e.g.
    /// `--set tickTime=200`.
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// The zoo.cfg of member `sid` (1-based).
pub fn member_config(args: &ClusterArgs, sid: u16, data_dir: &Path) -> String {
    let mut cfg = format!(
        "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={}\n\
         4lw.commands.whitelist=*\n",
        data_dir.display(),
        args.client_port + sid - 1,
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
/// config paths.
pub fn lay_out(args: &ClusterArgs) -> Result<Vec<PathBuf>> {
    if args.nodes == 0 || args.nodes > 255 {
        bail!("--nodes must be between 1 and 255");
    }
    let mut paths = Vec::new();
    for sid in 1..=args.nodes {
        let dir = args.dir.join(format!("n{sid}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let abs = std::fs::canonicalize(&dir)?;
        std::fs::write(abs.join("myid"), format!("{sid}\n"))?;
        let cfg = abs.join("zoo.cfg");
        std::fs::write(&cfg, member_config(args, sid, &abs))?;
        paths.push(cfg);
    }
    Ok(paths)
}

/// Starts every member and waits for Ctrl-C (or SIGTERM), then stops them.
pub fn run(args: &ClusterArgs, wait: impl FnOnce()) -> Result<ExitCode> {
    let configs = lay_out(args)?;
    let exe = std::env::current_exe().context("locating zk-server")?;
    let mut children: Vec<Child> = Vec::new();
    for (i, cfg) in configs.iter().enumerate() {
        let out_path = cfg.with_file_name("zk-server.out");
        let out = std::fs::File::create(&out_path)?;
        let child = Command::new(&exe)
            .arg("start-foreground")
            .arg(cfg)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting member {}", i + 1))?;
        println!(
            "member {} (pid {}): clients on 127.0.0.1:{}, config {}, log {}",
            i + 1,
            child.id(),
            args.client_port + i as u16,
            cfg.display(),
            out_path.display()
        );
        children.push(child);
    }
    let hosts: Vec<String> = (0..args.nodes)
        .map(|i| format!("127.0.0.1:{}", args.client_port + i))
        .collect();
    println!("connect string: {}", hosts.join(","));
    println!("Ctrl-C stops the cluster; kill a member's pid to try a failover.");
    wait();
    for child in &mut children {
        let _ = Command::new("kill").arg(child.id().to_string()).status();
    }
    for child in &mut children {
        let _ = child.wait();
    }
    Ok(ExitCode::SUCCESS)
}
