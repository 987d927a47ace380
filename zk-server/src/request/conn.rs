//! What the state task knows of a connection, and the order of its replies:
//! replies leave in request order, and a read waits until this connection's
//! earlier writes are applied (a session reads its own writes).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};

use tokio::sync::mpsc;
use zk_proto::client::{ConnectResponse, ReplyHeader, Request, Response, WatcherEvent};
use zk_proto::data::Id;

pub type ConnId = u64;

/// What the state task sends a connection, in the order to write it.
#[derive(Debug)]
pub enum Outbound {
    Handshake(ConnectResponse),
    Reply(ReplyHeader, Response),
    Event(i64, WatcherEvent),
    /// Flush what came before, then close the connection.
    Close,
}

pub type Outbox = mpsc::UnboundedSender<Outbound>;

/// Reply bytes a connection may have queued and not yet written before
/// its reads wait (a client that pipelines reads and does not take the
/// replies holds at most this, plus one reply).
pub const OUTBOX_BUDGET: usize = 4 << 20;

impl Outbound {
    /// Its size on the wire, near enough for the budget.
    pub fn wire_len(&self) -> usize {
        match self {
            Outbound::Handshake(_) => 64,
            Outbound::Reply(_, body) => 20 + body.encoded_len(),
            Outbound::Event(_, event) => 32 + event.path.len(),
            Outbound::Close => 0,
        }
    }
}

/// Counters the connection task updates and the four-letter words read.
#[derive(Debug, Default)]
pub struct ConnStats {
    pub received: AtomicU64,
    pub sent: AtomicU64,
    pub established_ms: AtomicI64,
    pub last_cxid: AtomicI64,
    pub last_zxid: AtomicI64,
    pub last_op: std::sync::Mutex<&'static str>,
    pub last_response_ms: AtomicI64,
    pub last_latency_ms: AtomicU64,
    pub min_latency_ms: AtomicU64,
    pub max_latency_ms: AtomicU64,
    pub total_latency_ms: AtomicU64,
    pub latency_count: AtomicU64,
    /// Bytes sent to the outbox and not yet written to the socket.
    pub queued_bytes: AtomicUsize,
    /// The state task holds reads back until the connection drains.
    pub throttled: AtomicBool,
    /// Over TLS (the admin server lists these as `secure_connections`).
    pub secure: bool,
}

impl ConnStats {
    pub fn new(secure: bool) -> ConnStats {
        let s = ConnStats {
            secure,
            ..ConnStats::default()
        };
        s.min_latency_ms.store(u64::MAX, Ordering::Relaxed);
        s.last_cxid.store(-1, Ordering::Relaxed);
        s.last_zxid.store(-1, Ordering::Relaxed);
        s
    }

    /// (min, avg, max) reply latency in ms, as `cons` and `connections`
    /// report it.
    pub fn latency(&self) -> (u64, f64, u64) {
        crate::admin::latency_triple(
            &self.min_latency_ms,
            &self.total_latency_ms,
            &self.latency_count,
            &self.max_latency_ms,
        )
    }

    pub fn reset(&self) {
        for a in [
            &self.received,
            &self.sent,
            &self.max_latency_ms,
            &self.total_latency_ms,
            &self.latency_count,
        ] {
            a.store(0, Ordering::Relaxed);
        }
        self.min_latency_ms.store(u64::MAX, Ordering::Relaxed);
        self.last_cxid.store(-1, Ordering::Relaxed);
        self.last_zxid.store(-1, Ordering::Relaxed);
        self.last_latency_ms.store(0, Ordering::Relaxed);
        self.last_response_ms.store(0, Ordering::Relaxed);
        if let Ok(mut op) = self.last_op.lock() {
            *op = "NA";
        }
    }
}

/// A request waiting for this connection's pending writes, or a reply that
/// must not overtake their replies.
#[derive(Debug)]
pub enum Queued {
    Request { xid: i32, req: Request },
    Ready(Outbound),
}

#[derive(Debug)]
pub struct Conn {
    /// 0 until the handshake is done.
    pub session_id: i64,
    pub timeout_ms: u32,
    pub outbox: Outbox,
    pub auth: Vec<Id>,
    pub peer: SocketAddr,
    pub stats: Arc<ConnStats>,
    /// Writes (and the handshake's createSession) in the pipeline.
    pub inflight_writes: usize,
    pub queue: VecDeque<Queued>,
    /// A SASL exchange under way (or over: it is kept so that a second one
    /// on the connection fails, as in ZooKeeper).
    pub sasl: Option<zk_sasl::digest::DigestServer>,
}

impl Conn {
    /// A connection whose transport proved `auth` (besides its address).
    pub fn new(peer: SocketAddr, outbox: Outbox, stats: Arc<ConnStats>, auth: Vec<Id>) -> Conn {
        let mut ids = vec![Id::new("ip", &peer.ip().to_canonical().to_string())];
        ids.extend(auth);
        Conn {
            session_id: 0,
            timeout_ms: 0,
            outbox,
            auth: ids,
            peer,
            stats,
            inflight_writes: 0,
            queue: VecDeque::new(),
            sasl: None,
        }
    }

    /// Sends now, or, behind pending writes, keeps the replies' place: the
    /// request that made them was the next in line, so they go first in the
    /// queue, in their order.
    pub fn emit_all(&mut self, outs: impl IntoIterator<Item = Outbound>) {
        if self.inflight_writes > 0 {
            for (i, out) in outs.into_iter().enumerate() {
                self.queue.insert(i, Queued::Ready(out));
            }
        } else {
            for out in outs {
                self.send(out);
            }
        }
    }

    /// Whether its reads wait for the socket to take what is queued; if
    /// so, the connection is told to say when it has drained. The flag is
    /// set before the count is looked at again (SeqCst, against the
    /// connection's subtract-then-swap): no drain is missed.
    pub fn hold(&self) -> bool {
        let over = || self.stats.queued_bytes.load(Ordering::SeqCst) > OUTBOX_BUDGET;
        if !over() {
            return false;
        }
        self.stats.throttled.store(true, Ordering::SeqCst);
        if over() {
            return true;
        }
        self.stats.throttled.store(false, Ordering::SeqCst);
        false
    }

    pub fn send(&self, out: Outbound) {
        self.stats
            .queued_bytes
            .fetch_add(out.wire_len(), Ordering::Relaxed);
        // A closed outbox means the connection task is gone; its Closed
        // message is on the way and cleans up.
        let _ = self.outbox.send(out);
    }

    /// Whether `req` must wait in the queue instead of running now.
    pub fn must_wait(&self, req: &Request) -> bool {
        !self.queue.is_empty() || (!req.op_code().is_write() && self.inflight_writes > 0)
    }
}
