//! The client ports: `clientPort` (plain) and `secureClientPort` (TLS),
//! either or both, accepted as one stream of connections.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use zk_proto::data::Id;

use super::quorum::{TLS_HANDSHAKE, peek};
use super::tls::TlsServer;
use super::transport::{Listener, Network, Stream};
use crate::config::Config;
use crate::server::ServerError;

/// The bound client ports.
#[derive(Debug, Clone)]
pub struct ClientPorts {
    /// With `client.portUnification`, TLS for the clients that start it.
    plain: Option<(Arc<dyn Listener>, Option<Arc<TlsServer>>)>,
    secure: Option<(Arc<dyn Listener>, Arc<TlsServer>)>,
}

/// A connection just accepted; TLS not yet done.
pub struct Accepted {
    stream: Stream,
    pub peer: SocketAddr,
    tls: Option<Arc<TlsServer>>,
    /// TLS only if the client starts it (port unification).
    unified: bool,
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
        let tls = if config.tls.secure_client_port.is_some() || config.tls.client_port_unification {
            let server = TlsServer::new(&config.tls.client, config.tls.x509_super_user.clone())
                .map_err(ServerError::Tls)?;
            Some(Arc::new(server))
        } else {
            None
        };
        let plain = if config.plain_client_port() {
            let addr = SocketAddr::new(
                config.client_port_address.unwrap_or(any),
                config.client_port,
            );
            let unified = tls.clone().filter(|_| config.tls.client_port_unification);
            Some((bind(net, addr).await?, unified))
        } else {
            None
        };
        let secure = match (config.tls.secure_client_port, tls) {
            (Some(port), Some(tls)) => {
                let addr = SocketAddr::new(config.tls.secure_client_address.unwrap_or(any), port);
                Some((bind(net, addr).await?, tls))
            }
            _ => None,
        };
        Ok(ClientPorts { plain, secure })
    }

    /// The plain port's address, if it is served.
    pub fn plain_addr(&self) -> Option<SocketAddr> {
        self.plain.as_ref().and_then(|(l, _)| l.local_addr().ok())
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
                Some((l, tls)) => l.accept().await.map(|a| (a, tls.clone())),
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
            accepted = plain => accepted.map(|((stream, peer), tls)| Accepted {
                stream,
                peer,
                unified: tls.is_some(),
                tls,
            }),
            accepted = secure => accepted.map(|((stream, peer), tls)| Accepted {
                stream,
                peer,
                tls: Some(tls),
                unified: false,
            }),
        }
    }
}

impl Accepted {
    /// The stream to serve, after the TLS handshake on the secure port
    /// (within `timeout`), and the ids the transport proved.
    pub async fn establish(self, timeout: Duration) -> io::Result<(Stream, Vec<Id>)> {
        let Some(tls) = self.tls else {
            return Ok((self.stream, Vec::new()));
        };
        let handshake = async {
            let stream = if self.unified {
                let (first, stream) = peek(self.stream, 1).await?;
                if first[0] != TLS_HANDSHAKE {
                    return Ok((stream, Vec::new()));
                }
                stream
            } else {
                self.stream
            };
            tls.accept(stream).await
        };
        tokio::time::timeout(timeout, handshake)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no TLS handshake in time"))?
    }

    /// Whether it came in on the TLS port.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some() && !self.unified
    }
}

async fn bind(net: &dyn Network, addr: SocketAddr) -> Result<Arc<dyn Listener>, ServerError> {
    let listener = net
        .bind(addr.to_string())
        .await
        .map_err(|error| ServerError::Bind { addr, error })?;
    Ok(Arc::from(listener))
}
