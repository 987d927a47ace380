//! Every op over TCP, with the exact Stat bookkeeping and error codes.

mod common;

use common::*;
use zk_proto::ErrorCode;
use zk_proto::client::{MultiResult, PathRequest, Request, Response};
use zk_proto::data::Acl;

#[tokio::test]
async fn create_modes_and_their_stats() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;

    let (path, stat) = c.create2("/p", b"data", 0).await.expect("create2");
    assert_eq!(path, "/p");
    let zxid = c.last_zxid;
    assert_eq!(
        (stat.czxid, stat.mzxid, stat.pzxid),
        (zxid, zxid, zxid),
        "{stat:?}"
    );
    assert_eq!(stat.ctime, stat.mtime);
    assert!(stat.ctime > 0);
    assert_eq!(
        (stat.version, stat.cversion, stat.aversion),
        (0, 0, 0),
        "{stat:?}"
    );
    assert_eq!(
        (stat.ephemeral_owner, stat.data_length, stat.num_children),
        (0, 4, 0)
    );
    assert_eq!(c.exists("/p", false).await, Ok(stat.clone()));
    let (data, got) = c.get_data("/p", false).await.expect("getData");
    assert_eq!((data, got), (bytes(b"data"), stat));

    // A plain create answers with the path only.
    assert_eq!(
        c.create("/p/plain", b"", 0).await.as_deref(),
        Ok("/p/plain")
    );
    let eph = c.create2("/p/eph", b"e", 1).await.expect("ephemeral").1;
    assert_eq!(eph.ephemeral_owner, c.session_id);
    assert_eq!(
        c.create("/p/eph/child", b"", 0).await,
        Err(ErrorCode::NoChildrenForEphemerals)
    );
    assert_eq!(
        c.create("/p/plain", b"", 0).await,
        Err(ErrorCode::NodeExists)
    );
    assert_eq!(c.create("/nope/x", b"", 0).await, Err(ErrorCode::NoNode));
    assert_eq!(c.create("bad", b"", 0).await, Err(ErrorCode::BadArguments));

    // A null data buffer stays null.
    let req = Request::Create(zk_proto::client::CreateRequest {
        path: "/p/null".into(),
        data: None,
        acl: Acl::open_unsafe(),
        flags: 0,
    });
    c.call(req).await.expect("create with null data");
    assert_eq!(c.get_data("/p/null", false).await.expect("get").0, None);
    server.shutdown().await;
}

#[tokio::test]
async fn sequential_names_come_from_the_parents_create_count() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;
    c.create("/seq", b"", 0).await.expect("parent");
    c.create("/seq/a", b"", 0).await.expect("a");
    assert_eq!(
        c.create("/seq/n-", b"", 2).await.as_deref(),
        Ok("/seq/n-0000000001")
    );
    let (path, stat) = c
        .create2("/seq/e-", b"", 3)
        .await
        .expect("ephemeral sequential");
    assert_eq!(path, "/seq/e-0000000002");
    assert_eq!(stat.ephemeral_owner, c.session_id);
    // Deletes do not advance the suffix; creates do.
    c.delete("/seq/a", 0).await.expect("delete a");
    assert_eq!(
        c.create("/seq/n-", b"", 2).await.as_deref(),
        Ok("/seq/n-0000000003")
    );
    let (children, stat) = c.children2("/seq").await.expect("children");
    assert_eq!(children, ["e-0000000002", "n-0000000001", "n-0000000003"]);
    // Clients see 4 creates + 1 delete: 2 * 4 - 3 (copyStat).
    assert_eq!((stat.cversion, stat.num_children), (5, 3));
    server.shutdown().await;
}

#[tokio::test]
async fn containers_and_ttl_nodes_show_no_owner() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;
    let (path, stat) = c.create_container("/box").await.expect("container");
    assert_eq!(path, "/box");
    assert_eq!(
        (stat.ephemeral_owner, stat.version, stat.num_children),
        (0, 0, 0)
    );
    c.create("/box/x", b"", 0)
        .await
        .expect("child of a container");
    // TTL nodes need extendedTypesEnabled.
    assert_eq!(
        c.create_ttl("/ttl", 5000).await,
        Err(ErrorCode::Unimplemented)
    );
    server.shutdown().await;

    let server = start("extendedTypesEnabled=true").await;
    let mut c = Client::connect(server.local_addr()).await;
    let (path, stat) = c.create_ttl("/ttl", 60_000).await.expect("ttl node");
    assert_eq!((path.as_str(), stat.ephemeral_owner), ("/ttl", 0));
    assert_eq!(c.create_ttl("/zero", 0).await, Err(ErrorCode::BadArguments));
    server.shutdown().await;
}

