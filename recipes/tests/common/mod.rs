//! Where the recipe tests run: against the servers in `ZK_SERVERS` (for
//! example an Apache ZooKeeper) when it is set, else against our own
//! `zk-server` started in-process on a free port. Every test works under
//! its own root path (every client is chrooted there), so tests can share a
//! server and run in parallel.
//!
//! Also here: frameworks with separate sessions, a TCP proxy that can be
//! cut (to lose the connection, and with a long enough cut the session,
//! without restarting the server), and helpers that wait by polling with a
//! deadline.

#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;
use zk_client::{Client, ClientBuilder, CreateOptions, SessionState};
use zk_recipes::Framework;

/// The longest any single wait in a test may take before it fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

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
        let root = format!("/r-{:016x}", fastrand::u64(..));
        let env = match std::env::var("ZK_SERVERS") {
            Ok(servers) => TestEnv {
                servers,
                root,
                server: None,
            },
            Err(_) => {
                let server = zk_testing::TestingServer::start()
                    .await
                    .expect("the test server starts");
                TestEnv {
                    servers: server.connect_string(),
                    root,
                    server: Some(server),
                }
            }
        };
        env.ensure_root().await;
        env
    }

    /// Whether the tests run against our in-process server.
    pub fn is_ours(&self) -> bool {
        self.server.is_some()
    }

    /// A session timeout short enough for tests that wait for an expiry:
    /// the server's minimum or close to it (Apache's is 4 s with tickTime
    /// 2000; ours, with tickTime 200, takes 2 s).
    pub fn short_session(&self) -> Duration {
        if self.is_ours() {
            Duration::from_secs(2)
        } else {
            Duration::from_secs(4)
        }
    }

    /// The first server of the connect string (what a proxy forwards to).
    pub fn first_server(&self) -> String {
        self.servers
            .split(',')
            .next()
            .expect("a server")
            .trim()
            .to_owned()
    }

    /// Creates this test's root if it is not there yet.
    async fn ensure_root(&self) {
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

    /// Options for a client chrooted at this test's root.
    pub fn builder(&self) -> ClientBuilder {
        Client::builder(&format!("{}{}", self.servers, self.root))
            .expect("connect string")
            .session_timeout(SESSION_TIMEOUT)
    }

    /// Options for a client that reaches the server through `proxy`,
    /// chrooted at this test's root, with a short session timeout.
    pub fn proxied(&self, proxy: &Proxy) -> ClientBuilder {
        Client::builder(&format!("{}{}", proxy.addr(), self.root))
            .expect("connect string")
            .session_timeout(self.short_session())
    }

    /// A client chrooted at this test's root.
    pub async fn client(&self) -> Client {
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

    /// A framework (its own session) chrooted at this test's root.
    pub async fn framework(&self) -> Framework {
        within("framework connect", Framework::connect(self.builder()))
            .await
            .expect("framework connects")
    }

    /// `n` frameworks, each with its own session.
    pub async fn frameworks(&self, n: usize) -> Vec<Framework> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.framework().await);
        }
        out
    }

    /// A proxy in front of the first server.
    pub async fn proxy(&self) -> Proxy {
        Proxy::start(&self.first_server()).await
    }

    /// A framework whose sessions go through a proxy of their own (short
    /// session timeout): cut the proxy to lose the connection.
    pub async fn proxied_framework(&self) -> (Framework, Proxy) {
        let proxy = self.proxy().await;
        let fw = within(
            "framework connect",
            Framework::connect(self.proxied(&proxy)),
        )
        .await
        .expect("framework connects");
        (fw, proxy)
    }

    /// Closes the frameworks, removes this test's root (best effort, on a
    /// shared server) and stops our server.
    pub async fn finish(self, frameworks: &[Framework]) {
        for fw in frameworks {
            fw.close().await;
        }
        if self.server.is_none() {
            let plain = self.plain_client().await;
            delete_tree(&plain, &self.root).await;
            plain.close().await;
        }
        if let Some(mut server) = self.server {
            server.stop().await;
        }
    }
}

/// Deletes `path` and everything under it, ignoring errors.
pub async fn delete_tree(client: &Client, path: &str) {
    let mut order = vec![path.to_owned()];
    let mut i = 0;
    while i < order.len() {
        if let Ok((kids, _)) = client.get_children(&order[i]).await {
            let base = order[i].clone();
            order.extend(kids.iter().map(|k| format!("{base}/{k}")));
        }
        i += 1;
    }
    for p in order.iter().rev() {
        let _ = client.delete(p, None).await;
    }
}

/// The children of `dir`, sorted; empty when it does not exist (lock
/// directories are containers the server may delete once empty).
pub async fn children(client: &Client, dir: &str) -> Vec<String> {
    // Other sessions may be on other members of an ensemble.
    client.sync("/").await.expect("sync");
    match client.get_children(dir).await {
        Ok((mut kids, _)) => {
            kids.sort();
            kids
        }
        Err(zk_client::Error::NoNode) => Vec::new(),
        Err(e) => panic!("get_children {dir}: {e}"),
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
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
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

/// Waits until the framework runs a session of generation `generation` (or
/// later), and returns its client.
pub async fn wait_generation(fw: &Framework, generation: u64) -> Client {
    let mut rx = fw.sessions();
    within(
        &format!("session generation {generation}"),
        rx.wait_for(|c| c.generation >= generation),
    )
    .await
    .expect("framework alive");
    fw.client()
}

pub use zk_testkit::Proxy;

/// Ends the session of `client` (which reaches the server through `proxy`)
/// at once, as Curator's test `KillSession` does: cuts the proxy so the
/// client cannot get back, attaches to the session from a second
/// connection and closes it there. The server deletes the session's
/// ephemerals now; the client hears `Expired` once the proxy is restored.
pub async fn kill_session(env: &TestEnv, proxy: &Proxy, client: &Client) {
    proxy.cut();
    let info = client.session();
    let attach = Client::builder(&env.servers)
        .expect("connect string")
        .session(info.id, &info.password)
        .session_timeout(info.timeout)
        .connect();
    let killer = within("attach to the session", attach)
        .await
        .expect("attach to the session");
    killer.close().await;
}

/// Cuts the proxies in turn, briefly (far shorter than a session timeout,
/// so sessions live), `cycles` times; then restores them all and sets
/// `stop`. Requests in flight at a cut fail with `ConnectionLoss`, some
/// after the server applied them. The caller keeps the proxies (a dropped
/// proxy stops forwarding for good).
pub fn cut_repeatedly(
    proxies: &[Arc<Proxy>],
    cycles: usize,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    let proxies = proxies.to_vec();
    tokio::spawn(async move {
        for i in 0..cycles {
            let proxy = &proxies[i % proxies.len()];
            proxy.cut();
            tokio::time::sleep(Duration::from_millis(5 + fastrand::u64(..40))).await;
            proxy.restore();
            tokio::time::sleep(Duration::from_millis(10 + fastrand::u64(..40))).await;
        }
        for p in &proxies {
            p.restore();
        }
        stop.store(true, Ordering::SeqCst);
    })
}
