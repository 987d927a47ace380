//! Errors: each server error maps to its variant, ACL errors included, and
//! bad paths are refused before any round trip.

mod common;

use common::TestEnv;
use zk_client::{Acl, Client, CreateMode, CreateOptions, Error, Id, perms};

#[tokio::test]
async fn acls() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    c.create("/a", b"", &CreateOptions::persistent())
        .await
        .expect("create");
    let (acl, stat) = c.get_acl("/a").await.expect("get acl");
    assert_eq!(acl, Acl::open_unsafe());
    assert_eq!(stat.aversion, 0);
    assert_eq!(
        c.set_acl("/a", &Acl::read_unsafe(), Some(5)).await,
        Err(Error::BadVersion)
    );
    let stat = c
        .set_acl("/a", &Acl::read_unsafe(), Some(0))
        .await
        .expect("set acl");
    assert_eq!((stat.aversion, stat.version, stat.cversion), (1, 0, 0));
    let (acl, got) = c.get_acl("/a").await.expect("get acl");
    assert_eq!((acl, got), (Acl::read_unsafe(), stat));
    // Read only: no writes, no children.
    assert_eq!(c.set_data("/a", b"x", None).await, Err(Error::NoAuth));
    assert_eq!(
        c.create("/a/b", b"", &CreateOptions::persistent()).await,
        Err(Error::NoAuth)
    );
    c.get_data("/a").await.expect("read allowed");
    assert_eq!(
        c.set_acl("/a", &Acl::open_unsafe(), None).await,
        Err(Error::NoAuth)
    );

    // Bad ACLs: empty, an unknown scheme, `auth` without credentials, a
    // malformed digest id.
    let bad = [
        Vec::new(),
        vec![Acl {
            perms: perms::ALL,
            id: Id::new("nonesuch", "x"),
        }],
        Acl::creator_all(),
        vec![Acl {
            perms: perms::ALL,
            id: Id::new("digest", "no-colon"),
        }],
    ];
    for acl in bad {
        let opts = CreateOptions::persistent().with_acl(acl.clone());
        assert_eq!(
            c.create("/bad", b"", &opts).await,
            Err(Error::InvalidAcl),
            "{acl:?}"
        );
    }
    c.create("/b", b"", &CreateOptions::persistent())
        .await
        .expect("create b");
    assert_eq!(c.set_acl("/b", &[], None).await, Err(Error::InvalidAcl));
    assert_eq!(c.get_acl("/missing").await, Err(Error::NoNode));
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn error_variants() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let p = CreateOptions::persistent();
    c.create("/x", b"", &p).await.expect("create");
    assert_eq!(c.create("/x", b"", &p).await, Err(Error::NodeExists));
    assert_eq!(c.create("/none/x", b"", &p).await, Err(Error::NoNode));
    c.create("/x/y", b"", &p).await.expect("child");
    assert_eq!(c.delete("/x", None).await, Err(Error::NotEmpty));
    assert_eq!(c.delete("/x/y", Some(1)).await, Err(Error::BadVersion));
    c.create("/eph", b"", &CreateOptions::ephemeral())
        .await
        .expect("ephemeral");
    assert_eq!(
        c.create("/eph/child", b"", &p).await,
        Err(Error::NoChildrenForEphemerals)
    );
    assert_eq!(
        c.create("/x/z", b"", &p.clone().with_acl(Vec::new())).await,
        Err(Error::InvalidAcl)
    );
    assert!(!Error::NoNode.is_retryable());
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn bad_paths_fail_before_any_round_trip() {
    use futures::FutureExt;
    let env = TestEnv::new().await;
    let c = env.client().await;
    let p = CreateOptions::persistent();
    // Each future is ready at its first poll: nothing was sent.
    let bad = |r: Option<Result<(), Error>>| match r {
        Some(Err(Error::BadPath { .. })) => {}
        other => panic!("expected BadPath at once, got {other:?}"),
    };
    for path in ["", "a", "/a/", "/a//b", "/a/./b", "/a/../b", "/a\0b", "/."] {
        bad(c.create(path, b"", &p).map(|r| r.map(drop)).now_or_never());
        bad(c.get_data(path).map(|r| r.map(drop)).now_or_never());
        bad(c.delete(path, None).now_or_never());
        bad(c.exists(path).map(|r| r.map(drop)).now_or_never());
        bad(c
            .set_data(path, b"", None)
            .map(|r| r.map(drop))
            .now_or_never());
        bad(c.get_children(path).map(|r| r.map(drop)).now_or_never());
        bad(c.get_acl(path).map(|r| r.map(drop)).now_or_never());
        bad(c.check(path, 0).now_or_never());
        bad(c.sync(path).now_or_never());
        bad(c
            .get_data_and_watch(path)
            .map(|r| r.map(drop))
            .now_or_never());
        let watch = c.add_watch(path, zk_client::AddWatchMode::Persistent);
        bad(watch.map(|r| r.map(drop)).now_or_never());
        let multi = c.multi().check("/ok", 0).delete(path, None).commit();
        bad(multi.map(|r| r.map(drop)).now_or_never());
        let read = c.multi_read().get_data(path).commit();
        bad(read.map(|r| r.map(drop)).now_or_never());
    }
    // A sequential create may end in '/': the server appends the number.
    let seq = CreateOptions::new(CreateMode::PersistentSequential);
    bad(c
        .create("/a//", b"", &seq)
        .map(|r| r.map(drop))
        .now_or_never());
    // A valid call does go out (and so is not ready at once).
    assert!(c.exists("/fine").now_or_never().is_none());
    assert_eq!(c.exists("/fine").await, Ok(None));
    assert!(Client::builder("127.0.0.1:1/bad/").is_err());
    c.close().await;
    env.stop().await;
}
