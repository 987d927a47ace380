//! The deployment files against the real image (`zk-rs:latest`, built by
//! `deploy/build-image.sh`): the official image's compose example run
//! unchanged but for the image name; `deploy/compose.yaml`; the Kubernetes
//! manifests (they parse, and name the image's ports, volumes and user; its
//! probe commands work in a running container). Skipped, with the reason,
//! without Docker, the image or docker-compose.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use yaml_rust2::{Yaml, YamlLoader};

const IMAGE: &str = "zk-rs:latest";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn compose_tool() -> Result<Vec<String>, String> {
    for tool in [vec!["docker-compose"], vec!["docker", "compose"]] {
        let mut cmd = Command::new(tool[0]);
        cmd.args(&tool[1..]).arg("version");
        if cmd.output().is_ok_and(|o| o.status.success()) {
            return Ok(tool.into_iter().map(str::to_owned).collect());
        }
    }
    Err("needs docker-compose or docker compose".into())
}

/// A compose project that is taken down (with its volumes) when dropped.
struct Project {
    tool: Vec<String>,
    file: PathBuf,
    name: String,
}

impl Project {
    fn compose(&self) -> Command {
        let mut cmd = Command::new(&self.tool[0]);
        cmd.args(&self.tool[1..])
            .arg("-f")
            .arg(&self.file)
            .arg("-p")
            .arg(&self.name);
        cmd
    }

    fn container(&self, service: &str) -> String {
        ok(self.compose().args(["ps", "-q", service]))
            .trim()
            .to_owned()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self
            .compose()
            .args(["down", "-v", "--remove-orphans"])
            .output();
    }
}

/// `srvr`'s mode of the server in `container`, asked from inside it.
fn mode_in(container: &str) -> Option<String> {
    let out = run(Command::new("docker").args(["exec", container, "zkcli", "srvr"]));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Mode: "))
        .map(str::to_owned)
}

