//! Authenticated links between members: the election and peer ports behind
//! mutual TLS (`sslQuorum`, the `ssl.quorum.*` stores) and/or SASL
//! DIGEST-MD5 (`quorum.auth.*`, the JAAS `QuorumServer` and
//! `QuorumLearner` sections). It wraps the network the ensemble code uses,
//! which sees only streams that passed: a connection without valid
//! credentials is dropped and logged before one byte of it reaches the
//! election or the leader, so it is never counted, answered or synced.
//!
//! A connecting member does TLS, then SASL, before its stream is handed
//! over. An accepted connection is handed over at once and authenticates
//! on first use, in a task of its own with a deadline (an accept loop never
//! waits on a slow or silent peer). SASL runs on our own framing: the
//! connector sends `ZKSA`, then length-prefixed tokens; the acceptor
//! answers each with a status byte (0 go on, 1 done, 2 refused) and a
//! token. With `portUnification`, the acceptor takes TLS and plain
//! connections both (a rolling upgrade to `sslQuorum`); without
//! `quorum.auth.serverRequireSasl`, connections without SASL too.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::task::JoinHandle;
use zk_sasl::digest::{DigestClient, DigestServer, ServerStep};

use super::tls::{TlsClient, TlsServer};
use super::transport::{BoxFuture, Conn, Listener, Network, ReadHalf, Stream, WriteHalf};
use crate::config::Config;

/// How long a member may take to authenticate (TLS and SASL together).
const AUTH_WITHIN: Duration = Duration::from_secs(10);
/// Accepted connections authenticating at once, per port; past it, new
/// ones are closed unread (a flood cannot pile up tasks and sockets),
/// except from a member's address.
const PENDING_MAX: usize = 64;
/// The same from one address.
const PENDING_PER_ADDRESS: usize = 4;
/// How long an accepted connection may stay silent before its first byte.
const FIRST_BYTE_WITHIN: Duration = Duration::from_secs(2);
/// How long the members' resolved addresses are used before a new lookup.
const MEMBERS_FRESH: Duration = Duration::from_secs(30);
/// The largest SASL token either side takes (DIGEST-MD5's are ~300 bytes).
const TOKEN_MAX: usize = 4096;
/// What a connector sends first when it authenticates with SASL. As a
/// frame length it would be ~1.5 GB, which no peer protocol sends.
const MAGIC: &[u8; 4] = b"ZKSA";
/// The first byte of a TLS handshake record.
pub(crate) const TLS_HANDSHAKE: u8 = 0x16;

const GO_ON: u8 = 0;
const DONE: u8 = 1;
const REFUSED: u8 = 2;

/// What the quorum links need, from the config.
#[derive(Debug)]
pub struct QuorumSecurity {
    tls: Option<(Arc<TlsServer>, Arc<TlsClient>)>,
    /// `ssl.quorum.hostnameVerification`: an accepted member's certificate
    /// must name its address (or a `server.N` host that resolves to it),
    /// as ZooKeeper checks the connecting side too.
    verify_peer_names: bool,
    /// The `server.N` hosts.
    member_hosts: Vec<String>,
    /// Their addresses, for the limits on connections authenticating.
    members: Members,
    port_unification: bool,
    /// The QuorumServer users, when SASL is on.
    server_users: Option<Arc<std::collections::BTreeMap<String, String>>>,
    server_require: bool,
    /// The QuorumLearner credentials, when SASL is on.
    learner: Option<(String, String)>,
}

