//! Many requests issued at once: every one is answered, in order.

mod common;

use zk_client::CreateOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_requests_in_flight_are_all_answered() {
    let env = common::TestEnv::new().await;
    let c = env.client().await;
    c.create("/pipelined", b"", &CreateOptions::persistent())
        .await
        .expect("create");
    // Issued together, they reach the session task in batches: none may
    // be lost between two batches (once, one per batch of 128 was, and
    // its caller was told the client was closed).
    let creates: Vec<_> = (0..3000)
        .map(|i| {
            c.create(
                &format!("/pipelined/n{i}"),
                b"",
                &CreateOptions::persistent(),
            )
        })
        .collect();
    for (i, created) in futures::future::join_all(creates)
        .await
        .into_iter()
        .enumerate()
    {
        let (path, _) = created.unwrap_or_else(|e| panic!("create {i}: {e}"));
        assert_eq!(path, format!("/pipelined/n{i}"));
    }
    let reads: Vec<_> = (0..3000)
        .map(|i| c.exists(&format!("/pipelined/n{i}")))
        .collect();
    for (i, read) in futures::future::join_all(reads)
        .await
        .into_iter()
        .enumerate()
    {
        assert!(read.unwrap_or_else(|e| panic!("exists {i}: {e}")).is_some());
    }
    let (children, _) = c.get_children("/pipelined").await.expect("children");
    assert_eq!(children.len(), 3000);
}
