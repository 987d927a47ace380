use std::time::Duration;

use zk_client::Client;

use super::{contend, first_n, release_in_background, release_node};
use crate::error::{Error, Result};
use crate::framework::Framework;

/// The node name of a semaphore lease.
pub const LEASE_NAME: &str = "lease-";

/// A counting semaphore: at most `max_leases` holders at a time, served in
/// arrival order; waiters watch the leases' parent and look again when a
/// lease comes or goes (a mutex, `max_leases` 1, watches its predecessor
/// only).
///
/// Every contender must use the same `max_leases`: the count is not stored
/// in ZooKeeper, each one counts the nodes ahead of its own.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use std::time::Duration;
/// use zk_client::Client;
/// use zk_recipes::{Framework, InterProcessSemaphore};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let sem = InterProcessSemaphore::new(&fw, "/limits/db", 2);
/// let a = sem.acquire().await?;
/// let b = sem.acquire().await?;
/// assert!(sem.try_acquire(Duration::ZERO).await?.is_none()); // both leases out
///
/// a.release().await?;
/// let c = sem.try_acquire(Duration::from_secs(5)).await?.expect("a lease is free");
/// assert!(c.node().contains("lease-"));
/// # b.release().await?;
/// # c.release().await?;
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct InterProcessSemaphore {
    fw: Framework,
    dir: String,
    max_leases: usize,
}

impl InterProcessSemaphore {
    /// A semaphore of `max_leases` (at least 1) on the node `path`.
    pub fn new(fw: &Framework, path: &str, max_leases: usize) -> InterProcessSemaphore {
        InterProcessSemaphore {
            fw: fw.clone(),
            dir: path.to_owned(),
            max_leases: max_leases.max(1),
        }
    }

    /// Takes a lease, waiting as long as it takes; [`Error::SessionLost`]
    /// if the session expired while waiting.
    pub async fn acquire(&self) -> Result<Lease> {
        self.try_acquire_inner(None)
            .await?
            .ok_or(Error::State("lease acquisition ended without a lease"))
    }

    /// Waits at most `timeout`; `None` if no lease was free in time.
    pub async fn try_acquire(&self, timeout: Duration) -> Result<Option<Lease>> {
        self.try_acquire_inner(Some(timeout)).await
    }

    async fn try_acquire_inner(&self, timeout: Option<Duration>) -> Result<Option<Lease>> {
        let got = contend(
            &self.fw,
            &self.dir,
            LEASE_NAME,
            &[LEASE_NAME],
            b"",
            timeout,
            first_n(self.max_leases),
        )
        .await?;
        Ok(got.map(|(client, path)| Lease::from_parts(client, path)))
    }
}

/// One lease of a semaphore; `release().await`, or dropped: released in
/// the background.
#[derive(Debug)]
pub struct Lease {
    client: Client,
    path: String,
    released: bool,
}

impl Lease {
    pub(crate) fn from_parts(client: Client, path: String) -> Lease {
        Lease {
            client,
            path,
            released: false,
        }
    }

    /// The lease's node.
    pub fn node(&self) -> &str {
        &self.path
    }

    /// Gives the lease back (deletes its node). An expired session counts
    /// as released.
    pub async fn release(mut self) -> Result<()> {
        self.released = true;
        release_node(&self.client, &self.path).await
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.released {
            release_in_background(self.client.clone(), std::mem::take(&mut self.path));
        }
    }
}

/// A mutex that is not re-entrant (Curator's
/// `InterProcessSemaphoreMutex`): a second acquire, even on the same
/// handle, waits for the first release.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use std::time::Duration;
/// use zk_client::Client;
/// use zk_recipes::{Framework, InterProcessSemaphoreMutex};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let mutex = InterProcessSemaphoreMutex::new(&fw, "/locks/report");
/// let lease = mutex.acquire().await?;
/// // Not re-entrant: the same handle cannot take it twice.
/// assert!(mutex.try_acquire(Duration::ZERO).await?.is_none());
///
/// lease.release().await?;
/// let again = mutex.try_acquire(Duration::from_secs(5)).await?;
/// assert!(again.is_some());
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct InterProcessSemaphoreMutex {
    inner: InterProcessSemaphore,
}

impl InterProcessSemaphoreMutex {
    /// A mutex on the node `path` (a one-lease semaphore, node names
    /// `lease-`).
    pub fn new(fw: &Framework, path: &str) -> InterProcessSemaphoreMutex {
        InterProcessSemaphoreMutex {
            inner: InterProcessSemaphore::new(fw, path, 1),
        }
    }

    /// Takes the mutex, waiting as long as it takes.
    pub async fn acquire(&self) -> Result<Lease> {
        self.inner.acquire().await
    }

    /// Waits at most `timeout`; `None` if it was not free in time.
    pub async fn try_acquire(&self, timeout: Duration) -> Result<Option<Lease>> {
        self.inner.try_acquire(timeout).await
    }
}
