//! Watches: one-shot data, exists and child watches, persistent and
//! persistent-recursive watches, checkWatches/removeWatches, setWatches2 on
//! reconnect, event zxids, and events ordered before the replies that
//! show their change.

mod common;

use common::*;
use zk_proto::ErrorCode;
use zk_proto::client::{Request, SetWatches2, WatchesRequest, xid};
use zk_proto::data::{EventType, WatcherType};

#[tokio::test]
async fn data_watch_fires_once_with_the_txn_zxid() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut watcher = Client::connect(addr).await;
    let mut writer = Client::connect(addr).await;
    writer.create("/w", b"0", 0).await.expect("create");

    watcher.get_data("/w", true).await.expect("watch");
    let stat = writer.set_data("/w", b"1", -1).await.expect("set");
    let event = watcher.next_event().await;
    assert!(event.is(EventType::NodeDataChanged, "/w"), "{event:?}");
    assert_eq!(event.zxid, stat.mzxid, "the zxid of the setData");
    assert_eq!(event.zxid, writer.last_zxid);

    writer.set_data("/w", b"2", -1).await.expect("set again");
    watcher.assert_no_events().await;
    server.shutdown().await;
}

#[tokio::test]
async fn exists_watch_on_a_missing_node_fires_created() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut watcher = Client::connect(addr).await;
    let mut writer = Client::connect(addr).await;
    assert_eq!(watcher.exists("/later", true).await, Err(ErrorCode::NoNode));
    let (_, stat) = writer.create2("/later", b"", 0).await.expect("create");
    let event = watcher.next_event().await;
    assert!(event.is(EventType::NodeCreated, "/later"), "{event:?}");
    assert_eq!(event.zxid, stat.czxid);
    writer.set_data("/later", b"x", -1).await.expect("set");
    watcher.assert_no_events().await;
    server.shutdown().await;
}

#[tokio::test]
async fn child_watch_fires_children_changed() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut watcher = Client::connect(addr).await;
    let mut writer = Client::connect(addr).await;
    writer.create("/kids", b"", 0).await.expect("create");
    assert!(
        watcher
            .children("/kids", true)
            .await
            .expect("watch")
            .is_empty()
    );
    // A data change does not fire a child watch.
    writer.set_data("/kids", b"x", -1).await.expect("set");
    watcher.assert_no_events().await;
    writer.create("/kids/a", b"", 0).await.expect("child");
    let event = watcher.next_event().await;
    assert!(
        event.is(EventType::NodeChildrenChanged, "/kids"),
        "{event:?}"
    );
    assert_eq!(event.zxid, writer.last_zxid);
    writer.create("/kids/b", b"", 0).await.expect("child");
    watcher.assert_no_events().await;
    server.shutdown().await;
}

#[tokio::test]
async fn delete_fires_one_event_for_data_and_child_watches() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut watcher = Client::connect(addr).await;
    let mut writer = Client::connect(addr).await;
    writer.create("/parent", b"", 0).await.expect("create");
    writer
        .create("/parent/doomed", b"", 0)
        .await
        .expect("create");
    watcher
        .get_data("/parent/doomed", true)
        .await
        .expect("data watch");
    watcher
        .children("/parent/doomed", true)
        .await
        .expect("child watch");
    watcher
        .children("/parent", true)
        .await
        .expect("parent child watch");

    writer.delete("/parent/doomed", -1).await.expect("delete");
    let zxid = writer.last_zxid;
    let first = watcher.next_event().await;
    let second = watcher.next_event().await;
    let mut got = [first, second];
    got.sort_by_key(|e| e.kind as i32);
    assert!(
        got[0].is(EventType::NodeDeleted, "/parent/doomed"),
        "{got:?}"
    );
    assert!(
        got[1].is(EventType::NodeChildrenChanged, "/parent"),
        "{got:?}"
    );
    assert!(got.iter().all(|e| e.zxid == zxid), "{got:?}");
    watcher.assert_no_events().await;
    server.shutdown().await;
}

