//! A publisher changes a typed configuration value (JSON in a node); a
//! subscriber in another session follows it and prints every new value.
//!
//! `cargo run -p examples --bin config_watch [host:port]`

use std::time::Duration;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use zk_recipes::{ConfigPublisher, ConfigSubscriber};

const PATH: &str = "/examples/config/limits";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Limits {
    max_connections: u32,
    read_only: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("server: {}", examples::server());
    let admin = examples::connect().await?;
    let app = examples::connect().await?;
    let publisher = ConfigPublisher::<Limits>::new(&admin, PATH);
    publisher
        .publish(&Limits {
            max_connections: 10,
            read_only: false,
        })
        .await?;

    let subscriber = ConfigSubscriber::<Limits>::start(&app, PATH).await;
    println!("app starts with {:?}", subscriber.current());
    let mut updates = Box::pin(subscriber.updates());

    for (max_connections, read_only) in [(20, false), (50, false), (50, true)] {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let value = Limits {
            max_connections,
            read_only,
        };
        println!("admin publishes {value:?}");
        publisher.publish(&value).await?;
        // The subscriber sees each one (a burst would be coalesced to the
        // latest value).
        let seen = tokio::time::timeout(Duration::from_secs(10), updates.next()).await?;
        println!("app now runs with {:?}", seen.flatten());
    }

    subscriber.close();
    admin.close().await;
    app.close().await;
    Ok(())
}
