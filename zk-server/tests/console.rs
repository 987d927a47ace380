//! The web console in a real browser: Debian's chromium, headless, driven
//! through chromedriver (WebDriver) against a 3-member ensemble. Each step
//! leaves a screenshot in `target/console-screenshots/` (or
//! `ZK_SCREENSHOTS`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client as Browser, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};
use zk_client::{Acl, Client, CreateOptions};
use zk_testing::TestingCluster;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn screenshots() -> PathBuf {
    std::env::var_os("ZK_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| zk_testkit::tools::target_dir().join("console-screenshots"))
}

async fn shot(browser: &Browser, name: &str) {
    let png = browser.screenshot().await.expect("screenshot");
    let dir = screenshots();
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
}

/// Polls `check` (a script returning a value) until `accept` takes it.
async fn until(
    browser: &Browser,
    what: &str,
    script: &str,
    accept: impl Fn(&serde_json::Value) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = serde_json::Value::Null;
    while Instant::now() < deadline {
        if let Ok(v) = browser.execute(script, vec![]).await {
            if accept(&v) {
                return;
            }
            last = v;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what}: not within 20 s (last: {last})");
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs chromium (apt-get install chromium chromium-driver): run with --include-ignored"]
async fn the_console_shows_members_tree_acls_and_live_charts() {
    let (chromium, chromedriver) = zk_testkit::require!(zk_testkit::tools::chromium());
    let cluster = TestingCluster::start(3).await.expect("cluster");
    let leader = cluster.leader().await.expect("leader");
    let follower = cluster
        .sids()
        .into_iter()
        .find(|s| *s != leader)
        .expect("a follower");
    let client = Client::connect(&cluster.client_addr(follower))
        .await
        .expect("client");
    client
        .create(
            "/app",
            br#"{"feature":"on","replicas":3}"#,
            &CreateOptions::persistent(),
        )
        .await
        .expect("create /app");
    let secret = Client::connect(&cluster.client_addr(follower))
        .await
        .expect("client");
    secret
        .add_auth("digest", b"ops:hunter2")
        .await
        .expect("addauth");
    secret
        .create(
            "/secret",
            b"classified",
            &CreateOptions::persistent().with_acl(Acl::creator_all()),
        )
        .await
        .expect("create /secret");

    let port = free_port();
    let driver = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let _driver = Driver(driver);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1500"],
        }),
    );
    let mut browser = None;
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        if let Ok(b) = ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            browser = Some(b);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let browser = browser.expect("a WebDriver session");
    let admin = cluster.admin_addr(follower).expect("admin server");
    browser
        .goto(&format!("http://{admin}/"))
        .await
        .expect("open the console");

    // The members table names the leader, as every member sees it.
    until(
        &browser,
        "three members",
        "return document.querySelectorAll('#members tbody tr').length",
        |v| v == 3,
    )
    .await;
    until(
        &browser,
        "the leader's row",
        "const r = document.querySelector('#members tbody tr.leader'); return r ? Number(r.dataset.sid) : null",
        |v| v == leader,
    )
    .await;
    until(
        &browser,
        "two followers",
        "return document.querySelectorAll('#members tbody tr[data-mode=follower]').length",
        |v| v == 2,
    )
    .await;
    shot(&browser, "members").await;

    // The tree lists what a client created; /app's data reads as JSON.
    until(
        &browser,
        "/app listed",
        "return !!document.querySelector('#tree-children li[data-name=app]')",
        |v| v == true,
    )
    .await;
    browser
        .find(Locator::Css("#tree-children li[data-name=app] a"))
        .await
        .expect("link")
        .click()
        .await
        .expect("click");
    browser
        .find(Locator::Css(".tabs button[data-view=json]"))
        .await
        .expect("tab")
        .click()
        .await
        .expect("click");
    until(
        &browser,
        "/app as JSON",
        "return document.querySelector('#node-data').textContent",
        |v| v.as_str().is_some_and(|t| t.contains("\"replicas\": 3")),
    )
    .await;
    until(
        &browser,
        "/app's Stat",
        "return document.querySelector('#node-stat').textContent",
        |v| {
            v.as_str()
                .is_some_and(|t| t.contains("dataLength") && t.contains("29"))
        },
    )
    .await;
    shot(&browser, "tree-json").await;

    // /secret is hidden from an anonymous visitor: its data is not shown.
    browser
        .goto(&format!("http://{admin}/"))
        .await
        .expect("reload");
    until(
        &browser,
        "/secret listed",
        "return !!document.querySelector('#tree-children li[data-name=secret]')",
        |v| v == true,
    )
    .await;
    browser
        .find(Locator::Css("#tree-children li[data-name=secret] a"))
        .await
        .expect("link")
        .click()
        .await
        .expect("click");
    until(
        &browser,
        "NoAuth shown",
        "return document.querySelector('#node-error').textContent",
        |v| v.as_str().is_some_and(|t| t.contains("NoAuth")),
    )
    .await;
    let hidden: String = browser
        .execute(
            "return document.querySelector('#node-data').textContent",
            vec![],
        )
        .await
        .expect("script")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!hidden.contains("classified"), "anonymous sees {hidden}");
    shot(&browser, "tree-noauth").await;
    // With the digest credentials it is shown.
    browser
        .find(Locator::Css("#auth-user"))
        .await
        .expect("user")
        .send_keys("ops")
        .await
        .expect("type");
    browser
        .find(Locator::Css("#auth-password"))
        .await
        .expect("password")
        .send_keys("hunter2")
        .await
        .expect("type");
    browser
        .find(Locator::Css("#auth-apply"))
        .await
        .expect("button")
        .click()
        .await
        .expect("click");
    until(
        &browser,
        "/secret's data",
        "return document.querySelector('#node-data').textContent",
        |v| v == "classified",
    )
    .await;
    until(
        &browser,
        "/secret's ACL",
        "return document.querySelector('#node-acl').textContent",
        |v| {
            v.as_str()
                .is_some_and(|t| t.contains("digest") && t.contains("ops:"))
        },
    )
    .await;
    shot(&browser, "tree-authenticated").await;

    // The charts take a sample every 2 s; traffic shows in the next ones.
    let samples = "return Number(document.querySelector('#chart-throughput').dataset.samples)";
    let before = browser
        .execute(samples, vec![])
        .await
        .expect("samples")
        .as_u64()
        .unwrap_or(0);
    for i in 0..200 {
        client.exists(&format!("/app/{i}")).await.expect("read");
    }
    until(&browser, "the throughput chart to grow", samples, |v| {
        v.as_u64().is_some_and(|n| n >= before + 2)
    })
    .await;
    until(
        &browser,
        "a throughput sample above zero",
        "return Number(document.querySelector('#chart-throughput').dataset.max)",
        |v| v.as_f64().is_some_and(|x| x > 0.0),
    )
    .await;
    until(
        &browser,
        "sessions listed",
        "return document.querySelectorAll('#sessions tbody tr').length",
        |v| v.as_u64().is_some_and(|n| n >= 2),
    )
    .await;
    // Both sessions, with their exact 64-bit ids.
    let ids: Vec<String> = [client.session().id, secret.session().id]
        .iter()
        .map(|id| format!("0x{id:x}"))
        .collect();
    until(
        &browser,
        "the exact session ids",
        "return document.querySelector('#sessions').textContent",
        |v| {
            v.as_str()
                .is_some_and(|t| ids.iter().all(|id| t.contains(id.as_str())))
        },
    )
    .await;
    shot(&browser, "charts-sessions").await;
    browser.close().await.expect("close the browser");
}