#[tokio::test]
async fn persistent_watch_keeps_firing() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut watcher = Client::connect(addr).await;
    let mut writer = Client::connect(addr).await;
    writer.create("/pw", b"", 0).await.expect("create");
    watcher
        .add_watch("/pw", 0)
        .await
        .expect("addWatch persistent");

    for i in 0..3 {
        writer.set_data("/pw", &[i], -1).await.expect("set");
        let event = watcher.next_event().await;
        assert!(event.is(EventType::NodeDataChanged, "/pw"), "{event:?}");
        assert_eq!(event.zxid, writer.last_zxid);
    }
    writer.create("/pw/c", b"", 0).await.expect("child");
    let event = watcher.next_event().await;
    assert!(event.is(EventType::NodeChildrenChanged, "/pw"), "{event:?}");
    // Not recursive: a grandchild or a child's data is not its business.
    writer.create("/pw/c/g", b"", 0).await.expect("grandchild");
    writer.set_data("/pw/c", b"x", -1).await.expect("set child");
    watcher.assert_no_events().await;
    writer.delete("/pw/c/g", -1).await.expect("delete");
    writer.delete("/pw/c", -1).await.expect("delete");
    let event = watcher.next_event().await;
    assert!(event.is(EventType::NodeChildrenChanged, "/pw"), "{event:?}");
    writer.delete("/pw", -1).await.expect("delete");
    let event = watcher.next_event().await;
    assert!(event.is(EventType::NodeDeleted, "/pw"), "{event:?}");
    // Still registered: a new /pw fires it again.
    writer.create("/pw", b"", 0).await.expect("recreate");
    let event = watcher.next_event().await;
    assert!(event.is(EventType::NodeCreated, "/pw"), "{event:?}");
    watcher.assert_no_events().await;
    server.shutdown().await;
}

#[tokio::test]
async fn persistent_recursive_watch_covers_the_subtree_without_child_events() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut watcher = Client::connect(addr).await;
    let mut writer = Client::connect(addr).await;
    writer.create("/rw", b"", 0).await.expect("create");
    watcher
        .add_watch("/rw", 1)
        .await
        .expect("addWatch recursive");

    writer.create("/rw/a", b"", 0).await.expect("child");
    writer.create("/rw/a/b", b"", 0).await.expect("grandchild");
    writer.set_data("/rw/a/b", b"x", -1).await.expect("set");
    writer.set_data("/rw", b"x", -1).await.expect("set");
    writer.delete("/rw/a/b", -1).await.expect("delete");
    writer
        .create("/rwx", b"", 0)
        .await
        .expect("a sibling by prefix only");
    let expected = [
        (EventType::NodeCreated, "/rw/a"),
        (EventType::NodeCreated, "/rw/a/b"),
        (EventType::NodeDataChanged, "/rw/a/b"),
        (EventType::NodeDataChanged, "/rw"),
        (EventType::NodeDeleted, "/rw/a/b"),
    ];
    for (kind, path) in expected {
        let event = watcher.next_event().await;
        assert!(
            event.is(kind, path),
            "expected {kind:?} {path}, got {event:?}"
        );
    }
    watcher.assert_no_events().await;
    server.shutdown().await;
}

#[tokio::test]
async fn check_and_remove_watches() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut watcher = Client::connect(addr).await;
    let mut writer = Client::connect(addr).await;
    writer.create("/cw", b"", 0).await.expect("create");
    watcher.get_data("/cw", true).await.expect("data watch");
    let check = |t: WatcherType| {
        Request::CheckWatches(WatchesRequest {
            path: "/cw".into(),
            watcher_type: t as i32,
        })
    };
    let remove = |t: WatcherType| {
        Request::RemoveWatches(WatchesRequest {
            path: "/cw".into(),
            watcher_type: t as i32,
        })
    };
    assert!(watcher.call(check(WatcherType::Data)).await.is_ok());
    assert!(watcher.call(check(WatcherType::Any)).await.is_ok());
    assert_eq!(
        watcher.call(check(WatcherType::Children)).await,
        Err(ErrorCode::NoWatcher)
    );
    assert_eq!(
        watcher.call(remove(WatcherType::Children)).await,
        Err(ErrorCode::NoWatcher)
    );
    assert!(watcher.call(remove(WatcherType::Data)).await.is_ok());
    assert_eq!(
        watcher.call(check(WatcherType::Data)).await,
        Err(ErrorCode::NoWatcher)
    );
    assert_eq!(
        watcher.call(remove(WatcherType::Any)).await,
        Err(ErrorCode::NoWatcher)
    );
    // The other session has no watch there.
    assert_eq!(
        writer.call(check(WatcherType::Any)).await,
        Err(ErrorCode::NoWatcher)
    );
    writer.set_data("/cw", b"x", -1).await.expect("set");
    watcher.assert_no_events().await;
    server.shutdown().await;
}

