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
