//! Every single op, with its typed result and the exact Stat fields.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{CLEANUP_DEADLINE, TestEnv, eventually_within, ttl_enabled};
use zk_client::{Client, CreateMode, CreateOptions, Error, Stat};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Whether `path` is `prefix` followed by a 10-digit sequence number.
fn seq_of(path: &str, prefix: &str) -> Option<u32> {
    let suffix = path.strip_prefix(prefix)?;
    (suffix.len() == 10 && suffix.bytes().all(|b| b.is_ascii_digit()))
        .then(|| suffix.parse().ok())
        .flatten()
}

/// The Stat of a node just created (nothing happened to it since).
fn assert_fresh(stat: &Stat, data_len: i32, owner: i64) {
    assert!(stat.czxid > 0, "{stat:?}");
    assert_eq!(stat.mzxid, stat.czxid, "{stat:?}");
    assert_eq!(stat.pzxid, stat.czxid, "{stat:?}");
    assert_eq!(stat.mtime, stat.ctime, "{stat:?}");
    assert!(
        (stat.ctime - now_ms()).abs() < 60_000,
        "ctime is wall-clock ms: {stat:?}"
    );
    assert_eq!(
        (stat.version, stat.cversion, stat.aversion),
        (0, 0, 0),
        "{stat:?}"
    );
    assert_eq!(stat.ephemeral_owner, owner, "{stat:?}");
    assert_eq!(stat.data_length, data_len, "{stat:?}");
    assert_eq!(stat.num_children, 0, "{stat:?}");
}

async fn exists(c: &Client, path: &str) -> bool {
    c.exists(path).await.expect("exists").is_some()
}

#[tokio::test]
async fn create_in_every_mode() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let sid = c.session().id;

    let (path, stat) = c
        .create("/p", b"persistent", &CreateOptions::persistent())
        .await
        .expect("persistent");
    assert_eq!(path, "/p");
    assert_fresh(&stat, 10, 0);
    assert_eq!(
        c.get_data("/p").await.expect("get"),
        (b"persistent".to_vec(), stat.clone())
    );

    let (path, stat) = c
        .create("/e", b"", &CreateOptions::ephemeral())
        .await
        .expect("ephemeral");
    assert_eq!(path, "/e");
    assert_fresh(&stat, 0, sid);

    // Sequence numbers come from the parent's cversion: 10 digits, counting
    // every child created under it, sequential or not.
    let seq = CreateOptions::new(CreateMode::PersistentSequential);
    let (first, stat) = c.create("/p/s-", b"x", &seq).await.expect("seq");
    assert_eq!(seq_of(&first, "/p/s-"), Some(0), "{first}");
    assert_fresh(&stat, 1, 0);
    let (second, _) = c.create("/p/s-", b"", &seq).await.expect("seq");
    assert_eq!(seq_of(&second, "/p/s-"), Some(1), "{second}");
    c.create("/p/plain", b"", &CreateOptions::persistent())
        .await
        .expect("plain child");
    let (third, _) = c.create("/p/", b"", &seq).await.expect("seq, bare");
    assert_eq!(seq_of(&third, "/p/"), Some(3), "{third}");

    let eseq = CreateOptions::new(CreateMode::EphemeralSequential);
    let (path, stat) = c.create("/p/e-", b"", &eseq).await.expect("eseq");
    assert_eq!(seq_of(&path, "/p/e-"), Some(4), "{path}");
    assert_fresh(&stat, 0, sid);

    // Containers keep their type in the ephemeral owner on the server, but
    // clients see 0 there (DataNode.getClientEphemeralOwner).
    let (path, stat) = c
        .create("/box", b"", &CreateOptions::container())
        .await
        .expect("container");
    assert_eq!(path, "/box");
    assert_fresh(&stat, 0, 0);

    let (children, parent) = c.get_children("/p").await.expect("children");
    assert_eq!(children.len(), 5, "{children:?}");
    assert_eq!((parent.num_children, parent.cversion), (5, 5));
    c.close().await;
    env.stop().await;
}

