//! Naming: unique ids and names from sequential nodes, and a registry of
//! names (each name one node, taken by the first to register it).

use std::time::Duration;

use zk_client::{Client, CreateMode, Error as ZkError};

use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::nodes::{self, join};
use crate::retry::{MAX_TRIES, retry};
use crate::session;

/// The node name of an id request.
pub const ID_NAME: &str = "id-";

/// Unique ids across every process that shares the path: each id is the
/// sequence number ZooKeeper gives a sequential node made under it (then
/// deleted at once). Ids only grow. The ids one process gets need not be
/// contiguous: other processes take ids in between, and an id whose
/// session ended before it was returned is skipped. The node at `path` is
/// persistent, since a container would be deleted when empty and start
/// counting again.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::Client;
/// use zk_recipes::{Framework, UniqueIdGenerator};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let ids = UniqueIdGenerator::new(&fw, "/ids/orders");
/// let a = ids.next_id().await?;
/// let b = ids.next_id().await?;
/// assert_eq!((a, b), (0, 1)); // the first ids of a new path
/// let name = ids.unique_name("order-").await?;
/// assert_eq!(name, "order-0000000002");
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct UniqueIdGenerator {
    fw: Framework,
    dir: String,
}

impl UniqueIdGenerator {
    /// Ids from the node at `path` (made on the first call).
    ///
    /// ```no_run
    /// # fn demo(fw: zk_recipes::Framework) {
    /// let ids = zk_recipes::UniqueIdGenerator::new(&fw, "/ids/orders");
    /// # let _ = ids; }
    /// ```
    pub fn new(fw: &Framework, path: &str) -> UniqueIdGenerator {
        UniqueIdGenerator {
            fw: fw.clone(),
            dir: path.to_owned(),
        }
    }

