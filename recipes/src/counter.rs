//! Counters: [`SharedCount`] (Curator's: a 4-byte big-endian int that
//! everyone can watch and compare-and-set) and [`DistributedAtomicLong`]
//! (Curator's: an 8-byte big-endian long changed by optimistic
//! compare-and-set).
//!
//! A compare-and-set is a `setData` at the version read. Whether one whose
//! reply was lost happened cannot be told from the node (another writer
//! may have written the same value at the same version), so each is a
//! multi that also creates an ephemeral marker child `<path>/cas-<uuid>`:
//! after a `ConnectionLoss` the marker says, and then it is deleted. Only
//! when the session also expires before the client gets back is the
//! outcome unknown: the call fails with
//! [`Error::SessionLost`].

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use zk_client::{Client, CreateMode, CreateOptions, Error as ZkError, OpResult, Stat};

use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::nodes::join;
use crate::retry::{MAX_TRIES, retry};
use crate::session::{self, live_client};

/// The name of a compare-and-set marker.
pub const CAS_MARKER: &str = "cas-";

/// A value and the node version it was read at (Curator's
/// `VersionedValue`): what [`SharedCount::try_set_count`] compares.
///
/// ```
/// let v = zk_recipes::VersionedValue { value: 7, version: 3 };
/// assert_eq!(v.value, 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VersionedValue<T = i32> {
    /// The value read.
    pub value: T,
    /// The node's data version; -1 if the node does not exist.
    pub version: i32,
}

/// How one compare-and-set went.
enum Cas {
    /// Applied; the node's new version.
    Done(i32),
    /// Someone else changed the node first.
    Conflict,
}

/// Writes `data` to `path` if its version is still `version` (`None`:
/// creates the node, parents as containers, if it does not exist), with a
/// marker so that a lost reply is settled.
async fn compare_and_set(
    client: &Client,
    path: &str,
    version: Option<i32>,
    data: &[u8],
) -> Result<Cas> {
    let marker = join(path, &format!("{CAS_MARKER}{}", uuid::Uuid::new_v4()));
    let mut pauses = crate::retry::policy().build();
    let mut tries = 0;
    loop {
        tries += 1;
        let multi = match version {
            Some(v) => client.multi().set_data(path, data, Some(v)),
            None => client
                .multi()
                .create(path, data, &CreateOptions::persistent()),
        };
        let done = multi
            .create(&marker, b"", &CreateOptions::ephemeral())
            .commit()
            .await;
        let e = match done {
            Ok(results) => {
                let _ = session::delete_quietly(client, &marker).await;
                let new_version = match results.first() {
                    Some(OpResult::SetData { stat }) => stat.version,
                    Some(OpResult::Create {
                        stat: Some(stat), ..
                    }) => stat.version,
                    _ => version.map_or(0, |v| v + 1),
                };
                return Ok(Cas::Done(new_version));
            }
            Err(ZkError::Multi { index: 0, source }) => match (*source, version) {
                (ZkError::BadVersion | ZkError::NoNode, Some(_)) => return Ok(Cas::Conflict),
                (ZkError::NodeExists, None) => return Ok(Cas::Conflict),
                (ZkError::NoNode, None) if tries < MAX_TRIES => {
                    session::ensure_parent(client, path).await?;
                    continue;
                }
                (e, _) => return Err(e.into()),
            },
            Err(ZkError::Multi { source, .. }) => return Err((*source).into()),
            Err(e) => e,
        };
        if !e.is_retryable() || tries >= MAX_TRIES {
            return Err(e.into());
        }
        if e == ZkError::ConnectionLoss {
            match session::marker_outcome(client, &marker).await? {
                Some(true) => {
                    let _ = session::delete_quietly(client, &marker).await;
                    return Ok(Cas::Done(version.map_or(0, |v| v + 1)));
                }
                Some(false) => {}
                None => return Err(Error::SessionLost),
            }
        }
        tokio::time::sleep(pauses.next().unwrap_or_default()).await;
    }
}

