//! Group membership across sessions: members see each other join, change
//! payloads and leave; an expired member's node disappears and comes back
//! with its next session.

mod common;

use common::{TestEnv, eventually, kill_session, wait_generation, within};
use zk_recipes::{GroupMember, Members};

fn ids(members: &Members) -> Vec<&str> {
    members.keys().map(String::as_str).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_see_joins_payloads_and_departures() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(3).await;
    let names = ["a", "b", "c"];
    let members: Vec<GroupMember> = fws
        .iter()
        .zip(names)
        .map(|(fw, id)| GroupMember::new(fw, "/g/workers", id, format!("{id}-0").as_bytes()))
        .collect();
    for m in &members {
        m.start();
    }
    for m in &members {
        let mut view = m.membership();
        within("everyone seen", view.wait_for(|all| all.len() == 3))
            .await
            .expect("view");
        assert_eq!(ids(&view.borrow()), names);
        assert_eq!(view.borrow()["b"], b"b-0");
    }
    let fresh = members[0].members().await.expect("members");
    assert_eq!(ids(&fresh), names);

    members[1].set_payload(b"b-1").await.expect("set_payload");
    let mut view = members[2].membership();
    within(
        "the new payload",
        view.wait_for(|all| all.get("b").is_some_and(|p| p == b"b-1")),
    )
    .await
    .expect("view");

    members[0].close().await.expect("close");
    for m in &members[1..] {
        let mut view = m.membership();
        within("a gone", view.wait_for(|all| !all.contains_key("a")))
            .await
            .expect("view");
        assert_eq!(ids(&view.borrow()), ["b", "c"]);
    }
    assert_eq!(ids(&members[1].current_members()), ["b", "c"]);
    for m in &members[1..] {
        m.close().await.expect("close");
    }
    assert!(members[1].members().await.expect("members").is_empty());
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_member_disappears_and_rejoins() {
    let env = TestEnv::new().await;
    let observer_fw = env.framework().await;
    let (fw, proxy) = env.proxied_framework().await;
    let member = GroupMember::new(&fw, "/g/expiry", "flaky", b"v1");
    let observer = GroupMember::new(&observer_fw, "/g/expiry", "steady", b"");
    member.start();
    observer.start();
    let mut view = observer.membership();
    within("both in", view.wait_for(|all| all.len() == 2))
        .await
        .expect("view");
    let old = fw.client();
    kill_session(&env, &proxy, &old).await;
    // While the member cannot get back, its node is gone for everyone.
    within(
        "flaky gone",
        view.wait_for(|all| !all.contains_key("flaky")),
    )
    .await
    .expect("view");
    assert_eq!(ids(&observer.members().await.expect("members")), ["steady"]);
    proxy.restore();
    let client = wait_generation(&fw, 2).await;
    within("flaky back", view.wait_for(|all| all.contains_key("flaky")))
        .await
        .expect("view");
    // It is the new session's node.
    let observer_client = observer_fw.client();
    eventually("the node owned by the new session", || {
        let (observer_client, client) = (observer_client.clone(), client.clone());
        async move {
            let stat = observer_client
                .exists("/g/expiry/flaky")
                .await
                .expect("exists");
            stat.is_some_and(|s| s.ephemeral_owner == client.session().id)
        }
    })
    .await;
    assert_eq!(view.borrow()["flaky"], b"v1");
    member.close().await.expect("close");
    observer.close().await.expect("close");
    env.finish(&[observer_fw, fw]).await;
}
