use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use zk_client::{Client, CreateMode, SessionState};

use super::Participant;
use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::nodes;

/// Curator's node name for latch candidates.
pub const LATCH_NAME: &str = "latch-";

/// A leader latch (Curator's `LeaderLatch`): every candidate has an
/// ephemeral-sequential node; the lowest is the leader; each other one
/// watches only its predecessor. `close()` relinquishes.
///
/// Leadership is claimed only while connected: it turns false at once on a
/// disconnect and comes back, if the node is still first, on reconnect. An
/// expired session's node is gone; the latch joins again with the
/// framework's next session, at the back of the line.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use std::time::Duration;
/// use zk_client::Client;
/// use zk_recipes::{Framework, LeaderLatch};
///
/// let fw_a = Framework::connect(Client::builder(&servers)?).await?;
/// let fw_b = Framework::connect(Client::builder(&servers)?).await?;
/// let a = LeaderLatch::new(&fw_a, "/election", "a");
/// a.start();
/// assert!(a.await_leadership(Duration::from_secs(5)).await);
///
/// let b = LeaderLatch::new(&fw_b, "/election", "b");
/// b.start();
/// assert!(!b.is_leader());
///
/// a.close().await?; // relinquish: b is next
/// assert!(b.await_leadership(Duration::from_secs(5)).await);
/// let line = b.participants().await?;
/// assert_eq!(line.len(), 1);
/// assert_eq!((line[0].id.as_str(), line[0].is_leader), ("b", true));
/// # b.close().await?;
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct LeaderLatch {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    fw: Framework,
    dir: String,
    id: String,
    leader: watch::Sender<bool>,
    stop: CancellationToken,
    /// Our node, while we have one.
    node: StdMutex<Option<(Client, String)>>,
    task: StdMutex<Option<tokio::task::JoinHandle<()>>>,
}

impl LeaderLatch {
    /// A candidate in the election at `path`; `participant_id` is stored in
    /// its node, for [`participants`](Self::participants). Nothing happens
    /// until [`start`](Self::start).
    pub fn new(fw: &Framework, path: &str, participant_id: &str) -> LeaderLatch {
        let (leader, _) = watch::channel(false);
        LeaderLatch {
            inner: Arc::new(Inner {
                fw: fw.clone(),
                dir: path.to_owned(),
                id: participant_id.to_owned(),
                leader,
                stop: CancellationToken::new(),
                node: StdMutex::new(None),
                task: StdMutex::new(None),
            }),
        }
    }

    /// Joins the election (in the background); a second call does nothing.
    /// Must be called within a tokio runtime.
    pub fn start(&self) {
        let inner = self.inner.clone();
        if let Ok(mut task) = self.inner.task.lock()
            && task.is_none()
        {
            *task = Some(tokio::spawn(run(inner)));
        }
    }

    /// Whether this candidate leads right now.
    pub fn is_leader(&self) -> bool {
        *self.inner.leader.borrow()
    }

    /// Leadership as a watch channel: true while leader.
    pub fn leadership(&self) -> watch::Receiver<bool> {
        self.inner.leader.subscribe()
    }

