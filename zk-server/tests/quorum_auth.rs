//! Members that authenticate each other: quorum TLS (`sslQuorum`, mutual
//! certificates) and quorum SASL (`quorum.auth.*`, DIGEST-MD5 with the JAAS
//! `QuorumServer`/`QuorumLearner` sections). The ensemble forms and
//! replicates; a member with a certificate from another CA, a wrong
//! password or no credentials cannot join; a fake learner on the peer port
//! and a flood on the election ports get nothing, and an election goes
//! through while the flood lasts. Without authentication, the peer port
//! still takes no large frame from a connection that has not shown itself
//! a learner.

mod ensemble;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::Duration;

use ensemble::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zk_client::{Client, CreateOptions};
use zk_server::{Config, Server};
use zk_testkit::tls::TestPki;

fn append(m: &Member, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&m.cfg_path)
        .expect("zoo.cfg");
    writeln!(f, "{text}").expect("append");
}

async fn start(m: &Member) -> Server {
    Server::start(Config::from_file(&m.cfg_path).expect("config"))
        .await
        .expect("member starts")
}

/// The peer and election addresses of member `sid`, from its zoo.cfg.
fn quorum_addrs(m: &Member, sid: u64) -> (String, String) {
    let config = Config::from_file(&m.cfg_path).expect("config");
    let line = config.servers.get(&sid).expect("a server line");
    let mut parts = line.split(':');
    let host = parts.next().expect("host");
    let peer = parts.next().expect("peer port");
    let election = parts.next().expect("election port");
    (format!("{host}:{peer}"), format!("{host}:{election}"))
}

async fn write_and_read_back(members: &[Member], path: &str) {
    let writer = Client::connect(&members[0].addr()).await.expect("connects");
    writer
        .create(path, b"v", &CreateOptions::persistent())
        .await
        .expect("create");
    let reader = Client::connect(&members[1].addr()).await.expect("connects");
    reader.sync(path).await.expect("sync");
    assert_eq!(reader.get_data(path).await.expect("read").0, b"v");
}

/// Whether member `sid` stays out of the ensemble (never follows or
/// leads) for a few seconds.
async fn stays_out(m: &Member) -> bool {
    let until = tokio::time::Instant::now() + Duration::from_secs(4);
    while tokio::time::Instant::now() < until {
        let addr = m.addr();
        let role = tokio::task::spawn_blocking(move || mode(&addr))
            .await
            .expect("join");
        if matches!(role.as_deref(), Some("leader" | "follower")) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    true
}

/// A fake member: connects, sends what it likes, returns what it got
/// before the server closed (or 2 s passed).
async fn fake_peer(addr: &str, send: &[u8]) -> Vec<u8> {
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
        return Vec::new();
    };
    let _ = s.write_all(send).await;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut got)).await;
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_tls_admits_members_only() {
    let pki = TestPki::new("quorum-tls");
    let stranger_ca = TestPki::new("quorum-stranger");
    let members = layout(
        "quorum-tls",
        3,
        0,
        &format!(
            "sslQuorum=true\nssl.quorum.trustStore.location={}\n",
            pki.ca().display()
        ),
    );
    for m in &members {
        let cert = pki.issue(
            &format!("n{}", m.sid),
            &format!("member-{}", m.sid),
            &["127.0.0.1", "localhost"],
        );
        append(
            m,
            &format!("ssl.quorum.keyStore.location={}", cert.combined.display()),
        );
    }
    let mut servers = BTreeMap::new();
    for m in &members[..2] {
        servers.insert(m.sid, start(m).await);
    }
    let leader = wait_for_roles(&members, &[1, 2]).await;
    write_and_read_back(&members, "/over-tls").await;

    // Member 3 with a certificate another CA signed: it trusts ours, ours
    // do not trust it. It never joins; the two serve on.
    let impostor = stranger_ca.issue("n3", "member-3", &["127.0.0.1", "localhost"]);
    let m3 = &members[2];
    let real = std::fs::read_to_string(&m3.cfg_path).expect("cfg");
    append(
        m3,
        &format!(
            "ssl.quorum.keyStore.location={}",
            impostor.combined.display()
        ),
    );
    let bad = start(m3).await;
    assert!(
        stays_out(m3).await,
        "a member with a foreign certificate joined"
    );
    write_and_read_back(&members, "/still-serving").await;
    bad.shutdown().await;

    // Fakes on the leader's ports, without TLS: nothing but (at most) a
    // TLS alert comes back.
    let (peer, election) = quorum_addrs(&members[0], leader);
    for addr in [&peer, &election] {
        let got = fake_peer(addr, b"\x00\x00\x00\x10fake learner info..").await;
        assert!(
            got.is_empty() || got[0] == 0x15,
            "{addr} answered a plain peer: {got:?}"
        );
    }

    // The real member 3 joins.
    std::fs::write(&m3.cfg_path, real).expect("restore");
    servers.insert(3, start(m3).await);
    wait_for_roles(&members, &[1, 2, 3]).await;
    for (_, s) in servers {
        s.shutdown().await;
    }
    remove(members[0].dir.parent().expect("root"));
}

