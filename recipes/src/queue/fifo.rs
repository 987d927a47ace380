use std::time::Duration;

use tokio::time::Instant;

use super::{Core, Kind};
use crate::error::{Error, Result};
use crate::framework::Framework;

/// A FIFO queue (Curator's `DistributedQueue`, the ZooKeeper recipe): items
/// are persistent-sequential nodes `<path>/qn-<seq>`, taken lowest
/// sequence first, each by exactly one consumer. See [the module
/// docs](crate::queue) for how takes and puts survive a lost connection.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use std::time::Duration;
/// use zk_client::Client;
/// use zk_recipes::{DistributedQueue, Framework};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let queue = DistributedQueue::new(&fw, "/queues/jobs");
/// queue.put(b"job 1").await?;
/// queue.put(b"job 2").await?;
/// assert_eq!(queue.len().await?, 2);
/// assert_eq!(queue.peek().await?, Some(b"job 1".to_vec()));
///
/// assert_eq!(queue.take().await?, b"job 1");
/// assert_eq!(queue.take().await?, b"job 2");
/// assert_eq!(queue.try_take(Duration::ZERO).await?, None);
/// assert!(queue.is_empty().await?);
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct DistributedQueue {
    core: Core,
}

impl DistributedQueue {
    /// The queue at `path` (made on the first put).
    ///
    /// ```no_run
    /// # fn demo(fw: zk_recipes::Framework) {
    /// let queue = zk_recipes::DistributedQueue::new(&fw, "/queues/jobs");
    /// # let _ = queue; }
    /// ```
    pub fn new(fw: &Framework, path: &str) -> DistributedQueue {
        DistributedQueue {
            core: Core::new(fw, path, Kind::Fifo),
        }
    }

    /// Adds an item at the end.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedQueue) -> Result<(), zk_recipes::Error> {
    /// queue.put(b"job 2").await?;
    /// # Ok(()) }
    /// ```
    pub async fn put(&self, data: &[u8]) -> Result<()> {
        self.core.put("", data).await
    }

    /// Takes the first item, waiting as long as it takes for one.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedQueue) -> Result<(), zk_recipes::Error> {
    /// let item = queue.take().await?;
    /// # let _ = item;
    /// # Ok(()) }
    /// ```
    pub async fn take(&self) -> Result<Vec<u8>> {
        match self.core.take(None).await? {
            Some((_, data)) => Ok(data),
            None => Err(Error::State("queue take ended without an item")),
        }
    }

    /// Takes the first item, waiting at most `timeout` (zero: only if one
    /// is there now).
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedQueue) -> Result<(), zk_recipes::Error> {
    /// use std::time::Duration;
    /// if let Some(item) = queue.try_take(Duration::from_secs(1)).await? {
    ///     # let _ = item;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn try_take(&self, timeout: Duration) -> Result<Option<Vec<u8>>> {
        let taken = self.core.take(Some(Instant::now() + timeout)).await?;
        Ok(taken.map(|(_, data)| data))
    }

    /// The first item, left in the queue.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedQueue) -> Result<(), zk_recipes::Error> {
    /// let next = queue.peek().await?;
    /// # let _ = next;
    /// # Ok(()) }
    /// ```
    pub async fn peek(&self) -> Result<Option<Vec<u8>>> {
        Ok(self.core.peek().await?.map(|(_, data)| data))
    }

    /// How many items are in the queue.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedQueue) -> Result<(), zk_recipes::Error> {
    /// println!("{} waiting", queue.len().await?);
    /// # Ok(()) }
    /// ```
    pub async fn len(&self) -> Result<usize> {
        self.core.len().await
    }

    /// Whether the queue has no items.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedQueue) -> Result<(), zk_recipes::Error> {
    /// if queue.is_empty().await? { /* ... */ }
    /// # Ok(()) }
    /// ```
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.len().await? == 0)
    }
}
