//! Bounded retries with exponential backoff and jitter (backon), for the
//! calls that are safe to repeat.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

/// At most this many tries per call.
pub const MAX_TRIES: usize = 6;

pub(crate) fn policy() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(20))
        .with_max_delay(Duration::from_secs(1))
        .with_max_times(MAX_TRIES - 1)
        .with_jitter()
}

/// Runs `op` again while it fails with a retryable error (connection loss,
/// timeouts), up to [`MAX_TRIES`] times. Only for idempotent calls: reads,
/// and writes whose repeat is harmless or checked.
pub async fn retry<T, F, Fut>(op: F) -> Result<T, zk_client::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, zk_client::Error>>,
{
    op.retry(policy())
        .when(zk_client::Error::is_retryable)
        .notify(|e, pause| tracing::debug!(error = %e, ?pause, "retrying"))
        .await
}
