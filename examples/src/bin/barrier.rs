//! Barriers. First a `DistributedBarrier`: workers wait while a
//! coordinator holds it set, and all go when it is removed. Then a
//! `DistributedDoubleBarrier` for three members: nobody starts until all
//! have entered, nobody goes on until all have left.
//!
//! `cargo run -p examples --bin barrier [host:port]`

use std::time::Duration;

use zk_recipes::{DistributedBarrier, DistributedDoubleBarrier};

const GATE: &str = "/examples/barrier/gate";
const ROUND: &str = "/examples/barrier/round";
const MEMBERS: usize = 3;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("server: {}", examples::server());

    // A gate: set by the coordinator, waited on by the workers.
    let coordinator = examples::connect().await?;
    let gate = DistributedBarrier::new(&coordinator, GATE);
    gate.set().await?;
    println!("coordinator: gate set");
    let mut workers = Vec::new();
    for id in 1..=MEMBERS {
        let fw = examples::connect().await?;
        workers.push(tokio::spawn(async move {
            println!("worker {id}: waiting at the gate");
            DistributedBarrier::new(&fw, GATE).wait().await?;
            println!("worker {id}: through the gate");
            anyhow::Ok(fw)
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!("coordinator: opening the gate");
    gate.remove().await?;
    let mut sessions = Vec::new();
    for w in workers {
        sessions.push(w.await??);
    }

    // A double barrier: enter together, leave together.
    let mut members = Vec::new();
    for (i, fw) in sessions.into_iter().enumerate() {
        let id = i + 1;
        members.push(tokio::spawn(async move {
            // Members arrive at different times.
            tokio::time::sleep(Duration::from_millis(150 * id as u64)).await;
            let barrier = DistributedDoubleBarrier::new(&fw, ROUND, MEMBERS);
            println!("member {id}: entering");
            barrier.enter().await?;
            println!("member {id}: everyone is in; working");
            tokio::time::sleep(Duration::from_millis(100 * id as u64)).await;
            println!("member {id}: done; leaving");
            barrier.leave().await?;
            println!("member {id}: everyone has left");
            fw.close().await;
            anyhow::Ok(())
        }));
    }
    for m in members {
        m.await??;
    }
    coordinator.close().await;
    Ok(())
}
