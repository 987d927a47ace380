//! Following a subtree on a server without persistent watches (before
//! 3.6): a one-shot data watch on every cached node and a child watch on
//! every node above the depth limit, each re-armed when it fires.

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use zk_client::{Client, Error as ZkError, EventType, WatchedEvent};

use super::sync::{Follow, on_error};
use super::{NodeData, Shared};
use crate::nodes::join;

type Armed = FuturesUnordered<BoxFuture<'static, (String, WatchedEvent)>>;

pub(super) async fn follow(client: &Client, shared: &Shared) -> Follow {
    tracing::info!(root = %shared.root, "no persistent watches on this server: using one-shot watches");
    let mut armed = Armed::new();
    if let Err(e) = load(client, shared, &shared.root, &mut armed).await {
        return on_error(&e);
    }
    shared.initialized();
    loop {
        let next = tokio::select! {
            () = shared.stop.cancelled() => return Follow::Stop,
            next = armed.next() => next,
        };
        let Some((path, ev)) = next else {
            // Nothing armed (the root is gone and its exists watch fired):
            // look again.
            return Follow::Retry;
        };
        let result = match ev.event_type {
            EventType::None => return Follow::SessionEnded,
            EventType::NodeDeleted => {
                shared.remove_subtree(&path);
                if path == shared.root {
                    watch_creation(client, &path, &mut armed).await
                } else {
                    Ok(())
                }
            }
            EventType::NodeCreated => load(client, shared, &path, &mut armed).await,
            EventType::NodeDataChanged => reload_data(client, shared, &path, &mut armed)
                .await
                .map(|_| ()),
            EventType::NodeChildrenChanged => {
                reload_children(client, shared, &path, &mut armed).await
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            return on_error(&e);
        }
    }
}

/// Loads `path` and its subtree (within the depth), arming watches.
async fn load(
    client: &Client,
    shared: &Shared,
    path: &str,
    armed: &mut Armed,
) -> Result<(), ZkError> {
    let mut stack = vec![path.to_owned()];
    while let Some(p) = stack.pop() {
        if !reload_data(client, shared, &p, armed).await? {
            continue;
        }
        if shared.depth(&p).is_some_and(|d| d < shared.max_depth) {
            let (children, _, watcher) = match client.get_children_and_watch(&p).await {
                Ok(found) => found,
                Err(ZkError::NoNode) => continue,
                Err(e) => return Err(e),
            };
            push(armed, &p, watcher);
            stack.extend(children.iter().map(|c| join(&p, c)));
        }
    }
    Ok(())
}

/// Re-reads a node's data with a watch; false if it is gone.
async fn reload_data(
    client: &Client,
    shared: &Shared,
    path: &str,
    armed: &mut Armed,
) -> Result<bool, ZkError> {
    match client.get_data_and_watch(path).await {
        Ok((data, stat, watcher)) => {
            push(armed, path, watcher);
            shared.upsert(path, NodeData { data, stat });
            Ok(true)
        }
        Err(ZkError::NoNode) => {
            shared.remove_subtree(path);
            if path == shared.root {
                watch_creation(client, path, armed).await?;
            }
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// New children are loaded (with their watches); deleted ones go with
/// their own NodeDeleted events.
async fn reload_children(
    client: &Client,
    shared: &Shared,
    path: &str,
    armed: &mut Armed,
) -> Result<(), ZkError> {
    let (children, _, watcher) = match client.get_children_and_watch(path).await {
        Ok(found) => found,
        Err(ZkError::NoNode) => return Ok(()),
        Err(e) => return Err(e),
    };
    push(armed, path, watcher);
    let known = shared.cached_under(path);
    for child in children {
        let child_path = join(path, &child);
        if !known.contains(&child_path) {
            load(client, shared, &child_path, armed).await?;
        }
    }
    Ok(())
}

async fn watch_creation(client: &Client, path: &str, armed: &mut Armed) -> Result<(), ZkError> {
    let (_, watcher) = client.exists_and_watch(path).await?;
    push(armed, path, watcher);
    Ok(())
}

fn push(armed: &mut Armed, path: &str, watcher: zk_client::OneshotWatcher) {
    let path = path.to_owned();
    armed.push(Box::pin(async move { (path, watcher.await) }));
}
