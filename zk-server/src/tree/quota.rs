//! Quotas, as ZooKeeper keeps them: a quota on `/a/b` is the node
//! `/zookeeper/quota/a/b/zookeeper_limits` (set by zkCli's `setquota`), and
//! the server keeps the subtree's count and bytes up to date in the sibling
//! `zookeeper_stats`. Data format: `count=N,bytes=M` with hard limits after
//! a `=` as `;countHardLimit=N;byteHardLimit=M` (`StatsTrack`).

use std::collections::BTreeMap;

pub const QUOTA_ROOT: &str = "/zookeeper/quota";
pub const LIMIT_NODE: &str = "zookeeper_limits";
pub const STAT_NODE: &str = "zookeeper_stats";

/// A parsed `StatsTrack` string: absent keys are -1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsTrack {
    values: BTreeMap<String, i64>,
}

impl StatsTrack {
    pub fn parse(data: &[u8]) -> StatsTrack {
        let text = String::from_utf8_lossy(data);
        let mut values = BTreeMap::new();
        for pair in text.split([',', ';']).filter(|p| !p.is_empty()) {
            let mut kv = pair.split('=');
            let (Some(k), Some(v)) = (kv.next(), kv.next()) else {
                continue;
            };
            values.insert(k.to_owned(), v.parse().unwrap_or(-1));
        }
        StatsTrack { values }
    }

    pub fn get(&self, key: &str) -> i64 {
        self.values.get(key).copied().unwrap_or(-1)
    }

    pub fn set(&mut self, key: &str, v: i64) {
        self.values.insert(key.to_owned(), v);
    }

    pub fn count(&self) -> i64 {
        self.get("count")
    }

    pub fn bytes(&self) -> i64 {
        self.get("bytes")
    }

    /// Written the way ZooKeeper writes it, so that old parsers still read
    /// `count` and `bytes`.
    pub fn render(&self) -> String {
        let mut out = format!("count={},bytes={}", self.count(), self.bytes());
        let extra: Vec<_> = self
            .values
            .iter()
            .filter(|(k, _)| *k != "count" && *k != "bytes")
            .collect();
        if !extra.is_empty() {
            out.push('=');
            for (k, v) in extra {
                out.push_str(&format!(";{k}={v}"));
            }
        }
        out
    }
}

/// `/zookeeper/quota/a/b/zookeeper_limits` -> `/a/b` (for limit and stat
/// nodes); `None` for anything else.
pub fn quota_target(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix(QUOTA_ROOT)?;
    let (target, leaf) = rest.rsplit_once('/')?;
    if target.is_empty() || (leaf != LIMIT_NODE && leaf != STAT_NODE) {
        return None;
    }
    Some((target, leaf))
}

pub fn limit_path(target: &str) -> String {
    format!("{QUOTA_ROOT}{target}/{LIMIT_NODE}")
}

pub fn stat_path(target: &str) -> String {
    format!("{QUOTA_ROOT}{target}/{STAT_NODE}")
}

/// Whether `target` is `path` or one of its ancestors, by whole components.
pub fn covers(target: &str, path: &str) -> bool {
    path == target
        || (path.starts_with(target) && path.as_bytes().get(target.len()) == Some(&b'/'))
        || target == "/"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_track_round_trip() {
        let s = StatsTrack::parse(b"count=4,bytes=5=;byteHardLimit=10;countHardLimit=10");
        assert_eq!(s.count(), 4);
        assert_eq!(s.get("countHardLimit"), 10);
        assert_eq!(
            s.render(),
            "count=4,bytes=5=;byteHardLimit=10;countHardLimit=10"
        );
        assert_eq!(
            StatsTrack::parse(b"count=-1,bytes=-1").render(),
            "count=-1,bytes=-1"
        );
    }

    #[test]
    fn targets_and_coverage() {
        assert_eq!(
            quota_target("/zookeeper/quota/a/b/zookeeper_limits"),
            Some(("/a/b", LIMIT_NODE))
        );
        assert_eq!(quota_target("/zookeeper/quota/a"), None);
        assert!(covers("/a", "/a/b"));
        assert!(!covers("/a", "/ab"));
    }
}
