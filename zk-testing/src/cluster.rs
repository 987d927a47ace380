//! An ensemble in the test's own process (Curator's `TestingCluster`):
//! every member a real zk-server on loopback ports with its data in a
//! temporary directory, so a member can be killed, restarted from its data,
//! and cut off from the others.

use std::sync::Arc;
use std::time::Duration;

use zk_server::persist::FileStorage;
use zk_server::{Config, Server};

use crate::four::{mode, serves};
use crate::net::CuttableNet;
use crate::server::TEST_DEFAULTS;
use crate::{Error, TempDir};

/// How long [`TestingCluster::leader`] waits for the ensemble to settle.
const SETTLE: Duration = Duration::from_secs(30);

/// An ensemble of zk-servers in this process; dropping it stops every
/// member.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// use zk_client::{Client, CreateOptions};
/// use zk_testing::TestingCluster;
///
/// let mut cluster = TestingCluster::start(3).await?;
/// let client = Client::connect(&cluster.connect_string()).await?;
/// client.create("/kept", b"", &CreateOptions::persistent()).await?;
///
/// // The leader dies; the others elect a new one and keep the data.
/// let old = cluster.leader().await?;
/// cluster.kill(old).await;
/// let new = cluster.leader().await?;
/// assert_ne!(old, new);
/// let other = Client::connect(&cluster.client_addr(new)).await?;
/// other.sync("/kept").await?;
/// assert!(other.exists("/kept").await?.is_some());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TestingCluster {
    members: Vec<Member>,
}

#[derive(Debug)]
struct Member {
    sid: u64,
    config: Config,
    /// The member's dataDir, removed with the cluster.
    _dir: TempDir,
    net: CuttableNet,
    server: Option<Server>,
}

/// Options for a [`TestingCluster`]; finish with [`TestingClusterBuilder::start`].
#[derive(Debug, Clone)]
pub struct TestingClusterBuilder {
    voters: usize,
    observers: usize,
    lines: Vec<String>,
}

fn free_port() -> Result<u16, Error> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(Error::TempDir)
}

impl TestingClusterBuilder {
    /// One more zoo.cfg line for every member, after the test defaults.
    pub fn config(mut self, line: &str) -> Self {
        self.lines.push(line.to_owned());
        self
    }

    /// Observers besides the voting members (they get every write, never
    /// vote).
    pub fn observers(mut self, n: usize) -> Self {
        self.observers = n;
        self
    }

    /// Starts every member and waits for a leader.
    pub async fn start(self) -> Result<TestingCluster, Error> {
        let n = self.voters + self.observers;
        let mut ports = Vec::with_capacity(n);
        for _ in 0..n {
            ports.push((free_port()?, free_port()?, free_port()?));
        }
        let mut servers = String::new();
        for (i, (client, peer, election)) in ports.iter().enumerate() {
            let role = if i >= self.voters { ":observer" } else { "" };
            // With the client address, as ZooKeeper 3.5+ writes server
            // lines: members (and the web console) can tell each other's.
            servers.push_str(&format!(
                "server.{}=127.0.0.1:{peer}:{election}{role};127.0.0.1:{client}\n",
                i + 1
            ));
        }
        let mut members = Vec::with_capacity(n);
        for (i, (client_port, _, _)) in ports.iter().enumerate() {
            let sid = i as u64 + 1;
            let dir = TempDir::new(&format!("zk-testing-member-{sid}"))?;
            let observer = if i >= self.voters {
                "peerType=observer\n"
            } else {
                ""
            };
            let mut text = format!(
                "{TEST_DEFAULTS}initLimit=20\nsyncLimit=10\nmaxSessionTimeout=60000\n\
                 dataDir={}\nclientPort={client_port}\nclientPortAddress=127.0.0.1\n\
                 {observer}{servers}",
                dir.path().display()
            );
            for line in &self.lines {
                text.push_str(line);
                text.push('\n');
            }
            let mut config = Config::parse(&text).map_err(Error::Config)?;
            config.myid = Some(sid);
            config.resolve_membership().map_err(Error::Config)?;
            members.push(Member {
                sid,
                config,
                _dir: dir,
                net: CuttableNet::new(*client_port),
                server: None,
            });
        }
        // Together: each member waits for a quorum before it serves.
        let started = futures::future::join_all(members.iter().map(Member::launch)).await;
        for (m, server) in members.iter_mut().zip(started) {
            m.server = Some(server?);
        }
        let cluster = TestingCluster { members };
        cluster.leader().await?;
        Ok(cluster)
    }
}

