//! Runs the real `zkcli` binary against a server: our own, started in the
//! test, or the one(s) in `ZK_SERVERS` (e.g. Apache ZooKeeper:
//! `ZK_SERVERS=127.0.0.1:21990 cargo test -p zk-cli`), in one-shot mode and
//! as a shell fed through stdin, and checks what it prints line by line.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the tests connect: an external server, or ours for the test.
struct Target {
    connect: String,
    /// Ours: TTL nodes and four-letter words are known to be on.
    ours: bool,
    server: Option<zk_server::Server>,
}

impl Target {
    async fn start() -> Target {
        if let Some(servers) = std::env::var("ZK_SERVERS").ok().filter(|s| !s.is_empty()) {
            return Target {
                connect: servers,
                ours: false,
                server: None,
            };
        }
        let config = zk_server::Config::parse(
            "clientPort=0\nclientPortAddress=127.0.0.1\ninMemory=true\n4lw.commands.whitelist=*\n\
             extendedTypesEnabled=true\n",
        )
        .expect("config");
        let server = zk_server::Server::start(config)
            .await
            .expect("server starts");
        Target {
            connect: server.local_addr().to_string(),
            ours: true,
            server: Some(server),
        }
    }

    async fn stop(self) {
        if let Some(s) = self.server {
            s.shutdown().await;
        }
    }

    /// `zkcli -server <target> args...`, with `stdin` piped in.
    async fn zkcli(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut full = vec!["-server".to_owned(), self.connect.clone()];
        full.extend(args.iter().map(|s| (*s).to_owned()));
        run_zkcli(full, stdin.map(str::to_owned)).await
    }

    /// One-shot `zkcli -server <target> words...` (split on spaces).
    async fn one(&self, line: &str) -> Run {
        let words: Vec<&str> = line.split(' ').collect();
        self.zkcli(&words, None).await
    }

    /// The lines of `script` fed to the shell.
    async fn script(&self, script: &str) -> Run {
        self.zkcli(&[], Some(script)).await
    }
}

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn out_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    fn err_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }

    /// Stdout without the (asynchronous) watch notifications.
    fn plain_lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| !l.is_empty() && *l != "WATCHER::" && !l.starts_with("WatchedEvent "))
            .collect()
    }

    /// The `WatchedEvent ...` lines, without their zxid (3.8 servers send
    /// none: -1).
    fn events(&self) -> Vec<String> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("WatchedEvent "))
            .map(|l| {
                let (event, zxid) = l.rsplit_once(" zxid: ").expect("3.9 format has a zxid");
                assert!(zxid.parse::<i64>().is_ok(), "zxid of {l:?}");
                event.to_owned()
            })
            .collect()
    }
}

async fn run_zkcli(args: Vec<String>, stdin: Option<String>) -> Run {
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_zkcli"))
            .args(&args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("zkcli runs");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(input.as_bytes()).expect("feeds stdin");
        }
        let out = child.wait_with_output().expect("zkcli ends");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("blocking task")
}

/// A root path no other test (or run) uses.
fn unique_root(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "/zkcli-test-{name}-{}-{nanos:x}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Checks `got` line by line: `*` at the end of an expected line matches
/// any rest.
#[track_caller]
fn assert_lines(got: &[&str], want: &[String]) {
    let ok = got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(g, w)| match w.strip_suffix('*') {
                Some(prefix) => g.starts_with(prefix),
                None => g == w,
            });
    assert!(
        ok,
        "got:\n{}\n\nwanted:\n{}",
        got.join("\n"),
        want.join("\n")
    );
}

/// zkCli's Stat block with these values (times and zxids any).
fn stat_lines(
    cversion: i32,
    version: i32,
    aversion: i32,
    length: usize,
    children: usize,
) -> Vec<String> {
    vec![
        "cZxid = 0x*".into(),
        "ctime = *".into(),
        "mZxid = 0x*".into(),
        "mtime = *".into(),
        "pZxid = 0x*".into(),
        format!("cversion = {cversion}"),
        format!("dataVersion = {version}"),
        format!("aclVersion = {aversion}"),
        "ephemeralOwner = 0x0".into(),
        format!("dataLength = {length}"),
        format!("numChildren = {children}"),
    ]
}