/// TTL nodes, plain and sequential; like containers, clients see 0 as
/// their ephemeral owner. The server must have them on
/// (`extendedTypesEnabled=true`); the test skips itself otherwise.
#[tokio::test]
async fn create_ttl_nodes() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    zk_testkit::require!(ttl_enabled(&c).await);
    c.create("/p", b"", &CreateOptions::persistent())
        .await
        .expect("parent");
    let (path, stat) = c
        .create("/ttl", b"t", &CreateOptions::ttl(Duration::from_secs(3600)))
        .await
        .expect("ttl");
    assert_eq!(path, "/ttl");
    assert_fresh(&stat, 1, 0);
    let ttl_seq = CreateOptions::ttl(Duration::from_secs(3600))
        .with_mode(CreateMode::PersistentSequentialWithTtl);
    let (path, stat) = c.create("/p/t-", b"", &ttl_seq).await.expect("ttl seq");
    assert_eq!(seq_of(&path, "/p/t-"), Some(0), "{path}");
    assert_fresh(&stat, 0, 0);
    // A TTL must be positive.
    let err = c
        .create("/ttl0", b"", &CreateOptions::ttl(Duration::ZERO))
        .await
        .expect_err("ttl 0");
    assert_eq!(err, Error::BadArguments);
    c.close().await;
    env.stop().await;
}

/// The server deletes a container once its last child is gone.
#[tokio::test]
async fn containers_are_cleaned_up() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let p = CreateOptions::persistent();
    c.create("/box", b"", &CreateOptions::container())
        .await
        .expect("container");
    c.create("/empty-box", b"", &CreateOptions::container())
        .await
        .expect("container");
    c.create("/box/item", b"", &p).await.expect("child");
    c.delete("/box/item", None).await.expect("delete child");
    eventually_within("the container to go", CLEANUP_DEADLINE, || async {
        !exists(&c, "/box").await
    })
    .await;
    // A container that never had children stays.
    assert!(exists(&c, "/empty-box").await);
    c.close().await;
    env.stop().await;
}

/// The server deletes a TTL node once its TTL passed without a change or
/// children (skipped on a server without TTL nodes).
#[tokio::test]
async fn ttl_nodes_are_cleaned_up() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    zk_testkit::require!(ttl_enabled(&c).await);
    let p = CreateOptions::persistent();
    let short = CreateOptions::ttl(Duration::from_millis(300));
    c.create("/ttl", b"", &short).await.expect("ttl");
    c.create("/ttl-parent", b"", &short).await.expect("ttl");
    c.create("/ttl-parent/child", b"", &p).await.expect("child");
    eventually_within("the TTL node to go", CLEANUP_DEADLINE, || async {
        !exists(&c, "/ttl").await
    })
    .await;
    // A TTL node with children stays.
    assert!(exists(&c, "/ttl-parent").await);
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn exists_get_set_delete() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    assert_eq!(c.exists("/n").await.expect("exists"), None);
    let (_, created) = c
        .create("/n", b"v0", &CreateOptions::persistent())
        .await
        .expect("create");
    assert_eq!(c.exists("/n").await.expect("exists"), Some(created.clone()));

    let stat = c.set_data("/n", b"value-1", Some(0)).await.expect("set v0");
    assert_eq!(stat.version, 1);
    assert!(stat.mzxid > created.mzxid);
    assert!(stat.mtime >= created.mtime);
    assert_eq!(stat.data_length, 7);
    assert_eq!(
        (
            stat.czxid,
            stat.ctime,
            stat.pzxid,
            stat.cversion,
            stat.aversion
        ),
        (created.czxid, created.ctime, created.pzxid, 0, 0)
    );
    assert_eq!(
        c.set_data("/n", b"x", Some(0)).await,
        Err(Error::BadVersion)
    );
    let any = c.set_data("/n", b"", None).await.expect("set any");
    assert_eq!((any.version, any.data_length), (2, 0));
    let (data, got) = c.get_data("/n").await.expect("get");
    assert_eq!((data, got), (Vec::new(), any.clone()));

    // Children: cversion counts creates and deletes, pzxid is the last one.
    let (_, a) = c
        .create("/n/a", b"", &CreateOptions::persistent())
        .await
        .expect("a");
    let (_, b) = c
        .create("/n/b", b"", &CreateOptions::persistent())
        .await
        .expect("b");
    let (mut kids, stat) = c.get_children("/n").await.expect("children");
    kids.sort();
    assert_eq!(kids, ["a", "b"]);
    assert_eq!(
        (stat.num_children, stat.cversion, stat.pzxid),
        (2, 2, b.czxid)
    );
    assert_eq!((stat.version, stat.mzxid), (2, any.mzxid), "data untouched");
    assert_eq!(c.delete("/n", None).await, Err(Error::NotEmpty));
    assert_eq!(c.delete("/n/a", Some(3)).await, Err(Error::BadVersion));
    c.delete("/n/a", Some(0)).await.expect("delete a");
    assert_eq!(c.delete("/n/a", None).await, Err(Error::NoNode));
    let stat = c.exists("/n").await.expect("exists").expect("there");
    assert_eq!((stat.num_children, stat.cversion), (1, 3));
    assert!(stat.pzxid > a.czxid && stat.pzxid > b.czxid);
    c.delete("/n/b", None).await.expect("delete b");
    c.delete("/n", Some(2)).await.expect("delete n");
    assert_eq!(c.exists("/n").await.expect("exists"), None);
    assert_eq!(c.get_data("/n").await, Err(Error::NoNode));
    assert_eq!(c.get_children("/n").await, Err(Error::NoNode));
    assert_eq!(c.set_data("/n", b"", None).await, Err(Error::NoNode));
    c.close().await;
    env.stop().await;
}

