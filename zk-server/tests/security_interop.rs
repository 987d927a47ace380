//! TLS and SASL with Apache ZooKeeper's own programs: the Java zkCli
//! against our TLS port (Netty, a JKS key store from keytool) and with
//! SASL DIGEST-MD5 (a JAAS `Client` section); our client against Apache
//! ZooKeeper 3.8's TLS port, which must name our client's certificate
//! exactly as our server does, and with SASL. Skipped without Debian's
//! `zookeeper` package, a JVM or keytool.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use zk_client::sasl::SaslCredentials;
use zk_client::tls::{ClientTls, StoreSpec};
use zk_client::{Client, CreateOptions};
use zk_testing::TestingServer;
use zk_testkit::tls::TestPki;

/// The JVM flags that make zkCli a TLS client with `key` and `trust`.
/// The class path again, with netty-codec and netty-resolver: Debian's
/// zookeeper.jar does not list them, and its Netty TLS client needs them
/// (a later `-cp` wins).
fn java_tls_flags(key: &Path, trust: &Path, password: &str) -> String {
    format!(
        "-cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/netty-codec.jar:/usr/share/java/netty-resolver.jar \
         -Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty \
         -Dzookeeper.client.secure=true \
         -Dzookeeper.ssl.keyStore.location={} -Dzookeeper.ssl.keyStore.password={password} \
         -Dzookeeper.ssl.trustStore.location={} -Dzookeeper.ssl.trustStore.password={password}",
        key.display(),
        trust.display()
    )
}

/// A JAAS file with a server user and the Java client's credentials.
fn jaas(dir: &Path) -> PathBuf {
    let path = dir.join("jaas.conf");
    std::fs::write(
        &path,
        r#"Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_jaasuser="jaas_password";
};
Client {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    username="jaasuser"
    password="jaas_password";
};
"#,
    )
    .expect("jaas.conf");
    path
}

