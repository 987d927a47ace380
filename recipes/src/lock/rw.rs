use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use super::{Turn, contend, first_n};
use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::lock::Lease;

/// Curator's node names for the two sides of a read-write lock.
pub const READ_NAME: &str = "__READ__";
pub const WRITE_NAME: &str = "__WRIT__";

/// A distributed read-write lock (Curator's `InterProcessReadWriteLock`,
/// same node names): many readers or one writer, in arrival order. The
/// writer may downgrade: while holding the write lock, take the read lock
/// (it does not wait for its own write node), then release the write lock.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use std::time::Duration;
/// use zk_client::Client;
/// use zk_recipes::{Framework, InterProcessReadWriteLock};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let rw = InterProcessReadWriteLock::new(&fw, "/locks/catalog");
/// let other = InterProcessReadWriteLock::new(&fw, "/locks/catalog");
///
/// // Readers share.
/// let r1 = rw.read().await?;
/// let r2 = other.read().await?;
/// assert!(other.try_write(Duration::ZERO).await?.is_none()); // readers hold it
/// r1.release().await?;
/// r2.release().await?;
///
/// // A writer excludes other readers, but may downgrade.
/// let write = rw.write().await?;
/// assert!(other.try_read(Duration::ZERO).await?.is_none());
/// let read = rw.read().await?; // downgrade: does not wait for its own write
/// write.release().await?;
/// read.release().await?;
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct InterProcessReadWriteLock {
    fw: Framework,
    dir: String,
    /// The name of this handle's write node while it holds the write lock.
    my_writer: Arc<StdMutex<Option<String>>>,
}

impl InterProcessReadWriteLock {
    /// A read-write lock on the node `path` (made, as a container, on first
    /// use). Clones share the handle's write hold, for downgrading.
    pub fn new(fw: &Framework, path: &str) -> InterProcessReadWriteLock {
        InterProcessReadWriteLock {
            fw: fw.clone(),
            dir: path.to_owned(),
            my_writer: Arc::new(StdMutex::new(None)),
        }
    }

    /// The write lock: waits until every earlier reader and writer left.
    pub async fn write(&self) -> Result<WriteGuard> {
        self.try_write_inner(None)
            .await?
            .ok_or(Error::State("write lock ended without the lock"))
    }

    /// Like [`write`](Self::write), waiting at most `timeout`; `None` if
    /// the lock was not free in time.
    pub async fn try_write(&self, timeout: Duration) -> Result<Option<WriteGuard>> {
        self.try_write_inner(Some(timeout)).await
    }

    async fn try_write_inner(&self, timeout: Option<Duration>) -> Result<Option<WriteGuard>> {
        let names = [READ_NAME, WRITE_NAME];
        let Some((client, path)) = contend(
            &self.fw,
            &self.dir,
            WRITE_NAME,
            &names,
            b"",
            timeout,
            first_n(1),
        )
        .await?
        else {
            return Ok(None);
        };
        if let Ok(mut mine) = self.my_writer.lock() {
            *mine = Some(crate::nodes::name_of(&path).to_owned());
        }
        Ok(Some(WriteGuard {
            lease: Some(Lease::from_parts(client, path)),
            my_writer: self.my_writer.clone(),
        }))
    }

    /// A read lock: waits only for earlier writers (not its own).
    pub async fn read(&self) -> Result<Lease> {
        self.try_read_inner(None)
            .await?
            .ok_or(Error::State("read lock ended without the lock"))
    }

    /// Like [`read`](Self::read), waiting at most `timeout`; `None` if a
    /// writer still held or queued ahead at the timeout.
    pub async fn try_read(&self, timeout: Duration) -> Result<Option<Lease>> {
        self.try_read_inner(Some(timeout)).await
    }

    async fn try_read_inner(&self, timeout: Option<Duration>) -> Result<Option<Lease>> {
        let names = [READ_NAME, WRITE_NAME];
        let mine = self.my_writer.lock().ok().and_then(|m| m.clone());
        let turn = move |children: &[String], index: usize| {
            let blocking = children[..index]
                .iter()
                .rev()
                .find(|c| c.contains(WRITE_NAME) && Some(c.as_str()) != mine.as_deref());
            match blocking {
                None => Turn::Go,
                Some(writer) => Turn::WaitFor(writer.clone()),
            }
        };
        let got = contend(&self.fw, &self.dir, READ_NAME, &names, b"", timeout, turn).await?;
        Ok(got.map(|(client, path)| Lease::from_parts(client, path)))
    }
}

/// The write side's hold; dropping it releases in the background.
#[derive(Debug)]
pub struct WriteGuard {
    lease: Option<Lease>,
    my_writer: Arc<StdMutex<Option<String>>>,
}

impl WriteGuard {
    /// Releases the write lock (a read lock taken to downgrade stays).
    pub async fn release(mut self) -> Result<()> {
        if let Ok(mut mine) = self.my_writer.lock() {
            *mine = None;
        }
        match self.lease.take() {
            Some(lease) => lease.release().await,
            None => Ok(()),
        }
    }
}

impl Drop for WriteGuard {
    fn drop(&mut self) {
        if let Ok(mut mine) = self.my_writer.lock() {
            *mine = None;
        }
        // The lease's own drop releases it in the background.
    }
}
