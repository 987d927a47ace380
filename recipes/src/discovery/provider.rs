use std::collections::HashMap;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::ServiceInstance;
use crate::cache::ChildrenCache;
use crate::framework::Framework;

/// A watched list of a service's instances.
#[derive(Debug, Clone)]
pub struct ServiceCache {
    cache: ChildrenCache,
}

impl ServiceCache {
    pub(crate) async fn start(fw: &Framework, dir: &str) -> ServiceCache {
        let cache = ChildrenCache::start(fw, dir);
        cache.initialized().await;
        ServiceCache { cache }
    }

    /// The instances now, by id.
    pub fn instances(&self) -> Vec<ServiceInstance> {
        self.cache
            .current()
            .values()
            .filter_map(|n| serde_json::from_slice(&n.data).ok())
            .collect()
    }

    /// Wakes on every change of the instance list.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.cache.changes()
    }

    /// Stops following the instances.
    pub fn close(&self) {
        self.cache.close();
    }
}

/// How a provider picks among instances (Curator's provider strategies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderStrategy {
    /// Any one, at random.
    Random,
    /// Each in turn, in id order.
    RoundRobin,
    /// The same instance until it goes away or is marked down.
    Sticky,
}

/// Errors before an instance counts as down, and for how long
/// (Curator's `DownInstancePolicy` defaults).
const DOWN_THRESHOLD: usize = 2;
const DOWN_FOR: Duration = Duration::from_secs(30);

/// Picks an instance per call; `note_error` marks failing ones down for a
/// while.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::Client;
/// use zk_recipes::Framework;
/// use zk_recipes::discovery::{ProviderStrategy, ServiceDiscovery, ServiceInstance};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let discovery = ServiceDiscovery::new(&fw, "/services");
/// for id in ["api-1", "api-2"] {
///     discovery.register(&ServiceInstance::new("api", "10.0.0.5", 8080).with_id(id)).await?;
/// }
/// let provider = discovery.provider("api", ProviderStrategy::Sticky).await;
/// let mine = provider.get_instance().expect("an instance");
/// assert_eq!(provider.get_instance().map(|i| i.id), Some(mine.id.clone()));
///
/// // Two errors mark an instance down: the provider moves on.
/// provider.note_error(&mine);
/// provider.note_error(&mine);
/// let next = provider.get_instance().expect("the other one");
/// assert_ne!(next.id, mine.id);
/// assert_eq!(provider.all_instances().len(), 2); // still registered
/// # Ok(()) });
/// ```
#[derive(Debug)]
pub struct ServiceProvider {
    cache: ServiceCache,
    strategy: ProviderStrategy,
    next: AtomicUsize,
    sticky: StdMutex<Option<String>>,
    /// id -> (errors, first error). std Mutex: short sections, no awaits.
    errors: StdMutex<HashMap<String, (usize, Instant)>>,
}

impl ServiceProvider {
    pub(crate) fn new(cache: ServiceCache, strategy: ProviderStrategy) -> ServiceProvider {
        ServiceProvider {
            cache,
            strategy,
            next: AtomicUsize::new(0),
            sticky: StdMutex::new(None),
            errors: StdMutex::new(HashMap::new()),
        }
    }

    fn is_down(&self, id: &str) -> bool {
        let Ok(mut errors) = self.errors.lock() else {
            return false;
        };
        match errors.get(id) {
            Some((_, since)) if since.elapsed() > DOWN_FOR => {
                errors.remove(id);
                false
            }
            Some((n, _)) => *n >= DOWN_THRESHOLD,
            None => false,
        }
    }

    /// An enabled instance not marked down, or `None`.
    pub fn get_instance(&self) -> Option<ServiceInstance> {
        let mut up: Vec<ServiceInstance> = self
            .cache
            .instances()
            .into_iter()
            .filter(|i| i.enabled && !self.is_down(&i.id))
            .collect();
        if up.is_empty() {
            return None;
        }
        up.sort_by(|a, b| a.id.cmp(&b.id));
        match self.strategy {
            ProviderStrategy::Random => Some(up.swap_remove(fastrand::usize(..up.len()))),
            ProviderStrategy::RoundRobin => {
                let n = self.next.fetch_add(1, Ordering::Relaxed);
                Some(up.swap_remove(n % up.len()))
            }
            ProviderStrategy::Sticky => {
                let mut sticky = self.sticky.lock().ok()?;
                if let Some(id) = sticky.as_ref()
                    && let Some(i) = up.iter().find(|i| &i.id == id)
                {
                    return Some(i.clone());
                }
                let pick = up.swap_remove(fastrand::usize(..up.len()));
                *sticky = Some(pick.id.clone());
                Some(pick)
            }
        }
    }

    /// Every instance currently known (down or not).
    pub fn all_instances(&self) -> Vec<ServiceInstance> {
        self.cache.instances()
    }

    /// Reports a failed call to `instance`; after two errors it is skipped
    /// for 30 seconds.
    pub fn note_error(&self, instance: &ServiceInstance) {
        if let Ok(mut errors) = self.errors.lock() {
            let entry = errors
                .entry(instance.id.clone())
                .or_insert((0, Instant::now()));
            entry.0 += 1;
        }
        if let Ok(mut sticky) = self.sticky.lock()
            && sticky.as_deref() == Some(instance.id.as_str())
        {
            *sticky = None;
        }
    }

    /// Stops following the instances.
    pub fn close(&self) {
        self.cache.close();
    }
}
