//! Reads and session-level requests, answered from the applied tree. They
//! run once this connection's earlier writes are applied.

use zk_proto::ErrorCode;
use zk_proto::client::{
    GetAclResponse, GetChildren2Response, GetChildrenResponse, GetDataResponse, MultiResult,
    PathWatchRequest, ReplyHeader, Request, Response, SetWatches2, WatcherEvent, xid as special,
};
use zk_proto::data::{AddWatchMode, EventType, Id, KeeperState, WatcherType, perms};

use super::conn::{ConnId, Outbound};
use super::core::Core;
use crate::tree::{WatchKind, acl};

type ReadResult = Result<Response, ErrorCode>;

impl Core {
    pub(super) fn read(&mut self, conn: ConnId, xid: i32, req: Request) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let auth = c.auth.clone();
        let session_id = c.session_id;
        // Events a request itself fires go out before its reply.
        let mut before = Vec::new();
        let result = match req {
            Request::Auth(packet) => {
                self.add_auth(conn, &packet.scheme, &packet.auth);
                return;
            }
            Request::Ping => Ok(Response::Empty),
            Request::Exists(r) => self.exists(conn, &auth, &r),
            Request::GetData(r) => self.get_data(conn, &auth, &r),
            Request::GetChildren(r) => self
                .get_children(conn, &auth, &r)
                .map(|(children, _)| Response::GetChildren(GetChildrenResponse { children })),
            Request::GetChildren2(r) => {
                self.get_children(conn, &auth, &r).map(|(children, stat)| {
                    Response::GetChildren2(GetChildren2Response { children, stat })
                })
            }
            Request::GetAcl(r) => self.get_acl(&auth, &r.path),
            Request::Sync(r) => Ok(Response::Sync(r.path)),
            Request::GetAllChildrenNumber(r) => self
                .node_for_read(&auth, &r.path)
                .map(|()| Response::AllChildrenNumber(self.tree.descendant_count(&r.path) as i32)),
            Request::GetEphemerals(r) => {
                let prefix = r.path.trim();
                let all = prefix.is_empty() || prefix == "/";
                Ok(Response::GetEphemerals(
                    self.tree
                        .ephemerals_of(session_id)
                        .filter(|p| all || p.starts_with(prefix))
                        .cloned()
                        .collect(),
                ))
            }
            Request::WhoAmI => Ok(Response::WhoAmI(acl::client_infos(&auth))),
            Request::MultiRead(ops) => Ok(Response::Multi(
                ops.iter()
                    .map(|op| self.multi_read_one(conn, &auth, op))
                    .collect(),
            )),
            Request::AddWatch(r) => match AddWatchMode::from_code(r.mode) {
                Some(mode) => {
                    let kind = match mode {
                        AddWatchMode::Persistent => WatchKind::Persistent,
                        AddWatchMode::PersistentRecursive => WatchKind::PersistentRecursive,
                    };
                    self.watches.add(kind, &r.path, conn);
                    Ok(Response::ErrorBody(0))
                }
                None => Err(ErrorCode::BadArguments),
            },
            Request::CheckWatches(r) => match WatcherType::from_code(r.watcher_type) {
                Some(t) if self.watches.contains(&r.path, t, conn) => Ok(Response::Empty),
                Some(_) => Err(ErrorCode::NoWatcher),
                None => Err(ErrorCode::BadArguments),
            },
            Request::RemoveWatches(r) => match WatcherType::from_code(r.watcher_type) {
                Some(t) if self.watches.remove(&r.path, t, conn) => Ok(Response::Empty),
                Some(_) => Err(ErrorCode::NoWatcher),
                None => Err(ErrorCode::BadArguments),
            },
            Request::SetWatches(r) => {
                before = self.set_watches(
                    conn,
                    SetWatches2 {
                        relative_zxid: r.relative_zxid,
                        data_watches: r.data_watches,
                        exist_watches: r.exist_watches,
                        child_watches: r.child_watches,
                        ..SetWatches2::default()
                    },
                );
                Ok(Response::Empty)
            }
            Request::SetWatches2(r) => {
                before = self.set_watches(conn, r);
                Ok(Response::Empty)
            }
            Request::Sasl(r) => {
                self.sasl_step(conn, xid, &r.token);
                return;
            }
            // Writes never get here; anything else is not implemented.
            _ => Err(ErrorCode::Unimplemented),
        };
        let (err, body) = match result.and_then(|body| self.bounded(body)) {
            Ok(body) => (0, body),
            Err(code) => (code.code(), Response::Empty),
        };
        let header = ReplyHeader {
            xid,
            zxid: self.tree.last_zxid(),
            err,
        };
        before.push(Outbound::Reply(header, body));
        if let Some(c) = self.conns.get_mut(&conn) {
            c.emit_all(before);
        }
    }

    /// A reply over `maxResponseSize` is refused (MarshallingError) before
    /// it is encoded: a multiRead of many large nodes would otherwise take
    /// gigabytes to send, more than any client reads (their
    /// `jute.maxbuffer`).
    fn bounded(&self, body: Response) -> ReadResult {
        let len = body.encoded_len();
        let max = self.config.max_response_bytes;
        if len > max {
            tracing::warn!(len, max, "reply larger than maxResponseSize refused");
            return Err(ErrorCode::MarshallingError);
        }
        Ok(body)
    }

    /// The node exists and `auth` may read it.
    fn node_for_read(&self, auth: &[Id], path: &str) -> Result<(), ErrorCode> {
        let node = self.tree.get(path).ok_or(ErrorCode::NoNode)?;
        acl::check(&node.acl, perms::READ, auth)
    }

    fn exists(&mut self, conn: ConnId, auth: &[Id], r: &PathWatchRequest) -> ReadResult {
        if r.path.contains('\0') {
            return Err(ErrorCode::BadArguments);
        }
        // Since 3.9.2 exists needs READ on a node that exists (ZOOKEEPER-4799).
        if let Some(node) = self.tree.get(&r.path) {
            acl::check(&node.acl, perms::READ, auth)?;
        }
        if r.watch {
            self.watches.add(WatchKind::Data, &r.path, conn);
        }
        self.tree
            .get(&r.path)
            .map(|n| Response::Stat(n.stat()))
            .ok_or(ErrorCode::NoNode)
    }

    fn get_data(&mut self, conn: ConnId, auth: &[Id], r: &PathWatchRequest) -> ReadResult {
        self.node_for_read(auth, &r.path)?;
        if r.watch {
            self.watches.add(WatchKind::Data, &r.path, conn);
        }
        let node = self.tree.get(&r.path).ok_or(ErrorCode::NoNode)?;
        Ok(Response::GetData(GetDataResponse {
            data: node.data.clone(),
            stat: node.stat(),
        }))
    }

    fn get_children(
        &mut self,
        conn: ConnId,
        auth: &[Id],
        r: &PathWatchRequest,
    ) -> Result<(Vec<String>, zk_proto::data::Stat), ErrorCode> {
        self.node_for_read(auth, &r.path)?;
        if r.watch {
            self.watches.add(WatchKind::Child, &r.path, conn);
        }
        let node = self.tree.get(&r.path).ok_or(ErrorCode::NoNode)?;
        Ok((node.children.iter().cloned().collect(), node.stat()))
    }

    fn get_acl(&self, auth: &[Id], path: &str) -> ReadResult {
        let node = self.tree.get(path).ok_or(ErrorCode::NoNode)?;
        acl::check(&node.acl, perms::READ | perms::ADMIN, auth)?;
        let list = if acl::allowed(&node.acl, perms::ADMIN, auth) {
            node.acl.to_vec()
        } else {
            acl::mask_digests(&node.acl)
        };
        Ok(Response::GetAcl(GetAclResponse {
            acl: list,
            stat: node.stat(),
        }))
    }

    fn multi_read_one(&mut self, conn: ConnId, auth: &[Id], op: &Request) -> MultiResult {
        let result = match op {
            Request::GetData(r) => self.get_data(conn, auth, r).map(|resp| match resp {
                Response::GetData(d) => MultiResult::GetData {
                    data: d.data,
                    stat: d.stat,
                },
                _ => MultiResult::Error {
                    err: ErrorCode::SystemError.code(),
                },
            }),
            Request::GetChildren(r) => self
                .get_children(conn, auth, r)
                .map(|(children, _)| MultiResult::GetChildren { children }),
            _ => Err(ErrorCode::Unimplemented),
        };
        result.unwrap_or_else(|code| MultiResult::Error { err: code.code() })
    }

    /// Re-arms a reconnecting client's watches and fires, right away, those
    /// whose condition changed after `relative_zxid` (`DataTree.setWatches`).
    fn set_watches(&mut self, conn: ConnId, r: SetWatches2) -> Vec<Outbound> {
        let mut events = Vec::new();
        for path in r.data_watches {
            match self.tree.get(&path) {
                None => events.push((path, EventType::NodeDeleted)),
                Some(n) if n.mzxid > r.relative_zxid => {
                    events.push((path, EventType::NodeDataChanged))
                }
                Some(_) => self.watches.add(WatchKind::Data, &path, conn),
            }
        }
        for path in r.exist_watches {
            if self.tree.get(&path).is_some() {
                events.push((path, EventType::NodeCreated));
            } else {
                self.watches.add(WatchKind::Data, &path, conn);
            }
        }
        for path in r.child_watches {
            match self.tree.get(&path) {
                None => events.push((path, EventType::NodeDeleted)),
                Some(n) if n.pzxid > r.relative_zxid => {
                    events.push((path, EventType::NodeChildrenChanged))
                }
                Some(_) => self.watches.add(WatchKind::Child, &path, conn),
            }
        }
        for path in r.persistent_watches {
            self.watches.add(WatchKind::Persistent, &path, conn);
        }
        for path in r.persistent_recursive_watches {
            self.watches
                .add(WatchKind::PersistentRecursive, &path, conn);
        }
        // No txn fired these: ZooKeeper sends them with no zxid
        // (`WatchedEvent.NO_ZXID`).
        events
            .into_iter()
            .map(|(path, event)| {
                Outbound::Event(
                    -1,
                    WatcherEvent {
                        event_type: event as i32,
                        state: KeeperState::SyncConnected as i32,
                        path,
                    },
                )
            })
            .collect()
    }

    /// addauth: a bad scheme or credential answers AuthFailed and closes the
    /// connection, as ZooKeeper does.
    fn add_auth(&mut self, conn: ConnId, scheme: &str, auth: &[u8]) {
        let zxid = self.tree.last_zxid();
        let super_digest = self.config.super_digest.as_deref();
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let result = acl::authenticate(scheme, auth, super_digest, c.peer.ip());
        let header = |err: ErrorCode| ReplyHeader {
            xid: special::AUTH,
            zxid,
            err: err.code(),
        };
        match result {
            Ok(ids) => {
                for id in ids {
                    if !c.auth.contains(&id) {
                        c.auth.push(id);
                    }
                }
                c.emit_all([Outbound::Reply(header(ErrorCode::Ok), Response::Empty)]);
            }
            Err(code) => {
                crate::metrics::inc(&self.stats.metrics.auth_failed_count);
                tracing::warn!(scheme, "authentication failed; closing the connection");
                c.emit_all([
                    Outbound::Reply(header(code), Response::Empty),
                    Outbound::Close,
                ]);
            }
        }
    }
}
