//! Real clients against an in-process server: the kazoo (Python) suite and
//! the Java zkCli scenario in `interop/`. They need kazoo and Debian's
//! `zookeeper` package, so they are ignored by default; `.ci/run` installs
//! both and runs them (`cargo test -- --include-ignored`).

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
        "tickTime=500\nclientPort=0\nclientPortAddress=127.0.0.1\n\
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
#[ignore = "needs kazoo and pytest (pip install kazoo pytest)"]
async fn kazoo_suite() {
    let server = start().await;
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .current_dir(interop_dir().join("kazoo"))
        .env("ZK_HOSTS", server.local_addr().to_string())
        .env("ZK_SUPER_DIGEST_PASSWORD", SUPER_AUTH);
    run(cmd).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Apache ZooKeeper's zkCli.sh (apt-get install zookeeper)"]
async fn zkcli_scenario() {
    let server = start().await;
    let mut cmd = Command::new("bash");
    cmd.arg(interop_dir().join("zkcli/scenario.sh"))
        .arg(server.local_addr().to_string())
        .env("ZK_SUPER_DIGEST_PASSWORD", SUPER_AUTH);
    run(cmd).await;
    server.shutdown().await;
}