/// The client to write with: the current one, or the next session's.
async fn writer(fw: &Framework) -> Result<Client> {
    live_client(fw, None).await?.ok_or(Error::SessionLost)
}

fn decode_i32(data: &[u8]) -> Result<i32> {
    match <[u8; 4]>::try_from(data) {
        Ok(bytes) => Ok(i32::from_be_bytes(bytes)),
        Err(_) if data.is_empty() => Ok(0),
        Err(_) => Err(Error::Serde(format!(
            "a shared count is 4 bytes, found {}",
            data.len()
        ))),
    }
}

fn decode_i64(data: &[u8]) -> Result<i64> {
    match <[u8; 8]>::try_from(data) {
        Ok(bytes) => Ok(i64::from_be_bytes(bytes)),
        Err(_) if data.is_empty() => Ok(0),
        Err(_) => Err(Error::Serde(format!(
            "an atomic long is 8 bytes, found {}",
            data.len()
        ))),
    }
}

/// A shared count (Curator's `SharedCount`): a 4-byte big-endian `i32` in a
/// node. [`start`](Self::start) makes the node (with the seed, if it is
/// new) and follows the value with a data watch, across disconnects and
/// session expiry; [`values`](Self::values) is that value as a watch
/// channel. Writes are either blind ([`set_count`](Self::set_count)) or
/// compare-and-set on the version ([`try_set_count`](Self::try_set_count)).
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::Client;
/// use zk_recipes::{Framework, SharedCount};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let count = SharedCount::new(&fw, "/counts/workers", 5);
/// count.start().await?;
/// assert_eq!(count.count(), 5); // the seed: the node was new
///
/// let seen = count.versioned_value();
/// assert!(count.try_set_count(&seen, seen.value + 1).await?);
/// // The same stale version loses: someone (here, we) changed it since.
/// assert!(!count.try_set_count(&seen, 100).await?);
/// assert_eq!(count.count(), 6); // read again after the conflict
///
/// // Another handle on the same path sees the value.
/// let other = SharedCount::new(&fw, "/counts/workers", 0);
/// assert_eq!(other.read().await?.value, 6);
/// count.close().await;
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct SharedCount {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    fw: Framework,
    path: String,
    seed: i32,
    value: watch::Sender<VersionedValue>,
    /// The czxid of the node `value` was read from. A value replaces
    /// another if it is of a newer node, or of the same node at a higher
    /// version, whichever of the watch or a write of ours reports it
    /// first. Only locked inside `send_if_modified`.
    czxid: StdMutex<i64>,
    stop: CancellationToken,
    task: StdMutex<Option<tokio::task::JoinHandle<()>>>,
}

impl SharedCount {
    /// The count at `path`; `seed` is its value if `start` creates it.
    ///
    /// ```no_run
    /// # fn demo(fw: zk_recipes::Framework) {
    /// let count = zk_recipes::SharedCount::new(&fw, "/counts/workers", 0);
    /// # let _ = count; }
    /// ```
    pub fn new(fw: &Framework, path: &str, seed: i32) -> SharedCount {
        let unknown = VersionedValue {
            value: seed,
            version: -1,
        };
        SharedCount {
            inner: Arc::new(Inner {
                fw: fw.clone(),
                path: path.to_owned(),
                seed,
                value: watch::channel(unknown).0,
                czxid: StdMutex::new(i64::MIN),
                stop: CancellationToken::new(),
                task: StdMutex::new(None),
            }),
        }
    }

    /// Makes the node if it is missing, reads the value and follows it in
    /// the background.
    ///
    /// ```no_run
    /// # async fn demo(count: zk_recipes::SharedCount) -> Result<(), zk_recipes::Error> {
    /// count.start().await?;
    /// println!("{}", count.count());
    /// # Ok(()) }
    /// ```
    pub async fn start(&self) -> Result<()> {
        let client = writer(&self.inner.fw).await?;
        let seed = self.inner.seed.to_be_bytes();
        match session::create_node(&client, &self.inner.path, &seed, CreateMode::Persistent).await {
            Ok(()) | Err(ZkError::NodeExists) => {}
            Err(e) => return Err(e.into()),
        }
        self.read().await?;
        if let Ok(mut task) = self.inner.task.lock()
            && task.is_none()
        {
            *task = Some(tokio::spawn(follow(self.inner.clone())));
        }
        Ok(())
    }