fn lines(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_commands_and_exit_codes() {
    let t = Target::start().await;
    let r = unique_root("oneshot");

    let run = t.one(&format!("create {r} hello")).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.err_lines(), [format!("Created {r}")]);
    assert_eq!(run.stdout, "");

    let run = t.one(&format!("create {r}/a")).await;
    assert_eq!(run.code, 0, "{run:?}");

    let run = t.one(&format!("ls {r}")).await;
    assert_eq!((run.code, run.stdout.as_str()), (0, "[a]\n"));

    let run = t.one(&format!("get {r}")).await;
    assert_eq!((run.code, run.stdout.as_str()), (0, "hello\n"));

    // a node created without data reads as `null`, as in zkCli
    let run = t.one(&format!("get {r}/a")).await;
    assert_eq!((run.code, run.stdout.as_str()), (0, "null\n"));

    let run = t.one(&format!("stat {r}")).await;
    assert_eq!(run.code, 0);
    assert_lines(&run.out_lines(), &stat_lines(1, 0, 0, 5, 1));

    let run = t.one(&format!("get {r}/missing")).await;
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.err_lines(),
        [format!("Node does not exist: {r}/missing")]
    );

    let run = t.one(&format!("create {r}")).await;
    assert_eq!(run.code, 1);
    assert_eq!(run.err_lines(), [format!("Node already exists: {r}")]);

    let run = t.one(&format!("delete {r}")).await;
    assert_eq!(run.code, 1);
    assert_eq!(run.err_lines(), [format!("Node not empty: {r}")]);

    let run = t.one(&format!("set -v 7 {r} x")).await;
    assert_eq!(run.code, 1);
    assert_eq!(run.err_lines(), [format!("version No is not valid : {r}")]);

    // usage errors
    let run = t.one("ls").await;
    assert_eq!(run.code, 1);
    assert_eq!(run.err_lines(), ["ls [-s] [-w] [-R] path"]);
    let run = t.one("create zkcli-no-slash").await;
    assert_eq!(run.code, 1);
    assert_eq!(run.err_lines(), ["Path must start with / character"]);
    let run = t.one(&format!("removewatches {r} -x")).await;
    assert_eq!(run.code, 1);
    assert_eq!(run.err_lines(), ["Unrecognized option: -x"]);

    let run = t.one("nosuchcommand").await;
    assert_eq!(run.code, 127);
    assert_eq!(
        run.err_lines().last().copied(),
        Some("Command not found: nosuchcommand")
    );

    let run = t.one("sync /").await;
    assert_eq!((run.code, run.stdout.as_str()), (0, "Sync is OK\n"));

    let run = t.one(&format!("getAllChildrenNumber {r}")).await;
    assert_eq!((run.code, run.stdout.as_str()), (0, "1\n"));

    let run = t.one("whoami").await;
    assert_eq!(run.code, 0);
    assert_eq!(run.out_lines()[0], "Auth scheme: User");
    assert!(run.out_lines().contains(&"ip: 127.0.0.1"), "{run:?}");

    let run = t.one("version").await;
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("ZooKeeper CLI version: "));

    if t.ours {
        let run = t.one("ruok").await;
        assert_eq!((run.code, run.stdout.as_str()), (0, "imok\n"));
        let run = t.one("4lw srvr").await;
        assert_eq!(run.code, 0);
        assert!(run.stdout.contains("Mode: standalone"), "{run:?}");
    }

    let run = t.one(&format!("deleteall {r}")).await;
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    let run = t.one(&format!("ls {r}")).await;
    assert_eq!(run.code, 1);
    assert_eq!(run.err_lines(), [format!("Node does not exist: {r}")]);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_server_fails() {
    let run = run_zkcli(
        ["-server", "127.0.0.1:1", "-timeout", "1500", "ls", "/"]
            .map(str::to_owned)
            .to_vec(),
        None,
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.starts_with("Unable to connect to 127.0.0.1:1"),
        "{run:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unresolvable_host_fails_at_once_naming_it() {
    // With the default 30 s timeout: the failure must not wait for it.
    let started = std::time::Instant::now();
    let run = run_zkcli(
        ["-server", "no-such-host.invalid:2181", "ls", "/"]
            .map(str::to_owned)
            .to_vec(),
        None,
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.starts_with(
            "Unable to connect to no-such-host.invalid:2181: no host of the connect string \
             resolves: no-such-host.invalid:2181 ("
        ),
        "{run:?}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{run:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_chroot_is_named() {
    let t = Target::start().await;
    let r = unique_root("chroot");
    let run = run_zkcli(
        vec![
            "-server".into(),
            format!("{}{r}", t.connect),
            "ls".into(),
            "/".into(),
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.err_lines(),
        [format!(
            "Unable to connect to {}{r}: chroot {r} does not exist",
            t.connect
        )]
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_script_from_stdin() {
    let t = Target::start().await;
    let r = unique_root("shell");
    let script = format!(
        "create {r} root-data
create {r}/a hello
create -e {r}/eph e
create -s {r}/seq- s
ls {r}
ls -s {r}
ls -R {r}
get -s {r}/a
set {r}/a world
set -s {r}/a world2
stat {r}/a
get {r}/missing
create {r}/a/b
delete {r}/a
delete -v 0 {r}/a/b
getAcl {r}/a
setAcl {r}/a world:anyone:r
getAcl {r}/a
set {r}/a denied
addauth digest alice:alice-secret
create {r}/secret s3cret digest:alice:JYdjG/dL2+v79QyuS8/0gpT+rQQ=:cdrwa
get {r}/secret
getAcl {r}/secret
create {r}/t
create {r}/t/x
create {r}/t/x/y
deleteall {r}/t
ls {r}
getEphemerals {r}
quit
"
    );
    let run = t.script(&script).await;
    assert_eq!(run.code, 0, "{run:?}");
    let mut want = lines(&["[a, eph, seq-0000000002]", "[a, eph, seq-0000000002]"]);
    want.extend(stat_lines(3, 0, 0, 9, 3));
    want.extend([
        r.clone(),
        format!("{r}/a"),
        format!("{r}/eph"),
        format!("{r}/seq-0000000002"),
        "hello".into(),
    ]);
    want.extend(stat_lines(0, 0, 0, 5, 0));
    want.extend(stat_lines(0, 2, 0, 6, 0));
    want.extend(stat_lines(0, 2, 0, 6, 0));
    want.extend(lines(&[
        "'world,'anyone",
        ": cdrwa",
        "'world,'anyone",
        ": r",
    ]));
    want.extend(lines(&[
        "s3cret",
        "'digest,'alice:JYdjG/dL2+v79QyuS8/0gpT+rQQ=",
        ": cdrwa",
        "[a, eph, secret, seq-0000000002]",
    ]));
    want.push(format!("[{r}/eph]"));
    assert_lines(&run.plain_lines(), &want);
    assert_lines(
        &run.err_lines(),
        &[
            format!("Created {r}"),
            format!("Created {r}/a"),
            format!("Created {r}/eph"),
            format!("Created {r}/seq-0000000002"),
            format!("Node does not exist: {r}/missing"),
            format!("Created {r}/a/b"),
            format!("Node not empty: {r}/a"),
            format!("Insufficient permission : {r}/a"),
            format!("Created {r}/secret"),
            format!("Created {r}/t"),
            format!("Created {r}/t/x"),
            format!("Created {r}/t/x/y"),
        ],
    );
    assert!(run.events().is_empty(), "no watches were set: {run:?}");

    // a new session: the ephemeral is gone, the digest node is denied
    let run = t
        .script(&format!(
            "ls {r}\nget {r}/secret\naddauth digest alice:alice-secret\nget {r}/secret\n"
        ))
        .await;
    assert_eq!(run.code, 0, "the last command succeeded: {run:?}");
    assert_lines(
        &run.out_lines(),
        &lines(&["[a, secret, seq-0000000002]", "s3cret"]),
    );
    assert_eq!(
        run.err_lines(),
        [format!("Insufficient permission : {r}/secret")]
    );

    // without `quit` at the end, the exit code is the last command's
    let run = t.script(&format!("ls {r}\nget {r}/missing\n")).await;
    assert_eq!(run.code, 1, "{run:?}");

    let run = t.one(&format!("deleteall {r}")).await;
    assert_eq!(run.code, 1, "alice's node is not deletable by anyone");
    let run = t
        .script(&format!(
            "addauth digest alice:alice-secret\ndeleteall {r}\nls {r}\n"
        ))
        .await;
    assert_eq!(run.err_lines(), [format!("Node does not exist: {r}")]);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_events_are_printed() {
    let t = Target::start().await;
    let r = unique_root("watch");
    let script = format!(
        "create {r}
addWatch {r}/w
create {r}/w
create {r}/w/c
set {r}/w/c data
create {r}/x
get -w {r}/x
set {r}/x changed
stat -w {r}/x
ls -w {r}/x
create {r}/x/child
addWatch -m PERSISTENT {r}/x
set {r}/x again
printwatches
printwatches off
set {r}/x quiet
sync {r}
sync {r}
printwatches on
removewatches {r}/w
removewatches {r}/w
sync {r}
quit
"
    );
    let run = t.script(&script).await;
    assert_eq!(run.code, 0, "{run:?}");
    let p =
        |t: &str, path: &str| format!("WatchedEvent state:SyncConnected type:{t} path:{r}{path}");
    let mut events = run.events();
    events.sort();
    // How many copies of /x's NodeDataChanged are printed depends on
    // timing zkCli has too: the printwatches flag is read when an event is
    // printed, and copies reaching several watchers are merged within a
    // window. Between one and three; the other events exactly.
    let x_changed = p("NodeDataChanged", "/x");
    let copies = events.iter().filter(|e| **e == x_changed).count();
    assert!((1..=3).contains(&copies), "{run:?}");
    events.retain(|e| *e != x_changed);
    let mut want = vec![
        p("NodeCreated", "/w"),
        p("NodeCreated", "/w/c"),
        p("NodeDataChanged", "/w/c"),
        p("NodeChildrenChanged", "/x"),
        p("PersistentWatchRemoved", "/w"),
    ];
    want.sort();
    assert_eq!(events, want, "{run:?}");
    // every event is a block: blank line, WATCHER::, blank line, event
    let out = run.out_lines();
    for (i, l) in out.iter().enumerate() {
        if l.starts_with("WatchedEvent ") {
            assert_eq!(&out[i - 3..i], ["", "WATCHER::", ""], "{run:?}");
        }
    }
    // get -w, stat -w, ls -w, printwatches, sync
    let mut want = lines(&["null"]);
    want.extend(stat_lines(0, 1, 0, 7, 0));
    want.extend(lines(&[
        "[]",
        "printwatches is on",
        "Sync is OK",
        "Sync is OK",
        "Sync is OK",
    ]));
    assert_lines(&run.plain_lines(), &want);
    assert_lines(
        &run.err_lines(),
        &[
            format!("Created {r}"),
            format!("Created {r}/w"),
            format!("Created {r}/w/c"),
            format!("Created {r}/x"),
            format!("Created {r}/x/child"),
            format!("KeeperErrorCode = No such watcher for {r}/w"),
        ],
    );
    let run = t.one(&format!("deleteall {r}")).await;
    assert_eq!(run.code, 0);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_kinds_and_acl_syntax() {
    let t = Target::start().await;
    let r = unique_root("kinds");
    let script = format!(
        "create {r}
create -c {r}/cont
create {r}/cont/child
create -e -s {r}/es- x
create -c -e {r}/bad
create -t 60000 {r}/ttl x
create -e -t 100 {r}/bad
create {r}/ip x ip:10.0.0.0/8:r,world:anyone:cdrwa
getAcl {r}/ip
create {r}/noacl x world:anyone
setAcl {r}/ip world:anyone:rq
getAcl -s {r}/ip
ls {r}
quit
"
    );
    let run = t.script(&script).await;
    let mut want_err = vec![
        format!("Created {r}"),
        format!("Created {r}/cont"),
        format!("Created {r}/cont/child"),
        format!("Created {r}/es-0000000001"),
        "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential."
            .to_owned(),
    ];
    let ttl = if t.ours {
        format!("Created {r}/ttl")
    } else {
        // another server may not have extendedTypesEnabled
        "*".to_owned()
    };
    want_err.extend([
        ttl,
        "TTLs cannot be used with Ephemeral znodes".to_owned(),
        format!("Created {r}/ip"),
        "world:anyone does not have the form scheme:id:perm".to_owned(),
        "KeeperErrorCode = InvalidACL".to_owned(),
        "Acl is not valid : null".to_owned(),
        "Unknown perm type: q".to_owned(),
    ]);
    assert_lines(&run.err_lines(), &want_err);
    let mut want = lines(&["'ip,'10.0.0.0/8", ": r", "'world,'anyone", ": cdrwa"]);
    want.extend(lines(&["'world,'anyone", ": r"]));
    want.extend(stat_lines(0, 0, 1, 1, 0));
    let listed = if run.stderr.contains(&format!("Created {r}/ttl")) {
        "[cont, es-0000000001, ip, ttl]"
    } else {
        "[cont, es-0000000001, ip]"
    };
    want.push(listed.to_owned());
    assert_lines(&run.plain_lines(), &want);
    let run = t.one(&format!("deleteall {r}")).await;
    assert_eq!(run.code, 0, "{run:?}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas() {
    let t = Target::start().await;
    let r = unique_root("quota");
    let script = format!(
        "create {r}
create {r}/one
setquota -n 5 {r}
listquota {r}
get /zookeeper/quota{r}/zookeeper_limits
setquota -N 3 {r}
listquota {r}
setquota -n 5 {r}/one
delquota -n {r}
listquota {r}
delquota {r}
listquota {r}
delquota {r}
setquota -n 0 {r}
setquota -n 1 /zookeeper/quota
quit
"
    );
    let run = t.script(&script).await;
    assert_lines(
        &run.plain_lines(),
        &[
            format!("Output quota for {r} count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1"),
            format!("Output stat for {r} count=2,bytes=0"),
            "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1".to_owned(),
            format!("Output quota for {r} count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=3"),
            format!("Output stat for {r} count=2,bytes=0"),
            format!("Output quota for {r} count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3"),
            format!("Output stat for {r} count=2,bytes=0"),
            format!("Quota does not exist for {r}"),
        ],
    );
    let limits = format!("absolute path is /zookeeper/quota{r}/zookeeper_limits");
    assert_lines(
        &run.err_lines(),
        &[
            format!("Created {r}"),
            format!("Created {r}/one"),
            limits.clone(),
            limits.clone(),
            format!("{r}/one has a parent {r} which has a quota"),
            limits.clone(),
            limits,
            format!("quota for {r} does not exist."),
            "the num quota must be greater than zero".to_owned(),
            "cannot set a quota under the path: /zookeeper/quota".to_owned(),
        ],
    );
    let run = t.one(&format!("deleteall {r}")).await;
    assert_eq!(run.code, 0, "{run:?}");
    t.stop().await;
}

/// A one-shot four-letter word opens no session: it is answered also by a
/// server that takes none (here a listener that only knows `ruok`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_shot_four_letter_word_needs_no_session() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let answering = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().expect("accept");
        let mut word = [0u8; 4];
        s.read_exact(&mut word).expect("a word");
        assert_eq!(&word, b"ruok");
        s.write_all(b"imok").expect("answer");
    });
    let run = run_zkcli(vec!["-server".into(), addr, "ruok".into()], None).await;
    answering.join().expect("the listener");
    assert_eq!((run.code, run.stdout.trim()), (0, "imok"), "{run:?}");
}
