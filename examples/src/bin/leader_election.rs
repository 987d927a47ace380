//! Three candidates, each with its own session, join a `LeaderLatch`
//! election. The leader works for a moment and then steps down (`close`),
//! so leadership passes from one candidate to the next.
//!
//! `cargo run -p examples --bin leader_election [host:port]`

use std::time::Duration;

use zk_recipes::LeaderLatch;

const ELECTION: &str = "/examples/election";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("server: {}", examples::server());
    let mut candidates = Vec::new();
    for id in 1..=3 {
        let fw = examples::connect().await?;
        let name = format!("candidate-{id}");
        let latch = LeaderLatch::new(&fw, ELECTION, &name);
        latch.start();
        candidates.push(tokio::spawn(async move {
            let mut leadership = latch.leadership();
            // Wait for our turn.
            leadership.wait_for(|leader| *leader).await?;
            let who: Vec<String> = latch
                .participants()
                .await?
                .into_iter()
                .map(|p| {
                    if p.is_leader {
                        format!("{}*", p.id)
                    } else {
                        p.id
                    }
                })
                .collect();
            println!("{name}: I am the leader (participants: {})", who.join(", "));
            // Lead for a while, unless leadership is lost first (the
            // connection dropped): then stop leading at once.
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(500)) => {
                    println!("{name}: done, stepping down");
                }
                _ = leadership.wait_for(|leader| !*leader) => {
                    println!("{name}: lost leadership");
                }
            }
            latch.close().await?;
            fw.close().await;
            anyhow::Ok(())
        }));
    }
    for c in candidates {
        c.await??;
    }
    println!("every candidate led once");
    Ok(())
}
