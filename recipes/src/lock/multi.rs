use super::{InterProcessMutex, MutexGuard};
use crate::error::Result;

/// Several locks taken as one (Curator's `InterProcessMultiLock`): acquired
/// in the given order (give every process the same order, or they can
/// deadlock); if one fails, those already held are released.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use std::time::Duration;
/// use zk_client::Client;
/// use zk_recipes::{Framework, InterProcessMultiLock, InterProcessMutex};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let both = InterProcessMultiLock::new(vec![
///     InterProcessMutex::new(&fw, "/locks/from"),
///     InterProcessMutex::new(&fw, "/locks/to"),
/// ]);
/// let guard = both.acquire().await?;
/// let to = InterProcessMutex::new(&fw, "/locks/to");
/// assert!(to.try_acquire(Duration::ZERO).await?.is_none());
///
/// guard.release().await?;
/// let held = to.try_acquire(Duration::from_secs(5)).await?.expect("released");
/// held.release().await?;
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct InterProcessMultiLock {
    locks: Vec<InterProcessMutex>,
}

impl InterProcessMultiLock {
    /// The locks, in the order they are taken.
    pub fn new(locks: Vec<InterProcessMutex>) -> InterProcessMultiLock {
        InterProcessMultiLock { locks }
    }

    /// Takes every lock in order, waiting as long as each takes. On an
    /// error the ones taken are released and the error returned.
    pub async fn acquire(&self) -> Result<MultiLockGuard> {
        let mut guards = Vec::with_capacity(self.locks.len());
        for lock in &self.locks {
            match lock.acquire().await {
                Ok(g) => guards.push(g),
                Err(e) => {
                    for g in guards.into_iter().rev() {
                        let _ = g.release().await;
                    }
                    return Err(e);
                }
            }
        }
        Ok(MultiLockGuard { guards })
    }
}

/// Every lock of a multi-lock; released in reverse order.
#[derive(Debug)]
pub struct MultiLockGuard {
    guards: Vec<MutexGuard>,
}

impl MultiLockGuard {
    /// Releases every lock (each is tried); the first error, if any.
    pub async fn release(mut self) -> Result<()> {
        let mut first_err = None;
        while let Some(g) = self.guards.pop() {
            if let Err(e) = g.release().await {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}
