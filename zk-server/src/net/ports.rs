//! The client ports: `clientPort` (plain) and `secureClientPort` (TLS),
//! either or both, accepted as one stream of connections.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use zk_proto::data::Id;

use super::tls::TlsServer;
use super::transport::{Listener, Network, Stream};
use crate::config::Config;
use crate::server::ServerError;

/// The bound client ports.
#[derive(Debug, Clone)]
pub struct ClientPorts {
    plain: Option<Arc<dyn Listener>>,
    secure: Option<(Arc<dyn Listener>, Arc<TlsServer>)>,
}

/// A connection just accepted; TLS not yet done.
pub struct Accepted {
    stream: Stream,
    pub peer: SocketAddr,
    tls: Option<Arc<TlsServer>>,
}

/// By hand: a stream has no `Debug`.
impl std::fmt::Debug for Accepted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accepted")
            .field("peer", &self.peer)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl ClientPorts {
    /// Binds the ports the config names; on the secure one, the stores are
    /// loaded now (a bad key store stops the start, naming the file).
    pub async fn bind(config: &Config, net: &dyn Network) -> Result<ClientPorts, ServerError> {
        let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let plain = if config.plain_client_port() {
            let addr = SocketAddr::new(
                config.client_port_address.unwrap_or(any),
                config.client_port,
            );
            Some(bind(net, addr).await?)
        } else {
            None
        };
        let secure = match config.tls.secure_client_port {
            Some(port) => {
                let tls = TlsServer::new(&config.tls.client, config.tls.x509_super_user.clone())
                    .map_err(ServerError::Tls)?;
                let addr = SocketAddr::new(config.tls.secure_client_address.unwrap_or(any), port);
                Some((bind(net, addr).await?, Arc::new(tls)))
            }
            None => None,
        };
        Ok(ClientPorts { plain, secure })
    }

    /// The plain port's address, if it is served.
    pub fn plain_addr(&self) -> Option<SocketAddr> {
        self.plain.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The TLS port's address, if it is served.
    pub fn secure_addr(&self) -> Option<SocketAddr> {
        self.secure.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    /// The next connection on either port. Cancel safe: a dropped call
    /// loses no connection.
    pub async fn accept(&self) -> io::Result<Accepted> {
        let plain = async {
            match &self.plain {
                Some(l) => l.accept().await,
                None => std::future::pending().await,
            }
        };
        let secure = async {
            match &self.secure {
                Some((l, tls)) => l.accept().await.map(|a| (a, tls.clone())),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            accepted = plain => accepted.map(|(stream, peer)| Accepted { stream, peer, tls: None }),
            accepted = secure => accepted.map(|((stream, peer), tls)| Accepted { stream, peer, tls: Some(tls) }),
        }
    }
}

impl Accepted {
    /// The stream to serve, after the TLS handshake on the secure port
    /// (within `timeout`), and the ids the transport proved.
    pub async fn establish(self, timeout: Duration) -> io::Result<(Stream, Vec<Id>)> {
        match self.tls {
            None => Ok((self.stream, Vec::new())),
            Some(tls) => tokio::time::timeout(timeout, tls.accept(self.stream))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no TLS handshake in time"))?,
        }
    }

    /// Whether it came in on the TLS port.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }
}

async fn bind(net: &dyn Network, addr: SocketAddr) -> Result<Arc<dyn Listener>, ServerError> {
    let listener = net
        .bind(addr.to_string())
        .await
        .map_err(|error| ServerError::Bind { addr, error })?;
    Ok(Arc::from(listener))
}
