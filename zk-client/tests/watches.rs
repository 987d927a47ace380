//! Every watch kind: one-shot data, exist and child watches, persistent and
//! persistent-recursive watches, and the zxid events carry.

mod common;

use common::{TestEnv, within};
use zk_client::{
    AddWatchMode, CreateOptions, EventType, KeeperState, OneshotWatcher, PersistentWatcher,
    WatchedEvent,
};

async fn fired(w: OneshotWatcher) -> WatchedEvent {
    within("a watch event", w).await
}

async fn next(w: &mut PersistentWatcher) -> WatchedEvent {
    within("a persistent watch event", w.next())
        .await
        .expect("stream open")
}

fn is(ev: &WatchedEvent, t: EventType, path: &str) {
    assert_eq!(
        (ev.event_type, ev.path.as_str(), ev.state),
        (t, path, KeeperState::SyncConnected),
        "{ev:?}"
    );
}

/// Servers since 3.9 put the change's zxid in the notification; 3.8 sends
/// -1.
async fn zxid_is(env: &TestEnv, ev: &WatchedEvent, zxid: i64) {
    let want = if env.is_3_9().await { zxid } else { -1 };
    assert_eq!(ev.zxid, want, "{ev:?}");
}

#[tokio::test]
async fn data_watch_fires_on_change_and_delete() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    c.create("/d", b"0", &CreateOptions::persistent())
        .await
        .expect("create");
    let (data, stat, w) = c.get_data_and_watch("/d").await.expect("get");
    assert_eq!((data.as_slice(), stat.version), (&b"0"[..], 0));
    let set = c.set_data("/d", b"1", None).await.expect("set");
    let ev = fired(w).await;
    is(&ev, EventType::NodeDataChanged, "/d");
    zxid_is(&env, &ev, set.mzxid).await;

    // One-shot: a new watch is needed for the next change.
    let (_, _, w) = c.get_data_and_watch("/d").await.expect("get");
    // Two watchers of the same node both hear the one notification.
    let (_, _, w2) = c.get_data_and_watch("/d").await.expect("get again");
    c.delete("/d", None).await.expect("delete");
    let ev = fired(w).await;
    is(&ev, EventType::NodeDeleted, "/d");
    assert!(ev.zxid == -1 || ev.zxid > set.mzxid, "{ev:?}");
    assert_eq!(fired(w2).await, ev);
    // A watch is only set when the read succeeds.
    assert_eq!(
        c.get_data_and_watch("/d").await.map(|_| ()),
        Err(zk_client::Error::NoNode)
    );
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn exists_watch_on_missing_and_existing_nodes() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let (stat, w) = c.exists_and_watch("/x").await.expect("exists");
    assert_eq!(stat, None);
    let (_, created) = c
        .create("/x", b"", &CreateOptions::persistent())
        .await
        .expect("create");
    let ev = fired(w).await;
    is(&ev, EventType::NodeCreated, "/x");
    zxid_is(&env, &ev, created.czxid).await;

    let (stat, w) = c.exists_and_watch("/x").await.expect("exists");
    assert_eq!(stat, Some(created));
    let set = c.set_data("/x", b"v", None).await.expect("set");
    let ev = fired(w).await;
    is(&ev, EventType::NodeDataChanged, "/x");
    zxid_is(&env, &ev, set.mzxid).await;

    let (_, w) = c.exists_and_watch("/x").await.expect("exists");
    c.delete("/x", None).await.expect("delete");
    is(&fired(w).await, EventType::NodeDeleted, "/x");
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn child_watch_fires_on_children_and_delete() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let p = CreateOptions::persistent();
    c.create("/c", b"", &p).await.expect("create");
    let (kids, _, w) = c.get_children_and_watch("/c").await.expect("children");
    assert!(kids.is_empty());
    // Data changes do not fire a child watch; the child's creation does.
    c.set_data("/c", b"data", None).await.expect("set");
    let (_, child) = c.create("/c/k", b"", &p).await.expect("child");
    let ev = fired(w).await;
    is(&ev, EventType::NodeChildrenChanged, "/c");
    zxid_is(&env, &ev, child.czxid).await;

    let (kids, _, w) = c.get_children_and_watch("/c").await.expect("children");
    assert_eq!(kids, ["k"]);
    c.delete("/c/k", None).await.expect("delete child");
    is(&fired(w).await, EventType::NodeChildrenChanged, "/c");

    let (_, _, w) = c.get_children_and_watch("/c").await.expect("children");
    c.delete("/c", None).await.expect("delete");
    is(&fired(w).await, EventType::NodeDeleted, "/c");
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn persistent_watch_fires_repeatedly() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let p = CreateOptions::persistent();
    let mut w = c
        .add_watch("/p", AddWatchMode::Persistent)
        .await
        .expect("add_watch on a missing node");
    let (_, created) = c.create("/p", b"", &p).await.expect("create");
    let ev = next(&mut w).await;
    is(&ev, EventType::NodeCreated, "/p");
    zxid_is(&env, &ev, created.czxid).await;
    for i in 0..3 {
        let stat = c.set_data("/p", b"v", None).await.expect("set");
        let ev = next(&mut w).await;
        is(&ev, EventType::NodeDataChanged, "/p");
        zxid_is(&env, &ev, stat.mzxid).await;
        c.create(&format!("/p/k{i}"), b"", &p).await.expect("child");
        is(&next(&mut w).await, EventType::NodeChildrenChanged, "/p");
        // Grandchildren are not this watch's business.
        c.create(&format!("/p/k{i}/g"), b"", &p)
            .await
            .expect("grandchild");
        c.set_data(&format!("/p/k{i}"), b"x", None)
            .await
            .expect("set child");
    }
    for i in 0..3 {
        c.delete(&format!("/p/k{i}/g"), None).await.expect("del");
        c.delete(&format!("/p/k{i}"), None).await.expect("del");
        is(&next(&mut w).await, EventType::NodeChildrenChanged, "/p");
    }
    c.delete("/p", None).await.expect("delete");
    is(&next(&mut w).await, EventType::NodeDeleted, "/p");
    c.create("/p", b"", &p).await.expect("again");
    is(&next(&mut w).await, EventType::NodeCreated, "/p");
    c.close().await;
    // The stream ends after the session does, with a None event.
    let last = next(&mut w).await;
    assert_eq!(
        (last.event_type, last.state),
        (EventType::None, KeeperState::Closed)
    );
    assert_eq!(within("stream end", w.next()).await, None);
    env.stop().await;
}

