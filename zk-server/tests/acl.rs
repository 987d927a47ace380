//! ACLs: digest (via the `auth` scheme), ip, invalid ACLs, masking in
//! getACL, the super user, and a failed addauth.

mod common;

use base64::Engine;
use bytes::Bytes;
use common::*;
use sha1::{Digest, Sha1};
use zk_proto::ErrorCode;
use zk_proto::client::{Request, Response, xid};
use zk_proto::data::{Acl, ClientInfo, Id, perms};

/// `user:base64(sha1(user:password))`, computed here independently of the
/// server.
fn digest(user_password: &str) -> String {
    let user = user_password.split(':').next().expect("user");
    let hash = Sha1::digest(user_password.as_bytes());
    format!(
        "{user}:{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

fn acl(perms: i32, scheme: &str, id: &str) -> Acl {
    Acl {
        perms,
        id: Id::new(scheme, id),
    }
}

/// /secret (and /secret/child) owned by `alice:pw` through the auth scheme.
async fn secret_tree(owner: &mut Client) {
    assert_eq!(
        owner.add_auth("digest", "alice:pw").await.err(),
        ErrorCode::Ok
    );
    let creator = vec![acl(perms::ALL, "auth", "")];
    owner
        .create_acl("/secret", b"s", creator.clone(), 0)
        .await
        .expect("create with auth ACL");
    owner
        .create_acl("/secret/child", b"", creator, 0)
        .await
        .expect("child");
}

#[tokio::test]
async fn digest_acl_denies_others_until_they_authenticate() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut alice = Client::connect(addr).await;
    secret_tree(&mut alice).await;
    let expected = vec![acl(perms::ALL, "digest", &digest("alice:pw"))];
    assert_eq!(alice.get_acl("/secret").await.expect("getACL").0, expected);

    let mut other = Client::connect(addr).await;
    assert_eq!(
        other.get_data("/secret", false).await,
        Err(ErrorCode::NoAuth)
    );
    assert_eq!(
        other.set_data("/secret", b"x", -1).await,
        Err(ErrorCode::NoAuth)
    );
    assert_eq!(
        other.delete("/secret/child", -1).await,
        Err(ErrorCode::NoAuth)
    );
    // The parent's DELETE permission is checked before the child is
    // looked up (PrepRequestProcessor), so a missing child says NoAuth too.
    assert_eq!(
        other.delete("/secret/none", -1).await,
        Err(ErrorCode::NoAuth)
    );
    assert_eq!(
        other.create("/secret/x", b"", 0).await,
        Err(ErrorCode::NoAuth)
    );
    assert_eq!(
        other.set_acl("/secret", Acl::open_unsafe(), -1).await,
        Err(ErrorCode::NoAuth)
    );
    assert_eq!(other.get_acl("/secret").await, Err(ErrorCode::NoAuth));
    assert_eq!(
        other.children("/secret", false).await,
        Err(ErrorCode::NoAuth)
    );

    // A wrong password is a different identity.
    assert_eq!(
        other.add_auth("digest", "alice:wrong").await.err(),
        ErrorCode::Ok
    );
    assert_eq!(
        other.get_data("/secret", false).await,
        Err(ErrorCode::NoAuth)
    );
    assert_eq!(
        other.add_auth("digest", "alice:pw").await.err(),
        ErrorCode::Ok
    );
    assert_eq!(
        other.get_data("/secret", false).await.expect("get").0,
        bytes(b"s")
    );
    other.set_data("/secret", b"t", 0).await.expect("set");
    other
        .create("/secret/x", b"", 0)
        .await
        .expect("create child");
    other
        .delete("/secret/child", -1)
        .await
        .expect("delete child");
    let stat = other
        .set_acl("/secret", Acl::open_unsafe(), 0)
        .await
        .expect("setACL");
    assert_eq!(stat.aversion, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn ip_acls_match_the_peer_address() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut c = Client::connect(addr).await;
    c.create_acl(
        "/ip-local",
        b"l",
        vec![acl(perms::ALL, "ip", "127.0.0.1")],
        0,
    )
    .await
    .expect("ip ACL");
    c.create_acl(
        "/ip-net",
        b"n",
        vec![acl(perms::ALL, "ip", "127.0.0.0/8")],
        0,
    )
    .await
    .expect("CIDR ACL");
    c.create_acl(
        "/ip-ten",
        b"t",
        vec![acl(perms::ALL, "ip", "10.0.0.0/8")],
        0,
    )
    .await
    .expect("CIDR ACL");

    let mut other = Client::connect(addr).await;
    assert_eq!(
        other.get_data("/ip-local", false).await.expect("get").0,
        bytes(b"l")
    );
    assert_eq!(
        other.get_data("/ip-net", false).await.expect("get").0,
        bytes(b"n")
    );
    assert_eq!(
        other.get_data("/ip-ten", false).await,
        Err(ErrorCode::NoAuth)
    );
    assert_eq!(
        other.set_data("/ip-ten", b"", -1).await,
        Err(ErrorCode::NoAuth)
    );
    // addauth ip adds the peer's own address, whatever it claims
    // (IPAuthenticationProvider): OK, and still no access.
    assert_eq!(other.add_auth("ip", "10.0.0.1").await.err(), ErrorCode::Ok);
    assert_eq!(
        other.get_data("/ip-ten", false).await,
        Err(ErrorCode::NoAuth)
    );
    let ip = ClientInfo {
        auth_scheme: "ip".into(),
        user: "127.0.0.1".into(),
    };
    assert_eq!(
        other.call(Request::WhoAmI).await,
        Ok(Response::WhoAmI(vec![ip]))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn invalid_acls_are_refused() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;
    assert_eq!(
        c.create_acl("/a", b"", vec![], 0).await,
        Err(ErrorCode::InvalidAcl)
    );
    // `auth` needs an authenticated id, and ip alone does not count.
    let creator = vec![acl(perms::ALL, "auth", "")];
    assert_eq!(
        c.create_acl("/a", b"", creator.clone(), 0).await,
        Err(ErrorCode::InvalidAcl)
    );
    let bad = [
        acl(perms::ALL, "world", "someone"),
        acl(perms::ALL, "ip", "300.1.1.1"),
        acl(perms::ALL, "digest", "no-colon"),
        acl(perms::ALL, "nosuch", "x"),
    ];
    for a in bad {
        assert_eq!(
            c.create_acl("/a", b"", vec![a.clone()], 0).await,
            Err(ErrorCode::InvalidAcl),
            "{a:?}"
        );
    }
    c.create("/a", b"", 0).await.expect("open ACL");
    assert_eq!(
        c.set_acl("/a", vec![], -1).await,
        Err(ErrorCode::InvalidAcl)
    );
    assert_eq!(
        c.set_acl("/a", creator, -1).await,
        Err(ErrorCode::InvalidAcl)
    );
    assert_eq!(c.exists("/a", false).await.expect("stat").aversion, 0);
    server.shutdown().await;
}

#[tokio::test]
async fn get_acl_without_admin_masks_digests() {
    let server = start("").await;
    let addr = server.local_addr();
    let hash = digest("bob:pw");
    let list = vec![
        acl(perms::READ, "world", "anyone"),
        acl(perms::ALL, "digest", &hash),
    ];
    let mut bob = Client::connect(addr).await;
    bob.create_acl("/masked", b"", list.clone(), 0)
        .await
        .expect("create");
    // Without ADMIN: READ is enough to see the list, digests masked.
    let (got, stat) = bob.get_acl("/masked").await.expect("getACL");
    assert_eq!(
        got,
        vec![
            acl(perms::READ, "world", "anyone"),
            acl(perms::ALL, "digest", "bob:x"),
        ]
    );
    assert_eq!(stat.aversion, 0);
    assert_eq!(bob.add_auth("digest", "bob:pw").await.err(), ErrorCode::Ok);
    assert_eq!(bob.get_acl("/masked").await.expect("getACL").0, list);
    server.shutdown().await;
}

#[tokio::test]
async fn super_digest_passes_every_acl() {
    let super_digest = digest("super:secret");
    let server = start(&format!("superDigest={super_digest}")).await;
    let addr = server.local_addr();
    let mut alice = Client::connect(addr).await;
    secret_tree(&mut alice).await;
    alice
        .create_acl("/sealed", b"z", vec![acl(perms::READ, "ip", "10.1.2.3")], 0)
        .await
        .expect("create");

    let mut impostor = Client::connect(addr).await;
    assert_eq!(
        impostor.add_auth("digest", "super:wrong").await.err(),
        ErrorCode::Ok
    );
    assert_eq!(
        impostor.get_data("/secret", false).await,
        Err(ErrorCode::NoAuth)
    );

    let mut root = Client::connect(addr).await;
    assert_eq!(
        root.add_auth("digest", "super:secret").await.err(),
        ErrorCode::Ok
    );
    assert_eq!(
        root.get_data("/secret", false).await.expect("get").0,
        bytes(b"s")
    );
    assert_eq!(
        root.get_data("/sealed", false).await.expect("get").0,
        bytes(b"z")
    );
    root.set_data("/sealed", b"y", -1).await.expect("set");
    root.delete("/secret/child", -1).await.expect("delete");
    root.create("/secret/new", b"", 0).await.expect("create");
    // With ADMIN (as super), getACL shows the real digest.
    let (list, _) = root.get_acl("/secret").await.expect("getACL");
    assert_eq!(list, vec![acl(perms::ALL, "digest", &digest("alice:pw"))]);
    root.set_acl("/secret", Acl::open_unsafe(), -1)
        .await
        .expect("setACL");
    server.shutdown().await;
}

#[tokio::test]
async fn addauth_with_an_unknown_scheme_fails_and_closes() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut c = Client::connect(addr).await;
    c.create("/before", b"", 0).await.expect("create");
    let reply = c.add_auth("nosuch", "whatever").await;
    assert_eq!(reply.header.xid, xid::AUTH);
    assert_eq!(reply.err(), ErrorCode::AuthFailed);
    c.conn.expect_closed().await;

    let mut fresh = Client::connect(addr).await;
    fresh
        .exists("/before", false)
        .await
        .expect("server still serves");
    server.shutdown().await;
}

#[tokio::test]
async fn acl_round_trip_and_aversion() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;
    c.create("/acl", b"", 0).await.expect("create");
    let (acl, stat) = c.get_acl("/acl").await.expect("getACL");
    assert_eq!((acl, stat.aversion), (Acl::open_unsafe(), 0));
    let read_only = Acl::read_unsafe();
    let stat = c
        .set_acl("/acl", read_only.clone(), 0)
        .await
        .expect("setACL");
    assert_eq!((stat.aversion, stat.version), (1, 0));
    assert_eq!(
        c.set_acl("/acl", read_only.clone(), 0).await,
        Err(ErrorCode::NoAuth)
    );
    assert_eq!(c.get_acl("/acl").await.expect("getACL").0, read_only);
    assert_eq!(c.set_data("/acl", b"x", -1).await, Err(ErrorCode::NoAuth));
    c.create("/acl2", b"", 0).await.expect("create");
    c.set_acl("/acl2", Acl::open_unsafe(), 0)
        .await
        .expect("setACL");
    assert_eq!(
        c.set_acl("/acl2", Acl::open_unsafe(), 0).await,
        Err(ErrorCode::BadVersion)
    );
    assert_eq!(c.get_acl("/missing").await, Err(ErrorCode::NoNode));
    server.shutdown().await;
}

#[tokio::test]
async fn who_am_i_lists_ip_then_digest() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;
    let ip = ClientInfo {
        auth_scheme: "ip".into(),
        user: "127.0.0.1".into(),
    };
    assert_eq!(
        c.call(Request::WhoAmI).await,
        Ok(Response::WhoAmI(vec![ip.clone()]))
    );
    assert_eq!(c.add_auth("digest", "alice:pw").await.err(), ErrorCode::Ok);
    let alice = ClientInfo {
        auth_scheme: "digest".into(),
        user: "alice".into(),
    };
    assert_eq!(
        c.call(Request::WhoAmI).await,
        Ok(Response::WhoAmI(vec![ip, alice]))
    );
    // The digest id is usable in an ACL right away.
    let acl = vec![Acl {
        perms: perms::ALL,
        id: Id::new("auth", ""),
    }];
    c.create_acl("/alice", b"", acl, 0).await.expect("auth ACL");
    assert_eq!(
        c.get_data("/alice", false).await.expect("get").0,
        Some(Bytes::new())
    );
    server.shutdown().await;
}