    /// Waits until leader (true) or the timeout (false).
    pub async fn await_leadership(&self, timeout: Duration) -> bool {
        let mut rx = self.leadership();
        tokio::time::timeout(timeout, rx.wait_for(|l| *l))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Every candidate, leader first.
    pub async fn participants(&self) -> Result<Vec<Participant>> {
        super::participants(&self.inner.fw.client(), &self.inner.dir, LATCH_NAME).await
    }

    /// Leaves the election: leadership ends, the node is deleted.
    pub async fn close(&self) -> Result<()> {
        self.inner.stop.cancel();
        let task = self.inner.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
        self.inner.leader.send_replace(false);
        let node = self.inner.node.lock().ok().and_then(|mut n| n.take());
        if let Some((client, path)) = node {
            crate::lock::release_node(&client, &path).await?;
        }
        Ok(())
    }
}

/// What ended one wait of the candidate loop.
enum Wake {
    Look,
    NewSession,
    Stop,
}

async fn run(inner: Arc<Inner>) {
    let mut sessions = inner.fw.sessions();
    loop {
        if inner.stop.is_cancelled() {
            return;
        }
        let client = inner.fw.client();
        let wake = match candidate(&inner, &client, &mut sessions).await {
            Ok(w) => w,
            Err(e) => {
                inner.leader.send_replace(false);
                tracing::debug!(error = %e, "leader latch: retrying");
                tokio::select! {
                    () = inner.stop.cancelled() => Wake::Stop,
                    () = tokio::time::sleep(Duration::from_millis(200)) => Wake::Look,
                }
            }
        };
        if let Wake::Stop = wake {
            return;
        }
    }
}

/// One session's candidacy: create our node, then lead or wait.
async fn candidate(
    inner: &Inner,
    client: &Client,
    sessions: &mut watch::Receiver<crate::framework::Current>,
) -> Result<Wake> {
    let mut states = client.state_watcher();
    if states.borrow().is_terminal() {
        return wait_new_session(inner, sessions).await;
    }
    let path = match current_node(inner, client) {
        Some(path) => path,
        None => {
            let id = uuid::Uuid::new_v4();
            let path = nodes::create_protected(
                client,
                &inner.dir,
                &id,
                LATCH_NAME,
                inner.id.as_bytes(),
                CreateMode::EphemeralSequential,
            )
            .await?;
            if let Ok(mut node) = inner.node.lock() {
                *node = Some((client.clone(), path.clone()));
            }
            path
        }
    };
    let name = nodes::name_of(&path).to_owned();
    loop {
        let children = nodes::sorted_children(client, &inner.dir, &[LATCH_NAME]).await?;
        let Some(index) = children.iter().position(|c| *c == name) else {
            // Our node is gone (deleted, or the session expired): start over.
            inner.leader.send_replace(false);
            if let Ok(mut node) = inner.node.lock() {
                *node = None;
            }
            return Ok(Wake::Look);
        };
        let connected = states.borrow().is_connected();
        // Watch the node we wait for, or our own while leading (if someone
        // deletes it we must not keep leading).
        let watched = if index == 0 {
            name.clone()
        } else {
            children[index - 1].clone()
        };
        let (stat, watcher) = client
            .exists_and_watch(&nodes::join(&inner.dir, &watched))
            .await?;
        if stat.is_none() {
            continue;
        }
        inner.leader.send_replace(index == 0 && connected);
        tokio::select! {
            () = inner.stop.cancelled() => {
                inner.leader.send_replace(false);
                return Ok(Wake::Stop);
            }
            _ = watcher => {}
            changed = states.changed() => {
                let state = *states.borrow_and_update();
                if changed.is_err() || state.is_terminal() {
                    inner.leader.send_replace(false);
                    if let Ok(mut node) = inner.node.lock() {
                        *node = None;
                    }
                    if state == SessionState::Closed {
                        return Ok(Wake::Stop);
                    }
                    return wait_new_session(inner, sessions).await;
                }
                if !state.is_connected() {
                    // Suspended: not leader until we are back and have
                    // looked again.
                    inner.leader.send_replace(false);
                }
            }
        }
    }
}

fn current_node(inner: &Inner, client: &Client) -> Option<String> {
    let node = inner.node.lock().ok()?;
    let (owner, path) = node.as_ref()?;
    (owner.session().id == client.session().id).then(|| path.clone())
}

async fn wait_new_session(
    inner: &Inner,
    sessions: &mut watch::Receiver<crate::framework::Current>,
) -> Result<Wake> {
    tokio::select! {
        () = inner.stop.cancelled() => Ok(Wake::Stop),
        changed = sessions.changed() => match changed {
            Ok(()) => Ok(Wake::NewSession),
            Err(_) => Err(Error::SessionLost),
        },
    }
}
