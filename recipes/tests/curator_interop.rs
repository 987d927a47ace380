//! Our recipes against the real Apache Curator (5.4, Debian's
//! `libcurator-*-java`): a Java program (`tests/curator/CuratorInterop.java`,
//! compiled with `javac` into a temporary directory per test) shares lock,
//! election and discovery paths with our recipes on one server (ours
//! in-process, or `ZK_SERVERS`), and prints what it sees as lines
//! ("WORD details") the tests read.
//!
//! They need a JDK and Curator, so a plain `cargo test` ignores them;
//! `./test.sh` runs them (`--include-ignored`), and without the packages
//! they report themselves skipped with the reason.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{DEADLINE, TestEnv, children, eventually, within};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;
use zk_client::{Client, CreateOptions};
use zk_recipes::discovery::{ServiceDiscovery, ServiceInstance, ServiceType};
use zk_recipes::{InterProcessMutex, InterProcessReadWriteLock, LeaderLatch, Participant};

/// The Debian packages that bring the jars below.
const PACKAGES: &str = "libcurator-recipes-java libcurator-discovery-java";

/// What Curator's recipes and x-discovery need at run time (ZooKeeper's
/// client, Guava, Jackson for discovery's JSON, and slf4j with a silent
/// binding).
const JARS: &[&str] = &[
    "curator-client",
    "curator-framework",
    "curator-recipes",
    "curator-x-discovery",
    "zookeeper",
    "zookeeper-jute",
    "guava",
    "jackson-core",
    "jackson-databind",
    "jackson-annotations",
    "slf4j-api",
    "slf4j-nop",
];

/// How long something that must not happen is given to happen anyway.
const QUIET: Duration = Duration::from_millis(700);

/// Increments of the shared counter per thread (Java) or task (Rust).
const PER_WORKER: usize = 25;

/// The compiled Java program; the directory goes when this does.
struct Classes {
    dir: PathBuf,
    /// The jars' classpath.
    jars: String,
}

