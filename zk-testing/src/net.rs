//! A member's network in a [`crate::TestingCluster`]: real TCP on loopback,
//! except that its traffic with the other members (every port but its
//! client port) can be cut, as a network partition would: open peer
//! connections are shut down and new ones refused until it heals. Clients
//! still reach it, as they would a partitioned server.

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use zk_server::net::transport::{BoxFuture, Conn, Listener, Network, ReadHalf, Stream, WriteHalf};

#[derive(Debug)]
pub(crate) struct CuttableNet {
    state: Arc<CutState>,
}

#[derive(Debug)]
struct CutState {
    cut: AtomicBool,
    client_port: u16,
    /// A second handle on every open peer connection, to shut it down;
    /// dropped with the connection (it would keep the socket open).
    /// std Mutex: short sections, never across an await.
    open: Mutex<HashMap<u64, std::net::TcpStream>>,
    next_id: AtomicU64,
}

impl CutState {
    /// Wraps `s` so that a cut can shut it down.
    fn track(
        self: &Arc<Self>,
        s: tokio::net::TcpStream,
    ) -> io::Result<Tracked<tokio::net::TcpStream>> {
        let std = s.into_std()?;
        let handle = std.try_clone()?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut open) = self.open.lock() {
            open.insert(id, handle);
        }
        Ok(Tracked {
            inner: tokio::net::TcpStream::from_std(std)?,
            _guard: Arc::new(Guard {
                id,
                state: self.clone(),
            }),
        })
    }
}

/// Forgets (and closes) a connection's second handle once the connection
/// itself is gone: both of its halves dropped.
#[derive(Debug)]
struct Guard {
    id: u64,
    state: Arc<CutState>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(mut open) = self.state.open.lock() {
            open.remove(&self.id);
        }
    }
}

/// A peer connection (or one of its halves) that keeps its [`Guard`].
#[derive(Debug)]
struct Tracked<S> {
    inner: S,
    _guard: Arc<Guard>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl Conn for Tracked<tokio::net::TcpStream> {
    fn split(self: Box<Self>) -> (ReadHalf, WriteHalf) {
        let Tracked { inner, _guard } = *self;
        let (r, w) = inner.into_split();
        (
            Box::new(Tracked {
                inner: r,
                _guard: _guard.clone(),
            }),
            Box::new(Tracked { inner: w, _guard }),
        )
    }
}

impl CuttableNet {
    pub(crate) fn new(client_port: u16) -> CuttableNet {
        CuttableNet {
            state: Arc::new(CutState {
                cut: AtomicBool::new(false),
                client_port,
                open: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(0),
            }),
        }
    }

    /// Cuts this member off from the others until [`CuttableNet::heal`].
    pub(crate) fn cut(&self) {
        self.state.cut.store(true, Ordering::SeqCst);
        if let Ok(mut open) = self.state.open.lock() {
            for (_, s) in open.drain() {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }

    pub(crate) fn heal(&self) {
        self.state.cut.store(false, Ordering::SeqCst);
    }

    /// A handle for the cluster to cut and heal with, sharing the state.
    pub(crate) fn handle(&self) -> CuttableNet {
        CuttableNet {
            state: self.state.clone(),
        }
    }
}

fn refused() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionRefused, "partitioned (test)")
}

#[derive(Debug)]
struct PeerListener {
    inner: tokio::net::TcpListener,
    state: Arc<CutState>,
}

impl Listener for PeerListener {
    fn accept(&self) -> BoxFuture<'_, io::Result<(Stream, SocketAddr)>> {
        Box::pin(async move {
            loop {
                let (s, peer) = self.inner.accept().await?;
                if self.state.cut.load(Ordering::SeqCst) {
                    drop(s);
                    continue;
                }
                let _ = s.set_nodelay(true);
                return Ok((Box::new(self.state.track(s)?) as Stream, peer));
            }
        })
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl Network for CuttableNet {
    fn bind(&self, addr: String) -> BoxFuture<'_, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let inner = tokio::net::TcpListener::bind(addr).await?;
            if inner.local_addr()?.port() == self.state.client_port {
                return Ok(Box::new(inner) as Box<dyn Listener>);
            }
            Ok(Box::new(PeerListener {
                inner,
                state: self.state.clone(),
            }) as Box<dyn Listener>)
        })
    }

    fn connect(&self, addr: String) -> BoxFuture<'_, io::Result<Stream>> {
        Box::pin(async move {
            // A server connects only to its peers.
            if self.state.cut.load(Ordering::SeqCst) {
                return Err(refused());
            }
            let s = tokio::net::TcpStream::connect(addr).await?;
            let _ = s.set_nodelay(true);
            Ok(Box::new(self.state.track(s)?) as Stream)
        })
    }
}