    /// The value last seen.
    ///
    /// ```no_run
    /// # fn demo(count: zk_recipes::SharedCount) {
    /// let n: i32 = count.count();
    /// # let _ = n; }
    /// ```
    pub fn count(&self) -> i32 {
        self.inner.value.borrow().value
    }

    /// The value last seen, with its version (what
    /// [`try_set_count`](Self::try_set_count) compares against).
    ///
    /// ```no_run
    /// # fn demo(count: zk_recipes::SharedCount) {
    /// let seen = count.versioned_value();
    /// # let _ = seen; }
    /// ```
    pub fn versioned_value(&self) -> VersionedValue {
        *self.inner.value.borrow()
    }

    /// The value as a watch channel: a new value after every change.
    ///
    /// ```no_run
    /// # async fn demo(count: zk_recipes::SharedCount) {
    /// let mut values = count.values();
    /// while values.changed().await.is_ok() {
    ///     println!("now {}", values.borrow_and_update().value);
    /// }
    /// # }
    /// ```
    pub fn values(&self) -> watch::Receiver<VersionedValue> {
        self.inner.value.subscribe()
    }

    /// Reads the value from the server now (and remembers it).
    ///
    /// ```no_run
    /// # async fn demo(count: zk_recipes::SharedCount) -> Result<(), zk_recipes::Error> {
    /// let fresh = count.read().await?;
    /// # let _ = fresh;
    /// # Ok(()) }
    /// ```
    pub async fn read(&self) -> Result<VersionedValue> {
        let client = writer(&self.inner.fw).await?;
        let (data, stat) = retry(|| client.get_data(&self.inner.path)).await?;
        let seen = VersionedValue {
            value: decode_i32(&data)?,
            version: stat.version,
        };
        self.inner.remember(seen, stat.czxid);
        Ok(seen)
    }

