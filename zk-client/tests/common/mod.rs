//! Where the client tests run: against the servers in `ZK_SERVERS` (for
//! example an Apache ZooKeeper) when it is set, else against our own
//! `zk-server` started in-process on a free port. Every test works under
//! its own root path, so tests can share a server and run in parallel.

#![allow(dead_code)]

use std::time::Duration;

use zk_client::{Client, CreateOptions};

/// A server (or ensemble) for one test, and a unique root under it.
pub struct TestEnv {
    pub servers: String,
    pub root: String,
    server: Option<zk_server::Server>,
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
        let config = zk_server::Config::parse(
            "tickTime=200\nclientPort=0\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\n\
             4lw.commands.whitelist=*\nextendedTypesEnabled=true\nznode.container.checkIntervalMs=200\n",
        )
        .expect("config");
        let server = zk_server::Server::start(config)
            .await
            .expect("server starts");
        TestEnv {
            servers: server.local_addr().to_string(),
            root,
            server: Some(server),
        }
    }

    /// Whether the tests run against our in-process server.
    pub fn is_ours(&self) -> bool {
        self.server.is_some()
    }

    /// A client whose chroot is this test's root (created first).
    pub async fn client(&self) -> Client {
        let plain = self.plain_client().await;
        match plain
            .create(&self.root, b"", &CreateOptions::persistent())
            .await
        {
            Ok(_) | Err(zk_client::Error::NodeExists) => {}
            Err(e) => panic!("creating the test root: {e}"),
        }
        plain.close().await;
        Client::builder(&format!("{}{}", self.servers, self.root))
            .expect("connect string")
            .session_timeout(Duration::from_secs(6))
            .connect()
            .await
            .expect("connect")
    }

    /// A client without chroot.
    pub async fn plain_client(&self) -> Client {
        Client::builder(&self.servers)
            .expect("connect string")
            .session_timeout(Duration::from_secs(6))
            .connect()
            .await
            .expect("connect")
    }

    pub async fn stop(self) {
        if let Some(server) = self.server {
            server.shutdown().await;
        }
    }
}
