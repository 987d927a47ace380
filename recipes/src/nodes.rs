//! Shared building blocks: parents created as containers, protected
//! sequential creates, sibling order, and waiting for a predecessor.

use std::time::Duration;

use tokio::time::Instant;
use zk_client::{Client, CreateMode, CreateOptions, Error as ZkError};

use crate::error::{Error, Result};
use crate::retry::retry;

/// Creates `path` and its missing ancestors as containers (the server
/// deletes them once empty), like Curator's
/// `creatingParentContainersIfNeeded`.
pub async fn ensure_path(client: &Client, path: &str) -> Result<()> {
    ensure_path_with(client, path, CreateMode::Container).await
}

/// Creates `path` and its missing ancestors with `mode`.
pub async fn ensure_path_with(client: &Client, path: &str, mode: CreateMode) -> Result<()> {
    if path == "/" || retry(|| client.exists(path)).await?.is_some() {
        return Ok(());
    }
    let mut at = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        at.push('/');
        at.push_str(part);
        match retry(|| client.create(&at, b"", &CreateOptions::new(mode))).await {
            Ok(_) | Err(ZkError::NodeExists) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// `<dir>/<child>`.
pub fn join(dir: &str, child: &str) -> String {
    if dir == "/" {
        format!("/{child}")
    } else {
        format!("{dir}/{child}")
    }
}

/// The prefix Curator's `withProtection()` puts on a node name: a create
/// that may have succeeded before the connection dropped is found again by
/// it.
pub fn protected_prefix(id: &uuid::Uuid) -> String {
    format!("_c_{id}-")
}

/// Creates `<dir>/_c_<uuid>-<name>` (sequential modes add the suffix) and
/// returns its full path. Parents are created when missing; after a
/// connection loss the node is looked up by its uuid instead of being
/// created twice.
pub async fn create_protected(
    client: &Client,
    dir: &str,
    id: &uuid::Uuid,
    name: &str,
    data: &[u8],
    mode: CreateMode,
) -> Result<String> {
    let prefix = protected_prefix(id);
    let path = join(dir, &format!("{prefix}{name}"));
    let mut tries = 0;
    loop {
        tries += 1;
        match client.create(&path, data, &CreateOptions::new(mode)).await {
            Ok((created, _)) => return Ok(created),
            Err(ZkError::NoNode) if tries < crate::retry::MAX_TRIES => {
                ensure_path(client, dir).await?
            }
            Err(e) if e.is_retryable() && tries < crate::retry::MAX_TRIES => {
                tokio::time::sleep(Duration::from_millis(20 << tries.min(6))).await;
                if let Ok(Some(found)) = find_protected(client, dir, id).await {
                    return Ok(found);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The node under `dir` created with this protection id, if any.
pub async fn find_protected(client: &Client, dir: &str, id: &uuid::Uuid) -> Result<Option<String>> {
    let prefix = protected_prefix(id);
    let children = match retry(|| client.get_children(dir)).await {
        Ok((children, _)) => children,
        Err(ZkError::NoNode) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(children
        .into_iter()
        .find(|c| c.starts_with(&prefix))
        .map(|c| join(dir, &c)))
}

/// Deletes what a cancelled or failed operation left behind; runs in the
/// background when dropped armed (so cancelling an acquire leaves no node).
#[derive(Debug)]
pub(crate) struct Cleanup {
    client: Client,
    dir: String,
    id: uuid::Uuid,
    armed: bool,
}

impl Cleanup {
    pub fn new(client: &Client, dir: &str, id: uuid::Uuid) -> Cleanup {
        Cleanup {
            client: client.clone(),
            dir: dir.to_owned(),
            id,
            armed: true,
        }
    }

    pub fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (client, dir, id) = (self.client.clone(), self.dir.clone(), self.id);
        // Calls go out in call order, so the lookup runs after a create
        // that was still in flight when the caller gave up.
        let lookup = async move {
            if let Ok(Some(path)) = find_protected(&client, &dir, &id).await {
                let _ = retry(|| client.delete(&path, None)).await;
            }
        };
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(lookup);
        }
    }
}

/// The sort key of a sequential sibling: its 10-digit sequence suffix.
/// Curator sorts by what follows the lock name
/// (`StandardLockInternalsDriver.fixForSorting`), which is the same
/// suffix, so names with different protection prefixes (or kinds, in a
/// read-write lock) sort by sequence alone.
pub fn sort_key(name: &str) -> &str {
    let at = name.len().saturating_sub(10);
    name.get(at..).unwrap_or(name)
}

/// Children of `dir` whose name contains one of `names`, in sequence order.
pub async fn sorted_children(client: &Client, dir: &str, names: &[&str]) -> Result<Vec<String>> {
    let (children, _) = retry(|| client.get_children(dir)).await?;
    Ok(siblings(children, names))
}

/// The children whose name contains one of `names`, in sequence order.
pub fn siblings(mut children: Vec<String>, names: &[&str]) -> Vec<String> {
    children.retain(|c| names.iter().any(|n| c.contains(n)));
    children.sort_by(|a, b| sort_key(a).cmp(sort_key(b)));
    children
}

/// The last path component.
pub fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Waits until `pred` is deleted (or was already), or until `deadline`;
/// false on timeout.
pub async fn wait_for_delete(
    client: &Client,
    pred: &str,
    deadline: Option<Instant>,
) -> Result<bool> {
    let (stat, watcher) = match client.exists_and_watch(pred).await {
        Ok(found) => found,
        Err(e) if e.is_retryable() => return Ok(true),
        Err(e) => return Err(e.into()),
    };
    if stat.is_none() {
        return Ok(true);
    }
    fired_before(watcher, deadline).await
}

/// Waits for a watch to fire (true) or the deadline (false); the end of
/// the session is `SessionLost`.
pub(crate) async fn fired_before(
    watcher: zk_client::OneshotWatcher,
    deadline: Option<Instant>,
) -> Result<bool> {
    tokio::select! {
        ev = watcher => {
            if matches!(ev.state, zk_client::KeeperState::Expired | zk_client::KeeperState::Closed) {
                return Err(Error::SessionLost);
            }
            Ok(true)
        }
        () = crate::session::until(deadline) => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorting_ignores_protection_prefixes() {
        let mut names = [
            "_c_b-lock-0000000003".to_owned(),
            "_c_a-lock-0000000010".to_owned(),
            "lock-0000000001".to_owned(),
        ];
        names.sort_by(|a, b| sort_key(a).cmp(sort_key(b)));
        assert_eq!(names[0], "lock-0000000001");
        assert_eq!(names[2], "_c_a-lock-0000000010");
        assert_eq!(join("/", "x"), "/x");
        assert_eq!(name_of("/a/b"), "b");
    }
}
