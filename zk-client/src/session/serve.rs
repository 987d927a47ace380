//! The connected period: requests out in call order, replies matched in
//! order, watch events dispatched, pings when idle, and the connection
//! declared lost when the server falls silent.

use std::collections::VecDeque;
use std::time::Duration;

use crate::tls::WriteHalf;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_util::codec::FramedRead;
use zk_proto::client::{
    AuthPacket, ReplyHeader, Request, RequestHeader, Response, WatcherEvent, WatchesRequest, xid,
};
use zk_proto::data::{EventType, WatcherType};
use zk_proto::frame::{FrameCodec, write_frame};
use zk_proto::{Decode, Encode, ErrorCode, OpCode};

use super::connect::Conn;
use super::{Command, End, Outgoing, SessionTask};
use crate::error::{Error, Result};
use crate::watch::{WatchKind, WatchReg, chunk};

/// Largest reply accepted (a big getChildren can pass the server's 1 MiB
/// request limit).
const MAX_REPLY: usize = 16 << 20;
/// Requests written per batch.
const BATCH: usize = 128;
/// How long a close waits for the server's answer.
const CLOSE_WAIT: Duration = Duration::from_secs(3);

/// What to do when a reply arrives, besides answering the caller.
#[derive(Debug)]
enum After {
    Nothing,
    RememberAuth(String, Bytes),
    RemoveLocal(String, WatcherType),
    Closed,
}

#[derive(Debug)]
struct Pending {
    xid: i32,
    op: OpCode,
    reply: Option<oneshot::Sender<Result<Response>>>,
    watch: Option<WatchReg>,
    after: After,
}

