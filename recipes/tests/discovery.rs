//! Service discovery: Curator x-discovery's layout and JSON, queries,
//! provider strategies with down-instance marking, a cache that follows
//! registrations, and re-registration after a session expiry.

mod common;

use std::collections::BTreeSet;

use common::{TestEnv, eventually, wait_generation, within};
use zk_recipes::discovery::{ProviderStrategy, ServiceDiscovery, ServiceInstance};

fn ids(instances: &[ServiceInstance]) -> BTreeSet<String> {
    instances.iter().map(|i| i.id.clone()).collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_query_and_curator_json() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let mine = ServiceDiscovery::new(&fws[0], "/services");
    let theirs = ServiceDiscovery::new(&fws[1], "/services");
    assert!(theirs.query_names().await.expect("names").is_empty());

    let a = ServiceInstance::new("api", "10.0.0.1", 8080).with_id("a");
    let b = ServiceInstance::new("api", "10.0.0.2", 8080)
        .with_id("b")
        .with_payload(serde_json::json!({"zone": "eu"}));
    let db = ServiceInstance::new("db", "10.0.0.3", 5432).with_id("db-1");
    for i in [&a, &b, &db] {
        mine.register(i).await.expect("register");
    }
    // The two frameworks may be on different members of an ensemble:
    // each syncs before reading what the other wrote.
    sync(&fws[1]).await;
    assert_eq!(
        theirs.query_names().await.expect("names"),
        vec!["api", "db"]
    );
    let api = theirs.query_instances("api").await.expect("instances");
    assert_eq!(api, vec![a.clone(), b.clone()]);
    assert_eq!(
        theirs.query_instance("db", "db-1").await.expect("instance"),
        Some(db.clone())
    );
    assert_eq!(
        theirs.query_instance("db", "nope").await.expect("instance"),
        None
    );
    assert!(
        theirs
            .query_instances("nope")
            .await
            .expect("instances")
            .is_empty()
    );

    // basePath/<name>/<id>, ephemeral, Curator's field names.
    let raw = fws[1].client();
    let (data, stat) = raw.get_data("/services/api/b").await.expect("node");
    assert_eq!(stat.ephemeral_owner, fws[0].client().session().id);
    let json: serde_json::Value = serde_json::from_slice(&data).expect("json");
    let keys: BTreeSet<&str> = json
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "name",
            "id",
            "address",
            "port",
            "sslPort",
            "payload",
            "registrationTimeUTC",
            "serviceType",
            "uriSpec",
            "enabled",
        ])
    );
    assert_eq!(json["name"], "api");
    assert_eq!(json["id"], "b");
    assert_eq!(json["address"], "10.0.0.2");
    assert_eq!(json["port"], 8080);
    assert_eq!(json["sslPort"], serde_json::Value::Null);
    assert_eq!(json["serviceType"], "DYNAMIC");
    assert_eq!(json["payload"]["zone"], "eu");
    assert!(json["registrationTimeUTC"].as_i64().expect("a number") > 1_600_000_000_000);
    assert_eq!(json["enabled"], true);

    // An instance written by Curator (Java) reads back.
    let curator = r#"{"name":"api","id":"java-1","address":"10.0.0.9","port":9090,"sslPort":null,
        "payload":null,"registrationTimeUTC":1700000000000,"serviceType":"DYNAMIC",
        "uriSpec":{"parts":[{"value":"http://","variable":false}]}}"#;
    raw.create(
        "/services/api/java-1",
        curator.as_bytes(),
        &zk_client::CreateOptions::ephemeral(),
    )
    .await
    .expect("create");
    sync(&fws[0]).await;
    let java = mine
        .query_instance("api", "java-1")
        .await
        .expect("query")
        .expect("decodes");
    assert_eq!((java.port, java.enabled), (Some(9090), true));

    // Update and unregister.
    let mut b2 = b.clone();
    b2.port = Some(8081);
    mine.update(&b2).await.expect("update");
    sync(&fws[1]).await;
    assert_eq!(
        theirs.query_instance("api", "b").await.expect("query"),
        Some(b2.clone())
    );
    mine.unregister(&b2).await.expect("unregister");
    sync(&fws[1]).await;
    assert_eq!(
        ids(&theirs.query_instances("api").await.expect("instances")),
        set(&["a", "java-1"])
    );
    mine.close();
    theirs.close();
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_strategies_and_down_instances() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let registry = ServiceDiscovery::new(&fws[0], "/services");
    let client = ServiceDiscovery::new(&fws[1], "/services");
    let instances: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|id| ServiceInstance::new("web", "127.0.0.1", 80).with_id(id))
        .collect();
    for i in &instances {
        registry.register(i).await.expect("register");
    }

    // Round robin cycles through every instance, in id order.
    let rr = client.provider("web", ProviderStrategy::RoundRobin).await;
    eventually("three instances", || async {
        rr.all_instances().len() == 3
    })
    .await;
    let picks: Vec<String> = (0..6)
        .map(|_| rr.get_instance().expect("an instance").id)
        .collect();
    assert_eq!(picks[..3], picks[3..], "a cycle: {picks:?}");
    assert_eq!(
        picks[..3].iter().cloned().collect::<BTreeSet<_>>(),
        set(&["a", "b", "c"])
    );

    // One error is not enough; after two, the instance is skipped.
    let b = &instances[1];
    rr.note_error(b);
    assert!((0..6).any(|_| rr.get_instance().expect("an instance").id == "b"));
    rr.note_error(b);
    let after: BTreeSet<String> = (0..12)
        .map(|_| rr.get_instance().expect("an instance").id)
        .collect();
    assert_eq!(after, set(&["a", "c"]));

    // Sticky stays with its pick until it is marked down.
    let sticky = client.provider("web", ProviderStrategy::Sticky).await;
    let first = sticky.get_instance().expect("an instance");
    for _ in 0..10 {
        assert_eq!(sticky.get_instance().expect("an instance").id, first.id);
    }
    sticky.note_error(&first);
    sticky.note_error(&first);
    let second = sticky.get_instance().expect("an instance");
    assert_ne!(second.id, first.id);
    for _ in 0..10 {
        assert_eq!(sticky.get_instance().expect("an instance").id, second.id);
    }

    // Random picks only what is there (and, with 60 picks, all of it).
    let random = client.provider("web", ProviderStrategy::Random).await;
    let seen: BTreeSet<String> = (0..60)
        .map(|_| random.get_instance().expect("an instance").id)
        .collect();
    assert_eq!(seen, set(&["a", "b", "c"]));

    // Disabled and unregistered instances drop out; none left gives None.
    let mut c = instances[2].clone();
    c.enabled = false;
    registry.update(&c).await.expect("update");
    eventually("disabled instance skipped", || async {
        (0..6).all(|_| random.get_instance().is_some_and(|i| i.id != "c"))
    })
    .await;
    for i in &instances {
        registry.unregister(i).await.expect("unregister");
    }
    eventually("no instance", || async { random.get_instance().is_none() }).await;
    for p in [&rr, &sticky, &random] {
        p.close();
    }
    registry.close();
    client.close();
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_cache_follows_registrations() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let registry = ServiceDiscovery::new(&fws[0], "/services");
    let watcher = ServiceDiscovery::new(&fws[1], "/services");
    let cache = within("cache", watcher.cache("queue")).await;
    assert!(cache.instances().is_empty());
    let mut changes = cache.changes();

    let one = ServiceInstance::new("queue", "10.1.0.1", 5672).with_id("one");
    let two = ServiceInstance::new("queue", "10.1.0.2", 5672).with_id("two");
    registry.register(&one).await.expect("register");
    within("a change", changes.changed())
        .await
        .expect("cache alive");
    registry.register(&two).await.expect("register");
    eventually("both registered", || async {
        ids(&cache.instances()) == set(&["one", "two"])
    })
    .await;
    registry.unregister(&one).await.expect("unregister");
    eventually("one unregistered", || async {
        ids(&cache.instances()) == set(&["two"])
    })
    .await;
    // A session that ends takes its instances along.
    fws[0].close().await;
    eventually("gone with the session", || async {
        cache.instances().is_empty()
    })
    .await;
    cache.close();
    registry.close();
    watcher.close();
    env.finish(&fws[1..]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reregisters_after_session_expiry() {
    let env = TestEnv::new().await;
    let (fw, proxy) = env.proxied_framework().await;
    let observer_fw = env.framework().await;
    let discovery = ServiceDiscovery::new(&fw, "/services");
    let instance = ServiceInstance::new("api", "10.2.0.1", 8443).with_id("survivor");
    discovery.register(&instance).await.expect("register");
    // A cache on the session that will expire: it must follow again with
    // the next one.
    let cache = within("cache", discovery.cache("api")).await;
    eventually("cached", || async { cache.instances().len() == 1 }).await;

    let observer = observer_fw.client();
    let path = "/services/api/survivor";
    let owner = |client: zk_client::Client| async move {
        client
            .exists(path)
            .await
            .expect("exists")
            .map(|s| s.ephemeral_owner)
    };
    let first_session = fw.client().session().id;
    assert_eq!(owner(observer.clone()).await, Some(first_session));

    // Cut until the server expires the session (its ephemeral goes).
    proxy.cut();
    eventually("the instance goes with the session", || async {
        owner(observer.clone()).await.is_none()
    })
    .await;
    proxy.restore();
    let client = wait_generation(&fw, 2).await;
    let second_session = client.session().id;
    assert_ne!(second_session, first_session);
    eventually("re-registered with the new session", || async {
        owner(observer.clone()).await == Some(second_session)
    })
    .await;
    assert_eq!(
        discovery
            .query_instance("api", "survivor")
            .await
            .expect("query"),
        Some(instance.clone())
    );

    // The cache follows on the new session.
    let other = ServiceDiscovery::new(&observer_fw, "/services");
    let late = ServiceInstance::new("api", "10.2.0.2", 8443).with_id("late");
    other.register(&late).await.expect("register");
    eventually("cache follows after expiry", || async {
        ids(&cache.instances()) == set(&["late", "survivor"])
    })
    .await;
    cache.close();
    discovery.close();
    other.close();
    env.finish(&[fw, observer_fw]).await;
}

/// Brings `fw`'s server up to date with the leader before a read.
async fn sync(fw: &zk_recipes::Framework) {
    fw.client().sync("/").await.expect("sync");
}
