//! A real full disk under a real server process: dataDir on a small tmpfs
//! filled to the last byte. Writes fail and reads go on; new sessions are
//! read-only; once space is freed the server takes writes again without a
//! restart; after `kill -9` and a restart exactly the acknowledged writes
//! are there. Mounting a tmpfs needs root: without it the test reports
//! itself skipped.

mod common;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::*;
use zk_proto::ErrorCode;
use zk_proto::client::ConnectRequest;

/// Unmounts the tmpfs and kills the server, also when the test fails.
struct Fixture {
    mount: PathBuf,
    dir: PathBuf,
    server: Option<Child>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.dir.join("server.out"));
            eprintln!("the server's log:\n{}", log.unwrap_or_default());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Fixture {
    fn start_server(&mut self, cfg: &Path) {
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.dir.join("server.out"))
            .expect("server log");
        let child = Command::new(env!("CARGO_BIN_EXE_zk-server"))
            .arg("start-foreground")
            .arg(cfg)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("zk-server starts");
        self.server = Some(child);
    }

    fn kill9(&mut self) {
        if let Some(mut child) = self.server.take() {
            child.kill().expect("kill -9");
            child.wait().expect("reaped");
        }
    }
}

async fn word(addr: SocketAddr, word: &str) -> String {
    let mut conn = Conn::open(addr).await;
    conn.write_raw(word.as_bytes()).await;
    conn.read_to_end().await
}

async fn serving(addr: SocketAddr) -> bool {
    tokio::net::TcpStream::connect(addr).await.is_ok()
}

/// Writes zeros until the file system says it is full.
fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0;
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    let _ = f.sync_all();
    written
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_disk_fails_writes_keeps_reads_and_recovers_when_space_is_freed() {
    zk_testkit::require!(zk_testkit::tools::root());
    let dir = std::env::temp_dir().join(format!("zk-disk-full-{}", std::process::id()));
    let mount = dir.join("data");
    std::fs::create_dir_all(&mount).expect("mount point");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&mount)
        .output();
    let mut fx = Fixture {
        mount: mount.clone(),
        dir: dir.clone(),
        server: None,
    };
    match mounted {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            zk_testkit::skip!(
                "cannot mount a tmpfs: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return;
        }
        Err(e) => {
            zk_testkit::skip!("cannot run mount: {e}");
            return;
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let cfg = dir.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=200\nclientPort={port}\nclientPortAddress=127.0.0.1\ndataDir={}\n\
             preAllocSize=64\nsnapCount=1000000\n4lw.commands.whitelist=*\n",
            mount.display()
        ),
    )
    .expect("zoo.cfg");
    fx.start_server(&cfg);
    wait_until("the server serves", || serving(addr)).await;

    let mut c = Client::connect(addr).await;
    let value = vec![b'v'; 4096];
    let mut acked = Vec::new();
    for i in 0..10 {
        let path = format!("/kept{i}");
        c.create(&path, &value, 0).await.expect("create");
        acked.push(path);
    }

    // Fill the disk, then write until the server says it cannot.
    let filler = mount.join("filler");
    assert!(fill(&filler) > 0, "the tmpfs had room");
    let mut failed = Vec::new();
    let mut first_error = None;
    for i in 0..2000 {
        let path = format!("/w{i}");
        match c.create(&path, &value, 0).await {
            Ok(_) => acked.push(path),
            Err(e) => {
                first_error = Some(e);
                failed.push(path);
                break;
            }
        }
    }
    assert_eq!(
        first_error,
        Some(ErrorCode::SystemError),
        "a write fails once the disk is full"
    );
    assert_eq!(
        c.create("/refused", b"", 0).await,
        Err(ErrorCode::NotReadOnly)
    );
    failed.push("/refused".to_owned());
    let (data, _) = c.get_data("/kept0", false).await.expect("reads go on");
    assert_eq!(data.as_deref(), Some(&value[..]));
    assert_eq!(word(addr, "isro").await, "ro");
    assert!(
        word(addr, "srvr").await.contains("Mode: read-only"),
        "srvr says read-only"
    );
    let mut ro = Client::connect_with(
        addr,
        ConnectRequest {
            read_only: Some(true),
            ..connect_request(30_000)
        },
    )
    .await;
    assert!(ro.exists("/kept1", false).await.is_ok());
    let mut refused = Conn::open(addr).await;
    refused.send_connect(&connect_request(30_000)).await;
    refused.expect_closed().await;

    // Free the space: the server retries its log and takes writes again.
    std::fs::remove_file(&filler).expect("free the space");
    wait_until("writes are taken again", || async {
        word(addr, "isro").await == "rw"
    })
    .await;
    c.create("/after", &value, 0).await.expect("a write after");
    acked.push("/after".to_owned());
    let mut fresh = Client::connect(addr).await;
    fresh
        .create("/fresh", b"", 0)
        .await
        .expect("a new session writes");
    acked.push("/fresh".to_owned());
    ro.conn.expect_closed().await;

    // kill -9 and restart: every acknowledged write, no failed one.
    fx.kill9();
    fx.start_server(&cfg);
    wait_until("the server serves again", || serving(addr)).await;
    let mut c = Client::connect(addr).await;
    for path in &acked {
        assert!(
            c.exists(path, false).await.is_ok(),
            "{path} was acknowledged"
        );
    }
    for path in &failed {
        assert_eq!(
            c.exists(path, false).await.err(),
            Some(ErrorCode::NoNode),
            "{path} failed"
        );
    }
    fx.kill9();
}