impl Classes {
    async fn compile(jars: String) -> Classes {
        let dir = std::env::temp_dir().join(format!(
            "curator-interop-{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("create the classes directory");
        let classes = Classes { dir, jars };
        let source =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/curator/CuratorInterop.java");
        let out = within(
            "javac",
            Command::new("javac")
                .arg("-cp")
                .arg(&classes.jars)
                .arg("-d")
                .arg(&classes.dir)
                .arg(source)
                .kill_on_drop(true)
                .output(),
        )
        .await
        .unwrap_or_else(|e| panic!("running javac: {e}"));
        assert!(
            out.status.success(),
            "javac failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        classes
    }

    /// The program and the jars.
    fn classpath(&self) -> String {
        format!("{}:{}", self.dir.display(), self.jars)
    }
}

impl Drop for Classes {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running Java side. Every line it prints is kept (with whether a test
/// step consumed it yet); dropping it kills the process.
struct Java {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<String>,
    log: Vec<(String, bool)>,
    stderr: Arc<Mutex<String>>,
}

impl Java {
    /// Starts `CuratorInterop <mode> <servers> <namespace> <args>` against
    /// this test's root (Curator's namespace = our chroot).
    async fn start(env: &TestEnv, classes: &Classes, mode: &str, args: &[&str]) -> Java {
        let mut child = Command::new("java")
            .arg("-cp")
            .arg(classes.classpath())
            .arg("CuratorInterop")
            .arg(mode)
            .arg(&env.servers)
            .arg(env.root.trim_start_matches('/'))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting java: {e}"));
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            while let Ok(n) = err.read(&mut buf).await {
                if n == 0 {
                    return;
                }
                sink.lock()
                    .expect("lock")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Java {
            child,
            stdin,
            lines,
            log: Vec::new(),
            stderr,
        }
    }

    /// Everything it printed so far, for failure messages.
    fn transcript(&self) -> String {
        let out: Vec<&str> = self.log.iter().map(|(l, _)| l.as_str()).collect();
        format!(
            "java stdout:\n{}\njava stderr:\n{}",
            out.join("\n"),
            self.stderr.lock().expect("lock")
        )
    }

    fn keep(&mut self, line: String) {
        let failed = line.starts_with("ERROR") || line.starts_with("OVERLAP");
        self.log.push((line, false));
        assert!(!failed, "the Java side failed\n{}", self.transcript());
    }

    /// Takes in what it printed so far, without waiting.
    fn drain(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.keep(line);
        }
    }

    /// Reads one more line; false at the deadline.
    async fn read_until(&mut self, deadline: tokio::time::Instant) -> bool {
        match tokio::time::timeout_at(deadline, self.lines.recv()).await {
            Ok(Some(line)) => {
                self.keep(line);
                true
            }
            Ok(None) => {
                // Give stderr a moment to arrive for the message.
                tokio::time::sleep(Duration::from_millis(200)).await;
                panic!("the Java side exited\n{}", self.transcript())
            }
            Err(_) => false,
        }
    }

    /// The first unconsumed line whose first word is `word`: consumes it
    /// and returns the rest of the line.
    fn take(&mut self, word: &str) -> Option<String> {
        self.log.iter_mut().find_map(|(line, used)| {
            let (first, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
            (!*used && first == word).then(|| {
                *used = true;
                rest.to_owned()
            })
        })
    }

    /// Waits for a line starting with `word` (see [`Java::take`]).
    async fn expect(&mut self, word: &str) -> String {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            self.drain();
            if let Some(rest) = self.take(word) {
                return rest;
            }
            if !self.read_until(deadline).await {
                panic!("timed out waiting for {word}\n{}", self.transcript());
            }
        }
    }

    /// Fails if a line starting with `word` comes within [`QUIET`].
    async fn quiet(&mut self, word: &str) {
        let deadline = tokio::time::Instant::now() + QUIET;
        while self.read_until(deadline).await {}
        let said = self
            .log
            .iter()
            .any(|(line, used)| !used && line.split(' ').next() == Some(word));
        assert!(!said, "unexpected {word}\n{}", self.transcript());
    }

    async fn send(&mut self, command: &str) {
        let line = format!("{command}\n");
        self.stdin
            .write_all(line.as_bytes())
            .await
            .expect("write to java");
        self.stdin.flush().await.expect("flush to java");
    }

    /// Asks it to close its recipes and client, and waits until it exited
    /// cleanly.
    async fn finish(mut self) {
        self.send("exit").await;
        self.expect("EXITED").await;
        let status = within("java exits", self.child.wait())
            .await
            .expect("wait for java");
        assert!(status.success(), "java: {status}\n{}", self.transcript());
    }
}

/// Whether `name` is Curator's protected sequential name for `kind`:
/// `_c_<uuid>-<kind><10 digits>`.
fn is_curator_name(name: &str, kind: &str) -> bool {
    let Some(rest) = name.strip_prefix("_c_") else {
        return false;
    };
    let (Some(id), Some(tail)) = (rest.get(..36), rest.get(36..)) else {
        return false;
    };
    let Some(seq) = tail.strip_prefix('-').and_then(|t| t.strip_prefix(kind)) else {
        return false;
    };
    uuid::Uuid::parse_str(id).is_ok() && seq.len() == 10 && seq.bytes().all(|b| b.is_ascii_digit())
}

fn sequence(name: &str) -> u64 {
    name[name.len() - 10..].parse().expect("a sequence number")
}

fn name_of(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_owned()
}

async fn read_counter(client: &Client) -> usize {
    let (data, _) = client.get_data("/counter").await.expect("get counter");
    String::from_utf8(data)
        .expect("utf-8")
        .parse()
        .expect("a number")
}

/// Java's two threads (Curator's InterProcessMutex) and our two sessions
/// (ours) increment one counter under one lock path: the count is exact,
/// an ephemeral "inside" marker that only one holder can create never
/// clashes, the two sides' lock nodes interleave (each waited for the
/// other), and every lock node is `_c_<uuid>-lock-<seq>`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "drives Apache Curator (apt-get install libcurator-recipes-java libcurator-discovery-java): run with --include-ignored"]
async fn mutex_excludes_across_implementations() {
    let jars = zk_testkit::require!(zk_testkit::tools::debian_classpath(JARS, PACKAGES));
    let env = TestEnv::new().await;
    let classes = Classes::compile(jars).await;
    let fws = env.frameworks(2).await;
    let client = fws[0].client();
    client
        .create("/counter", b"0", &CreateOptions::persistent())
        .await
        .expect("create counter");
    let per = PER_WORKER.to_string();
    let mut java = Java::start(
        &env,
        &classes,
        "mutex",
        &["/locks/counter", "/counter", "2", &per],
    )
    .await;
    java.expect("READY").await;

    let mut tasks = Vec::new();
    for fw in &fws {
        let fw = fw.clone();
        tasks.push(tokio::spawn(async move {
            let client = fw.client();
            let mutex = InterProcessMutex::new(&fw, "/locks/counter");
            let mut nodes = Vec::new();
            for _ in 0..PER_WORKER {
                let guard = within("our mutex", mutex.acquire()).await.expect("acquire");
                match client
                    .create("/inside", b"", &CreateOptions::ephemeral())
                    .await
                {
                    Ok(_) => {}
                    Err(zk_client::Error::NodeExists) => panic!("two holders at once"),
                    Err(e) => panic!("create marker: {e}"),
                }
                nodes.push(name_of(&mutex.node().expect("our lock node")));
                let n = read_counter(&client).await;
                client
                    .set_data("/counter", (n + 1).to_string().as_bytes(), None)
                    .await
                    .expect("set counter");
                client.delete("/inside", None).await.expect("delete marker");
                guard.release().await.expect("release");
            }
            nodes
        }));
    }
    java.send("go").await;
    let mut ours = Vec::new();
    for task in tasks {
        ours.extend(within("our workers", task).await.expect("worker"));
    }
    java.expect("DONE").await;

    assert_eq!(read_counter(&client).await, 4 * PER_WORKER, "lost updates");
    let mut theirs = Vec::new();
    while let Some(node) = java.take("NODE") {
        theirs.push(node);
    }
    assert_eq!(theirs.len(), 2 * PER_WORKER);
    for name in ours.iter().chain(&theirs) {
        assert!(
            is_curator_name(name, "lock-"),
            "not Curator's lock name: {name}"
        );
    }
    // Both sides queued on the same nodes: some Curator hold came between
    // two of ours.
    let (lo, hi) = (
        ours.iter().map(|n| sequence(n)).min().expect("ours"),
        ours.iter().map(|n| sequence(n)).max().expect("ours"),
    );
    assert!(
        theirs.iter().any(|n| (lo..hi).contains(&sequence(n))),
        "the two sides never alternated: ours {ours:?}, Curator's {theirs:?}"
    );
    assert!(children(&client, "/locks/counter").await.is_empty());
    java.finish().await;
    env.finish(&fws).await;
}

/// Whether the Java latch leads, by the last thing its listener said.
fn java_leads(java: &mut Java) -> bool {
    java.drain();
    java.log
        .iter()
        .rev()
        .find_map(|(line, _)| match line.as_str() {
            "LEADER" => Some(true),
            "NOT_LEADER" | "CLOSED" => Some(false),
            _ => None,
        })
        .unwrap_or(false)
}

/// Curator's LeaderLatch and ours on one path: one leader at a time, both
/// see the same participants (ids read from each other's nodes), nodes
/// are `_c_<uuid>-latch-<seq>`, and closing the leader hands over, in both
/// directions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "drives Apache Curator (apt-get install libcurator-recipes-java libcurator-discovery-java): run with --include-ignored"]
async fn leader_latch_hands_over_both_ways() {
    let jars = zk_testkit::require!(zk_testkit::tools::debian_classpath(JARS, PACKAGES));
    let env = TestEnv::new().await;
    let classes = Classes::compile(jars).await;
    let fws = env.frameworks(2).await;
    let client = fws[0].client();

    // Ours first: it leads; Curator's queues behind it.
    let ours = LeaderLatch::new(&fws[0], "/election", "rust-1");
    ours.start();
    assert!(ours.await_leadership(DEADLINE).await, "our latch leads");
    let mut java = Java::start(&env, &classes, "latch", &["/election", "java-1"]).await;
    java.expect("STARTED").await;
    eventually("two candidates", || async {
        ours.participants().await.expect("participants").len() == 2
    })
    .await;
    let expected = vec![
        Participant {
            id: "rust-1".into(),
            is_leader: true,
        },
        Participant {
            id: "java-1".into(),
            is_leader: false,
        },
    ];
    assert_eq!(ours.participants().await.expect("participants"), expected);
    java.send("participants").await;
    assert_eq!(java.expect("PARTICIPANTS").await, "*rust-1,java-1");
    java.quiet("LEADER").await;
    assert!(ours.is_leader() && !java_leads(&mut java));
    let nodes = children(&client, "/election").await;
    assert_eq!(nodes.len(), 2);
    for name in &nodes {
        assert!(
            is_curator_name(name, "latch-"),
            "not Curator's latch name: {name}"
        );
    }

    // Ours closes: Curator's takes over.
    ours.close().await.expect("close");
    java.expect("LEADER").await;
    assert!(!ours.is_leader() && java_leads(&mut java));

    // A new one of ours queues behind Curator's, and leads once it closes.
    let second = LeaderLatch::new(&fws[1], "/election", "rust-2");
    second.start();
    eventually("two candidates again", || async {
        second.participants().await.expect("participants").len() == 2
    })
    .await;
    java.send("participants").await;
    assert_eq!(java.expect("PARTICIPANTS").await, "*java-1,rust-2");
    tokio::time::sleep(QUIET).await;
    assert!(!second.is_leader() && java_leads(&mut java));
    java.send("close").await;
    java.expect("CLOSED").await;
    assert!(
        second.await_leadership(DEADLINE).await,
        "ours leads after Curator's closed"
    );
    assert!(!java_leads(&mut java));
    assert_eq!(
        second.participants().await.expect("participants"),
        vec![Participant {
            id: "rust-2".into(),
            is_leader: true,
        }]
    );
    java.finish().await;
    second.close().await.expect("close");
    env.finish(&fws).await;
}

/// Curator's read-write lock and ours on one path, both ways: a writer on
/// either side keeps the other side's readers and writers out until it
/// releases; readers share; nodes are `_c_<uuid>-__READ__<seq>` and
/// `_c_<uuid>-__WRIT__<seq>`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "drives Apache Curator (apt-get install libcurator-recipes-java libcurator-discovery-java): run with --include-ignored"]
async fn read_write_lock_across_implementations() {
    let jars = zk_testkit::require!(zk_testkit::tools::debian_classpath(JARS, PACKAGES));
    let env = TestEnv::new().await;
    let classes = Classes::compile(jars).await;
    let fw = env.framework().await;
    let client = fw.client();
    let rw = InterProcessReadWriteLock::new(&fw, "/locks/rw");
    let mut java = Java::start(&env, &classes, "rw", &["/locks/rw"]).await;
    let short = Duration::from_millis(300);

    // Curator's writer keeps our reader and writer out.
    java.send("write").await;
    java.expect("WRITE_HELD").await;
    assert!(rw.try_read(short).await.expect("try read").is_none());
    assert!(rw.try_write(short).await.expect("try write").is_none());
    let reader = tokio::spawn({
        let rw = rw.clone();
        async move { rw.read().await }
    });
    eventually("our reader queued", || async {
        children(&client, "/locks/rw").await.len() == 2
    })
    .await;
    let nodes = children(&client, "/locks/rw").await;
    assert!(
        nodes.iter().any(|n| is_curator_name(n, "__WRIT__")),
        "{nodes:?}"
    );
    assert!(
        nodes.iter().any(|n| is_curator_name(n, "__READ__")),
        "{nodes:?}"
    );
    tokio::time::sleep(QUIET).await;
    assert!(
        !reader.is_finished(),
        "our reader got in past Curator's writer"
    );
    java.send("unwrite").await;
    java.expect("WRITE_RELEASED").await;
    let read = within("our reader", reader)
        .await
        .expect("join")
        .expect("read");

    // Our reader shares with Curator's reader but keeps its writer out.
    java.send("read").await;
    java.expect("READ_HELD").await;
    java.send("unread").await;
    java.expect("READ_RELEASED").await;
    java.send("write").await;
    java.quiet("WRITE_HELD").await;
    read.release().await.expect("release read");
    java.expect("WRITE_HELD").await;
    java.send("unwrite").await;
    java.expect("WRITE_RELEASED").await;

    // Our writer keeps Curator's reader out.
    let write = within("our writer", rw.write()).await.expect("write");
    java.send("read").await;
    java.quiet("READ_HELD").await;
    let nodes = children(&client, "/locks/rw").await;
    assert_eq!(nodes.len(), 2, "{nodes:?}");
    assert!(
        nodes
            .iter()
            .all(|n| is_curator_name(n, "__WRIT__") || is_curator_name(n, "__READ__"))
    );
    write.release().await.expect("release write");
    java.expect("READ_HELD").await;

    // And Curator's reader keeps our writer out.
    assert!(rw.try_write(short).await.expect("try write").is_none());
    java.send("unread").await;
    java.expect("READ_RELEASED").await;
    let write = within("our writer", rw.write()).await.expect("write");
    write.release().await.expect("release write");
    java.finish().await;
    env.finish(&[fw]).await;
}

/// Curator x-discovery and ours on one base path: each reads the other's
/// registrations (`base/<name>/<id>`, ephemeral, x-discovery's JSON) with
/// every field intact, payload or none; Curator's unregistration on close
/// is seen by ours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "drives Apache Curator (apt-get install libcurator-recipes-java libcurator-discovery-java): run with --include-ignored"]
async fn service_discovery_both_ways() {
    let jars = zk_testkit::require!(zk_testkit::tools::debian_classpath(JARS, PACKAGES));
    let env = TestEnv::new().await;
    let classes = Classes::compile(jars).await;
    let fw = env.framework().await;
    let client = fw.client();
    let discovery = ServiceDiscovery::new(&fw, "/services");
    let with_payload = ServiceInstance::new("orders", "10.0.0.7", 8080)
        .with_id("rust-1")
        .with_payload(json!({"zone": "us-2", "weight": 3}));
    let without = ServiceInstance::new("orders", "10.0.0.8", 8081).with_id("rust-2");
    discovery.register(&with_payload).await.expect("register");
    discovery.register(&without).await.expect("register");
    let mut java = Java::start(
        &env,
        &classes,
        "discovery",
        &["/services", "orders", "java-1", "10.0.0.9", "9090"],
    )
    .await;
    java.expect("REGISTERED").await;

    // Ours reads Curator's registration.
    assert_eq!(
        children(&client, "/services/orders").await,
        ["java-1", "rust-1", "rust-2"]
    );
    let (_, stat) = client
        .get_data("/services/orders/java-1")
        .await
        .expect("get");
    assert_ne!(
        stat.ephemeral_owner, 0,
        "Curator's DYNAMIC instance is ephemeral"
    );
    let found = discovery.query_instances("orders").await.expect("query");
    assert_eq!(found.len(), 3, "{found:?}");
    let theirs = &found[0];
    assert_eq!(theirs.id, "java-1");
    assert_eq!(theirs.name, "orders");
    assert_eq!(theirs.address, "10.0.0.9");
    assert_eq!(theirs.port, Some(9090));
    assert_eq!(theirs.ssl_port, None);
    assert_eq!(theirs.service_type, ServiceType::Dynamic);
    assert!(theirs.enabled);
    assert!(theirs.registration_time_utc > 0);
    let payload = theirs.payload.as_ref().expect("Curator's payload");
    assert_eq!(payload["zone"], "eu-1", "{payload}");
    assert_eq!(found[1], with_payload);
    assert_eq!(found[2], without);
    assert_eq!(discovery.query_names().await.expect("names"), ["orders"]);

    // Curator reads ours (and its own).
    java.send("query orders").await;
    java.expect("END").await;
    let mut seen = std::collections::BTreeMap::new();
    while let Some(line) = java.take("INSTANCE") {
        let v: Value = serde_json::from_str(&line).expect("Curator's view is JSON");
        seen.insert(v["id"].as_str().expect("id").to_owned(), v);
    }
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        ["java-1", "rust-1", "rust-2"]
    );
    let expect_seen = |i: &ServiceInstance, payload: Value| {
        json!({
            "name": i.name, "id": i.id, "address": i.address, "port": i.port,
            "sslPort": null, "payload": payload, "serviceType": "DYNAMIC", "enabled": true,
            "registrationTimeUTC": i.registration_time_utc,
        })
    };
    assert_eq!(
        seen["rust-1"],
        expect_seen(&with_payload, json!({"zone": "us-2", "weight": 3}))
    );
    assert_eq!(seen["rust-2"], expect_seen(&without, Value::Null));
    assert_eq!(seen["java-1"]["payload"], json!({"zone": "eu-1"}));

    // Curator unregisters when it closes; ours sees that.
    java.finish().await;
    eventually("Curator's instance gone", || async {
        discovery
            .query_instances("orders")
            .await
            .expect("query")
            .len()
            == 2
    })
    .await;
    discovery.close();
    env.finish(&[fw]).await;
}
