//! Nodes the server changes by itself: the container and TTL reaper, and
//! the quota statistics (with and without enforcement).

mod common;

use common::*;
use zk_proto::ErrorCode;
use zk_proto::data::EventType;

const REAPER: &str = "extendedTypesEnabled=true\nznode.container.checkIntervalMs=100";

#[tokio::test]
async fn emptied_container_is_reaped_and_unused_one_stays() {
    let server = start(REAPER).await;
    let mut c = Client::connect(server.local_addr()).await;
    c.create_container("/never-used").await.expect("container");
    c.create_container("/used").await.expect("container");
    c.create("/used/child", b"", 0).await.expect("child");
    c.create_container("/busy").await.expect("container");
    c.create("/busy/child", b"", 0).await.expect("child");
    // Containers are not reaped while they have children.
    c.exists("/used", true).await.expect("watch");
    c.delete("/used/child", -1)
        .await
        .expect("delete only child");

    let event = c.next_event().await;
    assert!(event.is(EventType::NodeDeleted, "/used"), "{event:?}");
    assert!(event.zxid > c.last_zxid, "the reaper's own txn");
    assert_eq!(c.exists("/used", false).await, Err(ErrorCode::NoNode));
    // The pass that reaped /used looked at these too.
    c.exists("/never-used", false)
        .await
        .expect("never had a child: stays");
    c.exists("/busy", false).await.expect("has a child: stays");
    server.shutdown().await;
}

#[tokio::test]
async fn ttl_node_without_children_expires() {
    let server = start(REAPER).await;
    let mut c = Client::connect(server.local_addr()).await;
    c.create_ttl("/ttl-parent", 100).await.expect("ttl");
    c.create("/ttl-parent/kid", b"", 0).await.expect("child");
    c.create_ttl("/ttl-long", 3_600_000).await.expect("ttl");
    c.create_ttl("/ttl-short", 200).await.expect("ttl");
    c.exists("/ttl-short", true).await.expect("watch");

    let event = c.next_event().await;
    assert!(event.is(EventType::NodeDeleted, "/ttl-short"), "{event:?}");
    assert_eq!(c.exists("/ttl-short", false).await, Err(ErrorCode::NoNode));
    // Older than its TTL too, but it has a child.
    c.exists("/ttl-parent", false)
        .await
        .expect("has a child: stays");
    c.exists("/ttl-long", false).await.expect("not expired");
    server.shutdown().await;
}

#[tokio::test]
async fn ttl_node_without_children_expires_once_its_child_is_gone() {
    let server = start(REAPER).await;
    let mut c = Client::connect(server.local_addr()).await;
    c.create_ttl("/t", 100).await.expect("ttl");
    c.create("/t/kid", b"", 0).await.expect("child");
    c.exists("/t", true).await.expect("watch");
    c.delete("/t/kid", -1).await.expect("delete child");
    let event = c.next_event().await;
    assert!(event.is(EventType::NodeDeleted, "/t"), "{event:?}");
    server.shutdown().await;
}

/// What zkCli's `setquota -N 2 /q` creates, in its order.
async fn set_count_quota(c: &mut Client, hard: i64) {
    c.create("/zookeeper/quota/q", b"", 0)
        .await
        .expect("quota dir");
    let limits = format!("count=-1,bytes=-1=;countHardLimit={hard}");
    let path = "/zookeeper/quota/q/zookeeper_limits";
    c.create(path, limits.as_bytes(), 0).await.expect("limits");
    let path = "/zookeeper/quota/q/zookeeper_stats";
    c.create(path, b"count=0,bytes=0", 0).await.expect("stats");
}

async fn stats(c: &mut Client) -> String {
    let (data, _) = c
        .get_data("/zookeeper/quota/q/zookeeper_stats", false)
        .await
        .expect("stats node");
    String::from_utf8(data.expect("data").to_vec()).expect("utf-8")
}

#[tokio::test]
async fn hard_count_quota_is_enforced() {
    let server = start("enforceQuota=true").await;
    let mut c = Client::connect(server.local_addr()).await;
    c.create("/q", b"qq", 0).await.expect("target");
    set_count_quota(&mut c, 2).await;
    // The server filled the stats in: the node itself counts.
    assert_eq!(stats(&mut c).await, "count=1,bytes=2");
    c.create("/q/a", b"aaa", 0).await.expect("within quota");
    assert_eq!(stats(&mut c).await, "count=2,bytes=5");
    assert_eq!(
        c.create("/q/b", b"", 0).await,
        Err(ErrorCode::QuotaExceeded)
    );
    assert_eq!(
        c.create("/q/a/deep", b"", 0).await,
        Err(ErrorCode::QuotaExceeded)
    );
    assert_eq!(c.exists("/q/b", false).await, Err(ErrorCode::NoNode));
    // Data changes only count bytes; there is no byte limit.
    c.set_data("/q/a", b"a", -1).await.expect("setData");
    assert_eq!(stats(&mut c).await, "count=2,bytes=3");
    // Outside the quota nothing is limited.
    c.create("/free", b"", 0).await.expect("not under /q");
    c.delete("/q/a", -1).await.expect("delete");
    assert_eq!(stats(&mut c).await, "count=1,bytes=2");
    c.create("/q/b", b"", 0).await.expect("room again");
    server.shutdown().await;
}

#[tokio::test]
async fn quota_without_enforcement_only_counts() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;
    c.create("/q", b"", 0).await.expect("target");
    set_count_quota(&mut c, 2).await;
    for name in ["a", "b", "c"] {
        c.create(&format!("/q/{name}"), b"x", 0)
            .await
            .expect("not enforced");
    }
    assert_eq!(stats(&mut c).await, "count=4,bytes=3");
    server.shutdown().await;
}
