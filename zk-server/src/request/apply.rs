//! The end of the pipeline: committed txns are applied in zxid order, the
//! watches they fire are sent, then the replies.

use zk_proto::client::{
    Create2Response, CreateResponse, MultiResult, ReplyHeader, Response, WatcherEvent,
};
use zk_proto::data::{KeeperState, perms};
use zk_proto::txn::{Txn, TxnBody};
use zk_proto::{ErrorCode, OpCode};

use super::conn::Outbound;
use super::core::{Core, Inflight, Origin, Shape};
use crate::tree::{Change, TxnResult, acl};

impl Core {
    pub(super) async fn on_committed(&mut self, batch: Vec<Txn>) {
        for txn in batch {
            let zxid = txn.header.zxid;
            let inflight = if self.is_learner() {
                Inflight {
                    zxid,
                    origin: self.take_pending(&txn),
                }
            } else {
                let Some(inflight) = self.inflight.pop_front() else {
                    tracing::error!(zxid, "committed txn that nobody waits for");
                    continue;
                };
                inflight
            };
            // The log stage returns txns in the order it got them.
            assert_eq!(inflight.zxid, zxid, "txns committed out of order");
            // A replica must never apply out of zxid order (a diverged
            // replica stops rather than serve a different history).
            assert!(
                crate::zab::zxid::follows(self.tree.last_zxid(), zxid),
                "txn {zxid:#x} does not follow {:#x}",
                self.tree.last_zxid()
            );
            if let TxnBody::CreateSession(t) = &txn.body
                && self.sessions.get(txn.header.client_id).is_none()
            {
                // Created through another server: known here from now on.
                self.sessions
                    .insert(txn.header.client_id, t.timeout_ms.max(0) as u32, None);
            }
            let (result, changes) = self.tree.apply(&txn);
            crate::persist::track_session(&mut self.committed_sessions, &txn);
            self.overlay.applied(zxid);
            if let Some(snapshotter) = self.snapshotter.as_mut() {
                let sessions = &self.committed_sessions;
                snapshotter.applied(&self.tree, || sessions.clone());
            }
            self.fire(&changes, zxid);
            self.finish(inflight, &txn, result).await;
            self.release_deferred(zxid).await;
        }
    }

    /// Sends the error replies that waited for txns up to `zxid`.
    async fn release_deferred(&mut self, zxid: i64) {
        while self.deferred.front().is_some_and(|(at, _, _)| *at <= zxid) {
            let Some((_, conn, out)) = self.deferred.pop_front() else {
                return;
            };
            if let Some(c) = self.conns.get_mut(&conn) {
                c.inflight_writes -= 1;
                c.send(out);
            }
            self.drain(conn).await;
        }
    }

    /// Sends each change's event to the watchers it fires, before any reply
    /// that could show the change.
    fn fire(&mut self, changes: &[Change], zxid: i64) {
        for change in changes {
            for watcher in self.watches.trigger(change) {
                if let Some(c) = self.conns.get(&watcher)
                    && acl::allowed(&change.acl, perms::READ, &c.auth)
                {
                    c.send(Outbound::Event(
                        zxid,
                        WatcherEvent {
                            event_type: change.event as i32,
                            state: KeeperState::SyncConnected as i32,
                            path: change.path.clone(),
                        },
                    ));
                }
            }
        }
    }

    async fn finish(&mut self, inflight: Inflight, txn: &Txn, result: TxnResult) {
        let zxid = txn.header.zxid;
        let closed_session =
            matches!(txn.body, TxnBody::CloseSession(_)).then_some(txn.header.client_id);
        let session_conn = closed_session
            .and_then(|id| self.sessions.remove(id))
            .and_then(|s| s.conn);
        match inflight.origin {
            Origin::Client { conn, xid, shape } => {
                let (err, body) = reply_for(&shape, result);
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.inflight_writes -= 1;
                    c.send(Outbound::Reply(ReplyHeader { xid, zxid, err }, body));
                }
                if closed_session.is_none() {
                    self.drain(conn).await;
                }
            }
            Origin::Connect { conn, read_only } => {
                let Some(c) = self.conns.get(&conn) else {
                    return;
                };
                let response = self.connect_response(c.session_id, c.timeout_ms, read_only);
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.inflight_writes -= 1;
                    c.stats
                        .established_ms
                        .store(super::core::now_ms(), std::sync::atomic::Ordering::Relaxed);
                    c.send(Outbound::Handshake(response));
                }
                self.drain(conn).await;
            }
            Origin::Sync { .. } | Origin::Internal => {}
        }
        if let Some(conn) = session_conn
            && let Some(c) = self.conns.get(&conn)
        {
            c.send(Outbound::Close);
        }
    }
}

/// The reply to a write, from what applying it produced.
fn reply_for(shape: &Shape, result: TxnResult) -> (i32, Response) {
    match (shape, result) {
        (_, TxnResult::Error(code)) => (code.code(), Response::Empty),
        (Shape::Multi(ops), TxnResult::Multi(results)) => (
            0,
            Response::Multi(
                ops.iter()
                    .zip(results)
                    .map(|(op, r)| multi_result(*op, r))
                    .collect(),
            ),
        ),
        (Shape::Op(op), result) => match (op, result) {
            (OpCode::Create, TxnResult::Created { path, .. }) => {
                (0, Response::Create(CreateResponse { path }))
            }
            (_, TxnResult::Created { path, stat }) => {
                (0, Response::Create2(Create2Response { path, stat }))
            }
            (_, TxnResult::SetData { stat } | TxnResult::SetAcl { stat }) => {
                (0, Response::Stat(stat))
            }
            _ => (0, Response::Empty),
        },
        (Shape::Multi(_), _) => (ErrorCode::SystemError.code(), Response::Empty),
    }
}

fn multi_result(op: OpCode, result: TxnResult) -> MultiResult {
    match result {
        TxnResult::Created { path, .. } if op == OpCode::Create => MultiResult::Create { path },
        TxnResult::Created { path, stat } => MultiResult::Create2 { op, path, stat },
        TxnResult::Deleted => MultiResult::Delete,
        TxnResult::SetData { stat } => MultiResult::SetData { stat },
        TxnResult::Checked => MultiResult::Check,
        TxnResult::Error(code) => MultiResult::Error { err: code.code() },
        TxnResult::SetAcl { .. } | TxnResult::Session | TxnResult::Multi(_) => MultiResult::Error {
            err: ErrorCode::SystemError.code(),
        },
    }
}