    /// A new id, never handed out before on this path.
    ///
    /// The request node is ephemeral-sequential with a protection prefix
    /// (`_c_<uuid>-id-<seq>`): after a lost reply it is found by its uuid
    /// (and not made twice), and if this process dies before deleting it,
    /// it goes with the session.
    ///
    /// ```no_run
    /// # async fn demo(ids: zk_recipes::UniqueIdGenerator) -> Result<(), zk_recipes::Error> {
    /// let id: u64 = ids.next_id().await?;
    /// # let _ = id;
    /// # Ok(()) }
    /// ```
    pub async fn next_id(&self) -> Result<u64> {
        let id = uuid::Uuid::new_v4();
        let prefix = join(
            &self.dir,
            &format!("{}{ID_NAME}", nodes::protected_prefix(&id)),
        );
        let opts = zk_client::CreateOptions::new(CreateMode::EphemeralSequential);
        let mut tries = 0;
        loop {
            tries += 1;
            let client = self.fw.client();
            let made = match client.create(&prefix, b"", &opts).await {
                Ok((path, _)) => path,
                Err(ZkError::NoNode) if tries < MAX_TRIES => {
                    self.ensure_dir(&client).await?;
                    continue;
                }
                Err(e) if e.is_retryable() && tries < MAX_TRIES => {
                    tokio::time::sleep(Duration::from_millis(20 << tries.min(6))).await;
                    match nodes::find_protected(&client, &self.dir, &id).await {
                        Ok(Some(path)) => path,
                        Ok(None) => continue,
                        // The session ended, and a node it made with it:
                        // that id is lost, which costs nothing.
                        Err(Error::Zk(e)) if session::session_ended(&e) => continue,
                        Err(e) => return Err(e),
                    }
                }
                Err(e) if session::session_ended(&e) && tries < MAX_TRIES => {
                    // Not sent: the next session tries again.
                    let _ = session::live_client(&self.fw, None).await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let seq = sequence_of(&made)?;
            // The id is ours whether or not the delete gets through (an
            // ephemeral left over goes with the session).
            let _ = session::delete_quietly(&client, &made).await;
            return Ok(seq);
        }
    }

    /// `prefix` followed by a new id, 10 digits: unique on this path.
    ///
    /// ```no_run
    /// # async fn demo(ids: zk_recipes::UniqueIdGenerator) -> Result<(), zk_recipes::Error> {
    /// let name = ids.unique_name("worker-").await?;
    /// assert!(name.starts_with("worker-"));
    /// # Ok(()) }
    /// ```
    pub async fn unique_name(&self, prefix: &str) -> Result<String> {
        Ok(format!("{prefix}{:010}", self.next_id().await?))
    }

    /// The id node itself is persistent (its sequence must never restart);
    /// its parents are containers.
    async fn ensure_dir(&self, client: &Client) -> Result<()> {
        match session::create_node(client, &self.dir, b"", CreateMode::Persistent).await {
            Ok(()) | Err(ZkError::NodeExists) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn sequence_of(path: &str) -> Result<u64> {
    nodes::sort_key(nodes::name_of(path))
        .parse::<u64>()
        .map_err(|_| Error::State("the sequence counter overflowed"))
}

/// A registry of names: each name is the node `<path>/<name>` holding its
/// value; the first to register a name has it until it is unregistered.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::Client;
/// use zk_recipes::{Framework, NameRegistry};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let names = NameRegistry::new(&fw, "/names/printers");
/// names.register("lobby", b"10.0.0.7:631").await?;
/// assert_eq!(names.lookup("lobby").await?, Some(b"10.0.0.7:631".to_vec()));
/// assert_eq!(names.list().await?, ["lobby"]);
///
/// // Taken: another value is refused.
/// let taken = names.register("lobby", b"10.0.0.8:631").await;
/// assert_eq!(taken, Err(zk_recipes::Error::Zk(zk_client::Error::NodeExists)));
///
/// assert!(names.unregister("lobby").await?);
/// assert!(!names.unregister("lobby").await?);
/// assert_eq!(names.lookup("lobby").await?, None);
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct NameRegistry {
    fw: Framework,
    dir: String,
}

impl NameRegistry {
    /// The registry at `path` (made on the first registration, as a
    /// container with its parents).
    ///
    /// ```no_run
    /// # fn demo(fw: zk_recipes::Framework) {
    /// let names = zk_recipes::NameRegistry::new(&fw, "/names/printers");
    /// # let _ = names; }
    /// ```
    pub fn new(fw: &Framework, path: &str) -> NameRegistry {
        NameRegistry {
            fw: fw.clone(),
            dir: path.to_owned(),
        }
    }

    /// Registers `name` with `value` until it is unregistered. Fails with
    /// `Error::Zk(NodeExists)` if the name is taken. After a lost reply the
    /// name is found with our value and counted as ours (registering the
    /// same value twice is the same registration).
    ///
    /// ```no_run
    /// # async fn demo(names: zk_recipes::NameRegistry) -> Result<(), zk_recipes::Error> {
    /// match names.register("lobby", b"10.0.0.7:631").await {
    ///     Ok(()) => {}
    ///     Err(zk_recipes::Error::Zk(zk_client::Error::NodeExists)) => { /* taken */ }
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn register(&self, name: &str, value: &[u8]) -> Result<()> {
        self.register_with(name, value, CreateMode::Persistent)
            .await
    }

    /// Registers `name` for as long as this session lives (an ephemeral
    /// node): a crashed owner's names free themselves. A name left by a
    /// lost reply is recognised by its owner, this session.
    ///
    /// ```no_run
    /// # async fn demo(names: zk_recipes::NameRegistry) -> Result<(), zk_recipes::Error> {
    /// names.register_ephemeral("primary", b"host-3").await?;
    /// # Ok(()) }
    /// ```
    pub async fn register_ephemeral(&self, name: &str, value: &[u8]) -> Result<()> {
        self.register_with(name, value, CreateMode::Ephemeral).await
    }

    async fn register_with(&self, name: &str, value: &[u8], mode: CreateMode) -> Result<()> {
        let path = self.path_of(name)?;
        let client = self.fw.client();
        match session::create_node(&client, &path, value, mode).await {
            Ok(()) => Ok(()),
            Err(ZkError::NodeExists) => {
                // Ours, from an attempt whose reply was lost?
                let (data, stat) = match retry(|| client.get_data(&path)).await {
                    Ok(found) => found,
                    Err(ZkError::NoNode) => return Err(ZkError::NodeExists.into()),
                    Err(e) => return Err(e.into()),
                };
                let ours = match mode {
                    CreateMode::Ephemeral => stat.ephemeral_owner == client.session().id,
                    _ => stat.ephemeral_owner == 0 && data == value,
                };
                if ours {
                    Ok(())
                } else {
                    Err(ZkError::NodeExists.into())
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The value registered under `name`, if any.
    ///
    /// ```no_run
    /// # async fn demo(names: zk_recipes::NameRegistry) -> Result<(), zk_recipes::Error> {
    /// if let Some(addr) = names.lookup("lobby").await? {
    ///     # let _ = addr;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn lookup(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path_of(name)?;
        match retry(|| self.fw.client().get_data(&path)).await {
            Ok((data, _)) => Ok(Some(data)),
            Err(ZkError::NoNode) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Frees `name`; false if it was not registered.
    ///
    /// ```no_run
    /// # async fn demo(names: zk_recipes::NameRegistry) -> Result<(), zk_recipes::Error> {
    /// let was_there = names.unregister("lobby").await?;
    /// # let _ = was_there;
    /// # Ok(()) }
    /// ```
    pub async fn unregister(&self, name: &str) -> Result<bool> {
        let path = self.path_of(name)?;
        let client = self.fw.client();
        let mut tries = 0;
        loop {
            tries += 1;
            match client.delete(&path, None).await {
                Ok(()) => return Ok(true),
                // After a lost reply, NoNode is most likely our own delete.
                Err(ZkError::NoNode) => return Ok(tries > 1),
                Err(e) if e.is_retryable() && tries < MAX_TRIES => {
                    tokio::time::sleep(Duration::from_millis(20 << tries.min(6))).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Every registered name, sorted.
    ///
    /// ```no_run
    /// # async fn demo(names: zk_recipes::NameRegistry) -> Result<(), zk_recipes::Error> {
    /// for name in names.list().await? { println!("{name}"); }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self) -> Result<Vec<String>> {
        match retry(|| self.fw.client().get_children(&self.dir)).await {
            Ok((mut names, _)) => {
                names.sort();
                Ok(names)
            }
            Err(ZkError::NoNode) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    fn path_of(&self, name: &str) -> Result<String> {
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            return Err(Error::State("a registered name must be one path component"));
        }
        Ok(join(&self.dir, name))
    }
}