#[tokio::test]
async fn delete_and_set_data_check_versions() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;
    c.create("/d", b"v0", 0).await.expect("create");
    c.create("/d/kid", b"", 0).await.expect("child");

    let stat = c.set_data("/d", b"v1!", 0).await.expect("setData");
    assert_eq!(
        (stat.version, stat.mzxid, stat.data_length),
        (1, c.last_zxid, 3)
    );
    assert!(stat.czxid < stat.mzxid);
    assert_eq!(c.set_data("/d", b"x", 0).await, Err(ErrorCode::BadVersion));
    let stat = c.set_data("/d", b"v2", -1).await.expect("any version");
    assert_eq!(stat.version, 2);
    assert_eq!(
        c.set_data("/missing", b"", -1).await,
        Err(ErrorCode::NoNode)
    );
    assert_eq!(c.get_data("/d", false).await.expect("get").0, bytes(b"v2"));

    assert_eq!(c.delete("/d", 2).await, Err(ErrorCode::NotEmpty));
    assert_eq!(c.delete("/d/kid", 5).await, Err(ErrorCode::BadVersion));
    assert_eq!(c.delete("/d/missing", -1).await, Err(ErrorCode::NoNode));
    c.delete("/d/kid", 0).await.expect("delete child");
    let delete_zxid = c.last_zxid;
    let stat = c.exists("/d", false).await.expect("parent");
    // One create and one delete: 2 * 1 - 0.
    assert_eq!(
        (stat.cversion, stat.num_children, stat.pzxid),
        (2, 0, delete_zxid)
    );
    assert_eq!(c.delete("/d", 1).await, Err(ErrorCode::BadVersion));
    c.delete("/d", 2).await.expect("delete");
    assert_eq!(c.exists("/d", false).await, Err(ErrorCode::NoNode));
    server.shutdown().await;
}

#[tokio::test]
async fn client_visible_cversion_counts_creates_and_deletes() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;
    c.create("/cv", b"", 0).await.expect("parent");
    for name in ["a", "b", "c"] {
        c.create(&format!("/cv/{name}"), b"", 0)
            .await
            .expect("child");
    }
    c.delete("/cv/b", -1).await.expect("delete");
    let (children, stat) = c.children2("/cv").await.expect("children2");
    assert_eq!(children, ["a", "c"]);
    assert_eq!((stat.cversion, stat.num_children), (2 * 3 - 2, 2));
    assert_eq!(c.exists("/cv", false).await, Ok(stat.clone()));
    assert_eq!(
        c.children("/cv", false).await.expect("children"),
        ["a", "c"]
    );
    assert_eq!(c.children("/none", false).await, Err(ErrorCode::NoNode));
    server.shutdown().await;
}

#[tokio::test]
async fn sync_and_system_nodes() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;
    let synced = c
        .call(Request::Sync(PathRequest {
            path: "/zookeeper".into(),
        }))
        .await;
    assert_eq!(synced, Ok(Response::Sync("/zookeeper".into())));
    for path in ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"] {
        c.exists(path, false)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    assert_eq!(
        c.children("/zookeeper", false).await.expect("children"),
        ["config", "quota"]
    );
    assert_eq!(
        c.children("/", false).await.expect("children"),
        ["zookeeper"]
    );
    let all = c
        .call(Request::GetAllChildrenNumber(PathRequest {
            path: "/".into(),
        }))
        .await;
    assert_eq!(all, Ok(Response::AllChildrenNumber(3)));
    server.shutdown().await;
}