/// Waits until the three services serve with one leader.
fn wait_for_ensemble(project: &Project, services: &[&str]) {
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let modes: Vec<Option<String>> = services
            .iter()
            .map(|s| mode_in(&project.container(s)))
            .collect();
        let leaders = modes
            .iter()
            .filter(|m| m.as_deref() == Some("leader"))
            .count();
        let serving = modes
            .iter()
            .all(|m| matches!(m.as_deref(), Some("leader" | "follower")));
        if serving && leaders == 1 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no ensemble: {modes:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Host ports of the compose files are replaced by free ones, so the test
/// runs beside anything that holds 2181..2183.
fn with_free_host_ports(text: &str) -> String {
    let mut out = text.to_owned();
    for host in [
        "2181:2181",
        "2182:2181",
        "2183:2181",
        "8080:8080",
        "9090:9090",
    ] {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let inside = host.split(':').nth(1).unwrap_or(host);
        out = out.replace(
            &format!("- {host}"),
            &format!("- \"127.0.0.1:{port}:{inside}\""),
        );
    }
    out
}

/// The stack.yml of the official image's documentation (Docker Hub,
/// `zookeeper`, "... via docker-compose"), as it is there but for the
/// image: ours must run it unchanged.
const OFFICIAL_STACK: &str = "version: '3.1'

services:
  zoo1:
    image: zookeeper
    restart: always
    hostname: zoo1
    ports:
      - 2181:2181
    environment:
      ZOO_MY_ID: 1
      ZOO_SERVERS: server.1=zoo1:2888:3888;2181 server.2=zoo2:2888:3888;2181 server.3=zoo3:2888:3888;2181

  zoo2:
    image: zookeeper
    restart: always
    hostname: zoo2
    ports:
      - 2182:2181
    environment:
      ZOO_MY_ID: 2
      ZOO_SERVERS: server.1=zoo1:2888:3888;2181 server.2=zoo2:2888:3888;2181 server.3=zoo3:2888:3888;2181

  zoo3:
    image: zookeeper
    restart: always
    hostname: zoo3
    ports:
      - 2183:2181
    environment:
      ZOO_MY_ID: 3
      ZOO_SERVERS: server.1=zoo1:2888:3888;2181 server.2=zoo2:2888:3888;2181 server.3=zoo3:2888:3888;2181
";

fn start_project(name: &str, text: &str) -> Project {
    let dir = std::env::temp_dir().join(format!("zk-deploy-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("compose.yaml");
    std::fs::write(&file, with_free_host_ports(text)).expect("compose file");
    let project = Project {
        tool: compose_tool().expect("checked before"),
        file,
        name: format!("zkdeploy{name}{}", std::process::id()),
    };
    ok(project.compose().args(["up", "-d"]));
    project
}

#[test]
#[ignore = "starts containers of zk-rs:latest with docker-compose: run with --include-ignored"]
fn the_official_compose_example_runs_with_our_image() {
    zk_testkit::require!(zk_testkit::tools::docker_image(IMAGE));
    zk_testkit::require!(compose_tool());
    let text = OFFICIAL_STACK.replace("image: zookeeper", &format!("image: {IMAGE}"));
    let project = start_project("official", &text);
    wait_for_ensemble(&project, &["zoo1", "zoo2", "zoo3"]);
    // A write through one member is read through another, by zkcli in the
    // containers, as the image's users would.
    let zoo1 = project.container("zoo1");
    let zoo3 = project.container("zoo3");
    ok(Command::new("docker").args(["exec", &zoo1, "zkcli", "create", "/compose", "hello"]));
    let out = ok(Command::new("docker").args([
        "exec",
        &zoo3,
        "zkcli",
        "-server",
        "zoo3:2181",
        "get",
        "/compose",
    ]));
    assert_eq!(out.trim(), "hello");
}

/// The host address a service's client port is published on.
fn host_addr(project: &Project, service: &str) -> String {
    published(project, service, "2181")
}

fn published(project: &Project, service: &str, port: &str) -> String {
    ok(project.compose().args(["port", service, port]))
        .trim()
        .replace("0.0.0.0", "127.0.0.1")
}

/// The compose file's Prometheus scrapes every member: PromQL over its
/// API sees three targets up and the members' series.
fn prometheus_sees_the_ensemble(project: &Project) {
    let addr: std::net::SocketAddr = published(project, "prometheus", "9090")
        .parse()
        .expect("Prometheus' address");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        for (query, want) in [
            ("sum(up)", 3.0),
            ("count(quorum_size)", 3.0),
            ("sum(synced_followers)", 2.0),
        ] {
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            let mut last = String::new();
            loop {
                let path = format!(
                    "/api/v1/query?query={}",
                    query.replace('(', "%28").replace(')', "%29")
                );
                if let Ok(reply) = zk_testkit::http::get(addr, &path, &[]).await {
                    last = reply.text();
                    let v: serde_json::Value =
                        serde_json::from_slice(&reply.body).unwrap_or_default();
                    let got = v
                        .pointer("/data/result/0/value/1")
                        .and_then(|x| x.as_str())
                        .and_then(|x| x.parse::<f64>().ok());
                    if got == Some(want) {
                        break;
                    }
                }
                assert!(std::time::Instant::now() < deadline, "{query}: {last}");
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    });
}

#[test]
#[ignore = "starts containers of zk-rs:latest with docker-compose and drives Apache's zkCli.sh: run with --include-ignored"]
fn our_compose_file_serves_zkcli_and_our_client_on_the_host() {
    zk_testkit::require!(zk_testkit::tools::docker_image(IMAGE));
    zk_testkit::require!(zk_testkit::tools::docker_image("zk-rs-prometheus:latest"));
    zk_testkit::require!(compose_tool());
    let java_zkcli = zk_testkit::require!(zk_testkit::tools::zkcli());
    let text = std::fs::read_to_string(repo().join("deploy/compose.yaml")).expect("compose.yaml");
    let project = start_project("ours", &text);
    let services = ["zoo1", "zoo2", "zoo3"];
    wait_for_ensemble(&project, &services);
    prometheus_sees_the_ensemble(&project);
    // zoo1's web console is published too.
    let console: std::net::SocketAddr = published(&project, "zoo1", "8080")
        .parse()
        .expect("console address");
    let page = tokio::runtime::Runtime::new()
        .expect("a runtime")
        .block_on(zk_testkit::http::get(console, "/", &[]))
        .expect("the console answers");
    assert!(page.text().contains("ZooKeeper console"));
    let addrs: Vec<String> = services.iter().map(|s| host_addr(&project, s)).collect();

    // Apache's zkCli on the host writes through the third member (it
    // says so on stderr)...
    let out = run(Command::new(&java_zkcli).args([
        "-server",
        &addrs[2],
        "create",
        "/from-java",
        "hello",
    ]));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("Created /from-java"), "{said}");
    // ...and our client on the host, connected to all three, reads it
    // after a sync and writes for zkCli to read.
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let client = zk_client::Client::connect(&addrs.join(","))
            .await
            .expect("our client connects");
        client.sync("/from-java").await.expect("sync");
        let (data, _) = client.get_data("/from-java").await.expect("read");
        assert_eq!(data, b"hello");
        client
            .create("/from-rust", b"hi", &zk_client::CreateOptions::persistent())
            .await
            .expect("create");
        client.close().await;
    });
    // zoo1 catches up before the read (another session wrote through
    // another member).
    ok(Command::new(&java_zkcli).args(["-server", &addrs[0], "sync", "/from-rust"]));
    let out = ok(Command::new(&java_zkcli).args(["-server", &addrs[0], "get", "/from-rust"]));
    assert!(out.lines().any(|l| l.trim() == "hi"), "{out}");
}

fn manifests() -> Vec<Yaml> {
    let text = std::fs::read_to_string(repo().join("deploy/kubernetes/zookeeper.yaml"))
        .expect("the manifests");
    YamlLoader::load_from_str(&text).expect("the manifests are YAML")
}

fn of_kind<'a>(docs: &'a [Yaml], kind: &str) -> &'a Yaml {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind}"))
}

