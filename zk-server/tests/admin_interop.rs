//! Our admin server's JSON against Apache ZooKeeper 3.8's AdminServer
//! (Debian's package, with the Jetty jars on its class path), after the
//! same client traffic on both: the same commands, the same field names
//! and JSON types, the same values where they must agree.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use zk_client::{Client, CreateOptions, OneshotWatcher};
use zk_testing::TestingServer;
use zk_testkit::http;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The same traffic on either server: a node, an ephemeral, a data watch.
async fn traffic(connect: &str) -> (Client, OneshotWatcher) {
    let client = Client::connect(connect).await.expect("connects");
    client
        .create("/app", b"{}", &CreateOptions::persistent())
        .await
        .expect("create");
    client
        .create("/app/me", b"", &CreateOptions::ephemeral())
        .await
        .expect("ephemeral");
    let (_, _, watch) = client.get_data_and_watch("/app").await.expect("watch");
    (client, watch)
}

async fn json(addr: SocketAddr, name: &str) -> Value {
    let reply = http::get(addr, &format!("/commands/{name}"), &[])
        .await
        .unwrap_or_else(|e| panic!("{name} on {addr}: {e}"));
    serde_json::from_slice(&reply.body).unwrap_or_else(|e| panic!("{name} on {addr}: {e}"))
}

/// The JSON kind of a value: what a parser of it relies on.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every path in `theirs` (keys joined by `.`, array items as `[]`) with
/// its kind; maps keyed by ids or paths (`dynamic`) are compared by the
/// kind of their values only.
fn shape(prefix: &str, v: &Value, dynamic: &[&str], out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            let key_free = dynamic.contains(&prefix);
            for (k, item) in map {
                let name = if key_free { "*" } else { k.as_str() };
                let path = if prefix.is_empty() {
                    name.to_owned()
                } else {
                    format!("{prefix}.{name}")
                };
                out.insert(format!("{path}: {}", kind(item)));
                shape(&path, item, dynamic, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                let path = format!("{prefix}[]");
                out.insert(format!("{path}: {}", kind(item)));
                shape(&path, item, dynamic, out);
            }
        }
        _ => {}
    }
}

fn shape_of(v: &Value) -> BTreeSet<String> {
    let dynamic = [
        "session_id_to_watched_paths",
        "path_to_session_ids",
        "expiry_time_to_session_ids",
        "session_id_to_ephemeral_paths",
    ];
    let mut out = BTreeSet::new();
    shape("", v, &dynamic, &mut out);
    out
}

/// Commands whose data differs by nature: the JVM's environment and
/// properties (ours lists what applies to a process that is not a JVM),
/// and monitor (compared name by name below).
const DIFFERENT_BY_NATURE: &[&str] = &["environment", "system_properties", "monitor"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs Apache ZooKeeper 3.8 with its AdminServer (apt-get install zookeeper libjetty9-java): run with --include-ignored"]
async fn admin_commands_answer_as_apache_zookeepers() {
    zk_testkit::require!(zk_testkit::tools::debian_classpath(
        &[
            "zookeeper",
            "jetty9-server",
            "jetty9-servlet",
            "servlet-api",
            "jackson-databind"
        ],
        "zookeeper libjetty9-java libjackson2-databind-java libservlet-api-java"
    ));
    let dir = std::env::temp_dir().join(format!("zk-admin-interop-{}", std::process::id()));
    let (port, admin_port) = (free_port(), free_port());
    let _apache = zk_testkit::apache::ApacheZk::start(
        &dir,
        port,
        &[],
        &[("ADMIN_PORT", admin_port.to_string())],
    );
    let apache: SocketAddr = ([127, 0, 0, 1], admin_port).into();
    let mut ready = false;
    for _ in 0..100 {
        if http::get(apache, "/commands/ruok", &[]).await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "Apache ZooKeeper's AdminServer did not start");

    let ours = TestingServer::start().await.expect("our server");
    let our_admin = ours.admin_addr().expect("our admin server");
    let _theirs = traffic(&format!("127.0.0.1:{port}")).await;
    let _mine = traffic(&ours.connect_string()).await;

    let listing = http::get(apache, "/commands", &[])
        .await
        .expect("listing")
        .text();
    let names: Vec<String> = listing
        .split("/commands/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 25, "{listing}");
    for name in &names {
        let theirs = json(apache, name).await;
        let mine = json(our_admin, name).await;
        assert_eq!(mine["command"], theirs["command"], "{name}");
        assert_eq!(
            kind(&mine["error"]),
            kind(&theirs["error"]),
            "{name}: {mine} vs {theirs}"
        );
        if DIFFERENT_BY_NATURE.contains(&name.as_str()) {
            continue;
        }
        assert_eq!(
            shape_of(&mine),
            shape_of(&theirs),
            "{name}:\nours {mine}\ntheirs {theirs}"
        );
    }
    // Values that must agree after the same traffic.
    for (name, pointer) in [
        ("server_stats", "/node_count"),
        ("server_stats", "/server_stats/server_state"),
        ("server_stats", "/read_only"),
        ("watch_summary", "/num_total_watches"),
        ("watch_summary", "/num_paths"),
        ("is_read_only", "/read_only"),
        ("get_trace_mask", "/tracemask"),
        ("leader", "/error"),
        ("voting_view", "/current_config"),
        ("hash", "/digests"),
    ] {
        let (theirs, mine) = (json(apache, name).await, json(our_admin, name).await);
        assert_eq!(
            mine.pointer(pointer),
            theirs.pointer(pointer),
            "{name}{pointer}"
        );
    }
    // monitor: every name we report is one ZooKeeper reports, as a number
    // where it has a number.
    let (theirs, mine) = (
        json(apache, "monitor").await,
        json(our_admin, "monitor").await,
    );
    let theirs = theirs.as_object().expect("object");
    for (key, value) in mine.as_object().expect("object") {
        let Some(their) = theirs.get(key) else {
            panic!("monitor: {key} is not one of ZooKeeper's names");
        };
        assert_eq!(kind(value), kind(their), "monitor.{key}");
    }
    for key in [
        "znode_count",
        "ephemerals_count",
        "watch_count",
        "global_sessions",
    ] {
        assert_eq!(mine[key], theirs[key], "monitor.{key}");
    }
}