/// A watcher hears only about nodes it may read (ZOOKEEPER-4799,
/// CVE-2024-23944): a recursive watch on `/` must not leak /secret's
/// changes to a session without alice's credentials.
#[tokio::test]
async fn watch_events_need_read_permission() {
    let server = start("").await;
    let addr = server.local_addr();
    let mut owner = Client::connect(addr).await;
    secret_tree(&mut owner).await;
    owner.create("/open", b"", 0).await.expect("open node");
    let mut stranger = Client::connect(addr).await;
    stranger.add_watch("/", 1).await.expect("recursive watch");
    let mut alice = Client::connect(addr).await;
    assert_eq!(
        alice.add_auth("digest", "alice:pw").await.err(),
        ErrorCode::Ok
    );
    alice.add_watch("/", 1).await.expect("recursive watch");

    owner
        .set_data("/secret", b"changed", -1)
        .await
        .expect("set secret");
    owner
        .set_data("/open", b"changed", -1)
        .await
        .expect("set open");
    let seen = stranger.next_event().await;
    assert!(
        seen.is(zk_proto::data::EventType::NodeDataChanged, "/open"),
        "the stranger must see only /open, got {seen:?}"
    );
    stranger.assert_no_events().await;
    let first = alice.next_event().await;
    assert!(
        first.is(zk_proto::data::EventType::NodeDataChanged, "/secret"),
        "{first:?}"
    );
    server.shutdown().await;
}
