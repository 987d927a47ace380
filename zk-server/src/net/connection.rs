//! One client connection: the handshake (or a four-letter word), then
//! frames in and the outbox out, until either side closes.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::transport::{ReadHalf, Stream, WriteHalf};
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::codec::Decoder;
use zk_proto::client::{ConnectRequest, ReplyHeader, Request, RequestHeader, xid};
use zk_proto::data::Id;
use zk_proto::frame::{FrameCodec, write_frame};
use zk_proto::{Decode, Encode, ErrorCode, OpCode};

use super::listener::NetCtx;
use crate::admin::words;
use crate::request::{ConnStats, OUTBOX_BUDGET, Outbound, StateMsg};

/// Requests read but not answered, per connection; past this the
/// connection stops reading (backpressure on a client that pipelines
/// without bound). Half of ZooKeeper's `globalOutstandingLimit`: one
/// connection alone cannot make the server throttle everyone.
const MAX_OUTSTANDING: usize = 500;

#[derive(Debug, thiserror::Error)]
enum ConnError {
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("bad frame: {0}")]
    Frame(#[from] zk_proto::frame::FrameError),
    #[error("bad record: {0}")]
    Decode(#[from] zk_proto::DecodeError),
    #[error("no handshake within {0:?}")]
    HandshakeTimeout(Duration),
    #[error("server is shutting down")]
    Shutdown,
    #[error("the client took no reply bytes for {0:?}")]
    Stalled(Duration),
}

/// Serves one connection; `auth` holds the ids its transport proved (a
/// TLS client certificate's `x509` id).
pub async fn serve(
    stream: Stream,
    peer: SocketAddr,
    id: u64,
    auth: Vec<Id>,
    secure: bool,
    ctx: &NetCtx,
) {
    let (reader, mut writer) = stream.split();
    let mut conn = Connection {
        id,
        peer,
        ctx,
        reader,
        buf: BytesMut::with_capacity(4096),
        codec: FrameCodec::new(ctx.config.max_frame_bytes),
        stats: Arc::new(ConnStats::new(secure)),
        pending: VecDeque::new(),
        closing: false,
        auth,
    };
    let (outbox, rx) = mpsc::unbounded_channel();
    let result = conn.run(&mut writer, outbox, rx).await;
    match &result {
        Ok(()) => tracing::debug!(conn = id, %peer, "connection closed"),
        Err(ConnError::Io(e)) => tracing::debug!(conn = id, %peer, error = %e, "connection lost"),
        Err(ConnError::Shutdown) => {}
        Err(e) => tracing::warn!(conn = id, %peer, error = %e, "closing connection"),
    }
    // Bounded: a peer that does not read could hold the close forever.
    let _ = tokio::time::timeout(Duration::from_secs(1), writer.shutdown()).await;
    // The state task forgets the connection (its watches, its queue).
    let _ = ctx.state.send(StateMsg::Closed { conn: id }).await;
    ctx.stats
        .outstanding
        .fetch_sub(conn.pending.len() as i64, Ordering::Relaxed);
}

struct Connection<'a> {
    id: u64,
    peer: SocketAddr,
    ctx: &'a NetCtx,
    reader: ReadHalf,
    buf: BytesMut,
    codec: FrameCodec,
    stats: Arc<ConnStats>,
    /// Requests awaiting their reply: arrival time and op, for latencies.
    pending: VecDeque<(Instant, OpCode)>,
    /// A request was refused with a close: read nothing more.
    closing: bool,
    /// Ids the transport proved, handed to the session at connect.
    auth: Vec<Id>,
}

