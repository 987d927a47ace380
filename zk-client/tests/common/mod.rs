//! Where the client tests run: against the servers in `ZK_SERVERS` (for
//! example an Apache ZooKeeper) when it is set, else against our own
//! `zk-server` started in-process on a free port. Every test works under
//! its own root path, so tests can share a server and run in parallel.
//!
//! An Apache server for these tests needs `extendedTypesEnabled=true` in
//! zoo.cfg (TTL nodes) and, to clean up containers and TTL nodes quickly,
//! the JVM flag `-Dznode.container.checkIntervalMs=200` (a system property,
//! not a zoo.cfg key; without it the cleanup test waits up to two minutes).
//! `.ci/apache-zk.sh` starts one like that. Where 3.8 and 3.9 differ, the
//! tests ask the server's version (`srvr`) and accept both.
//!
//! Also here: a TCP proxy that can be cut (to lose the connection without
//! restarting the server), and helpers that wait by polling with a deadline.

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zk_client::{Client, ClientBuilder, CreateOptions, SessionState};

/// The longest any single wait in a test may take before it fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// How long the server may take to delete an empty container or an
/// expired TTL node.
pub const CLEANUP_DEADLINE: Duration = Duration::from_secs(150);

/// The session timeout tests ask for unless they need something else (our
/// server clamps it to 4 s, an Apache with tickTime 2000 keeps it).
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(6);

/// A server (or ensemble) for one test, and a unique root under it.
pub struct TestEnv {
    pub servers: String,
    pub root: String,
    server: Option<zk_testing::TestingServer>,
}

impl TestEnv {
    pub async fn new() -> TestEnv {
        let root = format!("/t-{:016x}", fastrand::u64(..));
        if let Ok(servers) = std::env::var("ZK_SERVERS") {
            return TestEnv {
                servers,
                root,
                server: None,
            };
        }
        let server = zk_testing::TestingServer::start()
            .await
            .expect("the test server starts");
        TestEnv {
            servers: server.connect_string(),
            root,
            server: Some(server),
        }
    }

    /// Whether the tests run against our in-process server.
    pub fn is_ours(&self) -> bool {
        self.server.is_some()
    }

    /// The first server of the connect string (what a proxy forwards to and
    /// four-letter words are asked of).
    pub fn first_server(&self) -> String {
        self.servers
            .split(',')
            .next()
            .expect("a server")
            .trim()
            .to_owned()
    }

    /// Creates this test's root if it is not there yet.
    pub async fn ensure_root(&self) {
        let plain = self.plain_client().await;
        match plain
            .create(&self.root, b"", &CreateOptions::persistent())
            .await
        {
            Ok(_) | Err(zk_client::Error::NodeExists) => {}
            Err(e) => panic!("creating the test root: {e}"),
        }
        plain.close().await;
    }

    /// Options for a client chrooted at this test's root (which must exist:
    /// see [`TestEnv::ensure_root`]).
    pub fn builder(&self) -> ClientBuilder {
        Client::builder(&format!("{}{}", self.servers, self.root))
            .expect("connect string")
            .session_timeout(SESSION_TIMEOUT)
    }

    /// Options for a client that reaches the server through `proxy`,
    /// chrooted at this test's root.
    pub fn proxied(&self, proxy: &Proxy) -> ClientBuilder {
        Client::builder(&format!("{}{}", proxy.addr(), self.root))
            .expect("connect string")
            .session_timeout(SESSION_TIMEOUT)
    }

    /// A client whose chroot is this test's root (created first).
    pub async fn client(&self) -> Client {
        self.ensure_root().await;
        within("connect", self.builder().connect())
            .await
            .expect("connect")
    }

    /// A client without chroot.
    pub async fn plain_client(&self) -> Client {
        let connect = Client::builder(&self.servers)
            .expect("connect string")
            .session_timeout(SESSION_TIMEOUT)
            .connect();
        within("connect", connect).await.expect("connect")
    }

    /// A proxy in front of the first server.
    pub async fn proxy(&self) -> Proxy {
        Proxy::start(&self.first_server()).await
    }

