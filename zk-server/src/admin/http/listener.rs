//! Where the admin server's connections come from: plain HTTP, or HTTPS
//! with the members' keys (`ssl.quorum.*`, as ZooKeeper's AdminServer
//! takes them) when `admin.forceHttps` is set, or both on one port with
//! `admin.portUnification` (a TLS ClientHello starts with 0x16). A client
//! certificate proves an `x509` id, which the commands that need
//! authentication accept as `Authorization` would be.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use zk_proto::data::Id;
use zk_tls::ClientAuth;

use crate::config::Config;
use crate::net::tls::TlsServer;
use crate::net::transport::Stream;

/// Handshakes in progress at once: past this, accepting waits.
const HANDSHAKES: usize = 64;

/// What a handler learns of its connection.
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    /// The ids the client's certificate proves (none over plain HTTP).
    pub ids: Vec<Id>,
}

impl Connected<IncomingStream<'_, AdminListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, AdminListener>) -> Peer {
        stream.remote_addr().clone()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    Tls,
    Both,
}

/// The connections, handshakes done, as axum takes them.
#[derive(Debug)]
pub struct AdminListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(Stream, Peer)>,
}

impl axum::serve::Listener for AdminListener {
    type Io = Stream;
    type Addr = Peer;

    async fn accept(&mut self) -> (Stream, Peer) {
        match self.ready.recv().await {
            Some(next) => next,
            // The accepting task stopped (shutdown): nothing comes again.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Peer> {
        Ok(Peer {
            addr: self.local,
            ids: Vec::new(),
        })
    }
}

/// The TLS side, when the settings ask for one: the `ssl.quorum.*`
/// stores; client certificates asked for when a trust store is there
/// (required with `admin.needClientAuth`).
pub fn tls_for(config: &Config) -> Result<Option<Arc<TlsServer>>, zk_tls::TlsError> {
    let admin = &config.admin;
    if !admin.force_https && !admin.port_unification {
        return Ok(None);
    }
    let mut settings = config.tls.quorum.clone();
    settings.client_auth = if admin.need_client_auth {
        ClientAuth::Need
    } else if settings.trust_store.is_some() {
        ClientAuth::Want
    } else {
        ClientAuth::None
    };
    let super_user = config.tls.x509_super_user.clone();
    Ok(Some(Arc::new(TlsServer::new(&settings, super_user)?)))
}

/// Accepts on `listener` until `shutdown`, handshaking each connection in
/// its own task (a slow client holds up no other) within `within`.
pub fn start(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<TlsServer>>,
    both: bool,
    within: Duration,
    shutdown: CancellationToken,
    tasks: &tokio_util::task::TaskTracker,
) -> std::io::Result<AdminListener> {
    let local = listener.local_addr()?;
    let mode = match (&tls, both) {
        (None, _) => Mode::Plain,
        (Some(_), false) => Mode::Tls,
        (Some(_), true) => Mode::Both,
    };
    let (tx, ready) = mpsc::channel(HANDSHAKES);
    let permits = Arc::new(Semaphore::new(HANDSHAKES));
    let inner = tasks.clone();
    tasks.spawn(async move {
        loop {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let accepted = tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                a = listener.accept() => a,
            };
            let Ok((stream, addr)) = accepted else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let (tx, tls) = (tx.clone(), tls.clone());
            inner.spawn(async move {
                let ready = tokio::time::timeout(within, handshake(stream, addr, mode, tls)).await;
                drop(permit);
                match ready {
                    Ok(Ok(conn)) => {
                        let _ = tx.send(conn).await;
                    }
                    Ok(Err(error)) => tracing::info!(%addr, %error, "admin connection refused"),
                    Err(_) => tracing::info!(%addr, "admin connection: no handshake in time"),
                }
            });
        }
    });
    Ok(AdminListener { local, ready })
}

async fn handshake(
    stream: tokio::net::TcpStream,
    addr: SocketAddr,
    mode: Mode,
    tls: Option<Arc<TlsServer>>,
) -> std::io::Result<(Stream, Peer)> {
    let plain = |stream: tokio::net::TcpStream| {
        let peer = Peer {
            addr,
            ids: Vec::new(),
        };
        Ok((Box::new(stream) as Stream, peer))
    };
    let tls = match (mode, tls) {
        (Mode::Plain, _) | (_, None) => return plain(stream),
        (Mode::Both, Some(tls)) => {
            let mut first = [0u8; 1];
            if stream.peek(&mut first).await? == 0 || first[0] != 0x16 {
                return plain(stream);
            }
            tls
        }
        (Mode::Tls, Some(tls)) => tls,
    };
    let (stream, cert) = tls.accept(Box::new(stream)).await?;
    let ids = cert.map(|c| tls.ids_of(&c)).unwrap_or_default();
    Ok((stream, Peer { addr, ids }))
}
