//! SASL on a client connection, as ZooKeeper's `processSasl`: DIGEST-MD5
//! steps answered at once on the server the client is connected to (not
//! replicated); success adds `sasl:<user>` (and `super:` for a super user)
//! to the connection's ids. A failed exchange answers AuthFailed (-115), or
//! -124 when SASL is enforced, and closes the connection, unless
//! `allowSaslFailedClients` keeps it open unauthenticated. With
//! `enforce.auth`, a connection that has not authenticated with one of the
//! schemes gets -124 for any other request and is closed.

use bytes::Bytes;
use zk_proto::ErrorCode;
use zk_proto::client::{ReplyHeader, Request, Response};
use zk_proto::data::Id;
use zk_sasl::digest::{DigestServer, ServerStep};

use super::conn::{ConnId, Outbound};
use super::core::Core;

impl Core {
    /// One SASL step of `conn`'s exchange.
    pub(super) fn sasl_step(&mut self, conn: ConnId, xid: i32, token: &[u8]) {
        let sasl = &self.config.sasl;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let users = &sasl.users;
        let result = if sasl.serves() {
            c.sasl
                .get_or_insert_with(DigestServer::new)
                .step(token, |user| users.get(user).cloned())
        } else {
            Err(zk_sasl::SaslError::Protocol(
                "SASL is not configured (no JAAS Server section)",
            ))
        };
        let reply = |err: ErrorCode, token: Vec<u8>| {
            Outbound::Reply(
                ReplyHeader {
                    xid,
                    zxid: 0,
                    err: err.code(),
                },
                Response::Sasl(Bytes::from(token)),
            )
        };
        match result {
            Ok(ServerStep::Challenge(token)) => c.emit_all([reply(ErrorCode::Ok, token)]),
            Ok(ServerStep::Done { token, user }) => {
                tracing::info!(user, peer = %c.peer, "SASL authenticated");
                let mut ids = vec![Id::new("sasl", &user)];
                if sasl.super_users.contains(&user) {
                    ids.push(Id::new("super", ""));
                }
                for id in ids {
                    if !c.auth.contains(&id) {
                        c.auth.push(id);
                    }
                }
                c.emit_all([reply(ErrorCode::Ok, token)]);
            }
            Err(e) if sasl.allow_failed && !sasl.sasl_required() => {
                crate::metrics::inc(&self.stats.metrics.auth_failed_count);
                tracing::warn!(peer = %c.peer, error = %e, "SASL failed; keeping the connection (allowSaslFailedClients)");
                c.emit_all([reply(ErrorCode::Ok, Vec::new())]);
            }
            Err(e) => {
                crate::metrics::inc(&self.stats.metrics.auth_failed_count);
                tracing::warn!(peer = %c.peer, error = %e, "SASL failed; closing the connection");
                let code = if sasl.sasl_required() {
                    ErrorCode::SessionClosedRequireSaslAuth
                } else {
                    ErrorCode::AuthFailed
                };
                c.emit_all([reply(code, Vec::new()), Outbound::Close]);
            }
        }
    }

    /// With `enforce.auth`: whether `conn` may send `req`; if not, it is
    /// answered -124 and closed here.
    pub(super) fn enforce_auth(&mut self, conn: ConnId, xid: i32, req: &Request) -> bool {
        let schemes = &self.config.sasl.enforce_schemes;
        if schemes.is_empty() || matches!(req, Request::Auth(_) | Request::Sasl(_)) {
            return true;
        }
        let Some(c) = self.conns.get_mut(&conn) else {
            return false;
        };
        if c.auth.iter().any(|id| schemes.contains(&id.scheme)) {
            return true;
        }
        tracing::warn!(peer = %c.peer, ?schemes, "request before authentication; closing the connection");
        let header = ReplyHeader {
            xid,
            zxid: 0,
            err: ErrorCode::SessionClosedRequireSaslAuth.code(),
        };
        c.emit_all([Outbound::Reply(header, Response::Empty), Outbound::Close]);
        false
    }
}
