//! Caches of a subtree kept current by watches: [`TreeCache`] (a whole
//! subtree, optionally to a depth), [`ChildrenCache`] (a node's children)
//! and [`NodeCache`] (one node). They follow a persistent-recursive watch
//! (ZooKeeper 3.6+) and fall back to one-shot watches on older servers.
//!
//! Read the cached state with `get`/`snapshot`, wake on changes with the
//! watch channel from `changes()`, or follow a Stream of [`CacheEvent`]s.

mod fallback;
mod sync;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex as StdMutex};

use futures::Stream;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use zk_client::Stat;

use crate::framework::Framework;

/// A cached node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeData {
    /// The data, as last read (null data reads as empty).
    pub data: Vec<u8>,
    /// The stat read with it.
    pub stat: Stat,
}

/// What changed in a cache. Paths are full paths (as the client sees them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheEvent {
    /// A node came into the cache: created, or found by a (re)load.
    Added {
        /// The node's path.
        path: String,
        /// Its data and stat.
        node: NodeData,
    },
    /// A cached node's data or stat changed.
    Updated {
        /// The node's path.
        path: String,
        /// Its new data and stat.
        node: NodeData,
    },
    /// A node left the cache (deleted); a subtree goes deepest first.
    Removed {
        /// The node's path.
        path: String,
    },
    /// The first full load is done (sent again after each resync).
    Initialized,
}

/// Events kept for slow stream readers before they skip ahead.
const EVENT_BUFFER: usize = 4096;

#[derive(Debug)]
pub(crate) struct Shared {
    pub root: String,
    /// Depth below the root that is cached (0 = the root only).
    pub max_depth: usize,
    /// std Mutex: held for map updates and reads, never across an await.
    pub nodes: StdMutex<BTreeMap<String, NodeData>>,
    pub version: watch::Sender<u64>,
    pub events: broadcast::Sender<CacheEvent>,
    /// True once the first full load is done.
    pub loaded: watch::Sender<bool>,
    pub stop: CancellationToken,
}

impl Shared {
    pub fn depth(&self, path: &str) -> Option<usize> {
        if path == self.root {
            return Some(0);
        }
        let rest = if self.root == "/" {
            path.strip_prefix('/')?
        } else {
            path.strip_prefix(self.root.as_str())?.strip_prefix('/')?
        };
        Some(rest.split('/').count())
    }

    pub fn in_scope(&self, path: &str) -> bool {
        self.depth(path).is_some_and(|d| d <= self.max_depth)
    }

    fn emit(&self, event: CacheEvent) {
        let _ = self.events.send(event);
        self.version.send_modify(|v| *v += 1);
    }

    /// Records a node's current data; emits Added or Updated if it changed.
    pub fn upsert(&self, path: &str, node: NodeData) {
        let event = {
            let Ok(mut nodes) = self.nodes.lock() else {
                return;
            };
            match nodes.insert(path.to_owned(), node.clone()) {
                None => Some(CacheEvent::Added {
                    path: path.to_owned(),
                    node,
                }),
                Some(old) if old != node => Some(CacheEvent::Updated {
                    path: path.to_owned(),
                    node,
                }),
                Some(_) => None,
            }
        };
        if let Some(e) = event {
            self.emit(e);
        }
    }

    /// Forgets a node and everything under it; emits Removed for each,
    /// deepest first.
    pub fn remove_subtree(&self, path: &str) {
        let removed: Vec<String> = {
            let Ok(mut nodes) = self.nodes.lock() else {
                return;
            };
            let prefix = if path == "/" {
                "/".to_owned()
            } else {
                format!("{path}/")
            };
            let doomed: Vec<String> = nodes
                .keys()
                .filter(|k| *k == path || k.starts_with(&prefix))
                .cloned()
                .collect();
            for k in &doomed {
                nodes.remove(k);
            }
            doomed
        };
        for path in removed.into_iter().rev() {
            self.emit(CacheEvent::Removed { path });
        }
    }

