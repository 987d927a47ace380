//! removeWatches (NoWatcher when there is none; local watchers hear a
//! `*WatchRemoved` event) and dropping persistent watchers.

mod common;

use common::{TestEnv, eventually, within};
use zk_client::{AddWatchMode, CreateOptions, Error, EventType, WatcherType};

#[tokio::test]
async fn remove_watches_of_each_type() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let p = CreateOptions::persistent();
    c.create("/w", b"", &p).await.expect("create");
    for t in [WatcherType::Data, WatcherType::Children, WatcherType::Any] {
        assert_eq!(
            c.remove_watches("/w", t).await,
            Err(Error::NoWatcher),
            "{t:?}"
        );
    }
    assert_eq!(
        c.remove_watches("/missing", WatcherType::Any).await,
        Err(Error::NoWatcher)
    );

    let (_, _, data) = c.get_data_and_watch("/w").await.expect("get");
    let (_, exist) = c.exists_and_watch("/none").await.expect("exists");
    let (_, _, child) = c.get_children_and_watch("/w").await.expect("children");
    c.remove_watches("/w", WatcherType::Data)
        .await
        .expect("remove data");
    let ev = within("removal event", data).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::DataWatchRemoved, "/w")
    );
    // The child watch is still there, on both sides.
    assert_eq!(
        c.remove_watches("/w", WatcherType::Data).await,
        Err(Error::NoWatcher)
    );
    c.remove_watches("/none", WatcherType::Data)
        .await
        .expect("remove exist watch");
    let ev = within("removal event", exist).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::DataWatchRemoved, "/none")
    );
    c.remove_watches("/w", WatcherType::Children)
        .await
        .expect("remove child");
    let ev = within("removal event", child).await;
    assert_eq!(ev.event_type, EventType::ChildWatchRemoved);

    // Any removes both kinds.
    let (_, _, data) = c.get_data_and_watch("/w").await.expect("get");
    let (_, _, child) = c.get_children_and_watch("/w").await.expect("children");
    c.remove_watches("/w", WatcherType::Any)
        .await
        .expect("remove any");
    assert_eq!(
        within("data", data).await.event_type,
        EventType::DataWatchRemoved
    );
    assert_eq!(
        within("child", child).await.event_type,
        EventType::ChildWatchRemoved
    );
    if let Some(paths) = env.watches_of(c.session().id).await {
        assert!(paths.is_empty(), "{paths:?}");
    }
    c.close().await;
    env.stop().await;
}

/// Removing persistent watches one type at a time came with 3.9
/// (ZOOKEEPER-4472); a 3.8 server answers MarshallingError and only removes
/// them with `Any`.
#[tokio::test]
async fn remove_persistent_watches() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let mut w = c
        .add_watch("/pw", AddWatchMode::Persistent)
        .await
        .expect("add_watch");
    let mut r = c
        .add_watch("/pw", AddWatchMode::PersistentRecursive)
        .await
        .expect("add_watch recursive");
    if env.is_3_9().await {
        c.remove_watches("/pw", WatcherType::Persistent)
            .await
            .expect("remove persistent");
        let ev = within("removal", w.next()).await.expect("event");
        assert_eq!(
            (ev.event_type, ev.path.as_str()),
            (EventType::PersistentWatchRemoved, "/pw")
        );
        assert_eq!(within("end", w.next()).await, None, "stream over");
        // The recursive one is still there.
        c.create("/pw", b"", &CreateOptions::persistent())
            .await
            .expect("create");
        let ev = within("event", r.next()).await.expect("event");
        assert_eq!(ev.event_type, EventType::NodeCreated);
        c.remove_watches("/pw", WatcherType::PersistentRecursive)
            .await
            .expect("remove recursive");
    } else {
        assert_eq!(
            c.remove_watches("/pw", WatcherType::Persistent).await,
            Err(Error::MarshallingError)
        );
        c.remove_watches("/pw", WatcherType::Any)
            .await
            .expect("remove any");
        let ev = within("removal", w.next()).await.expect("event");
        assert_eq!(ev.event_type, EventType::PersistentWatchRemoved);
    }
    let ev = within("removal", r.next()).await.expect("event");
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::PersistentWatchRemoved, "/pw")
    );
    assert_eq!(within("end", r.next()).await, None, "stream over");
    assert_eq!(
        c.remove_watches("/pw", WatcherType::Any).await,
        Err(Error::NoWatcher)
    );
    c.close().await;
    env.stop().await;
}

/// Dropping a persistent watcher removes the server's watch once no other
/// watcher of that kind on that path is left. Checked with `wchc`, where the
/// server answers it.
#[tokio::test]
async fn dropping_a_persistent_watcher_removes_the_server_watch() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let sid = c.session().id;
    let server_path = format!("{}/dw", env.root);
    let watched = || async { env.watches_of(sid).await.map(|p| p.contains(&server_path)) };
    if watched().await.is_none() {
        eprintln!("skipped: the server does not answer wchc");
        c.close().await;
        env.stop().await;
        return;
    }
    let first = c
        .add_watch("/dw", AddWatchMode::Persistent)
        .await
        .expect("add_watch");
    let mut second = c
        .add_watch("/dw", AddWatchMode::Persistent)
        .await
        .expect("add_watch");
    assert_eq!(watched().await, Some(true));
    drop(first);
    // The other watcher keeps the server's watch and still hears events.
    c.create("/dw", b"", &CreateOptions::persistent())
        .await
        .expect("create");
    let ev = within("event", second.next()).await.expect("event");
    assert_eq!(ev.event_type, EventType::NodeCreated);
    assert_eq!(watched().await, Some(true));
    drop(second);
    if env.is_3_9().await {
        eventually("the server watch to go", || async {
            watched().await == Some(false)
        })
        .await;
    } else {
        // 3.8 cannot remove a persistent watch by type (MarshallingError):
        // it stays until removed with Any, which the client does not do on
        // its own (it would take one-shot watches on the path with it).
        c.sync("/").await.expect("round trip");
        assert_eq!(watched().await, Some(true));
        c.remove_watches("/dw", WatcherType::Any)
            .await
            .expect("remove any");
        assert_eq!(watched().await, Some(false));
    }
    // Events for the path no longer reach anyone, and nothing breaks.
    c.set_data("/dw", b"x", None).await.expect("set");
    c.close().await;
    env.stop().await;
}
