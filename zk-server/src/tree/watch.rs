//! Watch registrations and what a change fires.
//!
//! One-shot data watches (getData, exists) and child watches (getChildren)
//! are removed when they fire. Persistent watches (addWatch) fire on data,
//! create, delete and child changes of their path; persistent-recursive ones
//! on data, create and delete anywhere in the subtree, never on child
//! changes. A watcher gets at most one event per change.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use zk_proto::data::{EventType, WatcherType};

use super::data_tree::Change;

/// Who watches: the connection's id (watches live and die with it).
pub type WatcherId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WatchKind {
    Data,
    Child,
    Persistent,
    PersistentRecursive,
}

#[derive(Debug, Default)]
pub struct WatchManager {
    // BTreeMap/BTreeSet: the wchp/wchc listings and event order are stable.
    by_path: HashMap<WatchKind, BTreeMap<String, BTreeSet<WatcherId>>>,
    by_watcher: BTreeMap<WatcherId, BTreeSet<(WatchKind, String)>>,
}

impl WatchManager {
    pub fn add(&mut self, kind: WatchKind, path: &str, watcher: WatcherId) {
        self.by_path
            .entry(kind)
            .or_default()
            .entry(path.to_owned())
            .or_default()
            .insert(watcher);
        self.by_watcher
            .entry(watcher)
            .or_default()
            .insert((kind, path.to_owned()));
    }

    fn remove_one(&mut self, kind: WatchKind, path: &str, watcher: WatcherId) -> bool {
        let Some(paths) = self.by_path.get_mut(&kind) else {
            return false;
        };
        let Some(set) = paths.get_mut(path) else {
            return false;
        };
        let removed = set.remove(&watcher);
        if set.is_empty() {
            paths.remove(path);
        }
        if let Some(mine) = self.by_watcher.get_mut(&watcher) {
            mine.remove(&(kind, path.to_owned()));
            if mine.is_empty() {
                self.by_watcher.remove(&watcher);
            }
        }
        removed
    }

    fn has(&self, kind: WatchKind, path: &str, watcher: WatcherId) -> bool {
        self.by_path
            .get(&kind)
            .and_then(|p| p.get(path))
            .is_some_and(|s| s.contains(&watcher))
    }

