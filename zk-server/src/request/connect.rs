//! Session life: the handshake (new or resumed session), expiry, and the
//! reaper of empty containers and expired TTL nodes.

use bytes::Bytes;
use zk_proto::client::{ConnectRequest, ConnectResponse};
use zk_proto::txn::{CreateSessionTxn, TxnBody, TxnHeader};

use super::conn::{ConnId, Outbound};
use super::core::{Core, Origin, now_ms};
use super::ops;
use super::prep::{PrepCtx, PrepView};
use crate::session::password_for;
use crate::tree::NodeKind;

impl Core {
    pub(super) async fn on_connect(&mut self, conn: ConnId, req: ConnectRequest) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        // A client that has seen a later zxid than ours would go back in
        // time here: it must try another server (ZooKeeper closes too).
        if req.last_zxid_seen > self.tree.last_zxid() {
            tracing::warn!(
                client_zxid = format_args!("{:#x}", req.last_zxid_seen),
                our_zxid = format_args!("{:#x}", self.tree.last_zxid()),
                "refusing a client that has seen a later zxid"
            );
            c.send(Outbound::Close);
            return;
        }
        let timeout_ms = self.config.negotiate_timeout(req.timeout_ms);
        c.timeout_ms = timeout_ms;
        // Cut off from the quorum: only clients that accept a read-only
        // server are served (`ReadOnlyZooKeeperServer`).
        if self.read_only && req.read_only != Some(true) {
            c.send(Outbound::Close);
            return;
        }
        // Creating a session is a write: with the log failed, only a client
        // that accepts a read-only server gets one, local to this server.
        let local = self.write_failure.is_some();
        if req.session_id == 0 && local && req.read_only != Some(true) {
            tracing::info!(
                peer = %c.peer,
                reason = self.write_failure.as_deref().unwrap_or_default(),
                "refusing a new session: the server is read-only and the client does not allow that"
            );
            c.send(Outbound::Close);
            return;
        }
        if req.session_id == 0 {
            let id = self.sessions.next_id();
            self.sessions.insert(id, timeout_ms, Some(conn));
            c.session_id = id;
            if local {
                // A read-only server's sessions are local: no txn.
                self.sessions.mark_local(id);
                let mut response = self.connect_response(id, timeout_ms, req.read_only);
                response.read_only = Some(true);
                if let Some(c) = self.conns.get(&conn) {
                    c.send(Outbound::Handshake(response));
                }
                tracing::info!(session = format_args!("{id:#x}"), "new read-only session");
                return;
            }
            c.inflight_writes += 1;
            tracing::info!(session = format_args!("{id:#x}"), timeout_ms, "new session");
            if self.is_learner() {
                self.forward_create_session(conn, id, timeout_ms, req.read_only);
                return;
            }
            let zxid = self.next_zxid;
            self.submit(
                TxnHeader {
                    client_id: id,
                    cxid: 0,
                    zxid,
                    time_ms: now_ms(),
                },
                TxnBody::CreateSession(CreateSessionTxn {
                    timeout_ms: timeout_ms as i32,
                }),
                Vec::new(),
                Origin::Connect {
                    conn,
                    read_only: req.read_only,
                },
            )
            .await;
            return;
        }
        let id = req.session_id;
        let valid = req.passwd.as_ref() == password_for(id)
            && self.sessions.get(id).is_some_and(|s| !s.closing);
        if !valid {
            tracing::info!(
                session = format_args!("{id:#x}"),
                "resume refused: session expired or wrong password"
            );
            c.send(Outbound::Handshake(ConnectResponse::expired(req.read_only)));
            c.send(Outbound::Close);
            return;
        }
        c.session_id = id;
        let previous = self.sessions.get_mut(id).and_then(|s| {
            s.timeout_ms = timeout_ms;
            s.conn.replace(conn)
        });
        self.sessions.touch(id);
        if self.is_learner() {
            self.touched.insert(id);
        }
        if let Some(c) = self.conns.get(&conn) {
            c.send(Outbound::Handshake(self.connect_response(
                id,
                timeout_ms,
                req.read_only,
            )));
        }
        // The session moved: its old connection is closed, as in ZooKeeper.
        if let Some(old) = previous.filter(|old| *old != conn)
            && let Some(old_conn) = self.conns.get(&old)
        {
            old_conn.send(Outbound::Close);
        }
        tracing::debug!(session = format_args!("{id:#x}"), "session resumed");
    }

    pub(super) fn connect_response(
        &self,
        session_id: i64,
        timeout_ms: u32,
        read_only: Option<bool>,
    ) -> ConnectResponse {
        ConnectResponse {
            protocol_version: 0,
            timeout_ms: timeout_ms as i32,
            session_id,
            passwd: Bytes::copy_from_slice(&password_for(session_id)),
            read_only: read_only.map(|_| self.read_only),
        }
    }

    pub(super) async fn expire(&mut self, session_id: i64) {
        let Some(s) = self.sessions.get_mut(session_id) else {
            return;
        };
        s.closing = true;
        tracing::info!(session = format_args!("{session_id:#x}"), "session expired");
        let zxid = self.next_zxid;
        let mut view = PrepView::new(&self.tree, &self.overlay);
        let body = ops::session::prep_close(&mut view, session_id);
        let changes = view.into_changes();
        self.submit(
            TxnHeader {
                client_id: session_id,
                cxid: 0,
                zxid,
                time_ms: now_ms(),
            },
            body,
            changes,
            Origin::Internal,
        )
        .await;
    }

    /// Deletes containers whose last child went (they had one: cversion > 0)
    /// and TTL nodes without children not modified within their TTL.
    pub(super) async fn reap(&mut self) {
        if self.write_failure.is_some() {
            return;
        }
        let now = now_ms();
        let mut doomed: Vec<String> = Vec::new();
        for path in self.tree.containers() {
            if let Some(n) = self.tree.get(path)
                && n.children.is_empty()
                && n.cversion > 0
            {
                doomed.push(path.clone());
            }
        }
        for path in self.tree.ttls() {
            if let Some(n) = self.tree.get(path)
                && let NodeKind::Ttl(ttl) = n.kind()
                && n.children.is_empty()
                && now - n.mtime > ttl
            {
                doomed.push(path.clone());
            }
        }
        for path in doomed {
            let zxid = self.next_zxid;
            let ctx = PrepCtx {
                session_id: 0,
                auth: &[],
                config: &self.config,
                zxid,
                time_ms: now,
            };
            let mut view = PrepView::new(&self.tree, &self.overlay);
            let Ok(body) = ops::delete::prep_reap(&mut view, &ctx, &path) else {
                continue;
            };
            let changes = view.into_changes();
            tracing::debug!(path, "reaping container or expired TTL node");
            self.submit(
                TxnHeader {
                    client_id: 0,
                    cxid: 0,
                    zxid,
                    time_ms: now,
                },
                body,
                changes,
                Origin::Internal,
            )
            .await;
        }
    }
}
