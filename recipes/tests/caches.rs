//! Caches follow another client's creates, updates and deletes (as events
//! and in their snapshot), a node cache sees a missing node appear, and a
//! cache catches up with what changed while its connection was cut.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::{TestEnv, eventually, within};
use futures::StreamExt;
use tokio::task::JoinHandle;
use zk_client::{Client, CreateOptions};
use zk_recipes::{CacheEvent, ChildrenCache, NodeCache, TreeCache};

/// Collects a cache's events in the background.
fn collect(
    events: impl futures::Stream<Item = CacheEvent> + Send + 'static,
) -> (Arc<Mutex<Vec<CacheEvent>>>, JoinHandle<()>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let task = tokio::spawn(async move {
        futures::pin_mut!(events);
        while let Some(e) = events.next().await {
            sink.lock().expect("events").push(e);
        }
    });
    (seen, task)
}

fn has(events: &Mutex<Vec<CacheEvent>>, pred: impl Fn(&CacheEvent) -> bool) -> bool {
    events.lock().expect("events").iter().any(pred)
}

fn added(path: &str, data: &[u8]) -> impl Fn(&CacheEvent) -> bool {
    let (path, data) = (path.to_owned(), data.to_vec());
    move |e| matches!(e, CacheEvent::Added { path: p, node } if *p == path && node.data == data)
}

fn updated(path: &str, data: &[u8]) -> impl Fn(&CacheEvent) -> bool {
    let (path, data) = (path.to_owned(), data.to_vec());
    move |e| matches!(e, CacheEvent::Updated { path: p, node } if *p == path && node.data == data)
}

fn removed(path: &str) -> impl Fn(&CacheEvent) -> bool {
    let path = path.to_owned();
    move |e| matches!(e, CacheEvent::Removed { path: p } if *p == path)
}

async fn create(client: &Client, path: &str, data: &[u8]) {
    client
        .create(path, data, &CreateOptions::persistent())
        .await
        .unwrap_or_else(|e| panic!("create {path}: {e}"));
}

fn datas(snapshot: BTreeMap<String, zk_recipes::NodeData>) -> BTreeMap<String, Vec<u8>> {
    snapshot.into_iter().map(|(p, n)| (p, n.data)).collect()
}

