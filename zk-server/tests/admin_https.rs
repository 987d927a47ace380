//! The admin server over HTTPS, with curl as the client: `admin.forceHttps`
//! (TLS only), `admin.portUnification` (TLS and plain on one port), and
//! `admin.needClientAuth` with a client certificate as the identity of the
//! commands that need one.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use zk_testing::TestingServer;
use zk_testkit::tls::{Issued, TestPki};

fn curl() -> Result<(), String> {
    Command::new("curl")
        .arg("--version")
        .output()
        .map_err(|e| format!("needs curl (apt-get install curl): {e}"))
        .and_then(|o| {
            if o.status.success() {
                Ok(())
            } else {
                Err("curl --version failed".into())
            }
        })
}

/// `curl` of `url` with `args`: the HTTP status (0 when no answer came)
/// and the body.
fn fetch(url: &str, args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-m", "10", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

async fn https_server(server: &Issued, lines: &[&str]) -> TestingServer {
    let mut builder = TestingServer::builder()
        .config(&format!(
            "ssl.quorum.keyStore.location={}",
            server.combined.display()
        ))
        .config(&format!(
            "ssl.quorum.trustStore.location={}",
            server.ca.display()
        ));
    for line in lines {
        builder = builder.config(line);
    }
    builder.start().await.expect("server starts")
}

fn url(addr: SocketAddr, scheme: &str, command: &str) -> String {
    format!("{scheme}://127.0.0.1:{}/commands/{command}", addr.port())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_https_serves_tls_only() {
    zk_testkit::require!(curl());
    let pki = TestPki::new("admin-https");
    let cert = pki.issue("server", "admin", &["127.0.0.1", "localhost"]);
    let server = https_server(&cert, &["admin.forceHttps=true"]).await;
    let admin = server.admin_addr().expect("admin");
    let ca = path(&cert.ca);
    let (status, body) = fetch(&url(admin, "https", "ruok"), &["--cacert", ca]);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"command\": \"ruok\""), "{body}");
    let (status, _) = fetch(&url(admin, "http", "ruok"), &[]);
    assert_eq!(status, 0, "plain HTTP gets no answer");
    // The console is on HTTPS too.
    let (status, page) = fetch(
        &format!("https://127.0.0.1:{}/", admin.port()),
        &["--cacert", ca],
    );
    assert_eq!(status, 200);
    assert!(page.contains("ZooKeeper console"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_unification_takes_both() {
    zk_testkit::require!(curl());
    let pki = TestPki::new("admin-unified");
    let cert = pki.issue("server", "admin", &["127.0.0.1"]);
    let server = https_server(&cert, &["admin.portUnification=true"]).await;
    let admin = server.admin_addr().expect("admin");
    let (status, _) = fetch(&url(admin, "https", "srvr"), &["--cacert", path(&cert.ca)]);
    assert_eq!(status, 200);
    let (status, _) = fetch(&url(admin, "http", "srvr"), &[]);
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_is_the_identity_of_auth_commands() {
    zk_testkit::require!(curl());
    let pki = TestPki::new("admin-mtls");
    let server_cert = pki.issue("server", "admin", &["127.0.0.1"]);
    let operator = pki.issue("operator", "operator", &[]);
    let server = https_server(
        &server_cert,
        &[
            "admin.forceHttps=true",
            "admin.needClientAuth=true",
            &format!("X509AuthenticationProvider.superUser={}", operator.subject),
        ],
    )
    .await;
    let admin = server.admin_addr().expect("admin");
    let ca = path(&server_cert.ca);
    let (status, _) = fetch(&url(admin, "https", "ruok"), &["--cacert", ca]);
    assert_eq!(status, 0, "no certificate, no connection");
    let with_cert = [
        "--cacert",
        ca,
        "--cert",
        path(&operator.chain),
        "--key",
        path(&operator.key),
    ];
    let (status, _) = fetch(&url(admin, "https", "ruok"), &with_cert);
    assert_eq!(status, 200);
    // The certificate's subject is the x509 super user: the snapshot is
    // served without an Authorization header.
    let (status, _) = fetch(&url(admin, "https", "snapshot"), &with_cert);
    assert_eq!(status, 200);
}
