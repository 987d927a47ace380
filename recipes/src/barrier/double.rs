use std::time::Duration;

use tokio::time::Instant;
use zk_client::{Client, CreateMode, Error as ZkError};

use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::nodes::join;
use crate::retry::retry;
use crate::session::{self, live_client};

/// The node that appears when the last member has entered (Curator's
/// name, so Curator members can share the barrier).
pub const READY_NODE: &str = "ready";

/// How long a timed-out enter waits for its node's delete before leaving
/// it to the background.
const GIVE_UP_WAIT: Duration = Duration::from_secs(2);

/// A double barrier (Curator's `DistributedDoubleBarrier`, the ZooKeeper
/// recipe): `member_qty` members [`enter`](Self::enter) and all pass once
/// the last one is in; later they [`leave`](Self::leave) and all return
/// once every one is out.
///
/// Each member is an ephemeral node `<path>/<uuid>`; the member that sees
/// the count reach `member_qty` creates `<path>/ready`, which wakes the
/// others (all of them have to go then). To leave, the member with the
/// lowest name waits for the highest; every other member deletes its node
/// and waits for the lowest, so one departure wakes one waiter until the
/// lowest goes last.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use std::time::Duration;
/// use zk_client::Client;
/// use zk_recipes::{DistributedDoubleBarrier, Framework};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let a = DistributedDoubleBarrier::new(&fw, "/barriers/round", 2);
/// let b = DistributedDoubleBarrier::new(&fw, "/barriers/round", 2);
///
/// // Alone, a member does not get in (and is not counted after).
/// assert!(!a.try_enter(Duration::ZERO).await?);
///
/// let (entered_a, entered_b) = tokio::join!(a.enter(), b.enter());
/// entered_a?;
/// entered_b?;
/// let client = fw.client();
/// assert!(client.exists("/barriers/round/ready").await?.is_some());
///
/// let (left_a, left_b) = tokio::join!(a.leave(), b.leave());
/// left_a?;
/// left_b?;
/// assert!(client.exists(&a.node()).await?.is_none());
/// assert!(client.exists("/barriers/round/ready").await?.is_none());
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct DistributedDoubleBarrier {
    fw: Framework,
    dir: String,
    member_qty: usize,
    /// This member's node name.
    name: String,
}