impl Member {
    async fn launch(&self) -> Result<Server, Error> {
        Server::start_with(
            self.config.clone(),
            Arc::new(FileStorage),
            Arc::new(self.net.handle()),
        )
        .await
        .map_err(Error::Start)
    }

    fn client_addr(&self) -> String {
        format!("127.0.0.1:{}", self.config.client_port)
    }
}

impl TestingCluster {
    /// `voters` voting members with the test defaults; serves when this
    /// returns (a leader is elected).
    pub async fn start(voters: usize) -> Result<TestingCluster, Error> {
        TestingCluster::builder(voters).start().await
    }

    /// Options: observers, more zoo.cfg lines.
    pub fn builder(voters: usize) -> TestingClusterBuilder {
        TestingClusterBuilder {
            voters,
            observers: 0,
            lines: Vec::new(),
        }
    }

    /// Every member's client address, comma-separated.
    pub fn connect_string(&self) -> String {
        let all: Vec<String> = self.members.iter().map(Member::client_addr).collect();
        all.join(",")
    }

    /// Member `sid`'s client address (`127.0.0.1:PORT`); members are
    /// numbered from 1.
    pub fn client_addr(&self, sid: u64) -> String {
        self.member(sid).client_addr()
    }

    /// Member `sid`'s admin server address while it runs.
    pub fn admin_addr(&self, sid: u64) -> Option<std::net::SocketAddr> {
        self.member(sid).server.as_ref()?.admin_addr()
    }

    /// Member `sid`'s Prometheus endpoint while it runs, when the config
    /// lines turn it on.
    pub fn metrics_addr(&self, sid: u64) -> Option<std::net::SocketAddr> {
        self.member(sid).server.as_ref()?.metrics_addr()
    }

    /// The members' ids, 1..=N.
    pub fn sids(&self) -> Vec<u64> {
        self.members.iter().map(|m| m.sid).collect()
    }

    fn member(&self, sid: u64) -> &Member {
        self.members
            .iter()
            .find(|m| m.sid == sid)
            .unwrap_or_else(|| panic!("no member {sid} in this cluster"))
    }

    fn member_mut(&mut self, sid: u64) -> &mut Member {
        self.members
            .iter_mut()
            .find(|m| m.sid == sid)
            .unwrap_or_else(|| panic!("no member {sid} in this cluster"))
    }

    /// What member `sid` says it is (`leader`, `follower`, `observer`,
    /// `looking`, `read-only`), or None if it does not answer.
    pub async fn mode(&self, sid: u64) -> Option<String> {
        mode(&self.member(sid).client_addr()).await
    }

    /// Waits until the running members agree on one leader and every one
    /// of them serves; returns the leader's id.
    pub async fn leader(&self) -> Result<u64, Error> {
        let deadline = tokio::time::Instant::now() + SETTLE;
        loop {
            let mut leaders = Vec::new();
            let mut settled = true;
            for m in self.members.iter().filter(|m| m.server.is_some()) {
                match mode(&m.client_addr()).await {
                    Some(mode) if mode == "leader" => leaders.push(m.sid),
                    Some(mode) if serves(&mode) => {}
                    _ => settled = false,
                }
            }
            if settled && leaders.len() == 1 {
                return Ok(leaders[0]);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::NoLeader(SETTLE));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops member `sid` at once: its client and peer connections drop,
    /// the others see it gone (its data stays, for a restart).
    pub async fn kill(&mut self, sid: u64) {
        if let Some(server) = self.member_mut(sid).server.take() {
            server.shutdown().await;
        }
    }

    /// Starts member `sid` again from its data (it catches up from the
    /// leader); does not wait for it to serve ([`TestingCluster::leader`]
    /// does).
    pub async fn restart(&mut self, sid: u64) -> Result<(), Error> {
        self.kill(sid).await;
        let m = self.member_mut(sid);
        m.server = Some(m.launch().await?);
        Ok(())
    }

    /// Cuts member `sid` off from the other members (its clients still
    /// reach it): a minority loses its quorum, the rest elect without it.
    pub fn partition(&self, sid: u64) {
        self.member(sid).net.cut();
    }

    /// Ends [`TestingCluster::partition`] of member `sid`.
    pub fn heal(&self, sid: u64) {
        self.member(sid).net.heal();
    }

    /// Stops every member and waits for them.
    pub async fn stop(mut self) {
        for m in &mut self.members {
            if let Some(server) = m.server.take() {
                server.shutdown().await;
            }
        }
    }
}

impl Drop for TestingCluster {
    fn drop(&mut self) {
        for m in &mut self.members {
            if let Some(server) = m.server.take() {
                server.cancel();
            }
        }
    }
}
