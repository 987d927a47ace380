//! Runs documentation examples against a real server: each example gets
//! its own in-process `zk-server` (in memory, on a free loopback port),
//! started before the example and shut down after it.
//!
//! ```
//! zk_testkit::doc::run(|servers| async move {
//!     let client = zk_client::Client::connect(&servers).await?;
//!     assert!(client.exists("/zookeeper").await?.is_some());
//!     Ok(())
//! });
//! ```

use std::future::Future;

/// What an example returns: `?` works on any error.
pub type DocResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// How long an example may take: one that waits forever fails instead.
const EXAMPLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Starts a server, runs `example` with its connect string, stops the
/// server; panics (failing the doc test) if the example returns an error
/// or takes longer than a minute.
pub fn run<F, Fut>(example: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = DocResult>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let mut server = zk_testing::TestingServer::start()
            .await
            .expect("the test server starts");
        let result = tokio::time::timeout(EXAMPLE_TIMEOUT, example(server.connect_string())).await;
        server.stop().await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("the example failed: {e}"),
            Err(_) => panic!("the example did not finish in {EXAMPLE_TIMEOUT:?}"),
        }
    });
}
