//! Where the server's bytes travel: a network trait with the real one
//! (tokio TCP) here and a simulated one (turmoil) in the tests, so the
//! same server runs on loopback and inside a deterministic simulation.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
pub type ReadHalf = Box<dyn AsyncRead + Send + Sync + Unpin>;
pub type WriteHalf = Box<dyn AsyncWrite + Send + Sync + Unpin>;

/// A connected byte stream.
pub trait Conn: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {
    /// Owned halves for a reader and a writer task.
    fn split(self: Box<Self>) -> (ReadHalf, WriteHalf);
}

pub type Stream = Box<dyn Conn>;

pub trait Listener: Send + Sync + std::fmt::Debug + 'static {
    fn accept(&self) -> BoxFuture<'_, io::Result<(Stream, SocketAddr)>>;
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// Binds and connects; addresses are `host:port` text.
pub trait Network: Send + Sync + std::fmt::Debug + 'static {
    fn bind(&self, addr: String) -> BoxFuture<'_, io::Result<Box<dyn Listener>>>;
    fn connect(&self, addr: String) -> BoxFuture<'_, io::Result<Stream>>;

    /// Whether the host's own sockets are reachable beside this network,
    /// for the HTTP endpoints (admin server, metrics); a simulated
    /// network says no and the server runs without them.
    fn host_sockets(&self) -> bool {
        true
    }
}

/// Real TCP.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioNet;

impl Conn for tokio::net::TcpStream {
    fn split(self: Box<Self>) -> (ReadHalf, WriteHalf) {
        let (r, w) = (*self).into_split();
        (Box::new(r), Box::new(w))
    }
}

impl Listener for tokio::net::TcpListener {
    fn accept(&self) -> BoxFuture<'_, io::Result<(Stream, SocketAddr)>> {
        Box::pin(async move {
            let (s, peer) = tokio::net::TcpListener::accept(self).await?;
            // Small frames both ways: no Nagle delay.
            let _ = s.set_nodelay(true);
            Ok((Box::new(s) as Stream, peer))
        })
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        tokio::net::TcpListener::local_addr(self)
    }
}

impl Network for TokioNet {
    fn bind(&self, addr: String) -> BoxFuture<'_, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let l = tokio::net::TcpListener::bind(addr).await?;
            Ok(Box::new(l) as Box<dyn Listener>)
        })
    }

    fn connect(&self, addr: String) -> BoxFuture<'_, io::Result<Stream>> {
        Box::pin(async move {
            let s = tokio::net::TcpStream::connect(addr).await?;
            let _ = s.set_nodelay(true);
            Ok(Box::new(s) as Stream)
        })
    }
}
