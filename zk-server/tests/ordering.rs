//! Pipelining: many requests in flight on one connection come back in xid
//! order, and each read sees every write sent before it.

mod common;

use common::*;
use zk_proto::client::{Request, Response};
use zk_proto::{ErrorCode, OpCode};

#[derive(Debug)]
enum Expect {
    Created(String),
    Set { version: i32 },
    Get { data: Vec<u8>, version: i32 },
    Exists(ErrorCode),
}

#[tokio::test]
async fn pipelined_requests_answer_in_order_and_read_their_writes() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;
    c.create("/ord", b"start", 0).await.expect("create");

    let mut sent = Vec::new();
    let (mut data, mut version) = (b"start".to_vec(), 0);
    for i in 0..200u32 {
        let (req, expect) = match i % 4 {
            0 => {
                data = format!("v{i}").into_bytes();
                version += 1;
                (
                    set_data_req("/ord", &data, version - 1),
                    Expect::Set { version },
                )
            }
            1 => (
                Request::GetData(watch_req("/ord", false)),
                Expect::Get {
                    data: data.clone(),
                    version,
                },
            ),
            2 => {
                let path = format!("/ord/c{i}");
                (create_op(&path, b"", 0), Expect::Created(path))
            }
            _ => {
                // The child created by the previous request exists already.
                let path = format!("/ord/c{}", i - 1);
                (
                    Request::Exists(watch_req(&path, false)),
                    Expect::Exists(ErrorCode::Ok),
                )
            }
        };
        let xid = c.send(&req).await;
        sent.push((xid, req.op_code(), expect));
    }

    let mut last_zxid = 0;
    for (xid, op, expect) in sent {
        let reply = c.recv().await;
        assert_eq!(reply.header.xid, xid, "replies come back in request order");
        assert!(reply.header.zxid >= last_zxid, "zxids never go back");
        last_zxid = reply.header.zxid;
        let result = reply.result(op);
        match (expect, result) {
            (Expect::Set { version }, Ok(Response::Stat(s))) => assert_eq!(s.version, version),
            (Expect::Get { data, version }, Ok(Response::GetData(d))) => {
                assert_eq!(d.data.as_deref(), Some(&data[..]), "xid {xid}");
                assert_eq!(d.stat.version, version, "xid {xid}");
            }
            (Expect::Created(path), Ok(Response::Create(r))) => assert_eq!(r.path, path),
            (Expect::Exists(ErrorCode::Ok), Ok(Response::Stat(_))) => {}
            (expect, got) => panic!("xid {xid} ({op:?}): expected {expect:?}, got {got:?}"),
        }
    }
    assert!(c.events.is_empty());
    let (_, stat) = c.children2("/ord").await.expect("children");
    assert_eq!(stat.num_children, 50);
    assert_eq!(c.get_data("/ord", false).await.expect("get").1.version, 50);
    server.shutdown().await;
}

/// Errors keep their place in the pipeline too.
#[tokio::test]
async fn pipelined_failures_keep_their_place() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;
    let reqs = [
        (create_op("/x", b"", 0), ErrorCode::Ok),
        (create_op("/x", b"", 0), ErrorCode::NodeExists),
        (Request::GetData(watch_req("/y", false)), ErrorCode::NoNode),
        (set_data_req("/x", b"1", 5), ErrorCode::BadVersion),
        (Request::GetData(watch_req("/x", false)), ErrorCode::Ok),
        (delete_op("/x", 0), ErrorCode::Ok),
        (Request::Exists(watch_req("/x", false)), ErrorCode::NoNode),
    ];
    let mut xids = Vec::new();
    for (req, _) in &reqs {
        xids.push(c.send(req).await);
    }
    for ((req, want), xid) in reqs.iter().zip(xids) {
        let reply = c.recv().await;
        assert_eq!(reply.header.xid, xid);
        assert_eq!(reply.err(), *want, "{:?}", req.op_code());
        if *want == ErrorCode::Ok && req.op_code() == OpCode::GetData {
            assert!(reply.result(OpCode::GetData).is_ok());
        }
    }
    server.shutdown().await;
}
