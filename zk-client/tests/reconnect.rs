//! Reconnects keep the session: the proxy is cut for less than the session
//! timeout. Calls made during the cut go out after the reconnect, calls in
//! flight fail with ConnectionLoss, watches are re-armed with setWatches2,
//! ephemerals survive.

mod common;

use common::{Proxy, TestEnv, wait_state, within};
use zk_client::{AddWatchMode, Client, CreateOptions, Error, EventType, SessionState};

async fn through(env: &TestEnv, proxy: &Proxy) -> Client {
    env.ensure_root().await;
    within("connect", env.proxied(proxy).connect())
        .await
        .expect("connect")
}

/// Cuts the proxy, waits until the client noticed, runs `during`, restores.
async fn blip<F: Future<Output = ()>>(proxy: &Proxy, c: &Client, during: F) {
    proxy.cut();
    wait_state(c, SessionState::Disconnected).await;
    during.await;
    proxy.restore();
}

#[tokio::test]
async fn calls_during_a_cut_go_out_after_the_reconnect() {
    let env = TestEnv::new().await;
    let proxy = env.proxy().await;
    let c = through(&env, &proxy).await;
    let observer = env.client().await;
    let session = c.session().id;
    c.create("/eph", b"", &CreateOptions::ephemeral())
        .await
        .expect("ephemeral");
    c.create("/n", b"", &CreateOptions::persistent())
        .await
        .expect("create");

    proxy.cut();
    wait_state(&c, SessionState::Disconnected).await;
    let sets: Vec<_> = (0..3)
        .map(|i| c.set_data("/n", format!("{i}").as_bytes(), Some(i)))
        .collect();
    let create = c.create("/n/during", b"", &CreateOptions::persistent());
    let get = c.get_data("/n");
    // Nothing reached the server yet.
    assert_eq!(observer.get_data("/n").await.expect("get").1.version, 0);
    proxy.restore();

    for (i, set) in sets.into_iter().enumerate() {
        let stat = within("set", set).await.expect("set after reconnect");
        assert_eq!(stat.version, i as i32 + 1);
    }
    within("create", create).await.expect("create");
    let (data, stat) = within("get", get).await.expect("get");
    assert_eq!((data.as_slice(), stat.version), (&b"2"[..], 3));
    assert_eq!(c.state(), SessionState::Connected);
    assert_eq!(c.session().id, session);
    // The ephemeral survived the reconnect.
    let (_, stat) = observer.get_data("/eph").await.expect("ephemeral");
    assert_eq!(stat.ephemeral_owner, session);
    c.close().await;
    observer.close().await;
    env.stop().await;
}

