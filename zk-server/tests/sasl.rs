//! SASL DIGEST-MD5 for clients, with our client: users from a JAAS file,
//! `sasl:` identities in ACLs and whoami, wrong passwords (AuthFailed, the
//! connection closed), `allowSaslFailedClients`, the super user,
//! `sessionRequireClientSASLAuth` / `enforce.auth`, and the JAAS file
//! named the way ZooKeeper's scripts name it (`SERVER_JVMFLAGS`).

mod common;

use std::path::PathBuf;
use std::time::Duration;

use zk_client::sasl::SaslCredentials;
use zk_client::{Acl, Client, CreateOptions, Error, Id, perms};
use zk_testing::TestingServer;

/// A JAAS file with the server's users (and a Client section for bob).
fn jaas(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("zk-sasl-{name}-{}.conf", std::process::id()));
    std::fs::write(
        &path,
        r#"Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_bob="bob-secret"
    user_admin="admin-secret";
};
Client {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    username="bob"
    password="bob-secret";
};
"#,
    )
    .expect("the JAAS file");
    path
}

async fn sasl_server(jaas: &std::path::Path, extra: &[&str]) -> TestingServer {
    let mut b = TestingServer::builder().sasl(jaas);
    for line in extra {
        b = b.config(line);
    }
    b.start().await.expect("starts")
}

async fn connect(
    server: &TestingServer,
    creds: Option<SaslCredentials>,
) -> zk_client::Result<Client> {
    let mut b = Client::builder(&server.connect_string())?.connect_timeout(Duration::from_secs(5));
    if let Some(c) = creds {
        b = b.sasl(c);
    }
    b.connect().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sasl_user_is_an_identity_for_acls_and_bad_passwords_fail() {
    let file = jaas("acl");
    let server = sasl_server(&file, &[]).await;
    let bob = connect(
        &server,
        Some(SaslCredentials::from_jaas(&file).expect("Client section")),
    )
    .await
    .expect("bob authenticates");
    let me = bob.whoami().await.expect("whoami");
    assert!(
        me.iter()
            .any(|id| id.auth_scheme == "sasl" && id.user == "bob"),
        "{me:?}"
    );
    let only_bob = vec![Acl {
        perms: perms::ALL,
        id: Id::new("sasl", "bob"),
    }];
    bob.create(
        "/bob",
        b"his",
        &CreateOptions::persistent().with_acl(only_bob),
    )
    .await
    .expect("create");
    assert_eq!(bob.get_data("/bob").await.expect("read").0, b"his");
    let anonymous = connect(&server, None).await.expect("no SASL is allowed");
    assert_eq!(anonymous.get_data("/bob").await, Err(Error::NoAuth));
    let admin = connect(
        &server,
        Some(SaslCredentials::digest("admin", "admin-secret")),
    )
    .await
    .expect("admin");
    assert_eq!(
        admin.get_data("/bob").await,
        Err(Error::NoAuth),
        "not super"
    );

    let wrong = connect(&server, Some(SaslCredentials::digest("bob", "wrong"))).await;
    assert_eq!(wrong.err(), Some(Error::AuthFailed));
    let nobody = connect(&server, Some(SaslCredentials::digest("mallory", "x"))).await;
    assert_eq!(nobody.err(), Some(Error::AuthFailed));
    // The server goes on.
    bob.exists("/").await.expect("still served");
    let _ = std::fs::remove_file(file);
}

/// With `allowSaslFailedClients`, a failed exchange answers OK with an
/// empty token and the connection stays, unauthenticated (on the wire: our
/// client refuses to go on that way, as a client with credentials should).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_failures_stay_connected_unauthenticated() {
    use zk_proto::client::{Request, Response, SaslRequest};
    let file = jaas("allow");
    let server = sasl_server(&file, &["allowSaslFailedClients=true"]).await;
    let addr = server.connect_string().parse().expect("address");
    let mut raw = common::Client::connect(addr).await;
    let sasl = |token: &[u8]| {
        Request::Sasl(SaslRequest {
            token: bytes::Bytes::copy_from_slice(token),
        })
    };
    let challenge = raw.call(sasl(b"")).await.expect("a challenge");
    assert!(matches!(challenge, Response::Sasl(t) if !t.is_empty()));
    let answer = raw
        .call(sasl(b"username=\"bob\",response=00"))
        .await
        .expect("kept, not refused");
    assert!(matches!(answer, Response::Sasl(t) if t.is_empty()));
    let me = raw.call(Request::WhoAmI).await.expect("still served");
    assert!(
        matches!(&me, Response::WhoAmI(ids) if ids.iter().all(|id| id.auth_scheme != "sasl")),
        "{me:?}"
    );
    // Our client does not go on unauthenticated.
    let ours = connect(&server, Some(SaslCredentials::digest("bob", "wrong"))).await;
    assert_eq!(ours.err(), Some(Error::AuthFailed));
    let _ = std::fs::remove_file(file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_super_user_and_enforced_sasl() {
    let file = jaas("enforce");
    let server = sasl_server(
        &file,
        &["superUser=admin", "sessionRequireClientSASLAuth=true"],
    )
    .await;
    let admin = connect(
        &server,
        Some(SaslCredentials::digest("admin", "admin-secret")),
    )
    .await
    .expect("admin");
    let me = admin.whoami().await.expect("whoami");
    assert!(me.iter().any(|id| id.auth_scheme == "super"), "{me:?}");
    let bob = connect(&server, Some(SaslCredentials::digest("bob", "bob-secret")))
        .await
        .expect("bob");
    bob.create(
        "/locked",
        b"",
        &CreateOptions::persistent().with_acl(vec![Acl {
            perms: perms::ALL,
            id: Id::new("sasl", "bob"),
        }]),
    )
    .await
    .expect("create");
    assert!(admin.get_data("/locked").await.is_ok(), "super reads all");

    // Without SASL: connected, but the first request is refused and the
    // connection closed.
    let anonymous = connect(&server, None)
        .await
        .expect("the handshake is allowed");
    assert_eq!(
        anonymous.exists("/").await,
        Err(Error::SessionClosedRequireSaslAuth)
    );
    let wrong = connect(&server, Some(SaslCredentials::digest("bob", "nope"))).await;
    assert_eq!(wrong.err(), Some(Error::AuthFailed));
    let _ = std::fs::remove_file(file);
}

/// The server binary finds the JAAS file in `SERVER_JVMFLAGS`, as
/// ZooKeeper's scripts pass it (`-Djava.security.auth.login.config=`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jaas_file_can_come_from_server_jvmflags() {
    let file = jaas("env");
    let dir = std::env::temp_dir().join(format!("zk-sasl-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let cfg = dir.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "dataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n",
            dir.display()
        ),
    )
    .expect("zoo.cfg");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_zk-server"))
        .args(["start-foreground"])
        .arg(&cfg)
        .env(
            "SERVER_JVMFLAGS",
            format!(
                "-Xmx1g -Djava.security.auth.login.config={}",
                file.display()
            ),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("zk-server runs");
    let addr = format!("127.0.0.1:{port}");
    let connected = async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let attempt = Client::builder(&addr)
                .expect("connect string")
                .sasl(SaslCredentials::digest("bob", "bob-secret"))
                .connect_timeout(Duration::from_secs(2))
                .connect()
                .await;
            match attempt {
                Ok(c) => return c,
                Err(e) if tokio::time::Instant::now() > deadline => panic!("{e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
    .await;
    let me = connected.whoami().await.expect("whoami");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(file);
    assert!(me.iter().any(|id| id.user == "bob"), "{me:?}");
}
