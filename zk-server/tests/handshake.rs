//! The connect handshake and session life: new and resumed sessions,
//! refused resumes, timeout negotiation, closeSession and expiry.

mod common;

use bytes::Bytes;
use common::*;
use zk_proto::client::{ConnectRequest, ConnectResponse, Request};
use zk_proto::data::EventType;
use zk_proto::{Decode, ErrorCode};

/// protocolVersion, timeOut, sessionId, passwd (length + 16 bytes).
const RESPONSE_LEN: usize = 4 + 4 + 8 + 4 + 16;

#[tokio::test]
async fn new_session_answers_in_the_form_the_client_used() {
    let server = start("").await;
    let addr = server.local_addr();

    let mut with_byte = Conn::open(addr).await;
    with_byte.send_connect(&connect_request(30_000)).await;
    let frame = with_byte.read_frame().await.expect("handshake reply");
    assert_eq!(frame.len(), RESPONSE_LEN + 1, "readOnly byte answered");
    let resp = ConnectResponse::decode(&mut frame.clone()).expect("decodes");
    assert_eq!(resp.protocol_version, 0);
    assert_eq!(resp.read_only, Some(false));
    assert_eq!(resp.timeout_ms, 30_000);
    assert_ne!(resp.session_id, 0);
    assert_eq!(resp.passwd.len(), 16);
    assert_eq!(frame[RESPONSE_LEN], 0);

    let mut without = Conn::open(addr).await;
    let old_client = ConnectRequest {
        read_only: None,
        ..connect_request(30_000)
    };
    without.send_connect(&old_client).await;
    let frame = without.read_frame().await.expect("handshake reply");
    assert_eq!(
        frame.len(),
        RESPONSE_LEN,
        "no readOnly byte for an old client"
    );
    let resp2 = ConnectResponse::decode(&mut frame.clone()).expect("decodes");
    assert_eq!(resp2.read_only, None);
    assert_eq!(resp2.timeout_ms, 30_000);
    assert_ne!(resp2.session_id, 0);
    assert_ne!(resp2.session_id, resp.session_id);
    assert_ne!(resp2.passwd, resp.passwd);

    server.shutdown().await;
}

#[tokio::test]
async fn timeout_is_negotiated_into_two_to_twenty_ticks() {
    // No explicit session bounds: 2x and 20x tickTime.
    let server = start_raw("tickTime=150").await;
    let addr = server.local_addr();
    for (asked, granted) in [
        (1, 300),
        (0, 300),
        (1000, 1000),
        (3000, 3000),
        (600_000, 3000),
    ] {
        let client = Client::connect_with(addr, connect_request(asked)).await;
        assert_eq!(client.timeout_ms, granted, "asked {asked}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn resume_with_the_password_keeps_the_session() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut first = Client::connect(addr).await;
    first.create("/mine", b"x", 1).await.expect("ephemeral");

    let mut second = first.resume(addr).await;
    assert_eq!(second.session_id, first.session_id);
    assert_eq!(second.passwd, first.passwd);
    assert_eq!(second.timeout_ms, first.timeout_ms);
    // The session moved: its old connection is closed.
    first.conn.expect_closed().await;
    let stat = second.exists("/mine", false).await.expect("ephemeral kept");
    assert_eq!(stat.ephemeral_owner, second.session_id);
    match second.call(Request::GetEphemerals(path_req("/"))).await {
        Ok(zk_proto::client::Response::GetEphemerals(paths)) => assert_eq!(paths, ["/mine"]),
        other => panic!("{other:?}"),
    }
    server.shutdown().await;
}

fn path_req(path: &str) -> zk_proto::client::PathRequest {
    zk_proto::client::PathRequest { path: path.into() }
}

/// The refusal ZooKeeper sends: timeout 0, session 0, 16 zero bytes; then
/// it closes the connection.
async fn assert_refused(addr: std::net::SocketAddr, req: ConnectRequest) {
    let read_only = req.read_only;
    let mut conn = Conn::open(addr).await;
    conn.send_connect(&req).await;
    let frame = conn.read_frame().await.expect("a refusal reply");
    let resp = ConnectResponse::decode(&mut frame.clone()).expect("decodes");
    assert_eq!(
        resp,
        ConnectResponse {
            protocol_version: 0,
            timeout_ms: 0,
            session_id: 0,
            passwd: Bytes::from_static(&[0; 16]),
            read_only: read_only.map(|_| false),
        }
    );
    conn.expect_closed().await;
}

#[tokio::test]
async fn resume_with_a_wrong_password_or_unknown_id_is_refused() {
    let server = start("").await;
    let addr = server.local_addr();
    let client = Client::connect(addr).await;

    let mut wrong = client.passwd.to_vec();
    wrong[0] ^= 0xff;
    let bad_password = ConnectRequest {
        session_id: client.session_id,
        passwd: Bytes::from(wrong),
        ..connect_request(30_000)
    };
    assert_refused(addr, bad_password.clone()).await;
    assert_refused(
        addr,
        ConnectRequest {
            read_only: None,
            ..bad_password
        },
    )
    .await;
    let unknown = ConnectRequest {
        session_id: client.session_id + 1000,
        passwd: client.passwd.clone(),
        ..connect_request(30_000)
    };
    assert_refused(addr, unknown).await;

    // The refusals left the real session alone.
    let mut again = client.resume(addr).await;
    again.ping().await;
    server.shutdown().await;
}

#[tokio::test]
async fn client_ahead_of_the_server_is_disconnected() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut conn = Conn::open(addr).await;
    conn.send_connect(&ConnectRequest {
        last_zxid_seen: 1 << 40,
        ..connect_request(30_000)
    })
    .await;
    conn.expect_closed().await;
    // The server still serves a client that is not ahead.
    let mut fresh = Client::connect(addr).await;
    fresh.exists("/", false).await.expect("root");
    server.shutdown().await;
}

#[tokio::test]
async fn close_session_removes_its_ephemerals() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut owner = Client::connect(addr).await;
    let mut observer = Client::connect(addr).await;
    owner.create("/e", b"", 1).await.expect("ephemeral");
    owner
        .create("/s-", b"", 3)
        .await
        .expect("ephemeral sequential");
    observer
        .exists("/e", true)
        .await
        .expect("visible to others");
    let closed_session = owner.session_id;
    let passwd = owner.passwd.clone();

    owner.close().await;
    let event = observer.next_event().await;
    assert!(event.is(EventType::NodeDeleted, "/e"), "{event:?}");
    assert_eq!(observer.exists("/e", false).await, Err(ErrorCode::NoNode));
    assert_eq!(
        observer.children("/", false).await.expect("root"),
        ["zookeeper"]
    );

    // A closed session cannot be resumed.
    assert_refused(
        addr,
        ConnectRequest {
            session_id: closed_session,
            passwd,
            ..connect_request(30_000)
        },
    )
    .await;
    server.shutdown().await;
}

