//! Finding a server: hosts in a shuffled ring, names resolved at every
//! attempt, exponential backoff with jitter between rounds, and the
//! handshake that creates or resumes the session.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio_util::codec::FramedRead;
use zk_proto::client::{ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader, SaslRequest};
use zk_proto::frame::{FrameCodec, write_frame};
use zk_proto::{Decode, Encode};
use zk_proto::{ErrorCode, OpCode};
use zk_sasl::digest::DigestClient;

use super::{Command, Outgoing, SessionInfo, SessionTask};
use crate::builder::HostPort;
use crate::error::{Error, Result};
use crate::sasl::SaslCredentials;
use crate::tls::{ClientTls, ReadHalf, Stream, WriteHalf};
use crate::types::SessionState;

/// A connected, handshaken server.
pub(super) struct Conn {
    pub reader: ReadHalf,
    pub writer: WriteHalf,
    pub read_only: bool,
}

#[derive(Clone)]
struct Attempt {
    hosts: Vec<HostPort>,
    request: ConnectRequest,
    per_host: Duration,
    tls: Option<Arc<ClientTls>>,
    sasl: Option<SaslCredentials>,
}

/// How a round of connection attempts ended.
enum Round {
    Connected(Conn, ConnectResponse),
    /// A server refused our SASL credentials: final, as in the Java client.
    Refused,
    NoServer,
}

/// Why one handshake failed.
#[derive(Debug, thiserror::Error)]
enum HandshakeError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("SASL refused: {0}")]
    Refused(String),
}

impl SessionTask {
    /// Connects to some server, handling commands meanwhile. Errors are
    /// terminal: the session expired or the client was closed.
    pub(super) async fn connect_phase(&mut self) -> Result<Conn> {
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(50))
            .with_max_delay(Duration::from_secs(2).min(self.timeout / 3))
            .with_jitter()
            .without_max_times()
            .build();
        loop {
            let mut hosts = self.opts.hosts.clone();
            fastrand::shuffle(&mut hosts);
            if let Some(p) = self.prefer.take()
                && let Some(at) = hosts.iter().position(|h| *h == p)
            {
                hosts.swap(0, at);
            }
            // A read-only server's session is local to it: elsewhere ask
            // for a new one.
            let session_id = if self.opts.read_only && !self.seen_rw {
                0
            } else {
                self.session_id
            };
            let per_host = (self.timeout / hosts.len() as u32)
                .clamp(Duration::from_millis(500), self.opts.connect_timeout);
            let attempt = Attempt {
                hosts,
                request: ConnectRequest {
                    protocol_version: 0,
                    last_zxid_seen: self.last_zxid,
                    timeout_ms: self.timeout.as_millis() as i32,
                    session_id,
                    passwd: self.password.clone(),
                    read_only: Some(self.opts.read_only),
                },
                per_host,
                tls: self.opts.tls.clone(),
                sasl: self.opts.sasl.clone(),
            };
            let round = self.while_disconnected(try_round(attempt)).await?;
            match round {
                Round::Refused => return Err(Error::AuthFailed),
                Round::Connected(conn, resp) if resp.timeout_ms <= 0 => {
                    drop(conn);
                    return Err(Error::SessionExpired);
                }
                Round::Connected(conn, resp) => {
                    self.seen_rw |= !conn.read_only;
                    self.session_id = resp.session_id;
                    self.password = resp.passwd.clone();
                    self.timeout = Duration::from_millis(resp.timeout_ms as u64);
                    if let Ok(mut info) = self.shared.session.lock() {
                        *info = SessionInfo {
                            id: resp.session_id,
                            password: resp.passwd.clone(),
                            timeout: self.timeout,
                        };
                    }
                    return Ok(conn);
                }
                Round::NoServer => {
                    let pause = backoff.next().unwrap_or(Duration::from_secs(1));
                    self.while_disconnected(tokio::time::sleep(pause)).await?;
                }
            }
        }
    }

    /// Drives `fut` while queueing requests that arrive meanwhile; a close
    /// (or every handle gone) ends the session.
    async fn while_disconnected<T>(
        &mut self,
        fut: impl std::future::Future<Output = T>,
    ) -> Result<T> {
        tokio::pin!(fut);
        loop {
            tokio::select! {
                out = &mut fut => return Ok(out),
                cmd = self.rx.recv() => match cmd {
                    None => return Err(Error::Closed),
                    Some(Command::Close { reply }) => {
                        let _ = reply.send(());
                        return Err(Error::Closed);
                    }
                    Some(Command::Request { req, watch, reply }) => self.queued.push_back(Outgoing {
                        req,
                        watch,
                        reply: Some(reply),
                    }),
                    Some(Command::Unwatch { id, kind, path }) => {
                        // Not re-armed at the next connect; nothing to tell
                        // a server now.
                        self.watches.remove_persistent(id, kind, &path);
                    }
                },
            }
        }
    }

    pub(super) fn connected_state(read_only: bool) -> SessionState {
        if read_only {
            SessionState::ConnectedReadOnly
        } else {
            SessionState::Connected
        }
    }
}

