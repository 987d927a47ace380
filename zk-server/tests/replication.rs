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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_without_quorum_serves_reads_in_read_only_mode() {
    let members = layout("read-only", 3, 0, "readonlymode.enabled=true\n");
    let mut servers: BTreeMap<u64, Server> = BTreeMap::new();
    for m in &members {
        servers.insert(m.sid, start(m).await);
    }
    wait_for_roles(&members, &[1, 2, 3]).await;
    let c = client_of(&members[0]).await;
    c.create("/kept", b"before", &CreateOptions::persistent())
        .await
        .expect("create");
    c.close().await;

    // Members 2 and 3 go: member 1 has no quorum.
    for sid in [2, 3] {
        servers.remove(&sid).expect("running").shutdown().await;
    }
    let lone = &members[0];
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while mode(&lone.addr()).as_deref() != Some("read-only") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never went read-only"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(four_letter(&lone.addr(), "isro").as_deref(), Some("ro"));

    let ro = Client::builder(&connect_string(&members))
        .expect("connect string")
        .can_be_read_only(true)
        .session_timeout(Duration::from_secs(20))
        .connect()
        .await
        .expect("a read-only session");
    assert_eq!(ro.state(), zk_client::SessionState::ConnectedReadOnly);
    let (data, _) = ro.get_data("/kept").await.expect("reads are served");
    assert_eq!(data, b"before");
    assert_eq!(
        ro.create("/new", b"", &CreateOptions::persistent())
            .await
            .err(),
        Some(zk_client::Error::NotReadOnly)
    );
    // A client that does not allow read-only is not served.
    let plain = Client::builder(&lone.addr())
        .expect("connect string")
        .connect_timeout(Duration::from_millis(500))
        .session_timeout(Duration::from_secs(4))
        .connect();
    assert!(
        tokio::time::timeout(Duration::from_secs(3), plain)
            .await
            .map_or(true, |r| r.is_err()),
        "a read-write-only client got a session from a read-only server"
    );

    // The quorum returns: the read-only client moves to a read-write server.
    for sid in [2, 3] {
        servers.insert(sid, start(&members[sid as usize - 1]).await);
    }
    wait_for_roles(&members, &[1, 2, 3]).await;
    let mut states = ro.state_watcher();
    tokio::time::timeout(
        DEADLINE,
        states.wait_for(|s| *s == zk_client::SessionState::Connected),
    )
    .await
    .expect("moved to a read-write server in time")
    .expect("state");
    ro.create("/new", b"", &CreateOptions::persistent())
        .await
        .expect("writes work again");
    ro.close().await;
    for (_, s) in servers {
        s.shutdown().await;
    }
    remove(members[0].dir.parent().expect("root"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_serves_and_forwards_but_never_votes() {
    let members = layout("observer", 3, 1, "");
    let mut servers: BTreeMap<u64, Server> = BTreeMap::new();
    for m in &members {
        servers.insert(m.sid, start(m).await);
    }
    let leader = wait_for_roles(&members, &[1, 2, 3, 4]).await;
    assert_ne!(leader, 4, "an observer never leads");
    let observer = &members[3];
    assert_eq!(mode(&observer.addr()).as_deref(), Some("observer"));

    // Writes through the observer are forwarded; reads after sync see
    // writes made elsewhere.
    let c = client_of(observer).await;
    c.create("/from-observer", b"o", &CreateOptions::persistent())
        .await
        .expect("write through the observer");
    let other = client_of(&members[0]).await;
    other.sync("/").await.expect("sync");
    let (data, _) = other.get_data("/from-observer").await.expect("replicated");
    assert_eq!(data, b"o");
    other
        .create("/from-participant", b"p", &CreateOptions::persistent())
        .await
        .expect("create");
    c.sync("/").await.expect("sync");
    let (data, _) = c.get_data("/from-participant").await.expect("informed");
    assert_eq!(data, b"p");
    c.close().await;
    other.close().await;

    // The leader's mntr counts the observer among learners, not voters.
    let leader_addr = members[leader as usize - 1].addr();
    let mntr = four_letter(&leader_addr, "mntr").expect("mntr");
    assert!(mntr.contains("zk_server_state\tleader"), "{mntr}");
    assert!(mntr.contains("zk_synced_followers\t2"), "{mntr}");

    // Two participants down: the observer and one participant are no
    // quorum, whatever the observer says.
    let downs: Vec<u64> = (1..=3).filter(|s| *s != leader).collect();
    for sid in &downs {
        servers.remove(sid).expect("running").shutdown().await;
    }
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while mode(&observer.addr()).as_deref() == Some("observer")
        || mode(&members[leader as usize - 1].addr()).as_deref() == Some("leader")
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a minority kept serving"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (_, s) in servers {
        s.shutdown().await;
    }
    remove(members[0].dir.parent().expect("root"));
}

/// A member looking for a leader takes no sessions but answers the
/// four-letter words as ZooKeeper does then: `ruok` is `imok`, `srvr` says
/// it does not serve (what liveness and readiness probes tell apart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looking_member_answers_four_letter_words() {
    let members = layout("looking", 3, 0, "");
    let lone = start(&members[0]).await;
    let addr = members[0].addr();
    let words = tokio::task::spawn_blocking(move || {
        let answer = |w: &str| four_letter(&addr, w).unwrap_or_default();
        (answer("ruok"), answer("srvr"), answer("isro"))
    })
    .await
    .expect("join");
    assert_eq!(
        words,
        (
            "imok".to_owned(),
            "This ZooKeeper instance is not currently serving requests\n".to_owned(),
            "null".to_owned()
        )
    );
    lone.shutdown().await;
    remove(members[0].dir.parent().expect("root"));
}
