//! A disk that fails: the write in flight fails with an error, later writes
//! are refused, reads go on, and nothing unsynced is ever acknowledged.

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

async fn isro(addr: std::net::SocketAddr) -> String {
    let mut conn = Conn::open(addr).await;
    conn.write_raw(b"isro").await;
    conn.read_to_end().await
}

#[tokio::test]
async fn failed_disk_fails_writes_and_keeps_serving_reads() {
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
    assert_eq!(isro(addr).await, "rw");

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
    assert_eq!(isro(addr).await, "ro");
    server.shutdown().await;

    // After a crash and a restart on a working disk: exactly what was
    // acknowledged.
    storage.inner.crash();
    storage.broken.store(false, Ordering::SeqCst);
    let server = Server::start_with_storage(config(), Arc::new(storage.clone()))
        .await
        .expect("restart");
    let mut c = Client::connect(server.local_addr()).await;
    assert!(c.exists("/kept", false).await.is_ok());
    assert_eq!(
        c.exists("/lost", false).await.err(),
        Some(ErrorCode::NoNode)
    );
    assert_eq!(
        c.exists("/later", false).await.err(),
        Some(ErrorCode::NoNode)
    );
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
