//! zkcli with the Java client's configuration file (`-client-configuration`)
//! and with `-D` flags in CLIENT_JVMFLAGS, as zkCli.sh takes them: TLS with a
//! client certificate, and SASL DIGEST-MD5 from a JAAS file. Our server,
//! started here with TLS and SASL (whatever ZK_SERVERS says).

use std::process::Command;

use zk_testing::TestingServer;
use zk_testkit::tls::TestPki;

async fn zkcli(args: Vec<String>, env: Vec<(&'static str, String)>) -> (i32, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_zkcli"))
            .args(&args)
            .envs(env)
            .output()
            .expect("zkcli runs");
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_configuration_file_brings_tls_and_sasl() {
    let pki = TestPki::new("zkcli");
    let server_cert = pki.issue("server", "localhost", &["localhost", "127.0.0.1"]);
    let me = pki.issue("me", "zkcli-user", &[]);
    let jaas = pki.dir().join("jaas.conf");
    std::fs::write(
        &jaas,
        r#"Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="pw"; };
Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="pw"; };
"#,
    )
    .expect("jaas");
    let server = TestingServer::builder()
        .tls(&server_cert.combined, pki.ca())
        .sasl(&jaas)
        .start()
        .await
        .expect("starts");
    let secure = server.secure_connect_string().expect("TLS port");

    // One file for both: TLS with a certificate, SASL from the JAAS file.
    let file = pki.dir().join("client.properties");
    std::fs::write(
        &file,
        format!(
            "zookeeper.client.secure=true\n\
             zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty\n\
             zookeeper.ssl.keyStore.location={}\n\
             zookeeper.ssl.trustStore.location={}\n\
             java.security.auth.login.config={}\n",
            me.combined.display(),
            pki.ca().display(),
            jaas.display()
        ),
    )
    .expect("client.properties");
    let (code, out) = zkcli(
        vec![
            "-client-configuration".into(),
            file.display().to_string(),
            "-server".into(),
            secure.clone(),
            "whoami".into(),
        ],
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&me.subject), "x509: {out}");
    assert!(out.contains("bob"), "sasl: {out}");

    // The same through CLIENT_JVMFLAGS, TLS only.
    let flags = format!(
        "-Dzookeeper.client.secure=true -Dzookeeper.ssl.keyStore.location={} \
         -Dzookeeper.ssl.trustStore.location={}",
        me.combined.display(),
        pki.ca().display()
    );
    let (code, out) = zkcli(
        vec!["-server".into(), secure, "whoami".into()],
        vec![("CLIENT_JVMFLAGS", flags)],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&me.subject), "{out}");
    assert!(!out.contains("bob"), "no JAAS file given: {out}");

    // A configuration that cannot load says why, naming the file.
    let broken = pki.dir().join("broken.properties");
    std::fs::write(
        &broken,
        "zookeeper.client.secure=true\nzookeeper.ssl.trustStore.location=/nonexistent/ca.pem\n",
    )
    .expect("broken");
    let (code, out) = zkcli(
        vec![
            "-client-configuration".into(),
            broken.display().to_string(),
            "ls".into(),
            "/".into(),
        ],
        vec![],
    )
    .await;
    assert_ne!(code, 0);
    assert!(out.contains("/nonexistent/ca.pem"), "{out}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The same client configuration file against Apache ZooKeeper 3.8 with
/// TLS (its Netty server, JKS stores from keytool) and SASL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs Apache ZooKeeper 3.8 with TLS and SASL (apt-get install zookeeper): run with --include-ignored"]
async fn the_client_configuration_works_against_apache_zookeeper() {
    zk_testkit::require!(zk_testkit::tools::debian_classpath(
        &["zookeeper"],
        "zookeeper"
    ));
    let pki = TestPki::new("zkcli-apache");
    let server_cert = pki.issue("server", "localhost", &["localhost", "127.0.0.1"]);
    let me = pki.issue("me", "zkcli-user", &[]);
    let key = zk_testkit::require!(server_cert.jks("changeit"));
    let trust = zk_testkit::require!(pki.trust_jks("changeit"));
    let jaas = pki.dir().join("jaas.conf");
    std::fs::write(
        &jaas,
        r#"Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="pw"; };
Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="pw"; };
"#,
    )
    .expect("jaas");
    let (port, secure) = (free_port(), free_port());
    let dir = pki.dir().join("apache");
    let _apache = zk_testkit::apache::ApacheZk::start(
        &dir,
        port,
        &[
            format!("secureClientPort={secure}"),
            "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory".to_owned(),
            "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider".to_owned(),
            "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider"
                .to_owned(),
            format!("ssl.keyStore.location={}", key.display()),
            "ssl.keyStore.password=changeit".to_owned(),
            format!("ssl.trustStore.location={}", trust.display()),
            "ssl.trustStore.password=changeit".to_owned(),
        ],
        &[(
            "SERVER_JVMFLAGS",
            format!("-Djava.security.auth.login.config={}", jaas.display()),
        )],
    );
    let file = pki.dir().join("client.properties");
    std::fs::write(
        &file,
        format!(
            "zookeeper.client.secure=true\n\
             zookeeper.ssl.keyStore.location={}\n\
             zookeeper.ssl.trustStore.location={}\n\
             java.security.auth.login.config={}\n",
            me.combined.display(),
            pki.ca().display(),
            jaas.display()
        ),
    )
    .expect("client.properties");
    let (code, out) = zkcli(
        vec![
            "-client-configuration".into(),
            file.display().to_string(),
            "-server".into(),
            format!("127.0.0.1:{secure}"),
            "whoami".into(),
        ],
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&me.subject), "x509 from Apache: {out}");
    assert!(out.contains("bob"), "sasl from Apache: {out}");
}