impl SessionTask {
    pub(super) async fn serve(&mut self, conn: Conn) -> End {
        let (read, mut write) = (conn.reader, conn.writer);
        let mut frames = FramedRead::new(read, FrameCodec::new(MAX_REPLY));
        let mut pending: VecDeque<Pending> = VecDeque::new();
        let mut wbuf = BytesMut::new();
        self.set_state(Self::connected_state(conn.read_only));
        tracing::info!(
            session = format_args!("{:#x}", self.session_id),
            "connected"
        );

        // Prime the connection: watches, credentials, what waited.
        if let Some(sw) = self.watches.rearm(self.last_zxid) {
            for part in chunk(sw) {
                self.encode(
                    &mut wbuf,
                    &mut pending,
                    outgoing(Request::SetWatches2(part)),
                );
            }
        }
        for (scheme, auth) in self.auth.clone() {
            let packet = AuthPacket {
                auth_type: 0,
                scheme,
                auth,
            };
            self.encode(&mut wbuf, &mut pending, outgoing(Request::Auth(packet)));
        }
        while let Some(out) = self.queued.pop_front() {
            self.encode(&mut wbuf, &mut pending, out);
        }
        if write.write_all(&wbuf).await.is_err() {
            return self.lost(pending);
        }
        wbuf.clear();

        let ping_every = self.timeout / 3;
        let read_timeout = self.timeout * 2 / 3;
        let mut last_sent = Instant::now();
        let mut last_heard = Instant::now();
        let mut close_deadline: Option<Instant> = None;
        // Read-only: look for a read-write server meanwhile, and move.
        let probing = conn.read_only && self.opts.hosts.len() > 1;
        let probe = super::connect::find_read_write(self.opts.hosts.clone(), self.opts.tls.clone());
        tokio::pin!(probe);
        loop {
            let silence = last_heard + read_timeout;
            tokio::select! {
                biased;
                host = &mut probe, if probing && close_deadline.is_none() => {
                    tracing::info!(host = %host.host, port = host.port, "a read-write server answers; moving to it");
                    self.prefer = Some(host);
                    return self.lost(pending);
                }
                frame = frames.next() => {
                    let Some(Ok(frame)) = frame else {
                        if close_deadline.is_some() {
                            return End::Closed;
                        }
                        return self.lost(pending);
                    };
                    last_heard = Instant::now();
                    match self.on_frame(frame, &mut pending) {
                        Ok(None) => {}
                        Ok(Some(end)) => {
                            self.fail_pending(pending, Error::ConnectionLoss);
                            return end;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "bad reply from server; reconnecting");
                            return self.lost(pending);
                        }
                    }
                }
                cmd = self.rx.recv(), if close_deadline.is_none() => {
                    let mut next = cmd;
                    for taken in 1..=BATCH {
                        match next {
                            None => {
                                // Every handle is gone: close the session.
                                close_deadline = Some(self.start_close(&mut wbuf, &mut pending, None));
                                break;
                            }
                            Some(Command::Close { reply }) => {
                                close_deadline = Some(self.start_close(&mut wbuf, &mut pending, Some(reply)));
                                break;
                            }
                            Some(Command::Request { req, watch, reply }) => {
                                self.encode(&mut wbuf, &mut pending, Outgoing { req, watch, reply: Some(reply) });
                            }
                            Some(Command::Unwatch { id, kind, path }) => {
                                if self.watches.remove_persistent(id, kind, &path) {
                                    let watcher_type = if kind == WatchKind::Persistent {
                                        WatcherType::Persistent
                                    } else {
                                        WatcherType::PersistentRecursive
                                    };
                                    let req = Request::RemoveWatches(WatchesRequest { path, watcher_type: watcher_type as i32 });
                                    self.encode(&mut wbuf, &mut pending, outgoing(req));
                                }
                            }
                        }
                        // Only take another command this batch will handle:
                        // one taken and left would be dropped, its caller
                        // answered `Closed` by a client that is not.
                        if taken == BATCH {
                            break;
                        }
                        next = match self.rx.try_recv() {
                            Ok(cmd) => Some(cmd),
                            Err(_) => break,
                        };
                    }
                    if write.write_all(&wbuf).await.is_err() {
                        wbuf.clear();
                        return self.lost(pending);
                    }
                    wbuf.clear();
                    last_sent = Instant::now();
                }
                () = tokio::time::sleep_until(last_sent + ping_every) => {
                    self.encode(&mut wbuf, &mut pending, outgoing(Request::Ping));
                    if send(&mut write, &mut wbuf).await.is_err() {
                        return self.lost(pending);
                    }
                    last_sent = Instant::now();
                }
                () = tokio::time::sleep_until(silence) => {
                    tracing::info!(silent_ms = read_timeout.as_millis() as u64, "server silent; reconnecting");
                    return self.lost(pending);
                }
                () = sleep_until_opt(close_deadline) => return End::Closed,
            }
        }
    }

    fn start_close(
        &mut self,
        wbuf: &mut BytesMut,
        pending: &mut VecDeque<Pending>,
        reply: Option<oneshot::Sender<()>>,
    ) -> Instant {
        let xid = self.take_xid();
        // A closeSession frame is a few bytes: it always fits.
        let _ = write_request(wbuf, xid, &Request::CloseSession);
        pending.push_back(Pending {
            xid,
            op: OpCode::CloseSession,
            reply: None,
            watch: None,
            after: After::Closed,
        });
        if let Some(reply) = reply {
            // Answered once the task ends (the sender is dropped): the
            // caller of close() waits for the session to be over.
            self.close_waiters.push(reply);
        }
        Instant::now() + CLOSE_WAIT
    }

    /// Appends one request to the write buffer and remembers what to do
    /// with its reply.
    fn encode(&mut self, wbuf: &mut BytesMut, pending: &mut VecDeque<Pending>, out: Outgoing) {
        let xid = match out.req {
            Request::Ping => xid::PING,
            Request::Auth(_) => xid::AUTH,
            Request::SetWatches(_) | Request::SetWatches2(_) => xid::SET_WATCHES,
            _ => self.take_xid(),
        };
        if write_request(wbuf, xid, &out.req).is_err() {
            // Larger than a frame can say: refused here, nothing sent.
            if let Some(reply) = out.reply {
                let _ = reply.send(Err(Error::BadArguments));
            }
            return;
        }
        let after = match &out.req {
            Request::Auth(p) if out.reply.is_some() => {
                After::RememberAuth(p.scheme.clone(), p.auth.clone())
            }
            Request::RemoveWatches(r) if out.reply.is_some() => {
                match WatcherType::from_code(r.watcher_type) {
                    Some(t) => After::RemoveLocal(r.path.clone(), t),
                    None => After::Nothing,
                }
            }
            _ => After::Nothing,
        };
        pending.push_back(Pending {
            xid,
            op: out.req.op_code(),
            reply: out.reply,
            watch: out.watch,
            after,
        });
    }

    /// Handles one frame; `Some` ends the connected period.
    fn on_frame(
        &mut self,
        mut frame: Bytes,
        pending: &mut VecDeque<Pending>,
    ) -> Result<Option<End>> {
        let header = ReplyHeader::decode(&mut frame).map_err(|e| Error::Protocol(e.to_string()))?;
        if header.xid == xid::NOTIFICATION {
            let event =
                WatcherEvent::decode(&mut frame).map_err(|e| Error::Protocol(e.to_string()))?;
            // Notifications do not move last_zxid: a multi fires several
            // with one zxid, and a reconnect must not skip the rest.
            if let Some(t) =
                EventType::from_code(event.event_type).filter(|t| *t != EventType::None)
            {
                self.watches
                    .dispatch(&self.opts.chroot, t, &event.path, header.zxid);
            }
            return Ok(None);
        }
        // Servers answer an auth packet as soon as they read it, ahead of
        // earlier requests still in their pipeline (ZooKeeper's
        // `ZooKeeperServer.processPacket`): match it wherever it waits.
        let next = if header.xid == xid::AUTH {
            let at = pending.iter().position(|p| p.xid == xid::AUTH);
            at.and_then(|i| pending.remove(i))
        } else {
            pending.pop_front()
        };
        let Some(p) = next else {
            return Err(Error::Protocol(format!(
                "reply {} without a request",
                header.xid
            )));
        };
        if p.xid != header.xid {
            // The connection is dropped: this request, like the rest in
            // flight, may or may not have happened.
            if let Some(reply) = p.reply {
                let _ = reply.send(Err(Error::ConnectionLoss));
            }
            return Err(Error::Protocol(format!(
                "reply {} for request {}",
                header.xid, p.xid
            )));
        }
        if header.zxid > self.last_zxid {
            self.last_zxid = header.zxid;
        }
        let result = match Error::from_code(header.err) {
            Some(err) => Err(err),
            None => Response::decode(p.op, &mut frame).map_err(|e| Error::Protocol(e.to_string())),
        };
        if let Some(mut w) = p.watch {
            // exists leaves a watch either way: on the data of a node that
            // is there, on the creation of one that is not.
            let register = match (&result, p.op) {
                (Ok(_), OpCode::Exists) => {
                    w.kind = WatchKind::Data;
                    true
                }
                (Err(Error::NoNode), OpCode::Exists) => true,
                (Ok(_), _) => true,
                _ => false,
            };
            if register {
                self.watches.add(w);
            }
        }
        let mut end = None;
        match (&p.after, &result) {
            (After::RememberAuth(scheme, auth), Ok(_)) => {
                let cred = (scheme.clone(), auth.clone());
                if !self.auth.contains(&cred) {
                    self.auth.push(cred);
                }
            }
            (After::RemoveLocal(path, t), Ok(_)) => {
                self.watches.remove_type(&self.opts.chroot, path, *t)
            }
            (After::Closed, _) => end = Some(End::Closed),
            _ => {}
        }
        if p.op == OpCode::Auth && header.err == ErrorCode::AuthFailed.code() {
            end = Some(End::AuthFailed);
        }
        if let Some(reply) = p.reply {
            let _ = reply.send(result);
        }
        Ok(end)
    }

    fn fail_pending(&mut self, pending: VecDeque<Pending>, err: Error) {
        for p in pending {
            if let Some(reply) = p.reply {
                let _ = reply.send(Err(err.clone()));
            }
        }
    }

    /// The connection is gone: what was in flight may or may not have
    /// happened (ConnectionLoss).
    fn lost(&mut self, pending: VecDeque<Pending>) -> End {
        self.fail_pending(pending, Error::ConnectionLoss);
        End::Lost
    }
}

fn outgoing(req: Request) -> Outgoing {
    Outgoing {
        req,
        watch: None,
        reply: None,
    }
}

fn write_request(
    wbuf: &mut BytesMut,
    xid: i32,
    req: &Request,
) -> Result<(), zk_proto::frame::FrameError> {
    write_frame(wbuf, |b| {
        RequestHeader {
            xid,
            op: req.op_code().code(),
        }
        .encode(b);
        req.encode_body(b);
    })
}

async fn send(write: &mut WriteHalf, wbuf: &mut BytesMut) -> std::io::Result<()> {
    let r = write.write_all(wbuf).await;
    wbuf.clear();
    r
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
