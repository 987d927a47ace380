//! TLS to a server's `secureClientPort`, as the Java client does it with
//! `zookeeper.client.secure=true`: the servers' CA from a trust store, the
//! client's own certificate from a key store (for servers that ask, and
//! for the `x509` ACL scheme), stores in PEM, PKCS#12 or JKS.
//!
//! ```no_run
//! # async fn demo() -> zk_client::Result<()> {
//! use zk_client::Client;
//! use zk_client::tls::{ClientTls, StoreSpec};
//!
//! let tls = ClientTls::builder()
//!     .trust_store(StoreSpec::new("ca.pem"))
//!     .key_store(StoreSpec::new("client.pem")) // its key and certificate
//!     .build()?;
//! let client = Client::builder("zk1:2281,zk2:2281")?.tls(tls).connect().await?;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

pub use zk_tls::{Protocols, StoreSpec, StoreType};

use crate::error::{Error, Result};

/// A client's TLS settings, ready to connect with.
#[derive(Clone)]
pub struct ClientTls {
    connector: TlsConnector,
    server_name: Option<String>,
}

/// By hand: the rustls connector has no `Debug`.
impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

/// Options for [`ClientTls`].
#[derive(Debug, Clone)]
pub struct ClientTlsBuilder {
    trust: Option<StoreSpec>,
    identity: Option<StoreSpec>,
    verify_hostname: bool,
    protocols: Protocols,
    server_name: Option<String>,
}

impl ClientTls {
    /// Starts the settings: set at least a trust store.
    pub fn builder() -> ClientTlsBuilder {
        ClientTlsBuilder {
            trust: None,
            identity: None,
            verify_hostname: true,
            protocols: Protocols::default(),
            server_name: None,
        }
    }

    /// The handshake with `host` over `tcp`.
    pub(crate) async fn connect(
        &self,
        host: &str,
        tcp: TcpStream,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let name = self.server_name.as_deref().unwrap_or(host);
        let name = ServerName::try_from(name.to_owned()).map_err(|e| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{name}: {e}"))
        })?;
        self.connector.connect(name, tcp).await
    }
}

impl ClientTlsBuilder {
    /// The CA certificates the servers' certificates must lead to
    /// (`zookeeper.ssl.trustStore.*`).
    pub fn trust_store(mut self, store: StoreSpec) -> Self {
        self.trust = Some(store);
        self
    }

    /// The client's key and certificate chain (`zookeeper.ssl.keyStore.*`).
    pub fn key_store(mut self, store: StoreSpec) -> Self {
        self.identity = Some(store);
        self
    }

    /// Whether the server's name must match its certificate (default yes,
    /// `zookeeper.ssl.hostnameVerification`); the chain is checked anyway.
    pub fn verify_hostname(mut self, yes: bool) -> Self {
        self.verify_hostname = yes;
        self
    }

    /// TLS versions and cipher suites (Java names), when not the defaults.
    pub fn protocols(mut self, protocols: Protocols) -> Self {
        self.protocols = protocols;
        self
    }

    /// The name to verify the servers' certificates against, instead of
    /// each host name of the connect string.
    pub fn server_name(mut self, name: &str) -> Self {
        self.server_name = Some(name.to_owned());
        self
    }

    /// Loads the stores; [`Error::Tls`] names the file and what is wrong.
    pub fn build(self) -> Result<ClientTls> {
        let trust_spec = self
            .trust
            .ok_or_else(|| Error::Tls("no trust store: name the servers' CA".into()))?;
        let tls = |e: zk_tls::TlsError| Error::Tls(e.to_string());
        let trust = zk_tls::load_trust(&trust_spec).map_err(tls)?;
        let identity = self
            .identity
            .as_ref()
            .map(zk_tls::load_identity)
            .transpose()
            .map_err(tls)?;
        let config = zk_tls::client_config(
            &trust,
            identity.as_ref(),
            self.verify_hostname,
            &self.protocols,
        )
        .map_err(tls)?;
        Ok(ClientTls {
            connector: TlsConnector::from(config),
            server_name: self.server_name,
        })
    }
}

/// A connection to a server, plain or TLS.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

pub(crate) type ReadHalf = Box<dyn AsyncRead + Send + Unpin>;
pub(crate) type WriteHalf = Box<dyn AsyncWrite + Send + Unpin>;

impl Stream {
    /// Connects to `addr` (named `host`), with TLS when `tls` is set.
    pub(crate) async fn connect(
        host: &str,
        addr: std::net::SocketAddr,
        tls: Option<&Arc<ClientTls>>,
    ) -> std::io::Result<Stream> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        Ok(match tls {
            None => Stream::Plain(tcp),
            Some(tls) => Stream::Tls(Box::new(tls.connect(host, tcp).await?)),
        })
    }

    /// Owned halves for the reader and the writer.
    pub(crate) fn split(self) -> (ReadHalf, WriteHalf) {
        match self {
            Stream::Plain(s) => {
                let (r, w) = s.into_split();
                (Box::new(r), Box::new(w))
            }
            Stream::Tls(s) => {
                let (r, w) = tokio::io::split(*s);
                (Box::new(r), Box::new(w))
            }
        }
    }
}
