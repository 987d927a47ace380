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
    plain: Option<Port>,
    secure: Option<Port>,
}

/// One bound port and how its connections start.
#[derive(Debug, Clone)]
struct Port {
    listener: Arc<dyn Listener>,
    /// TLS: always (the secure port), or for the clients that start it
    /// (`unified`: the plain port with `client.portUnification`).
    tls: Option<Arc<TlsServer>>,
    unified: bool,
}

impl Port {
    async fn accept(&self) -> io::Result<Accepted> {
        let (stream, peer) = self.listener.accept().await?;
        Ok(Accepted {
            stream,
            peer,
            tls: self.tls.clone(),
            unified: self.unified,
        })
    }
}

/// A connection just accepted; TLS not yet done.
pub struct Accepted {
    stream: Stream,
    pub peer: SocketAddr,
    tls: Option<Arc<TlsServer>>,
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
    /// Binds the ports the config names; with TLS, the stores are loaded
    /// now (a bad key store stops the start, naming the file).
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
            let unified = config.tls.client_port_unification;
            Some(Port {
                listener: bind(net, addr).await?,
                tls: tls.clone().filter(|_| unified),
                unified,
            })
        } else {
            None
        };
        let secure = match config.tls.secure_client_port {
            Some(port) => {
                let addr = SocketAddr::new(config.tls.secure_client_address.unwrap_or(any), port);
                Some(Port {
                    listener: bind(net, addr).await?,
                    tls,
                    unified: false,
                })
            }
            None => None,
        };
        Ok(ClientPorts { plain, secure })
    }

    /// The plain port's address, if it is served.
    pub fn plain_addr(&self) -> Option<SocketAddr> {
        self.plain
            .as_ref()
            .and_then(|p| p.listener.local_addr().ok())
    }

    /// The TLS port's address, if it is served.
    pub fn secure_addr(&self) -> Option<SocketAddr> {
        self.secure
            .as_ref()
            .and_then(|p| p.listener.local_addr().ok())
    }

    /// The next connection on either port. Cancel safe: a dropped call
    /// loses no connection.
    pub async fn accept(&self) -> io::Result<Accepted> {
        let on = |port: &Option<Port>| {
            let port = port.clone();
            async move {
                match port {
                    Some(p) => p.accept().await,
                    None => std::future::pending().await,
                }
            }
        };
        tokio::select! {
            accepted = on(&self.plain) => accepted,
            accepted = on(&self.secure) => accepted,
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
            let (stream, cert) = tls.accept(stream).await?;
            let ids = cert.map_or_else(Vec::new, |c| tls.ids_of(&c));
            Ok((stream, ids))
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