    /// The answer to a four-letter word, or `None` if the server does not
    /// run it (not in `4lw.commands.whitelist`).
    pub async fn four_letter(&self, word: &str) -> Option<String> {
        Self::four_letter_at(&self.first_server(), word).await
    }

    async fn four_letter_at(addr: &str, word: &str) -> Option<String> {
        let mut stream = TcpStream::connect(addr).await.expect("connect for 4lw");
        stream.write_all(word.as_bytes()).await.expect("send 4lw");
        let mut out = String::new();
        within("4lw answer", stream.read_to_string(&mut out))
            .await
            .expect("read 4lw");
        (!out.contains("not in the whitelist") && !out.contains("not executed")).then_some(out)
    }

    /// The version of an Apache server (from `srvr`), `None` for ours.
    pub async fn apache_version(&self) -> Option<(u32, u32, u32)> {
        if self.is_ours() {
            return None;
        }
        let out = self.four_letter("srvr").await.expect("srvr answered");
        let v = out
            .lines()
            .find_map(|l| l.strip_prefix("Zookeeper version: "))
            .expect("a version line");
        let mut nums = v
            .split(|c: char| !c.is_ascii_digit())
            .map(|n| n.parse().expect("number"));
        Some((
            nums.next().expect("major"),
            nums.next().expect("minor"),
            nums.next().expect("patch"),
        ))
    }

    /// Whether the server behaves like ZooKeeper 3.9 or later where they
    /// differ (ours does).
    pub async fn is_3_9(&self) -> bool {
        self.apache_version().await.is_none_or(|v| v >= (3, 9, 0))
    }

    /// The paths a session watches, from `wchc` (`None` if the server does
    /// not answer it). Watches live on the server a session is connected
    /// to, so with several servers every one is asked.
    pub async fn watches_of(&self, session_id: i64) -> Option<Vec<String>> {
        let header = format!("0x{session_id:x}");
        let mut paths = Vec::new();
        for addr in self.servers.split(',') {
            let out = Self::four_letter_at(addr, "wchc").await?;
            let mut mine = false;
            for line in out.lines() {
                if let Some(path) = line.strip_prefix('\t') {
                    if mine {
                        paths.push(path.to_owned());
                    }
                } else {
                    mine = line.trim() == header;
                }
            }
        }
        Some(paths)
    }

    pub async fn stop(self) {
        if let Some(mut server) = self.server {
            server.stop().await;
        }
    }
}

/// Fails the test if `fut` takes longer than [`DEADLINE`].
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(DEADLINE, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// Polls `check` every 20 ms until it holds; fails the test after
/// [`DEADLINE`].
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    eventually_within(what, DEADLINE, check).await
}

/// Like [`eventually`] with its own deadline (the server's background
/// cleanup: an Apache started without `-Dznode.container.checkIntervalMs`
/// looks at containers and TTL nodes once a minute).
pub async fn eventually_within<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the client's state is `want`.
pub async fn wait_state(client: &Client, want: SessionState) {
    let mut rx = client.state_watcher();
    within(&format!("state {want:?}"), rx.wait_for(|s| *s == want))
        .await
        .expect("session task alive");
}

pub use zk_testkit::Proxy;

/// Whether the server takes TTL nodes: it answers Unimplemented when
/// `extendedTypesEnabled` is off (ZooKeeper's default). The reason is for
/// `zk_testkit::require!`.
pub async fn ttl_enabled(c: &Client) -> Result<(), String> {
    let probe = "/ttl-probe";
    let ttl = CreateOptions::ttl(Duration::from_secs(60));
    match c.create(probe, b"", &ttl).await {
        Ok(_) => {
            c.delete(probe, None).await.expect("delete the TTL probe");
            Ok(())
        }
        Err(zk_client::Error::Unimplemented) => {
            Err("the server has TTL nodes off (extendedTypesEnabled=false in its zoo.cfg)".into())
        }
        Err(e) => panic!("probing for TTL nodes: {e}"),
    }
}
