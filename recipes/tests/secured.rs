//! The recipes over TLS and SASL: the framework passes the builder's TLS
//! and SASL settings to every session it makes (the first and the ones
//! after an expiry), on a server that refuses clients without SASL.

use std::time::Duration;

use zk_client::Client;
use zk_client::sasl::SaslCredentials;
use zk_client::tls::{ClientTls, StoreSpec};
use zk_recipes::{Framework, InterProcessMutex};
use zk_testing::TestingServer;
use zk_testkit::tls::TestPki;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_over_tls_and_sasl() {
    let pki = TestPki::new("recipes");
    let server_cert = pki.issue("server", "localhost", &["localhost", "127.0.0.1"]);
    let me = pki.issue("me", "locker", &[]);
    let jaas = pki.dir().join("jaas.conf");
    std::fs::write(
        &jaas,
        "Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_app=\"pw\"; };",
    )
    .expect("jaas");
    let server = TestingServer::builder()
        .tls(&server_cert.combined, pki.ca())
        .sasl(&jaas)
        .config("sessionRequireClientSASLAuth=true")
        .start()
        .await
        .expect("starts");
    let builder = || {
        let tls = ClientTls::builder()
            .trust_store(StoreSpec::new(pki.ca()))
            .key_store(StoreSpec::new(&me.combined))
            .build()
            .expect("TLS");
        Client::builder(&server.secure_connect_string().expect("TLS port"))
            .expect("connect string")
            .tls(tls)
            .sasl(SaslCredentials::digest("app", "pw"))
            .session_timeout(Duration::from_secs(4))
    };
    let a = Framework::connect(builder()).await.expect("a");
    let b = Framework::connect(builder()).await.expect("b");
    let guard = InterProcessMutex::new(&a, "/locks/secured")
        .acquire()
        .await
        .expect("a takes it");
    let theirs = InterProcessMutex::new(&b, "/locks/secured");
    assert!(
        theirs
            .try_acquire(Duration::from_millis(200))
            .await
            .expect("try")
            .is_none()
    );
    guard.release().await.expect("release");
    let held = theirs
        .try_acquire(Duration::from_secs(5))
        .await
        .expect("try")
        .expect("b takes it");
    // The framework's session is the SASL user's, over TLS.
    let who = b.client().whoami().await.expect("whoami");
    assert!(
        who.iter()
            .any(|id| id.auth_scheme == "sasl" && id.user == "app"),
        "{who:?}"
    );
    assert!(who.iter().any(|id| id.auth_scheme == "x509"), "{who:?}");
    held.release().await.expect("release");
    a.close().await;
    b.close().await;
}
