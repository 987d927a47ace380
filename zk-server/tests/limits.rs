//! Limits that keep one client from taking the server's memory or
//! connections: replies over `maxResponseSize` are refused before they are
//! built; a client that pipelines reads and does not take the replies is
//! held back (its outbox stays near its budget) and, when it takes nothing
//! for longer than any session could last, closed; `maxCnxns` caps all
//! connections; `globalOutstandingLimit` throttles reading without
//! stopping anyone for good.

mod common;

use common::*;
use zk_proto::Encode;
use zk_proto::ErrorCode;
use zk_proto::client::{PathWatchRequest, Request};

fn get(path: &str) -> Request {
    Request::GetData(PathWatchRequest {
        path: path.into(),
        watch: false,
    })
}

/// The process's resident memory in bytes (the server runs in it).
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_over_max_response_size_is_refused_before_it_is_built() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;
    let big = vec![7u8; 1_000_000];
    c.create("/big", &big, 0).await.expect("a 1 MB node");
    // One read of it is fine; 2,200 in one multiRead would be 2.2 GB.
    assert_eq!(
        c.get_data("/big", false)
            .await
            .expect("read")
            .0
            .map_or(0, |d| d.len()),
        1_000_000
    );
    let many = Request::MultiRead((0..2200).map(|_| get("/big")).collect());
    let before = rss();
    assert_eq!(c.call(many).await.err(), Some(ErrorCode::MarshallingError));
    assert!(
        rss().saturating_sub(before) < 200 << 20,
        "the refused reply was built anyway"
    );
    // The connection goes on.
    assert_eq!(
        c.get_data("/big", false)
            .await
            .expect("read")
            .0
            .map_or(0, |d| d.len()),
        1_000_000
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_takes_no_replies_is_held_back_then_closed() {
    // Sessions of at most 2 s: a client silent for longer is closed.
    let server = start("maxSessionTimeout=2000").await;
    let mut owner = Client::connect(server.local_addr()).await;
    owner.create("/wide", b"", 0).await.expect("a parent");
    // 1,000 children with long names: each getChildren reply is ~1 MB,
    // built afresh for each request.
    let name = "n".repeat(1000);
    for i in 0..1000 {
        owner
            .send(&create_op(&format!("/wide/{name}{i:04}"), b"", 0))
            .await;
    }
    for _ in 0..1000 {
        assert_eq!(owner.recv().await.err(), ErrorCode::Ok);
    }
    let mut greedy = Client::connect(server.local_addr()).await;
    let before = rss();
    // 1,000 of them is a gigabyte of replies; none is read.
    for _ in 0..1000 {
        greedy
            .send(&Request::GetChildren(PathWatchRequest {
                path: "/wide".into(),
                watch: false,
            }))
            .await;
    }
    // Others are served meanwhile.
    assert!(owner.exists("/wide", false).await.is_ok());
    // The greedy one is closed (after 2 s without taking a byte): only the
    // owner's session stays. Until then the memory it holds stays small.
    let addr = server.local_addr().to_string();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    wait_until("the stalled connection to close", || {
        let addr = addr.clone();
        peak.fetch_max(
            rss().saturating_sub(before),
            std::sync::atomic::Ordering::Relaxed,
        );
        async move {
            tokio::task::spawn_blocking(move || {
                let mut s = std::net::TcpStream::connect(&addr).ok()?;
                std::io::Write::write_all(&mut s, b"mntr").ok()?;
                let mut out = String::new();
                std::io::Read::read_to_string(&mut s, &mut out).ok()?;
                Some(out.contains("zk_num_alive_connections\t1\n"))
            })
            .await
            .ok()
            .flatten()
            .unwrap_or(false)
        }
    })
    .await;
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        peak < 64 << 20,
        "{} MB held for a client that reads nothing",
        peak >> 20
    );
    drop(greedy);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_cnxns_caps_all_connections() {
    let server = start("maxCnxns=2\nmaxClientCnxns=0").await;
    let mut a = Client::connect(server.local_addr()).await;
    let b = Client::connect(server.local_addr()).await;
    let mut third = Conn::open(server.local_addr()).await;
    third
        .write_frame(|b| connect_request(30_000).encode(b))
        .await;
    assert!(third.read_frame().await.is_none(), "a third connection");
    assert!(a.exists("/", false).await.is_ok());
    b.close().await;
    wait_until("a slot to free up", || async {
        let mut c = Conn::open(server.local_addr()).await;
        c.write_frame(|b| connect_request(30_000).encode(b)).await;
        c.read_frame().await.is_some()
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_global_outstanding_limit_of_one_still_answers_everyone() {
    let server = start("globalOutstandingLimit=1").await;
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(Client::connect(server.local_addr()).await);
    }
    for c in &mut clients {
        for _ in 0..50 {
            c.send(&Request::Exists(PathWatchRequest {
                path: "/".into(),
                watch: false,
            }))
            .await;
        }
    }
    for c in &mut clients {
        for _ in 0..50 {
            assert_eq!(c.recv().await.err(), ErrorCode::Ok);
        }
    }
    server.shutdown().await;
}

/// One connection that fills the server's outstanding requests and reads
/// nothing must not stop the others: they go on being read and answered
/// (their pings keep their sessions).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_cannot_stop_the_others() {
    // A low global limit, which the greedy client alone fills.
    let server = start("globalOutstandingLimit=100").await;
    let mut greedy = Client::connect(server.local_addr()).await;
    greedy.create("/d", &[1u8; 100], 0).await.expect("a node");
    // multiReads of 60,000 getData (frames under 1 MB, replies of ~11 MB:
    // more than the socket buffers and the outbox budget take), then
    // thousands of pings, none of whose replies is read.
    let ops: Vec<Request> = (0..60_000).map(|_| get("/d")).collect();
    for _ in 0..4 {
        greedy.send(&Request::MultiRead(ops.clone())).await;
    }
    for _ in 0..5000 {
        greedy.send(&Request::Ping).await;
    }
    let mut other = Client::connect(server.local_addr()).await;
    for _ in 0..50 {
        assert!(other.exists("/", false).await.is_ok());
        other.ping().await;
    }
    drop(greedy);
    server.shutdown().await;
}