impl QuorumSecurity {
    /// None when neither quorum TLS nor quorum SASL is on.
    pub fn from_config(
        config: &Config,
        member_hosts: Vec<String>,
    ) -> io::Result<Option<QuorumSecurity>> {
        let auth = &config.quorum_auth;
        let tls = if config.tls.ssl_quorum {
            let server = TlsServer::new(&config.tls.quorum, None).map_err(io::Error::other)?;
            let client = TlsClient::new(&config.tls.quorum).map_err(io::Error::other)?;
            tracing::info!("using TLS encrypted quorum communication");
            Some((Arc::new(server), Arc::new(client)))
        } else {
            None
        };
        let (server_users, learner) = if auth.enable_sasl {
            let jaas = config.sasl.jaas.as_ref().ok_or_else(|| {
                io::Error::other(
                    "quorum.auth.enableSasl needs a JAAS file (jaasLoginConfig or -Djava.security.auth.login.config in SERVER_JVMFLAGS)",
                )
            })?;
            let users = jaas.users(&auth.server_context);
            if auth.server_require && users.is_empty() {
                return Err(io::Error::other(format!(
                    "quorum.auth.serverRequireSasl: the JAAS file has no {} users",
                    auth.server_context
                )));
            }
            // As ZooKeeper's learner: SASL only once learnerRequireSasl is
            // set, so the upgrade can go in steps (enableSasl everywhere
            // first: every member takes SASL before any sends it).
            let learner = if auth.learner_require {
                let creds = jaas.credentials(&auth.learner_context);
                if creds.is_none() {
                    return Err(io::Error::other(format!(
                        "quorum.auth.learnerRequireSasl: the JAAS file has no {} username and password",
                        auth.learner_context
                    )));
                }
                creds
            } else {
                None
            };
            (Some(Arc::new(users)), learner)
        } else {
            (None, None)
        };
        if tls.is_none() && server_users.is_none() {
            return Ok(None);
        }
        Ok(Some(QuorumSecurity {
            tls,
            verify_peer_names: config.tls.quorum.hostname_verification,
            members: Members::new(member_hosts.clone()),
            member_hosts,
            port_unification: config.tls.port_unification,
            server_users,
            server_require: auth.server_require,
            learner,
        }))
    }
}

/// The ensemble's network with authentication on every link.
#[derive(Debug)]
pub struct QuorumNet {
    inner: Arc<dyn Network>,
    security: Arc<QuorumSecurity>,
}

impl QuorumNet {
    pub fn new(inner: Arc<dyn Network>, security: QuorumSecurity) -> QuorumNet {
        QuorumNet {
            inner,
            security: Arc::new(security),
        }
    }
}

impl Network for QuorumNet {
    fn bind(&self, addr: String) -> BoxFuture<'_, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let inner = self.inner.bind(addr).await?;
            Ok(Box::new(QuorumListener {
                inner,
                security: self.security.clone(),
                pending: Arc::new(tokio::sync::Semaphore::new(PENDING_MAX)),
                per_address: Arc::default(),
            }) as Box<dyn Listener>)
        })
    }

    fn connect(&self, addr: String) -> BoxFuture<'_, io::Result<Stream>> {
        Box::pin(async move {
            let stream = self.inner.connect(addr.clone()).await?;
            let security = self.security.clone();
            tokio::time::timeout(AUTH_WITHIN, connect_side(stream, &addr, &security))
                .await
                .map_err(|_| {
                    io::Error::new(io::ErrorKind::TimedOut, "quorum authentication timed out")
                })?
                .inspect_err(
                    |e| tracing::warn!(%addr, error = %e, "cannot authenticate to the member"),
                )
        })
    }
}

