//! One real server in the test's own process (Curator's `TestingServer`).

use zk_server::{Config, Server};

use crate::{Error, TempDir};

/// Where a test server keeps its data.
#[derive(Debug)]
enum Data {
    /// Real files in a temporary directory (removed on drop): they
    /// survive [`TestingServer::restart`].
    Disk(TempDir),
    /// Nothing on disk (`inMemory=true`): a restart starts empty.
    Nothing,
}

/// A zk-server running in this process, on a free loopback port, with its
/// data in a temporary directory: for the tests of an application that
/// uses ZooKeeper, without Docker and without a server to install.
/// Dropping it stops it and removes its data.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use zk_client::{Client, CreateOptions};
/// use zk_testing::TestingServer;
///
/// let server = TestingServer::start().await?;
/// let client = Client::connect(&server.connect_string()).await?;
/// client.create("/app", b"ready", &CreateOptions::persistent()).await?;
/// assert_eq!(client.get_data("/app").await?.0, b"ready");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TestingServer {
    server: Option<Server>,
    config: String,
    port: u16,
    /// The TLS port once bound (`secureClientPort` in the config lines).
    secure_port: Option<u16>,
    /// Kept for its temporary directory, removed on drop.
    _data: Data,
}

/// Options for a [`TestingServer`]; finish with [`TestingServerBuilder::start`].
#[derive(Debug, Default, Clone)]
pub struct TestingServerBuilder {
    lines: Vec<String>,
    port: u16,
    in_memory: bool,
}

/// What every test server runs with, before the caller's lines: a short
/// tick (sessions of 0.4 to 4 s), every four-letter word, TTL nodes,
/// containers and TTL nodes reaped every 200 ms, and the admin server on
/// a free port of 127.0.0.1 (tests run side by side; 8080 is one port).
pub(crate) const TEST_DEFAULTS: &str = "tickTime=200\nmaxClientCnxns=0\n\
    4lw.commands.whitelist=*\nextendedTypesEnabled=true\nznode.container.checkIntervalMs=200\n\
    admin.serverAddress=127.0.0.1\nadmin.serverPort=0\n";

impl TestingServerBuilder {
    /// One more zoo.cfg line (`key=value`), after the test defaults; e.g.
    /// `maxSessionTimeout=60000`.
    pub fn config(mut self, line: &str) -> Self {
        self.lines.push(line.to_owned());
        self
    }

    /// TLS on a free second port (`secureClientPort`), with this key
    /// store (key and certificate chain) and the trust store client
    /// certificates are checked against; see
    /// [`TestingServer::secure_connect_string`].
    pub fn tls(self, key_store: &std::path::Path, trust_store: &std::path::Path) -> Self {
        self.config("secureClientPort=0")
            .config(&format!("ssl.keyStore.location={}", key_store.display()))
            .config(&format!(
                "ssl.trustStore.location={}",
                trust_store.display()
            ))
    }

    /// SASL (DIGEST-MD5) with the users of this JAAS file's `Server`
    /// section.
    pub fn sasl(self, jaas: &std::path::Path) -> Self {
        self.config("authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider")
            .config(&format!("jaasLoginConfig={}", jaas.display()))
    }

    /// The client port (default: a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Keep nothing on disk (default: real files in a temporary
    /// directory): a little faster, but a restart starts empty.
    pub fn in_memory(mut self) -> Self {
        self.in_memory = true;
        self
    }

    /// Starts the server; it serves when this returns.
    pub async fn start(self) -> Result<TestingServer, Error> {
        let data = if self.in_memory {
            Data::Nothing
        } else {
            Data::Disk(TempDir::new("zk-testing-server")?)
        };
        let storage = match &data {
            Data::Nothing => "inMemory=true".to_owned(),
            Data::Disk(dir) => format!("dataDir={}", dir.path().display()),
        };
        let mut config = format!("{TEST_DEFAULTS}{storage}\n");
        for line in &self.lines {
            config.push_str(line);
            config.push('\n');
        }
        let mut server = TestingServer {
            server: None,
            config,
            port: self.port,
            secure_port: None,
            _data: data,
        };
        server.run().await?;
        Ok(server)
    }
}

impl TestingServer {
    /// A server with the test defaults, data in a temporary directory, on a
    /// free port.
    pub async fn start() -> Result<TestingServer, Error> {
        TestingServer::builder().start().await
    }

    /// Options: more zoo.cfg lines, a port, nothing on disk.
    pub fn builder() -> TestingServerBuilder {
        TestingServerBuilder::default()
    }

    async fn run(&mut self) -> Result<(), Error> {
        let mut text = format!(
            "{}clientPort={}\nclientPortAddress=127.0.0.1\nsecureClientPortAddress=127.0.0.1\n",
            self.config, self.port
        );
        if let Some(port) = self.secure_port {
            text.push_str(&format!("secureClientPort={port}\n"));
        }
        let config = Config::parse(&text).map_err(Error::Config)?;
        let server = Server::start(config).await.map_err(Error::Start)?;
        // A restart comes back on the same ports.
        self.port = server.local_addr().port();
        self.secure_port = server.secure_addr().map(|a| a.port());
        self.server = Some(server);
        Ok(())
    }

    /// `127.0.0.1:PORT`, for `Client::connect`.
    pub fn connect_string(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The admin server's address (`http://ADDR/commands/...`) while the
    /// server runs, unless `admin.enableServer=false`.
    pub fn admin_addr(&self) -> Option<std::net::SocketAddr> {
        self.server.as_ref()?.admin_addr()
    }

    /// The Prometheus endpoint's address (`http://ADDR/metrics`) when
    /// the config lines turn it on (`metricsProvider.className=...`).
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.server.as_ref()?.metrics_addr()
    }

    /// `127.0.0.1:PORT` of the TLS port, when the config lines set
    /// `secureClientPort` (0 picks a free one) and its `ssl.*` keys.
    pub fn secure_connect_string(&self) -> Option<String> {
        self.secure_port.map(|p| format!("127.0.0.1:{p}"))
    }

    /// Stops the server (clients see the connection drop), keeping its data
    /// for [`TestingServer::restart`].
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }

    /// Starts it again on the same port with the same data: sessions that
    /// reconnect in time go on.
    pub async fn restart(&mut self) -> Result<(), Error> {
        self.stop().await;
        self.run().await
    }
}

impl Drop for TestingServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.cancel();
        }
    }
}