#[tokio::test]
async fn expired_session_loses_its_ephemerals_and_fires_watches() {
    let server = start("tickTime=100").await;
    let addr = server.local_addr();
    let mut observer = Client::connect(addr).await;
    // One second (10 ticks); after its last ping the client goes silent.
    let mut doomed = Client::connect_with(addr, connect_request(1000)).await;
    assert_eq!(doomed.timeout_ms, 1000);
    doomed.create("/gone", b"", 1).await.expect("ephemeral");
    doomed.create("/kept", b"", 0).await.expect("persistent");
    observer.get_data("/gone", true).await.expect("watch set");
    doomed.ping().await;

    let event = observer.next_event().await;
    assert!(event.is(EventType::NodeDeleted, "/gone"), "{event:?}");
    assert_eq!(
        observer.exists("/gone", false).await,
        Err(ErrorCode::NoNode)
    );
    observer
        .exists("/kept", false)
        .await
        .expect("persistent node stays");
    // The expired session's connection is closed, and it cannot resume.
    doomed.conn.expect_closed().await;
    assert_refused(
        addr,
        ConnectRequest {
            session_id: doomed.session_id,
            passwd: doomed.passwd.clone(),
            ..connect_request(1000)
        },
    )
    .await;
    server.shutdown().await;
}

/// Connect, auth and requests in one write, as a client that pipelines its
/// handshake sends them: every request is answered without more bytes
/// coming in (the frames behind the ConnectRequest used to wait for the
/// next read).
#[tokio::test]
async fn requests_in_the_same_write_as_the_connect_are_answered() {
    use bytes::BytesMut;
    use zk_proto::Encode;
    use zk_proto::client::{AuthPacket, RequestHeader, xid};
    use zk_proto::frame::write_frame;

    let server = start("").await;
    let mut conn = Conn::open(server.local_addr()).await;
    let requests = [
        (
            xid::AUTH,
            Request::Auth(AuthPacket {
                auth_type: 0,
                scheme: "digest".into(),
                auth: Bytes::from_static(b"alice:secret"),
            }),
        ),
        (1, create_op("/piped", b"data", 0)),
        (2, Request::GetData(watch_req("/piped", true))),
        (3, Request::Exists(watch_req("/nothing", false))),
    ];
    let mut out = BytesMut::new();
    write_frame(&mut out, |b| connect_request(30_000).encode(b)).expect("a frame");
    for (xid, req) in &requests {
        let header = RequestHeader {
            xid: *xid,
            op: req.op_code().code(),
        };
        write_frame(&mut out, |b| {
            header.encode(b);
            req.encode_body(b);
        })
        .expect("a frame");
    }
    conn.write_raw(&out).await;

    let mut frame = conn.read_frame().await.expect("handshake reply");
    let resp = ConnectResponse::decode(&mut frame).expect("connect response");
    assert_ne!(resp.session_id, 0);
    let mut replies = Vec::new();
    for _ in &requests {
        match parse_incoming(conn.read_frame().await.expect("a reply")) {
            Incoming::Reply(r) => replies.push((r.header.xid, r.err(), r.body)),
            Incoming::Event(e) => panic!("unexpected event {e:?}"),
        }
    }
    let summary: Vec<(i32, ErrorCode)> = replies.iter().map(|(x, e, _)| (*x, *e)).collect();
    assert_eq!(
        summary,
        [
            (xid::AUTH, ErrorCode::Ok),
            (1, ErrorCode::Ok),
            (2, ErrorCode::Ok),
            (3, ErrorCode::NoNode)
        ]
    );
    let data = zk_proto::client::GetDataResponse::decode(&mut replies[2].2.clone())
        .expect("getData reply");
    assert_eq!(data.data, Some(Bytes::from_static(b"data")));
    server.shutdown().await;
}
