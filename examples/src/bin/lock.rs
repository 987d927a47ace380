//! Three workers, each with its own session, take turns on one
//! `InterProcessMutex` and increment a shared counter node while they hold
//! it. The counter ends exact because only the holder reads and writes it.
//!
//! `cargo run -p examples --bin lock [host:port]`

use zk_client::CreateOptions;
use zk_recipes::InterProcessMutex;

const LOCK: &str = "/examples/lock";
const COUNTER: &str = "/examples/lock-counter";
const WORKERS: u64 = 3;
const ROUNDS: u64 = 3;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("server: {}", examples::server());
    let setup = examples::connect().await?;
    let client = setup.client();
    zk_recipes::nodes::ensure_path_with(&client, "/examples", zk_client::CreateMode::Persistent)
        .await?;
    match client
        .create(COUNTER, b"0", &CreateOptions::persistent())
        .await
    {
        Ok(_) => {}
        Err(zk_client::Error::NodeExists) => {
            client.set_data(COUNTER, b"0", None).await?;
        }
        Err(e) => return Err(e.into()),
    }

    let mut workers = Vec::new();
    for id in 1..=WORKERS {
        let fw = examples::connect().await?;
        workers.push(tokio::spawn(async move {
            let lock = InterProcessMutex::new(&fw, LOCK);
            let client = fw.client();
            for _ in 0..ROUNDS {
                let guard = lock.acquire().await?;
                let node = lock.node().unwrap_or_default();
                let (data, _) = client.get_data(COUNTER).await?;
                let n: u64 = String::from_utf8_lossy(&data).parse()?;
                client
                    .set_data(COUNTER, (n + 1).to_string().as_bytes(), None)
                    .await?;
                println!("worker {id}: holds {node}; counter {n} -> {}", n + 1);
                guard.release().await?;
            }
            fw.close().await;
            anyhow::Ok(())
        }));
    }
    for w in workers {
        w.await??;
    }

    let (data, _) = client.get_data(COUNTER).await?;
    let total = String::from_utf8_lossy(&data).into_owned();
    println!("final counter: {total} (expected {})", WORKERS * ROUNDS);
    setup.close().await;
    anyhow::ensure!(total == (WORKERS * ROUNDS).to_string(), "lost an update");
    Ok(())
}
