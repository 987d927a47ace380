//! The client handle: cheap to clone, every call sent at call time.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::Stream;
use tokio::sync::{mpsc, oneshot, watch};
use zk_proto::client::{
    AddWatchRequest, AuthPacket, CheckVersionRequest, CreateRequest, CreateTtlRequest,
    DeleteRequest, PathRequest, PathWatchRequest, Request, Response, SetAclRequest, SetDataRequest,
    WatchesRequest,
};

use crate::builder::ClientBuilder;
use crate::chroot::Chroot;
use crate::error::{Error, Result};
use crate::multi::{MultiBuilder, MultiReadBuilder};
use crate::session::{Command, SessionInfo, SessionTask, Shared};
use crate::types::{
    Acl, AddWatchMode, ClientInfo, CreateMode, CreateOptions, SessionState, Stat, WatcherType,
};
use crate::watch::{OneshotWatcher, PersistentWatcher, WatchKind, WatchReg, WatchSender};

/// A ZooKeeper client. Clones share one session and one connection.
///
/// Every method sends its request when it is called, not when the returned
/// future is first polled: the order of calls is the order on the wire.
///
/// Versions: a write given `Some(version)` applies only if the node is
/// still at that version (else `BadVersion`); `None` (-1 on the wire)
/// matches any.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::{Client, CreateOptions, Error};
///
/// let client = Client::connect(&servers).await?;
/// let (path, stat) = client.create("/greeting", b"hello", &CreateOptions::persistent()).await?;
/// assert_eq!((path.as_str(), stat.version), ("/greeting", 0));
/// let (data, stat) = client.get_data(&path).await?;
/// assert_eq!(data, b"hello");
///
/// let stat = client.set_data(&path, b"hi", Some(stat.version)).await?;
/// assert_eq!(stat.version, 1);
/// assert_eq!(client.set_data(&path, b"late", Some(0)).await, Err(Error::BadVersion));
///
/// client.delete(&path, Some(stat.version)).await?;
/// assert!(client.exists(&path).await?.is_none());
/// client.close().await;
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tx: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
    chroot: Chroot,
    next_watcher: AtomicU64,
}

type Reply = oneshot::Receiver<Result<Response>>;

impl Client {
    /// Options for a client; see [`ClientBuilder`].
    pub fn builder(connect_string: &str) -> Result<ClientBuilder> {
        ClientBuilder::new(connect_string)
    }

    /// Connects with default options (10 s session and connect timeouts);
    /// fails as [`ClientBuilder::connect`] does.
    pub async fn connect(connect_string: &str) -> Result<Client> {
        ClientBuilder::new(connect_string)?.connect().await
    }

