//! Leader election: a latch (is-leader as a watch channel) and a selector
//! (runs a future while leader).
//!
//! Safety rule: leadership is only claimed while connected. On Disconnected
//! it is suspended at once (another process may be elected when our
//! session expires, which happens no earlier than the client notices the
//! silence); on Expired it is given up.

mod latch;
mod selector;

pub use latch::LeaderLatch;
pub use selector::{LeaderSelector, Leadership};

use zk_client::Client;

use crate::error::Result;
use crate::nodes;

/// One candidate, in election order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// The participant id the candidate was made with.
    pub id: String,
    /// Whether its node is first in line, i.e. it is the leader.
    pub is_leader: bool,
}

/// The candidates under `dir` whose nodes carry `name`, first = leader.
pub(crate) async fn participants(
    client: &Client,
    dir: &str,
    name: &str,
) -> Result<Vec<Participant>> {
    // The election's parent is a container: gone while nobody runs.
    let children = match nodes::sorted_children(client, dir, &[name]).await {
        Ok(children) => children,
        Err(crate::Error::Zk(zk_client::Error::NoNode)) => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut out = Vec::with_capacity(children.len());
    for (i, child) in children.iter().enumerate() {
        match client.get_data(&nodes::join(dir, child)).await {
            Ok((data, _)) => out.push(Participant {
                id: String::from_utf8_lossy(&data).into_owned(),
                is_leader: i == 0,
            }),
            Err(zk_client::Error::NoNode) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(first) = out.first_mut() {
        first.is_leader = true;
    }
    Ok(out)
}
