//! The state task in an ensemble. A learner forwards its clients' writes,
//! new sessions and syncs to the leader and matches what the leader commits
//! back to the clients waiting for it; a leader runs what learners forward
//! as if its own clients had sent it, except that nobody here is answered.

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;
use zk_proto::client::{ReplyHeader, Request, Response};
use zk_proto::txn::{ErrorTxn, Txn, TxnBody, TxnHeader};
use zk_proto::{ErrorCode, OpCode};

use super::conn::{ConnId, Outbound};
use super::core::{Core, Origin, Shape, now_ms};
use super::prep::{self, PrepCtx, PrepView, Rejected};
use crate::persist::snapshot::Snapshot;
use crate::zab::leader::LeaderInput;
use crate::zab::message::Forward;

/// Where the state task's txns go.
#[derive(Debug)]
pub enum Downstream {
    /// Standalone: the log stage.
    Log(mpsc::Sender<Txn>),
    /// Leader: the broadcast stage, txns and sync markers in one order.
    Leader(mpsc::Sender<LeaderInput>),
    /// Learner: the leader, through the learner task.
    Learner(mpsc::UnboundedSender<Forward>),
}

/// A learner's request that waits for the leader: matched to the txn the
/// leader commits for it by (session, cxid), or to the next SyncDone.
#[derive(Debug)]
pub(super) struct Pending {
    pub session_id: i64,
    pub cxid: i32,
    pub origin: Origin,
}

impl Core {
    pub(super) fn is_learner(&self) -> bool {
        matches!(self.downstream, Downstream::Learner(_))
    }

    fn forward(&self, f: Forward) {
        if let Downstream::Learner(tx) = &self.downstream {
            // Closed: the learner task is gone and the role ends with it.
            let _ = tx.send(f);
        }
    }

