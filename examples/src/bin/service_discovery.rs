//! Three instances of an "api" service register (Curator x-discovery's
//! layout and JSON); a client picks instances round robin, reports errors
//! on one until it is skipped, and sees an instance leave.
//!
//! `cargo run -p examples --bin service_discovery [host:port]`

use std::time::Duration;

use zk_recipes::discovery::{ProviderStrategy, ServiceDiscovery, ServiceInstance};

const BASE: &str = "/examples/services";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("server: {}", examples::server());
    // The service's side: one session registers three instances.
    let server_fw = examples::connect().await?;
    let registry = ServiceDiscovery::new(&server_fw, BASE);
    let mut instances = Vec::new();
    for (i, port) in [8081, 8082, 8083].into_iter().enumerate() {
        let instance =
            ServiceInstance::new("api", "127.0.0.1", port).with_id(&format!("api-{}", i + 1));
        registry.register(&instance).await?;
        println!("registered {} at {}:{port}", instance.id, instance.address);
        instances.push(instance);
    }

    // The client's side, in another session.
    let client_fw = examples::connect().await?;
    let discovery = ServiceDiscovery::new(&client_fw, BASE);
    println!("services: {:?}", discovery.query_names().await?);
    let provider = discovery
        .provider("api", ProviderStrategy::RoundRobin)
        .await;
    for _ in 0..4 {
        if let Some(i) = provider.get_instance() {
            println!("round robin picks {} (port {:?})", i.id, i.port);
        }
    }

    // Calls to api-2 fail: after two errors it is skipped for a while.
    provider.note_error(&instances[1]);
    provider.note_error(&instances[1]);
    println!("api-2 failed twice; it is skipped now");
    for _ in 0..4 {
        if let Some(i) = provider.get_instance() {
            println!("round robin picks {}", i.id);
        }
    }

    // An instance shuts down: a cache of the service follows.
    let cache = discovery.cache("api").await;
    let mut changes = cache.changes();
    registry.unregister(&instances[0]).await?;
    println!("api-1 unregistered");
    while cache.instances().iter().any(|i| i.id == "api-1") {
        tokio::time::timeout(Duration::from_secs(10), changes.changed()).await??;
    }
    let mut left: Vec<String> = cache.instances().into_iter().map(|i| i.id).collect();
    left.sort();
    println!("instances now: {left:?}");

    cache.close();
    provider.close();
    registry.close();
    discovery.close();
    server_fw.close().await;
    client_fw.close().await;
    Ok(())
}
