//! A work queue: a producer puts ten jobs into a `DistributedQueue`; two
//! consumers, each with its own session, take them until the queue stays
//! empty. Every job is taken exactly once.
//!
//! `cargo run -p examples --bin queue [host:port]`

use std::time::Duration;

use zk_recipes::DistributedQueue;

const QUEUE: &str = "/examples/queue/jobs";
const JOBS: usize = 10;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("server: {}", examples::server());
    let producer = examples::connect().await?;
    let queue = DistributedQueue::new(&producer, QUEUE);

    let mut consumers = Vec::new();
    for id in 1..=2 {
        let fw = examples::connect().await?;
        consumers.push(tokio::spawn(async move {
            let queue = DistributedQueue::new(&fw, QUEUE);
            let mut taken = Vec::new();
            // Stop once nothing came for a second.
            while let Some(job) = queue.try_take(Duration::from_secs(1)).await? {
                let job = String::from_utf8_lossy(&job).into_owned();
                println!("consumer {id}: took {job}");
                taken.push(job);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            fw.close().await;
            anyhow::Ok(taken)
        }));
    }

    for n in 1..=JOBS {
        queue.put(format!("job-{n}").as_bytes()).await?;
        println!("producer: put job-{n}");
    }

    let mut all = Vec::new();
    for (i, c) in consumers.into_iter().enumerate() {
        let taken = c.await??;
        println!("consumer {} took {} jobs", i + 1, taken.len());
        all.extend(taken);
    }
    let total = all.len();
    all.sort();
    all.dedup();
    println!("{total} jobs taken, {} distinct, of {JOBS} put", all.len());
    producer.close().await;
    anyhow::ensure!(
        total == JOBS && all.len() == JOBS,
        "a job was lost or doubled"
    );
    Ok(())
}