    /// Sets the value, whatever it was.
    ///
    /// ```no_run
    /// # async fn demo(count: zk_recipes::SharedCount) -> Result<(), zk_recipes::Error> {
    /// count.set_count(0).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_count(&self, value: i32) -> Result<()> {
        let client = writer(&self.inner.fw).await?;
        let data = value.to_be_bytes();
        match retry(|| client.set_data(&self.inner.path, &data, None)).await {
            Ok(stat) => {
                self.inner.remember_stat(value, &stat);
                Ok(())
            }
            Err(ZkError::NoNode) => {
                match session::create_node(&client, &self.inner.path, &data, CreateMode::Persistent)
                    .await
                {
                    Ok(()) => Ok(()),
                    // Made meanwhile: set it over.
                    Err(ZkError::NodeExists) => {
                        retry(|| client.set_data(&self.inner.path, &data, None)).await?;
                        Ok(())
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Sets the value to `value` only if it is still at
    /// `previous.version`: true if it was set; false if someone changed it
    /// first (the value is read again then, so
    /// [`versioned_value`](Self::versioned_value) is fresh for the next
    /// try).
    ///
    /// ```no_run
    /// # async fn demo(count: zk_recipes::SharedCount) -> Result<(), zk_recipes::Error> {
    /// let seen = count.versioned_value();
    /// if !count.try_set_count(&seen, seen.value * 2).await? {
    ///     // lost the race; try again with count.versioned_value()
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn try_set_count(&self, previous: &VersionedValue, value: i32) -> Result<bool> {
        if previous.version < 0 {
            self.read().await?;
            return Ok(false);
        }
        let client = writer(&self.inner.fw).await?;
        let data = value.to_be_bytes();
        match compare_and_set(&client, &self.inner.path, Some(previous.version), &data).await? {
            Cas::Done(version) => {
                // The same node (a set at its version worked), one version on.
                self.inner.value.send_if_modified(|v| {
                    let newer = version > v.version;
                    if newer {
                        *v = VersionedValue { value, version };
                    }
                    newer
                });
                Ok(true)
            }
            Cas::Conflict => {
                match self.read().await {
                    Ok(_) | Err(Error::Zk(ZkError::NoNode)) => {}
                    Err(e) => return Err(e),
                }
                Ok(false)
            }
        }
    }

    /// Stops following the value.
    ///
    /// ```no_run
    /// # async fn demo(count: zk_recipes::SharedCount) {
    /// count.close().await;
    /// # }
    /// ```
    pub async fn close(&self) {
        self.inner.stop.cancel();
        let task = self.inner.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

impl Inner {
    fn remember(&self, seen: VersionedValue, czxid: i64) {
        self.value.send_if_modified(|v| {
            let Ok(mut node) = self.czxid.lock() else {
                return false;
            };
            let newer = czxid > *node || (czxid == *node && seen.version > v.version);
            if !newer {
                return false;
            }
            *node = czxid;
            *v = seen;
            true
        });
    }

    fn remember_stat(&self, value: i32, stat: &Stat) {
        self.remember(
            VersionedValue {
                value,
                version: stat.version,
            },
            stat.czxid,
        );
    }
}

/// Follows the count's node with a data watch, session after session.
async fn follow(inner: Arc<Inner>) {
    let mut pauses = session::pauses();
    loop {
        let client = tokio::select! {
            () = inner.stop.cancelled() => return,
            c = live_client(&inner.fw, None) => match c {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(_) => return,
            },
        };
        let looked = tokio::select! {
            () = inner.stop.cancelled() => return,
            r = follow_once(&inner, &client) => r,
        };
        match looked {
            Ok(()) => pauses = session::pauses(),
            Err(e) => {
                tracing::debug!(path = inner.path, error = %e, "shared count: retrying");
                tokio::select! {
                    () = inner.stop.cancelled() => return,
                    () = tokio::time::sleep(pauses.next().unwrap_or_default()) => {}
                }
            }
        }
    }
}

/// Reads the value with a watch and waits for the watch to fire.
async fn follow_once(inner: &Inner, client: &Client) -> Result<()> {
    let watcher = match client.get_data_and_watch(&inner.path).await {
        Ok((data, stat, watcher)) => {
            let value = decode_i32(&data)?;
            inner.remember_stat(value, &stat);
            watcher
        }
        Err(ZkError::NoNode) => match client.exists_and_watch(&inner.path).await? {
            (Some(_), _) => return Ok(()),
            (None, watcher) => watcher,
        },
        Err(e) => return Err(e.into()),
    };
    // Any event means read again; after the session's end the next
    // `live_client` brings the new session (or ends the task).
    let _ = watcher.await;
    Ok(())
}

/// What an atomic operation did (Curator's `AtomicValue`): whether it was
/// applied, and the value before and after (the value it would have set,
/// when it was not).
///
/// ```
/// let v = zk_recipes::AtomicValue { succeeded: true, pre_value: 4, post_value: 5 };
/// assert_eq!(v.post_value - v.pre_value, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtomicValue {
    /// Whether the change was applied.
    pub succeeded: bool,
    /// The value it was computed from.
    pub pre_value: i64,
    /// The value written (or that would have been).
    pub post_value: i64,
}

/// A distributed atomic long (Curator's `DistributedAtomicLong`): an 8-byte
/// big-endian `i64` in a node (a missing node counts as 0). Every change is
/// an optimistic compare-and-set: read, compute, set at the version read;
/// on a conflict read again, with backoff, at most
/// [`max_tries`](Self::with_max_tries) times. When the tries run out the
/// result says `succeeded: false` and nothing was changed.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::Client;
/// use zk_recipes::{AtomicValue, DistributedAtomicLong, Framework};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let hits = DistributedAtomicLong::new(&fw, "/counters/hits");
/// assert_eq!(hits.get().await?, 0); // no node yet
///
/// let v = hits.increment().await?;
/// assert_eq!(v, AtomicValue { succeeded: true, pre_value: 0, post_value: 1 });
/// hits.add(10).await?;
/// assert_eq!(hits.get().await?, 11);
///
/// // compare_and_set applies only from the expected value.
/// assert!(!hits.compare_and_set(5, 6).await?.succeeded);
/// assert!(hits.compare_and_set(11, 0).await?.succeeded);
/// assert!(!hits.initialize(100).await?); // already exists: left alone
/// assert_eq!(hits.get().await?, 0);
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct DistributedAtomicLong {
    fw: Framework,
    path: String,
    max_tries: usize,
}

impl DistributedAtomicLong {
    /// The counter at `path` (made on the first change), 10 tries per
    /// change.
    ///
    /// ```no_run
    /// # fn demo(fw: zk_recipes::Framework) {
    /// let hits = zk_recipes::DistributedAtomicLong::new(&fw, "/counters/hits");
    /// # let _ = hits; }
    /// ```
    pub fn new(fw: &Framework, path: &str) -> DistributedAtomicLong {
        DistributedAtomicLong {
            fw: fw.clone(),
            path: path.to_owned(),
            max_tries: 10,
        }
    }

    /// At most `tries` compare-and-sets per change (at least 1).
    ///
    /// ```no_run
    /// # fn demo(fw: zk_recipes::Framework) {
    /// let hits = zk_recipes::DistributedAtomicLong::new(&fw, "/counters/hits").with_max_tries(50);
    /// # let _ = hits; }
    /// ```
    pub fn with_max_tries(mut self, tries: usize) -> DistributedAtomicLong {
        self.max_tries = tries.max(1);
        self
    }

    /// The value now (0 if the node does not exist).
    ///
    /// ```no_run
    /// # async fn demo(hits: zk_recipes::DistributedAtomicLong) -> Result<(), zk_recipes::Error> {
    /// let n = hits.get().await?;
    /// # let _ = n;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self) -> Result<i64> {
        let client = writer(&self.fw).await?;
        Ok(self.read(&client).await?.value)
    }

    /// The value and its version; version -1 if the node does not exist.
    async fn read(&self, client: &Client) -> Result<VersionedValue<i64>> {
        match retry(|| client.get_data(&self.path)).await {
            Ok((data, stat)) => Ok(VersionedValue {
                value: decode_i64(&data)?,
                version: stat.version,
            }),
            Err(ZkError::NoNode) => Ok(VersionedValue {
                value: 0,
                version: -1,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates the node with `value` if it does not exist; false if it
    /// did (and is left alone).
    ///
    /// ```no_run
    /// # async fn demo(hits: zk_recipes::DistributedAtomicLong) -> Result<(), zk_recipes::Error> {
    /// hits.initialize(100).await?;
    /// # Ok(()) }
    /// ```
    pub async fn initialize(&self, value: i64) -> Result<bool> {
        let client = writer(&self.fw).await?;
        match compare_and_set(&client, &self.path, None, &value.to_be_bytes()).await? {
            Cas::Done(_) => Ok(true),
            Cas::Conflict => Ok(false),
        }
    }

    /// Adds 1.
    ///
    /// ```no_run
    /// # async fn demo(hits: zk_recipes::DistributedAtomicLong) -> Result<(), zk_recipes::Error> {
    /// let v = hits.increment().await?;
    /// # let _ = v;
    /// # Ok(()) }
    /// ```
    pub async fn increment(&self) -> Result<AtomicValue> {
        self.add(1).await
    }

    /// Subtracts 1.
    ///
    /// ```no_run
    /// # async fn demo(hits: zk_recipes::DistributedAtomicLong) -> Result<(), zk_recipes::Error> {
    /// let v = hits.decrement().await?;
    /// # let _ = v;
    /// # Ok(()) }
    /// ```
    pub async fn decrement(&self) -> Result<AtomicValue> {
        self.add(-1).await
    }

    /// Adds `delta` (wrapping, as Java's long does).
    ///
    /// ```no_run
    /// # async fn demo(hits: zk_recipes::DistributedAtomicLong) -> Result<(), zk_recipes::Error> {
    /// let v = hits.add(10).await?;
    /// # let _ = v;
    /// # Ok(()) }
    /// ```
    pub async fn add(&self, delta: i64) -> Result<AtomicValue> {
        self.update(|v| Some(v.wrapping_add(delta))).await
    }

    /// Sets `value` by compare-and-set (retried on conflicts, like
    /// [`add`](Self::add)).
    ///
    /// ```no_run
    /// # async fn demo(hits: zk_recipes::DistributedAtomicLong) -> Result<(), zk_recipes::Error> {
    /// let v = hits.try_set(0).await?;
    /// # let _ = v;
    /// # Ok(()) }
    /// ```
    pub async fn try_set(&self, value: i64) -> Result<AtomicValue> {
        self.update(|_| Some(value)).await
    }

    /// Sets `new` if the value is `expected`. Not applied (`succeeded:
    /// false`) if the value is something else; a conflict with a writer
    /// that left the value at `expected` is retried.
    ///
    /// ```no_run
    /// # async fn demo(hits: zk_recipes::DistributedAtomicLong) -> Result<(), zk_recipes::Error> {
    /// let v = hits.compare_and_set(5, 6).await?;
    /// if !v.succeeded {
    ///     println!("it was {}", v.pre_value);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn compare_and_set(&self, expected: i64, new: i64) -> Result<AtomicValue> {
        self.update(|v| (v == expected).then_some(new)).await
    }

    /// Sets the value unconditionally.
    ///
    /// ```no_run
    /// # async fn demo(hits: zk_recipes::DistributedAtomicLong) -> Result<(), zk_recipes::Error> {
    /// hits.force_set(0).await?;
    /// # Ok(()) }
    /// ```
    pub async fn force_set(&self, value: i64) -> Result<()> {
        let client = writer(&self.fw).await?;
        let data = value.to_be_bytes();
        match retry(|| client.set_data(&self.path, &data, None)).await {
            Ok(_) => Ok(()),
            Err(ZkError::NoNode) => {
                match session::create_node(&client, &self.path, &data, CreateMode::Persistent).await
                {
                    Ok(()) => Ok(()),
                    Err(ZkError::NodeExists) => {
                        retry(|| client.set_data(&self.path, &data, None)).await?;
                        Ok(())
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The optimistic loop: `next` gives the new value from the current one
    /// (`None`: do not change it).
    async fn update(&self, next: impl Fn(i64) -> Option<i64>) -> Result<AtomicValue> {
        let mut pauses = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(5))
            .with_max_delay(Duration::from_millis(500))
            .with_jitter()
            .with_max_times(self.max_tries - 1)
            .build();
        loop {
            let client = writer(&self.fw).await?;
            let seen = self.read(&client).await?;
            let Some(new) = next(seen.value) else {
                return Ok(AtomicValue {
                    succeeded: false,
                    pre_value: seen.value,
                    post_value: seen.value,
                });
            };
            let version = (seen.version >= 0).then_some(seen.version);
            match compare_and_set(&client, &self.path, version, &new.to_be_bytes()).await {
                Ok(Cas::Done(_)) => {
                    return Ok(AtomicValue {
                        succeeded: true,
                        pre_value: seen.value,
                        post_value: new,
                    });
                }
                Ok(Cas::Conflict) => match pauses.next() {
                    Some(pause) => tokio::time::sleep(pause).await,
                    None => {
                        return Ok(AtomicValue {
                            succeeded: false,
                            pre_value: seen.value,
                            post_value: new,
                        });
                    }
                },
                // Not sent (the session ended before): read again with the
                // next session.
                Err(Error::Zk(e)) if session::session_ended(&e) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(decode_i32(&7i32.to_be_bytes()), Ok(7));
        assert_eq!(decode_i32(&[]), Ok(0));
        assert!(decode_i32(&[1, 2, 3]).is_err());
        assert_eq!(decode_i64(&(-9i64).to_be_bytes()), Ok(-9));
        assert!(decode_i64(&[0; 4]).is_err());
    }
}
