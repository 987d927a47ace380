//! Configuration pub/sub: a typed value published by one session and
//! followed by another; updates stream; a value that does not decode is
//! ignored (the last good one stays).

mod common;

use common::{TestEnv, eventually, within};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use zk_recipes::{ConfigPublisher, ConfigSubscriber};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Limits {
    max_conns: u32,
    name: String,
}

fn limits(max_conns: u32) -> Limits {
    Limits {
        max_conns,
        name: format!("l{max_conns}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_and_follow() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let publisher = ConfigPublisher::<Limits>::new(&fws[0], "/config/app/limits");

    // A subscriber that starts before anything is published sees None.
    let early = within(
        "subscriber start",
        ConfigSubscriber::<Limits>::start(&fws[1], "/config/app/limits"),
    )
    .await;
    assert_eq!(early.current(), None);
    let mut updates = Box::pin(early.updates());

    // Parents are created as needed.
    let stat = publisher.publish(&limits(10)).await.expect("publish");
    assert_eq!(stat.version, 0);
    assert_eq!(
        within("first update", updates.next()).await,
        Some(Some(limits(10)))
    );
    let late = within(
        "subscriber start",
        ConfigSubscriber::<Limits>::start(&fws[1], "/config/app/limits"),
    )
    .await;
    assert_eq!(late.current(), Some(limits(10)));

    // The stored bytes are plain JSON.
    let raw = fws[0].client();
    let (data, _) = raw.get_data("/config/app/limits").await.expect("get");
    let json: serde_json::Value = serde_json::from_slice(&data).expect("json");
    assert_eq!(json, serde_json::json!({"max_conns": 10, "name": "l10"}));

    publisher.publish(&limits(20)).await.expect("publish");
    assert_eq!(
        within("second update", updates.next()).await,
        Some(Some(limits(20)))
    );
    let mut watch = late.watch();
    within("watch channel", watch.wait_for(|v| *v == Some(limits(20))))
        .await
        .expect("subscriber alive");

    // Compare-and-set: a stale version is refused.
    let (_, stat) = raw.get_data("/config/app/limits").await.expect("get");
    let err = publisher
        .publish_if(&limits(99), stat.version - 1)
        .await
        .expect_err("stale version");
    assert!(
        matches!(err, zk_recipes::Error::Zk(zk_client::Error::BadVersion)),
        "{err}"
    );
    publisher
        .publish_if(&limits(30), stat.version)
        .await
        .expect("current version");
    eventually("cas value", || async { late.current() == Some(limits(30)) }).await;

    // Garbage is ignored: the last good value stays.
    raw.set_data("/config/app/limits", b"{not json", None)
        .await
        .expect("set");
    raw.set_data("/config/app/limits", br#"{"max_conns":"many"}"#, None)
        .await
        .expect("set");
    // A raw cache of the node on the subscribers' session shows when the
    // garbage has arrived there.
    let probe = zk_recipes::NodeCache::start(&fws[1], "/config/app/limits");
    eventually("the bad data reached the subscribers' session", || async {
        probe
            .current()
            .is_some_and(|n| n.data.starts_with(br#"{"max_conns":"many"#))
    })
    .await;
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(late.current(), Some(limits(30)));
    assert_eq!(early.current(), Some(limits(30)));

    // And a good value after it is taken.
    publisher.publish(&limits(40)).await.expect("publish");
    eventually("good value after garbage", || async {
        late.current() == Some(limits(40)) && early.current() == Some(limits(40))
    })
    .await;
    let mut rest = Vec::new();
    while let Ok(Some(v)) =
        tokio::time::timeout(std::time::Duration::from_millis(50), updates.next()).await
    {
        rest.push(v);
    }
    assert!(
        rest.iter().all(Option::is_some),
        "no None for a bad value: {rest:?}"
    );
    assert_eq!(rest.last(), Some(&Some(limits(40))), "{rest:?}");

    // Deleting the node makes it None.
    raw.delete("/config/app/limits", None)
        .await
        .expect("delete");
    eventually("deleted", || async { late.current().is_none() }).await;
    for sub in [&early, &late] {
        sub.close();
    }
    probe.close();
    env.finish(&fws).await;
}
