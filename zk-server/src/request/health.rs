//! A standalone server's log that failed (disk full, fsync error) and
//! comes back: meanwhile reads go on, writes are refused (NotReadOnly) and
//! new sessions are read-only and local; the state task asks the log stage
//! to heal, with backoff, and once it has, takes writes again from the
//! last durable txn.
//!
//! ```text
//! Failed --(backoff: 100 ms .. 10 s)--> heal? --StillFailed--> (longer backoff)
//!                                           \--Healed--> writes again, read-only sessions closed
//! ```

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use zk_proto::ErrorCode;
use zk_proto::client::{ReplyHeader, Response};

use super::conn::Outbound;
use super::core::{Core, Origin};
use super::overlay::Overlay;
use crate::admin::Mode;

const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(10);

/// When to ask the log stage to heal, and whether an ask is out.
#[derive(Debug)]
pub(crate) struct Healer {
    ask: mpsc::Sender<()>,
    next_try: Instant,
    backoff: Duration,
    asked: bool,
}

impl Healer {
    pub(crate) fn new(ask: mpsc::Sender<()>) -> Healer {
        Healer {
            ask,
            next_try: Instant::now(),
            backoff: FIRST_RETRY,
            asked: false,
        }
    }

    fn failed(&mut self, now: Instant) {
        self.backoff = FIRST_RETRY;
        self.next_try = now + self.backoff;
        self.asked = false;
    }
}

impl Core {
    /// The log failed: the writes in the pipeline were never made durable,
    /// so they fail (SystemError) and are forgotten; later writes are
    /// refused; reads go on.
    pub(super) async fn on_log_failed(&mut self, reason: String) {
        tracing::error!(
            reason,
            "storage failed: refusing writes and new read-write sessions, serving reads"
        );
        self.write_failure = Some(reason);
        if let Some(healer) = self.healer.as_mut() {
            healer.failed(Instant::now());
            self.stats.set_mode(Mode::ReadOnly);
        }
        self.overlay = Overlay::default();
        let zxid = self.tree.last_zxid();
        let mut touched = Vec::new();
        for (_, conn, out) in std::mem::take(&mut self.deferred) {
            if let Some(c) = self.conns.get_mut(&conn) {
                c.inflight_writes -= 1;
                c.send(out);
                touched.push(conn);
            }
        }
        let origins = std::mem::take(&mut self.inflight)
            .into_iter()
            .map(|i| i.origin)
            .chain(
                std::mem::take(&mut self.pending)
                    .into_iter()
                    .map(|p| p.origin),
            );
        for origin in origins {
            match origin {
                Origin::Client { conn, xid, .. } | Origin::Sync { conn, xid, .. } => {
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.inflight_writes -= 1;
                        let header = ReplyHeader {
                            xid,
                            zxid,
                            err: ErrorCode::SystemError.code(),
                        };
                        c.send(Outbound::Reply(header, Response::Empty));
                        touched.push(conn);
                    }
                }
                // A session that was never created: the client tries
                // another server.
                Origin::Connect { conn, .. } => {
                    if let Some(c) = self.conns.get(&conn) {
                        c.send(Outbound::Close);
                    }
                }
                Origin::Internal => {}
            }
        }
        for session in self.sessions.iter_mut() {
            session.closing = false;
        }
        for conn in touched {
            self.drain(conn).await;
        }
    }

    /// On a tick while the log is failed: asks for a heal when the backoff
    /// is over. The ask goes after every txn sent before the failure, so
    /// the log stage can tell stale txns from new ones.
    pub(super) fn maybe_heal(&mut self, now: Instant) {
        let Some(healer) = self.healer.as_mut() else {
            return;
        };
        if self.write_failure.is_none() || healer.asked || now < healer.next_try {
            return;
        }
        healer.asked = healer.ask.try_send(()).is_ok();
    }

    /// The heal did not work: try again later.
    pub(super) fn on_still_failed(&mut self, reason: String) {
        let Some(healer) = self.healer.as_mut() else {
            return;
        };
        healer.asked = false;
        healer.backoff = (healer.backoff * 2).min(LAST_RETRY);
        healer.next_try = Instant::now() + healer.backoff;
        tracing::debug!(
            reason,
            retry_ms = healer.backoff.as_millis() as u64,
            "log still failing"
        );
    }

    /// The log works again: writes continue from the last durable txn
    /// (the failed ones' zxids are used again), and the read-only sessions
    /// made meanwhile end, so their clients come back read-write (as
    /// ZooKeeper's read-only server closes its sessions when it leaves
    /// read-only mode).
    pub(super) fn on_healed(&mut self) {
        tracing::info!("storage works again: taking writes and new sessions");
        self.write_failure = None;
        if let Some(healer) = self.healer.as_mut() {
            healer.asked = false;
        }
        self.next_zxid = self.tree.last_zxid() + 1;
        self.stats.set_mode(Mode::Standalone);
        for id in self.sessions.remove_local() {
            if let Some(conn) = id.and_then(|conn| self.conns.get(&conn)) {
                conn.send(Outbound::Close);
            }
        }
    }
}
