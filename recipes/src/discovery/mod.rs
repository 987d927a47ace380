//! Service discovery in Curator x-discovery's layout and JSON: an instance
//! is an ephemeral node `basePath/<name>/<id>` whose data is the instance as
//! JSON, so Java services using Curator and Rust ones see each other.

mod instance;
mod provider;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex as StdMutex};

use tokio_util::sync::CancellationToken;
use zk_client::{CreateMode, CreateOptions, Error as ZkError};

pub use instance::{ServiceInstance, ServiceType};
pub use provider::{ProviderStrategy, ServiceCache, ServiceProvider};

use crate::error::Result;
use crate::framework::Framework;
use crate::nodes::{ensure_path_with, join};
use crate::retry::retry;

/// Registers this process's instances and queries everyone's.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::Client;
/// use zk_recipes::Framework;
/// use zk_recipes::discovery::{ProviderStrategy, ServiceDiscovery, ServiceInstance};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let discovery = ServiceDiscovery::new(&fw, "/services");
/// let api1 = ServiceInstance::new("api", "10.0.0.5", 8080).with_id("api-1");
/// let api2 = ServiceInstance::new("api", "10.0.0.6", 8080).with_id("api-2");
/// discovery.register(&api1).await?;
/// discovery.register(&api2).await?;
/// assert_eq!(discovery.query_names().await?, ["api"]);
/// let found = discovery.query_instance("api", "api-1").await?;
/// assert_eq!(found.map(|i| i.address), Some("10.0.0.5".to_owned()));
///
/// let provider = discovery.provider("api", ProviderStrategy::RoundRobin).await;
/// let first = provider.get_instance().expect("an instance");
/// let second = provider.get_instance().expect("an instance");
/// assert_ne!(first.id, second.id);
///
/// discovery.unregister(&api1).await?;
/// let left = discovery.query_instances("api").await?;
/// assert_eq!(left.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["api-2"]);
/// provider.close();
/// discovery.close();
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct ServiceDiscovery {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    fw: Framework,
    base: String,
    /// What this process registered, re-registered with every new session.
    registered: StdMutex<BTreeMap<String, ServiceInstance>>,
    stop: CancellationToken,
}

impl ServiceDiscovery {
    /// Discovery under `base_path` (Curator's `basePath`). Starts, in the
    /// background, the re-registration after session expiry, so it must be
    /// called within a tokio runtime.
    pub fn new(fw: &Framework, base_path: &str) -> ServiceDiscovery {
        let inner = Arc::new(Inner {
            fw: fw.clone(),
            base: base_path.to_owned(),
            registered: StdMutex::new(BTreeMap::new()),
            stop: CancellationToken::new(),
        });
        tokio::spawn(reregister(inner.clone()));
        ServiceDiscovery { inner }
    }

    fn path(&self, name: &str, id: &str) -> String {
        join(&join(&self.inner.base, name), id)
    }

    /// Registers (or replaces) an instance. DYNAMIC instances are
    /// ephemeral and come back after a session expiry; STATIC and PERMANENT
    /// ones are persistent.
    pub async fn register(&self, instance: &ServiceInstance) -> Result<()> {
        if let Ok(mut reg) = self.inner.registered.lock() {
            reg.insert(instance.id.clone(), instance.clone());
        }
        write(&self.inner, instance).await
    }

    /// Replaces the data of a registered instance (`Error::Zk(NoNode)` if
    /// it is not registered).
    pub async fn update(&self, instance: &ServiceInstance) -> Result<()> {
        let bytes = serde_json::to_vec(instance)?;
        let client = self.inner.fw.client();
        let path = self.path(&instance.name, &instance.id);
        retry(|| client.set_data(&path, &bytes, None)).await?;
        if let Ok(mut reg) = self.inner.registered.lock() {
            reg.insert(instance.id.clone(), instance.clone());
        }
        Ok(())
    }

