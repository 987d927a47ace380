//! The admin server (`/commands/*`) and the Prometheus endpoint, driven
//! over HTTP against a running server with real client traffic.

use std::net::SocketAddr;

use serde_json::Value;
use zk_client::{Acl, Client, CreateOptions, Id};
use zk_server::admin::http::COMMANDS;
use zk_testing::{TestingCluster, TestingServer};
use zk_testkit::http;

const PROMETHEUS: &str =
    "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

async fn command(addr: SocketAddr, name: &str) -> Value {
    let reply = http::get(addr, &format!("/commands/{name}"), &[])
        .await
        .expect("admin server answers");
    assert_eq!(reply.status, 200, "{name}: {}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    serde_json::from_slice(&reply.body).unwrap_or_else(|e| panic!("{name}: {e}: {}", reply.text()))
}

/// A server on disk with a session holding an ephemeral node and a watch.
async fn busy_server(lines: &[&str]) -> (TestingServer, Client, zk_client::OneshotWatcher) {
    let mut builder = TestingServer::builder();
    for line in lines {
        builder = builder.config(line);
    }
    let server = builder.start().await.expect("server starts");
    let client = Client::connect(&server.connect_string())
        .await
        .expect("connects");
    client
        .create("/app", b"{}", &CreateOptions::persistent())
        .await
        .expect("create");
    client
        .create("/app/me", b"", &CreateOptions::ephemeral())
        .await
        .expect("ephemeral");
    let (_, _, watch) = client.get_data_and_watch("/app").await.expect("watch");
    (server, client, watch)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_and_alias_answers_json_with_command_and_error() {
    let (server, client, _watch) = busy_server(&[]).await;
    let admin = server.admin_addr().expect("admin server runs by default");
    let listing = http::get(admin, "/commands", &[]).await.expect("listing");
    for c in COMMANDS {
        assert!(
            listing.text().contains(&format!("/commands/{}\"", c.name)),
            "{}",
            c.name
        );
        for name in std::iter::once(&c.name).chain(c.aliases) {
            if c.auth {
                let refused = http::get(admin, &format!("/commands/{name}"), &[])
                    .await
                    .expect("answer");
                assert_eq!(refused.status, 401, "{name} needs credentials");
                let reply: Value = serde_json::from_slice(&refused.body).expect("JSON");
                assert_eq!(reply["command"], c.name);
                assert_eq!(reply["error"], "Auth info is missing");
                continue;
            }
            let reply = command(admin, name).await;
            assert_eq!(reply["command"], c.name, "{name}");
            let error = &reply["error"];
            if c.name == "leader" {
                assert_eq!(error, "server is not initialized", "standalone");
            } else {
                assert_eq!(error, &Value::Null, "{name}: {reply}");
            }
        }
    }
    // The loop ran crst and srst: traffic after it is what counts now.
    client.get_data("/app").await.expect("read");
    let session = client.session().id;
    let stats = command(admin, "srvr").await;
    assert_eq!(stats["server_stats"]["server_state"], "standalone");
    assert!(stats["node_count"].as_u64().expect("node_count") >= 6);
    let conns = command(admin, "cons").await;
    let mine = &conns["connections"][0];
    assert_eq!(mine["session_id"], session);
    assert!(mine["packets_received"].as_u64().expect("packets") >= 1);
    assert_eq!(
        command(admin, "wchc").await["session_id_to_watched_paths"][session.to_string()],
        serde_json::json!(["/app"])
    );
    assert_eq!(
        command(admin, "wchp").await["path_to_session_ids"]["/app"],
        serde_json::json!([session])
    );
    assert_eq!(command(admin, "wchs").await["num_total_watches"], 1);
    let dump = command(admin, "dump").await;
    assert_eq!(
        dump["session_id_to_ephemeral_paths"][session.to_string()],
        serde_json::json!(["/app/me"])
    );
    let monitor = command(admin, "mntr").await;
    assert_eq!(monitor["ephemerals_count"], 1);
    assert!(monitor["cnt_readlatency"].as_u64().expect("read count") >= 1);
    assert!(
        monitor["cnt_fsynctime"].as_u64().expect("fsyncs") >= 1,
        "{monitor}"
    );
    assert!(monitor.get("p99_readlatency").is_some());
    let conf = command(admin, "conf").await;
    assert_eq!(conf["client_port"], server.port());
    assert!(
        conf["data_dir"]
            .as_str()
            .expect("data_dir")
            .ends_with("version-2")
    );
    let snap = command(admin, "lsnp").await;
    assert!(snap["zxid"].is_string() && snap["timestamp"].as_u64().expect("time") > 0);
    // crst and srst start the counters over.
    command(admin, "srst").await;
    assert_eq!(command(admin, "mntr").await["cnt_readlatency"], 0);
    assert_eq!(command(admin, "isro").await["read_only"], false);
    let unknown = command(admin, "nope").await;
    assert_eq!(unknown["error"], "Unknown command: nope");
    let post = http::request(admin, "POST", "/commands/ruok", &[])
        .await
        .expect("post");
    assert_eq!(post.status, 405, "3.8 serves its commands to GET");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_that_expose_data_need_all_on_the_root() {
    let super_digest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="; // super:test
    let (server, client, _watch) = busy_server(&[&format!(
        "DigestAuthenticationProvider.superDigest={super_digest}"
    )])
    .await;
    let admin = server.admin_addr().expect("admin");
    let snapshot = |auth: Option<&'static str>| async move {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        http::get(admin, "/commands/snapshot", &headers)
            .await
            .expect("answer")
    };
    assert_eq!(snapshot(None).await.status, 401, "no credentials");
    assert_eq!(
        snapshot(Some("Basic dTpw")).await.status,
        403,
        "not a ZooKeeper scheme"
    );
    // The root is world-writable by default: any digest identity has ALL.
    assert_eq!(snapshot(Some("digest anyone:pw")).await.status, 200);
    // Close the root to one identity: others are refused, it is not.
    client
        .add_auth("digest", b"admin:secret")
        .await
        .expect("addauth");
    let admin_id = zk_server::tree::acl::digest_of("admin:secret").expect("digest");
    client
        .set_acl(
            "/",
            &[Acl {
                perms: zk_proto::data::perms::ALL,
                id: Id::new("digest", &admin_id),
            }],
            None,
        )
        .await
        .expect("set acl on /");
    assert_eq!(snapshot(Some("digest anyone:pw")).await.status, 403);
    let denied = http::get(
        admin,
        "/commands/stmk?traceMask=0",
        &[("Authorization", "digest anyone:pw")],
    )
    .await
    .expect("answer");
    assert_eq!(denied.status, 403);
    let taken = snapshot(Some("digest admin:secret")).await;
    assert_eq!(taken.status, 200);
    assert_eq!(
        taken.header("content-type"),
        Some("application/octet-stream")
    );
    assert!(
        taken
            .header("last_zxid")
            .expect("last_zxid")
            .starts_with("0x")
    );
    // What came back is a snapshot our server reads back.
    let restored =
        zk_server::persist::snapshot::read_snapshot(taken.body.clone().into()).expect("a snapshot");
    assert!(restored.tree.get("/app/me").is_some());
    let super_reply = snapshot(Some("digest super:test")).await;
    assert_eq!(super_reply.status, 200, "the super user passes every ACL");
    let set = http::get(
        admin,
        "/commands/set_trace_mask?traceMask=42",
        &[("Authorization", "digest admin:secret")],
    )
    .await
    .expect("answer");
    assert_eq!(set.status, 200);
    assert_eq!(command(admin, "gtmk").await["tracemask"], 42);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_turn_the_admin_server_off_and_move_it() {
    let off = TestingServer::builder()
        .config("admin.enableServer=false")
        .start()
        .await
        .expect("starts");
    assert_eq!(off.admin_addr(), None);
    let moved = TestingServer::builder()
        .config("admin.commandURL=/zk")
        .start()
        .await
        .expect("starts");
    let admin = moved.admin_addr().expect("admin");
    let ruok = http::get(admin, "/zk/ruok", &[]).await.expect("answer");
    assert_eq!(ruok.status, 200);
    assert_eq!(
        http::get(admin, "/commands/ruok", &[])
            .await
            .expect("answer")
            .status,
        404
    );
    let disabled = TestingServer::builder()
        .config("admin.snapshot.enabled=false")
        .start()
        .await
        .expect("starts");
    let reply = http::get(
        disabled.admin_addr().expect("admin"),
        "/commands/snapshot",
        &[("Authorization", "digest a:b")],
    )
    .await
    .expect("answer");
    assert!(
        reply.text().contains("Snapshot command is disabled"),
        "{}",
        reply.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prometheus_endpoint_uses_zookeepers_names() {
    let (server, client, _watch) = busy_server(&[
        PROMETHEUS,
        "metricsProvider.httpHost=127.0.0.1",
        "metricsProvider.httpPort=0",
    ])
    .await;
    client.get_data("/app").await.expect("read");
    let addr = server.metrics_addr().expect("metrics endpoint");
    let reply = http::get(addr, "/metrics", &[]).await.expect("scrape");
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .expect("type")
            .starts_with("text/plain; version=0.0.4")
    );
    let text = reply.text();
    for expected in [
        "# TYPE znode_count gauge",
        "ephemerals_count 1",
        "num_alive_connections 1",
        "# TYPE readlatency summary",
        "readlatency{quantile=\"0.99\"}",
        "updatelatency_count ",
        "fsynctime_sum ",
        "# TYPE election_time summary",
        "# TYPE looking_count counter",
        "process_resident_memory_bytes ",
        "process_open_fds ",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    assert!(!text.contains("zk_"), "no prefix, as ZooKeeper's provider");
    let plain = TestingServer::start().await.expect("starts");
    assert_eq!(
        plain.metrics_addr(),
        None,
        "off unless the provider is named"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ensemble_reports_its_leader_and_members() {
    let cluster = TestingCluster::builder(3)
        .config(PROMETHEUS)
        .config("metricsProvider.httpPort=0")
        .start()
        .await
        .expect("cluster");
    let leader = cluster.leader().await.expect("leader");
    for sid in cluster.sids() {
        let admin = cluster.admin_addr(sid).expect("admin");
        let lead = command(admin, "leader").await;
        assert_eq!(lead["leader_id"], leader, "member {sid}");
        assert_eq!(lead["is_leader"], sid == leader);
        assert_eq!(lead["leader_ip"], "127.0.0.1");
        let view = command(admin, "voting_view").await;
        assert_eq!(view["current_config"].as_object().expect("config").len(), 3);
        let zab = command(admin, "zabstate").await;
        assert_eq!(zab["myid"], sid);
        assert_eq!(zab["zabstate"], "BROADCAST");
        assert_eq!(zab["voting"], true);
        let metrics = http::get(cluster.metrics_addr(sid).expect("metrics"), "/metrics", &[])
            .await
            .expect("scrape")
            .text();
        assert!(metrics.contains("quorum_size 3"), "{metrics}");
        assert!(
            metrics.contains("election_time_count 1") || metrics.contains("election_time_count 2"),
            "{metrics}"
        );
    }
    let admin = cluster.admin_addr(leader).expect("admin");
    let monitor = command(admin, "monitor").await;
    assert_eq!(monitor["server_state"], "leader");
    assert_eq!(monitor["synced_followers"], 2);
    assert_eq!(monitor["quorum_size"], 3);
}
