//! Group membership (Curator's `GroupMember`): each member is an ephemeral
//! node `<path>/<id>` holding its payload; every member follows the whole
//! group.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex as StdMutex};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use zk_client::{Client, CreateMode, Error as ZkError, KeeperState};

use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::nodes::join;
use crate::retry::retry;
use crate::session::{self, live_client};

/// Members by id, with their payloads.
pub type Members = BTreeMap<String, Vec<u8>>;

/// One member of a group. [`start`](Self::start) makes its node and keeps
/// it: if the session expires (the node goes with it), the node is made
/// again with the framework's next session; if someone deletes it, it is
/// made again too. [`membership`](Self::membership) follows the group.
///
/// Everyone follows everyone here (a member that joins or leaves wakes
/// every member's view): that is what membership means, so this is no
/// herd to avoid.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::Client;
/// use zk_recipes::{Framework, GroupMember};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let one = GroupMember::new(&fw, "/groups/workers", "worker-1", b"10.0.0.5:9000");
/// let two = GroupMember::new(&fw, "/groups/workers", "worker-2", b"10.0.0.6:9000");
/// one.start();
/// two.start();
///
/// let mut view = one.membership();
/// view.wait_for(|members| members.len() == 2).await?;
/// assert_eq!(view.borrow()["worker-2"], b"10.0.0.6:9000");
///
/// two.close().await?; // leaves: its node is deleted
/// view.wait_for(|members| members.len() == 1).await?;
/// assert_eq!(one.members().await?.keys().collect::<Vec<_>>(), ["worker-1"]);
/// one.close().await?;
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct GroupMember {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    fw: Framework,
    dir: String,
    id: String,
    node: String,
    /// A tokio Mutex held across a create or set_data, so a payload change
    /// and a re-creation cannot cross (the node would keep the old one).
    payload: tokio::sync::Mutex<Vec<u8>>,
    members: watch::Sender<Members>,
    stop: CancellationToken,
    tasks: StdMutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl GroupMember {
    /// Member `id` (a node name: no `/`) of the group at `path`.
    ///
    /// ```no_run
    /// # fn demo(fw: zk_recipes::Framework) {
    /// let me = zk_recipes::GroupMember::new(&fw, "/groups/workers", "worker-1", b"");
    /// # let _ = me; }
    /// ```
    pub fn new(fw: &Framework, path: &str, id: &str, payload: &[u8]) -> GroupMember {
        GroupMember {
            inner: Arc::new(Inner {
                fw: fw.clone(),
                dir: path.to_owned(),
                id: id.to_owned(),
                node: join(path, id),
                payload: tokio::sync::Mutex::new(payload.to_vec()),
                members: watch::channel(Members::new()).0,
                stop: CancellationToken::new(),
                tasks: StdMutex::new(Vec::new()),
            }),
        }
    }

    /// This member's id.
    ///
    /// ```no_run
    /// # fn demo(me: zk_recipes::GroupMember) {
    /// println!("{}", me.id());
    /// # }
    /// ```
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// Joins the group and starts following it (both in the background).
    ///
    /// ```no_run
    /// # fn demo(me: zk_recipes::GroupMember) {
    /// me.start();
    /// # }
    /// ```
    pub fn start(&self) {
        if let Ok(mut tasks) = self.inner.tasks.lock()
            && tasks.is_empty()
            && !self.inner.stop.is_cancelled()
        {
            tasks.push(tokio::spawn(keep(self.inner.clone())));
            tasks.push(tokio::spawn(follow(self.inner.clone())));
        }
    }

    /// Changes this member's payload (stored now if the node exists, else
    /// when it is made).
    ///
    /// ```no_run
    /// # async fn demo(me: zk_recipes::GroupMember) -> Result<(), zk_recipes::Error> {
    /// me.set_payload(b"10.0.0.5:9001").await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_payload(&self, data: &[u8]) -> Result<()> {
        let mut payload = self.inner.payload.lock().await;
        data.clone_into(&mut payload);
        let client = self.inner.fw.client();
        match retry(|| client.set_data(&self.inner.node, data, None)).await {
            Ok(_) | Err(ZkError::NoNode) => Ok(()),
            // The keeper makes the node with the new payload.
            Err(e) if session::session_ended(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The group now, read from the server: id -> payload.
    ///
    /// ```no_run
    /// # async fn demo(me: zk_recipes::GroupMember) -> Result<(), zk_recipes::Error> {
    /// for (id, payload) in me.members().await? {
    ///     println!("{id}: {}", String::from_utf8_lossy(&payload));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn members(&self) -> Result<Members> {
        read_members(&self.inner.fw.client(), &self.inner.dir).await
    }

    /// The group as this member last saw it (empty before
    /// [`start`](Self::start) has looked).
    ///
    /// ```no_run
    /// # fn demo(me: zk_recipes::GroupMember) {
    /// let now = me.current_members();
    /// # let _ = now; }
    /// ```
    pub fn current_members(&self) -> Members {
        self.inner.members.borrow().clone()
    }

    /// The group as a watch channel: a new value on every change (joins,
    /// departures, payload changes).
    ///
    /// ```no_run
    /// # async fn demo(me: zk_recipes::GroupMember) {
    /// let mut view = me.membership();
    /// while view.changed().await.is_ok() {
    ///     println!("{} members", view.borrow_and_update().len());
    /// }
    /// # }
    /// ```
    pub fn membership(&self) -> watch::Receiver<Members> {
        self.inner.members.subscribe()
    }

    /// Leaves the group: stops, and deletes this member's node (if this
    /// session owns it).
    ///
    /// ```no_run
    /// # async fn demo(me: zk_recipes::GroupMember) -> Result<(), zk_recipes::Error> {
    /// me.close().await?;
    /// # Ok(()) }
    /// ```
    pub async fn close(&self) -> Result<()> {
        self.inner.stop.cancel();
        let tasks = self
            .inner
            .tasks
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for task in tasks {
            let _ = task.await;
        }
        let client = self.inner.fw.client();
        let stat = match retry(|| client.exists(&self.inner.node)).await {
            Ok(stat) => stat,
            Err(e) if session::session_ended(&e) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if let Some(stat) = stat
            && stat.ephemeral_owner == client.session().id
        {
            match retry(|| client.delete(&self.inner.node, None)).await {
                Ok(()) | Err(ZkError::NoNode) => {}
                Err(e) if session::session_ended(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// Runs `work` with each live session until stopped; errors pause (with
/// backoff) and start over.
async fn each_session<F, Fut>(inner: &Inner, what: &str, mut work: F)
where
    F: FnMut(Client) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut pauses = session::pauses();
    loop {
        let client = tokio::select! {
            () = inner.stop.cancelled() => return,
            c = live_client(&inner.fw, None) => match c {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(group = inner.dir, error = %e, "{what}: no session; stopping");
                    return;
                }
            },
        };
        let outcome = tokio::select! {
            () = inner.stop.cancelled() => return,
            r = work(client) => r,
        };
        match outcome {
            Ok(()) => pauses = session::pauses(),
            Err(e) => {
                tracing::debug!(group = inner.dir, error = %e, "{what}: retrying");
                tokio::select! {
                    () = inner.stop.cancelled() => return,
                    () = tokio::time::sleep(pauses.next().unwrap_or_default()) => {}
                }
            }
        }
    }
}

fn session_over(state: KeeperState) -> bool {
    matches!(state, KeeperState::Expired | KeeperState::Closed)
}

/// Keeps this member's node while the session lasts.
async fn keep(inner: Arc<Inner>) {
    each_session(&inner, "group member", |client| {
        let inner = inner.clone();
        async move { keep_session(&inner, &client).await }
    })
    .await;
}

async fn keep_session(inner: &Inner, client: &Client) -> Result<()> {
    loop {
        {
            let payload = inner.payload.lock().await;
            match session::create_node(client, &inner.node, &payload, CreateMode::Ephemeral).await {
                Ok(()) | Err(ZkError::NodeExists) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let (stat, watcher) = client.exists_and_watch(&inner.node).await?;
        let Some(stat) = stat else {
            continue;
        };
        if stat.ephemeral_owner != client.session().id {
            // Another session has our id (a second process with the same
            // id, or a node of ours a lost reply left behind in a session
            // that has not expired yet): wait for it to go.
            tracing::warn!(
                node = inner.node,
                "group member id is held by another session"
            );
        }
        if session_over(watcher.await.state) {
            return Ok(());
        }
    }
}

/// Follows the group into the `members` channel.
async fn follow(inner: Arc<Inner>) {
    each_session(&inner, "group view", |client| {
        let inner = inner.clone();
        async move { follow_session(&inner, &client).await }
    })
    .await;
}

async fn follow_session(inner: &Inner, client: &Client) -> Result<()> {
    loop {
        let (children, child_watch) = match client.get_children_and_watch(&inner.dir).await {
            Ok((children, _, watcher)) => (children, watcher),
            Err(ZkError::NoNode) => match client.exists_and_watch(&inner.dir).await? {
                (Some(_), _) => continue,
                (None, watcher) => (Vec::new(), watcher),
            },
            Err(e) => return Err(e.into()),
        };
        // Data watches too, so payload changes show. Sent together (the
        // client pipelines them), read in order.
        let reads: Vec<_> = children
            .iter()
            .map(|c| client.get_data_and_watch(&join(&inner.dir, c)))
            .collect();
        let mut members = Members::new();
        let mut data_watches = FuturesUnordered::new();
        for (child, read) in children.into_iter().zip(reads) {
            match read.await {
                Ok((data, _, watcher)) => {
                    members.insert(child, data);
                    data_watches.push(watcher);
                }
                Err(ZkError::NoNode) => {}
                Err(e) => return Err(e.into()),
            }
        }
        inner.members.send_if_modified(|m| {
            let changed = *m != members;
            if changed {
                *m = members;
            }
            changed
        });
        let event = tokio::select! {
            ev = child_watch => ev,
            Some(ev) = data_watches.next() => ev,
        };
        if session_over(event.state) {
            return Ok(());
        }
    }
}

/// The members under `dir`, read now.
async fn read_members(client: &Client, dir: &str) -> Result<Members> {
    let children = match retry(|| client.get_children(dir)).await {
        Ok((children, _)) => children,
        Err(ZkError::NoNode) => return Ok(Members::new()),
        Err(e) => return Err(e.into()),
    };
    let mut members = Members::new();
    for child in children {
        match retry(|| client.get_data(&join(dir, &child))).await {
            Ok((data, _)) => {
                members.insert(child, data);
            }
            Err(ZkError::NoNode) => {}
            Err(e) => return Err(Error::from(e)),
        }
    }
    Ok(members)
}
