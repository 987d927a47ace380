//! TestingServer and TestingCluster with a real client: data kept across a
//! restart, the port freed on drop, a killed leader replaced, a partitioned
//! member cut off and back.

use std::time::Duration;

use zk_client::{Client, CreateOptions, SessionState};
use zk_testing::{TestingCluster, TestingServer};

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restarts_with_its_data_and_frees_its_port_when_dropped() {
    let mut server = TestingServer::builder()
        .config("maxSessionTimeout=30000")
        .start()
        .await
        .expect("starts");
    let client = Client::builder(&server.connect_string())
        .expect("connect string")
        .session_timeout(Duration::from_secs(20))
        .connect()
        .await
        .expect("connects");
    client
        .create("/kept", b"v", &CreateOptions::persistent())
        .await
        .expect("create");
    let port = server.port();
    server.restart().await.expect("restarts");
    assert_eq!(server.port(), port, "same port");
    // The session goes on across the restart.
    assert_eq!(client.get_data("/kept").await.expect("read").0, b"v");
    assert_eq!(client.state(), SessionState::Connected);
    drop(server);
    eventually("the port to be free", || async {
        std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_survives_a_killed_leader_and_a_partition() {
    let mut cluster = TestingCluster::start(3).await.expect("starts");
    let client = Client::connect(&cluster.connect_string())
        .await
        .expect("connects");
    client
        .create("/a", b"1", &CreateOptions::persistent())
        .await
        .expect("create");

    let leader = cluster.leader().await.expect("a leader");
    cluster.kill(leader).await;
    let next = cluster.leader().await.expect("a new leader");
    assert_ne!(next, leader);
    cluster.restart(leader).await.expect("restart");
    assert_eq!(cluster.leader().await.expect("settled"), next);
    let back = Client::connect(&cluster.client_addr(leader))
        .await
        .expect("the restarted member serves");
    back.sync("/a").await.expect("sync");
    assert_eq!(back.get_data("/a").await.expect("caught up").0, b"1");

    // A follower cut off from the others stops serving; the other two keep
    // the quorum and take writes; healed, it catches up.
    let follower = cluster
        .sids()
        .into_iter()
        .find(|s| *s != next)
        .expect("a follower");
    cluster.partition(follower);
    eventually("the partitioned member to leave its role", || async {
        cluster.mode(follower).await.as_deref() != Some("follower")
    })
    .await;
    let others: Vec<String> = cluster
        .sids()
        .into_iter()
        .filter(|s| *s != follower)
        .map(|s| cluster.client_addr(s))
        .collect();
    let majority = Client::connect(&others.join(",")).await.expect("connects");
    majority
        .create("/during", b"", &CreateOptions::persistent())
        .await
        .expect("the majority takes writes");
    cluster.heal(follower);
    cluster.leader().await.expect("settled again");
    let healed = Client::connect(&cluster.client_addr(follower))
        .await
        .expect("connects");
    healed.sync("/during").await.expect("sync");
    assert!(healed.exists("/during").await.expect("exists").is_some());
    cluster.stop().await;
}
