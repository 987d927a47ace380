//! A client with a session: requests with xids, replies, watch events.

use std::collections::VecDeque;
use std::net::SocketAddr;

use bytes::Bytes;
use zk_proto::client::{
    AddWatchRequest, AuthPacket, ConnectRequest, ConnectResponse, CreateTtlRequest, MultiResult,
    PathRequest, Request, RequestHeader, Response, SetAclRequest, xid,
};
use zk_proto::data::{Acl, Stat};
use zk_proto::{Decode, Encode, ErrorCode, OpCode};

use super::conn::{Conn, Event, Incoming, Reply, connect_request, parse_incoming};
use super::{create_req, delete_op, set_data_req, watch_req};

/// A client with a session.
#[derive(Debug)]
pub struct Client {
    pub conn: Conn,
    pub session_id: i64,
    pub passwd: Bytes,
    pub timeout_ms: i32,
    next_xid: i32,
    /// Watch events received and not yet taken, in arrival order.
    pub events: VecDeque<Event>,
    /// The highest zxid seen in a reply.
    pub last_zxid: i64,
}

impl Client {
    /// A new session with a 30 s timeout.
    pub async fn connect(addr: SocketAddr) -> Client {
        Client::connect_with(addr, connect_request(30_000)).await
    }

    /// Performs this handshake, which must succeed.
    pub async fn connect_with(addr: SocketAddr, req: ConnectRequest) -> Client {
        let mut conn = Conn::open(addr).await;
        conn.send_connect(&req).await;
        let mut frame = conn.read_frame().await.expect("a handshake reply");
        let resp = ConnectResponse::decode(&mut frame).expect("connect response");
        assert_ne!(resp.session_id, 0, "session refused: {resp:?}");
        Client {
            conn,
            session_id: resp.session_id,
            passwd: resp.passwd,
            timeout_ms: resp.timeout_ms,
            next_xid: 1,
            events: VecDeque::new(),
            last_zxid: req.last_zxid_seen,
        }
    }

    /// Resumes this client's session on a new connection.
    pub async fn resume(&self, addr: SocketAddr) -> Client {
        let req = ConnectRequest {
            session_id: self.session_id,
            passwd: self.passwd.clone(),
            last_zxid_seen: self.last_zxid,
            ..connect_request(self.timeout_ms)
        };
        let client = Client::connect_with(addr, req).await;
        assert_eq!(client.session_id, self.session_id);
        client
    }

    /// Sends a request with the next xid and returns the xid.
    pub async fn send(&mut self, req: &Request) -> i32 {
        let xid = self.next_xid;
        self.next_xid += 1;
        self.send_with_xid(xid, req).await;
        xid
    }

    pub async fn send_with_xid(&mut self, xid: i32, req: &Request) {
        let header = RequestHeader {
            xid,
            op: req.op_code().code(),
        };
        self.conn
            .write_frame(|b| {
                header.encode(b);
                req.encode_body(b);
            })
            .await;
    }

    /// The next frame, `None` at EOF; events are returned, not queued.
    pub async fn next_incoming(&mut self) -> Option<Incoming> {
        let frame = self.conn.read_frame().await?;
        let incoming = parse_incoming(frame);
        if let Incoming::Reply(r) = &incoming {
            self.last_zxid = self.last_zxid.max(r.header.zxid);
        }
        Some(incoming)
    }

    /// The next reply; watch events that come first are queued.
    pub async fn recv(&mut self) -> Reply {
        loop {
            match self.next_incoming().await {
                Some(Incoming::Event(e)) => self.events.push_back(e),
                Some(Incoming::Reply(r)) => return r,
                None => panic!("connection closed while waiting for a reply"),
            }
        }
    }

    /// Sends and waits for the reply, which must carry the same xid.
    pub async fn call_reply(&mut self, req: Request) -> Reply {
        let xid = self.send(&req).await;
        let reply = self.recv().await;
        assert_eq!(reply.header.xid, xid, "reply out of order");
        reply
    }

    pub async fn call(&mut self, req: Request) -> Result<Response, ErrorCode> {
        let op = req.op_code();
        self.call_reply(req).await.result(op)
    }

    /// The next watch event (queued or on the wire); a reply instead fails.
    pub async fn next_event(&mut self) -> Event {
        if let Some(e) = self.events.pop_front() {
            return e;
        }
        match self.next_incoming().await {
            Some(Incoming::Event(e)) => e,
            other => panic!("expected a watch event, got {other:?}"),
        }
    }

    /// Asserts that no event is pending. A ping round trip first: anything
    /// the server had queued for us before answering arrives before it.
    pub async fn assert_no_events(&mut self) {
        self.ping().await;
        assert!(
            self.events.is_empty(),
            "unexpected events: {:?}",
            self.events
        );
    }

    pub async fn ping(&mut self) {
        let header = RequestHeader {
            xid: xid::PING,
            op: OpCode::Ping.code(),
        };
        self.conn.write_frame(|b| header.encode(b)).await;
        let reply = self.recv().await;
        assert_eq!(reply.header.xid, xid::PING);
        assert_eq!(reply.err(), ErrorCode::Ok);
    }

    /// closeSession; the server answers, then closes the connection.
    pub async fn close(mut self) {
        let reply = self.call_reply(Request::CloseSession).await;
        assert_eq!(reply.err(), ErrorCode::Ok);
        self.conn.expect_closed().await;
    }

    // ---- typed helpers ----

