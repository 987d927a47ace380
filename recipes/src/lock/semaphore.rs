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
/// ```no_run
/// # async fn demo(fw: zk_recipes::Framework) -> Result<(), zk_recipes::Error> {
/// let sem = zk_recipes::InterProcessSemaphore::new(&fw, "/limits/db", 3);
/// let lease = sem.acquire().await?;
/// // ... at most 3 processes are here ...
/// lease.release().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct InterProcessSemaphore {
    fw: Framework,
    dir: String,
    max_leases: usize,
}

impl InterProcessSemaphore {
    pub fn new(fw: &Framework, path: &str, max_leases: usize) -> InterProcessSemaphore {
        InterProcessSemaphore {
            fw: fw.clone(),
            dir: path.to_owned(),
            max_leases: max_leases.max(1),
        }
    }

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
#[derive(Debug, Clone)]
pub struct InterProcessSemaphoreMutex {
    inner: InterProcessSemaphore,
}

impl InterProcessSemaphoreMutex {
    pub fn new(fw: &Framework, path: &str) -> InterProcessSemaphoreMutex {
        InterProcessSemaphoreMutex {
            inner: InterProcessSemaphore::new(fw, path, 1),
        }
    }

    pub async fn acquire(&self) -> Result<Lease> {
        self.inner.acquire().await
    }

    pub async fn try_acquire(&self, timeout: Duration) -> Result<Option<Lease>> {
        self.inner.try_acquire(timeout).await
    }
}