#[derive(Debug)]
struct QuorumListener {
    inner: Box<dyn Listener>,
    security: Arc<QuorumSecurity>,
    pending: Arc<tokio::sync::Semaphore>,
    /// Connections authenticating, per address. A std Mutex: one map
    /// update at a time, never held across an await.
    per_address: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One address's place among the connections authenticating; given back
/// when dropped.
struct Slot {
    per_address: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
    counted: bool,
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.counted
            && let Ok(mut map) = self.per_address.lock()
            && let Some(n) = map.get_mut(&self.ip)
        {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

impl QuorumListener {
    /// A place for a connection from `ip`, or None to refuse it. Members'
    /// addresses are not counted: a flood from elsewhere cannot keep them
    /// out.
    async fn slot(&self, ip: IpAddr) -> Option<Slot> {
        if self.security.members.contains(ip).await {
            return Some(Slot {
                per_address: self.per_address.clone(),
                ip,
                counted: false,
                _permit: None,
            });
        }
        {
            let mut map = self.per_address.lock().ok()?;
            let n = map.entry(ip).or_insert(0);
            if *n >= PENDING_PER_ADDRESS {
                return None;
            }
            *n += 1;
        }
        let mut slot = Slot {
            per_address: self.per_address.clone(),
            ip,
            counted: true,
            _permit: None,
        };
        slot._permit = Some(self.pending.clone().try_acquire_owned().ok()?);
        Some(slot)
    }
}

/// The addresses the `server.N` hosts resolve to, looked up again every
/// half minute (a member's name may move).
#[derive(Debug)]
struct Members {
    hosts: Vec<String>,
    /// A std Mutex: read or replaced, never held across an await.
    known: Mutex<Option<(std::time::Instant, Vec<IpAddr>)>>,
}

impl Members {
    fn new(hosts: Vec<String>) -> Members {
        Members {
            hosts,
            known: Mutex::new(None),
        }
    }

    async fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        let fresh = self.known.lock().ok().and_then(|k| {
            k.as_ref()
                .filter(|(at, _)| at.elapsed() < MEMBERS_FRESH)
                .map(|(_, ips)| ips.clone())
        });
        let ips = match fresh {
            Some(ips) => ips,
            None => {
                let mut ips = Vec::new();
                for host in &self.hosts {
                    if let Ok(addrs) = tokio::net::lookup_host((host.as_str(), 0)).await {
                        ips.extend(addrs.map(|a| a.ip().to_canonical()));
                    }
                }
                if let Ok(mut k) = self.known.lock() {
                    *k = Some((std::time::Instant::now(), ips.clone()));
                }
                ips
            }
        };
        ips.contains(&ip)
    }
}

impl Listener for QuorumListener {
    fn accept(&self) -> BoxFuture<'_, io::Result<(Stream, SocketAddr)>> {
        Box::pin(async move {
            let (stream, peer, slot) = loop {
                let (stream, peer) = self.inner.accept().await?;
                match self.slot(peer.ip().to_canonical()).await {
                    Some(slot) => break (stream, peer, slot),
                    None => {
                        tracing::warn!(%peer, "too many quorum connections authenticating; closing");
                        drop(stream);
                    }
                }
            };
            let security = self.security.clone();
            let handshake = tokio::spawn(async move {
                let _slot = slot;
                tokio::time::timeout(AUTH_WITHIN, accept_side(stream, peer.ip(), &security))
                    .await
                    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no authentication in time"))?
                    .inspect_err(|e| {
                        tracing::warn!(%peer, error = %e, "quorum connection refused: not authenticated");
                    })
            });
            Ok((Box::new(Lazy::new(handshake)) as Stream, peer))
        })
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

async fn resolves_to(host: &str, ip: IpAddr) -> bool {
    tokio::net::lookup_host((host, 0))
        .await
        .is_ok_and(|mut addrs| addrs.any(|a| a.ip().to_canonical() == ip.to_canonical()))
}

/// The connecting side: TLS, then SASL as a learner.
async fn connect_side(stream: Stream, addr: &str, security: &QuorumSecurity) -> io::Result<Stream> {
    let mut stream = match &security.tls {
        Some((_, client)) => {
            let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
            client
                .connect(host.trim_matches(['[', ']']), stream)
                .await?
        }
        None => stream,
    };
    if let Some((user, password)) = &security.learner {
        sasl_client(&mut stream, user, password).await?;
    }
    Ok(stream)
}

/// The accepting side: TLS (or plain, with port unification), the
/// peer's name, then SASL as required.
async fn accept_side(
    stream: Stream,
    peer: IpAddr,
    security: &QuorumSecurity,
) -> io::Result<Stream> {
    // Something must come at once; only then is the rest given time.
    let (first, stream) = tokio::time::timeout(FIRST_BYTE_WITHIN, peek(stream, 1))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "silent"))??;
    let mut stream = match &security.tls {
        Some((_, _)) if security.port_unification && first[0] != TLS_HANDSHAKE => {
            tracing::debug!("plain quorum connection (portUnification)");
            stream
        }
        Some((server, _)) => {
            let (stream, cert) = server.accept(stream).await?;
            if security.verify_peer_names {
                let cert = cert.ok_or_else(|| io::Error::other("no certificate"))?;
                check_peer_name(&cert, peer, &security.member_hosts).await?;
            }
            stream
        }
        None => stream,
    };
    if let Some(users) = &security.server_users {
        let (first, rest) = peek(stream, MAGIC.len()).await?;
        stream = rest;
        if first == MAGIC {
            // `peek` put the magic back: read past it.
            let mut magic = [0u8; 4];
            stream.read_exact(&mut magic).await?;
            sasl_server(&mut stream, users).await?;
        } else if security.server_require {
            return Err(io::Error::other(
                "no SASL from the peer (quorum.auth.serverRequireSasl)",
            ));
        }
    }
    Ok(stream)
}

/// The peer's certificate must name its address, or a `server.N` host
/// that resolves to it (ZooKeeper's trust manager checks the address, then
/// its reverse lookup).
async fn check_peer_name(
    cert: &zk_tls::CertificateDer<'_>,
    peer: IpAddr,
    member_hosts: &[String],
) -> io::Result<()> {
    if zk_tls::names(cert, &peer.to_canonical().to_string()) {
        return Ok(());
    }
    for host in member_hosts {
        if zk_tls::names(cert, host) && resolves_to(host, peer).await {
            return Ok(());
        }
    }
    Err(io::Error::other(format!(
        "the certificate does not name {peer} (ssl.quorum.hostnameVerification)"
    )))
}

/// Reads `n` bytes and puts them back in front of the stream.
pub(crate) async fn peek(mut stream: Stream, n: usize) -> io::Result<(Vec<u8>, Stream)> {
    let mut first = vec![0u8; n];
    stream.read_exact(&mut first).await?;
    let stream = Box::new(Prefixed {
        prefix: first.clone(),
        at: 0,
        inner: stream,
    });
    Ok((first, stream))
}

async fn sasl_client(stream: &mut Stream, user: &str, password: &str) -> io::Result<()> {
    let mut client = DigestClient::new(user, password);
    stream.write_all(MAGIC).await?;
    let mut token = client.initial();
    for _ in 0..3 {
        write_token(stream, None, &token).await?;
        let mut status = [0u8; 1];
        stream.read_exact(&mut status).await?;
        let reply = read_token(stream).await?;
        match status[0] {
            GO_ON => {
                token = client
                    .step(&reply)
                    .map_err(io::Error::other)?
                    .ok_or_else(|| io::Error::other("SASL: the member ended early"))?;
            }
            DONE => {
                return match client.step(&reply).map_err(io::Error::other)? {
                    None => Ok(()),
                    Some(_) => Err(io::Error::other("SASL: the member did not prove itself")),
                };
            }
            _ => return Err(io::Error::other("SASL: the member refused our credentials")),
        }
    }
    Err(io::Error::other("SASL: the exchange did not end"))
}

async fn sasl_server(
    stream: &mut Stream,
    users: &std::collections::BTreeMap<String, String>,
) -> io::Result<()> {
    let mut server = DigestServer::new();
    for _ in 0..3 {
        let token = read_token(stream).await?;
        match server.step(&token, |u| users.get(u).cloned()) {
            Ok(ServerStep::Challenge(c)) => write_token(stream, Some(GO_ON), &c).await?,
            Ok(ServerStep::Done { token, user }) => {
                write_token(stream, Some(DONE), &token).await?;
                tracing::debug!(user, "quorum peer authenticated");
                return Ok(());
            }
            Err(e) => {
                let _ = write_token(stream, Some(REFUSED), b"").await;
                return Err(io::Error::other(format!("SASL: {e}")));
            }
        }
    }
    Err(io::Error::other("SASL: the exchange did not end"))
}

async fn write_token(stream: &mut Stream, status: Option<u8>, token: &[u8]) -> io::Result<()> {
    let mut out = Vec::with_capacity(token.len() + 5);
    out.extend(status);
    out.extend((token.len() as u32).to_be_bytes());
    out.extend_from_slice(token);
    stream.write_all(&out).await?;
    stream.flush().await
}

async fn read_token(stream: &mut Stream) -> io::Result<Vec<u8>> {
    let len = stream.read_u32().await? as usize;
    if len > TOKEN_MAX {
        return Err(io::Error::other(format!("SASL token of {len} bytes")));
    }
    let mut token = vec![0u8; len];
    stream.read_exact(&mut token).await?;
    Ok(token)
}

/// A stream that authenticates on first use: the handshake runs in its own
/// task (a JoinHandle is `Sync`, as a stream must be).
struct Lazy {
    state: LazyState,
    /// Every task that waits for the handshake: the halves of a split
    /// stream poll it from two tasks, and a JoinHandle keeps one waker.
    waiting: Arc<Waiting>,
}

enum LazyState {
    Pending(JoinHandle<io::Result<Stream>>),
    Ready(Stream),
    Failed,
}

#[derive(Default)]
struct Waiting(Mutex<Vec<Waker>>);

impl Wake for Waiting {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Ok(mut wakers) = self.0.lock() {
            for w in wakers.drain(..) {
                w.wake();
            }
        }
    }
}

