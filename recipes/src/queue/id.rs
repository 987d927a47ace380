use std::time::Duration;

use tokio::time::Instant;

use super::{Core, Kind};
use crate::error::{Error, Result};
use crate::framework::Framework;

/// A FIFO queue whose items carry an id (Curator's `DistributedIdQueue`):
/// `<path>/qn-<id>-<seq>`, so [`remove`](Self::remove) can delete every
/// item with an id without reading them. A removal and a take race fairly:
/// each item goes to exactly one of them.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::Client;
/// use zk_recipes::{DistributedIdQueue, Framework};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let queue = DistributedIdQueue::new(&fw, "/queues/mail");
/// queue.put("msg-17", b"hello").await?;
/// queue.put("msg-18", b"world").await?;
/// assert_eq!(queue.ids().await?, ["msg-17", "msg-18"]);
///
/// assert_eq!(queue.remove("msg-17").await?, 1); // changed our mind
/// assert_eq!(queue.take().await?, ("msg-18".to_owned(), b"world".to_vec()));
/// assert!(queue.is_empty().await?);
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct DistributedIdQueue {
    core: Core,
}

impl DistributedIdQueue {
    /// The queue at `path` (made on the first put).
    ///
    /// ```no_run
    /// # fn demo(fw: zk_recipes::Framework) {
    /// let queue = zk_recipes::DistributedIdQueue::new(&fw, "/queues/mail");
    /// # let _ = queue; }
    /// ```
    pub fn new(fw: &Framework, path: &str) -> DistributedIdQueue {
        DistributedIdQueue {
            core: Core::new(fw, path, Kind::Id),
        }
    }

    /// Adds an item with `id` at the end. Ids need not be unique; they may
    /// not be empty or contain `/`.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedIdQueue) -> Result<(), zk_recipes::Error> {
    /// queue.put("msg-18", b"hi").await?;
    /// # Ok(()) }
    /// ```
    pub async fn put(&self, id: &str, data: &[u8]) -> Result<()> {
        if id.is_empty() || id.contains('/') || id.chars().any(char::is_control) {
            return Err(Error::State(
                "a queue item id must be non-empty, without '/'",
            ));
        }
        self.core.put(id, data).await
    }

    /// Takes the first item (id, data), waiting as long as it takes.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedIdQueue) -> Result<(), zk_recipes::Error> {
    /// let (id, data) = queue.take().await?;
    /// # let _ = (id, data);
    /// # Ok(()) }
    /// ```
    pub async fn take(&self) -> Result<(String, Vec<u8>)> {
        self.try_take_until(None)
            .await?
            .ok_or(Error::State("queue take ended without an item"))
    }

    /// Takes the first item, waiting at most `timeout`.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedIdQueue) -> Result<(), zk_recipes::Error> {
    /// use std::time::Duration;
    /// let item = queue.try_take(Duration::from_secs(1)).await?;
    /// # let _ = item;
    /// # Ok(()) }
    /// ```
    pub async fn try_take(&self, timeout: Duration) -> Result<Option<(String, Vec<u8>)>> {
        self.try_take_until(Some(Instant::now() + timeout)).await
    }

    async fn try_take_until(&self, deadline: Option<Instant>) -> Result<Option<(String, Vec<u8>)>> {
        let taken = self.core.take(deadline).await?;
        Ok(taken.map(|(item, data)| (item.key, data)))
    }

    /// Deletes every item with `id`; how many this call deleted.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedIdQueue) -> Result<(), zk_recipes::Error> {
    /// let removed = queue.remove("msg-18").await?;
    /// # let _ = removed;
    /// # Ok(()) }
    /// ```
    pub async fn remove(&self, id: &str) -> Result<usize> {
        self.core.remove_where(|item| item.key == id).await
    }

    /// The ids of the items, in queue order.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedIdQueue) -> Result<(), zk_recipes::Error> {
    /// for id in queue.ids().await? { println!("{id}"); }
    /// # Ok(()) }
    /// ```
    pub async fn ids(&self) -> Result<Vec<String>> {
        let client = self.core.client();
        Ok(self
            .core
            .items(&client)
            .await?
            .into_iter()
            .map(|item| item.key)
            .collect())
    }

    /// The first item (id, data), left in the queue.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedIdQueue) -> Result<(), zk_recipes::Error> {
    /// let next = queue.peek().await?;
    /// # let _ = next;
    /// # Ok(()) }
    /// ```
    pub async fn peek(&self) -> Result<Option<(String, Vec<u8>)>> {
        Ok(self.core.peek().await?.map(|(item, data)| (item.key, data)))
    }

    /// How many items are in the queue.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedIdQueue) -> Result<(), zk_recipes::Error> {
    /// println!("{} waiting", queue.len().await?);
    /// # Ok(()) }
    /// ```
    pub async fn len(&self) -> Result<usize> {
        self.core.len().await
    }

    /// Whether the queue has no items.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedIdQueue) -> Result<(), zk_recipes::Error> {
    /// if queue.is_empty().await? { /* ... */ }
    /// # Ok(()) }
    /// ```
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.len().await? == 0)
    }
}