impl DistributedDoubleBarrier {
    /// One member of the barrier at `path` for `member_qty` members.
    ///
    /// ```no_run
    /// # fn demo(fw: zk_recipes::Framework) {
    /// let barrier = zk_recipes::DistributedDoubleBarrier::new(&fw, "/barriers/round", 3);
    /// # let _ = barrier; }
    /// ```
    pub fn new(fw: &Framework, path: &str, member_qty: usize) -> DistributedDoubleBarrier {
        DistributedDoubleBarrier {
            fw: fw.clone(),
            dir: path.to_owned(),
            member_qty: member_qty.max(1),
            name: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// This member's node.
    ///
    /// ```no_run
    /// # fn demo(barrier: zk_recipes::DistributedDoubleBarrier) {
    /// println!("{}", barrier.node());
    /// # }
    /// ```
    pub fn node(&self) -> String {
        join(&self.dir, &self.name)
    }

    /// Joins and waits until `member_qty` members have joined.
    ///
    /// ```no_run
    /// # async fn demo(barrier: zk_recipes::DistributedDoubleBarrier) -> Result<(), zk_recipes::Error> {
    /// barrier.enter().await?;
    /// # Ok(()) }
    /// ```
    pub async fn enter(&self) -> Result<()> {
        if self.enter_until(None).await? {
            Ok(())
        } else {
            Err(Error::State("barrier enter ended without the barrier open"))
        }
    }

    /// Like [`enter`](Self::enter), at most `timeout`: false if the
    /// members were not all there in time (this member's node is removed
    /// then, so it is not counted).
    ///
    /// ```no_run
    /// # async fn demo(barrier: zk_recipes::DistributedDoubleBarrier) -> Result<(), zk_recipes::Error> {
    /// use std::time::Duration;
    /// if !barrier.try_enter(Duration::from_secs(30)).await? {
    ///     // not enough members came
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn try_enter(&self, timeout: Duration) -> Result<bool> {
        self.enter_until(Some(Instant::now() + timeout)).await
    }

    /// Leaves and waits until every member has left.
    ///
    /// ```no_run
    /// # async fn demo(barrier: zk_recipes::DistributedDoubleBarrier) -> Result<(), zk_recipes::Error> {
    /// barrier.leave().await?;
    /// # Ok(()) }
    /// ```
    pub async fn leave(&self) -> Result<()> {
        if self.leave_until(None).await? {
            Ok(())
        } else {
            Err(Error::State("barrier leave ended with members left"))
        }
    }

    /// Like [`leave`](Self::leave), at most `timeout`: false if members
    /// were still in at the timeout (this member has left anyway, unless
    /// it is the lowest one, which leaves last).
    ///
    /// ```no_run
    /// # async fn demo(barrier: zk_recipes::DistributedDoubleBarrier) -> Result<(), zk_recipes::Error> {
    /// use std::time::Duration;
    /// let all_left = barrier.try_leave(Duration::from_secs(30)).await?;
    /// # let _ = all_left;
    /// # Ok(()) }
    /// ```
    pub async fn try_leave(&self, timeout: Duration) -> Result<bool> {
        self.leave_until(Some(Instant::now() + timeout)).await
    }

    async fn enter_until(&self, deadline: Option<Instant>) -> Result<bool> {
        // The deadline also bounds calls queued while disconnected.
        match session::bounded(&self.fw, deadline, self.enter_loop(deadline)).await {
            Some(entered) => entered,
            None => self.give_up_entering(&self.node()).await,
        }
    }

    async fn enter_loop(&self, deadline: Option<Instant>) -> Result<bool> {
        let ours = self.node();
        let ready = join(&self.dir, READY_NODE);
        let mut pauses = session::pauses();
        // One pass per session: after an expiry our node is gone and is made
        // again with the new session (the count must include us).
        loop {
            let Some(client) = live_client(&self.fw, deadline).await? else {
                return self.give_up_entering(&ours).await;
            };
            match self.enter_session(&client, &ours, &ready, deadline).await {
                Ok(Some(entered)) => {
                    if !entered {
                        return self.give_up_entering(&ours).await;
                    }
                    return Ok(true);
                }
                // The session ended: go on with the next one.
                Ok(None) => {}
                Err(Error::Zk(e)) if e.is_retryable() || session::session_ended(&e) => {
                    tokio::select! {
                        () = tokio::time::sleep(pauses.next().unwrap_or_default()) => {}
                        () = session::until(deadline) => return self.give_up_entering(&ours).await,
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Enters with one session: `Some(true)` in, `Some(false)` at the
    /// deadline, `None` when the session ended.
    async fn enter_session(
        &self,
        client: &Client,
        ours: &str,
        ready: &str,
        deadline: Option<Instant>,
    ) -> Result<Option<bool>> {
        // The name is ours alone, so NodeExists is our own earlier create.
        match session::create_node(client, ours, b"", CreateMode::Ephemeral).await {
            Ok(()) | Err(ZkError::NodeExists) => {}
            Err(e) => return Err(e.into()),
        }
        loop {
            // Watch `ready` first, then count: a member that completes the
            // count after our look fires the watch.
            let (found, watcher) = client.exists_and_watch(ready).await?;
            if found.is_some() {
                return Ok(Some(true));
            }
            let members = self.members(client).await?;
            if !members.iter().any(|m| join(&self.dir, m) == ours) {
                // Our node went with an expired session.
                return Ok(None);
            }
            if members.len() >= self.member_qty {
                match session::create_node(client, ready, b"", CreateMode::Persistent).await {
                    Ok(()) | Err(ZkError::NodeExists) => return Ok(Some(true)),
                    Err(e) => return Err(e.into()),
                }
            }
            tokio::select! {
                ev = watcher => {
                    if matches!(ev.state, zk_client::KeeperState::Expired | zk_client::KeeperState::Closed) {
                        return Ok(None);
                    }
                }
                () = session::until(deadline) => return Ok(Some(false)),
            }
        }
    }

    /// A timed-out member takes its node back, so it is not counted. While
    /// disconnected the delete finishes in the background (the node is
    /// ephemeral: at worst it goes with the session).
    async fn give_up_entering(&self, ours: &str) -> Result<bool> {
        let client = self.fw.client();
        let path = ours.to_owned();
        let delete = tokio::spawn(async move { session::delete_quietly(&client, &path).await });
        match tokio::time::timeout(GIVE_UP_WAIT, delete).await {
            Ok(Ok(Err(e))) if !session::session_ended(&e) => Err(e.into()),
            _ => Ok(false),
        }
    }

    /// The member nodes (not `ready`), sorted by name: every member sees
    /// the same order, so they agree on which one is lowest.
    async fn members(&self, client: &Client) -> Result<Vec<String>> {
        let mut children = match retry(|| client.get_children(&self.dir)).await {
            Ok((children, _)) => children,
            Err(ZkError::NoNode) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        children.retain(|c| c != READY_NODE);
        children.sort();
        Ok(children)
    }

    async fn leave_until(&self, deadline: Option<Instant>) -> Result<bool> {
        session::bounded(&self.fw, deadline, self.leave_loop(deadline))
            .await
            .unwrap_or(Ok(false))
    }

    async fn leave_loop(&self, deadline: Option<Instant>) -> Result<bool> {
        let mut pauses = session::pauses();
        loop {
            let Some(client) = live_client(&self.fw, deadline).await? else {
                return Ok(false);
            };
            match self.leave_session(&client, deadline).await {
                Ok(Some(all_left)) => return Ok(all_left),
                Ok(None) => {}
                Err(Error::Zk(e)) if e.is_retryable() || session::session_ended(&e) => {
                    tokio::select! {
                        () = tokio::time::sleep(pauses.next().unwrap_or_default()) => {}
                        () = session::until(deadline) => return Ok(false),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Leaves with one session: `Some(true)` all gone, `Some(false)` at the
    /// deadline, `None` when the session ended (our node went with it; the
    /// next session only waits for the others).
    async fn leave_session(
        &self,
        client: &Client,
        deadline: Option<Instant>,
    ) -> Result<Option<bool>> {
        let ours = self.name.as_str();
        loop {
            let members = self.members(client).await?;
            let Some(lowest) = members.first() else {
                // Everyone is out: the barrier may be used again. Every member
                // tries this; one delete finds the node.
                session::delete_quietly(client, &join(&self.dir, READY_NODE)).await?;
                return Ok(Some(true));
            };
            let present = members.iter().any(|m| m == ours);
            let watched = if present && members.len() == 1 {
                // The last one in: go, then look again (empty).
                session::delete_quietly(client, &join(&self.dir, ours)).await?;
                continue;
            } else if present && lowest == ours {
                // The lowest leaves last: wait for the highest to go.
                members.last().cloned().unwrap_or_default()
            } else {
                if present {
                    session::delete_quietly(client, &join(&self.dir, ours)).await?;
                }
                lowest.clone()
            };
            let (found, watcher) = client.exists_and_watch(&join(&self.dir, &watched)).await?;
            if found.is_none() {
                continue;
            }
            tokio::select! {
                ev = watcher => {
                    if matches!(ev.state, zk_client::KeeperState::Expired | zk_client::KeeperState::Closed) {
                        return Ok(None);
                    }
                }
                () = session::until(deadline) => return Ok(Some(false)),
            }
        }
    }
}
