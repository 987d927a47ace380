//! multi (all or nothing, typed results, the failing op named) and
//! multiRead (each read with its own result).

mod common;

use common::TestEnv;
use zk_client::{CreateMode, CreateOptions, Error, OpResult, ReadResult};

#[tokio::test]
async fn multi_applies_everything_with_typed_results() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let p = CreateOptions::persistent();
    let (_, before) = c.create("/m", b"v0", &p).await.expect("create");
    c.create("/m/old", b"", &p).await.expect("old");

    let results = c
        .multi()
        .check("/m", 0)
        .set_data("/m", b"v1", Some(0))
        .create("/m/new", b"hello", &p)
        .create(
            "/m/seq-",
            b"",
            &CreateOptions::new(CreateMode::PersistentSequential),
        )
        .create("/m/eph", b"", &CreateOptions::ephemeral())
        .delete("/m/old", Some(0))
        .commit()
        .await
        .expect("multi");
    assert_eq!(results.len(), 6);
    assert_eq!(results[0], OpResult::Check);
    let OpResult::SetData { stat: set } = &results[1] else {
        panic!("{:?}", results[1]);
    };
    assert_eq!(
        (set.version, set.data_length, set.czxid),
        (1, 2, before.czxid)
    );
    // Every op of a multi has the multi's zxid.
    let zxid = set.mzxid;
    // Servers before 3.8.2 / 3.9.0 answer a create in a multi with the
    // path only (ZOOKEEPER-4026): no Stat.
    let OpResult::Create { path, stat } = &results[2] else {
        panic!("{:?}", results[2]);
    };
    assert_eq!(path, "/m/new");
    if let Some(stat) = stat {
        assert_eq!((stat.czxid, stat.data_length, stat.version), (zxid, 5, 0));
    } else {
        assert!(!env.is_ours(), "our server sends the Stat");
    }
    let OpResult::Create { path, .. } = &results[3] else {
        panic!("{:?}", results[3]);
    };
    // /m had two children created before this one: old, new.
    assert_eq!(path, "/m/seq-0000000002");
    let OpResult::Create { path, stat } = &results[4] else {
        panic!("{:?}", results[4]);
    };
    assert_eq!(path, "/m/eph");
    if let Some(stat) = stat {
        assert_eq!(stat.ephemeral_owner, c.session().id);
    }
    let (_, eph) = c.get_data("/m/eph").await.expect("eph");
    assert_eq!((eph.ephemeral_owner, eph.czxid), (c.session().id, zxid));
    assert_eq!(results[5], OpResult::Delete);

    let (data, stat) = c.get_data("/m").await.expect("get");
    assert_eq!(
        (data.as_slice(), stat.version, stat.mzxid),
        (&b"v1"[..], 1, zxid)
    );
    let (mut kids, stat) = c.get_children("/m").await.expect("children");
    kids.sort();
    assert_eq!(kids, ["eph", "new", "seq-0000000002"]);
    assert_eq!(stat.pzxid, zxid);
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn failed_multi_applies_nothing() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let p = CreateOptions::persistent();
    c.create("/f", b"v0", &p).await.expect("create");
    let before = c.exists("/f").await.expect("exists").expect("there");

    let cases: Vec<(usize, Error, zk_client::MultiBuilder)> = vec![
        (
            2,
            Error::BadVersion,
            c.multi()
                .create("/f/a", b"", &p)
                .set_data("/f", b"x", None)
                .check("/f", 0),
        ),
        (
            1,
            Error::NodeExists,
            c.multi().create("/f/b", b"", &p).create("/f", b"", &p),
        ),
        (
            1,
            Error::NoNode,
            c.multi()
                .set_data("/f", b"y", Some(0))
                .delete("/f/none", None),
        ),
        (
            0,
            Error::NotEmpty,
            c.multi().delete("/", None).create("/f/c", b"", &p),
        ),
        (
            1,
            Error::NoChildrenForEphemerals,
            c.multi()
                .create("/f/e", b"", &CreateOptions::ephemeral())
                .create("/f/e/x", b"", &p),
        ),
        (
            0,
            Error::InvalidAcl,
            c.multi()
                .create("/f/acl", b"", &p.clone().with_acl(Vec::new()))
                .set_data("/f", b"z", None),
        ),
    ];
    for (index, source, multi) in cases {
        let err = multi.commit().await.expect_err("fails");
        assert_eq!(
            err,
            Error::Multi {
                index,
                source: Box::new(source)
            }
        );
    }
    // Nothing of any of them happened.
    let after = c.exists("/f").await.expect("exists").expect("there");
    assert_eq!(after, before);
    let (kids, _) = c.get_children("/f").await.expect("children");
    assert!(kids.is_empty(), "{kids:?}");
    assert_eq!(c.get_data("/f").await.expect("get").0, b"v0");
    c.close().await;
    env.stop().await;
}

#[tokio::test]
async fn multi_read_gives_each_result() {
    let env = TestEnv::new().await;
    let c = env.client().await;
    let p = CreateOptions::persistent();
    let (_, stat) = c.create("/r", b"data", &p).await.expect("create");
    c.create("/r/x", b"", &p).await.expect("x");
    c.create("/r/y", b"", &p).await.expect("y");
    let stat = c.exists("/r").await.expect("exists").unwrap_or(stat);

    let results = c
        .multi_read()
        .get_data("/r")
        .get_children("/r")
        .get_data("/missing")
        .get_children("/r/x")
        .commit()
        .await
        .expect("multi_read");
    assert_eq!(results.len(), 4);
    assert_eq!(
        results[0],
        Ok(ReadResult::Data {
            data: b"data".to_vec(),
            stat
        })
    );
    let Ok(ReadResult::Children { children }) = &results[1] else {
        panic!("{:?}", results[1]);
    };
    let mut children = children.clone();
    children.sort();
    assert_eq!(children, ["x", "y"]);
    assert_eq!(results[2], Err(Error::NoNode));
    assert_eq!(
        results[3],
        Ok(ReadResult::Children {
            children: Vec::new()
        })
    );
    // An empty multi and an empty multiRead are fine.
    assert_eq!(c.multi().commit().await, Ok(Vec::new()));
    assert_eq!(c.multi_read().commit().await, Ok(Vec::new()));
    c.close().await;
    env.stop().await;
}
