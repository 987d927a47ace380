//! Test support shared by the workspace's suites: a TCP proxy between a
//! client and a server that can be cut (connection loss without a server
//! restart), restored, or frozen (requests sent, never answered); a
//! history checker for the simulation tests ([`linearize`]); documentation
//! examples against a real server ([`doc`], on `zk_testing::TestingServer`);
//! and the outside programs some tests need ([`tools`]), with a way for a test
//! to say it was skipped and why ([`mod@skip`]).

pub mod apache;
pub mod doc;
pub mod http;
pub mod linearize;
pub mod skip;
pub mod tls;
pub mod tools;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

/// A TCP proxy that can be cut: every connection through it is dropped and
/// new ones are accepted and closed at once until it is restored. It can
/// also hold the bytes it would forward (freeze), so requests are sent but
/// not answered. Dropping it stops it and its connections.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<ProxyState>,
    accept: JoinHandle<()>,
}

#[derive(Debug)]
struct ProxyState {
    target: String,
    cut: AtomicBool,
    frozen: watch::Sender<bool>,
    conns: Mutex<Vec<AbortHandle>>,
    accepted: AtomicUsize,
}

impl Proxy {
    pub async fn start(target: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
        let addr = listener.local_addr().expect("proxy addr");
        let state = Arc::new(ProxyState {
            target: target.to_owned(),
            cut: AtomicBool::new(false),
            frozen: watch::channel(false).0,
            conns: Mutex::new(Vec::new()),
            accepted: AtomicUsize::new(0),
        });
        let accept = tokio::spawn(accept_loop(listener, state.clone()));
        Proxy {
            addr,
            state,
            accept,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Drops every connection and refuses new ones (accepts and closes them)
    /// until [`Proxy::restore`].
    pub fn cut(&self) {
        self.state.cut.store(true, Ordering::SeqCst);
        for conn in self.state.conns.lock().expect("lock").drain(..) {
            conn.abort();
        }
    }

    /// Forwards again (and unfreezes).
    pub fn restore(&self) {
        self.state.frozen.send_replace(false);
        self.state.cut.store(false, Ordering::SeqCst);
    }

    /// Holds everything read from either side instead of forwarding it,
    /// until [`Proxy::restore`] (or a cut, which drops it).
    pub fn freeze(&self) {
        self.state.frozen.send_replace(true);
    }

    /// How many connections were forwarded so far.
    pub fn connections(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        for conn in self.state.conns.lock().expect("lock").drain(..) {
            conn.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<ProxyState>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        if state.cut.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        let Ok(server) = TcpStream::connect(&state.target).await else {
            continue;
        };
        let _ = (client.set_nodelay(true), server.set_nodelay(true));
        state.accepted.fetch_add(1, Ordering::SeqCst);
        let (cr, cw) = client.into_split();
        let (sr, sw) = server.into_split();
        let frozen = state.frozen.subscribe();
        let task = tokio::spawn(async move {
            tokio::select! {
                () = pump(cr, sw, frozen.clone()) => {}
                () = pump(sr, cw, frozen) => {}
            }
        });
        let mut conns = state.conns.lock().expect("lock");
        conns.retain(|c| !c.is_finished());
        conns.push(task.abort_handle());
        // A cut that raced with this accept drops this connection too.
        if state.cut.load(Ordering::SeqCst) {
            for conn in conns.drain(..) {
                conn.abort();
            }
        }
    }
}

/// Copies one direction until either side closes, holding data while
/// frozen.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if frozen.wait_for(|f| !*f).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
