//! Queues on sequential nodes: FIFO ([`DistributedQueue`]), by priority
//! ([`DistributedPriorityQueue`]), by due time ([`DistributedDelayQueue`])
//! and with ids that can be removed ([`DistributedIdQueue`]).
//!
//! Items are persistent-sequential nodes `<path>/qn-<key>-<seq>` (`qn-<seq>`
//! in the FIFO queue); the key (priority, due time, id) sorts before the
//! sequence. Every item is taken exactly once, whatever the number of
//! consumers and whatever happens to the connection:
//!
//! - A take is one multi: delete the item (at the version read) and create
//!   the ephemeral marker `<path>/_markers/take-<uuid>`, the uuid being this
//!   take's. Of two consumers, one multi wins. If the reply is lost
//!   (`ConnectionLoss`), the marker says whether it was applied; then it is
//!   deleted. A put is made the same way (`put-<uuid>`), so a put whose
//!   reply was lost is neither lost nor doubled.
//! - A take cut short while its multi is in flight (the future dropped, or
//!   a `try_take` whose timeout passed while the client was cut off) puts
//!   the item back, at the end of its key, instead of losing it: the one
//!   exception to the queue's order.
//! - The one case left open: the reply is lost and the session expires
//!   before the client gets back, so the marker is gone too. A take then
//!   looks at the item with the next session: still there, the multi did
//!   not happen and the take goes on. Otherwise (and for a put) the call
//!   fails with [`Error::SessionLost`]: the item
//!   may or may not have been put, or taken by this call (and then lost).
//!
//! A waiting consumer watches the queue's children (one watch per
//! consumer), lists them when they change and tries the first items; it
//! does not poll.

mod delay;
mod fifo;
mod id;
mod priority;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use backon::BackoffBuilder;
use tokio::sync::oneshot;
use tokio::time::Instant;
use zk_client::{Client, CreateMode, CreateOptions, Error as ZkError};

pub use delay::DistributedDelayQueue;
pub use fifo::DistributedQueue;
pub use id::DistributedIdQueue;
pub use priority::DistributedPriorityQueue;

use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::nodes::{self, join};
use crate::retry::{MAX_TRIES, retry};
use crate::session::{self, live_client};

/// The name every item starts with.
pub const ITEM_PREFIX: &str = "qn-";

/// The child of the queue node that holds the put and take markers.
/// Being one level down, markers coming and going do not wake consumers;
/// being persistent (not a container), it is not deleted and made again
/// between two takes, which would.
pub const MARKERS: &str = "_markers";

/// What the key part of an item name holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// No key: `qn-<seq>`.
    Fifo,
    /// An `i32` priority as 8 hex digits, offset so the text sorts as the
    /// number does.
    Priority,
    /// The due time in ms since the epoch, 16 hex digits.
    Delay,
    /// An id chosen by the producer (no `/`).
    Id,
}

/// One item, parsed from its node name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub name: String,
    /// The key text between `qn-` and `-<seq>` (empty in a FIFO queue).
    pub key: String,
    /// What sorts first: the priority or the due time (0 otherwise).
    pub rank: i64,
    pub seq: i64,
}

impl Kind {
    /// The item's node name without the sequence.
    pub fn prefix(self, key: &str) -> String {
        match self {
            Kind::Fifo => ITEM_PREFIX.to_owned(),
            _ => format!("{ITEM_PREFIX}{key}-"),
        }
    }

    pub fn parse(self, name: &str) -> Option<Item> {
        let rest = name.strip_prefix(ITEM_PREFIX)?;
        let at = rest.len().checked_sub(10)?;
        let seq: i64 = rest.get(at..)?.parse().ok()?;
        let key = match self {
            Kind::Fifo if at == 0 => "",
            Kind::Fifo => return None,
            _ => rest.get(..at)?.strip_suffix('-')?,
        };
        let rank = match self {
            Kind::Fifo | Kind::Id => 0,
            Kind::Priority => {
                let biased = u32::from_str_radix(key, 16).ok()?;
                i64::from((biased ^ 0x8000_0000) as i32)
            }
            Kind::Delay => i64::try_from(u64::from_str_radix(key, 16).ok()?).ok()?,
        };
        Some(Item {
            name: name.to_owned(),
            key: key.to_owned(),
            rank,
            seq,
        })
    }
}

/// The key text of a priority: sorts as the number does.
pub(crate) fn priority_key(priority: i32) -> String {
    format!("{:08x}", (priority as u32) ^ 0x8000_0000)
}

