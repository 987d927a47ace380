//! A real Prometheus server (Debian's `prometheus`) scrapes our
//! `/metrics`, and PromQL over its HTTP API finds our series under
//! ZooKeeper's names: standalone, and a 3-member ensemble.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::process::{Child, Command};
use zk_client::{Client, CreateOptions};
use zk_testing::{TestingCluster, TestingServer};
use zk_testkit::http;

/// The series the Prometheus queries of Grafana's ZooKeeper dashboard
/// (grafana/jsonnet-libs, zookeeper-observ-lib: its overview and latency
/// panels) read; its JVM panels (`jvm_*`) have no counterpart here.
const DASHBOARD_SERIES: &[&str] = &[
    "quorum_size",
    "num_alive_connections",
    "outstanding_requests",
    "znode_count",
    "watch_count",
    "leader_uptime",
    "min_latency",
    "avg_latency",
    "max_latency",
];

const PROVIDER: &str =
    "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Prometheus scraping `targets` every half second; killed on drop.
struct Prometheus {
    addr: SocketAddr,
    child: Child,
    dir: PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Prometheus {
    async fn start(binary: &Path, targets: &[SocketAddr]) -> Prometheus {
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let dir = std::env::temp_dir().join(format!(
            "zk-prometheus-{}-{}",
            std::process::id(),
            addr.port()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 500ms\n  scrape_timeout: 400ms\n\
                 scrape_configs:\n  - job_name: zookeeper\n    static_configs:\n      - targets: [{}]\n",
                list.join(", ")
            ),
        )
        .expect("config");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("prometheus starts");
        Prometheus { addr, child, dir }
    }

    /// The instant vector of `promql`, polled until `accept` takes it.
    async fn query_until(&self, promql: &str, accept: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let path = format!("/api/v1/query?query={}", encode(promql));
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(reply) = http::get(self.addr, &path, &[]).await {
                last = reply.text();
                let parsed: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
                if let Some(result) = parsed.pointer("/data/result").and_then(Value::as_array)
                    && accept(result)
                {
                    return result.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("{promql}: no acceptable answer within 30 s; last: {last}");
    }
}

fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The sample value of one element of an instant vector.
fn value(v: &Value) -> f64 {
    v.pointer("/value/1")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs Prometheus (apt-get install prometheus): run with --include-ignored"]
async fn prometheus_scrapes_a_standalone_server() {
    let binary = zk_testkit::require!(zk_testkit::tools::prometheus());
    let server = TestingServer::builder()
        .config(PROVIDER)
        .config("metricsProvider.httpHost=127.0.0.1")
        .config("metricsProvider.httpPort=0")
        .start()
        .await
        .expect("server");
    let client = Client::connect(&server.connect_string())
        .await
        .expect("client");
    for i in 0..10 {
        client
            .create(&format!("/n{i}"), b"x", &CreateOptions::persistent())
            .await
            .expect("create");
    }
    let target = server.metrics_addr().expect("metrics");
    let prometheus = Prometheus::start(&binary, &[target]).await;
    prometheus
        .query_until("up", |r| r.len() == 1 && value(&r[0]) == 1.0)
        .await;
    // 10 znodes over the 5 ZooKeeper reports for an empty tree.
    prometheus
        .query_until("znode_count", |r| r.len() == 1 && value(&r[0]) == 15.0)
        .await;
    prometheus
        .query_until("num_alive_connections", |r| {
            r.len() == 1 && value(&r[0]) == 1.0
        })
        .await;
    prometheus
        .query_until("rate(fsynctime_count[1m]) >= 0", |r| r.len() == 1)
        .await;
    prometheus
        .query_until("updatelatency{quantile=\"0.99\"}", |r| r.len() == 1)
        .await;
    prometheus
        .query_until("process_resident_memory_bytes", |r| {
            r.len() == 1 && value(&r[0]) > 0.0
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs Prometheus (apt-get install prometheus): run with --include-ignored"]
async fn prometheus_scrapes_a_three_member_ensemble() {
    let binary = zk_testkit::require!(zk_testkit::tools::prometheus());
    let cluster = TestingCluster::builder(3)
        .config(PROVIDER)
        .config("metricsProvider.httpHost=127.0.0.1")
        .config("metricsProvider.httpPort=0")
        .start()
        .await
        .expect("cluster");
    let leader = cluster.leader().await.expect("leader");
    let targets: Vec<SocketAddr> = cluster
        .sids()
        .into_iter()
        .map(|sid| cluster.metrics_addr(sid).expect("metrics"))
        .collect();
    let client = Client::connect(&cluster.connect_string())
        .await
        .expect("client");
    client
        .create("/written", b"", &CreateOptions::persistent())
        .await
        .expect("create");
    let prometheus = Prometheus::start(&binary, &targets).await;
    prometheus
        .query_until("sum(up)", |r| r.len() == 1 && value(&r[0]) == 3.0)
        .await;
    prometheus
        .query_until("quorum_size", |r| {
            r.len() == 3 && r.iter().all(|v| value(v) == 3.0)
        })
        .await;
    // Only the leader reports its followers, as ZooKeeper's.
    let synced = prometheus
        .query_until("synced_followers", |r| r.len() == 1 && value(&r[0]) == 2.0)
        .await;
    let leader_target = cluster.metrics_addr(leader).expect("metrics").to_string();
    assert_eq!(synced[0]["metric"]["instance"], leader_target);
    prometheus
        .query_until("min(znode_count)", |r| r.len() == 1 && value(&r[0]) == 6.0)
        .await;
    prometheus
        .query_until("sum(election_time_count)", |r| {
            r.len() == 1 && value(&r[0]) >= 3.0
        })
        .await;
    prometheus
        .query_until("sum(learner_commit_received_count)", |r| {
            r.len() == 1 && value(&r[0]) >= 2.0
        })
        .await;
    // Every series the dashboard reads is there (leader_uptime on the
    // leader only, as ZooKeeper's).
    for series in DASHBOARD_SERIES {
        prometheus
            .query_until(&format!("count({series})"), |r| {
                r.len() == 1 && value(&r[0]) >= 1.0
            })
            .await;
    }
    // The dashboard's role panel: 1 for the leader, 0 for the others.
    let roles = prometheus
        .query_until(
            "clamp_max(leader_uptime, 1) or clamp_max(num_alive_connections, 0)",
            |r| r.len() == 3,
        )
        .await;
    let leaders: Vec<&Value> = roles.iter().filter(|v| value(v) == 1.0).collect();
    assert_eq!(leaders.len(), 1, "{roles:?}");
    assert_eq!(leaders[0]["metric"]["instance"], leader_target);
}
