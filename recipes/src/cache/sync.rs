//! Following a subtree with one persistent-recursive watch: arm the watch,
//! load everything, then apply each event by re-reading the node it names.
//! After a reconnect the whole subtree is read again (persistent watches
//! do not replay what was missed); after expiry, with the new session.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::future::join_all;
use zk_client::{AddWatchMode, Client, Error as ZkError, EventType, WatchedEvent};

use super::{NodeData, Shared, fallback};
use crate::framework::Framework;
use crate::nodes::join;

/// Why following stopped.
pub(super) enum Follow {
    Stop,
    SessionEnded,
    Retry,
}

pub(super) fn on_error(e: &ZkError) -> Follow {
    match e {
        ZkError::SessionExpired | ZkError::Closed | ZkError::AuthFailed => Follow::SessionEnded,
        _ => Follow::Retry,
    }
}

pub(super) async fn run(fw: Framework, shared: Arc<Shared>) {
    let mut sessions = fw.sessions();
    loop {
        if shared.stop.is_cancelled() {
            return;
        }
        let client = fw.client();
        match follow(&client, &shared).await {
            Follow::Stop => return,
            Follow::SessionEnded => {
                if client.state() == zk_client::SessionState::Closed {
                    return;
                }
                tokio::select! {
                    () = shared.stop.cancelled() => return,
                    changed = sessions.changed() => if changed.is_err() { return },
                }
            }
            Follow::Retry => {
                tokio::select! {
                    () = shared.stop.cancelled() => return,
                    () = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
                }
            }
        }
    }
}

async fn follow(client: &Client, shared: &Shared) -> Follow {
    let mut watcher = match client
        .add_watch(&shared.root, AddWatchMode::PersistentRecursive)
        .await
    {
        Ok(w) => w,
        // Servers before 3.6 have no persistent watches.
        Err(ZkError::Unimplemented) => return fallback::follow(client, shared).await,
        Err(e) => return on_error(&e),
    };
    if let Err(e) = resync(client, shared).await {
        return on_error(&e);
    }
    shared.initialized();
    let mut states = client.state_watcher();
    loop {
        tokio::select! {
            () = shared.stop.cancelled() => return Follow::Stop,
            ev = watcher.next() => match ev {
                Some(ev) if ev.event_type != EventType::None => {
                    if let Err(e) = apply(client, shared, &ev).await {
                        return on_error(&e);
                    }
                }
                _ => return Follow::SessionEnded,
            },
            changed = states.changed() => {
                let state = *states.borrow_and_update();
                if changed.is_err() || state.is_terminal() {
                    return Follow::SessionEnded;
                }
                // Any change that ends connected means the connection
                // dropped in between (the state channel keeps only the
                // latest value, so a quick Disconnected-Connected can show
                // as Connected alone): read the subtree again.
                if state.is_connected() {
                    if let Err(e) = resync(client, shared).await {
                        return on_error(&e);
                    }
                    shared.initialized();
                }
            }
        }
    }
}

async fn apply(client: &Client, shared: &Shared, ev: &WatchedEvent) -> Result<(), ZkError> {
    if !shared.in_scope(&ev.path) {
        return Ok(());
    }
    match ev.event_type {
        EventType::NodeDeleted => shared.remove_subtree(&ev.path),
        EventType::NodeCreated | EventType::NodeDataChanged => {
            match client.get_data(&ev.path).await {
                Ok((data, stat)) => shared.upsert(&ev.path, NodeData { data, stat }),
                Err(ZkError::NoNode) => shared.remove_subtree(&ev.path),
                Err(e) => return Err(e),
            }
        }
        _ => {}
    }
    Ok(())
}

/// Reads the whole subtree, a level at a time (the reads of a level are
/// pipelined), and brings the cache in line with it.
pub(super) async fn resync(client: &Client, shared: &Shared) -> Result<(), ZkError> {
    let mut seen = BTreeSet::new();
    let mut level = vec![shared.root.clone()];
    let mut depth = 0;
    while !level.is_empty() {
        let datas = join_all(level.iter().map(|p| client.get_data(p)).collect::<Vec<_>>());
        let kids = if depth < shared.max_depth {
            Some(join_all(
                level
                    .iter()
                    .map(|p| client.get_children(p))
                    .collect::<Vec<_>>(),
            ))
        } else {
            None
        };
        let datas = datas.await;
        let kids = match kids {
            Some(k) => k.await,
            None => Vec::new(),
        };
        let mut next = Vec::new();
        for (i, path) in level.iter().enumerate() {
            match &datas[i] {
                Ok((data, stat)) => {
                    seen.insert(path.clone());
                    shared.upsert(
                        path,
                        NodeData {
                            data: data.clone(),
                            stat: stat.clone(),
                        },
                    );
                }
                Err(ZkError::NoNode) => continue,
                Err(e) => return Err(e.clone()),
            }
            match kids.get(i) {
                Some(Ok((children, _))) => next.extend(children.iter().map(|c| join(path, c))),
                Some(Err(ZkError::NoNode)) | None => {}
                Some(Err(e)) => return Err(e.clone()),
            }
        }
        level = next;
        depth += 1;
    }
    for path in shared.cached_under(&shared.root) {
        if !seen.contains(&path) {
            shared.remove_subtree(&path);
        }
    }
    Ok(())
}