/// The key text of a due time.
pub(crate) fn due_key(at: SystemTime) -> String {
    let ms = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("{:016x}", u64::try_from(ms).unwrap_or(u64::MAX))
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What every queue kind shares: the node, putting, listing and taking.
#[derive(Debug, Clone)]
pub(crate) struct Core {
    fw: Framework,
    dir: String,
    markers: String,
    kind: Kind,
}

/// How one try at an item ended.
enum Claim {
    Taken(Vec<u8>),
    /// Someone else took (or removed) it.
    Gone,
    /// The session ended before the multi was sent or applied: try again
    /// with the next one.
    SessionEnded,
}

impl Core {
    pub fn new(fw: &Framework, path: &str, kind: Kind) -> Core {
        Core {
            fw: fw.clone(),
            dir: path.to_owned(),
            markers: join(path, MARKERS),
            kind,
        }
    }

    pub fn client(&self) -> Client {
        self.fw.client()
    }

    /// Adds an item with this key.
    pub async fn put(&self, key: &str, data: &[u8]) -> Result<()> {
        put(
            &self.fw,
            &self.dir,
            &self.markers,
            &self.kind.prefix(key),
            data,
        )
        .await
    }

    /// The items, sorted by (rank, sequence); all of them, due or not.
    pub async fn items(&self, client: &Client) -> Result<Vec<Item>> {
        match retry(|| client.get_children(&self.dir)).await {
            Ok((children, _)) => Ok(self.sorted(children)),
            Err(ZkError::NoNode) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    fn sorted(&self, children: Vec<String>) -> Vec<Item> {
        let mut items: Vec<Item> = children.iter().filter_map(|c| self.kind.parse(c)).collect();
        items.sort_by_key(|i| (i.rank, i.seq));
        items
    }

    /// Whether an item may be taken now (delay queues: when due).
    fn visible(&self, item: &Item, now_ms: i64) -> bool {
        self.kind != Kind::Delay || item.rank <= now_ms
    }

    /// The first visible item and its data, without taking it.
    pub async fn peek(&self) -> Result<Option<(Item, Vec<u8>)>> {
        let client = self.fw.client();
        let now = now_ms();
        for item in self.items(&client).await? {
            if !self.visible(&item, now) {
                continue;
            }
            match retry(|| client.get_data(&join(&self.dir, &item.name))).await {
                Ok((data, _)) => return Ok(Some((item, data))),
                Err(ZkError::NoNode) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    /// How many items there are (due or not).
    pub async fn len(&self) -> Result<usize> {
        Ok(self.items(&self.fw.client()).await?.len())
    }

    /// Deletes the items `pick` chooses; how many this call deleted (an
    /// item a consumer took first is not counted).
    pub async fn remove_where(&self, pick: impl Fn(&Item) -> bool) -> Result<usize> {
        let client = self.fw.client();
        let mut removed = 0;
        for item in self.items(&client).await? {
            if !pick(&item) {
                continue;
            }
            let path = join(&self.dir, &item.name);
            // A repeat after a lost reply finds NoNode: then it is unknown
            // whether this call or a consumer got it; it is gone either way.
            let mut tries = 0;
            loop {
                tries += 1;
                match client.delete(&path, None).await {
                    Ok(()) => removed += 1,
                    Err(ZkError::NoNode) => {}
                    Err(e) if e.is_retryable() && tries < MAX_TRIES => continue,
                    Err(e) => return Err(e.into()),
                }
                break;
            }
        }
        Ok(removed)
    }

    /// Takes the first visible item, waiting for one until `deadline`. The
    /// deadline holds while disconnected too (calls queue up then): a
    /// claim cut short by it is settled in the background, and its item
    /// put back (at the end) if it was taken.
    pub async fn take(&self, deadline: Option<Instant>) -> Result<Option<(Item, Vec<u8>)>> {
        session::bounded(&self.fw, deadline, self.take_until(deadline))
            .await
            .unwrap_or(Ok(None))
    }

    async fn take_until(&self, deadline: Option<Instant>) -> Result<Option<(Item, Vec<u8>)>> {
        let mut pauses = session::pauses();
        loop {
            let Some(client) = live_client(&self.fw, deadline).await? else {
                return Ok(None);
            };
            let (children, watcher) = match client.get_children_and_watch(&self.dir).await {
                Ok((children, _, watcher)) => (children, watcher),
                Err(ZkError::NoNode) => {
                    // No queue node yet: wait for it to be made.
                    match client.exists_and_watch(&self.dir).await {
                        Ok((Some(_), _)) => continue,
                        Ok((None, watcher)) => (Vec::new(), watcher),
                        Err(e) => {
                            self.pause_after(&e, &mut pauses, deadline).await?;
                            continue;
                        }
                    }
                }
                Err(e) => {
                    self.pause_after(&e, &mut pauses, deadline).await?;
                    continue;
                }
            };
            let now = now_ms();
            let mut next_due = None;
            let mut session_ended = false;
            for item in self.sorted(children) {
                if !self.visible(&item, now) {
                    next_due = Some(next_due.map_or(item.rank, |d: i64| d.min(item.rank)));
                    continue;
                }
                match self.claim(&client, &item).await? {
                    Claim::Taken(data) => return Ok(Some((item, data))),
                    Claim::Gone => {}
                    Claim::SessionEnded => {
                        session_ended = true;
                        break;
                    }
                }
            }
            if session_ended {
                continue;
            }
            if session::expired(deadline) {
                return Ok(None);
            }
            // Nothing to take: wait for a change, or for the earliest item
            // to fall due.
            let due = next_due.map(|ms| {
                let wait = u64::try_from(ms.saturating_sub(now_ms())).unwrap_or(0);
                Instant::now() + Duration::from_millis(wait)
            });
            let wake = match (due, deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            // Any event, the session's end included, means look again (the
            // next `live_client` waits for a new session if needed).
            tokio::select! {
                _ = watcher => {}
                () = session::until(wake) => {}
            }
            pauses = session::pauses();
        }
    }

    /// After a failed look: the session's end is handled by the next
    /// `live_client`; a lost connection is waited out (calls queue until
    /// the client is back); anything else is the caller's.
    async fn pause_after(
        &self,
        e: &ZkError,
        pauses: &mut backon::ExponentialBackoff,
        deadline: Option<Instant>,
    ) -> Result<()> {
        if !(e.is_retryable() || session::session_ended(e)) {
            return Err(e.clone().into());
        }
        tokio::select! {
            () = tokio::time::sleep(pauses.next().unwrap_or_default()) => {}
            () = session::until(deadline) => {}
        }
        Ok(())
    }

    /// One try at `item`. The claim runs in its own task: if this future is
    /// dropped while the multi is in flight, the task still learns the
    /// outcome, and puts the item back if it was taken.
    async fn claim(&self, client: &Client, item: &Item) -> Result<Claim> {
        let path = join(&self.dir, &item.name);
        let (data, stat) = match retry(|| client.get_data(&path)).await {
            Ok(found) => found,
            Err(ZkError::NoNode) => return Ok(Claim::Gone),
            Err(e) if session::session_ended(&e) => return Ok(Claim::SessionEnded),
            Err(e) => return Err(e.into()),
        };
        // The outcome goes over `tx`; the taker acknowledges it over `ack`
        // in the same poll it receives it. A taker dropped in between (the
        // value would sit unread in the channel) sends no ack: the item
        // goes back then too.
        let (tx, rx) = oneshot::channel();
        let (ack, acked) = oneshot::channel::<()>();
        let (core, client, item) = (self.clone(), client.clone(), item.clone());
        tokio::spawn(async move {
            let outcome = core.claim_task(&client, &path, stat.version, data).await;
            let taken = match &outcome {
                Ok(Claim::Taken(data)) => Some(data.clone()),
                _ => None,
            };
            let delivered = tx.send(outcome).is_ok() && acked.await.is_ok();
            if let (false, Some(data)) = (delivered, taken) {
                // Nobody is waiting for it any more: back in the queue.
                if let Err(e) = core.put(&item.key, &data).await {
                    tracing::error!(queue = core.dir, error = %e, "an item taken by a cancelled take could not be put back");
                }
            }
        });
        let outcome = rx
            .await
            .unwrap_or(Err(Error::State("the queue's claim task ended early")));
        let _ = ack.send(());
        outcome
    }

    async fn claim_task(
        &self,
        client: &Client,
        path: &str,
        version: i32,
        data: Vec<u8>,
    ) -> Result<Claim> {
        let marker = join(&self.markers, &format!("take-{}", uuid::Uuid::new_v4()));
        let mut pauses = crate::retry::policy().build();
        let mut tries = 0;
        loop {
            tries += 1;
            let done = client
                .multi()
                .delete(path, Some(version))
                .create(
                    &marker,
                    nodes::name_of(path).as_bytes(),
                    &CreateOptions::ephemeral(),
                )
                .commit()
                .await;
            let e = match done {
                Ok(_) => {
                    let _ = session::delete_quietly(client, &marker).await;
                    return Ok(Claim::Taken(data));
                }
                Err(ZkError::Multi { index: 0, source })
                    if matches!(*source, ZkError::NoNode | ZkError::BadVersion) =>
                {
                    return Ok(Claim::Gone);
                }
                Err(ZkError::Multi { index: 1, source }) if *source == ZkError::NoNode => {
                    ensure_markers(client, &self.markers).await?;
                    if tries < MAX_TRIES {
                        continue;
                    }
                    return Err(ZkError::NoNode.into());
                }
                // Not sent, or refused for it: not applied.
                Err(e) if session::session_ended(&e) => return Ok(Claim::SessionEnded),
                Err(e) => e,
            };
            if !e.is_retryable() || tries >= MAX_TRIES {
                return Err(e.into());
            }
            if e == ZkError::ConnectionLoss {
                match session::marker_outcome(client, &marker).await? {
                    Some(true) => {
                        let _ = session::delete_quietly(client, &marker).await;
                        return Ok(Claim::Taken(data));
                    }
                    Some(false) => {}
                    None => return self.after_lost_session(path).await,
                }
            }
            tokio::time::sleep(pauses.next().unwrap_or_default()).await;
        }
    }

    /// The session ended while the outcome of our take was unknown. If the
    /// item is still there, the multi did not happen (it is all or
    /// nothing); if it is gone, it may have been ours.
    async fn after_lost_session(&self, path: &str) -> Result<Claim> {
        let Some(client) = live_client(&self.fw, None).await? else {
            return Err(Error::SessionLost);
        };
        match retry(|| client.exists(path)).await? {
            Some(_) => Ok(Claim::SessionEnded),
            None => Err(Error::SessionLost),
        }
    }
}

async fn ensure_markers(client: &Client, markers: &str) -> Result<()> {
    match session::create_node(client, markers, b"", CreateMode::Persistent).await {
        Ok(()) | Err(ZkError::NodeExists) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Creates `<dir>/<prefix><seq>` with a marker, so that after a lost reply
/// the put is neither lost nor made twice.
async fn put(fw: &Framework, dir: &str, markers: &str, prefix: &str, data: &[u8]) -> Result<()> {
    let item = join(dir, prefix);
    let marker = join(markers, &format!("put-{}", uuid::Uuid::new_v4()));
    let item_opts = CreateOptions::new(CreateMode::PersistentSequential);
    let mut pauses = crate::retry::policy().build();
    let mut tries = 0;
    loop {
        tries += 1;
        let Some(client) = live_client(fw, None).await? else {
            return Err(Error::SessionLost);
        };
        let done = client
            .multi()
            .create(&item, data, &item_opts)
            .create(&marker, b"", &CreateOptions::ephemeral())
            .commit()
            .await;
        let e = match done {
            Ok(_) => {
                let _ = session::delete_quietly(&client, &marker).await;
                return Ok(());
            }
            Err(ZkError::Multi { index, source }) if *source == ZkError::NoNode => {
                if index == 0 {
                    nodes::ensure_path(&client, dir).await?;
                } else {
                    ensure_markers(&client, markers).await?;
                }
                if tries < MAX_TRIES {
                    continue;
                }
                return Err(ZkError::NoNode.into());
            }
            Err(e) if session::session_ended(&e) && tries < MAX_TRIES => continue,
            Err(e) => e,
        };
        if !e.is_retryable() || tries >= MAX_TRIES {
            return Err(e.into());
        }
        if e == ZkError::ConnectionLoss {
            match session::marker_outcome(&client, &marker).await? {
                Some(true) => {
                    let _ = session::delete_quietly(&client, &marker).await;
                    return Ok(());
                }
                Some(false) => {}
                None => return Err(Error::SessionLost),
            }
        }
        tokio::time::sleep(pauses.next().unwrap_or_default()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_sort() {
        let fifo = Kind::Fifo.parse("qn-0000000042").expect("fifo");
        assert_eq!((fifo.key.as_str(), fifo.seq), ("", 42));
        assert!(Kind::Fifo.parse("qn-x-0000000042").is_none());
        assert!(Kind::Fifo.parse("_markers").is_none());

        let mut prios: Vec<i32> = vec![5, -3, 0, i32::MIN, i32::MAX, -1];
        let mut names: Vec<String> = prios
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{}{:010}", Kind::Priority.prefix(&priority_key(*p)), i))
            .collect();
        names.sort();
        prios.sort();
        let parsed: Vec<i64> = names
            .iter()
            .map(|n| Kind::Priority.parse(n).expect("priority").rank)
            .collect();
        assert_eq!(
            parsed,
            prios.iter().map(|p| i64::from(*p)).collect::<Vec<_>>()
        );

        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let delay = Kind::Delay
            .parse(&format!("{}0000000007", Kind::Delay.prefix(&due_key(at))))
            .expect("delay");
        assert_eq!((delay.rank, delay.seq), (1_700_000_000_123, 7));

        let id = Kind::Id.parse("qn-job-7-a-0000000003").expect("id");
        assert_eq!((id.key.as_str(), id.seq), ("job-7-a", 3));
    }
}