    pub async fn create(
        &mut self,
        path: &str,
        data: &[u8],
        flags: i32,
    ) -> Result<String, ErrorCode> {
        self.create_acl(path, data, Acl::open_unsafe(), flags).await
    }

    pub async fn create_acl(
        &mut self,
        path: &str,
        data: &[u8],
        acl: Vec<Acl>,
        flags: i32,
    ) -> Result<String, ErrorCode> {
        match self
            .call(Request::Create(create_req(path, data, acl, flags)))
            .await?
        {
            Response::Create(r) => Ok(r.path),
            other => panic!("unexpected {other:?}"),
        }
    }

    pub async fn create2(
        &mut self,
        path: &str,
        data: &[u8],
        flags: i32,
    ) -> Result<(String, Stat), ErrorCode> {
        let req = Request::Create2(create_req(path, data, Acl::open_unsafe(), flags));
        match self.call(req).await? {
            Response::Create2(r) => Ok((r.path, r.stat)),
            other => panic!("unexpected {other:?}"),
        }
    }

    pub async fn create_container(&mut self, path: &str) -> Result<(String, Stat), ErrorCode> {
        let req = Request::CreateContainer(create_req(path, b"", Acl::open_unsafe(), 4));
        match self.call(req).await? {
            Response::Create2(r) => Ok((r.path, r.stat)),
            other => panic!("unexpected {other:?}"),
        }
    }

    pub async fn create_ttl(&mut self, path: &str, ttl: i64) -> Result<(String, Stat), ErrorCode> {
        let req = Request::CreateTtl(CreateTtlRequest {
            path: path.into(),
            data: Some(Bytes::new()),
            acl: Acl::open_unsafe(),
            flags: 5,
            ttl,
        });
        match self.call(req).await? {
            Response::Create2(r) => Ok((r.path, r.stat)),
            other => panic!("unexpected {other:?}"),
        }
    }

    pub async fn delete(&mut self, path: &str, version: i32) -> Result<(), ErrorCode> {
        self.call(delete_op(path, version)).await.map(|_| ())
    }

    pub async fn exists(&mut self, path: &str, watch: bool) -> Result<Stat, ErrorCode> {
        match self.call(Request::Exists(watch_req(path, watch))).await? {
            Response::Stat(s) => Ok(s),
            other => panic!("unexpected {other:?}"),
        }
    }

    pub async fn get_data(
        &mut self,
        path: &str,
        watch: bool,
    ) -> Result<(Option<Bytes>, Stat), ErrorCode> {
        match self.call(Request::GetData(watch_req(path, watch))).await? {
            Response::GetData(r) => Ok((r.data, r.stat)),
            other => panic!("unexpected {other:?}"),
        }
    }

    pub async fn set_data(
        &mut self,
        path: &str,
        data: &[u8],
        version: i32,
    ) -> Result<Stat, ErrorCode> {
        match self.call(set_data_req(path, data, version)).await? {
            Response::Stat(s) => Ok(s),
            other => panic!("unexpected {other:?}"),
        }
    }

    pub async fn get_acl(&mut self, path: &str) -> Result<(Vec<Acl>, Stat), ErrorCode> {
        match self
            .call(Request::GetAcl(PathRequest { path: path.into() }))
            .await?
        {
            Response::GetAcl(r) => Ok((r.acl, r.stat)),
            other => panic!("unexpected {other:?}"),
        }
    }

    pub async fn set_acl(
        &mut self,
        path: &str,
        acl: Vec<Acl>,
        version: i32,
    ) -> Result<Stat, ErrorCode> {
        let req = Request::SetAcl(SetAclRequest {
            path: path.into(),
            acl,
            version,
        });
        match self.call(req).await? {
            Response::Stat(s) => Ok(s),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// getChildren, sorted (ZooKeeper promises no order).
    pub async fn children(&mut self, path: &str, watch: bool) -> Result<Vec<String>, ErrorCode> {
        match self
            .call(Request::GetChildren(watch_req(path, watch)))
            .await?
        {
            Response::GetChildren(mut r) => {
                r.children.sort();
                Ok(r.children)
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    pub async fn children2(&mut self, path: &str) -> Result<(Vec<String>, Stat), ErrorCode> {
        match self
            .call(Request::GetChildren2(watch_req(path, false)))
            .await?
        {
            Response::GetChildren2(mut r) => {
                r.children.sort();
                Ok((r.children, r.stat))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    pub async fn multi(&mut self, ops: Vec<Request>) -> Result<Vec<MultiResult>, ErrorCode> {
        match self.call(Request::Multi(ops)).await? {
            Response::Multi(r) => Ok(r),
            other => panic!("unexpected {other:?}"),
        }
    }

    pub async fn add_watch(&mut self, path: &str, mode: i32) -> Result<(), ErrorCode> {
        let req = Request::AddWatch(AddWatchRequest {
            path: path.into(),
            mode,
        });
        match self.call(req).await? {
            Response::ErrorBody(0) => Ok(()),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// addauth; the reply (xid -4).
    pub async fn add_auth(&mut self, scheme: &str, auth: &str) -> Reply {
        let req = Request::Auth(AuthPacket {
            auth_type: 0,
            scheme: scheme.into(),
            auth: Bytes::copy_from_slice(auth.as_bytes()),
        });
        self.send_with_xid(xid::AUTH, &req).await;
        let reply = self.recv().await;
        assert_eq!(reply.header.xid, xid::AUTH);
        reply
    }
}
