//! A small ZooKeeper client on simulated TCP: one request at a time, a new
//! session per connection. The simulation's clients use it to drive the
//! ensemble and record what they saw.

use std::io;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zk_proto::client::{
    ConnectRequest, ConnectResponse, ReplyHeader, Request, RequestHeader, Response,
};
use zk_proto::frame::write_frame;
use zk_proto::{Decode, Encode, ErrorCode};

/// Replies bigger than this end the connection (the sim's data is small).
const MAX_FRAME: usize = 1 << 20;

#[derive(Debug)]
pub struct SimClient {
    stream: turmoil::net::TcpStream,
    next_xid: i32,
    pub session_id: i64,
}

/// What a call came back with: a reply, an error code, or nothing known
/// (the connection broke or the deadline passed: the outcome is unknown).
pub type CallResult = io::Result<Result<Response, ErrorCode>>;

impl SimClient {
    /// Connects to `addr` (`host:port`) and creates a session.
    pub async fn connect(addr: &str, session_timeout_ms: i32) -> io::Result<SimClient> {
        let stream = turmoil::net::TcpStream::connect(addr).await?;
        let mut c = SimClient {
            stream,
            next_xid: 1,
            session_id: 0,
        };
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout_ms: session_timeout_ms,
            session_id: 0,
            passwd: Bytes::from_static(&[0; 16]),
            read_only: Some(false),
        };
        let mut buf = BytesMut::new();
        write_frame(&mut buf, |b| req.encode(b)).map_err(io::Error::other)?;
        c.stream.write_all(&buf).await?;
        let mut frame = c.read_frame().await?;
        let resp = ConnectResponse::decode(&mut frame).map_err(io::Error::other)?;
        if resp.timeout_ms <= 0 {
            return Err(io::Error::other("session refused"));
        }
        c.session_id = resp.session_id;
        Ok(c)
    }

    async fn read_frame(&mut self) -> io::Result<Bytes> {
        let len = self.stream.read_u32().await? as usize;
        if len > MAX_FRAME {
            return Err(io::Error::other("frame too large"));
        }
        let mut body = vec![0; len];
        self.stream.read_exact(&mut body).await?;
        Ok(Bytes::from(body))
    }

    /// Sends `req` and waits (at most `within`) for its reply.
    pub async fn call(&mut self, req: &Request, within: Duration) -> CallResult {
        match tokio::time::timeout(within, self.call_inner(req)).await {
            Ok(r) => r,
            Err(_) => Err(io::ErrorKind::TimedOut.into()),
        }
    }

    async fn call_inner(&mut self, req: &Request) -> CallResult {
        let xid = self.next_xid;
        self.next_xid += 1;
        let op = req.op_code();
        let mut buf = BytesMut::new();
        write_frame(&mut buf, |b| {
            RequestHeader { xid, op: op as i32 }.encode(b);
            req.encode_body(b);
        })
        .map_err(io::Error::other)?;
        self.stream.write_all(&buf).await?;
        loop {
            let mut frame = self.read_frame().await?;
            let header = ReplyHeader::decode(&mut frame).map_err(io::Error::other)?;
            if header.xid != xid {
                continue; // a watch event or a ping's answer
            }
            if header.err != 0 {
                let code = ErrorCode::from_code(header.err)
                    .ok_or_else(|| io::Error::other(format!("unknown error {}", header.err)))?;
                return Ok(Err(code));
            }
            return Response::decode(op, &mut frame)
                .map(Ok)
                .map_err(io::Error::other);
        }
    }
}
