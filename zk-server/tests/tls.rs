//! TLS on the client port (`secureClientPort`), with our client: x509
//! identities and ACLs, `ssl.clientAuth` need/want/none, clients the trust
//! store does not vouch for, four-letter words over TLS, JKS and PKCS#12
//! stores made by keytool and openssl, certificates reloaded when their
//! files change, and a bad key store stopping the start. Certificates are
//! made by each test (`zk_testkit::tls`).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zk_client::tls::{ClientTls, StoreSpec};
use zk_client::{Acl, Client, CreateOptions, Error, Id, perms};
use zk_testing::TestingServer;
use zk_testkit::tls::{Issued, TestPki};

/// A server with TLS on a free port beside its plain one.
async fn tls_server(server: &Issued, extra: &[&str]) -> TestingServer {
    let mut builder = TestingServer::builder().tls(&server.combined, &server.ca);
    for line in extra {
        builder = builder.config(line);
    }
    builder.start().await.expect("the TLS server starts")
}

fn client_tls(ca: &std::path::Path, me: Option<&Issued>) -> ClientTls {
    let mut b = ClientTls::builder().trust_store(StoreSpec::new(ca));
    if let Some(me) = me {
        b = b.key_store(StoreSpec::new(&me.combined));
    }
    b.build().expect("client TLS settings")
}