#[tokio::test]
async fn set_watches2_fires_what_changed_since_the_zxid() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut writer = Client::connect(addr).await;
    for p in ["/sw", "/sw/data", "/sw/gone", "/sw/kids", "/sw/same"] {
        writer.create(p, b"", 0).await.expect("create");
    }
    let seen = writer.last_zxid;
    writer.set_data("/sw/data", b"new", -1).await.expect("set");
    writer.delete("/sw/gone", -1).await.expect("delete");
    writer.create("/sw/new", b"", 0).await.expect("create");
    writer.create("/sw/kids/c", b"", 0).await.expect("child");

    let mut watcher = Client::connect(addr).await;
    let req = Request::SetWatches2(SetWatches2 {
        relative_zxid: seen,
        data_watches: vec!["/sw/data".into(), "/sw/gone".into(), "/sw/same".into()],
        exist_watches: vec!["/sw/new".into(), "/sw/absent".into()],
        child_watches: vec!["/sw/kids".into(), "/sw".into()],
        persistent_watches: vec![],
        persistent_recursive_watches: vec![],
    });
    watcher.send_with_xid(xid::SET_WATCHES, &req).await;
    let reply = watcher.recv().await;
    assert_eq!(
        (reply.header.xid, reply.err()),
        (xid::SET_WATCHES, ErrorCode::Ok)
    );
    // The events came before the reply. No txn fired them: zxid -1, as
    // ZooKeeper's setWatches sends (WatchedEvent.NO_ZXID).
    let mut got: Vec<_> = watcher
        .events
        .drain(..)
        .map(|e| (e.kind as i32, e.path, e.zxid))
        .collect();
    got.sort();
    let want = [
        (EventType::NodeCreated, "/sw/new"),
        (EventType::NodeDeleted, "/sw/gone"),
        (EventType::NodeDataChanged, "/sw/data"),
        (EventType::NodeChildrenChanged, "/sw"),
        (EventType::NodeChildrenChanged, "/sw/kids"),
    ]
    .map(|(k, p)| (k as i32, p.to_owned(), -1));
    assert_eq!(got, want);

    // What had not changed is watched from now on.
    writer.set_data("/sw/same", b"x", -1).await.expect("set");
    let event = watcher.next_event().await;
    assert!(
        event.is(EventType::NodeDataChanged, "/sw/same"),
        "{event:?}"
    );
    assert_eq!(event.zxid, writer.last_zxid);
    writer.create("/sw/absent", b"", 0).await.expect("create");
    let event = watcher.next_event().await;
    assert!(event.is(EventType::NodeCreated, "/sw/absent"), "{event:?}");
    watcher.assert_no_events().await;
    server.shutdown().await;
}

/// Session B watches a node, A's setData is pipelined, and B reads the node
/// again: whenever B's reply shows the new data, the event came first.
#[tokio::test]
async fn event_precedes_a_later_read_that_sees_the_change() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut a = Client::connect(addr).await;
    let mut b = Client::connect(addr).await;
    a.create("/race", b"", 0).await.expect("create");
    let mut saw_new = 0;
    for round in 1..=50 {
        b.get_data("/race", true).await.expect("watch");
        let set_xid = a.send(&set_data_req("/race", b"x", -1)).await;
        let get_xid = b.send(&Request::GetData(watch_req("/race", false))).await;
        let mut event_seen = false;
        loop {
            match b.next_incoming().await.expect("open") {
                Incoming::Event(e) => {
                    assert!(e.is(EventType::NodeDataChanged, "/race"), "{e:?}");
                    assert!(!event_seen, "one event per round");
                    event_seen = true;
                }
                Incoming::Reply(r) => {
                    assert_eq!(r.header.xid, get_xid);
                    let Ok(zk_proto::client::Response::GetData(d)) =
                        r.result(zk_proto::OpCode::GetData)
                    else {
                        panic!("{r:?}");
                    };
                    if d.stat.version == round {
                        saw_new += 1;
                        assert!(
                            event_seen,
                            "round {round}: reply shows the change before its event"
                        );
                    } else {
                        assert_eq!(d.stat.version, round - 1);
                    }
                    break;
                }
            }
        }
        let reply = a.recv().await;
        assert_eq!((reply.header.xid, reply.err()), (set_xid, ErrorCode::Ok));
        if !event_seen {
            let e = b.next_event().await;
            assert!(e.is(EventType::NodeDataChanged, "/race"), "{e:?}");
            assert_eq!(e.zxid, reply.header.zxid);
        }
    }
    // Once A's reply is in, B's next read must see the write.
    let (_, stat) = b.get_data("/race", false).await.expect("get");
    assert_eq!(stat.version, 50);
    println!("{saw_new} of 50 reads saw the new data");
    server.shutdown().await;
}
