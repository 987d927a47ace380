//! Credentials: add_auth, digest ACLs, whoami, credentials from the
//! builder, replay after a reconnect, and a rejected scheme.

mod common;

use common::{TestEnv, wait_state, within};
use zk_client::{Acl, CreateOptions, Error, Id, SessionState, perms};
use zk_server::tree::acl::digest_of;

fn alice_only() -> Vec<Acl> {
    vec![Acl {
        perms: perms::ALL,
        id: Id::new("digest", &digest_of("alice:secret").expect("digest")),
    }]
}

#[tokio::test]
async fn digest_acl_needs_the_credentials() {
    let env = TestEnv::new().await;
    let alice = env.client().await;
    alice
        .add_auth("digest", b"alice:secret")
        .await
        .expect("add_auth");
    let me = alice.whoami().await.expect("whoami");
    assert!(
        me.iter()
            .any(|i| i.auth_scheme == "digest" && i.user == "alice"),
        "{me:?}"
    );
    assert!(me.iter().any(|i| i.auth_scheme == "ip"), "{me:?}");

    // `auth` means the creator's authenticated ids: alice's digest.
    let creator = CreateOptions::persistent().with_acl(Acl::creator_all());
    alice
        .create("/secret", b"s3cr3t", &creator)
        .await
        .expect("create");
    let (acl, _) = alice.get_acl("/secret").await.expect("get acl");
    assert_eq!(acl, alice_only());
    alice
        .create(
            "/explicit",
            b"e",
            &CreateOptions::persistent().with_acl(alice_only()),
        )
        .await
        .expect("explicit digest acl");

    let bob = env.client().await;
    assert_eq!(bob.get_data("/secret").await, Err(Error::NoAuth));
    assert_eq!(
        bob.set_data("/secret", b"x", None).await,
        Err(Error::NoAuth)
    );
    assert_eq!(
        bob.delete("/explicit", None).await,
        Ok(()),
        "delete needs DELETE on the parent"
    );
    assert_eq!(
        bob.create("/secret/child", b"", &CreateOptions::persistent())
            .await,
        Err(Error::NoAuth)
    );
    assert_eq!(
        bob.set_acl("/secret", &Acl::open_unsafe(), None).await,
        Err(Error::NoAuth)
    );
    // exists needs READ since 3.8.4/3.9.2 (ZOOKEEPER-2590); 3.8.0 answers
    // without checking.
    match bob.exists("/secret").await {
        Err(Error::NoAuth) => {}
        Ok(Some(stat)) if !env.is_ours() => assert_eq!(stat.data_length, 6),
        other => panic!("exists without READ: {other:?}"),
    }
    // getACL needs READ or ADMIN.
    assert_eq!(bob.get_acl("/secret").await, Err(Error::NoAuth));
    // With READ but not ADMIN the digest hashes are masked (ZOOKEEPER-1392).
    let mut readable = alice_only();
    readable.push(Acl::read_unsafe().remove(0));
    alice
        .create(
            "/readable",
            b"",
            &CreateOptions::persistent().with_acl(readable.clone()),
        )
        .await
        .expect("create readable");
    assert_eq!(alice.get_acl("/readable").await.expect("acl").0, readable);
    // bob may be on another member of an ensemble.
    bob.sync("/").await.expect("sync");
    let (acl, _) = bob.get_acl("/readable").await.expect("get acl");
    assert_eq!(acl[0].id, Id::new("digest", "alice:x"), "{acl:?}");
    assert_eq!(acl[1], readable[1]);

    // A wrong password is accepted as an identity, just not alice's.
    bob.add_auth("digest", b"alice:wrong")
        .await
        .expect("any digest is an identity");
    assert_eq!(bob.get_data("/secret").await, Err(Error::NoAuth));
    bob.add_auth("digest", b"alice:secret").await.expect("auth");
    assert_eq!(
        bob.get_data("/secret").await.map(|(d, _)| d),
        Ok(b"s3cr3t".to_vec())
    );
    bob.set_data("/secret", b"new", None).await.expect("write");
    bob.close().await;
    alice.close().await;
    env.stop().await;
}

#[tokio::test]
async fn credentials_from_the_builder() {
    let env = TestEnv::new().await;
    env.ensure_root().await;
    let c = within(
        "connect",
        env.builder().auth("digest", b"alice:secret").connect(),
    )
    .await
    .expect("connect");
    c.create(
        "/mine",
        b"",
        &CreateOptions::persistent().with_acl(Acl::creator_all()),
    )
    .await
    .expect("create with auth acl");
    assert_eq!(c.get_acl("/mine").await.expect("acl").0, alice_only());
    assert!(
        c.whoami()
            .await
            .expect("whoami")
            .iter()
            .any(|i| i.user == "alice")
    );
    c.close().await;
    env.stop().await;
}

/// Apache answers an auth packet as soon as it reads it, ahead of earlier
/// requests still in its pipeline; the client must match the reply anyway.
#[tokio::test]
async fn add_auth_pipelined_with_other_calls() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let p = CreateOptions::persistent();
    for round in 0..20 {
        let path = format!("/n{round}");
        let create = c.create(&path, b"", &p);
        let set = c.set_data(&path, b"v", None);
        let auth = c.add_auth("digest", format!("u{round}:p").as_bytes());
        let get = c.get_data(&path);
        let (create, set, auth, get) = within("pipelined calls", async {
            tokio::join!(create, set, auth, get)
        })
        .await;
        create.expect("create");
        assert_eq!(set.expect("set").version, 1);
        auth.expect("auth");
        assert_eq!(get.expect("get").0, b"v");
    }
    let me = c.whoami().await.expect("whoami");
    assert_eq!(me.iter().filter(|i| i.auth_scheme == "digest").count(), 20);
    assert_eq!(c.state(), SessionState::Connected);
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn auth_is_replayed_after_a_reconnect() {
    let env = TestEnv::new().await;
    env.ensure_root().await;
    let owner = env.client().await;
    owner
        .create(
            "/locked",
            b"data",
            &CreateOptions::persistent().with_acl(alice_only()),
        )
        .await
        .expect("create");
    let proxy = env.proxy().await;
    let c = within("connect", env.proxied(&proxy).connect())
        .await
        .expect("connect");
    assert_eq!(c.get_data("/locked").await, Err(Error::NoAuth));
    c.add_auth("digest", b"alice:secret").await.expect("auth");
    assert_eq!(
        c.get_data("/locked").await.map(|(d, _)| d),
        Ok(b"data".to_vec())
    );
    let session = c.session().id;

    proxy.cut();
    wait_state(&c, SessionState::Disconnected).await;
    proxy.restore();
    wait_state(&c, SessionState::Connected).await;
    assert_eq!(c.session().id, session, "same session");
    assert!(proxy.connections() >= 2, "reconnected through the proxy");
    assert_eq!(
        c.get_data("/locked").await.map(|(d, _)| d),
        Ok(b"data".to_vec())
    );
    assert!(
        c.whoami()
            .await
            .expect("whoami")
            .iter()
            .any(|i| i.auth_scheme == "digest" && i.user == "alice")
    );
    c.close().await;
    owner.close().await;
    env.stop().await;
}

#[tokio::test]
async fn unknown_scheme_fails_the_session() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let mut states = c.state_watcher();
    assert_eq!(c.add_auth("nonesuch", b"x").await, Err(Error::AuthFailed));
    within(
        "AuthFailed state",
        states.wait_for(|s| *s == SessionState::AuthFailed),
    )
    .await
    .expect("state");
    assert_eq!(c.exists("/").await, Err(Error::AuthFailed));
    c.close().await;
    env.stop().await;
}
