mod common;

use zk_client::{AddWatchMode, CreateMode, CreateOptions, EventType};

#[tokio::test]
async fn basic_ops_and_watches() {
    let env = common::TestEnv::new().await;
    let c = env.client().await;
    let (path, stat) = c
        .create("/a", b"one", &CreateOptions::persistent())
        .await
        .expect("create");
    assert_eq!(path, "/a");
    assert_eq!(stat.version, 0);
    let (data, stat, w) = c.get_data_and_watch("/a").await.expect("get");
    assert_eq!(data, b"one");
    c.set_data("/a", b"two", Some(stat.version))
        .await
        .expect("set");
    let ev = w.await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDataChanged, "/a")
    );
    let (p, _) = c
        .create(
            "/a/s-",
            b"",
            &CreateOptions::new(CreateMode::PersistentSequential),
        )
        .await
        .expect("seq");
    assert_eq!(p, "/a/s-0000000000");
    let mut watch = c
        .add_watch("/", AddWatchMode::PersistentRecursive)
        .await
        .expect("watch");
    c.delete("/a/s-0000000000", None).await.expect("delete");
    let ev = watch.next().await.expect("event");
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDeleted, "/a/s-0000000000")
    );
    let r = c
        .multi()
        .check("/a", 1)
        .set_data("/a", b"3", Some(1))
        .commit()
        .await
        .expect("multi");
    assert_eq!(r.len(), 2);
    let err = c
        .multi()
        .check("/a", 9)
        .delete("/a", None)
        .commit()
        .await
        .expect_err("fails");
    assert!(
        matches!(err, zk_client::Error::Multi { index: 0, .. }),
        "{err:?}"
    );
    c.close().await;
    env.stop().await;
}
