//! A disk that fails: the write in flight fails with an error, later writes
//! are refused, reads go on, new sessions are read-only, and nothing
//! unsynced is ever acknowledged; when the disk works again the server
//! takes writes again by itself. (`disk_full.rs` does it with a real full
//! disk.)

mod common;

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use common::*;
use zk_proto::ErrorCode;
use zk_server::persist::{MemStorage, Storage, StorageFile};
use zk_server::{Config, Server};

/// MemStorage whose syncs fail once `broken` is set.
#[derive(Debug, Clone)]
struct FailingStorage {
    inner: MemStorage,
    broken: Arc<AtomicBool>,
}

#[derive(Debug)]
struct FailingFile {
    inner: Box<dyn StorageFile>,
    broken: Arc<AtomicBool>,
}

impl StorageFile for FailingFile {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        self.inner.write_at(offset, buf)
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.inner.set_len(len)
    }
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }
    fn sync(&mut self) -> io::Result<()> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected: no space left on device"));
        }
        self.inner.sync()
    }
}

impl Storage for FailingStorage {
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.inner.list(dir)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.inner.read(path)
    }
    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        Ok(Box::new(FailingFile {
            inner: self.inner.create(path)?,
            broken: self.broken.clone(),
        }))
    }
    fn open(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        Ok(Box::new(FailingFile {
            inner: self.inner.open(path)?,
            broken: self.broken.clone(),
        }))
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        self.inner.remove(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.inner.rename(from, to)
    }
    fn size(&self, path: &Path) -> io::Result<u64> {
        self.inner.size(path)
    }
}

fn config() -> Config {
    Config::parse("tickTime=100\nclientPort=0\nclientPortAddress=127.0.0.1\ndataDir=/mem/data\n4lw.commands.whitelist=*\n")
        .expect("config")
}

async fn word(addr: std::net::SocketAddr, word: &str) -> String {
    let mut conn = Conn::open(addr).await;
    conn.write_raw(word.as_bytes()).await;
    conn.read_to_end().await
}

fn mode(srvr: &str) -> &str {
    srvr.lines()
        .find_map(|l| l.strip_prefix("Mode: "))
        .unwrap_or("?")
}

/// A handshake asking for a new session that accepts a read-only server.
fn read_only_request() -> zk_proto::client::ConnectRequest {
    zk_proto::client::ConnectRequest {
        read_only: Some(true),
        ..connect_request(30_000)
    }
}

#[tokio::test]
async fn failed_disk_serves_reads_then_takes_writes_again_when_it_works() {
    let storage = FailingStorage {
        inner: MemStorage::default(),
        broken: Arc::default(),
    };
    let server = Server::start_with_storage(config(), Arc::new(storage.clone()))
        .await
        .expect("start");
    let addr = server.local_addr();
    let mut c = Client::connect(addr).await;
    c.create("/kept", b"on disk", 0).await.expect("create");
    assert_eq!(word(addr, "isro").await, "rw");

    storage.broken.store(true, Ordering::SeqCst);
    assert_eq!(
        c.create("/lost", b"x", 0).await,
        Err(ErrorCode::SystemError),
        "the write in flight fails"
    );
    assert_eq!(
        c.create("/later", b"x", 0).await,
        Err(ErrorCode::NotReadOnly),
        "later writes are refused"
    );
    let (data, _) = c.get_data("/kept", false).await.expect("reads go on");
    assert_eq!(data, Some(Bytes::from_static(b"on disk")));
    assert_eq!(
        c.exists("/lost", false).await.err(),
        Some(ErrorCode::NoNode)
    );
    assert_eq!(word(addr, "isro").await, "ro");
    assert_eq!(mode(&word(addr, "srvr").await), "read-only");

    // New sessions: read-only and local for a client that allows it,
    // refused (the connection closed) for one that does not.
    let mut ro = Client::connect_with(addr, read_only_request()).await;
    let (data, _) = ro.get_data("/kept", false).await.expect("read-only read");
    assert_eq!(data, Some(Bytes::from_static(b"on disk")));
    assert_eq!(
        ro.create("/ro-write", b"", 0).await,
        Err(ErrorCode::NotReadOnly)
    );
    let mut refused = Conn::open(addr).await;
    refused.send_connect(&connect_request(30_000)).await;
    refused.expect_closed().await;
    // A local session ends without a txn.
    Client::connect_with(addr, read_only_request())
        .await
        .close()
        .await;

    // The disk works again: the server notices by itself.
    storage.broken.store(false, Ordering::SeqCst);
    wait_until("the server takes writes again", || async {
        word(addr, "isro").await == "rw"
    })
    .await;
    assert_eq!(mode(&word(addr, "srvr").await), "standalone");
    c.create("/after", b"healed", 0)
        .await
        .expect("writes work again");
    // The read-only session ends (its client comes back read-write).
    ro.conn.expect_closed().await;
    let mut fresh = Client::connect(addr).await;
    fresh
        .create("/fresh", b"", 0)
        .await
        .expect("a new session writes");
    server.shutdown().await;

    // After a crash and a restart: exactly what was acknowledged.
    storage.inner.crash();
    let server = Server::start_with_storage(config(), Arc::new(storage.clone()))
        .await
        .expect("restart");
    let mut c = Client::connect(server.local_addr()).await;
    for kept in ["/kept", "/after", "/fresh"] {
        assert!(
            c.exists(kept, false).await.is_ok(),
            "{kept} was acknowledged"
        );
    }
    for lost in ["/lost", "/later", "/ro-write"] {
        assert_eq!(
            c.exists(lost, false).await.err(),
            Some(ErrorCode::NoNode),
            "{lost} failed"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn crash_of_an_in_memory_disk_keeps_every_acknowledged_write() {
    let storage = MemStorage::default();
    let server = Server::start_with_storage(
        Config::parse("tickTime=100\nclientPort=0\nclientPortAddress=127.0.0.1\ndataDir=/mem/d\nsnapCount=20\n")
            .expect("config"),
        Arc::new(storage.clone()),
    )
    .await
    .expect("start");
    let mut c = Client::connect(server.local_addr()).await;
    for i in 0..100 {
        c.create(&format!("/n{i}"), format!("{i}").as_bytes(), 0)
            .await
            .expect("create");
    }
    server.shutdown().await;
    storage.crash();
    let server = Server::start_with_storage(
        Config::parse("tickTime=100\nclientPort=0\nclientPortAddress=127.0.0.1\ndataDir=/mem/d\n")
            .expect("config"),
        Arc::new(storage.clone()),
    )
    .await
    .expect("restart");
    let mut c = Client::connect(server.local_addr()).await;
    for i in 0..100 {
        let (data, _) = c
            .get_data(&format!("/n{i}"), false)
            .await
            .expect("acknowledged create survived");
        assert_eq!(data, Some(Bytes::from(format!("{i}"))));
    }
    let snaps = storage.list(Path::new("/mem/d/version-2")).expect("list");
    assert!(
        snaps.iter().any(|n| n.starts_with("snapshot.")),
        "snapCount=20 took snapshots: {snaps:?}"
    );
    server.shutdown().await;
}
