//! ZooKeeper in Docker containers, with testcontainers: our image
//! (`zk-rs:latest`, built by `deploy/build-image.sh`) or the official
//! `zookeeper` image, behind one API, since both read the same `ZOO_*`
//! variables. A single server, or an N-member ensemble on a network of its
//! own whose members can be killed, paused, restarted and cut off. Ready
//! means the server serves (`srvr` says standalone, leader or follower),
//! not that a log line went by. Containers go when dropped.
//!
//! ```no_run
//! # async fn demo() -> Result<(), zk_testing::Error> {
//! use zk_testing::containers::{ContainerEnsemble, ZkContainer, ZooKeeperImage};
//!
//! let one = ZkContainer::start(ZooKeeperImage::zk_rs()).await?;
//! let client = zk_client::Client::connect(&one.connect_string()).await;
//!
//! let mut three = ContainerEnsemble::start(ZooKeeperImage::apache("3.9"), 3).await?;
//! let leader = three.leader().await?;
//! three.kill(leader).await?;
//! three.leader().await?;
//! # Ok(()) }
//! ```

use std::borrow::Cow;
use std::process::Command;
use std::time::Duration;

use testcontainers::core::{ContainerPort, IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, Image, ImageExt};

use crate::Error;
use crate::four::{mode, serves};

/// How long a container may take to serve after it starts.
const READY: Duration = Duration::from_secs(60);

const PORTS: [ContainerPort; 3] = [
    ContainerPort::Tcp(2181),
    ContainerPort::Tcp(2888),
    ContainerPort::Tcp(3888),
];

/// A ZooKeeper image and the `ZOO_*` variables to start it with.
#[derive(Debug, Clone)]
pub struct ZooKeeperImage {
    name: String,
    tag: String,
    env: Vec<(String, String)>,
}

impl ZooKeeperImage {
    /// Ours: `zk-rs:latest` (`deploy/build-image.sh` builds it; there is
    /// nothing to pull).
    pub fn zk_rs() -> ZooKeeperImage {
        ZooKeeperImage::new("zk-rs", "latest")
    }

    /// The official image, `zookeeper:<tag>` (pulled if missing).
    pub fn apache(tag: &str) -> ZooKeeperImage {
        ZooKeeperImage::new("zookeeper", tag)
    }

    /// Any image that follows the official image's conventions.
    pub fn new(name: &str, tag: &str) -> ZooKeeperImage {
        ZooKeeperImage {
            name: name.to_owned(),
            tag: tag.to_owned(),
            // Readiness asks srvr, whitelisted by default; the rest helps a
            // test look inside.
            env: vec![("ZOO_4LW_COMMANDS_WHITELIST".into(), "*".into())],
        }
    }

    /// One more variable, e.g. `("ZOO_TICK_TIME", "500")` or
    /// `("ZOO_CFG_EXTRA", "maxSessionTimeout=60000")`.
    pub fn with_env(mut self, var: &str, value: &str) -> ZooKeeperImage {
        self.env.retain(|(k, _)| k != var);
        self.env.push((var.to_owned(), value.to_owned()));
        self
    }
}

impl Image for ZooKeeperImage {
    fn name(&self) -> &str {
        &self.name
    }

    fn tag(&self) -> &str {
        &self.tag
    }

    fn ready_conditions(&self) -> Vec<WaitFor> {
        // Readiness is checked with srvr once the port is mapped.
        Vec::new()
    }

    fn env_vars(
        &self,
    ) -> impl IntoIterator<Item = (impl Into<Cow<'_, str>>, impl Into<Cow<'_, str>>)> {
        self.env.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn expose_ports(&self) -> &[ContainerPort] {
        &PORTS
    }
}

fn container_error(e: impl std::fmt::Display) -> Error {
    Error::Container(e.to_string())
}

/// A name unique to this run: pid, a counter, the clock.
fn unique(prefix: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}-{}-{n}-{nanos:x}", std::process::id())
}

/// A host port free a moment ago; fixed, so a restarted container keeps
/// its address (Docker would pick a new random one).
fn free_port() -> Result<u16, Error> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(container_error)
}

/// One ZooKeeper container, its client port published on the host.
#[derive(Debug)]
pub struct ZkContainer {
    container: ContainerAsync<ZooKeeperImage>,
    name: String,
    host_port: u16,
}

impl ZkContainer {
    /// Starts a standalone server and waits until it serves.
    pub async fn start(image: ZooKeeperImage) -> Result<ZkContainer, Error> {
        let c = ZkContainer::launch(image, &unique("zk"), None).await?;
        c.wait_serving().await?;
        Ok(c)
    }

    async fn launch(
        image: ZooKeeperImage,
        name: &str,
        network: Option<&str>,
    ) -> Result<ZkContainer, Error> {
        let host_port = free_port()?;
        let mut request = image
            .with_container_name(name)
            .with_hostname(name)
            .with_mapped_port(host_port, 2181.tcp())
            .with_startup_timeout(READY);
        if let Some(net) = network {
            request = request.with_network(net);
        }
        let container = request.start().await.map_err(container_error)?;
        Ok(ZkContainer {
            container,
            name: name.to_owned(),
            host_port,
        })
    }

    /// `127.0.0.1:PORT` on the host.
    pub fn connect_string(&self) -> String {
        format!("127.0.0.1:{}", self.host_port)
    }

    /// The container's name (also its host name on its network).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Docker container id.
    pub fn id(&self) -> &str {
        self.container.id()
    }

