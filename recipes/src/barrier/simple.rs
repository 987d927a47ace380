use std::time::Duration;

use tokio::time::Instant;
use zk_client::{CreateMode, Error as ZkError};

use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::retry::retry;
use crate::session::{self, live_client};

/// A barrier (Curator's `DistributedBarrier`): while its node exists,
/// [`wait`](DistributedBarrier::wait) blocks; removing the node lets every
/// waiter through. Waiters watch the one node, which is the point: they
/// all have to go when it goes.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use std::time::Duration;
/// use zk_client::Client;
/// use zk_recipes::{DistributedBarrier, Framework};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let barrier = DistributedBarrier::new(&fw, "/barriers/deploy");
/// barrier.set().await?;
/// assert!(barrier.is_set().await?);
/// assert!(!barrier.try_wait(Duration::ZERO).await?); // still set
///
/// let waiter = tokio::spawn({
///     let barrier = barrier.clone();
///     async move { barrier.wait().await }
/// });
/// barrier.remove().await?;
/// waiter.await??; // let through
/// assert!(!barrier.is_set().await?);
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct DistributedBarrier {
    fw: Framework,
    path: String,
}

impl DistributedBarrier {
    /// A barrier on the node at `path` (nothing is created yet).
    ///
    /// ```no_run
    /// # fn demo(fw: zk_recipes::Framework) {
    /// let barrier = zk_recipes::DistributedBarrier::new(&fw, "/barriers/deploy");
    /// # let _ = barrier; }
    /// ```
    pub fn new(fw: &Framework, path: &str) -> DistributedBarrier {
        DistributedBarrier {
            fw: fw.clone(),
            path: path.to_owned(),
        }
    }

    /// Raises the barrier: creates its node (parents as containers). Setting
    /// a barrier that is already set is fine.
    ///
    /// ```no_run
    /// # async fn demo(barrier: zk_recipes::DistributedBarrier) -> Result<(), zk_recipes::Error> {
    /// barrier.set().await?;
    /// assert!(barrier.is_set().await?);
    /// # Ok(()) }
    /// ```
    pub async fn set(&self) -> Result<()> {
        let client = self.fw.client();
        match session::create_node(&client, &self.path, b"", CreateMode::Persistent).await {
            Ok(()) | Err(ZkError::NodeExists) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Lowers the barrier: deletes its node, which wakes every waiter.
    /// Removing a barrier that is not set is fine.
    ///
    /// ```no_run
    /// # async fn demo(barrier: zk_recipes::DistributedBarrier) -> Result<(), zk_recipes::Error> {
    /// barrier.remove().await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove(&self) -> Result<()> {
        match retry(|| self.fw.client().delete(&self.path, None)).await {
            Ok(()) | Err(ZkError::NoNode) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the barrier's node exists right now.
    ///
    /// ```no_run
    /// # async fn demo(barrier: zk_recipes::DistributedBarrier) -> Result<(), zk_recipes::Error> {
    /// if barrier.is_set().await? { /* ... */ }
    /// # Ok(()) }
    /// ```
    pub async fn is_set(&self) -> Result<bool> {
        Ok(retry(|| self.fw.client().exists(&self.path))
            .await?
            .is_some())
    }

    /// Blocks until the barrier is removed (at once if it is not set).
    ///
    /// ```no_run
    /// # async fn demo(barrier: zk_recipes::DistributedBarrier) -> Result<(), zk_recipes::Error> {
    /// barrier.wait().await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait(&self) -> Result<()> {
        if self.wait_until(None).await? {
            Ok(())
        } else {
            Err(Error::State("barrier wait ended without the barrier gone"))
        }
    }

    /// Blocks until the barrier is removed (true) or `timeout` passes
    /// (false).
    ///
    /// ```no_run
    /// # async fn demo(barrier: zk_recipes::DistributedBarrier) -> Result<(), zk_recipes::Error> {
    /// use std::time::Duration;
    /// if !barrier.try_wait(Duration::from_secs(10)).await? {
    ///     // still set after 10 s
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn try_wait(&self, timeout: Duration) -> Result<bool> {
        self.wait_until(Some(Instant::now() + timeout)).await
    }

    async fn wait_until(&self, deadline: Option<Instant>) -> Result<bool> {
        // The deadline also bounds calls queued while disconnected.
        session::bounded(&self.fw, deadline, self.wait_loop(deadline))
            .await
            .unwrap_or(Ok(false))
    }

    async fn wait_loop(&self, deadline: Option<Instant>) -> Result<bool> {
        let mut pauses = session::pauses();
        loop {
            let Some(client) = live_client(&self.fw, deadline).await? else {
                return Ok(false);
            };
            let watcher = match client.exists_and_watch(&self.path).await {
                Ok((None, _)) => return Ok(true),
                Ok((Some(_), watcher)) => watcher,
                Err(e) if e.is_retryable() || session::session_ended(&e) => {
                    // Lost in flight, or the session ended: look again
                    // (after a pause, so a server that keeps failing is
                    // not hammered).
                    tokio::select! {
                        () = tokio::time::sleep(pauses.next().unwrap_or_default()) => continue,
                        () = session::until(deadline) => return Ok(false),
                    }
                }
                Err(e) => return Err(e.into()),
            };
            // Any event (deleted, changed, or the session's end) means look
            // again.
            tokio::select! {
                _ = watcher => {}
                () = session::until(deadline) => return Ok(false),
            }
        }
    }
}