    pub(crate) async fn start(opts: ClientBuilder) -> Result<Client> {
        crate::builder::check_resolvable(&opts.hosts, opts.connect_timeout).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (state, _) = watch::channel(SessionState::Connecting);
        let shared = Arc::new(Shared {
            state,
            session: Mutex::new(SessionInfo::default()),
        });
        let connect_timeout = opts.connect_timeout;
        let chroot = opts.chroot.clone();
        let task = SessionTask::new(opts, shared.clone(), rx);
        let (ready_tx, ready_rx) = oneshot::channel();
        tokio::spawn(task.run(ready_tx));
        let client = Client {
            inner: Arc::new(Inner {
                tx,
                shared,
                chroot,
                next_watcher: AtomicU64::new(1),
            }),
        };
        match tokio::time::timeout(connect_timeout, ready_rx).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => return Err(e),
            Ok(Err(_)) => return Err(client.inner.shared.terminal_error()),
            // Dropping the client ends the task.
            Err(_) => return Err(Error::ConnectTimeout),
        }
        client.check_chroot().await?;
        Ok(client)
    }

    /// Every path would fail with NoNode under a chroot that does not
    /// exist, and the error would not say why: fail the connect instead,
    /// naming it. A chroot the client may not read (NoAuth) is taken as
    /// there; a lost connection is left to the calls that follow.
    async fn check_chroot(&self) -> Result<()> {
        let Some(chroot) = self.inner.chroot.root() else {
            return Ok(());
        };
        if let Ok(None) = self.exists("/").await {
            self.close().await;
            return Err(Error::NoChroot {
                chroot: chroot.to_owned(),
            });
        }
        Ok(())
    }

    /// The session's id, password and negotiated timeout.
    ///
    /// ```
    /// # zk_testkit::doc::run(|servers| async move {
    /// use std::time::Duration;
    /// use futures::StreamExt;
    /// use zk_client::{Client, SessionState};
    ///
    /// let client = Client::connect(&servers).await?;
    /// assert_eq!(client.state(), SessionState::Connected);
    /// let info = client.session();
    /// assert_ne!(info.id, 0);
    /// assert!(info.timeout > Duration::ZERO); // what the server granted
    ///
    /// let mut watcher = client.state_watcher();
    /// let mut states = std::pin::pin!(client.state_stream());
    /// assert_eq!(states.next().await, Some(SessionState::Connected));
    /// client.close().await;
    /// assert_eq!(states.next().await, Some(SessionState::Closed));
    /// assert_eq!(states.next().await, None); // a terminal state ends the stream
    /// assert_eq!(*watcher.borrow_and_update(), SessionState::Closed);
    /// # Ok(()) });
    /// ```
    pub fn session(&self) -> SessionInfo {
        self.inner
            .shared
            .session
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// The session's state now.
    pub fn state(&self) -> SessionState {
        *self.inner.shared.state.borrow()
    }

    /// Follows the session state; `changed().await` wakes on each change.
    pub fn state_watcher(&self) -> watch::Receiver<SessionState> {
        self.inner.shared.state.subscribe()
    }

    /// The session states from now on, as a stream (the current one first).
    /// It ends after a terminal state it sees change to; a stream made once
    /// the session is already over yields that state and then stays
    /// pending.
    pub fn state_stream(&self) -> impl Stream<Item = SessionState> + Send + use<> {
        let mut rx = self.state_watcher();
        async_stream::stream! {
            let first = *rx.borrow_and_update();
            yield first;
            while rx.changed().await.is_ok() {
                let s = *rx.borrow_and_update();
                yield s;
                if s.is_terminal() {
                    break;
                }
            }
        }
    }

    fn send(&self, req: Request, watch: Option<WatchReg>) -> Result<Reply> {
        let (reply, rx) = oneshot::channel();
        self.inner
            .tx
            .send(Command::Request { req, watch, reply })
            .map_err(|_| self.inner.shared.terminal_error())?;
        Ok(rx)
    }

    /// Sends now; the future waits for the reply.
    fn call(
        &self,
        req: Request,
        watch: Option<WatchReg>,
    ) -> impl Future<Output = Result<Response>> + Send + use<> {
        let sent = self.send(req, watch);
        let shared = self.inner.shared.clone();
        async move { sent?.await.unwrap_or_else(|_| Err(shared.terminal_error())) }
    }

    fn path(&self, path: &str) -> Result<String> {
        self.inner.chroot.apply(path, false)
    }

    fn oneshot_watch(&self, kind: WatchKind, server_path: &str) -> (WatchReg, OneshotWatcher) {
        let (tx, rx) = oneshot::channel();
        (
            WatchReg {
                kind,
                path: server_path.to_owned(),
                sender: WatchSender::Oneshot(tx),
            },
            OneshotWatcher::new(rx),
        )
    }

    /// Creates a node; returns its path (with the sequence suffix for
    /// sequential modes) and its Stat. Uses create2, createContainer or
    /// createTTL as the mode needs. Fails with `NodeExists`, `NoNode` (no
    /// parent: parents are not made), `NoChildrenForEphemerals`, `NoAuth`
    /// (no CREATE on the parent), `BadPath`. After `ConnectionLoss` the
    /// node may exist: a retry can fail with `NodeExists` for a create that
    /// worked, and a sequential create may have made a node already.
    ///
    /// ```
    /// # zk_testkit::doc::run(|servers| async move {
    /// use zk_client::{Client, CreateMode, CreateOptions, Error};
    ///
    /// let client = Client::connect(&servers).await?;
    /// client.create("/jobs", b"", &CreateOptions::persistent()).await?;
    /// let seq = CreateOptions::new(CreateMode::PersistentSequential);
    /// let (first, _) = client.create("/jobs/job-", b"a", &seq).await?;
    /// let (second, _) = client.create("/jobs/job-", b"b", &seq).await?;
    /// assert_eq!(first, "/jobs/job-0000000000");
    /// assert_eq!(second, "/jobs/job-0000000001");
    ///
    /// let (_, stat) = client.create("/jobs/owner", b"", &CreateOptions::ephemeral()).await?;
    /// assert_eq!(stat.ephemeral_owner, client.session().id);
    ///
    /// let orphan = client.create("/no/parent", b"", &CreateOptions::persistent()).await;
    /// assert_eq!(orphan, Err(Error::NoNode));
    /// # Ok(()) });
    /// ```
    pub fn create(
        &self,
        path: &str,
        data: &[u8],
        opts: &CreateOptions,
    ) -> impl Future<Output = Result<(String, Stat)>> + Send + use<> {
        let sent = self
            .inner
            .chroot
            .apply(path, opts.mode.is_sequential())
            .map(|server_path| {
                let data = Some(Bytes::copy_from_slice(data));
                let flags = opts.mode.flags();
                let acl = opts.acl.clone();
                let req = match (opts.mode, opts.ttl_ms) {
                    (CreateMode::Container, _) => Request::CreateContainer(CreateRequest {
                        path: server_path,
                        data,
                        acl,
                        flags,
                    }),
                    (m, Some(ttl)) if m.is_ttl() => Request::CreateTtl(CreateTtlRequest {
                        path: server_path,
                        data,
                        acl,
                        flags,
                        ttl,
                    }),
                    _ => Request::Create2(CreateRequest {
                        path: server_path,
                        data,
                        acl,
                        flags,
                    }),
                };
                self.call(req, None)
            });
        let chroot = self.inner.chroot.clone();
        async move {
            match sent?.await? {
                Response::Create2(r) => Ok((chroot.strip(&r.path), r.stat)),
                other => Err(unexpected(other)),
            }
        }
    }

    /// Deletes a node; `version` `None` matches any. Fails with `NoNode`,
    /// `BadVersion`, `NotEmpty` (delete the children first), `NoAuth` (no
    /// DELETE on the parent).
    pub fn delete(
        &self,
        path: &str,
        version: Option<i32>,
    ) -> impl Future<Output = Result<()>> + Send + use<> {
        let sent = self.path(path).map(|path| {
            self.call(
                Request::Delete(DeleteRequest {
                    path,
                    version: version.unwrap_or(-1),
                }),
                None,
            )
        });
        async move { sent?.await.map(|_| ()) }
    }

    /// The node's Stat, or `None` if it does not exist.
    pub fn exists(&self, path: &str) -> impl Future<Output = Result<Option<Stat>>> + Send + use<> {
        let sent = self.path(path).map(|path| {
            self.call(
                Request::Exists(PathWatchRequest { path, watch: false }),
                None,
            )
        });
        async move { stat_or_none(sent?.await) }
    }

    /// Like `exists`, and a watch: NodeCreated if it did not exist,
    /// NodeDataChanged or NodeDeleted if it did.
    ///
    /// ```
    /// # zk_testkit::doc::run(|servers| async move {
    /// use zk_client::{Client, CreateOptions, EventType};
    ///
    /// let client = Client::connect(&servers).await?;
    /// let (stat, watcher) = client.exists_and_watch("/ready").await?;
    /// assert!(stat.is_none()); // the watch is set anyway
    /// client.create("/ready", b"", &CreateOptions::ephemeral()).await?;
    /// assert_eq!(watcher.await.event_type, EventType::NodeCreated);
    /// # Ok(()) });
    /// ```
    pub fn exists_and_watch(
        &self,
        path: &str,
    ) -> impl Future<Output = Result<(Option<Stat>, OneshotWatcher)>> + Send + use<> {
        let sent = self.path(path).map(|path| {
            let (reg, watcher) = self.oneshot_watch(WatchKind::Exist, &path);
            (
                self.call(
                    Request::Exists(PathWatchRequest { path, watch: true }),
                    Some(reg),
                ),
                watcher,
            )
        });
        async move {
            let (fut, watcher) = sent?;
            Ok((stat_or_none(fut.await)?, watcher))
        }
    }

    /// The node's data (empty for a node made with null data) and Stat.
    /// Fails with `NoNode`, `NoAuth` (no READ).
    pub fn get_data(
        &self,
        path: &str,
    ) -> impl Future<Output = Result<(Vec<u8>, Stat)>> + Send + use<> {
        let sent = self.path(path).map(|path| {
            self.call(
                Request::GetData(PathWatchRequest { path, watch: false }),
                None,
            )
        });
        async move { data_of(sent?.await?) }
    }

    /// Like `get_data`, and a one-shot watch on the node's data (fires
    /// NodeDataChanged or NodeDeleted). The watch fires once: read again to
    /// set the next one. Across a reconnect it is re-armed, and fires at
    /// once if the node changed meanwhile. If the session ends first it
    /// resolves with an event of type `None`.
    ///
    /// ```
    /// # zk_testkit::doc::run(|servers| async move {
    /// use zk_client::{Client, CreateOptions, EventType};
    ///
    /// let client = Client::connect(&servers).await?;
    /// client.create("/config", b"v1", &CreateOptions::persistent()).await?;
    /// let (data, _stat, watcher) = client.get_data_and_watch("/config").await?;
    /// assert_eq!(data, b"v1");
    ///
    /// client.set_data("/config", b"v2", None).await?;
    /// let event = watcher.await;
    /// assert_eq!(event.event_type, EventType::NodeDataChanged);
    /// assert_eq!(event.path, "/config");
    /// // The event says what changed, not to what: read again.
    /// assert_eq!(client.get_data("/config").await?.0, b"v2");
    /// # Ok(()) });
    /// ```
    pub fn get_data_and_watch(
        &self,
        path: &str,
    ) -> impl Future<Output = Result<(Vec<u8>, Stat, OneshotWatcher)>> + Send + use<> {
        let sent = self.path(path).map(|path| {
            let (reg, watcher) = self.oneshot_watch(WatchKind::Data, &path);
            (
                self.call(
                    Request::GetData(PathWatchRequest { path, watch: true }),
                    Some(reg),
                ),
                watcher,
            )
        });
        async move {
            let (fut, watcher) = sent?;
            let (data, stat) = data_of(fut.await?)?;
            Ok((data, stat, watcher))
        }
    }

    /// Sets the node's data; `version` `None` matches any. Returns the new
    /// Stat; fails with `NoNode`, `BadVersion`, `NoAuth` (no WRITE).
    pub fn set_data(
        &self,
        path: &str,
        data: &[u8],
        version: Option<i32>,
    ) -> impl Future<Output = Result<Stat>> + Send + use<> {
        let sent = self.path(path).map(|path| {
            let req = SetDataRequest {
                path,
                data: Some(Bytes::copy_from_slice(data)),
                version: version.unwrap_or(-1),
            };
            self.call(Request::SetData(req), None)
        });
        async move { stat_of(sent?.await?) }
    }

    /// The node's children (unsorted, as the server lists them) and Stat.
    /// The names are not full paths.
    ///
    /// ```
    /// # zk_testkit::doc::run(|servers| async move {
    /// use zk_client::{Client, CreateOptions};
    ///
    /// let client = Client::connect(&servers).await?;
    /// client.create("/app", b"", &CreateOptions::persistent()).await?;
    /// for name in ["b", "a"] {
    ///     client.create(&format!("/app/{name}"), b"", &CreateOptions::persistent()).await?;
    /// }
    /// let (mut children, stat) = client.get_children("/app").await?;
    /// children.sort();
    /// assert_eq!(children, ["a", "b"]);
    /// assert_eq!(stat.num_children, 2);
    ///
    /// assert_eq!(client.exists("/app/a").await?.map(|s| s.num_children), Some(0));
    /// assert_eq!(client.exists("/app/c").await?, None);
    /// assert_eq!(client.get_all_children_number("/app").await?, 2);
    /// # Ok(()) });
    /// ```
    pub fn get_children(
        &self,
        path: &str,
    ) -> impl Future<Output = Result<(Vec<String>, Stat)>> + Send + use<> {
        let sent = self.path(path).map(|path| {
            self.call(
                Request::GetChildren2(PathWatchRequest { path, watch: false }),
                None,
            )
        });
        async move { children_of(sent?.await?) }
    }

    /// Like `get_children`, and a one-shot watch (fires NodeChildrenChanged
    /// or NodeDeleted). A child's data changing does not fire it.
    ///
    /// ```
    /// # zk_testkit::doc::run(|servers| async move {
    /// use zk_client::{Client, CreateOptions, EventType};
    ///
    /// let client = Client::connect(&servers).await?;
    /// client.create("/workers", b"", &CreateOptions::persistent()).await?;
    /// let (children, _, watcher) = client.get_children_and_watch("/workers").await?;
    /// assert!(children.is_empty());
    /// client.create("/workers/w1", b"", &CreateOptions::ephemeral()).await?;
    /// let event = watcher.await;
    /// assert_eq!(event.event_type, EventType::NodeChildrenChanged);
    /// assert_eq!(event.path, "/workers");
    /// # Ok(()) });
    /// ```
    pub fn get_children_and_watch(
        &self,
        path: &str,
    ) -> impl Future<Output = Result<(Vec<String>, Stat, OneshotWatcher)>> + Send + use<> {
        let sent = self.path(path).map(|path| {
            let (reg, watcher) = self.oneshot_watch(WatchKind::Child, &path);
            (
                self.call(
                    Request::GetChildren2(PathWatchRequest { path, watch: true }),
                    Some(reg),
                ),
                watcher,
            )
        });
        async move {
            let (fut, watcher) = sent?;
            let (children, stat) = children_of(fut.await?)?;
            Ok((children, stat, watcher))
        }
    }

    /// The node's ACL and Stat (`aversion` is the ACL's version).
    pub fn get_acl(
        &self,
        path: &str,
    ) -> impl Future<Output = Result<(Vec<Acl>, Stat)>> + Send + use<> {
        let sent = self
            .path(path)
            .map(|path| self.call(Request::GetAcl(PathRequest { path }), None));
        async move {
            match sent?.await? {
                Response::GetAcl(r) => Ok((r.acl, r.stat)),
                other => Err(unexpected(other)),
            }
        }
    }

    /// Replaces the node's ACL; `version` (the aversion) `None` matches any.
    /// Needs ADMIN on the node (`NoAuth` otherwise); an empty or malformed
    /// ACL is `InvalidAcl`.
    pub fn set_acl(
        &self,
        path: &str,
        acl: &[Acl],
        version: Option<i32>,
    ) -> impl Future<Output = Result<Stat>> + Send + use<> {
        let sent = self.path(path).map(|path| {
            let req = SetAclRequest {
                path,
                acl: acl.to_vec(),
                version: version.unwrap_or(-1),
            };
            self.call(Request::SetAcl(req), None)
        });
        async move { stat_of(sent?.await?) }
    }

    /// Checks that the node has this version (BadVersion or NoNode if not).
    pub fn check(
        &self,
        path: &str,
        version: i32,
    ) -> impl Future<Output = Result<()>> + Send + use<> {
        let sent = self
            .path(path)
            .map(|path| self.call(Request::Check(CheckVersionRequest { path, version }), None));
        async move { sent?.await.map(|_| ()) }
    }

    /// Several writes, all or nothing: see [`MultiBuilder`].
    pub fn multi(&self) -> MultiBuilder {
        MultiBuilder::new(self.clone())
    }

    /// Several reads in one round trip, each with its own result: see
    /// [`MultiReadBuilder`].
    pub fn multi_read(&self) -> MultiReadBuilder {
        MultiReadBuilder::new(self.clone())
    }

    pub(crate) fn chroot(&self) -> &Chroot {
        &self.inner.chroot
    }

    pub(crate) fn raw(
        &self,
        req: Request,
    ) -> impl Future<Output = Result<Response>> + Send + use<> {
        self.call(req, None)
    }

    /// Waits until the server this client is connected to has caught up
    /// with the leader (reads after it see every write committed before).
    pub fn sync(&self, path: &str) -> impl Future<Output = Result<()>> + Send + use<> {
        let sent = self
            .path(path)
            .map(|path| self.call(Request::Sync(PathRequest { path }), None));
        async move { sent?.await.map(|_| ()) }
    }

    /// Adds credentials to the session, e.g. `("digest", b"user:password")`;
    /// they are sent again after every reconnect. Credentials the server
    /// rejects fail with `AuthFailed` and end the session.
    ///
    /// ```
    /// # zk_testkit::doc::run(|servers| async move {
    /// use zk_client::{Acl, Client, CreateOptions, Error, Id, perms};
    ///
    /// let alice = Client::connect(&servers).await?;
    /// alice.add_auth("digest", b"alice:secret").await?;
    /// // CREATOR_ALL: everything for the creator's authenticated identities.
    /// let mine = CreateOptions::persistent().with_acl(Acl::creator_all());
    /// alice.create("/private", b"mine", &mine).await?;
    /// let (acl, _) = alice.get_acl("/private").await?;
    /// assert_eq!((acl[0].id.scheme.as_str(), acl[0].perms), ("digest", perms::ALL));
    ///
    /// let stranger = Client::connect(&servers).await?;
    /// assert_eq!(stranger.get_data("/private").await, Err(Error::NoAuth));
    ///
    /// // Let everyone read it.
    /// let mut open = acl.clone();
    /// open.push(Acl { perms: perms::READ, id: Id::anyone() });
    /// alice.set_acl("/private", &open, None).await?;
    /// assert_eq!(stranger.get_data("/private").await?.0, b"mine");
    /// assert_eq!(stranger.set_data("/private", b"x", None).await, Err(Error::NoAuth));
    /// # Ok(()) });
    /// ```
    pub fn add_auth(
        &self,
        scheme: &str,
        auth: &[u8],
    ) -> impl Future<Output = Result<()>> + Send + use<> {
        let packet = AuthPacket {
            auth_type: 0,
            scheme: scheme.to_owned(),
            auth: Bytes::copy_from_slice(auth),
        };
        let fut = self.call(Request::Auth(packet), None);
        async move { fut.await.map(|_| ()) }
    }

    /// A persistent watch on `path` (or its whole subtree, with
    /// `PersistentRecursive`): a stream of every event until dropped. The
    /// path need not exist. `Persistent` hears the node's create, delete,
    /// data and child changes; `PersistentRecursive` hears create, delete
    /// and data changes of the node and every node below (no child
    /// events). Events missed while disconnected are not replayed: read
    /// again after a reconnect. `Unimplemented` before ZooKeeper 3.6.
    ///
    /// ```
    /// # zk_testkit::doc::run(|servers| async move {
    /// use zk_client::{AddWatchMode, Client, CreateOptions, EventType};
    ///
    /// let client = Client::connect(&servers).await?;
    /// let mut watcher = client.add_watch("/app", AddWatchMode::PersistentRecursive).await?;
    /// client.create("/app", b"", &CreateOptions::persistent()).await?;
    /// client.create("/app/a", b"", &CreateOptions::persistent()).await?;
    /// client.set_data("/app/a", b"x", None).await?;
    ///
    /// let mut seen = Vec::new();
    /// for _ in 0..3 {
    ///     let event = watcher.next().await.expect("an event");
    ///     seen.push((event.event_type, event.path));
    /// }
    /// assert_eq!(seen, [
    ///     (EventType::NodeCreated, "/app".to_owned()),
    ///     (EventType::NodeCreated, "/app/a".to_owned()),
    ///     (EventType::NodeDataChanged, "/app/a".to_owned()),
    /// ]);
    /// drop(watcher); // removes the watch
    /// # Ok(()) });
    /// ```
    pub fn add_watch(
        &self,
        path: &str,
        mode: AddWatchMode,
    ) -> impl Future<Output = Result<PersistentWatcher>> + Send + use<> {
        let sent = self.path(path).map(|path| {
            let id = self.inner.next_watcher.fetch_add(1, Ordering::Relaxed);
            let kind = match mode {
                AddWatchMode::Persistent => WatchKind::Persistent,
                AddWatchMode::PersistentRecursive => WatchKind::PersistentRecursive,
            };
            let (tx, rx) = mpsc::unbounded_channel();
            let reg = WatchReg {
                kind,
                path: path.clone(),
                sender: WatchSender::Persistent(id, tx),
            };
            let watcher =
                PersistentWatcher::new(rx, id, kind, path.clone(), self.inner.tx.downgrade());
            let req = Request::AddWatch(AddWatchRequest {
                path,
                mode: mode as i32,
            });
            (self.call(req, Some(reg)), watcher)
        });
        async move {
            let (fut, watcher) = sent?;
            fut.await?;
            Ok(watcher)
        }
    }

    /// Removes this session's watches of `watcher_type` on `path`, on the
    /// server and here (local watchers get a `*WatchRemoved` event).
    pub fn remove_watches(
        &self,
        path: &str,
        watcher_type: WatcherType,
    ) -> impl Future<Output = Result<()>> + Send + use<> {
        let sent = self.path(path).map(|path| {
            let req = Request::RemoveWatches(WatchesRequest {
                path,
                watcher_type: watcher_type as i32,
            });
            self.call(req, None)
        });
        async move { sent?.await.map(|_| ()) }
    }

    /// This session's ephemeral nodes whose path starts with `prefix`.
    pub fn get_ephemerals(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>>> + Send + use<> {
        let sent = self
            .path(prefix)
            .map(|path| self.call(Request::GetEphemerals(PathRequest { path }), None));
        let chroot = self.inner.chroot.clone();
        async move {
            match sent?.await? {
                Response::GetEphemerals(paths) => {
                    Ok(paths.iter().map(|p| chroot.strip(p)).collect())
                }
                other => Err(unexpected(other)),
            }
        }
    }

    /// The number of nodes below `path` (all descendants, not the node).
    pub fn get_all_children_number(
        &self,
        path: &str,
    ) -> impl Future<Output = Result<i32>> + Send + use<> {
        let sent = self
            .path(path)
            .map(|path| self.call(Request::GetAllChildrenNumber(PathRequest { path }), None));
        async move {
            match sent?.await? {
                Response::AllChildrenNumber(n) => Ok(n),
                other => Err(unexpected(other)),
            }
        }
    }

    /// The identities the server knows this session by.
    pub fn whoami(&self) -> impl Future<Output = Result<Vec<ClientInfo>>> + Send + use<> {
        let fut = self.call(Request::WhoAmI, None);
        async move {
            match fut.await? {
                Response::WhoAmI(infos) => Ok(infos),
                other => Err(unexpected(other)),
            }
        }
    }

    /// The ensemble configuration (`/zookeeper/config`, outside any chroot).
    pub fn get_config(&self) -> impl Future<Output = Result<(Vec<u8>, Stat)>> + Send + use<> {
        let req = Request::GetData(PathWatchRequest {
            path: "/zookeeper/config".to_owned(),
            watch: false,
        });
        let fut = self.call(req, None);
        async move { data_of(fut.await?) }
    }

    /// Closes the session (its ephemerals go) and waits until it is over.
    /// Calls after it fail with `Closed`.
    pub fn close(&self) -> impl Future<Output = ()> + Send + use<> {
        let (reply, rx) = oneshot::channel();
        let sent = self.inner.tx.send(Command::Close { reply }).is_ok();
        async move {
            if sent {
                let _ = rx.await;
            }
        }
    }
}

pub(crate) fn unexpected(resp: Response) -> Error {
    Error::Protocol(format!("unexpected reply {resp:?}"))
}

fn stat_or_none(result: Result<Response>) -> Result<Option<Stat>> {
    match result {
        Ok(Response::Stat(stat)) => Ok(Some(stat)),
        Ok(other) => Err(unexpected(other)),
        Err(Error::NoNode) => Ok(None),
        Err(e) => Err(e),
    }
}

fn stat_of(resp: Response) -> Result<Stat> {
    match resp {
        Response::Stat(stat) => Ok(stat),
        other => Err(unexpected(other)),
    }
}

fn data_of(resp: Response) -> Result<(Vec<u8>, Stat)> {
    match resp {
        Response::GetData(r) => Ok((r.data.map(|d| d.to_vec()).unwrap_or_default(), r.stat)),
        other => Err(unexpected(other)),
    }
}

fn children_of(resp: Response) -> Result<(Vec<String>, Stat)> {
    match resp {
        Response::GetChildren2(r) => Ok((r.children, r.stat)),
        other => Err(unexpected(other)),
    }
}
