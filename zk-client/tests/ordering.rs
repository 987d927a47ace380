//! Calls reach the server in call order, whether or not (and in whatever
//! order) their futures are awaited.

mod common;

use common::{TestEnv, within};
use futures::future::join_all;
use zk_client::{CreateMode, CreateOptions, Error};

#[tokio::test]
async fn pipelined_writes_then_a_read() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    // Issued back to back, nothing awaited until all are out.
    let create = c.create("/o", b"start", &CreateOptions::persistent());
    let sets: Vec<_> = (0..100)
        .map(|i| c.set_data("/o", format!("v{i}").as_bytes(), Some(i)))
        .collect();
    let get = c.get_data("/o");
    let (created, sets, got) = within("pipelined calls", async {
        futures::join!(create, join_all(sets), get)
    })
    .await;
    created.expect("create");
    for (i, stat) in sets.into_iter().enumerate() {
        assert_eq!(stat.expect("set").version, i as i32 + 1);
    }
    let (data, stat) = got.expect("get");
    assert_eq!((data.as_slice(), stat.version), (&b"v99"[..], 100));
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn futures_awaited_in_reverse_still_run_in_call_order() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let create = c.create("/r", b"", &CreateOptions::persistent());
    let seq = CreateOptions::new(CreateMode::PersistentSequential);
    let mut calls: Vec<_> = (0..50).map(|_| c.create("/r/n-", b"", &seq)).collect();
    let delete = c.delete("/r/n-0000000049", Some(0));
    // A clone shares the connection and the order.
    let clone = c.clone();
    let count = clone.get_all_children_number("/r");
    let mut paths = Vec::new();
    while let Some(call) = calls.pop() {
        paths.push(within("create", call).await.expect("create").0);
    }
    assert_eq!(within("count", count).await, Ok(49));
    within("delete", delete)
        .await
        .expect("delete ran after the creates");
    within("create", create).await.expect("parent");
    paths.reverse();
    let want: Vec<_> = (0..50).map(|i| format!("/r/n-{i:010}")).collect();
    assert_eq!(paths, want);
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn dropped_futures_still_run_and_failures_do_not_stop_the_rest() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let p = CreateOptions::persistent();
    // Never awaited: sent at call time anyway.
    drop(c.create("/dropped", b"x", &p));
    let exists = c.create("/dropped", b"", &p);
    let fails = c.delete("/nope", None);
    let after = c.set_data("/dropped", b"y", Some(0));
    assert_eq!(within("create", exists).await, Err(Error::NodeExists));
    assert_eq!(within("delete", fails).await, Err(Error::NoNode));
    assert_eq!(within("set", after).await.map(|s| s.version), Ok(1));
    c.close().await;
    env.stop().await;
}
