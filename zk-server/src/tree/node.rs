//! One znode: data, ACL, the persisted part of its Stat, and its children.

use std::sync::Arc;

use bytes::Bytes;
use zk_proto::data::{Acl, Stat};

/// `ephemeralOwner` of a container node (`EphemeralType.CONTAINER`).
pub const CONTAINER_OWNER: i64 = i64::MIN;
/// The high byte that marks a TTL node's `ephemeralOwner` (`EphemeralType.TTL`).
const TTL_MARK: i64 = 0xff;
/// The largest TTL that fits the encoding (the low 40 bits hold the ms).
pub const MAX_TTL_MS: i64 = (1 << 40) - 1;

/// What kind of node an `ephemeralOwner` value denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Persistent,
    Ephemeral(i64),
    Container,
    Ttl(i64),
}

impl NodeKind {
    pub fn from_owner(owner: i64) -> NodeKind {
        if owner == 0 {
            NodeKind::Persistent
        } else if owner == CONTAINER_OWNER {
            NodeKind::Container
        } else if (owner >> 56) & 0xff == TTL_MARK {
            NodeKind::Ttl(owner & MAX_TTL_MS)
        } else {
            NodeKind::Ephemeral(owner)
        }
    }

    /// The encoding of a TTL in `ephemeralOwner`: 0xff, two zero bytes, then
    /// the ms.
    pub fn ttl_owner(ttl_ms: i64) -> i64 {
        (TTL_MARK << 56) | (ttl_ms & MAX_TTL_MS)
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub data: Option<Bytes>,
    pub acl: Arc<Vec<Acl>>,
    pub czxid: i64,
    pub mzxid: i64,
    pub pzxid: i64,
    pub ctime: i64,
    pub mtime: i64,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    pub ephemeral_owner: i64,
    /// Persistent (structurally shared) so that a tree clone for a snapshot
    /// costs O(1) and a change after it copies only a path.
    pub children: imbl::OrdSet<String>,
}

impl Node {
    pub fn new(data: Option<Bytes>, acl: Arc<Vec<Acl>>, zxid: i64, time: i64, owner: i64) -> Node {
        Node {
            data,
            acl,
            czxid: zxid,
            mzxid: zxid,
            pzxid: zxid,
            ctime: time,
            mtime: time,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: owner,
            children: imbl::OrdSet::new(),
        }
    }

    pub fn data_len(&self) -> usize {
        self.data.as_ref().map_or(0, Bytes::len)
    }

    pub fn kind(&self) -> NodeKind {
        NodeKind::from_owner(self.ephemeral_owner)
    }

    /// The stat as clients see it (`DataNode.copyStat`): cversion counts
    /// child creates and deletes (the persisted one counts creates only,
    /// which names sequential nodes), and containers and TTL nodes show no
    /// ephemeral owner.
    pub fn stat(&self) -> Stat {
        let persisted = self.persisted_stat();
        Stat {
            cversion: persisted
                .cversion
                .wrapping_mul(2)
                .wrapping_sub(persisted.num_children),
            ephemeral_owner: match self.kind() {
                NodeKind::Ephemeral(owner) => owner,
                _ => 0,
            },
            ..persisted
        }
    }

    /// The stat as the server keeps it.
    pub fn persisted_stat(&self) -> Stat {
        Stat {
            czxid: self.czxid,
            mzxid: self.mzxid,
            ctime: self.ctime,
            mtime: self.mtime,
            version: self.version,
            cversion: self.cversion,
            aversion: self.aversion,
            ephemeral_owner: self.ephemeral_owner,
            data_length: self.data_len() as i32,
            num_children: self.children.len() as i32,
            pzxid: self.pzxid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_encodings() {
        assert_eq!(NodeKind::from_owner(0), NodeKind::Persistent);
        assert_eq!(NodeKind::from_owner(CONTAINER_OWNER), NodeKind::Container);
        assert_eq!(
            NodeKind::from_owner(NodeKind::ttl_owner(5000)),
            NodeKind::Ttl(5000)
        );
        assert_eq!(
            NodeKind::from_owner(0x0100_0000_0000_0001),
            NodeKind::Ephemeral(0x0100_0000_0000_0001)
        );
    }
}