#[tokio::test]
async fn multi_is_all_or_nothing() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;
    c.create("/m", b"", 0).await.expect("create");

    let results = c
        .multi(vec![
            check_op("/m", 0),
            create_op("/m/a", b"a", 0),
            Request::Create2(create_req("/m/b", b"b", Acl::open_unsafe(), 0)),
            set_data_req("/m", b"m1", 0),
            delete_op("/m/a", 0),
        ])
        .await
        .expect("multi");
    let zxid = c.last_zxid;
    let [check, create, create2, set, delete] = &results[..] else {
        panic!("{results:?}");
    };
    assert_eq!(check, &MultiResult::Check);
    assert_eq!(
        create,
        &MultiResult::Create {
            path: "/m/a".into()
        }
    );
    match create2 {
        MultiResult::Create2 { path, stat, .. } => {
            assert_eq!(
                (path.as_str(), stat.czxid),
                ("/m/b", zxid),
                "one zxid for all"
            );
        }
        other => panic!("{other:?}"),
    }
    match set {
        MultiResult::SetData { stat } => assert_eq!((stat.version, stat.mzxid), (1, zxid)),
        other => panic!("{other:?}"),
    }
    assert_eq!(delete, &MultiResult::Delete);

    // The second op fails: the first reports 0, the third -2; none applied.
    let results = c
        .multi(vec![
            create_op("/m/c", b"", 0),
            check_op("/m", 0),
            set_data_req("/m", b"m2", -1),
        ])
        .await
        .expect("a failed multi answers per op");
    let errs: Vec<i32> = results
        .iter()
        .map(|r| match r {
            MultiResult::Error { err } => *err,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        errs,
        [
            0,
            ErrorCode::BadVersion.code(),
            ErrorCode::RuntimeInconsistency.code()
        ]
    );
    assert_eq!(c.exists("/m/c", false).await, Err(ErrorCode::NoNode));
    let (data, stat) = c.get_data("/m", false).await.expect("get");
    assert_eq!((data, stat.version), (bytes(b"m1"), 1));
    assert_eq!(c.children("/m", false).await.expect("children"), ["b"]);
    server.shutdown().await;
}

#[tokio::test]
async fn multi_read_answers_each_op() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;
    c.create("/r", b"rd", 0).await.expect("create");
    c.create("/r/k", b"", 0).await.expect("child");
    let stat = c.exists("/r", false).await.expect("stat");
    let reply = c
        .call(Request::MultiRead(vec![
            Request::GetData(watch_req("/r", false)),
            Request::GetChildren(watch_req("/r", false)),
            Request::GetData(watch_req("/r/none", false)),
        ]))
        .await;
    assert_eq!(
        reply,
        Ok(Response::Multi(vec![
            MultiResult::GetData {
                data: bytes(b"rd"),
                stat,
            },
            MultiResult::GetChildren {
                children: vec!["k".into()],
            },
            MultiResult::Error {
                err: ErrorCode::NoNode.code(),
            },
        ]))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn ephemerals_and_child_counts() {
    let server = start("").await;
    let mut c = Client::connect(server.local_addr()).await;
    let mut other = Client::connect(server.local_addr()).await;
    c.create("/eph", b"", 0).await.expect("parent");
    for p in ["/eph/a", "/eph/b", "/e1"] {
        c.create(p, b"", 1).await.expect("ephemeral");
    }
    other
        .create("/eph/theirs", b"", 1)
        .await
        .expect("ephemeral");
    assert_eq!(ephemerals(&mut c, "/").await, ["/e1", "/eph/a", "/eph/b"]);
    assert_eq!(ephemerals(&mut c, "/eph/").await, ["/eph/a", "/eph/b"]);
    assert_eq!(ephemerals(&mut c, "/e").await, ["/e1", "/eph/a", "/eph/b"]);
    assert_eq!(ephemerals(&mut other, "").await, ["/eph/theirs"]);

    c.create("/eph/deep", b"", 0).await.expect("persistent");
    c.create("/eph/deep/er", b"", 0).await.expect("persistent");
    let count = c
        .call(Request::GetAllChildrenNumber(PathRequest {
            path: "/eph".into(),
        }))
        .await;
    assert_eq!(count, Ok(Response::AllChildrenNumber(5)));
    let missing = c
        .call(Request::GetAllChildrenNumber(PathRequest {
            path: "/no".into(),
        }))
        .await;
    assert_eq!(missing, Err(ErrorCode::NoNode));
    server.shutdown().await;
}

async fn ephemerals(c: &mut Client, prefix: &str) -> Vec<String> {
    let req = Request::GetEphemerals(PathRequest {
        path: prefix.into(),
    });
    match c.call(req).await {
        Ok(Response::GetEphemerals(mut paths)) => {
            paths.sort();
            paths
        }
        other => panic!("{other:?}"),
    }
}