    /// Deletes an instance and stops re-registering it; an instance that is
    /// not registered is fine.
    pub async fn unregister(&self, instance: &ServiceInstance) -> Result<()> {
        if let Ok(mut reg) = self.inner.registered.lock() {
            reg.remove(&instance.id);
        }
        let client = self.inner.fw.client();
        match retry(|| client.delete(&self.path(&instance.name, &instance.id), None)).await {
            Ok(()) | Err(ZkError::NoNode) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every service name.
    pub async fn query_names(&self) -> Result<Vec<String>> {
        let client = self.inner.fw.client();
        match retry(|| client.get_children(&self.inner.base)).await {
            Ok((mut names, _)) => {
                names.sort();
                Ok(names)
            }
            Err(ZkError::NoNode) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every instance of a service, sorted by id (unreadable entries are
    /// skipped).
    pub async fn query_instances(&self, name: &str) -> Result<Vec<ServiceInstance>> {
        let client = self.inner.fw.client();
        let dir = join(&self.inner.base, name);
        let ids = match retry(|| client.get_children(&dir)).await {
            Ok((ids, _)) => ids,
            Err(ZkError::NoNode) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(i) = self.query_instance(name, &id).await? {
                out.push(i);
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// One instance of a service; `None` if it is not registered or its
    /// data is not an instance.
    pub async fn query_instance(&self, name: &str, id: &str) -> Result<Option<ServiceInstance>> {
        let client = self.inner.fw.client();
        match retry(|| client.get_data(&self.path(name, id))).await {
            Ok((data, _)) => Ok(serde_json::from_slice(&data).ok()),
            Err(ZkError::NoNode) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A watched cache of a service's instances, loaded before it is
    /// returned.
    pub async fn cache(&self, name: &str) -> ServiceCache {
        ServiceCache::start(&self.inner.fw, &join(&self.inner.base, name)).await
    }

    /// Picks instances of a service with a strategy, skipping ones marked
    /// down by `note_error`.
    pub async fn provider(&self, name: &str, strategy: ProviderStrategy) -> ServiceProvider {
        ServiceProvider::new(self.cache(name).await, strategy)
    }

    /// Stops re-registering (the instances stay until the session ends or
    /// they are unregistered).
    pub fn close(&self) {
        self.inner.stop.cancel();
    }
}

async fn write(inner: &Inner, instance: &ServiceInstance) -> Result<()> {
    let bytes = serde_json::to_vec(instance)?;
    let client = inner.fw.client();
    let dir = join(&inner.base, &instance.name);
    let path = join(&dir, &instance.id);
    let mode = match instance.service_type {
        ServiceType::Dynamic => CreateMode::Ephemeral,
        ServiceType::DynamicSequential => CreateMode::EphemeralSequential,
        ServiceType::Static | ServiceType::Permanent => CreateMode::Persistent,
    };
    for _ in 0..crate::retry::MAX_TRIES {
        match client
            .create(&path, &bytes, &CreateOptions::new(mode))
            .await
        {
            Ok(_) => return Ok(()),
            Err(ZkError::NoNode) => ensure_path_with(&client, &dir, CreateMode::Persistent).await?,
            // An old registration (ours from a previous session, or a
            // stale one): replace it, so watchers see the new data.
            Err(ZkError::NodeExists) => match retry(|| client.delete(&path, None)).await {
                Ok(()) | Err(ZkError::NoNode) => {}
                Err(e) => return Err(e.into()),
            },
            Err(e) if e.is_retryable() => {
                // The create may have happened: if our data is there, done.
                if let Ok((data, _)) = client.get_data(&path).await
                    && data == bytes
                {
                    return Ok(());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(crate::error::Error::State("registration kept failing"))
}

/// After a session expiry, every instance this process registered comes
/// back with the new session (Curator re-registers on RECONNECTED).
async fn reregister(inner: Arc<Inner>) {
    let mut sessions = inner.fw.sessions();
    loop {
        tokio::select! {
            () = inner.stop.cancelled() => return,
            changed = sessions.changed() => if changed.is_err() { return },
        }
        let instances: Vec<ServiceInstance> = inner
            .registered
            .lock()
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default();
        for instance in instances {
            if let Err(e) = write(&inner, &instance).await {
                tracing::warn!(service = %instance.name, id = %instance.id, error = %e, "re-registration failed");
            } else {
                tracing::info!(service = %instance.name, id = %instance.id, "re-registered after session expiry");
            }
        }
    }
}
