//! The testcontainers module with real containers of our image: a single
//! server, and a 3-member ensemble whose members are killed, restarted,
//! paused and cut off the network. Skipped (with the reason) without a
//! Docker engine or the `zk-rs:latest` image (`deploy/build-image.sh`).

use std::time::Duration;

use zk_client::{Client, CreateOptions};
use zk_testing::containers::{ContainerEnsemble, ZkContainer, ZooKeeperImage};

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not in time"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates `path`; a lost connection (the client was on a member that
/// stalled or died) leaves the outcome unknown, so it tries again, and a
/// NodeExists after such a loss means the first try took.
async fn create(client: &Client, path: &str) {
    let mut lost = false;
    for _ in 0..20 {
        match client.create(path, b"", &CreateOptions::persistent()).await {
            Ok(_) => return,
            Err(zk_client::Error::NodeExists) if lost => return,
            Err(zk_client::Error::ConnectionLoss) => lost = true,
            Err(e) => panic!("create {path}: {e}"),
        }
    }
    panic!("create {path}: the connection kept failing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "starts Docker containers of zk-rs:latest: run with --include-ignored"]
async fn single_container_serves_and_keeps_its_data_across_a_kill() {
    zk_testkit::require!(zk_testkit::tools::docker_image("zk-rs:latest"));
    let server = ZkContainer::start(ZooKeeperImage::zk_rs())
        .await
        .expect("starts");
    assert_eq!(server.mode().await.as_deref(), Some("standalone"));
    let client = Client::connect(&server.connect_string())
        .await
        .expect("connects");
    client
        .create("/kept", b"v", &CreateOptions::persistent())
        .await
        .expect("create");
    client.close().await;

    server.kill().await.expect("kill");
    server.start_again().await.expect("start again");
    eventually("the server to serve again", || async {
        server.mode().await.as_deref() == Some("standalone")
    })
    .await;
    let client = Client::connect(&server.connect_string())
        .await
        .expect("connects again");
    assert_eq!(client.get_data("/kept").await.expect("kept").0, b"v");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "starts Docker containers of zk-rs:latest: run with --include-ignored"]
async fn ensemble_fails_over_and_takes_members_back() {
    zk_testkit::require!(zk_testkit::tools::docker_image("zk-rs:latest"));
    let mut zk =
        ContainerEnsemble::start(ZooKeeperImage::zk_rs().with_env("ZOO_TICK_TIME", "500"), 3)
            .await
            .expect("starts");
    let client = Client::connect(&zk.connect_string())
        .await
        .expect("connects");
    client
        .create("/a", b"1", &CreateOptions::persistent())
        .await
        .expect("create");

    // Kill the leader: a new one, and writes go on.
    let leader = zk.leader().await.expect("a leader");
    zk.kill(leader).await.expect("kill");
    let next = zk.leader().await.expect("a new leader");
    assert_ne!(next, leader);
    create(&client, "/b").await;
    zk.restart(leader).await.expect("restart");

    // A paused follower, then one cut off the network: the other two keep
    // the quorum; each comes back and catches up.
    let follower = zk
        .sids()
        .into_iter()
        .find(|s| *s != next)
        .expect("follower");
    zk.pause(follower).await.expect("pause");
    create(&client, "/c").await;
    zk.unpause(follower).await.expect("unpause");
    zk.partition(follower).expect("partition");
    eventually("the cut-off member to stop following", || async {
        zk.member(follower).mode().await.as_deref() != Some("follower")
    })
    .await;
    create(&client, "/d").await;
    zk.heal(follower).expect("heal");
    for sid in zk.sids() {
        eventually("every member to serve", || async {
            matches!(
                zk.member(sid).mode().await.as_deref(),
                Some("leader" | "follower")
            )
        })
        .await;
        let member = Client::connect(&zk.member(sid).connect_string())
            .await
            .expect("connects");
        member.sync("/").await.expect("sync");
        for path in ["/a", "/b", "/c", "/d"] {
            assert!(
                member.exists(path).await.expect("exists").is_some(),
                "{path} on {sid}"
            );
        }
    }
}
