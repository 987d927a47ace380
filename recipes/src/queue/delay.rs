use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::{Core, Kind, due_key};
use crate::error::{Error, Result};
use crate::framework::Framework;

/// A delay queue (Curator's `DistributedDelayQueue`): an item can be taken
/// from its due time on. The due time (ms since the epoch) is in the node
/// name, `<path>/qn-<due>-<seq>`, so the earliest due item sorts first; a
/// waiting consumer sleeps until that time or until the children change.
/// Due times are compared with the consumer's clock, so clocks should
/// agree to within what the delays can tolerate.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use std::time::Duration;
/// use zk_client::Client;
/// use zk_recipes::{DistributedDelayQueue, Framework};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let queue = DistributedDelayQueue::new(&fw, "/queues/retries");
/// queue.put_after(b"retry job 7", Duration::from_secs(3600)).await?;
/// queue.put_after(b"retry job 8", Duration::ZERO).await?;
///
/// let (job, _due) = queue.take().await?; // due now
/// assert_eq!(job, b"retry job 8");
/// assert_eq!(queue.peek().await?, None); // job 7 is not due for an hour
/// assert_eq!(queue.try_take(Duration::ZERO).await?, None);
/// assert_eq!(queue.len().await?, 1);
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct DistributedDelayQueue {
    core: Core,
}

impl DistributedDelayQueue {
    /// The queue at `path` (made on the first put).
    ///
    /// ```no_run
    /// # fn demo(fw: zk_recipes::Framework) {
    /// let queue = zk_recipes::DistributedDelayQueue::new(&fw, "/queues/retries");
    /// # let _ = queue; }
    /// ```
    pub fn new(fw: &Framework, path: &str) -> DistributedDelayQueue {
        DistributedDelayQueue {
            core: Core::new(fw, path, Kind::Delay),
        }
    }

    /// Adds an item that can be taken from `due` on.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedDelayQueue) -> Result<(), zk_recipes::Error> {
    /// use std::time::{Duration, SystemTime};
    /// queue.put(b"reminder", SystemTime::now() + Duration::from_secs(60)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn put(&self, data: &[u8], due: SystemTime) -> Result<()> {
        self.core.put(&due_key(due), data).await
    }

    /// Adds an item that can be taken `delay` from now.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedDelayQueue) -> Result<(), zk_recipes::Error> {
    /// use std::time::Duration;
    /// queue.put_after(b"reminder", Duration::from_secs(60)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn put_after(&self, data: &[u8], delay: Duration) -> Result<()> {
        self.put(data, SystemTime::now() + delay).await
    }

    /// Takes the earliest due item (data, due time), waiting as long as it
    /// takes for one to fall due.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedDelayQueue) -> Result<(), zk_recipes::Error> {
    /// let (data, due) = queue.take().await?;
    /// # let _ = (data, due);
    /// # Ok(()) }
    /// ```
    pub async fn take(&self) -> Result<(Vec<u8>, SystemTime)> {
        self.try_take_until(None)
            .await?
            .ok_or(Error::State("queue take ended without an item"))
    }

    /// Takes the earliest due item, waiting at most `timeout`.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedDelayQueue) -> Result<(), zk_recipes::Error> {
    /// use std::time::Duration;
    /// let item = queue.try_take(Duration::from_secs(5)).await?;
    /// # let _ = item;
    /// # Ok(()) }
    /// ```
    pub async fn try_take(&self, timeout: Duration) -> Result<Option<(Vec<u8>, SystemTime)>> {
        self.try_take_until(Some(Instant::now() + timeout)).await
    }

    async fn try_take_until(
        &self,
        deadline: Option<Instant>,
    ) -> Result<Option<(Vec<u8>, SystemTime)>> {
        let taken = self.core.take(deadline).await?;
        Ok(taken.map(|(item, data)| (data, due_of(item.rank))))
    }

    /// The earliest due item (data, due time), left in the queue; `None`
    /// if nothing is due yet.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedDelayQueue) -> Result<(), zk_recipes::Error> {
    /// let due_now = queue.peek().await?;
    /// # let _ = due_now;
    /// # Ok(()) }
    /// ```
    pub async fn peek(&self) -> Result<Option<(Vec<u8>, SystemTime)>> {
        let first = self.core.peek().await?;
        Ok(first.map(|(item, data)| (data, due_of(item.rank))))
    }

    /// How many items are in the queue, due or not.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedDelayQueue) -> Result<(), zk_recipes::Error> {
    /// println!("{} scheduled", queue.len().await?);
    /// # Ok(()) }
    /// ```
    pub async fn len(&self) -> Result<usize> {
        self.core.len().await
    }

    /// Whether the queue has no items, due or not.
    ///
    /// ```no_run
    /// # async fn demo(queue: zk_recipes::DistributedDelayQueue) -> Result<(), zk_recipes::Error> {
    /// if queue.is_empty().await? { /* ... */ }
    /// # Ok(()) }
    /// ```
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.len().await? == 0)
    }
}

fn due_of(ms: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}