#[tokio::test]
async fn calls_in_flight_fail_with_connection_loss() {
    let env = TestEnv::new().await;
    let proxy = env.proxy().await;
    let c = through(&env, &proxy).await;
    c.create("/n", b"", &CreateOptions::persistent())
        .await
        .expect("create");
    // Frozen: the requests leave the client but get no answer.
    proxy.freeze();
    let set = c.set_data("/n", b"lost", None);
    let get = c.get_data("/n");
    let add = c.add_auth("digest", b"u:p");
    proxy.cut();
    assert_eq!(within("set", set).await, Err(Error::ConnectionLoss));
    assert_eq!(
        within("get", get).await.map(drop),
        Err(Error::ConnectionLoss)
    );
    assert_eq!(within("auth", add).await, Err(Error::ConnectionLoss));
    assert!(Error::ConnectionLoss.is_retryable());
    proxy.restore();
    wait_state(&c, SessionState::Connected).await;
    // The frozen bytes were dropped with the connection: nothing happened.
    let (data, stat) = c.get_data("/n").await.expect("get");
    assert_eq!((data.as_slice(), stat.version), (&b""[..], 0));
    // An auth that failed with ConnectionLoss is not replayed.
    assert!(
        !c.whoami()
            .await
            .expect("whoami")
            .iter()
            .any(|i| i.auth_scheme == "digest")
    );
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn a_silent_server_is_left_and_found_again() {
    let env = TestEnv::new().await;
    let proxy = env.proxy().await;
    let c = through(&env, &proxy).await;
    let session = c.session().id;
    // No bytes either way: the pings go unanswered until the client gives
    // up on the connection (two thirds of the session timeout).
    proxy.freeze();
    let get = c.exists("/");
    wait_state(&c, SessionState::Disconnected).await;
    assert_eq!(
        within("exists", get).await.map(drop),
        Err(Error::ConnectionLoss)
    );
    proxy.restore();
    wait_state(&c, SessionState::Connected).await;
    assert_eq!(c.session().id, session);
    assert!(c.exists("/").await.expect("exists").is_some());
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn watches_are_rearmed_after_a_reconnect() {
    let env = TestEnv::new().await;
    let proxy = env.proxy().await;
    let c = through(&env, &proxy).await;
    let other = env.client().await;
    let p = CreateOptions::persistent();
    for path in ["/d", "/c", "/p", "/r", "/quiet", "/gone"] {
        c.create(path, b"", &p).await.expect("create");
    }
    // Credentials too: Apache answers the replayed auth ahead of the
    // setWatches2 sent before it.
    c.add_auth("digest", b"alice:secret").await.expect("auth");
    let (_, _, data) = c.get_data_and_watch("/d").await.expect("data watch");
    let (_, exist) = c.exists_and_watch("/new").await.expect("exist watch");
    let (_, _, child) = c.get_children_and_watch("/c").await.expect("child");
    let (_, _, gone) = c.get_data_and_watch("/gone").await.expect("watch");
    let (_, _, quiet) = c.get_data_and_watch("/quiet").await.expect("watch");
    let mut persistent = c
        .add_watch("/p", AddWatchMode::Persistent)
        .await
        .expect("persistent");
    let mut recursive = c
        .add_watch("/r", AddWatchMode::PersistentRecursive)
        .await
        .expect("recursive");

    blip(&proxy, &c, async {
        // Changes the client cannot hear about now.
        other.set_data("/d", b"1", None).await.expect("set");
        other.create("/new", b"", &p).await.expect("create");
        other.create("/c/k", b"", &p).await.expect("child");
        other.delete("/gone", None).await.expect("delete");
        other.set_data("/p", b"1", None).await.expect("set p");
    })
    .await;

    // One-shot watches fire for what they missed (setWatches2 compares
    // with the last zxid the client saw).
    let ev = within("data", data).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDataChanged, "/d")
    );
    let ev = within("exist", exist).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeCreated, "/new")
    );
    let ev = within("child", child).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeChildrenChanged, "/c")
    );
    let ev = within("gone", gone).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDeleted, "/gone")
    );
    wait_state(&c, SessionState::Connected).await;
    assert!(
        c.whoami()
            .await
            .expect("whoami")
            .iter()
            .any(|i| i.user == "alice"),
        "auth replayed"
    );

    // Unchanged nodes keep their watch, which fires on the next change.
    other.set_data("/quiet", b"now", None).await.expect("set");
    let ev = within("quiet", quiet).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDataChanged, "/quiet")
    );
    // Persistent watches are re-added as they were; a change during the
    // disconnect is not replayed (servers re-add them without comparing
    // zxids), changes after it arrive.
    other.set_data("/p", b"2", None).await.expect("set p");
    let ev = within("persistent", persistent.next())
        .await
        .expect("event");
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDataChanged, "/p")
    );
    other.create("/r/x", b"", &p).await.expect("create under r");
    let ev = within("recursive", recursive.next()).await.expect("event");
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeCreated, "/r/x")
    );

    // A second disconnect re-arms them again.
    blip(&proxy, &c, async {}).await;
    wait_state(&c, SessionState::Connected).await;
    c.sync("/").await.expect("sync");
    other.set_data("/p", b"3", None).await.expect("set p");
    other.set_data("/r/x", b"1", None).await.expect("set r/x");
    let ev = within("persistent", persistent.next())
        .await
        .expect("event");
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDataChanged, "/p")
    );
    let ev = within("recursive", recursive.next()).await.expect("event");
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDataChanged, "/r/x")
    );
    c.close().await;
    other.close().await;
    env.stop().await;
}

#[tokio::test]
async fn dropped_watchers_are_not_rearmed() {
    let env = TestEnv::new().await;
    let proxy = env.proxy().await;
    let c = through(&env, &proxy).await;
    let p = CreateOptions::persistent();
    c.create("/a", b"", &p).await.expect("create");
    let (_, _, w) = c.get_data_and_watch("/a").await.expect("watch");
    let pw = c
        .add_watch("/a", AddWatchMode::Persistent)
        .await
        .expect("persistent");
    let sid = c.session().id;
    let server_path = format!("{}/a", env.root);
    blip(&proxy, &c, async {
        drop(w);
        drop(pw);
    })
    .await;
    wait_state(&c, SessionState::Connected).await;
    c.sync("/").await.expect("sync");
    if let Some(paths) = env.watches_of(sid).await {
        assert!(!paths.contains(&server_path), "{paths:?}");
    }
    // A change fires nothing and breaks nothing.
    c.set_data("/a", b"x", None).await.expect("set");
    assert_eq!(
        c.remove_watches("/a", zk_client::WatcherType::Any).await,
        Err(Error::NoWatcher)
    );
    c.close().await;
    env.stop().await;
}