/// While connected to a read-only server: asks the hosts (`isro`), less
/// often each round, until one answers `rw` (ZooKeeper's `pingRwServer`).
pub(super) async fn find_read_write(hosts: Vec<HostPort>, tls: Option<Arc<ClientTls>>) -> HostPort {
    let mut pause = Duration::from_millis(200);
    loop {
        for host in &hosts {
            if tokio::time::timeout(Duration::from_secs(1), is_read_write(host, tls.as_ref()))
                .await
                .unwrap_or(false)
            {
                return host.clone();
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}

async fn is_read_write(host: &HostPort, tls: Option<&Arc<ClientTls>>) -> bool {
    use tokio::io::AsyncReadExt;
    let Ok(Some(addr)) = tokio::net::lookup_host((host.host.as_str(), host.port))
        .await
        .map(|mut a| a.next())
    else {
        return false;
    };
    let Ok(stream) = Stream::connect(&host.host, addr, tls).await else {
        return false;
    };
    let (mut reader, mut writer) = stream.split();
    if writer.write_all(b"isro").await.is_err() {
        return false;
    }
    let mut out = Vec::new();
    let _ = reader.read_to_end(&mut out).await;
    out.starts_with(b"rw")
}

/// Tries each host once; the first handshake wins.
async fn try_round(attempt: Attempt) -> Round {
    for host in &attempt.hosts {
        let result = tokio::time::timeout(attempt.per_host, try_host(host, &attempt)).await;
        match result {
            Ok(Ok((conn, resp))) => return Round::Connected(conn, resp),
            Ok(Err(HandshakeError::Refused(why))) => {
                tracing::warn!(host = %host.host, port = host.port, why, "SASL authentication failed");
                return Round::Refused;
            }
            Ok(Err(e)) => {
                tracing::debug!(host = %host.host, port = host.port, error = %e, "connect failed")
            }
            Err(_) => tracing::debug!(host = %host.host, port = host.port, "connect timed out"),
        }
    }
    Round::NoServer
}

async fn try_host(
    host: &HostPort,
    attempt: &Attempt,
) -> Result<(Conn, ConnectResponse), HandshakeError> {
    // Resolved now, not once at start-up (ZOOKEEPER-2184).
    let addrs = tokio::net::lookup_host((host.host.as_str(), host.port)).await?;
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address").into();
    for addr in addrs {
        match handshake(&host.host, addr, attempt).await {
            Ok(found) => return Ok(found),
            Err(e @ HandshakeError::Refused(_)) => return Err(e),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The largest frame the handshake and SASL steps read.
const HANDSHAKE_FRAME_MAX: usize = 64 * 1024;

async fn handshake(
    host: &str,
    addr: std::net::SocketAddr,
    attempt: &Attempt,
) -> Result<(Conn, ConnectResponse), HandshakeError> {
    let (mut reader, mut writer) = Stream::connect(host, addr, attempt.tls.as_ref())
        .await?
        .split();
    let mut buf = BytesMut::new();
    write_frame(&mut buf, |b| attempt.request.encode(b)).map_err(std::io::Error::other)?;
    writer.write_all(&buf).await?;
    let mut frames = FramedRead::new(&mut reader, FrameCodec::new(HANDSHAKE_FRAME_MAX));
    let mut frame = next_frame(&mut frames).await?;
    let resp = ConnectResponse::decode(&mut frame).map_err(std::io::Error::other)?;
    if let Some(creds) = &attempt.sasl
        && resp.timeout_ms > 0
    {
        sasl(&mut frames, &mut writer, creds).await?;
    }
    if !frames.read_buffer().is_empty() {
        return Err(std::io::Error::other("data after the handshake").into());
    }
    drop(frames);
    Ok((
        Conn {
            reader,
            writer,
            read_only: resp.read_only.unwrap_or(false),
        },
        resp,
    ))
}

type Frames<'a> = FramedRead<&'a mut ReadHalf, FrameCodec>;

async fn next_frame(frames: &mut Frames<'_>) -> std::io::Result<Bytes> {
    match frames.next().await {
        Some(Ok(f)) => Ok(f),
        Some(Err(e)) => Err(std::io::Error::other(e.to_string())),
        None => Err(std::io::ErrorKind::UnexpectedEof.into()),
    }
}

/// DIGEST-MD5 before anything else on the connection: the empty first
/// token, the response to the challenge, the server's `rspauth` checked.
async fn sasl(
    frames: &mut Frames<'_>,
    writer: &mut WriteHalf,
    creds: &SaslCredentials,
) -> Result<(), HandshakeError> {
    let mut client = DigestClient::new(&creds.user, &creds.password);
    let mut token = client.initial();
    // Two round trips; a server that wants more is not DIGEST-MD5.
    for xid in 1..=3 {
        let mut buf = BytesMut::new();
        write_frame(&mut buf, |b| {
            RequestHeader {
                xid,
                op: OpCode::Sasl.code(),
            }
            .encode(b);
            SaslRequest {
                token: Bytes::from(std::mem::take(&mut token)),
            }
            .encode(b);
        })
        .map_err(std::io::Error::other)?;
        writer.write_all(&buf).await?;
        let mut frame = next_frame(frames).await?;
        let header = ReplyHeader::decode(&mut frame).map_err(std::io::Error::other)?;
        if header.err != 0 {
            return Err(HandshakeError::Refused(format!(
                "the server answered {}",
                ErrorCode::from_code(header.err)
                    .map_or_else(|| header.err.to_string(), |c| format!("{c:?}"))
            )));
        }
        let challenge = Bytes::decode(&mut frame).map_err(std::io::Error::other)?;
        match client.step(&challenge) {
            Ok(Some(next)) => token = next,
            Ok(None) => return Ok(()),
            Err(e) => return Err(HandshakeError::Refused(e.to_string())),
        }
    }
    Err(HandshakeError::Refused("the exchange did not end".into()))
}
