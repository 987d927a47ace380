//! `StatsTrack`: the text of `/zookeeper/quota/<path>/zookeeper_limits` and
//! `zookeeper_stats`, e.g. `count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=3`.

use std::collections::BTreeMap;

pub const COUNT: &str = "count";
pub const BYTES: &str = "bytes";
pub const COUNT_HARD: &str = "countHardLimit";
pub const BYTES_HARD: &str = "byteHardLimit";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsTrack {
    stats: BTreeMap<String, i64>,
}

impl StatsTrack {
    /// Parses the text; pairs are separated by `,` or `;`, an empty value
    /// is -1. `None` if a value is not a number.
    pub fn parse(text: &str) -> Option<StatsTrack> {
        let mut stats = BTreeMap::new();
        for pair in text.split([',', ';']).filter(|p| !p.is_empty()) {
            let mut kv = pair.split('=');
            let key = kv.next().unwrap_or_default();
            let value = match kv.next() {
                None | Some("") => -1,
                Some(v) => v.parse().ok()?,
            };
            stats.insert(key.to_owned(), value);
        }
        Some(StatsTrack { stats })
    }

    /// Every limit unset (-1), as `setquota` starts.
    pub fn unlimited() -> StatsTrack {
        let mut t = StatsTrack::default();
        for k in [COUNT, BYTES, COUNT_HARD, BYTES_HARD] {
            t.set(k, -1);
        }
        t
    }

    pub fn get(&self, key: &str) -> i64 {
        self.stats.get(key).copied().unwrap_or(-1)
    }

    pub fn set(&mut self, key: &str, value: i64) {
        self.stats.insert(key.to_owned(), value);
    }
}

impl std::fmt::Display for StatsTrack {
    /// `count=..,bytes=..` first; other keys sorted after an extra `=` (so
    /// old parsers ignore them).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "count={},bytes={}", self.get(COUNT), self.get(BYTES))?;
        let extra: Vec<_> = self
            .stats
            .iter()
            .filter(|(k, _)| k.as_str() != COUNT && k.as_str() != BYTES)
            .collect();
        if !extra.is_empty() {
            f.write_str("=")?;
            for (k, v) in extra {
                write!(f, ";{k}={v}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_like_zookeeper() {
        let mut q = StatsTrack::unlimited();
        q.set(COUNT, 5);
        assert_eq!(
            q.to_string(),
            "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1"
        );
        let parsed = StatsTrack::parse(&q.to_string()).expect("parses");
        assert_eq!(parsed, q);
        assert_eq!(parsed.get(COUNT_HARD), -1);
        let s = StatsTrack::parse("count=2,bytes=0").expect("parses");
        assert_eq!(s.to_string(), "count=2,bytes=0");
        assert_eq!(
            StatsTrack::parse("count=,bytes=1").map(|s| s.get(COUNT)),
            Some(-1)
        );
        assert!(StatsTrack::parse("count=x").is_none());
        assert_eq!(StatsTrack::default().to_string(), "count=-1,bytes=-1");
    }
}