impl Lazy {
    fn new(handshake: JoinHandle<io::Result<Stream>>) -> Lazy {
        Lazy {
            state: LazyState::Pending(handshake),
            waiting: Arc::default(),
        }
    }

    fn poll_stream(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&mut Stream>> {
        if let LazyState::Pending(handle) = &mut self.state {
            if let Ok(mut wakers) = self.waiting.0.lock()
                && !wakers.iter().any(|w| w.will_wake(cx.waker()))
            {
                wakers.push(cx.waker().clone());
            }
            let waker = Waker::from(self.waiting.clone());
            let done = ready!(Pin::new(handle).poll(&mut Context::from_waker(&waker)));
            self.state = match done {
                Ok(Ok(stream)) => LazyState::Ready(stream),
                _ => LazyState::Failed,
            };
        }
        match &mut self.state {
            LazyState::Ready(s) => Poll::Ready(Ok(s)),
            _ => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the peer did not authenticate",
            ))),
        }
    }
}

impl Drop for Lazy {
    fn drop(&mut self) {
        if let LazyState::Pending(handle) = &self.state {
            handle.abort();
        }
    }
}

impl AsyncRead for Lazy {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let stream = ready!(self.get_mut().poll_stream(cx))?;
        Pin::new(stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Lazy {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let stream = ready!(self.get_mut().poll_stream(cx))?;
        Pin::new(stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let stream = ready!(self.get_mut().poll_stream(cx))?;
        Pin::new(stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().state {
            LazyState::Ready(s) => Pin::new(s).poll_shutdown(cx),
            _ => Poll::Ready(Ok(())),
        }
    }
}

impl Conn for Lazy {
    fn split(self: Box<Self>) -> (ReadHalf, WriteHalf) {
        let (r, w) = tokio::io::split(*self);
        (Box::new(r), Box::new(w))
    }
}

/// A stream with bytes already read put back in front.
struct Prefixed {
    prefix: Vec<u8>,
    at: usize,
    inner: Stream,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.prefix.len() {
            let n = (this.prefix.len() - this.at).min(buf.remaining());
            buf.put_slice(&this.prefix[this.at..this.at + n]);
            this.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl Conn for Prefixed {
    fn split(self: Box<Self>) -> (ReadHalf, WriteHalf) {
        let (r, w) = tokio::io::split(*self);
        (Box::new(r), Box::new(w))
    }
}