/// The standalone check op (opcode 13 outside a multi) is answered
/// differently by every server generation:
/// - ours (like Apache 3.9.0-3.9.2): Ok, BadVersion or NoNode;
/// - Apache 3.8.0-3.8.4: BadVersion and NoNode are answered, but a check
///   that passes is never answered (the server fails to serialize a null
///   Stat); the next reply is out of order, so the client drops the
///   connection and the call fails with ConnectionLoss;
/// - Apache 3.8.5+ and 3.9.3+ (ZOOKEEPER-2623): Unimplemented, always.
#[tokio::test]
async fn check_op() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    c.create("/c", b"", &CreateOptions::persistent())
        .await
        .expect("create");
    c.set_data("/c", b"1", None).await.expect("set");
    let bad = c.check("/c", 0).await;
    let missing = c.check("/missing", 0).await;
    let good = c.check("/c", 1).await;
    if env.is_ours() {
        assert_eq!(
            (good, bad, missing),
            (Ok(()), Err(Error::BadVersion), Err(Error::NoNode))
        );
    } else {
        match (&good, &bad, &missing) {
            (Ok(()), Err(Error::BadVersion), Err(Error::NoNode)) => {}
            (Err(Error::ConnectionLoss), Err(Error::BadVersion), Err(Error::NoNode)) => {}
            (Err(Error::Unimplemented), Err(Error::Unimplemented), Err(Error::Unimplemented)) => {}
            other => panic!("unexpected standalone check results {other:?}"),
        }
    }
    // A check changes nothing, and the session goes on.
    let stat = c.exists("/c").await.expect("exists").expect("there");
    assert_eq!(stat.version, 1);
    // Inside a multi every server runs it.
    c.multi()
        .check("/c", 1)
        .commit()
        .await
        .expect("multi check");
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn sync_ephemerals_counts_whoami_config() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let p = CreateOptions::persistent();
    c.sync("/").await.expect("sync");
    c.create("/d", b"", &p).await.expect("d");
    c.create("/d/e", b"", &CreateOptions::ephemeral())
        .await
        .expect("e");
    c.create("/d/f", b"", &p).await.expect("f");
    c.create("/d/f/g", b"", &p).await.expect("g");
    c.create("/top", b"", &CreateOptions::ephemeral())
        .await
        .expect("top");
    c.sync("/d").await.expect("sync d");

    let mut all = c.get_ephemerals("/").await.expect("ephemerals");
    all.sort();
    assert_eq!(all, ["/d/e", "/top"]);
    assert_eq!(c.get_ephemerals("/d").await.expect("prefix"), ["/d/e"]);
    assert_eq!(
        c.get_ephemerals("/nothing").await.expect("none"),
        Vec::<String>::new()
    );
    // Another session's ephemerals are not listed.
    let other = env.client().await;
    assert_eq!(
        other.get_ephemerals("/").await.expect("other"),
        Vec::<String>::new()
    );

    assert_eq!(c.get_all_children_number("/d").await, Ok(3));
    assert_eq!(c.get_all_children_number("/").await, Ok(5));
    assert_eq!(c.get_all_children_number("/d/f/g").await, Ok(0));
    assert_eq!(c.get_all_children_number("/nope").await, Err(Error::NoNode));

    let me = c.whoami().await.expect("whoami");
    assert_eq!(me.len(), 1, "{me:?}");
    assert_eq!(me[0].auth_scheme, "ip");
    assert_eq!(me[0].user, "127.0.0.1");

    // /zookeeper/config exists on every server (empty unless dynamic
    // reconfig is on); get_config reads it outside the chroot.
    let (data, stat) = c.get_config().await.expect("config");
    assert_eq!(stat.data_length as usize, data.len());
    assert_eq!(c.exists("/zookeeper/config").await, Ok(None), "chrooted");
    other.close().await;
    c.close().await;
    env.stop().await;
}