fn tree(entries: &[(&str, &[u8])]) -> BTreeMap<String, Vec<u8>> {
    entries
        .iter()
        .map(|(p, d)| ((*p).to_owned(), d.to_vec()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tree_cache_follows_another_client() {
    let env = TestEnv::new().await;
    let fw = env.framework().await;
    let other = env.client().await;
    create(&other, "/tree", b"root").await;
    create(&other, "/tree/old", b"o").await;

    let cache = TreeCache::start(&fw, "/tree", usize::MAX);
    let (events, collector) = collect(cache.events());
    within("initial load", cache.initialized()).await;
    assert_eq!(
        datas(cache.snapshot()),
        tree(&[("/tree", b"root"), ("/tree/old", b"o")])
    );

    create(&other, "/tree/a", b"1").await;
    create(&other, "/tree/a/b", b"2").await;
    // The cache reads a node when it hears of a change, so it reports the
    // state it reads then: wait for the first state before changing it, so
    // the update shows as one.
    eventually("created", || async {
        cache.get("/tree/a/b").is_some() && cache.get("/tree/a").is_some_and(|n| n.data == b"1")
    })
    .await;
    other.set_data("/tree/a", b"1b", None).await.expect("set");
    other.delete("/tree/old", None).await.expect("delete");
    let want = tree(&[("/tree", b"root"), ("/tree/a", b"1b"), ("/tree/a/b", b"2")]);
    eventually("snapshot follows", || async {
        datas(cache.snapshot()) == want
    })
    .await;
    eventually("events follow", || async {
        has(&events, added("/tree/a/b", b"2"))
            && has(&events, updated("/tree/a", b"1b"))
            && has(&events, removed("/tree/old"))
    })
    .await;
    assert_eq!(cache.children("/tree"), vec!["a".to_owned()]);
    assert_eq!(cache.get("/tree/a/b").expect("cached").data, b"2");

    // Deleting a subtree removes it, deepest first.
    other.delete("/tree/a/b", None).await.expect("delete");
    other.delete("/tree/a", None).await.expect("delete");
    eventually("subtree gone", || async { cache.get("/tree/a").is_none() }).await;
    eventually("removal events", || async {
        has(&events, removed("/tree/a/b")) && has(&events, removed("/tree/a"))
    })
    .await;
    cache.close();
    collector.abort();
    env.finish(&[fw]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_cache_sees_children_only() {
    let env = TestEnv::new().await;
    let fw = env.framework().await;
    let other = env.client().await;
    create(&other, "/kids", b"parent").await;

    let cache = ChildrenCache::start(&fw, "/kids");
    let (events, collector) = collect(cache.events());
    within("initial load", cache.initialized()).await;
    assert!(cache.current().is_empty());

    create(&other, "/kids/x", b"x1").await;
    create(&other, "/kids/y", b"y1").await;
    create(&other, "/kids/x/grandchild", b"g").await;
    eventually("created", || async {
        cache.current().get("y").is_some_and(|n| n.data == b"y1")
    })
    .await;
    other.set_data("/kids/y", b"y2", None).await.expect("set");
    other
        .set_data("/kids", b"parent2", None)
        .await
        .expect("set");
    eventually("children follow", || async {
        let now: BTreeMap<_, _> = cache
            .current()
            .into_iter()
            .map(|(k, v)| (k, v.data))
            .collect();
        now == BTreeMap::from([
            ("x".to_owned(), b"x1".to_vec()),
            ("y".to_owned(), b"y2".to_vec()),
        ])
    })
    .await;
    other
        .delete("/kids/x/grandchild", None)
        .await
        .expect("delete");
    other.delete("/kids/x", None).await.expect("delete");
    eventually("child removed", || async {
        cache.current().keys().eq(["y"])
    })
    .await;
    eventually("events", || async {
        has(&events, added("/kids/x", b"x1"))
            && has(&events, updated("/kids/y", b"y2"))
            && has(&events, removed("/kids/x"))
    })
    .await;
    // Neither the parent's own changes nor grandchildren are reported.
    let all = events.lock().expect("events").clone();
    assert!(
        all.iter().all(|e| match e {
            CacheEvent::Added { path, .. }
            | CacheEvent::Updated { path, .. }
            | CacheEvent::Removed { path } => path == "/kids/x" || path == "/kids/y",
            CacheEvent::Initialized => true,
        }),
        "{all:?}"
    );
    cache.close();
    collector.abort();
    env.finish(&[fw]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_cache_of_a_missing_node() {
    let env = TestEnv::new().await;
    let fw = env.framework().await;
    let other = env.client().await;

    let cache = NodeCache::start(&fw, "/later/node");
    let mut changes = cache.changes();
    within("initial load", cache.initialized()).await;
    assert!(cache.current().is_none());
    let (events, collector) = collect(cache.events());

    create(&other, "/later", b"").await;
    create(&other, "/later/node", b"v1").await;
    within("a change", changes.changed())
        .await
        .expect("cache alive");
    eventually("created", || async {
        cache.current().is_some_and(|n| n.data == b"v1")
    })
    .await;
    other
        .set_data("/later/node", b"v2", None)
        .await
        .expect("set");
    eventually("updated", || async {
        cache
            .current()
            .is_some_and(|n| n.data == b"v2" && n.stat.version == 1)
    })
    .await;
    // A child is not the node's business.
    create(&other, "/later/node/child", b"c").await;
    other
        .delete("/later/node/child", None)
        .await
        .expect("delete");
    other.delete("/later/node", None).await.expect("delete");
    eventually("deleted", || async { cache.current().is_none() }).await;
    eventually("events", || async {
        has(&events, added("/later/node", b"v1"))
            && has(&events, updated("/later/node", b"v2"))
            && has(&events, removed("/later/node"))
    })
    .await;
    assert!(!has(
        &events,
        |e| matches!(e, CacheEvent::Added { path, .. } if path.contains("child"))
    ));
    // And back again.
    create(&other, "/later/node", b"v3").await;
    eventually("re-created", || async {
        cache
            .current()
            .is_some_and(|n| n.data == b"v3" && n.stat.version == 0)
    })
    .await;
    cache.close();
    collector.abort();
    env.finish(&[fw]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_catches_up_after_a_cut() {
    let env = TestEnv::new().await;
    let (fw, proxy) = env.proxied_framework().await;
    let other = env.client().await;
    create(&other, "/cut", b"").await;
    create(&other, "/cut/keep", b"k1").await;
    create(&other, "/cut/gone", b"g").await;

    let cache = TreeCache::start(&fw, "/cut", usize::MAX);
    let node = NodeCache::start(&fw, "/cut/keep");
    within("initial load", cache.initialized()).await;
    within("initial load", node.initialized()).await;

    proxy.cut();
    common::wait_state(&fw.client(), zk_client::SessionState::Disconnected).await;
    // Changes the cache cannot see now.
    other.set_data("/cut/keep", b"k2", None).await.expect("set");
    other.delete("/cut/gone", None).await.expect("delete");
    create(&other, "/cut/new", b"n").await;
    create(&other, "/cut/new/deep", b"d").await;
    proxy.restore();

    let want = tree(&[
        ("/cut", b""),
        ("/cut/keep", b"k2"),
        ("/cut/new", b"n"),
        ("/cut/new/deep", b"d"),
    ]);
    eventually("caught up after the cut", || async {
        datas(cache.snapshot()) == want
    })
    .await;
    eventually("node cache caught up", || async {
        node.current().is_some_and(|n| n.data == b"k2")
    })
    .await;
    // The same session (the cut was short), still following live.
    assert_eq!(fw.current().generation, 1);
    other.set_data("/cut/new", b"n2", None).await.expect("set");
    eventually("live again", || async {
        cache.get("/cut/new").is_some_and(|n| n.data == b"n2")
    })
    .await;
    cache.close();
    node.close();
    env.finish(&[fw]).await;
}