#[tokio::test]
async fn persistent_recursive_watch_sees_the_subtree() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let p = CreateOptions::persistent();
    c.create("/r", b"", &p).await.expect("create");
    let mut w = c
        .add_watch("/r", AddWatchMode::PersistentRecursive)
        .await
        .expect("add_watch");
    c.create("/r/a", b"", &p).await.expect("a");
    c.create("/r/a/b", b"", &p).await.expect("b");
    c.set_data("/r/a/b", b"1", None).await.expect("set b");
    c.set_data("/r", b"1", None).await.expect("set r");
    c.delete("/r/a/b", None).await.expect("del b");
    c.create("/r/a/e", b"", &CreateOptions::ephemeral())
        .await
        .expect("e");
    c.create("/outside", b"", &p).await.expect("outside");
    c.set_data("/outside", b"", None).await.expect("outside");
    c.create("/r/end", b"", &p).await.expect("marker");
    let mut seen = Vec::new();
    loop {
        let ev = next(&mut w).await;
        assert_eq!(ev.state, KeeperState::SyncConnected);
        let end = ev.path == "/r/end";
        seen.push((ev.event_type, ev.path));
        if end {
            break;
        }
    }
    let want = [
        (EventType::NodeCreated, "/r/a"),
        (EventType::NodeCreated, "/r/a/b"),
        (EventType::NodeDataChanged, "/r/a/b"),
        (EventType::NodeDataChanged, "/r"),
        (EventType::NodeDeleted, "/r/a/b"),
        (EventType::NodeCreated, "/r/a/e"),
        (EventType::NodeCreated, "/r/end"),
    ];
    let want: Vec<_> = want.iter().map(|(t, p)| (*t, p.to_string())).collect();
    // Never NodeChildrenChanged, nothing from outside the subtree.
    assert_eq!(seen, want);

    // A one-shot watch on the same path works next to it.
    let (_, _, once) = c.get_children_and_watch("/r").await.expect("children");
    c.delete("/r/end", None).await.expect("delete");
    is(&fired(once).await, EventType::NodeChildrenChanged, "/r");
    is(&next(&mut w).await, EventType::NodeDeleted, "/r/end");
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn recursive_watch_on_the_root() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let mut w = c
        .add_watch("/", AddWatchMode::PersistentRecursive)
        .await
        .expect("add_watch");
    c.create("/top", b"", &CreateOptions::persistent())
        .await
        .expect("create");
    is(&next(&mut w).await, EventType::NodeCreated, "/top");
    c.set_data("/", b"root", None).await.expect("set root");
    is(&next(&mut w).await, EventType::NodeDataChanged, "/");
    c.close().await;
    env.stop().await;
}
