//! The README's Rust snippets, compiled and run as they are written, each
//! against its own in-process server (`build.rs` makes one test of each
//! ```rust block).

use std::future::Future;
use std::time::Duration;

/// Runs one snippet with the test server's address; fails on its error or
/// if it does not finish within a minute.
async fn run_snippet<F, Fut>(line: usize, snippet: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut server = zk_testing::TestingServer::start()
        .await
        .expect("the test server starts");
    let ran = tokio::time::timeout(Duration::from_secs(60), snippet(server.connect_string())).await;
    server.stop().await;
    match ran {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("the README snippet at line {line} failed: {e:#}"),
        Err(_) => panic!("the README snippet at line {line} did not finish within 60 s"),
    }
}

include!(concat!(env!("OUT_DIR"), "/readme_snippets.rs"));