    /// Cached paths under (and including) `path`.
    pub fn cached_under(&self, path: &str) -> Vec<String> {
        let prefix = if path == "/" {
            "/".to_owned()
        } else {
            format!("{path}/")
        };
        self.nodes
            .lock()
            .map(|nodes| {
                nodes
                    .keys()
                    .filter(|k| *k == path || k.starts_with(&prefix))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn initialized(&self) {
        self.emit(CacheEvent::Initialized);
        self.loaded.send_replace(true);
    }
}

/// A cache of the subtree at a path.
///
/// The root need not exist: it is cached once it is created. Clones share
/// one cache; it keeps following until [`close`](Self::close).
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use futures::StreamExt;
/// use zk_client::{Client, CreateOptions};
/// use zk_recipes::{CacheEvent, Framework, TreeCache};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let client = fw.client();
/// client.create("/services", b"", &CreateOptions::persistent()).await?;
/// client.create("/services/api", b"v1", &CreateOptions::persistent()).await?;
///
/// let cache = TreeCache::start(&fw, "/services", usize::MAX);
/// cache.initialized().await;
/// assert_eq!(cache.get("/services/api").map(|n| n.data), Some(b"v1".to_vec()));
/// assert_eq!(cache.children("/services"), ["api"]);
///
/// // The stream is not Unpin: pin it to call `next()`.
/// let mut events = std::pin::pin!(cache.events());
/// client.set_data("/services/api", b"v2", None).await?;
/// match events.next().await {
///     Some(CacheEvent::Updated { path, node }) => {
///         assert_eq!(path, "/services/api");
///         assert_eq!(node.data, b"v2");
///     }
///     other => panic!("expected an update, got {other:?}"),
/// }
/// cache.close();
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct TreeCache {
    shared: Arc<Shared>,
}

impl TreeCache {
    /// Starts caching `root` and its descendants down to `max_depth`
    /// levels below it (0: the root only). The first load happens in the
    /// background (so this must be called within a tokio runtime); wait for
    /// it with [`TreeCache::initialized`].
    pub fn start(fw: &Framework, root: &str, max_depth: usize) -> TreeCache {
        let (version, _) = watch::channel(0);
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let shared = Arc::new(Shared {
            root: root.to_owned(),
            max_depth,
            nodes: StdMutex::new(BTreeMap::new()),
            version,
            events,
            loaded: watch::channel(false).0,
            stop: CancellationToken::new(),
        });
        tokio::spawn(sync::run(fw.clone(), shared.clone()));
        TreeCache { shared }
    }

    /// The cached node at `path`.
    pub fn get(&self, path: &str) -> Option<NodeData> {
        self.shared.nodes.lock().ok()?.get(path).cloned()
    }

    /// The cached children names of `path`, sorted.
    pub fn children(&self, path: &str) -> Vec<String> {
        let prefix = if path == "/" {
            "/".to_owned()
        } else {
            format!("{path}/")
        };
        self.shared
            .nodes
            .lock()
            .map(|nodes| {
                nodes
                    .keys()
                    .filter_map(|k| k.strip_prefix(&prefix))
                    .filter(|rest| !rest.is_empty() && !rest.contains('/'))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every cached node.
    pub fn snapshot(&self) -> BTreeMap<String, NodeData> {
        self.shared
            .nodes
            .lock()
            .map(|n| n.clone())
            .unwrap_or_default()
    }

    /// A counter bumped on every change: `changed().await` wakes on each.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.shared.version.subscribe()
    }

    /// The events from now on. A reader that falls more than 4096 events
    /// behind skips ahead (the snapshot stays right).
    pub fn events(&self) -> impl Stream<Item = CacheEvent> + Send + 'static {
        futures::stream::unfold(self.shared.events.subscribe(), |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(e) => return Some((e, rx)),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(skipped = n, "cache event reader fell behind");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }

    /// Waits until the first full load is done. It waits for ever while
    /// the server cannot be reached.
    pub async fn initialized(&self) {
        let mut rx = self.shared.loaded.subscribe();
        let _ = rx.wait_for(|loaded| *loaded).await;
    }

    /// Stops following changes.
    pub fn close(&self) {
        self.shared.stop.cancel();
    }
}

/// A cache of one node (Curator's `NodeCache`): its data, or `None` while
/// it does not exist.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::{Client, CreateOptions};
/// use zk_recipes::{Framework, NodeCache};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let cache = NodeCache::start(&fw, "/feature-flag");
/// cache.initialized().await;
/// assert_eq!(cache.current(), None); // not there yet
///
/// let mut changes = cache.changes();
/// let client = fw.client();
/// client.create("/feature-flag", b"on", &CreateOptions::persistent()).await?;
/// changes.changed().await?;
/// assert_eq!(cache.current().map(|n| n.data), Some(b"on".to_vec()));
/// cache.close();
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct NodeCache {
    tree: TreeCache,
    path: String,
}

impl NodeCache {
    /// Starts caching the node at `path` (in the background, so within a
    /// tokio runtime); it need not exist.
    pub fn start(fw: &Framework, path: &str) -> NodeCache {
        NodeCache {
            tree: TreeCache::start(fw, path, 0),
            path: path.to_owned(),
        }
    }

    /// The node as last seen; `None` while it does not exist (or before
    /// the first load).
    pub fn current(&self) -> Option<NodeData> {
        self.tree.get(&self.path)
    }

    /// A counter bumped on every change: `changed().await` wakes on each.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.tree.changes()
    }

    /// The events from now on (see [`TreeCache::events`]).
    pub fn events(&self) -> impl Stream<Item = CacheEvent> + Send + 'static {
        self.tree.events()
    }

    /// Waits until the first load is done.
    pub async fn initialized(&self) {
        self.tree.initialized().await;
    }

    /// Stops following changes.
    pub fn close(&self) {
        self.tree.close();
    }
}

/// A cache of a node's children and their data (Curator's
/// `PathChildrenCache`).
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::{Client, CreateOptions};
/// use zk_recipes::{ChildrenCache, Framework};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let client = fw.client();
/// client.create("/workers", b"", &CreateOptions::persistent()).await?;
/// let cache = ChildrenCache::start(&fw, "/workers");
/// cache.initialized().await;
/// assert!(cache.current().is_empty());
///
/// let mut changes = cache.changes();
/// client.create("/workers/w1", b"idle", &CreateOptions::ephemeral()).await?;
/// changes.changed().await?;
/// let children = cache.current();
/// assert_eq!(children.keys().collect::<Vec<_>>(), ["w1"]);
/// assert_eq!(children["w1"].data, b"idle");
/// cache.close();
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct ChildrenCache {
    tree: TreeCache,
    path: String,
}

impl ChildrenCache {
    /// Starts caching the children of `path` (in the background, so within
    /// a tokio runtime); it need not exist.
    pub fn start(fw: &Framework, path: &str) -> ChildrenCache {
        ChildrenCache {
            tree: TreeCache::start(fw, path, 1),
            path: path.to_owned(),
        }
    }

    /// Children names and data, sorted by name.
    pub fn current(&self) -> BTreeMap<String, NodeData> {
        let prefix = if self.path == "/" {
            "/".to_owned()
        } else {
            format!("{}/", self.path)
        };
        self.tree
            .snapshot()
            .into_iter()
            .filter_map(|(p, n)| p.strip_prefix(&prefix).map(|name| (name.to_owned(), n)))
            .collect()
    }

    /// A counter bumped on every change (the parent's own changes too).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.tree.changes()
    }

    /// Events about the children (the parent's own are left out).
    pub fn events(&self) -> impl Stream<Item = CacheEvent> + Send + 'static {
        use futures::StreamExt;
        let parent = self.path.clone();
        self.tree.events().filter(move |e| {
            let keep = match e {
                CacheEvent::Added { path, .. }
                | CacheEvent::Updated { path, .. }
                | CacheEvent::Removed { path } => *path != parent,
                CacheEvent::Initialized => true,
            };
            std::future::ready(keep)
        })
    }

    /// Waits until the first load is done.
    pub async fn initialized(&self) {
        self.tree.initialized().await;
    }

    /// Stops following changes.
    pub fn close(&self) {
        self.tree.close();
    }
}