    /// A learner's client write goes to the leader.
    pub(super) fn forward_write(&mut self, conn: ConnId, xid: i32, req: &Request, shape: Shape) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.inflight_writes += 1;
        let session_id = c.session_id;
        let mut body = BytesMut::new();
        req.encode_body(&mut body);
        let f = Forward::Request {
            session_id,
            cxid: xid,
            auth: c.auth.clone(),
            op: req.op_code() as i32,
            body: body.freeze(),
        };
        self.pending.push_back(Pending {
            session_id,
            cxid: xid,
            origin: Origin::Client { conn, xid, shape },
        });
        self.forward(f);
    }

    /// A learner's new session is created by the leader.
    pub(super) fn forward_create_session(
        &mut self,
        conn: ConnId,
        session_id: i64,
        timeout_ms: u32,
        read_only: Option<bool>,
    ) {
        self.pending.push_back(Pending {
            session_id,
            cxid: 0,
            origin: Origin::Connect { conn, read_only },
        });
        self.forward(Forward::CreateSession {
            session_id,
            timeout_ms: timeout_ms as i32,
        });
    }

    /// `sync` on a learner: answered once the leader's writes proposed
    /// before it are applied here.
    pub(super) fn forward_sync(&mut self, conn: ConnId, xid: i32, path: String) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.inflight_writes += 1;
        self.pending.push_back(Pending {
            session_id: c.session_id,
            cxid: xid,
            origin: Origin::Sync { conn, xid, path },
        });
        self.forward(Forward::Sync);
    }

    /// Sessions with traffic since the last report go to the leader, whose
    /// tracker decides expiry.
    pub(super) fn report_touched(&mut self) {
        if !self.touched.is_empty() {
            let ids = std::mem::take(&mut self.touched).into_iter().collect();
            self.forward(Forward::Touch(ids));
        }
    }

    /// The waiter a committed txn answers on a learner, if it came from here.
    pub(super) fn take_pending(&mut self, txn: &Txn) -> Origin {
        let h = &txn.header;
        let matches = |p: &Pending| {
            p.session_id == h.client_id
                && p.cxid == h.cxid
                && !matches!(p.origin, Origin::Sync { .. })
        };
        match self.pending.iter().position(matches) {
            Some(0) => self
                .pending
                .pop_front()
                .map_or(Origin::Internal, |p| p.origin),
            Some(i) => {
                tracing::warn!(
                    zxid = h.zxid,
                    "a forwarded request was answered out of order"
                );
                self.pending
                    .remove(i)
                    .map_or(Origin::Internal, |p| p.origin)
            }
            None => Origin::Internal,
        }
    }

    /// The leader's answer to the oldest pending sync.
    pub(super) async fn on_synced(&mut self) {
        let Some(i) = self
            .pending
            .iter()
            .position(|p| matches!(p.origin, Origin::Sync { .. }))
        else {
            return;
        };
        let Some(Pending {
            origin: Origin::Sync { conn, xid, path },
            ..
        }) = self.pending.remove(i)
        else {
            return;
        };
        let zxid = self.tree.last_zxid();
        if let Some(c) = self.conns.get_mut(&conn) {
            c.inflight_writes -= 1;
            let header = ReplyHeader { xid, zxid, err: 0 };
            c.send(Outbound::Reply(header, Response::Sync(path)));
        }
        self.drain(conn).await;
    }

    /// A request a learner forwarded, run on the leader. Every request
    /// becomes exactly one txn (an error txn if it fails), so the learner
    /// can match its waiters in order.
    pub(super) async fn on_remote(&mut self, sid: u64, f: Forward) {
        match f {
            Forward::Request {
                session_id,
                cxid,
                auth,
                op,
                body,
            } => self.remote_request(session_id, cxid, &auth, op, body).await,
            Forward::CreateSession {
                session_id,
                timeout_ms,
            } => {
                let timeout_ms = self.config.negotiate_timeout(timeout_ms);
                if self.sessions.get(session_id).is_none() {
                    self.sessions.insert(session_id, timeout_ms, None);
                }
                let body = TxnBody::CreateSession(zk_proto::txn::CreateSessionTxn {
                    timeout_ms: timeout_ms as i32,
                });
                self.submit_remote(session_id, 0, body, Vec::new()).await;
            }
            Forward::Sync => {
                if let Downstream::Leader(tx) = &self.downstream {
                    let _ = tx.send(LeaderInput::Sync { sid }).await;
                }
            }
            Forward::Touch(ids) => {
                for id in ids {
                    self.sessions.touch(id);
                }
            }
        }
    }

    async fn remote_request(
        &mut self,
        session_id: i64,
        cxid: i32,
        auth: &[zk_proto::data::Id],
        op: i32,
        mut body: Bytes,
    ) {
        let req = OpCode::try_from(op)
            .ok()
            .and_then(|op| Request::decode(op, &mut body).ok());
        let live = self.sessions.get(session_id).is_some_and(|s| !s.closing);
        let (txn_body, changes) = match req {
            None => (error_txn(ErrorCode::MarshallingError), Vec::new()),
            Some(_) if !live => (error_txn(ErrorCode::SessionExpired), Vec::new()),
            Some(req) => {
                self.sessions.touch(session_id);
                let ctx = PrepCtx {
                    session_id,
                    auth,
                    config: &self.config,
                    zxid: self.next_zxid,
                    time_ms: now_ms(),
                };
                let mut view = PrepView::new(&self.tree, &self.overlay);
                let body = match prep::prep(&mut view, &ctx, &req) {
                    Ok(body) => body,
                    Err(Rejected::Code(code)) => error_txn(code),
                    Err(Rejected::Multi(results)) => TxnBody::Multi(
                        results
                            .iter()
                            .map(|r| match r {
                                zk_proto::client::MultiResult::Error { err } => {
                                    TxnBody::Error(ErrorTxn { err: *err })
                                }
                                _ => error_txn(ErrorCode::RuntimeInconsistency),
                            })
                            .collect(),
                    ),
                };
                if matches!(req, Request::CloseSession)
                    && let Some(s) = self.sessions.get_mut(session_id)
                {
                    s.closing = true;
                }
                (body, view.into_changes())
            }
        };
        self.submit_remote(session_id, cxid, txn_body, changes)
            .await;
    }

    async fn submit_remote(
        &mut self,
        session_id: i64,
        cxid: i32,
        body: TxnBody,
        changes: Vec<(String, Option<super::overlay::Meta>)>,
    ) {
        let header = TxnHeader {
            client_id: session_id,
            cxid,
            zxid: self.next_zxid,
            time_ms: now_ms(),
        };
        self.submit(header, body, changes, Origin::Internal).await;
    }

    /// The tree and sessions as applied now, for a learner's SNAP.
    pub(super) fn snapshot(&self) -> Snapshot {
        Snapshot {
            zxid: self.tree.last_zxid(),
            sessions: self.committed_sessions.clone(),
            tree: self.tree.clone(),
        }
    }
}

fn error_txn(code: ErrorCode) -> TxnBody {
    TxnBody::Error(ErrorTxn { err: code.code() })
}
