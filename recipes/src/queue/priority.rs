use std::time::Duration;

use tokio::time::Instant;

use super::{Core, Kind, priority_key};
use crate::error::{Error, Result};
use crate::framework::Framework;

/// A priority queue (Curator's `DistributedPriorityQueue`): the priority is
/// in the node name, `<path>/qn-<priority>-<seq>`, so the order is (lowest
/// priority number first, then arrival). Each item is taken by exactly one
/// consumer, as in [`DistributedQueue`](crate::DistributedQueue).
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::Client;
/// use zk_recipes::{DistributedPriorityQueue, Framework};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let queue = DistributedPriorityQueue::new(&fw, "/queues/urgent");
/// queue.put(b"later", 10).await?;
/// queue.put(b"first", -5).await?;
/// queue.put(b"second", 0).await?;
/// assert_eq!(queue.take().await?, (b"first".to_vec(), -5));
/// assert_eq!(queue.take().await?, (b"second".to_vec(), 0));
/// assert_eq!(queue.peek().await?, Some((b"later".to_vec(), 10)));
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct DistributedPriorityQueue {
    core: Core,
}

impl DistributedPriorityQueue {
    /// The queue at `path` (made on the first put).
    ///
    /// ```no_run
    /// # fn demo(fw: zk_recipes::Framework) {
    /// let queue = zk_recipes::DistributedPriorityQueue::new(&fw, "/queues/urgent");
    /// # let _ = queue; }
    /// ```
    pub fn new(fw: &Framework, path: &str) -> DistributedPriorityQueue {
        DistributedPriorityQueue {
            core: Core::new(fw, path, Kind::Priority),
        }
    }

    /// Adds an item; lower `priority` numbers are taken first.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedPriorityQueue) -> Result<(), zk_recipes::Error> {
    /// queue.put(b"normal", 0).await?;
    /// # Ok(()) }
    /// ```
    pub async fn put(&self, data: &[u8], priority: i32) -> Result<()> {
        self.core.put(&priority_key(priority), data).await
    }

    /// Takes the first item (data, priority), waiting as long as it takes.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedPriorityQueue) -> Result<(), zk_recipes::Error> {
    /// let (data, priority) = queue.take().await?;
    /// # let _ = (data, priority);
    /// # Ok(()) }
    /// ```
    pub async fn take(&self) -> Result<(Vec<u8>, i32)> {
        self.try_take_until(None)
            .await?
            .ok_or(Error::State("queue take ended without an item"))
    }

    /// Takes the first item, waiting at most `timeout`.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedPriorityQueue) -> Result<(), zk_recipes::Error> {
    /// use std::time::Duration;
    /// let item = queue.try_take(Duration::ZERO).await?;
    /// # let _ = item;
    /// # Ok(()) }
    /// ```
    pub async fn try_take(&self, timeout: Duration) -> Result<Option<(Vec<u8>, i32)>> {
        self.try_take_until(Some(Instant::now() + timeout)).await
    }

    async fn try_take_until(&self, deadline: Option<Instant>) -> Result<Option<(Vec<u8>, i32)>> {
        let taken = self.core.take(deadline).await?;
        Ok(taken.map(|(item, data)| (data, item.rank as i32)))
    }

    /// The first item (data, priority), left in the queue.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedPriorityQueue) -> Result<(), zk_recipes::Error> {
    /// let next = queue.peek().await?;
    /// # let _ = next;
    /// # Ok(()) }
    /// ```
    pub async fn peek(&self) -> Result<Option<(Vec<u8>, i32)>> {
        let first = self.core.peek().await?;
        Ok(first.map(|(item, data)| (data, item.rank as i32)))
    }

    /// How many items are in the queue.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedPriorityQueue) -> Result<(), zk_recipes::Error> {
    /// println!("{} waiting", queue.len().await?);
    /// # Ok(()) }
    /// ```
    pub async fn len(&self) -> Result<usize> {
        self.core.len().await
    }

    /// Whether the queue has no items.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedPriorityQueue) -> Result<(), zk_recipes::Error> {
    /// if queue.is_empty().await? { /* ... */ }
    /// # Ok(()) }
    /// ```
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.len().await? == 0)
    }
}
