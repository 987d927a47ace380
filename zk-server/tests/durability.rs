//! Durability: a restart keeps the data and the sessions; kill -9 at a
//! random moment loses no acknowledged write and applies no write by half.

mod common;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use zk_proto::ErrorCode;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zk-durability-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[tokio::test]
async fn restart_keeps_data_and_sessions() {
    let dir = temp_dir("restart");
    let cfg = format!(
        "tickTime=100\nmaxSessionTimeout=60000\ndataDir={}\n",
        dir.display()
    );
    let server = start_raw(&cfg).await;
    let mut c = Client::connect(server.local_addr()).await;
    c.create("/a", b"one", 0).await.expect("create");
    c.set_data("/a", b"two", 0).await.expect("set");
    c.create("/e", b"", 1).await.expect("ephemeral");
    let seq = c.create("/s-", b"", 2).await.expect("sequential");
    c.delete(&seq, -1).await.expect("delete");
    server.shutdown().await;

    let server = start_raw(&cfg).await;
    let mut resumed = c.resume(server.local_addr()).await;
    let (data, stat) = resumed.get_data("/a", false).await.expect("/a survived");
    assert_eq!((data, stat.version), (Some(Bytes::from_static(b"two")), 1));
    resumed
        .exists("/e", false)
        .await
        .expect("the session and its ephemeral survived");
    assert_eq!(
        resumed.exists(&seq, false).await.err(),
        Some(ErrorCode::NoNode)
    );
    let next = resumed.create("/s-", b"", 2).await.expect("sequential");
    assert!(next > seq, "sequence numbers go on: {next} after {seq}");
    resumed.close().await;
    server.shutdown().await;

    // The closeSession is durable too.
    let server = start_raw(&cfg).await;
    let mut other = Client::connect(server.local_addr()).await;
    assert_eq!(
        other.exists("/e", false).await.err(),
        Some(ErrorCode::NoNode)
    );
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A session that nobody resumes after a restart expires, and its
/// ephemerals go.
#[tokio::test]
async fn unresumed_sessions_expire_after_a_restart() {
    let dir = temp_dir("expire");
    let cfg = format!("tickTime=100\ndataDir={}\n", dir.display());
    let server = start_raw(&cfg).await;
    let mut c = Client::connect_with(server.local_addr(), connect_request(400)).await;
    c.create("/gone", b"", 1).await.expect("ephemeral");
    server.shutdown().await;
    let server = start_raw(&cfg).await;
    let mut watcher = Client::connect(server.local_addr()).await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while watcher.exists("/gone", false).await.err() != Some(ErrorCode::NoNode) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the ephemeral never expired"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn spawn_server(cfg: &Path, log: &Path) -> Child {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    Command::new(env!("CARGO_BIN_EXE_zk-server"))
        .args(["start-foreground", cfg.to_str().expect("utf-8")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(out)
        .spawn()
        .expect("spawn zk-server")
}

async fn wait_for_port(addr: SocketAddr) {
    wait_until("the server to listen", || async move {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    })
    .await;
}

/// What the writers were told: path -> data of the last acknowledged write.
type Acked = Arc<Mutex<BTreeMap<String, Vec<u8>>>>;

/// Writes until the connection dies (the raw client panics then, which
/// ends this task); records each write once it is acknowledged.
async fn writer(addr: SocketAddr, id: usize, acked: Acked) {
    let mut c = Client::connect(addr).await;
    for i in 0.. {
        let path = format!("/w{id}-{i}");
        let data = format!("{id}:{i}").into_bytes();
        if i % 3 == 2 {
            // A multi: both nodes or neither.
            let ops = vec![
                create_op(&format!("{path}a"), &data, 0),
                create_op(&format!("{path}b"), &data, 0),
            ];
            if c.multi(ops).await.is_ok()
                && let Ok(mut a) = acked.lock()
            {
                a.insert(format!("{path}a"), data.clone());
                a.insert(format!("{path}b"), data);
            }
        } else if c.create(&path, &data, 0).await.is_ok()
            && let Ok(mut a) = acked.lock()
        {
            a.insert(path, data);
        }
    }
}

#[test]
fn kill_9_loses_no_acknowledged_write() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = temp_dir("crash");
    let port = free_port();
    let cfg = dir.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=200\nclientPort={port}\nclientPortAddress=127.0.0.1\ndataDir={}\n",
            dir.join("data").display()
        ),
    )
    .expect("config");
    let log = dir.join("server.log");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let acked: Acked = Arc::default();
    let mut total_checked = 0;
    for round in 0..20 {
        let mut child = spawn_server(&cfg, &log);
        rt.block_on(async {
            wait_for_port(addr).await;
            // Everything acknowledged in earlier rounds is there, whole.
            let mut c = Client::connect(addr).await;
            let want = acked.lock().map(|a| a.clone()).unwrap_or_default();
            for (path, data) in &want {
                let got = c.get_data(path, false).await;
                assert_eq!(
                    got.map(|(d, _)| d),
                    Ok(Some(Bytes::from(data.clone()))),
                    "round {round}: acknowledged {path} lost (see {})",
                    log.display()
                );
            }
            total_checked = want.len();
            // No multi applied by half.
            let (children, _) = c.children2("/").await.expect("list");
            for name in children.iter().filter(|n| n.ends_with('a')) {
                let twin = format!("/{}b", name.trim_end_matches('a'));
                assert!(
                    c.exists(&twin, false).await.is_ok(),
                    "round {round}: half a multi ({name} without its twin)"
                );
            }
            let writers: Vec<_> = (0..3)
                .map(|id| tokio::spawn(writer(addr, id + 10 * round, acked.clone())))
                .collect();
            tokio::time::sleep(Duration::from_millis(fastrand::u64(20..300))).await;
            // kill -9: no chance to flush anything.
            child.kill().expect("kill -9");
            let _ = child.wait();
            for w in writers {
                let _ = w.await;
            }
        });
    }
    assert!(total_checked > 0, "the writers acknowledged nothing");
    let _ = std::fs::remove_dir_all(&dir);
}
