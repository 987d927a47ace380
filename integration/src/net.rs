//! `zk_server::net::transport` on turmoil: simulated TCP between named
//! hosts, with partitions, latency and crashes under the test's control.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use zk_server::net::transport::{BoxFuture, Conn, Listener, Network, ReadHalf, Stream, WriteHalf};

/// A simulated TCP stream (a newtype: the trait and turmoil's type are
/// both foreign here).
#[derive(Debug)]
pub struct SimStream(pub turmoil::net::TcpStream);

impl AsyncRead for SimStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for SimStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl Conn for SimStream {
    fn split(self: Box<Self>) -> (ReadHalf, WriteHalf) {
        let (r, w) = self.0.into_split();
        (Box::new(r), Box::new(w))
    }
}

struct SimListener(turmoil::net::TcpListener);

impl std::fmt::Debug for SimListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SimListener({:?})", self.0.local_addr().ok())
    }
}

impl Listener for SimListener {
    fn accept(&self) -> BoxFuture<'_, io::Result<(Stream, SocketAddr)>> {
        Box::pin(async move {
            let (s, peer) = self.0.accept().await?;
            Ok((Box::new(SimStream(s)) as Stream, peer))
        })
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// The simulated network. A host listens on all its addresses: the
/// `server.N` host names resolve to it through turmoil's DNS.
#[derive(Debug, Default, Clone, Copy)]
pub struct SimNet;

fn port_of(addr: &str) -> io::Result<u16> {
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no port in {addr}")))
}

impl Network for SimNet {
    fn bind(&self, addr: String) -> BoxFuture<'_, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let port = port_of(&addr)?;
            let l = turmoil::net::TcpListener::bind(("0.0.0.0", port)).await?;
            Ok(Box::new(SimListener(l)) as Box<dyn Listener>)
        })
    }

    fn connect(&self, addr: String) -> BoxFuture<'_, io::Result<Stream>> {
        Box::pin(async move {
            let s = turmoil::net::TcpStream::connect(addr).await?;
            Ok(Box::new(SimStream(s)) as Stream)
        })
    }

    fn host_sockets(&self) -> bool {
        false
    }
}
