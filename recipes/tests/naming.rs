//! Naming across sessions: ids unique (and growing) under concurrency and
//! while connections drop; unique names; a registry where a name has one
//! owner.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{TestEnv, children, cut_repeatedly, eventually, within};
use zk_recipes::{Error, NameRegistry, UniqueIdGenerator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_are_unique_across_sessions() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(4).await;
    let mut tasks = Vec::new();
    for fw in &fws {
        for _ in 0..3 {
            let ids = UniqueIdGenerator::new(fw, "/n/ids");
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                for _ in 0..20 {
                    mine.push(ids.next_id().await.expect("next_id"));
                }
                mine
            }));
        }
    }
    let mut all = BTreeSet::new();
    let mut count = 0;
    for t in tasks {
        let mine = within("id tasks", t).await.expect("task");
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "ids went down: {mine:?}"
        );
        count += mine.len();
        all.extend(mine);
    }
    assert_eq!(all.len(), count, "an id handed out twice");
    // The request nodes are gone; the id node stays (it keeps the count).
    assert!(children(&fws[0].client(), "/n/ids").await.is_empty());
    assert!(
        fws[0]
            .client()
            .exists("/n/ids")
            .await
            .expect("exists")
            .is_some()
    );
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_stay_unique_while_connections_drop() {
    let env = TestEnv::new().await;
    let direct = env.framework().await;
    let (fw, proxy) = env.proxied_framework().await;
    let proxy = Arc::new(proxy);
    let stop = Arc::new(AtomicBool::new(false));
    let cutter = cut_repeatedly(std::slice::from_ref(&proxy), 30, stop.clone());
    let mut tasks = Vec::new();
    for f in [&fw, &direct] {
        let ids = UniqueIdGenerator::new(f, "/n/ids-cut");
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                mine.push(ids.next_id().await.expect("next_id"));
            }
            mine
        }));
    }
    let mut all = BTreeSet::new();
    let mut count = 0;
    for t in tasks {
        let mine = within("id tasks", t).await.expect("task");
        count += mine.len();
        all.extend(mine);
    }
    within("cutter", cutter).await.expect("cutter");
    assert_eq!(all.len(), count, "an id handed out twice");
    // Nothing left behind once the sessions have caught up.
    let observer = direct.clone();
    eventually("request nodes deleted", || {
        let observer = observer.clone();
        async move { children(&observer.client(), "/n/ids-cut").await.is_empty() }
    })
    .await;
    env.finish(&[direct, fw]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_names_carry_the_prefix() {
    let env = TestEnv::new().await;
    let fw = env.framework().await;
    let ids = UniqueIdGenerator::new(&fw, "/n/names");
    let a = ids.unique_name("worker-").await.expect("name");
    let b = ids.unique_name("worker-").await.expect("name");
    assert!(
        a.starts_with("worker-") && a.len() == "worker-".len() + 10,
        "{a}"
    );
    assert_ne!(a, b);
    env.finish(&[fw]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_has_one_owner() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let a = NameRegistry::new(&fws[0], "/n/registry");
    let b = NameRegistry::new(&fws[1], "/n/registry");
    assert_eq!(a.list().await.expect("list"), Vec::<String>::new());
    a.register("printer", b"10.0.0.7").await.expect("register");
    match b.register("printer", b"10.0.0.8").await {
        Err(Error::Zk(zk_client::Error::NodeExists)) => {}
        other => panic!("a taken name registered: {other:?}"),
    }
    assert_eq!(
        b.lookup("printer").await.expect("lookup"),
        Some(b"10.0.0.7".to_vec())
    );
    assert_eq!(b.lookup("scanner").await.expect("lookup"), None);
    b.register("scanner", b"10.0.0.9").await.expect("register");
    // `a` may be on another member of an ensemble: sync before reading.
    fws[0].client().sync("/").await.expect("sync");
    assert_eq!(a.list().await.expect("list"), ["printer", "scanner"]);
    assert!(b.unregister("printer").await.expect("unregister"));
    assert!(!b.unregister("printer").await.expect("unregister"));
    b.register("printer", b"10.0.0.8")
        .await
        .expect("register again");
    assert!(a.register("bad/name", b"").await.is_err());
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_races_have_one_winner() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(4).await;
    let mut tasks = Vec::new();
    for (i, fw) in fws.iter().enumerate() {
        let names = NameRegistry::new(fw, "/n/race");
        tasks.push(tokio::spawn(async move {
            names.register("leader", format!("{i}").as_bytes()).await
        }));
    }
    let mut winners = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match within("registrations", t).await.expect("task") {
            Ok(()) => winners.push(i),
            Err(Error::Zk(zk_client::Error::NodeExists)) => {}
            Err(e) => panic!("register: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let value = NameRegistry::new(&fws[0], "/n/race")
        .lookup("leader")
        .await
        .expect("lookup");
    assert_eq!(value, Some(format!("{}", winners[0]).into_bytes()));
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ephemeral_name_goes_with_its_session() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let a = NameRegistry::new(&fws[0], "/n/eph");
    a.register_ephemeral("primary", b"a")
        .await
        .expect("register");
    // Registering it again from the same session is the same registration.
    a.register_ephemeral("primary", b"a").await.expect("again");
    let b = NameRegistry::new(&fws[1], "/n/eph");
    assert!(b.register_ephemeral("primary", b"b").await.is_err());
    fws[0].close().await;
    eventually("the name freed", || async {
        b.lookup("primary").await.expect("lookup").is_none()
    })
    .await;
    b.register_ephemeral("primary", b"b")
        .await
        .expect("register");
    env.finish(&fws).await;
}
