//! Real clients against an in-process server: the kazoo (Python) suite and
//! the Java zkCli scenario in `interop/`. kazoo and pytest are installed
//! into a venv under `target/` on first use; zkCli needs Debian's
//! `zookeeper` package. Both are ignored by a plain `cargo test` (the
//! first run takes a while); `./test.sh` runs them, and a test whose tool
//! is missing reports itself skipped with the reason.

use std::path::PathBuf;
use std::process::Command;

use zk_server::{Config, Server};

/// The super user's digest of `super:test`, as `superDigest` wants it.
const SUPER_DIGEST: &str = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=";
const SUPER_AUTH: &str = "super:test";

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop")
}

async fn start() -> Server {
    let config = Config::parse(&format!(
        "tickTime=500\nclientPort=0\nclientPortAddress=127.0.0.1\ninMemory=true\n\
         4lw.commands.whitelist=*\nenforceQuota=true\nextendedTypesEnabled=true\n\
         superDigest={SUPER_DIGEST}\nznode.container.checkIntervalMs=500\nmaxClientCnxns=0\n"
    ))
    .expect("config parses");
    Server::start(config).await.expect("server starts")
}

/// Runs `cmd` to completion off the runtime (the server keeps serving) and
/// fails the test with its output if it fails.
async fn run(mut cmd: Command) {
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("command runs");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    println!("{text}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives kazoo (installed into target/venv-kazoo on first use): run with --include-ignored"]
async fn kazoo_suite() {
    let python = zk_testkit::require!(
        tokio::task::spawn_blocking(zk_testkit::tools::kazoo_python)
            .await
            .expect("join")
    );
    let server = start().await;
    let mut cmd = Command::new(python);
    cmd.args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .current_dir(interop_dir().join("kazoo"))
        .env("ZK_HOSTS", server.local_addr().to_string())
        .env("ZK_SUPER_DIGEST_PASSWORD", SUPER_AUTH);
    run(cmd).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives Apache ZooKeeper's zkCli.sh (apt-get install zookeeper): run with --include-ignored"]
async fn zkcli_scenario() {
    let zkcli = zk_testkit::require!(zk_testkit::tools::zkcli());
    let server = start().await;
    let mut cmd = Command::new("bash");
    cmd.arg(interop_dir().join("zkcli/scenario.sh"))
        .arg(server.local_addr().to_string())
        .env("ZKCLI", zkcli)
        .env("ZK_SUPER_DIGEST_PASSWORD", SUPER_AUTH);
    run(cmd).await;
    server.shutdown().await;
}

/// A port P with P..P+span free a moment ago (kazoo's harness puts each
/// member's ports at fixed steps from one base).
fn free_span(span: u16) -> u16 {
    loop {
        let base = 20_000 + fastrand::u16(0..40_000);
        let free =
            (base..base + span).all(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok());
        if free {
            return base;
        }
    }
}

/// kazoo's own TLS and SASL tests (`kazoo/tests/test_client.py::TestSSLClient`,
/// `kazoo/tests/test_sasl.py`), unchanged, through kazoo's own harness: it
/// writes each member's zoo.cfg (TLS on `secureClientPort` with the JKS
/// stores it makes, the SASL provider) and JAAS file and starts `java`,
/// which `interop/kazoo-harness/java` turns into our server; an ensemble's
/// members also use quorum TLS (certificates of ours). The Kerberos tests
/// skip themselves without a KDC.
async fn kazoo_own_security_tests(members: usize) {
    let python = zk_testkit::require!(
        tokio::task::spawn_blocking(zk_testkit::tools::kazoo_python)
            .await
            .expect("join")
    );
    let tests = Command::new(&python)
        .args([
            "-c",
            "import kazoo, os; print(os.path.dirname(kazoo.__file__))",
        ])
        .output()
        .expect("python runs");
    let kazoo = PathBuf::from(String::from_utf8_lossy(&tests.stdout).trim()).join("tests");
    let work = std::env::temp_dir().join(format!("zk-kazoo-own-{members}-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("work dir");
    let pki = zk_testkit::tls::TestPki::new("kazoo-quorum");
    let member = pki.issue("member", "member", &["localhost", "127.0.0.1"]);
    let path = format!(
        "{}:{}",
        interop_dir().join("kazoo-harness").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(python);
    cmd.args([
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::DeprecationWarning",
    ])
    .arg(kazoo.join("test_client.py::TestSSLClient"))
    .arg(kazoo.join("test_sasl.py"))
    .current_dir(&work)
    .env("PATH", path)
    .env("ZK_SERVER_BIN", env!("CARGO_BIN_EXE_zk-server"))
    .env("ZOOKEEPER_CLASSPATH", "zk-rs")
    .env("ZOOKEEPER_VERSION", "3.9.3")
    .env("ZOOKEEPER_CLUSTER_SIZE", members.to_string())
    .env(
        "ZOOKEEPER_PORT_OFFSET",
        free_span(10 * members as u16 + 5).to_string(),
    );
    if members > 1 {
        cmd.env("ZK_QUORUM_KEYSTORE", &member.combined)
            .env("ZK_QUORUM_TRUSTSTORE", pki.ca());
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("pytest runs");
    let _ = std::fs::remove_dir_all(&work);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // TestSSLClient's test and the four DIGEST-MD5 tests ran and passed.
    assert!(text.contains("5 passed"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives kazoo's own harness and tests (installed into target/venv-kazoo on first use): run with --include-ignored"]
async fn kazoo_own_tls_and_sasl_tests_standalone() {
    kazoo_own_security_tests(1).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives kazoo's own harness and tests (installed into target/venv-kazoo on first use): run with --include-ignored"]
async fn kazoo_own_tls_and_sasl_tests_on_three_members() {
    kazoo_own_security_tests(3).await;
}