fn zkcli(zkcli: &Path, flags: &str, server: &str, args: &[&str]) -> String {
    let out = Command::new(zkcli)
        .env("CLIENT_JVMFLAGS", flags)
        .arg("-server")
        .arg(server)
        .args(args)
        .output()
        .expect("zkCli runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "drives Apache ZooKeeper's zkCli.sh over TLS (apt-get install zookeeper): run with --include-ignored"]
async fn java_zkcli_uses_our_tls_port_with_its_certificate() {
    let zkcli_sh = zk_testkit::require!(zk_testkit::tools::zkcli());
    let pki = TestPki::new("java");
    let server_cert = pki.issue("server", "localhost", &["localhost", "127.0.0.1"]);
    let java = pki.issue("java", "java-client", &[]);
    let key = zk_testkit::require!(java.jks("changeit"));
    let trust = zk_testkit::require!(pki.trust_jks("changeit"));
    let server = TestingServer::builder()
        .tls(&server_cert.combined, pki.ca())
        .start()
        .await
        .expect("starts");
    let addr = server.secure_connect_string().expect("TLS port");
    let flags = java_tls_flags(&key, &trust, "changeit");
    // zkCli splits ACLs at commas, which a subject has: the `auth` scheme
    // stands for the certificate's x509 id.
    let acl = "auth::cdrwa".to_owned();
    let zkcli_sh2 = zkcli_sh.clone();
    let (created, whoami, read) = tokio::task::spawn_blocking(move || {
        let created = zkcli(
            &zkcli_sh2,
            &flags,
            &addr,
            &["create", "/java", "over-tls", &acl],
        );
        let whoami = zkcli(&zkcli_sh2, &flags, &addr, &["whoami"]);
        let read = zkcli(&zkcli_sh2, &flags, &addr, &["get", "/java"]);
        (created, whoami, read)
    })
    .await
    .expect("zkCli");
    assert!(created.contains("Created /java"), "{created}");
    assert!(whoami.contains(&java.subject), "{whoami}");
    assert!(read.lines().any(|l| l == "over-tls"), "{read}");
    // Only the Java client's certificate may read it.
    let plain = Client::connect(&server.connect_string())
        .await
        .expect("plain");
    assert_eq!(plain.get_data("/java").await, Err(zk_client::Error::NoAuth));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "drives Apache ZooKeeper's zkCli.sh with SASL (apt-get install zookeeper): run with --include-ignored"]
async fn java_zkcli_authenticates_with_sasl_digest() {
    let zkcli_sh = zk_testkit::require!(zk_testkit::tools::zkcli());
    let pki = TestPki::new("java-sasl"); // for its temporary directory
    let jaas = jaas(pki.dir());
    let server = TestingServer::builder()
        .sasl(&jaas)
        .start()
        .await
        .expect("starts");
    let addr = server.connect_string();
    let flags = format!("-Djava.security.auth.login.config={}", jaas.display());
    let wrong = pki.dir().join("wrong.conf");
    std::fs::write(
        &wrong,
        "Client { org.apache.zookeeper.server.auth.DigestLoginModule required username=\"jaasuser\" password=\"nope\"; };",
    )
    .expect("wrong.conf");
    let wrong_flags = format!("-Djava.security.auth.login.config={}", wrong.display());
    let (created, whoami, refused) = tokio::task::spawn_blocking(move || {
        let created = zkcli(
            &zkcli_sh,
            &flags,
            &addr,
            &["create", "/java-sasl", "v", "sasl:jaasuser:cdrwa"],
        );
        let whoami = zkcli(&zkcli_sh, &flags, &addr, &["whoami"]);
        let refused = zkcli(&zkcli_sh, &wrong_flags, &addr, &["get", "/java-sasl"]);
        (created, whoami, refused)
    })
    .await
    .expect("zkCli");
    assert!(created.contains("Created /java-sasl"), "{created}");
    assert!(whoami.contains("jaasuser"), "{whoami}");
    assert!(
        !refused.lines().any(|l| l == "v"),
        "a wrong password reads nothing: {refused}"
    );
    let anonymous = Client::connect(&server.connect_string())
        .await
        .expect("plain");
    assert_eq!(
        anonymous.get_data("/java-sasl").await,
        Err(zk_client::Error::NoAuth)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs Apache ZooKeeper 3.8 with SASL (apt-get install zookeeper): run with --include-ignored"]
async fn our_client_authenticates_with_sasl_to_apache_zookeeper() {
    zk_testkit::require!(zk_testkit::tools::debian_classpath(
        &["zookeeper"],
        "zookeeper"
    ));
    let pki = TestPki::new("apache-sasl");
    let jaas = jaas(pki.dir());
    let port = free_port();
    let dir = pki.dir().join("apache");
    let _apache = zk_testkit::apache::ApacheZk::start(
        &dir,
        port,
        &["authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider".to_owned()],
        &[(
            "SERVER_JVMFLAGS",
            format!("-Djava.security.auth.login.config={}", jaas.display()),
        )],
    );
    let addr = format!("127.0.0.1:{port}");
    let client = Client::builder(&addr)
        .expect("connect string")
        .sasl(SaslCredentials::from_jaas(&jaas).expect("Client section"))
        .connect()
        .await
        .expect("our client authenticates to Apache ZooKeeper");
    let me = client.whoami().await.expect("whoami");
    assert!(
        me.iter()
            .any(|id| id.auth_scheme == "sasl" && id.user == "jaasuser"),
        "{me:?}"
    );
    let wrong = Client::builder(&addr)
        .expect("connect string")
        .sasl(SaslCredentials::digest("jaasuser", "nope"))
        .connect()
        .await;
    assert_eq!(wrong.err(), Some(zk_client::Error::AuthFailed));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs Apache ZooKeeper 3.8 with TLS (apt-get install zookeeper): run with --include-ignored"]
async fn our_client_uses_apache_zookeeper_tls_and_both_servers_name_it_alike() {
    zk_testkit::require!(zk_testkit::tools::debian_classpath(
        &["zookeeper"],
        "zookeeper"
    ));
    let pki = TestPki::new("apache");
    let server_cert = pki.issue("server", "localhost", &["localhost", "127.0.0.1"]);
    let me = pki.issue("me", "rust-client", &[]);
    let key = zk_testkit::require!(server_cert.jks("changeit"));
    let trust = zk_testkit::require!(pki.trust_jks("changeit"));
    let (port, secure) = (free_port(), free_port());
    let dir = pki.dir().join("apache");
    let _apache = zk_testkit::apache::ApacheZk::start(
        &dir,
        port,
        &[
            format!("secureClientPort={secure}"),
            "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory".to_owned(),
            "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider"
                .to_owned(),
            format!("ssl.keyStore.location={}", key.display()),
            "ssl.keyStore.password=changeit".to_owned(),
            format!("ssl.trustStore.location={}", trust.display()),
            "ssl.trustStore.password=changeit".to_owned(),
        ],
        &[],
    );
    let tls = || {
        ClientTls::builder()
            .trust_store(StoreSpec::new(pki.ca()))
            .key_store(StoreSpec::new(&me.combined))
            .build()
            .expect("client TLS")
    };
    let client = Client::builder(&format!("127.0.0.1:{secure}"))
        .expect("connect string")
        .tls(tls())
        .connect_timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("our client connects to Apache ZooKeeper over TLS");
    client
        .create("/rust-tls", b"x", &CreateOptions::persistent())
        .await
        .expect("create");
    let theirs = client.whoami().await.expect("whoami from Apache");
    // Ours, with the same certificate.
    let server = TestingServer::builder()
        .tls(&server_cert.combined, pki.ca())
        .start()
        .await
        .expect("ours starts");
    let ours = Client::builder(&server.secure_connect_string().expect("TLS port"))
        .expect("connect string")
        .tls(tls())
        .connect()
        .await
        .expect("connects to ours")
        .whoami()
        .await
        .expect("whoami from ours");
    let x509 = |ids: &[zk_client::ClientInfo]| {
        ids.iter()
            .find(|id| id.auth_scheme == "x509")
            .map(|id| id.user.clone())
    };
    assert_eq!(x509(&theirs), Some(me.subject.clone()), "{theirs:?}");
    assert_eq!(x509(&ours), x509(&theirs));
}
