//! Sessions: what `session()` reports, the state stream, close, resuming a
//! session, connect timeouts and connect strings with dead hosts.

mod common;

use std::time::Duration;

use common::{SESSION_TIMEOUT, TestEnv, eventually, wait_state, within};
use futures::StreamExt;
use zk_client::{Client, CreateOptions, Error, SessionState};

#[tokio::test]
async fn session_info_and_negotiated_timeout() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let info = c.session();
    assert_ne!(info.id, 0);
    assert_eq!(info.password.len(), 16);
    // The server clamps the timeout into [2, 20] ticks: ours has 200 ms
    // ticks, so 6 s becomes 4 s; Apache's default 2 s ticks keep it.
    if env.is_ours() {
        assert_eq!(info.timeout, Duration::from_secs(4));
    } else {
        assert!(info.timeout <= SESSION_TIMEOUT, "{info:?}");
    }
    assert_eq!(c.state(), SessionState::Connected);
    let short = within(
        "connect",
        env.builder()
            .session_timeout(Duration::from_millis(1))
            .connect(),
    )
    .await
    .expect("connect");
    let min = short.session().timeout;
    if env.is_ours() {
        assert_eq!(min, Duration::from_millis(400));
    } else {
        assert!(min >= Duration::from_millis(2), "{min:?}");
    }
    assert_ne!(short.session().id, info.id);
    short.close().await;
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn state_stream_through_a_cut_and_close() {
    let env = TestEnv::new().await;
    env.ensure_root().await;
    let proxy = env.proxy().await;
    let c = within("connect", env.proxied(&proxy).connect())
        .await
        .expect("connect");
    let id = c.session().id;
    let mut states = Box::pin(c.state_stream());
    let mut next = async || within("a state", states.next()).await;
    assert_eq!(next().await, Some(SessionState::Connected));
    proxy.cut();
    assert_eq!(next().await, Some(SessionState::Disconnected));
    proxy.restore();
    // Reconnecting may pass through Connecting.
    let mut s = next().await;
    if s == Some(SessionState::Connecting) {
        s = next().await;
    }
    assert_eq!(s, Some(SessionState::Connected));
    assert_eq!(c.session().id, id, "the session survived");
    c.close().await;
    assert_eq!(next().await, Some(SessionState::Closed));
    assert_eq!(next().await, None, "the stream ends after a terminal state");
    assert_eq!(c.state(), SessionState::Closed);
}

#[tokio::test]
async fn close_ends_the_session() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let other = env.client().await;
    c.create("/eph", b"", &CreateOptions::ephemeral())
        .await
        .expect("ephemeral");
    // `other` may be on another member of an ensemble: it catches up
    // first, or its watch could be one for the node's creation.
    other.sync("/eph").await.expect("sync");
    let (_, w) = other.exists_and_watch("/eph").await.expect("exists");
    // (A watch on the ephemeral itself would fire NodeDeleted: the server
    // deletes it before it answers the close.)
    let (_, _, mine) = c.get_data_and_watch("/").await.expect("watch");
    c.close().await;
    assert_eq!(c.state(), SessionState::Closed);
    // The ephemeral went with the session. (`other` may be on another
    // member of an ensemble, which applies the close a moment later: its
    // watch event comes first.)
    let ev = within("deleted", w).await;
    assert_eq!(ev.event_type, zk_client::EventType::NodeDeleted);
    assert_eq!(other.exists("/eph").await, Ok(None));
    // The closed client's own watchers hear that it is over.
    let ev = within("closed", mine).await;
    assert_eq!(
        (ev.event_type, ev.state),
        (zk_client::EventType::None, zk_client::KeeperState::Closed)
    );
    assert_eq!(c.exists("/").await, Err(Error::Closed));
    assert_eq!(
        c.create("/x", b"", &CreateOptions::persistent()).await,
        Err(Error::Closed)
    );
    assert_eq!(c.clone().get_data("/").await.map(drop), Err(Error::Closed));
    c.close().await; // again: fine
    other.close().await;
    env.stop().await;
}

#[tokio::test]
async fn dropping_every_handle_closes_the_session() {
    let env = TestEnv::new().await;
    let other = env.client().await;
    let c = env.client().await;
    c.create("/gone", b"", &CreateOptions::ephemeral())
        .await
        .expect("ephemeral");
    let clone = c.clone();
    drop(c);
    assert!(other.exists("/gone").await.expect("exists").is_some());
    drop(clone);
    eventually("the ephemeral to go", || async {
        other.exists("/gone").await == Ok(None)
    })
    .await;
    other.close().await;
    env.stop().await;
}

