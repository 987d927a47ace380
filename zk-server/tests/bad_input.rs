//! Malformed and hostile input: each case ends with a fresh client that
//! still gets served.

mod common;

use std::net::SocketAddr;

use common::*;
use zk_proto::client::{RequestHeader, xid};
use zk_proto::{Encode, ErrorCode, OpCode};

/// jute.maxbuffer for these tests.
const MAX: usize = 4096;

async fn server() -> zk_server::Server {
    start(&format!("jute.maxbuffer={MAX}")).await
}

async fn still_serves(addr: SocketAddr) {
    let mut c = Client::connect(addr).await;
    c.create("/alive", b"", 1)
        .await
        .expect("a fresh client is served");
    c.close().await;
}

#[tokio::test]
async fn frame_over_jute_maxbuffer_closes_without_reply() {
    let server = server().await;
    let addr = server.local_addr();
    let mut c = Client::connect(addr).await;
    // Just under the limit is fine.
    let big = vec![b'x'; MAX - 200];
    c.create("/big", &big, 0)
        .await
        .expect("a frame under the limit");
    let len = (MAX + 1) as u32;
    let mut frame = len.to_be_bytes().to_vec();
    frame.extend(std::iter::repeat_n(0u8, MAX + 1));
    c.conn.write_raw(&frame).await;
    c.conn.expect_closed().await;
    still_serves(addr).await;
    server.shutdown().await;
}

#[tokio::test]
async fn oversized_handshake_closes() {
    let server = server().await;
    let addr = server.local_addr();
    let mut conn = Conn::open(addr).await;
    conn.write_raw(&(MAX as u32 * 2).to_be_bytes()).await;
    conn.expect_closed().await;
    still_serves(addr).await;
    server.shutdown().await;
}

/// ZooKeeper answers an op it does not know with Unimplemented, then closes
/// the connection (`UnimplementedRequestProcessor`).
#[tokio::test]
async fn unknown_op_code_answers_unimplemented_and_closes() {
    let server = server().await;
    let addr = server.local_addr();
    for op in [999, 10, OpCode::Notification.code()] {
        let mut c = Client::connect(addr).await;
        c.create(&format!("/op{op}"), b"", 0).await.expect("create");
        let header = RequestHeader { xid: 77, op };
        c.conn.write_frame(|b| header.encode(b)).await;
        let reply = c.recv().await;
        assert_eq!(reply.header.xid, 77, "op {op}");
        assert_eq!(reply.err(), ErrorCode::Unimplemented, "op {op}");
        c.conn.expect_closed().await;
    }
    still_serves(addr).await;
    server.shutdown().await;
}

/// A request whose body does not decode is a MarshallingError for that
/// request (ZooKeeper's FinalRequestProcessor and PrepRequestProcessor);
/// the connection stays usable.
#[tokio::test]
async fn truncated_request_body_is_a_marshalling_error() {
    let server = server().await;
    let addr = server.local_addr();
    let mut c = Client::connect(addr).await;
    c.create("/t", b"", 0).await.expect("create");
    for op in [OpCode::GetData, OpCode::SetData, OpCode::Create] {
        let header = RequestHeader {
            xid: 5,
            op: op.code(),
        };
        // A path length of 100 with 2 bytes of path.
        c.conn
            .write_frame(|b| {
                header.encode(b);
                b.extend_from_slice(&[0, 0, 0, 100, b'/', b't']);
            })
            .await;
        let reply = c.recv().await;
        assert_eq!(reply.header.xid, 5);
        assert_eq!(reply.err(), ErrorCode::MarshallingError, "{op:?}");
    }
    // Still in order and alive afterwards.
    let stat = c.exists("/t", false).await.expect("same connection works");
    assert_eq!(stat.version, 0);
    still_serves(addr).await;
    server.shutdown().await;
}