fn jaas(dir: &std::path::Path, learner_password: &str) -> std::path::PathBuf {
    let path = dir.join(format!("jaas-{learner_password}.conf"));
    std::fs::write(
        &path,
        format!(
            r#"QuorumServer {{
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_member="quorum-secret";
}};
QuorumLearner {{
    org.apache.zookeeper.server.auth.DigestLoginModule required
    username="member"
    password="{learner_password}";
}};
"#
        ),
    )
    .expect("jaas");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_sasl_admits_members_only_and_an_election_survives_a_flood() {
    let members = layout(
        "quorum-sasl",
        3,
        0,
        "quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\n\
         quorum.auth.serverRequireSasl=true\n",
    );
    let root = members[0].dir.parent().expect("root").to_owned();
    let good = jaas(&root, "quorum-secret");
    let wrong = jaas(&root, "guess");
    for m in &members {
        append(m, &format!("jaasLoginConfig={}", good.display()));
    }
    let mut servers = BTreeMap::new();
    for m in &members[..2] {
        servers.insert(m.sid, start(m).await);
    }
    let leader = wait_for_roles(&members, &[1, 2]).await;
    write_and_read_back(&members, "/over-sasl").await;

    // Member 3 with a wrong password never joins.
    let m3 = &members[2];
    let real = std::fs::read_to_string(&m3.cfg_path).expect("cfg");
    append(m3, &format!("jaasLoginConfig={}", wrong.display()));
    let bad = start(m3).await;
    assert!(stays_out(m3).await, "a member with a wrong password joined");
    bad.shutdown().await;

    // A fake learner without SASL gets nothing; one with a wrong password
    // gets the refusal and nothing more.
    let (peer, election) = quorum_addrs(&members[0], leader);
    let got = fake_peer(&peer, b"\x00\x00\x00\x10fake learner info..").await;
    assert!(got.is_empty(), "{got:?}");
    let mut guess = b"ZKSA".to_vec();
    guess.extend(0u32.to_be_bytes());
    let got = fake_peer(&election, &guess).await;
    // The challenge (status 0) may come; a vote never does.
    assert!(got.is_empty() || got[0] == 0, "{got:?}");

    // The real member 3 joins; then, while fakes flood every election
    // port, the leader dies and the others elect a new one.
    std::fs::write(&m3.cfg_path, real).expect("restore");
    servers.insert(3, start(m3).await);
    let leader = wait_for_roles(&members, &[1, 2, 3]).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let mut flood = tokio::task::JoinSet::new();
    for m in &members {
        let (_, election) = quorum_addrs(m, m.sid);
        for _ in 0..8 {
            let (addr, stop) = (election.clone(), stop.clone());
            flood.spawn(async move {
                while !stop.is_cancelled() {
                    let _ =
                        fake_peer(&addr, b"\x00\x00\x00\x28forged vote: I lead, epoch 99").await;
                }
            });
        }
    }
    servers
        .remove(&leader)
        .expect("the leader")
        .shutdown()
        .await;
    let up: Vec<u64> = (1..=3).filter(|s| *s != leader).collect();
    let next = wait_for_roles(&members, &up).await;
    assert_ne!(next, leader);
    stop.cancel();
    while flood.join_next().await.is_some() {}
    for (_, s) in servers {
        s.shutdown().await;
    }
    remove(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_peer_port_takes_no_large_frame_from_a_stranger() {
    // A handshake deadline of 30 s (initLimit): a leader that read the
    // frame would hold the connection that long.
    let members = layout("peer-frame", 3, 0, "initLimit=300\n");
    let mut servers = Vec::new();
    for m in &members {
        servers.push(start(m).await);
    }
    let leader = wait_for_roles(&members, &[1, 2, 3]).await;
    let (peer, _) = quorum_addrs(&members[0], leader);
    let mut s = tokio::net::TcpStream::connect(&peer)
        .await
        .expect("connects");
    // A 1 GiB frame announced, its first bytes sent.
    s.write_all(&(1u32 << 30).to_be_bytes())
        .await
        .expect("length");
    s.write_all(&[0u8; 4096]).await.expect("bytes");
    let mut got = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut got)).await;
    assert!(closed.is_ok(), "the leader kept reading a 1 GiB frame");
    assert!(got.is_empty(), "{got:?}");
    wait_for_roles(&members, &[1, 2, 3]).await;
    for s in servers {
        s.shutdown().await;
    }
    remove(members[0].dir.parent().expect("root"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_sasl_rolls_out_in_steps() {
    // Step one everywhere: members take SASL, none sends it yet.
    let members = layout("sasl-steps", 3, 0, "quorum.auth.enableSasl=true\n");
    let root = members[0].dir.parent().expect("root").to_owned();
    let good = jaas(&root, "quorum-secret");
    for m in &members {
        append(m, &format!("jaasLoginConfig={}", good.display()));
    }
    let mut servers = BTreeMap::new();
    for m in &members {
        servers.insert(m.sid, start(m).await);
    }
    wait_for_roles(&members, &[1, 2, 3]).await;
    // Step two, one member at a time: it sends SASL; the others take it.
    let m1 = &members[0];
    servers.remove(&1).expect("member 1").shutdown().await;
    append(m1, "quorum.auth.learnerRequireSasl=true");
    servers.insert(1, start(m1).await);
    wait_for_roles(&members, &[1, 2, 3]).await;
    write_and_read_back(&members, "/rolled").await;
    for (_, s) in servers {
        s.shutdown().await;
    }
    remove(&root);
}

/// With quorum TLS, an incoming member's certificate must name its
/// address: a client certificate of the same CA does not open the election
/// port; and at most four connections from one (non-member) address may
/// be authenticating at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_tls_checks_who_connects() {
    let pki = TestPki::new("quorum-names");
    let members = layout(
        "quorum-names",
        3,
        0,
        &format!(
            "sslQuorum=true\nssl.quorum.trustStore.location={}\n",
            pki.ca().display()
        ),
    );
    for m in &members {
        let cert = pki.issue(
            &format!("n{}", m.sid),
            &format!("member-{}", m.sid),
            &["127.0.0.1", "localhost"],
        );
        append(
            m,
            &format!("ssl.quorum.keyStore.location={}", cert.combined.display()),
        );
    }
    let mut servers = Vec::new();
    for m in &members {
        servers.push(start(m).await);
    }
    let leader = wait_for_roles(&members, &[1, 2, 3]).await;
    let (_, election) = quorum_addrs(&members[0], leader);

    // A user's certificate (no address in it) from the members' CA.
    let user = pki.issue("user", "zkcli-user", &[]);
    let trust = zk_tls::load_trust(&zk_tls::StoreSpec::new(pki.ca())).expect("trust");
    let identity =
        zk_tls::load_identity(&zk_tls::StoreSpec::new(&user.combined)).expect("identity");
    let config = zk_tls::client_config(&trust, Some(&identity), true, &Default::default())
        .expect("client config");
    let tcp = tokio::net::TcpStream::connect(&election)
        .await
        .expect("tcp");
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
    let mut tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .expect("the handshake itself succeeds");
    let _ = tls.write_all(b"\x00\x00\x00\x28forged vote").await;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut got)).await;
    assert!(got.is_empty(), "a user's certificate got {got:?}");

    // From 127.0.0.2, not a member's address: four silent connections are
    // held while they may still authenticate; a fifth is closed at once.
    let from = |port: &str| {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind("127.0.0.2:0".parse().expect("addr"))
            .expect("bind 127.0.0.2");
        let addr: std::net::SocketAddr = port.parse().expect("addr");
        async move { socket.connect(addr).await.expect("connect") }
    };
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(from(&election).await);
    }
    let mut fifth = from(&election).await;
    let mut got = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), fifth.read_to_end(&mut got)).await;
    assert!(
        closed.is_ok(),
        "a fifth connection from one address was kept"
    );
    for s in &held {
        let mut buf = [0u8; 1];
        assert!(
            matches!(s.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "the first four are still being given their time"
        );
    }
    for s in servers {
        s.shutdown().await;
    }
    remove(members[0].dir.parent().expect("root"));
}
