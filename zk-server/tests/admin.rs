//! Four-letter words on the client port, with ZooKeeper's output formats.

mod common;

use std::net::SocketAddr;

use common::*;

async fn four(addr: SocketAddr, word: &str) -> String {
    let mut conn = Conn::open(addr).await;
    conn.write_raw(word.as_bytes()).await;
    conn.read_to_end().await
}

#[tokio::test]
async fn ruok_isro_envi_conf_dirs() {
    let server = start("").await;
    let addr = server.local_addr();
    assert_eq!(four(addr, "ruok").await, "imok");
    assert_eq!(four(addr, "isro").await, "rw");
    let envi = four(addr, "envi").await;
    assert!(envi.starts_with("Environment:\n"), "{envi}");
    assert!(envi.contains("\nzookeeper.version=3.9"), "{envi}");
    let conf = four(addr, "conf").await;
    // The port clients really connect to, not the 0 that was configured.
    let line = format!("clientPort={}\n", addr.port());
    assert!(conf.starts_with(&line), "{conf}");
    assert!(conf.contains("\ntickTime=100\n"), "{conf}");
    assert!(conf.contains("\nmaxSessionTimeout=60000\n"), "{conf}");
    let dirs = four(addr, "dirs").await;
    assert!(dirs.starts_with("datadir_size: "), "{dirs}");
    assert!(dirs.contains("\nlogdir_size: "), "{dirs}");
    server.shutdown().await;
}

#[tokio::test]
async fn srvr_and_stat() {
    let server = start("").await;
    let addr = server.local_addr();
    let srvr = four(addr, "srvr").await;
    assert!(srvr.starts_with("Zookeeper version: 3.9"), "{srvr}");
    assert!(srvr.contains("\nMode: standalone\n"), "{srvr}");
    assert!(srvr.contains("\nNode count: "), "{srvr}");
    assert!(srvr.contains("\nZxid: 0x"), "{srvr}");
    assert!(!srvr.contains("Clients:"), "{srvr}");

    let mut c = Client::connect(addr).await;
    c.create("/n", b"", 0).await.expect("create");
    let local = c.conn.local_addr();
    let stat = four(addr, "stat").await;
    assert!(stat.starts_with("Zookeeper version: 3.9"), "{stat}");
    assert!(stat.contains("Clients:\n"), "{stat}");
    assert!(stat.contains(&format!(" /{local}[1](queued=")), "{stat}");
    assert!(stat.contains("\nMode: standalone\n"), "{stat}");
    assert!(
        stat.contains(&format!("\nZxid: 0x{:x}\n", c.last_zxid)),
        "{stat}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn word_outside_the_whitelist_is_not_executed() {
    // The default whitelist: srvr only.
    let server = start_raw("tickTime=100").await;
    let addr = server.local_addr();
    for word in ["ruok", "mntr", "dump", "envi"] {
        assert_eq!(
            four(addr, word).await,
            format!("{word} is not executed because it is not in the whitelist.\n")
        );
    }
    assert!(four(addr, "srvr").await.contains("Mode: standalone"));
    // A word is not a handshake: the port still serves clients.
    let mut c = Client::connect(addr).await;
    c.ping().await;
    server.shutdown().await;
}

#[tokio::test]
async fn mntr_is_tab_separated_keys() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut c = Client::connect(addr).await;
    c.create("/e", b"", 1).await.expect("ephemeral");
    let mntr = four(addr, "mntr").await;
    let mut keys = std::collections::BTreeMap::new();
    for line in mntr.lines() {
        let (k, v) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("no tab: {line:?}"));
        assert!(k.starts_with("zk_"), "{line:?}");
        assert!(!v.is_empty() && !v.contains('\t'), "{line:?}");
        keys.insert(k.to_owned(), v.to_owned());
    }
    assert_eq!(keys["zk_server_state"], "standalone");
    assert!(keys["zk_version"].starts_with("3.9"), "{mntr}");
    assert_eq!(keys["zk_ephemerals_count"], "1");
    assert_eq!(keys["zk_global_sessions"], "1");
    for k in [
        "zk_znode_count",
        "zk_watch_count",
        "zk_avg_latency",
        "zk_packets_received",
    ] {
        assert!(keys.contains_key(k), "{k} missing: {mntr}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn cons_lists_a_live_connection() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut c = Client::connect(addr).await;
    c.exists("/", false).await.expect("exists");
    let local = c.conn.local_addr();
    let cons = four(addr, "cons").await;
    let line = cons
        .lines()
        .find(|l| l.starts_with(&format!(" /{local}[1](")))
        .unwrap_or_else(|| panic!("no line for {local}: {cons}"));
    assert!(
        line.contains(&format!(",sid=0x{:x},", c.session_id)),
        "{line}"
    );
    assert!(line.contains(",lop=EXIS,"), "{line}");
    assert!(line.contains(",to=30000,"), "{line}");
    assert!(line.ends_with(')'), "{line}");
    server.shutdown().await;
}

#[tokio::test]
async fn watch_words_show_a_registered_watch() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut c = Client::connect(addr).await;
    c.create("/watched", b"", 0).await.expect("create");
    c.get_data("/watched", true).await.expect("watch");
    let sid = format!("0x{:x}", c.session_id);
    let wchs = four(addr, "wchs").await;
    assert!(
        wchs.contains("1 connections watching 1 paths\nTotal watches:1"),
        "{wchs}"
    );
    let wchc = four(addr, "wchc").await;
    assert!(wchc.contains(&format!("{sid}\n\t/watched\n")), "{wchc}");
    let wchp = four(addr, "wchp").await;
    assert!(wchp.contains(&format!("/watched\n\t{sid}\n")), "{wchp}");
    server.shutdown().await;
}

#[tokio::test]
async fn dump_lists_sessions_and_their_ephemerals() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut c = Client::connect(addr).await;
    c.create("/mine", b"", 1).await.expect("ephemeral");
    let dump = four(addr, "dump").await;
    let sid = format!("0x{:x}", c.session_id);
    assert!(dump.starts_with("SessionTracker dump:\n"), "{dump}");
    assert!(dump.contains(&format!("\t{sid}\n")), "{dump}");
    assert!(
        dump.contains(&format!(
            "ephemeral nodes dump:\nSessions with Ephemerals (1):\n{sid}:\n\t/mine\n"
        )),
        "{dump}"
    );
    server.shutdown().await;
}