/// A refused request keeps its place among pipelined replies, whether it
/// arrives behind a write in flight or behind queued requests.
#[tokio::test]
async fn marshalling_error_keeps_its_place_in_the_pipeline() {
    let server = server().await;
    let mut c = Client::connect(server.local_addr()).await;
    c.create("/p", b"", 0).await.expect("create");
    let malformed = |xid: i32| {
        move |b: &mut bytes::BytesMut| {
            RequestHeader {
                xid,
                op: OpCode::GetData.code(),
            }
            .encode(b);
            b.extend_from_slice(&[0, 0]);
        }
    };
    let set = c.send(&set_data_req("/p", b"1", -1)).await;
    c.conn.write_frame(malformed(1001)).await;
    let get = c
        .send(&zk_proto::client::Request::GetData(watch_req("/p", false)))
        .await;
    let set2 = c.send(&set_data_req("/p", b"2", -1)).await;
    let get2 = c
        .send(&zk_proto::client::Request::GetData(watch_req("/p", false)))
        .await;
    c.conn.write_frame(malformed(1002)).await;
    let get3 = c
        .send(&zk_proto::client::Request::Exists(watch_req("/p", false)))
        .await;
    let want = [
        (set, ErrorCode::Ok),
        (1001, ErrorCode::MarshallingError),
        (get, ErrorCode::Ok),
        (set2, ErrorCode::Ok),
        (get2, ErrorCode::Ok),
        (1002, ErrorCode::MarshallingError),
        (get3, ErrorCode::Ok),
    ];
    for (xid, err) in want {
        let reply = c.recv().await;
        assert_eq!((reply.header.xid, reply.err()), (xid, err));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn truncated_request_header_closes() {
    let server = server().await;
    let addr = server.local_addr();
    let mut c = Client::connect(addr).await;
    c.conn
        .write_frame(|b| b.extend_from_slice(&[0, 0, 0]))
        .await;
    c.conn.expect_closed().await;
    still_serves(addr).await;
    server.shutdown().await;
}

#[tokio::test]
async fn garbage_before_the_handshake_closes() {
    let server = server().await;
    let addr = server.local_addr();
    let cases: [&[u8]; 3] = [
        // Read as a length: far over the limit.
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        // A well-formed frame holding a truncated ConnectRequest.
        &[0, 0, 0, 5, 1, 2, 3, 4, 5],
        // A connect frame that ends before the password.
        &[
            0, 0, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x75, 0x30, 0, 0, 0, 0, 0, 0, 0,
            0,
        ],
    ];
    for bytes in cases {
        let mut conn = Conn::open(addr).await;
        conn.write_raw(bytes).await;
        conn.expect_closed().await;
    }
    still_serves(addr).await;
    server.shutdown().await;
}

#[tokio::test]
async fn negative_frame_length_closes() {
    let server = server().await;
    let addr = server.local_addr();
    let mut c = Client::connect(addr).await;
    c.conn.write_raw(&(-1i32).to_be_bytes()).await;
    c.conn.expect_closed().await;
    let mut conn = Conn::open(addr).await;
    conn.write_raw(&i32::MIN.to_be_bytes()).await;
    conn.expect_closed().await;
    still_serves(addr).await;
    server.shutdown().await;
}

#[tokio::test]
async fn max_client_cnxns_refuses_the_third_connection() {
    let server = start("maxClientCnxns=2").await;
    let addr = server.local_addr();
    let mut first = Client::connect(addr).await;
    let mut second = Client::connect(addr).await;
    let mut third = Conn::open(addr).await;
    third.send_connect(&connect_request(30_000)).await;
    third.expect_closed().await;
    first.create("/one", b"", 0).await.expect("first works");
    second.exists("/one", false).await.expect("second works");

    // A slot frees when a connection goes.
    first.close().await;
    wait_until("a free connection slot", || async {
        let mut conn = Conn::open(addr).await;
        conn.send_connect(&connect_request(30_000)).await;
        conn.read_frame().await.is_some()
    })
    .await;
    second.ping().await;
    server.shutdown().await;
}

/// Pings carry xid -2 whatever the client sent.
#[tokio::test]
async fn ping_reply_uses_the_ping_xid() {
    let server = server().await;
    let mut c = Client::connect(server.local_addr()).await;
    let header = RequestHeader {
        xid: 12,
        op: OpCode::Ping.code(),
    };
    c.conn.write_frame(|b| header.encode(b)).await;
    let reply = c.recv().await;
    assert_eq!((reply.header.xid, reply.err()), (xid::PING, ErrorCode::Ok));
    server.shutdown().await;
}