/// What `docker image inspect` says of the image.
fn inspect(format: &str) -> String {
    ok(Command::new("docker").args(["image", "inspect", "--format", format, IMAGE]))
        .trim()
        .to_owned()
}

#[test]
fn the_kubernetes_manifests_parse_and_describe_a_three_member_ensemble() {
    let docs = manifests();
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        ["Service", "Service", "PodDisruptionBudget", "StatefulSet"]
    );
    let headless = &docs[0];
    assert_eq!(headless["spec"]["clusterIP"].as_str(), Some("None"));
    assert_eq!(
        headless["spec"]["publishNotReadyAddresses"].as_bool(),
        Some(true)
    );
    assert_eq!(
        of_kind(&docs, "PodDisruptionBudget")["spec"]["maxUnavailable"].as_i64(),
        Some(1)
    );
    let set = of_kind(&docs, "StatefulSet");
    assert_eq!(set["spec"]["replicas"].as_i64(), Some(3));
    assert_eq!(set["spec"]["serviceName"].as_str(), Some("zk-hs"));
    let container = &set["spec"]["template"]["spec"]["containers"][0];
    let env: Vec<(&str, &str)> = container["env"]
        .as_vec()
        .expect("env")
        .iter()
        .filter_map(|e| Some((e["name"].as_str()?, e["value"].as_str()?)))
        .collect();
    // The members in ZOO_SERVERS are the StatefulSet's pods on the
    // headless Service, and the environment builds a valid config.
    let vars: std::collections::BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let cfg = zk_server::config::container::zoo_cfg(&vars).expect("the env builds a zoo.cfg");
    for (i, line) in [(1, "zk-0"), (2, "zk-1"), (3, "zk-2")] {
        assert!(
            cfg.contains(&format!("server.{i}={line}.zk-hs:2888:3888;2181")),
            "{cfg}"
        );
    }
}

