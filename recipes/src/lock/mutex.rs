use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use zk_client::Client;

use super::{LOCK_NAME, contend, first_n, release_in_background, release_node};
use crate::error::{Error, Result};
use crate::framework::Framework;

/// A re-entrant distributed mutex (Curator's `InterProcessMutex`): node
/// names `_c_<uuid>-lock-<seq>` under the lock path, so it excludes Curator
/// processes on the same path too. Re-entrant per handle: a handle that
/// holds the lock acquires it again at once; it is released when every
/// guard is.
///
/// A handle whose session expires while it holds the lock has lost it
/// (the node went with the session); [`is_held`](Self::is_held) does not
/// notice that, the client's state does.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use std::time::Duration;
/// use zk_client::Client;
/// use zk_recipes::{Framework, InterProcessMutex};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let lock = InterProcessMutex::new(&fw, "/locks/orders");
/// let other = InterProcessMutex::new(&fw, "/locks/orders"); // another contender
///
/// let guard = lock.acquire().await?;
/// let again = lock.acquire().await?; // re-entrant: at once
/// assert!(other.try_acquire(Duration::ZERO).await?.is_none());
///
/// again.release().await?;
/// assert!(lock.is_held()); // one hold left
/// guard.release().await?;
/// assert!(!lock.is_held());
///
/// let theirs = other.try_acquire(Duration::from_secs(5)).await?.expect("free now");
/// assert!(other.node().expect("held").contains("-lock-"));
/// theirs.release().await?;
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct InterProcessMutex {
    fw: Framework,
    dir: String,
    /// Stored in the lock node (the leader selector keeps its participant
    /// id there, as Curator does).
    data: Vec<u8>,
    held: Arc<StdMutex<Option<Held>>>,
    /// One ZooKeeper acquisition at a time per handle, so a second caller
    /// on the same handle waits and then re-enters instead of queueing a
    /// second node. A tokio Mutex: held across the acquisition on purpose.
    gate: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Debug)]
struct Held {
    client: Client,
    path: String,
    count: usize,
}

impl InterProcessMutex {
    /// A mutex on the lock node `path` (made, as a container with its
    /// parents, on the first acquire). Handles are independent
    /// contenders; clones of one handle share its holds.
    pub fn new(fw: &Framework, path: &str) -> InterProcessMutex {
        InterProcessMutex::with_data(fw, path, b"")
    }

    /// A mutex whose lock node carries `data`.
    pub fn with_data(fw: &Framework, path: &str, data: &[u8]) -> InterProcessMutex {
        InterProcessMutex {
            fw: fw.clone(),
            dir: path.to_owned(),
            data: data.to_vec(),
            held: Arc::new(StdMutex::new(None)),
            gate: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Takes the lock, waiting as long as it takes (through disconnects).
    /// [`Error::SessionLost`] if the session expired while waiting.
    pub async fn acquire(&self) -> Result<MutexGuard> {
        self.acquire_inner(None)
            .await?
            .ok_or(Error::State("lock acquisition ended without the lock"))
    }

    /// Waits at most `timeout`; `None` if the lock was not free in time.
    pub async fn try_acquire(&self, timeout: Duration) -> Result<Option<MutexGuard>> {
        self.acquire_inner(Some(timeout)).await
    }

    fn reenter(&self) -> Option<MutexGuard> {
        let mut held = self.held.lock().ok()?;
        let h = held.as_mut()?;
        h.count += 1;
        Some(MutexGuard {
            held: self.held.clone(),
            released: false,
        })
    }

    async fn acquire_inner(&self, timeout: Option<Duration>) -> Result<Option<MutexGuard>> {
        if let Some(guard) = self.reenter() {
            return Ok(Some(guard));
        }
        let _gate = match timeout {
            Some(t) => match tokio::time::timeout(t, self.gate.lock()).await {
                Ok(g) => g,
                Err(_) => return Ok(None),
            },
            None => self.gate.lock().await,
        };
        if let Some(guard) = self.reenter() {
            return Ok(Some(guard));
        }
        let Some((client, path)) = contend(
            &self.fw,
            &self.dir,
            LOCK_NAME,
            &[LOCK_NAME],
            &self.data,
            timeout,
            first_n(1),
        )
        .await?
        else {
            return Ok(None);
        };
        if let Ok(mut held) = self.held.lock() {
            *held = Some(Held {
                client,
                path,
                count: 1,
            });
        }
        Ok(Some(MutexGuard {
            held: self.held.clone(),
            released: false,
        }))
    }

    /// Whether this handle holds the lock (its session may have expired
    /// since: check the client's state for that).
    pub fn is_held(&self) -> bool {
        self.held.lock().map(|h| h.is_some()).unwrap_or(false)
    }

    /// The path of this handle's lock node, while held.
    pub fn node(&self) -> Option<String> {
        self.held.lock().ok()?.as_ref().map(|h| h.path.clone())
    }
}

/// One hold of an [`InterProcessMutex`]. Release with `release().await`;
/// dropping it releases in the background.
#[derive(Debug)]
pub struct MutexGuard {
    held: Arc<StdMutex<Option<Held>>>,
    released: bool,
}

impl MutexGuard {
    /// Takes the node to delete when this was the last hold.
    fn take_last(&mut self) -> Option<(Client, String)> {
        self.released = true;
        let mut held = self.held.lock().ok()?;
        let h = held.as_mut()?;
        h.count -= 1;
        if h.count > 0 {
            return None;
        }
        held.take().map(|h| (h.client, h.path))
    }

    /// Ends this hold; the lock node is deleted when it was the handle's
    /// last. An expired session counts as released.
    pub async fn release(mut self) -> Result<()> {
        match self.take_last() {
            Some((client, path)) => release_node(&client, &path).await,
            None => Ok(()),
        }
    }
}

impl Drop for MutexGuard {
    fn drop(&mut self) {
        if !self.released
            && let Some((client, path)) = self.take_last()
        {
            release_in_background(client, path);
        }
    }
}
