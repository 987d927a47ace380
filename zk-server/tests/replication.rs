//! Replication with in-process members: election, writes through any
//! member, a leader's loss and return, a follower's catch-up.

mod ensemble;

use std::collections::BTreeMap;
use std::time::Duration;

use ensemble::*;
use zk_client::{Client, CreateOptions};
use zk_server::{Config, Server};

async fn start(m: &Member) -> Server {
    let config = Config::from_file(&m.cfg_path).expect("config");
    Server::start(config).await.expect("member starts")
}

async fn client_of(m: &Member) -> Client {
    Client::builder(&m.addr())
        .expect("connect string")
        .session_timeout(Duration::from_secs(20))
        .connect()
        .await
        .expect("connects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_elect_replicate_and_survive_the_leader() {
    let members = layout("basic", 3, 0, "");
    let mut servers: BTreeMap<u64, Server> = BTreeMap::new();
    for m in &members {
        servers.insert(m.sid, start(m).await);
    }
    let leader = wait_for_roles(&members, &[1, 2, 3]).await;

    // A write through each member is visible on every member after sync.
    for m in &members {
        let c = client_of(m).await;
        let path = format!("/via-{}", m.sid);
        c.create(&path, b"x", &CreateOptions::persistent())
            .await
            .expect("create through any member");
        c.close().await;
    }
    for m in &members {
        let c = client_of(m).await;
        c.sync("/").await.expect("sync");
        for sid in 1..=3 {
            let (data, _) = c
                .get_data(&format!("/via-{sid}"))
                .await
                .expect("replicated");
            assert_eq!(data, b"x");
        }
        c.close().await;
    }

    // The leader goes: the others elect a new one and take writes.
    let old = members
        .iter()
        .find(|m| m.sid == leader)
        .expect("leader")
        .clone();
    servers.remove(&leader).expect("running").shutdown().await;
    let rest: Vec<u64> = (1..=3).filter(|s| *s != leader).collect();
    let new_leader = wait_for_roles(&members, &rest).await;
    assert_ne!(new_leader, leader);
    let survivor = members.iter().find(|m| m.sid == rest[0]).expect("member");
    let c = client_of(survivor).await;
    c.create("/after", b"y", &CreateOptions::persistent())
        .await
        .expect("write after the leader's loss");
    c.close().await;

    // The old leader comes back as a follower and catches up.
    servers.insert(leader, start(&old).await);
    wait_for_roles(&members, &[1, 2, 3]).await;
    let c = client_of(&old).await;
    c.sync("/").await.expect("sync");
    let (data, _) = c.get_data("/after").await.expect("caught up");
    assert_eq!(data, b"y");
    c.close().await;
    for (_, s) in servers {
        s.shutdown().await;
    }
    remove(members[0].dir.parent().expect("root"));
}
