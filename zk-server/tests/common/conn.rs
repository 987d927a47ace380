//! The raw connection: frames in and out, and the parsed forms of what
//! the server sends.

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::codec::Decoder;
use zk_proto::client::{ConnectRequest, ReplyHeader, Response, WatcherEvent, xid};
use zk_proto::data::EventType;
use zk_proto::frame::{FrameCodec, write_frame};
use zk_proto::{Decode, Encode, ErrorCode, OpCode};

use super::DEADLINE;

/// A byte stream split into frames; what the server sees and says, raw.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    codec: FrameCodec,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> Conn {
        let stream = tokio::time::timeout(DEADLINE, TcpStream::connect(addr))
            .await
            .expect("connect in time")
            .expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Conn {
            stream,
            buf: BytesMut::new(),
            // The client accepts any size the server sends.
            codec: FrameCodec::new(usize::MAX >> 1),
        }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().expect("local addr")
    }

    /// Writes bytes as they are; errors are ignored (the server may have
    /// closed already, which is what some tests expect).
    pub async fn write_raw(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
    }

    /// Writes one length-prefixed frame.
    pub async fn write_frame(&mut self, body: impl FnOnce(&mut BytesMut)) {
        let mut out = BytesMut::new();
        write_frame(&mut out, body).expect("a frame");
        self.write_raw(&out).await;
    }

    /// The next frame, or `None` when the server closed the connection
    /// (EOF or reset). Fails the test if nothing comes in time.
    pub async fn read_frame(&mut self) -> Option<Bytes> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(frame) = self.codec.decode(&mut self.buf).expect("well-formed frame") {
                return Some(frame);
            }
            let read = tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf))
                .await
                .expect("the server answers or closes in time");
            match read {
                Ok(0) | Err(_) => {
                    assert!(
                        self.buf.is_empty(),
                        "connection closed inside a frame: {:?}",
                        &self.buf[..]
                    );
                    return None;
                }
                Ok(_) => {}
            }
        }
    }

    /// Asserts that the server closes the connection without sending
    /// another frame.
    pub async fn expect_closed(&mut self) {
        if let Some(frame) = self.read_frame().await {
            panic!("expected the connection to close, got a frame: {frame:?}");
        }
    }

    /// Everything the server sends until it closes (four-letter words).
    pub async fn read_to_end(&mut self) -> String {
        let mut out = Vec::new();
        let read = tokio::time::timeout(DEADLINE, self.stream.read_to_end(&mut out)).await;
        read.expect("the server closes in time").expect("read");
        String::from_utf8(out).expect("utf-8 answer")
    }

    pub async fn send_connect(&mut self, req: &ConnectRequest) {
        self.write_frame(|b| req.encode(b)).await;
    }
}

/// A new-session handshake request, with the readOnly byte.
pub fn connect_request(timeout_ms: i32) -> ConnectRequest {
    ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        timeout_ms,
        session_id: 0,
        passwd: Bytes::from_static(&[0; 16]),
        read_only: Some(false),
    }
}

/// A watch notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub zxid: i64,
    pub kind: EventType,
    pub path: String,
}

impl Event {
    pub fn is(&self, kind: EventType, path: &str) -> bool {
        self.kind == kind && self.path == path
    }
}

/// A reply: the header and the undecoded body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub header: ReplyHeader,
    pub body: Bytes,
}

impl Reply {
    pub fn err(&self) -> ErrorCode {
        ErrorCode::from_code(self.header.err).expect("a known error code")
    }

    /// The body decoded for `op`, or the error code.
    pub fn result(&self, op: OpCode) -> Result<Response, ErrorCode> {
        match self.err() {
            ErrorCode::Ok => {
                Ok(Response::decode(op, &mut self.body.clone()).expect("body decodes"))
            }
            code => Err(code),
        }
    }
}

/// One frame from the server: a watch event or a reply.
#[derive(Debug, Clone)]
pub enum Incoming {
    Event(Event),
    Reply(Reply),
}

/// Parses a frame after the handshake.
pub fn parse_incoming(mut frame: Bytes) -> Incoming {
    let header = ReplyHeader::decode(&mut frame).expect("reply header");
    if header.xid == xid::NOTIFICATION {
        let e = WatcherEvent::decode(&mut frame).expect("watcher event");
        Incoming::Event(Event {
            zxid: header.zxid,
            kind: EventType::from_code(e.event_type).expect("known event type"),
            path: e.path,
        })
    } else {
        Incoming::Reply(Reply {
            header,
            body: frame,
        })
    }
}