    fn kinds_for(watcher_type: WatcherType) -> &'static [WatchKind] {
        match watcher_type {
            WatcherType::Children => &[WatchKind::Child],
            WatcherType::Data => &[WatchKind::Data],
            WatcherType::Persistent => &[WatchKind::Persistent],
            WatcherType::PersistentRecursive => &[WatchKind::PersistentRecursive],
            WatcherType::Any => &[
                WatchKind::Data,
                WatchKind::Child,
                WatchKind::Persistent,
                WatchKind::PersistentRecursive,
            ],
        }
    }

    /// checkWatches: whether the watcher has a watch of this type on `path`.
    pub fn contains(&self, path: &str, watcher_type: WatcherType, watcher: WatcherId) -> bool {
        Self::kinds_for(watcher_type)
            .iter()
            .any(|k| self.has(*k, path, watcher))
    }

    /// removeWatches: removes the watcher's watches of this type on `path`;
    /// whether any was there.
    pub fn remove(&mut self, path: &str, watcher_type: WatcherType, watcher: WatcherId) -> bool {
        let mut any = false;
        for kind in Self::kinds_for(watcher_type) {
            any |= self.remove_one(*kind, path, watcher);
        }
        any
    }

    /// Drops every watch of a connection that went away.
    pub fn remove_watcher(&mut self, watcher: WatcherId) {
        let Some(mine) = self.by_watcher.remove(&watcher) else {
            return;
        };
        for (kind, path) in mine {
            if let Some(paths) = self.by_path.get_mut(&kind)
                && let Some(set) = paths.get_mut(&path)
            {
                set.remove(&watcher);
                if set.is_empty() {
                    paths.remove(&path);
                }
            }
        }
    }

    /// The watchers a change fires, one-shot watches removed.
    pub fn trigger(&mut self, change: &Change) -> BTreeSet<WatcherId> {
        let mut fired = BTreeSet::new();
        let path = change.path.as_str();
        let take_once = |this: &mut Self, kind: WatchKind, fired: &mut BTreeSet<WatcherId>| {
            if let Some(set) = this.by_path.get_mut(&kind).and_then(|p| p.remove(path)) {
                for w in set {
                    if let Some(mine) = this.by_watcher.get_mut(&w) {
                        mine.remove(&(kind, path.to_owned()));
                        if mine.is_empty() {
                            this.by_watcher.remove(&w);
                        }
                    }
                    fired.insert(w);
                }
            }
        };
        match change.event {
            EventType::NodeChildrenChanged => {
                take_once(self, WatchKind::Child, &mut fired);
                self.collect(WatchKind::Persistent, path, &mut fired);
            }
            EventType::NodeCreated | EventType::NodeDataChanged | EventType::NodeDeleted => {
                take_once(self, WatchKind::Data, &mut fired);
                if change.event == EventType::NodeDeleted {
                    take_once(self, WatchKind::Child, &mut fired);
                }
                self.collect(WatchKind::Persistent, path, &mut fired);
                let mut p = path;
                loop {
                    self.collect(WatchKind::PersistentRecursive, p, &mut fired);
                    if p == "/" {
                        break;
                    }
                    p = zk_proto::path::parent(p);
                }
            }
            _ => {}
        }
        fired
    }

    fn collect(&self, kind: WatchKind, path: &str, out: &mut BTreeSet<WatcherId>) {
        if let Some(set) = self.by_path.get(&kind).and_then(|p| p.get(path)) {
            out.extend(set.iter().copied());
        }
    }

    /// Number of watches (wchs: `Total watches`).
    pub fn count(&self) -> usize {
        self.by_watcher.values().map(BTreeSet::len).sum()
    }

    pub fn path_count(&self) -> usize {
        let mut paths = BTreeSet::new();
        for p in self.by_path.values() {
            paths.extend(p.keys());
        }
        paths.len()
    }

    pub fn watcher_count(&self) -> usize {
        self.by_watcher.len()
    }

    /// Paths watched by each watcher (wchc).
    pub fn by_watcher(&self) -> BTreeMap<WatcherId, BTreeSet<&str>> {
        self.by_watcher
            .iter()
            .map(|(w, set)| (*w, set.iter().map(|(_, p)| p.as_str()).collect()))
            .collect()
    }

    /// Watchers of each path (wchp).
    pub fn by_path(&self) -> BTreeMap<&str, BTreeSet<WatcherId>> {
        let mut out: BTreeMap<&str, BTreeSet<WatcherId>> = BTreeMap::new();
        for paths in self.by_path.values() {
            for (p, set) in paths {
                out.entry(p.as_str())
                    .or_default()
                    .extend(set.iter().copied());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str, event: EventType) -> Change {
        Change {
            path: path.into(),
            event,
            acl: Default::default(),
        }
    }

    #[test]
    fn one_shot_fires_once_persistent_keeps_firing() {
        let mut w = WatchManager::default();
        w.add(WatchKind::Data, "/a", 1);
        w.add(WatchKind::Persistent, "/a", 2);
        w.add(WatchKind::PersistentRecursive, "/", 3);
        let ev = change("/a", EventType::NodeDataChanged);
        assert_eq!(w.trigger(&ev), BTreeSet::from([1, 2, 3]));
        assert_eq!(w.trigger(&ev), BTreeSet::from([2, 3]));
        // Recursive watches never see child changes.
        assert_eq!(
            w.trigger(&change("/", EventType::NodeChildrenChanged)),
            BTreeSet::new()
        );
        assert_eq!(
            w.trigger(&change("/a", EventType::NodeChildrenChanged)),
            BTreeSet::from([2])
        );
    }

    #[test]
    fn delete_fires_data_and_child_watches_once() {
        let mut w = WatchManager::default();
        w.add(WatchKind::Data, "/a", 1);
        w.add(WatchKind::Child, "/a", 1);
        assert_eq!(
            w.trigger(&change("/a", EventType::NodeDeleted)),
            BTreeSet::from([1])
        );
        assert_eq!(w.count(), 0);
    }

    #[test]
    fn remove_and_check() {
        let mut w = WatchManager::default();
        w.add(WatchKind::Child, "/a", 1);
        assert!(w.contains("/a", WatcherType::Children, 1));
        assert!(!w.contains("/a", WatcherType::Data, 1));
        assert!(w.remove("/a", WatcherType::Any, 1));
        assert!(!w.remove("/a", WatcherType::Any, 1));
        w.add(WatchKind::Data, "/b", 7);
        w.remove_watcher(7);
        assert_eq!(w.count(), 0);
    }
}
