//! Configuration pub/sub: a typed value (JSON through serde) published at a
//! path; subscribers follow it through a node cache.

use std::marker::PhantomData;

use futures::Stream;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use zk_client::{CreateOptions, Error as ZkError, Stat};

use crate::cache::NodeCache;
use crate::error::Result;
use crate::framework::Framework;
use crate::nodes::ensure_path_with;
use crate::retry::retry;

/// Publishes a typed configuration value, as JSON in one node.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::Client;
/// use zk_recipes::{ConfigPublisher, ConfigSubscriber, Framework};
///
/// #[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
/// struct Limits { max_conns: u32 }
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let publisher = ConfigPublisher::<Limits>::new(&fw, "/config/limits");
/// let stat = publisher.publish(&Limits { max_conns: 100 }).await?;
///
/// let sub = ConfigSubscriber::<Limits>::start(&fw, "/config/limits").await;
/// assert_eq!(sub.current(), Some(Limits { max_conns: 100 }));
///
/// // A read-modify-write that lost a race fails with BadVersion.
/// let mut values = sub.watch();
/// publisher.publish_if(&Limits { max_conns: 200 }, stat.version).await?;
/// let stale = publisher.publish_if(&Limits { max_conns: 300 }, stat.version).await;
/// assert_eq!(stale, Err(zk_recipes::Error::Zk(zk_client::Error::BadVersion)));
///
/// values.wait_for(|v| v.as_ref().is_some_and(|l| l.max_conns == 200)).await?;
/// assert_eq!(sub.current(), Some(Limits { max_conns: 200 }));
/// sub.close();
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct ConfigPublisher<T> {
    fw: Framework,
    path: String,
    _value: PhantomData<fn(&T)>,
}

impl<T: Serialize> ConfigPublisher<T> {
    /// A publisher of the value at `path`.
    pub fn new(fw: &Framework, path: &str) -> ConfigPublisher<T> {
        ConfigPublisher {
            fw: fw.clone(),
            path: path.to_owned(),
            _value: PhantomData,
        }
    }

    /// Sets the value (creating the node and its parents, persistent, when
    /// missing); the node's new stat.
    pub async fn publish(&self, value: &T) -> Result<Stat> {
        self.write(value, None).await
    }

    /// Sets the value only if the node is still at `version`
    /// (`Error::Zk(BadVersion)` otherwise, `NoNode` if it is missing): for
    /// read-modify-write updates by several publishers.
    pub async fn publish_if(&self, value: &T, version: i32) -> Result<Stat> {
        self.write(value, Some(version)).await
    }

    async fn write(&self, value: &T, version: Option<i32>) -> Result<Stat> {
        let bytes = serde_json::to_vec(value)?;
        let client = self.fw.client();
        loop {
            match retry(|| client.set_data(&self.path, &bytes, version)).await {
                Ok(stat) => return Ok(stat),
                Err(ZkError::NoNode) if version.is_none() => {
                    let parent = zk_client_parent(&self.path);
                    ensure_path_with(&client, parent, zk_client::CreateMode::Persistent).await?;
                    match client
                        .create(&self.path, &bytes, &CreateOptions::persistent())
                        .await
                    {
                        Ok((_, stat)) => return Ok(stat),
                        // Someone else created it: set it instead.
                        Err(ZkError::NodeExists) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn zk_client_parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// Follows a typed configuration value: `None` while the node is missing.
/// A value that does not decode is logged and skipped (the last good one
/// stays). See [`ConfigPublisher`] for an example.
#[derive(Debug, Clone)]
pub struct ConfigSubscriber<T> {
    cache: NodeCache,
    value: watch::Receiver<Option<T>>,
}

impl<T: DeserializeOwned + Clone + PartialEq + Send + Sync + 'static> ConfigSubscriber<T> {
    /// Starts following and waits for the first value (or its absence);
    /// waits for ever while the server cannot be reached.
    pub async fn start(fw: &Framework, path: &str) -> ConfigSubscriber<T> {
        let cache = NodeCache::start(fw, path);
        cache.initialized().await;
        let (tx, value) = watch::channel(decode(&cache, path).unwrap_or(None));
        let follow = cache.clone();
        let path = path.to_owned();
        tokio::spawn(async move {
            let mut changes = follow.changes();
            while changes.changed().await.is_ok() {
                let Some(next) = decode::<T>(&follow, &path) else {
                    continue;
                };
                tx.send_if_modified(|cur| {
                    let changed = *cur != next;
                    *cur = next;
                    changed
                });
                if tx.is_closed() {
                    return;
                }
            }
        });
        ConfigSubscriber { cache, value }
    }

    /// The value as last seen; `None` while the node does not exist.
    pub fn current(&self) -> Option<T> {
        self.value.borrow().clone()
    }

    /// The value as a watch channel.
    pub fn watch(&self) -> watch::Receiver<Option<T>> {
        self.value.clone()
    }

    /// Every new value from now on.
    pub fn updates(&self) -> impl Stream<Item = Option<T>> + Send + 'static {
        futures::stream::unfold(self.value.clone(), |mut rx| async move {
            rx.changed().await.ok()?;
            let v = rx.borrow_and_update().clone();
            Some((v, rx))
        })
    }

    /// Stops following the value.
    pub fn close(&self) {
        self.cache.close();
    }
}

/// `Some(None)`: no node; `Some(Some(v))`: a value; `None`: a value that
/// does not decode.
fn decode<T: DeserializeOwned>(cache: &NodeCache, path: &str) -> Option<Option<T>> {
    let Some(node) = cache.current() else {
        return Some(None);
    };
    match serde_json::from_slice(&node.data) {
        Ok(v) => Some(Some(v)),
        Err(e) => {
            tracing::warn!(path, error = %e, "configuration value does not decode; ignored");
            None
        }
    }
}