async fn connect_tls(server: &TestingServer, tls: ClientTls) -> zk_client::Result<Client> {
    let addr = server.secure_connect_string().expect("a TLS port");
    Client::builder(&addr)?
        .tls(tls)
        .connect_timeout(Duration::from_secs(3))
        .connect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_is_an_x509_identity_for_acls() {
    let pki = TestPki::new("x509");
    let server_cert = pki.issue("server", "localhost", &["localhost", "127.0.0.1"]);
    let alice = pki.issue("alice", "alice", &[]);
    let admin = pki.issue("admin", "admin", &[]);
    let server = tls_server(
        &server_cert,
        &[&format!(
            "X509AuthenticationProvider.superUser={}",
            admin.subject
        )],
    )
    .await;

    let client = connect_tls(&server, client_tls(pki.ca(), Some(&alice)))
        .await
        .expect("alice connects over TLS");
    let me = client.whoami().await.expect("whoami");
    assert!(
        me.iter()
            .any(|id| id.auth_scheme == "x509" && id.user == "CN=alice,O=zk-rs tests"),
        "{me:?}"
    );
    // A node only alice may touch, by her certificate's subject; and one
    // made with the `auth` scheme, which expands to the same id.
    let only_alice = vec![Acl {
        perms: perms::ALL,
        id: Id::new("x509", &alice.subject),
    }];
    client
        .create(
            "/alice",
            b"mine",
            &CreateOptions::persistent().with_acl(only_alice.clone()),
        )
        .await
        .expect("create with an x509 ACL");
    client
        .create(
            "/alice-auth",
            b"",
            &CreateOptions::persistent().with_acl(Acl::creator_all()),
        )
        .await
        .expect("create with the auth scheme");
    assert_eq!(
        client.get_acl("/alice-auth").await.expect("acl").0,
        only_alice
    );

    // Without the certificate (the plain port): no access.
    let plain = Client::connect(&server.connect_string())
        .await
        .expect("plain");
    assert_eq!(plain.get_data("/alice").await, Err(Error::NoAuth));
    // The super user's certificate passes every ACL.
    let root = connect_tls(&server, client_tls(pki.ca(), Some(&admin)))
        .await
        .expect("admin connects");
    assert!(
        root.whoami()
            .await
            .expect("whoami")
            .iter()
            .any(|id| id.auth_scheme == "super"),
        "the x509 super user is super"
    );
    assert_eq!(root.get_data("/alice").await.expect("read").0, b"mine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_the_trust_store_does_not_vouch_for_are_refused() {
    let pki = TestPki::new("need");
    let stranger_ca = TestPki::new("stranger");
    let server_cert = pki.issue("server", "localhost", &["localhost", "127.0.0.1"]);
    let stranger = stranger_ca.issue("stranger", "stranger", &[]);
    let server = tls_server(&server_cert, &[]).await;

    // ssl.clientAuth defaults to need: no certificate, no connection.
    let none = connect_tls(&server, client_tls(pki.ca(), None)).await;
    assert!(none.is_err(), "no client certificate: {none:?}");
    // A certificate from another CA.
    let foreign = connect_tls(&server, client_tls(pki.ca(), Some(&stranger))).await;
    assert!(foreign.is_err(), "a stranger's certificate: {foreign:?}");
    // A client that does not trust the server's CA refuses the server.
    let me = pki.issue("me", "me", &[]);
    let distrust = connect_tls(&server, client_tls(stranger_ca.ca(), Some(&me))).await;
    assert!(
        distrust.is_err(),
        "the server's CA is not trusted: {distrust:?}"
    );
    // A plain client on the TLS port gets nowhere.
    let plain = Client::builder(&server.secure_connect_string().expect("port"))
        .expect("connect string")
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await;
    assert!(plain.is_err(), "plain on the TLS port: {plain:?}");
    // The server goes on serving the good ones.
    let good = connect_tls(&server, client_tls(pki.ca(), Some(&me)))
        .await
        .expect("a trusted client still connects");
    good.exists("/").await.expect("served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_auth_want_lets_a_client_without_a_certificate_in_unauthenticated() {
    let pki = TestPki::new("want");
    let stranger_ca = TestPki::new("want-stranger");
    let server_cert = pki.issue("server", "localhost", &["localhost", "127.0.0.1"]);
    let server = tls_server(&server_cert, &["ssl.clientAuth=want"]).await;

    let anonymous = connect_tls(&server, client_tls(pki.ca(), None))
        .await
        .expect("no certificate is fine with want");
    let me = anonymous.whoami().await.expect("whoami");
    assert!(me.iter().all(|id| id.auth_scheme == "ip"), "{me:?}");
    // A bad certificate is still refused.
    let stranger = stranger_ca.issue("stranger", "stranger", &[]);
    let foreign = connect_tls(&server, client_tls(pki.ca(), Some(&stranger))).await;
    assert!(foreign.is_err(), "{foreign:?}");

    let none = tls_server(&server_cert, &["ssl.clientAuth=none"]).await;
    let me = pki.issue("me", "me", &[]);
    let client = connect_tls(&none, client_tls(pki.ca(), Some(&me)))
        .await
        .expect("none: no certificate asked for");
    let ids = client.whoami().await.expect("whoami");
    assert!(
        ids.iter().all(|id| id.auth_scheme != "x509"),
        "not asked, not used: {ids:?}"
    );
}

/// A raw TLS connection that sends `word` and reads the answer and the
/// server's certificate subject.
async fn word_over_tls(
    addr: &str,
    ca: &std::path::Path,
    me: &Issued,
    word: &str,
) -> (String, String) {
    let trust = zk_tls::load_trust(&StoreSpec::new(ca)).expect("trust");
    let identity = zk_tls::load_identity(&StoreSpec::new(&me.combined)).expect("identity");
    let config = zk_tls::client_config(&trust, Some(&identity), true, &Default::default())
        .expect("client config");
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    let name = rustls_name("127.0.0.1");
    let mut tls = tokio_rustls::TlsConnector::from(Arc::clone(&config))
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    let peer = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| zk_tls::subject_dn(c).expect("subject"))
        .expect("a server certificate");
    tls.write_all(word.as_bytes()).await.expect("word");
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await.expect("answer");
    (answer, peer)
}

fn rustls_name(host: &str) -> tokio_rustls::rustls::pki_types::ServerName<'static> {
    tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_owned()).expect("name")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_letter_words_are_answered_over_tls() {
    let pki = TestPki::new("4lw");
    let server_cert = pki.issue("server", "localhost", &["localhost", "127.0.0.1"]);
    let me = pki.issue("me", "me", &[]);
    let server = tls_server(&server_cert, &[]).await;
    let addr = server.secure_connect_string().expect("port");
    let (answer, _) = word_over_tls(&addr, pki.ca(), &me, "ruok").await;
    assert_eq!(answer, "imok");
    let (answer, _) = word_over_tls(&addr, pki.ca(), &me, "srvr").await;
    assert!(answer.contains("Mode: standalone"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_certificates_are_used_without_a_restart() {
    let pki = TestPki::new("reload");
    let first = pki.issue("first", "first", &["localhost", "127.0.0.1"]);
    let second = pki.issue("second", "second", &["localhost", "127.0.0.1"]);
    let me = pki.issue("me", "me", &[]);
    // The server reads its key store from a file we replace.
    let live = pki.dir().join("live.pem");
    std::fs::copy(&first.combined, &live).expect("copy");
    let server = TestingServer::builder()
        .tls(&live, pki.ca())
        .start()
        .await
        .expect("starts");
    let addr = server.secure_connect_string().expect("port");
    let (_, subject) = word_over_tls(&addr, pki.ca(), &me, "ruok").await;
    assert_eq!(subject, first.subject);

    std::fs::copy(&second.combined, &live).expect("replace the key store");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, subject) = word_over_tls(&addr, pki.ca(), &me, "ruok").await;
        if subject == second.subject {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still the old certificate"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A broken file keeps the current certificate in use.
    std::fs::write(&live, "not PEM").expect("break it");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (answer, subject) = word_over_tls(&addr, pki.ca(), &me, "ruok").await;
    assert_eq!((answer.as_str(), subject), ("imok", second.subject.clone()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_made_by_keytool_and_openssl_serve() {
    let pki = TestPki::new("stores");
    let server_cert = pki.issue("server", "localhost", &["localhost", "127.0.0.1"]);
    let alice = pki.issue("alice", "alice", &[]);
    let key_jks = zk_testkit::require!(server_cert.jks("changeit"));
    let trust_jks = zk_testkit::require!(pki.trust_jks("changeit"));
    let alice_p12 = zk_testkit::require!(alice.pkcs12("secret"));
    // The server: JKS key and trust stores, types from the file names.
    let server = TestingServer::builder()
        .tls(&key_jks, &trust_jks)
        .config("ssl.keyStore.password=changeit")
        .config("ssl.trustStore.password=changeit")
        .start()
        .await
        .expect("starts from JKS stores");
    // The client: a PKCS#12 key store.
    let mut key = StoreSpec::new(&alice_p12);
    key.password = Some("secret".into());
    let tls = ClientTls::builder()
        .trust_store(StoreSpec::new(pki.ca()))
        .key_store(key)
        .build()
        .expect("PKCS#12 client store");
    let client = connect_tls(&server, tls).await.expect("connects");
    let me = client.whoami().await.expect("whoami");
    assert!(me.iter().any(|id| id.user == alice.subject), "{me:?}");
}

/// Java (so Apache ZooKeeper) accepts X.509 v1 client certificates, which
/// webpki refuses; ours must too (kazoo's own TLS test uses them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_client_certificate_is_accepted_as_java_does() {
    let pki = TestPki::new("v1");
    let server_cert = pki.issue("server", "localhost", &["localhost", "127.0.0.1"]);
    let old = zk_testkit::require!(pki.issue_v1("old", "old-client"));
    let stranger_ca = TestPki::new("v1-stranger");
    let stranger = zk_testkit::require!(stranger_ca.issue_v1("stranger", "stranger"));
    let server = tls_server(&server_cert, &[]).await;
    let client = connect_tls(&server, client_tls(pki.ca(), Some(&old)))
        .await
        .expect("a v1 certificate of the trusted CA");
    let me = client.whoami().await.expect("whoami");
    assert!(me.iter().any(|id| id.user == old.subject), "{me:?}");
    // Signed by another CA: refused like any other.
    let foreign = connect_tls(&server, client_tls(pki.ca(), Some(&stranger))).await;
    assert!(foreign.is_err(), "{foreign:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_port_unification_takes_tls_and_plain_clients_on_one_port() {
    let pki = TestPki::new("unify");
    let server_cert = pki.issue("server", "localhost", &["localhost", "127.0.0.1"]);
    let me = pki.issue("me", "me", &[]);
    let server = TestingServer::builder()
        .config("client.portUnification=true")
        .config(&format!(
            "ssl.keyStore.location={}",
            server_cert.combined.display()
        ))
        .config(&format!("ssl.trustStore.location={}", pki.ca().display()))
        .start()
        .await
        .expect("starts");
    assert_eq!(server.secure_connect_string(), None, "no second port");
    let tls = Client::builder(&server.connect_string())
        .expect("connect string")
        .tls(client_tls(pki.ca(), Some(&me)))
        .connect()
        .await
        .expect("TLS on the client port");
    let ids = tls.whoami().await.expect("whoami");
    assert!(ids.iter().any(|id| id.user == me.subject), "{ids:?}");
    let plain = Client::connect(&server.connect_string())
        .await
        .expect("plain on the same port");
    plain.exists("/").await.expect("served");
    let (answer, _) = word_over_tls(&server.connect_string(), pki.ca(), &me, "ruok").await;
    assert_eq!(answer, "imok");
}

/// A connection that never starts its TLS handshake, or never sends its
/// ConnectRequest, is closed after `nio.sessionlessCnxnTimeout`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_are_closed_on_both_ports() {
    let pki = TestPki::new("silent");
    let server_cert = pki.issue("server", "localhost", &["localhost", "127.0.0.1"]);
    let server = tls_server(&server_cert, &["nio.sessionlessCnxnTimeout=300"]).await;
    for addr in [
        server.connect_string(),
        server.secure_connect_string().expect("port"),
    ] {
        let mut silent = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connects");
        let mut got = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(10), silent.read_to_end(&mut got)).await;
        assert!(closed.is_ok(), "{addr} kept a silent connection");
        assert!(got.is_empty(), "{addr} said {got:?}");
    }
}

/// A trust store trusts its trusted-certificate entries only, as Java's
/// does: a key store reused as the trust store does not make the CAs of
/// its key's chain trusted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_stores_trust_their_trusted_entries_only() {
    let pki = TestPki::new("trust");
    let server_cert = pki.issue("server", "localhost", &["localhost", "127.0.0.1"]);
    let me = pki.issue("me", "me", &[]);
    let trust_p12 = zk_testkit::require!(pki.trust_pkcs12("changeit"));
    let key_jks = zk_testkit::require!(server_cert.jks("changeit"));
    let server = TestingServer::builder()
        .tls(&server_cert.combined, &trust_p12)
        .config("ssl.trustStore.password=changeit")
        .start()
        .await
        .expect("a PKCS#12 trust store from keytool");
    connect_tls(&server, client_tls(pki.ca(), Some(&me)))
        .await
        .expect("its CA is trusted");
    let err = TestingServer::builder()
        .tls(&server_cert.combined, &key_jks)
        .config("ssl.trustStore.password=changeit")
        .start()
        .await
        .expect_err("a key store as the trust store")
        .to_string();
    assert!(err.contains("no trusted certificate entry"), "{err}");
}

#[tokio::test]
async fn an_unusable_key_store_stops_the_start_naming_the_file() {
    let pki = TestPki::new("bad");
    let junk = pki.dir().join("junk.pem");
    std::fs::write(&junk, "not a key").expect("junk");
    let started = TestingServer::builder().tls(&junk, pki.ca()).start().await;
    let err = started.expect_err("a junk key store").to_string();
    assert!(err.contains("junk.pem"), "{err}");
    // A key that is not the certificate's.
    let a = pki.issue("a", "a", &["localhost"]);
    let b = pki.issue("b", "b", &["localhost"]);
    let mixed = pki.dir().join("mixed.pem");
    let text = |p: &std::path::Path| std::fs::read_to_string(p).expect("read");
    std::fs::write(&mixed, text(&a.key) + &text(&b.chain)).expect("mixed");
    let err = TestingServer::builder()
        .tls(&mixed, pki.ca())
        .start()
        .await
        .expect_err("a mismatched key")
        .to_string();
    assert!(err.contains("does not belong"), "{err}");
    let missing = TestingServer::builder()
        .config("secureClientPort=0")
        .start()
        .await
        .expect_err("TLS without a key store")
        .to_string();
    assert!(missing.contains("ssl.keyStore.location"), "{missing}");
}