#[test]
#[ignore = "inspects and runs the image zk-rs:latest: run with --include-ignored"]
fn the_kubernetes_manifests_match_the_image_and_its_probes_work() {
    zk_testkit::require!(zk_testkit::tools::docker_image(IMAGE));
    let docs = manifests();
    let pod = &of_kind(&docs, "StatefulSet")["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["image"].as_str(), Some(IMAGE));

    let ports: BTreeSet<String> = container["ports"]
        .as_vec()
        .expect("ports")
        .iter()
        .filter_map(|p| p["containerPort"].as_i64())
        .map(|p| format!("{p}/tcp"))
        .collect();
    let exposed: BTreeSet<String> =
        inspect("{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
    assert_eq!(ports, exposed, "the pod's ports are the image's");

    let mounts: BTreeSet<String> = container["volumeMounts"]
        .as_vec()
        .expect("mounts")
        .iter()
        .filter_map(|m| m["mountPath"].as_str().map(str::to_owned))
        .collect();
    let volumes: BTreeSet<String> = inspect("{{range $v, $_ := .Config.Volumes}}{{$v}} {{end}}")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(mounts, volumes, "the pod mounts the image's volumes");
    assert_eq!(inspect("{{.Config.User}}"), "1000:1000");
    assert_eq!(pod["securityContext"]["runAsUser"].as_i64(), Some(1000));

    let probe = |name: &str| -> Vec<String> {
        container[name]["exec"]["command"]
            .as_vec()
            .expect("an exec probe")
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect()
    };
    let (ready, live) = (probe("readinessProbe"), probe("livenessProbe"));

    // A pod of the StatefulSet alone (as zk-1, its peers absent): alive,
    // not ready (no quorum). Then a standalone server: ready.
    let env: Vec<String> = container["env"]
        .as_vec()
        .expect("env")
        .iter()
        .filter_map(|e| Some(format!("{}={}", e["name"].as_str()?, e["value"].as_str()?)))
        .collect();
    let lone = Container::run(&["--hostname", "zk-1"], &env);
    let live_exit = lone.eventually_exit(&live, true);
    assert!(live_exit, "the live probe passes");
    assert!(!lone.exec(&ready), "a member without a quorum is not ready");
    let copied = std::env::temp_dir().join(format!("zk-deploy-myid-{}", std::process::id()));
    ok(Command::new("docker")
        .arg("cp")
        .arg(format!("{}:/data/myid", lone.id))
        .arg(&copied));
    let myid = std::fs::read_to_string(&copied).expect("myid copied out");
    let _ = std::fs::remove_file(&copied);
    assert_eq!(myid, "2\n", "zk-1 is server 2");

    let single = Container::run(&[], &[]);
    assert!(
        single.eventually_exit(&ready, true),
        "a standalone server is ready"
    );
}

/// A container removed when dropped.
struct Container {
    id: String,
}

impl Container {
    fn run(flags: &[&str], env: &[String]) -> Container {
        let mut cmd = Command::new("docker");
        cmd.args(["run", "-d"]).args(flags);
        for e in env {
            cmd.arg("-e").arg(e);
        }
        cmd.arg(IMAGE);
        Container {
            id: ok(&mut cmd).trim().to_owned(),
        }
    }

    fn exec(&self, command: &[String]) -> bool {
        run(Command::new("docker")
            .arg("exec")
            .arg(&self.id)
            .args(command))
        .status
        .success()
    }

    /// Whether `command` comes to exit as `want` within 30 s.
    fn eventually_exit(&self, command: &[String], want: bool) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if self.exec(command) == want {
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v", &self.id])
            .output();
    }
}

#[test]
#[ignore = "runs promtool (apt-get install prometheus): run with --include-ignored"]
fn the_alert_rules_and_scrape_config_pass_promtool() {
    zk_testkit::require!(zk_testkit::tools::prometheus());
    let out = ok(Command::new("promtool")
        .args(["check", "rules"])
        .arg(repo().join("deploy/alerts.yml")));
    assert!(out.contains("SUCCESS: 12 rules found"), "{out}");
    let out = ok(Command::new("promtool")
        .args(["check", "config", "--syntax-only"])
        .arg(repo().join("deploy/prometheus.yml")));
    assert!(out.contains("SUCCESS"), "{out}");
}
