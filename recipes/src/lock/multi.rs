use super::{InterProcessMutex, MutexGuard};
use crate::error::Result;

/// Several locks taken as one (Curator's `InterProcessMultiLock`): acquired
/// in the given order (give every process the same order, or they can
/// deadlock); if one fails, those already held are released.
#[derive(Debug, Clone)]
pub struct InterProcessMultiLock {
    locks: Vec<InterProcessMutex>,
}

impl InterProcessMultiLock {
    pub fn new(locks: Vec<InterProcessMutex>) -> InterProcessMultiLock {
        InterProcessMultiLock { locks }
    }

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