#[tokio::test]
async fn resume_a_session_by_id_and_password() {
    let env = TestEnv::new().await;
    env.ensure_root().await;
    // The first handle goes through a proxy, cut before the session is
    // resumed elsewhere: two live handles of one session would take it from
    // each other at every reconnect.
    let proxy = env.proxy().await;
    let c = within("connect", env.proxied(&proxy).connect())
        .await
        .expect("connect");
    c.create("/mine", b"", &CreateOptions::ephemeral())
        .await
        .expect("ephemeral");
    let info = c.session();
    proxy.cut();
    wait_state(&c, SessionState::Disconnected).await;
    // A wrong password does not get the session. (Apache drops the
    // session's current connection even so: try it while there is none.)
    let mut wrong = info.password.to_vec();
    wrong[0] ^= 0xff;
    let err = within("resume", env.builder().session(info.id, &wrong).connect()).await;
    assert_eq!(err.map(drop), Err(Error::SessionExpired));
    let resumed = within(
        "resume",
        env.builder().session(info.id, &info.password).connect(),
    )
    .await
    .expect("resume");
    assert_eq!(resumed.session().id, info.id);
    assert_eq!(resumed.session().password, info.password);
    let (_, stat) = resumed.get_data("/mine").await.expect("get");
    assert_eq!(stat.ephemeral_owner, info.id);
    resumed.close().await;
    let other = env.client().await;
    assert_eq!(other.exists("/mine").await, Ok(None));
    // The first handle has lost its session: it ends up Expired.
    proxy.restore();
    wait_state(&c, SessionState::Expired).await;
    assert_eq!(c.exists("/").await, Err(Error::SessionExpired));
    c.close().await;
    other.close().await;
    env.stop().await;
}

#[tokio::test]
async fn connect_timeout_when_nobody_listens() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let connect = Client::builder(&format!("127.0.0.1:{port}"))
        .expect("connect string")
        .connect_timeout(Duration::from_millis(800))
        .connect();
    assert_eq!(
        within("ConnectTimeout", connect).await.map(drop),
        Err(Error::ConnectTimeout)
    );

    // A server that accepts and hangs up is no better.
    let env = TestEnv::new().await;
    let proxy = env.proxy().await;
    proxy.cut();
    let connect = Client::builder(&proxy.addr().to_string())
        .expect("connect string")
        .connect_timeout(Duration::from_millis(800))
        .connect();
    assert_eq!(
        within("ConnectTimeout", connect).await.map(drop),
        Err(Error::ConnectTimeout)
    );
    env.stop().await;
}

#[tokio::test]
async fn hosts_that_do_not_resolve_fail_at_once() {
    // `.invalid` never resolves (RFC 2606). A long connect timeout shows
    // the failure does not wait for it.
    let started = std::time::Instant::now();
    let connect = Client::builder("no-such-host.invalid:2181,also-not.invalid:2182")
        .expect("connect string")
        .connect_timeout(Duration::from_secs(60))
        .connect();
    let err = within("UnknownHost", connect).await.expect_err("no host");
    let Error::UnknownHost(text) = &err else {
        panic!("{err:?}");
    };
    assert!(text.contains("no-such-host.invalid:2181"), "{text}");
    assert!(text.contains("also-not.invalid:2182"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(30), "{err}");

    // One name that resolves is enough.
    let env = TestEnv::new().await;
    env.ensure_root().await;
    let connect = Client::builder(&format!(
        "no-such-host.invalid:2181,{}{}",
        env.first_server(),
        env.root
    ))
    .expect("connect string")
    .connect();
    let c = within("connect", connect).await.expect("connect");
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn dead_host_first_then_a_live_one() {
    let env = TestEnv::new().await;
    env.ensure_root().await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    // The hosts are shuffled: a few clients try both orders.
    for _ in 0..4 {
        let connect = Client::builder(&format!(
            "127.0.0.1:{dead},{}{}",
            env.first_server(),
            env.root
        ))
        .expect("connect string")
        .connect_timeout(Duration::from_secs(10))
        .connect();
        let c = within("connect", connect).await.expect("connect");
        assert!(c.exists("/").await.expect("exists").is_some());
        c.close().await;
    }
    env.stop().await;
}