    /// What `srvr` says the server is, if it answers.
    pub async fn mode(&self) -> Option<String> {
        mode(&self.connect_string()).await
    }

    async fn wait_serving(&self) -> Result<String, Error> {
        let deadline = tokio::time::Instant::now() + READY;
        loop {
            if let Some(m) = self.mode().await.filter(|m| serves(m)) {
                return Ok(m);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Container(format!(
                    "{} does not serve after {READY:?}",
                    self.name
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: the server stops at once, as on a crash.
    pub async fn kill(&self) -> Result<(), Error> {
        self.container
            .stop_with_timeout(Some(0))
            .await
            .map_err(container_error)
    }

    /// Starts it again (same name, data and host port); does not wait for
    /// it to serve.
    pub async fn start_again(&self) -> Result<(), Error> {
        self.container.start().await.map_err(container_error)
    }

    /// Freezes every process of the container (a stalled server: its
    /// sockets stay open, nothing answers).
    pub async fn pause(&self) -> Result<(), Error> {
        self.container.pause().await.map_err(container_error)
    }

    /// Ends [`ZkContainer::pause`].
    pub async fn unpause(&self) -> Result<(), Error> {
        self.container.unpause().await.map_err(container_error)
    }
}

/// An ensemble of containers on a Docker network of its own, configured
/// as the official image's compose example (`ZOO_MY_ID`, `ZOO_SERVERS`).
/// Members are numbered from 1.
#[derive(Debug)]
pub struct ContainerEnsemble {
    network: String,
    members: Vec<ZkContainer>,
}

impl ContainerEnsemble {
    /// Starts `n` members and waits until they have a leader.
    pub async fn start(image: ZooKeeperImage, n: usize) -> Result<ContainerEnsemble, Error> {
        let network = unique("zk-net");
        let names: Vec<String> = (1..=n).map(|i| format!("{network}-{i}")).collect();
        let servers: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, name)| format!("server.{}={name}:2888:3888;2181", i + 1))
            .collect();
        let servers = servers.join(" ");
        let mut members = Vec::with_capacity(n);
        for (i, name) in names.iter().enumerate() {
            let image = image
                .clone()
                .with_env("ZOO_MY_ID", &(i + 1).to_string())
                .with_env("ZOO_SERVERS", &servers);
            members.push(ZkContainer::launch(image, name, Some(&network)).await?);
        }
        for m in &members {
            m.wait_serving().await?;
        }
        Ok(ContainerEnsemble { network, members })
    }

    /// Every member's host address, comma-separated.
    pub fn connect_string(&self) -> String {
        let all: Vec<String> = self
            .members
            .iter()
            .map(ZkContainer::connect_string)
            .collect();
        all.join(",")
    }

    /// The Docker network the members share.
    pub fn network(&self) -> &str {
        &self.network
    }

    /// Member `sid` (1-based).
    pub fn member(&self, sid: u64) -> &ZkContainer {
        usize::try_from(sid)
            .ok()
            .and_then(|s| s.checked_sub(1))
            .and_then(|i| self.members.get(i))
            .unwrap_or_else(|| panic!("no member {sid} in this ensemble"))
    }

    /// The members' ids.
    pub fn sids(&self) -> Vec<u64> {
        (1..=self.members.len() as u64).collect()
    }

    /// Waits until one member leads and a majority serves (a killed,
    /// paused or cut-off member may be among the rest); returns the
    /// leader's id.
    pub async fn leader(&self) -> Result<u64, Error> {
        let deadline = tokio::time::Instant::now() + READY;
        loop {
            let mut leaders = Vec::new();
            let mut serving = 0;
            for sid in self.sids() {
                match self.member(sid).mode().await {
                    Some(m) if m == "leader" => {
                        leaders.push(sid);
                        serving += 1;
                    }
                    Some(m) if serves(&m) => serving += 1,
                    _ => {}
                }
            }
            if leaders.len() == 1 && serving * 2 > self.members.len() {
                return Ok(leaders[0]);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::NoLeader(READY));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL to member `sid`.
    pub async fn kill(&mut self, sid: u64) -> Result<(), Error> {
        self.member(sid).kill().await
    }

    /// Starts member `sid` again (after [`ContainerEnsemble::kill`]).
    pub async fn restart(&mut self, sid: u64) -> Result<(), Error> {
        self.member(sid).start_again().await
    }

    /// Freezes member `sid`.
    pub async fn pause(&self, sid: u64) -> Result<(), Error> {
        self.member(sid).pause().await
    }

    /// Ends [`ContainerEnsemble::pause`].
    pub async fn unpause(&self, sid: u64) -> Result<(), Error> {
        self.member(sid).unpause().await
    }

    /// Cuts member `sid` off the ensemble's network (`docker network
    /// disconnect`: the others and the member cannot reach each other; the
    /// host still reaches its published port). Needs the `docker` CLI.
    pub fn partition(&self, sid: u64) -> Result<(), Error> {
        docker(&[
            "network",
            "disconnect",
            &self.network,
            self.member(sid).id(),
        ])
    }

    /// Ends [`ContainerEnsemble::partition`].
    pub fn heal(&self, sid: u64) -> Result<(), Error> {
        let m = self.member(sid);
        docker(&[
            "network",
            "connect",
            "--alias",
            m.name(),
            &self.network,
            m.id(),
        ])
    }
}

fn docker(args: &[&str]) -> Result<(), Error> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .map_err(|e| Error::Container(format!("cannot run docker: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Container(format!(
            "docker {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}
