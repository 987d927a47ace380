//! A chroot in the connect string: paths in requests, results and events
//! are relative to it; a plain client sees the full paths.

mod common;

use common::{TestEnv, within};
use zk_client::{AddWatchMode, Client, CreateMode, CreateOptions, Error, EventType, OpResult};

#[tokio::test]
async fn paths_are_relative_to_the_chroot() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let plain = env.plain_client().await;
    let root = env.root.clone();
    let p = CreateOptions::persistent();

    let (path, _) = c.create("/a", b"in", &p).await.expect("create");
    assert_eq!(path, "/a");
    // `plain` may be on another member of an ensemble: sync before reading
    // what `c` wrote.
    plain.sync(&root).await.expect("sync");
    let (data, _) = plain
        .get_data(&format!("{root}/a"))
        .await
        .expect("full path");
    assert_eq!(data, b"in");
    let (seq, _) = c
        .create(
            "/a/s-",
            b"",
            &CreateOptions::new(CreateMode::EphemeralSequential),
        )
        .await
        .expect("sequential");
    assert_eq!(seq, "/a/s-0000000000");
    assert_eq!(c.get_ephemerals("/").await.expect("ephemerals"), [seq]);
    let (kids, _) = c.get_children("/").await.expect("children of the chroot");
    assert_eq!(kids, ["a"]);
    let (root_data, root_stat) = c.get_data("/").await.expect("the chroot itself");
    plain.sync(&root).await.expect("sync");
    let (plain_data, plain_stat) = plain.get_data(&root).await.expect("root");
    assert_eq!((root_data, root_stat), (plain_data, plain_stat));

    let results = c
        .multi()
        .create("/m", b"", &p)
        .create(
            "/m/q-",
            b"",
            &CreateOptions::new(CreateMode::PersistentSequential),
        )
        .commit()
        .await
        .expect("multi");
    let paths: Vec<_> = results
        .iter()
        .map(|r| match r {
            OpResult::Create { path, .. } => path.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(paths, ["/m", "/m/q-0000000000"]);

    // Outside the chroot is out of reach: "/zookeeper" is root/zookeeper.
    assert_eq!(c.exists("/zookeeper").await, Ok(None));
    assert!(plain.exists("/zookeeper").await.expect("exists").is_some());
    plain.close().await;
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn events_are_relative_to_the_chroot() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let plain = env.plain_client().await;
    let full = format!("{}/e", env.root);
    let p = CreateOptions::persistent();

    let (_, created) = c.exists_and_watch("/e").await.expect("exists");
    let (_, plain_created) = plain.exists_and_watch(&full).await.expect("exists");
    let mut recursive = c
        .add_watch("/", AddWatchMode::PersistentRecursive)
        .await
        .expect("watch the chroot");
    let mut plain_recursive = plain
        .add_watch(&env.root, AddWatchMode::PersistentRecursive)
        .await
        .expect("watch the root");
    plain.create(&full, b"", &p).await.expect("create");

    let ev = within("event", created).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeCreated, "/e")
    );
    let ev = within("event", plain_created).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeCreated, full.as_str())
    );
    let ev = within("event", recursive.next()).await.expect("event");
    assert_eq!(ev.path, "/e");
    let ev = within("event", plain_recursive.next())
        .await
        .expect("event");
    assert_eq!(ev.path, full);

    // A change of the chroot node itself is reported as "/".
    let (_, _, w) = c.get_children_and_watch("/").await.expect("children");
    c.create("/f", b"", &p).await.expect("create f");
    let ev = within("event", w).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeChildrenChanged, "/")
    );
    c.set_data("/", b"root", None).await.expect("set root");
    let mut paths = Vec::new();
    while paths.len() < 2 {
        paths.push(within("event", recursive.next()).await.expect("event").path);
    }
    assert_eq!(paths, ["/f", "/"]);
    plain.close().await;
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn nested_and_missing_chroots() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    c.create("/app", b"", &CreateOptions::persistent())
        .await
        .expect("create");
    let nested = Client::builder(&format!("{}{}/app", env.servers, env.root))
        .expect("connect string")
        .connect();
    let nested = within("connect", nested).await.expect("connect");
    let (path, _) = nested
        .create("/x", b"", &CreateOptions::persistent())
        .await
        .expect("create");
    assert_eq!(path, "/x");
    // Another session may be on another member of an ensemble: sync first.
    c.sync("/app").await.expect("sync");
    assert!(c.exists("/app/x").await.expect("exists").is_some());

    // A chroot that does not exist: the connect fails and names it, where
    // every op would otherwise fail with a bare NoNode.
    let chroot = format!("{}/nothing", env.root);
    let missing = Client::builder(&format!("{}{chroot}", env.servers))
        .expect("connect string")
        .connect();
    let err = within("connect", missing).await.expect_err("no chroot");
    assert_eq!(
        err,
        Error::NoChroot {
            chroot: chroot.clone()
        }
    );
    assert_eq!(err.to_string(), format!("chroot {chroot} does not exist"));
    nested.close().await;
    c.close().await;
    env.stop().await;
}