impl Connection<'_> {
    async fn run(
        &mut self,
        writer: &mut WriteHalf,
        outbox: mpsc::UnboundedSender<Outbound>,
        mut rx: mpsc::UnboundedReceiver<Outbound>,
    ) -> Result<(), ConnError> {
        let within = self.ctx.config.sessionless_timeout();
        let first = match tokio::time::timeout(within, self.first_frame()).await {
            Ok(r) => r?,
            Err(_) => {
                crate::metrics::inc(&self.ctx.stats.metrics.sessionless_connections_expired);
                return Err(ConnError::HandshakeTimeout(within));
            }
        };
        let Some(mut first) = (match first {
            First::Word(word) => return self.four_letter_word(writer, word).await,
            First::Frame(f) => Some(f),
            First::Eof => None,
        }) else {
            return Ok(());
        };
        let req = ConnectRequest::decode(&mut first)?;
        let auth = std::mem::take(&mut self.auth);
        self.send_state(StateMsg::Connect {
            conn: self.id,
            peer: self.peer,
            req,
            outbox,
            stats: self.stats.clone(),
            auth,
        })
        .await?;
        // A client may send requests right behind its ConnectRequest (auth,
        // setWatches after a reconnect): what came in the same read is
        // handled now, not when more bytes arrive.
        self.on_buffered_frames().await?;

        let mut wbuf = BytesMut::with_capacity(4096);
        loop {
            tokio::select! {
                biased;
                () = self.ctx.shutdown.cancelled() => return Err(ConnError::Shutdown),
                out = rx.recv() => {
                    let Some(out) = out else { return Ok(()) };
                    // Write everything that is ready as one batch.
                    let mut counted = out.wire_len();
                    let mut close = self.encode(&mut wbuf, out);
                    while !close && let Ok(out) = rx.try_recv() {
                        counted += out.wire_len();
                        close = self.encode(&mut wbuf, out);
                    }
                    // A client that stops reading must not hold up shutdown,
                    // nor its replies forever: past the longest session it
                    // could have, the connection goes.
                    let stall = Duration::from_millis(u64::from(self.ctx.config.max_session_timeout_ms));
                    tokio::select! {
                        biased;
                        () = self.ctx.shutdown.cancelled() => return Err(ConnError::Shutdown),
                        written = tokio::time::timeout(stall, writer.write_all(&wbuf)) => {
                            written.map_err(|_| ConnError::Stalled(stall))??;
                        }
                    }
                    wbuf.clear();
                    self.written(counted).await?;
                    if close {
                        return Ok(());
                    }
                    // Replies made room: frames already read may go on.
                    self.on_buffered_frames().await?;
                }
                n = self.reader.read_buf(&mut self.buf), if self.may_read() => {
                    let n = n?;
                    if n == 0 {
                        return Ok(());
                    }
                    self.ctx.stats.metrics.bytes_received_count.fetch_add(n as u64, Ordering::Relaxed);
                    self.on_buffered_frames().await?;
                }
                // Held by globalOutstandingLimit: look again shortly (the
                // requests that filled it may be other connections').
                () = tokio::time::sleep(Duration::from_millis(5)), if self.globally_throttled() => {}
            }
        }
    }

    /// Whether to read more from the socket now.
    fn may_read(&self) -> bool {
        !self.closing && self.pending.len() < MAX_OUTSTANDING && !self.globally_throttled()
    }

    /// Whether this connection waits for `globalOutstandingLimit`: the
    /// server has that many requests in hand and some are this one's. As
    /// in ZooKeeper, a connection with nothing in hand reads on (its pings
    /// keep its session), so no client can stop the others.
    fn globally_throttled(&self) -> bool {
        let limit = i64::from(self.ctx.config.global_outstanding_limit);
        !self.pending.is_empty()
            && limit > 0
            && self.ctx.stats.outstanding.load(Ordering::Relaxed) >= limit
    }

    /// `bytes` of queued replies are on the socket: the state task hears
    /// when reads it held back may go on.
    async fn written(&mut self, bytes: usize) -> Result<(), ConnError> {
        let before = self
            .stats
            .queued_bytes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |q| {
                Some(q.saturating_sub(bytes))
            })
            .unwrap_or(0);
        let left = before.saturating_sub(bytes);
        // SeqCst with the state task's store-then-check (`Conn::hold`):
        // either it sees the drained count, or this sees its flag.
        if left <= OUTBOX_BUDGET / 2 && self.stats.throttled.swap(false, Ordering::SeqCst) {
            self.send_state(StateMsg::Drained { conn: self.id }).await?;
        }
        Ok(())
    }

    /// Handles the complete frames in the read buffer, as many as the
    /// outstanding limit lets through (a large read can hold thousands).
    async fn on_buffered_frames(&mut self) -> Result<(), ConnError> {
        while !self.closing
            && self.pending.len() < MAX_OUTSTANDING
            && let Some(frame) = self.codec.decode(&mut self.buf)?
        {
            self.on_frame(frame).await?;
        }
        Ok(())
    }

    async fn send_state(&self, msg: StateMsg) -> Result<(), ConnError> {
        self.ctx
            .state
            .send(msg)
            .await
            .map_err(|_| ConnError::Shutdown)
    }

    /// Reads the first 4 bytes: a four-letter word, or the length of the
    /// connect frame.
    async fn first_frame(&mut self) -> Result<First, ConnError> {
        while self.buf.len() < 4 {
            if self.reader.read_buf(&mut self.buf).await? == 0 {
                return Ok(First::Eof);
            }
        }
        if words::is_known(&self.buf[..4]) {
            let word = String::from_utf8_lossy(&self.buf[..4]).into_owned();
            return Ok(First::Word(word));
        }
        loop {
            if let Some(frame) = self.codec.decode(&mut self.buf)? {
                return Ok(First::Frame(frame));
            }
            if self.reader.read_buf(&mut self.buf).await? == 0 {
                return Ok(First::Eof);
            }
        }
    }

    async fn four_letter_word(
        &mut self,
        writer: &mut WriteHalf,
        word: String,
    ) -> Result<(), ConnError> {
        let (reply, answer) = oneshot::channel();
        self.send_state(StateMsg::Command { word, reply }).await?;
        let text = answer.await.map_err(|_| ConnError::Shutdown)?;
        // A client that asks and does not read must not hold the task (a
        // role change waits for every connection task).
        let within = self.ctx.config.sessionless_timeout();
        tokio::select! {
            biased;
            () = self.ctx.shutdown.cancelled() => Err(ConnError::Shutdown),
            written = tokio::time::timeout(within, writer.write_all(text.as_bytes())) => {
                written.map_err(|_| ConnError::Stalled(within))??;
                Ok(())
            }
        }
    }

    async fn on_frame(&mut self, mut frame: Bytes) -> Result<(), ConnError> {
        let header = RequestHeader::decode(&mut frame)?;
        self.stats.received.fetch_add(1, Ordering::Relaxed);
        self.ctx.stats.received.fetch_add(1, Ordering::Relaxed);
        let op = OpCode::try_from(header.op).ok().filter(|op| {
            !matches!(
                op,
                OpCode::Notification
                    | OpCode::DeleteContainer
                    | OpCode::CreateSession
                    | OpCode::Error
            )
        });
        let Some(op) = op else {
            // Unknown op: answer Unimplemented like ZooKeeper's
            // UnimplementedRequestProcessor, then close.
            tracing::warn!(conn = self.id, op = header.op, "unknown op code");
            return self
                .refuse(header.xid, OpCode::Error, ErrorCode::Unimplemented, true)
                .await;
        };
        let req = match Request::decode(op, &mut frame) {
            Ok(req) => req,
            // ZooKeeper reads these before any request processor, and
            // closes the connection when they do not decode.
            Err(e) if matches!(op, OpCode::Auth | OpCode::Sasl) => return Err(e.into()),
            Err(e) => {
                // Otherwise the request fails with MarshallingError and the
                // connection goes on (Prep/FinalRequestProcessor).
                tracing::warn!(conn = self.id, ?op, error = %e, "malformed request");
                return self
                    .refuse(header.xid, op, ErrorCode::MarshallingError, false)
                    .await;
            }
        };
        let xid = match req {
            Request::Ping => xid::PING,
            Request::Auth(_) => xid::AUTH,
            _ => header.xid,
        };
        tracing::debug!(?op, xid, path = req.path(), "request");
        self.pending.push_back((Instant::now(), op));
        self.ctx.stats.outstanding.fetch_add(1, Ordering::Relaxed);
        self.send_state(StateMsg::Request {
            conn: self.id,
            xid,
            req,
        })
        .await
    }

    /// Has the state task answer `err` in this request's place among the
    /// replies, and close the connection after it if `close`.
    async fn refuse(
        &mut self,
        xid: i32,
        op: OpCode,
        err: ErrorCode,
        close: bool,
    ) -> Result<(), ConnError> {
        self.closing |= close;
        self.pending.push_back((Instant::now(), op));
        self.ctx.stats.outstanding.fetch_add(1, Ordering::Relaxed);
        self.send_state(StateMsg::Refuse {
            conn: self.id,
            xid,
            err,
            close,
        })
        .await
    }

    /// Appends one outbound message to the write buffer; true to close after.
    fn encode(&mut self, wbuf: &mut BytesMut, out: Outbound) -> bool {
        match out {
            Outbound::Handshake(resp) => {
                if write_frame(wbuf, |b| resp.encode(b)).is_err() {
                    return true;
                }
                // The connection's span (opened at accept) names its session
                // from now on.
                tracing::Span::current().record(
                    "session",
                    tracing::field::display(format_args!("0x{:x}", resp.session_id)),
                );
            }
            Outbound::Event(zxid, event) => {
                let written = write_frame(wbuf, |b| {
                    ReplyHeader {
                        xid: xid::NOTIFICATION,
                        zxid,
                        err: 0,
                    }
                    .encode(b);
                    event.encode(b);
                });
                if written.is_err() {
                    return true;
                }
                self.count_sent();
            }
            Outbound::Reply(header, body) => {
                let written = write_frame(wbuf, |b| {
                    header.encode(b);
                    if header.err == ErrorCode::Ok.code()
                        || matches!(body, zk_proto::client::Response::Multi(_))
                    {
                        body.encode(b);
                    }
                });
                if written.is_err() {
                    // Replies are bounded before they are built (the state
                    // task's `maxResponseSize`): only if that missed.
                    let refused = ReplyHeader {
                        err: ErrorCode::MarshallingError.code(),
                        ..header
                    };
                    if write_frame(wbuf, |b| refused.encode(b)).is_err() {
                        return true;
                    }
                }
                self.count_sent();
                self.record_reply(&header);
            }
            Outbound::Close => return true,
        }
        false
    }

    fn count_sent(&self) {
        self.stats.sent.fetch_add(1, Ordering::Relaxed);
        self.ctx.stats.sent.fetch_add(1, Ordering::Relaxed);
    }

    fn record_reply(&mut self, header: &ReplyHeader) {
        let Some((start, op)) = self.pending.pop_front() else {
            return;
        };
        self.ctx.stats.outstanding.fetch_sub(1, Ordering::Relaxed);
        let ms = start.elapsed().as_millis() as u64;
        tracing::debug!(
            ?op,
            xid = header.xid,
            zxid = header.zxid,
            err = header.err,
            ms,
            "reply"
        );
        if ms >= self.ctx.config.slow_request_ms {
            tracing::warn!(
                ?op,
                xid = header.xid,
                zxid = header.zxid,
                err = header.err,
                ms,
                "slow request (over requestWarnThresholdMs)"
            );
        }
        self.ctx.stats.record_latency(ms);
        let metrics = &self.ctx.stats.metrics;
        if op.is_write() {
            metrics.updatelatency.record(ms);
        } else {
            metrics.readlatency.record(ms);
        }
        let s = &self.stats;
        s.min_latency_ms.fetch_min(ms, Ordering::Relaxed);
        s.max_latency_ms.fetch_max(ms, Ordering::Relaxed);
        s.total_latency_ms.fetch_add(ms, Ordering::Relaxed);
        s.latency_count.fetch_add(1, Ordering::Relaxed);
        s.last_latency_ms.store(ms, Ordering::Relaxed);
        s.last_cxid.store(i64::from(header.xid), Ordering::Relaxed);
        s.last_zxid.store(header.zxid, Ordering::Relaxed);
        s.last_response_ms.store(crate::now_ms(), Ordering::Relaxed);
        if let Ok(mut last) = s.last_op.lock() {
            *last = op.short_name();
        }
    }
}

enum First {
    Word(String),
    Frame(Bytes),
    Eof,
}
