//! Session expiry: the proxy is cut for longer than the session timeout,
//! then restored. The client hears Expired once, calls fail with
//! SessionExpired, watchers get a None event with KeeperState::Expired, and
//! the ephemerals are gone.

mod common;

use std::time::Duration;

use common::{TestEnv, eventually, wait_state, within};
use futures::StreamExt;
use zk_client::{AddWatchMode, Client, CreateOptions, Error, EventType, KeeperState, SessionState};

/// A client through the proxy with the shortest session the server allows
/// (ours: 400 ms; Apache: two ticks, 4 s by default).
async fn short_session(env: &TestEnv, proxy: &common::Proxy) -> Client {
    let connect = env
        .proxied(proxy)
        .session_timeout(Duration::from_millis(1000))
        .connect();
    within("connect", connect).await.expect("connect")
}

#[tokio::test]
async fn expiry_is_reported_once_and_ends_everything() {
    let env = TestEnv::new().await;
    let observer = env.client().await;
    let proxy = env.proxy().await;
    let c = short_session(&env, &proxy).await;
    c.create("/eph", b"", &CreateOptions::ephemeral())
        .await
        .expect("ephemeral");
    c.create("/data", b"", &CreateOptions::persistent())
        .await
        .expect("persistent");
    let (_, _, once) = c.get_data_and_watch("/data").await.expect("watch");
    let (_, exist) = c.exists_and_watch("/nothing").await.expect("watch");
    let mut persistent = c
        .add_watch("/", AddWatchMode::PersistentRecursive)
        .await
        .expect("add_watch");
    let mut states = Box::pin(c.state_stream());
    assert_eq!(states.next().await, Some(SessionState::Connected));

    proxy.cut();
    wait_state(&c, SessionState::Disconnected).await;
    // Issued while disconnected: waits for a connection that never comes
    // back for this session.
    let pending = c.set_data("/data", b"late", None);
    eventually("the server to expire the session", || async {
        observer.exists("/eph").await == Ok(None)
    })
    .await;
    proxy.restore();

    let mut seen = Vec::new();
    while let Some(s) = within("a state", states.next()).await {
        seen.push(s);
    }
    // Reconnect attempts may show Connecting; Expired comes once, last.
    seen.retain(|s| *s != SessionState::Connecting);
    assert_eq!(
        seen,
        [SessionState::Disconnected, SessionState::Expired],
        "{seen:?}"
    );
    assert_eq!(c.state(), SessionState::Expired);
    assert_eq!(within("pending", pending).await, Err(Error::SessionExpired));
    assert_eq!(
        c.get_data("/data").await.map(drop),
        Err(Error::SessionExpired)
    );
    assert_eq!(
        c.create("/x", b"", &CreateOptions::persistent()).await,
        Err(Error::SessionExpired)
    );
    for w in [once, exist] {
        let ev = within("expired event", w).await;
        assert_eq!(
            (ev.event_type, ev.state),
            (EventType::None, KeeperState::Expired)
        );
    }
    let ev = within("expired event", persistent.next())
        .await
        .expect("event");
    assert_eq!(
        (ev.event_type, ev.state),
        (EventType::None, KeeperState::Expired)
    );
    assert_eq!(within("stream end", persistent.next()).await, None);
    // The write issued during the cut never happened.
    assert_eq!(observer.get_data("/data").await.expect("get").0, b"");
    // close() on an expired client returns at once and changes nothing.
    within("close", c.close()).await;
    assert_eq!(c.state(), SessionState::Expired);
    observer.close().await;
    env.stop().await;
}

#[tokio::test]
async fn a_new_client_after_expiry() {
    let env = TestEnv::new().await;
    env.ensure_root().await;
    let proxy = env.proxy().await;
    let c = short_session(&env, &proxy).await;
    let old = c.session().id;
    c.create("/e", b"", &CreateOptions::ephemeral())
        .await
        .expect("ephemeral");
    proxy.cut();
    wait_state(&c, SessionState::Disconnected).await;
    let observer = env.client().await;
    eventually("the server to expire the session", || async {
        observer.exists("/e").await == Ok(None)
    })
    .await;
    proxy.restore();
    wait_state(&c, SessionState::Expired).await;
    // The usual recovery: a new client, a new session, the ephemeral again.
    let fresh = short_session(&env, &proxy).await;
    assert_ne!(fresh.session().id, old);
    let (_, stat) = fresh
        .create("/e", b"", &CreateOptions::ephemeral())
        .await
        .expect("ephemeral again");
    assert_eq!(stat.ephemeral_owner, fresh.session().id);
    fresh.close().await;
    observer.close().await;
    c.close().await;
    env.stop().await;
}
