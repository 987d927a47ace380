//! Sessions: the table, timeouts and expiry, ids and passwords.
//!
//! A session outlives its connections: a client that reconnects within its
//! timeout with the id and password keeps its session, its ephemerals and
//! (after setWatches) its watches.

mod password;

use std::collections::BTreeMap;

use tokio::time::Instant;

pub use password::password_for;

use crate::tree::WatcherId;

#[derive(Debug)]
pub struct Session {
    pub id: i64,
    pub timeout_ms: u32,
    pub expires_at: Instant,
    /// The connection it is attached to, if any.
    pub conn: Option<WatcherId>,
    /// A close (asked or by expiry) is on its way through the pipeline.
    pub closing: bool,
    /// Made by a read-only server, with no createSession txn: it ends
    /// when the server is read-write again.
    pub local: bool,
}

#[derive(Debug)]
pub struct SessionTable {
    sessions: BTreeMap<i64, Session>,
    next_id: i64,
    tick_ms: u32,
}

impl SessionTable {
    /// Ids start from the clock, so they do not repeat across restarts, with
    /// the server id in the top byte (`SessionTrackerImpl.initializeNextSessionId`).
    pub fn new(server_id: u8, now_ms: i64, tick_ms: u32) -> SessionTable {
        let mut next_id = ((now_ms << 24) as u64 >> 8) as i64 | (i64::from(server_id) << 56);
        if next_id == i64::MIN {
            next_id += 1;
        }
        SessionTable {
            sessions: BTreeMap::new(),
            next_id,
            tick_ms,
        }
    }

    pub fn next_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Expiry rounds up to the next tick, as ZooKeeper's `ExpiryQueue` does,
    /// so sessions are checked in buckets.
    fn deadline(&self, timeout_ms: u32) -> Instant {
        let tick = u64::from(self.tick_ms.max(1));
        let ms = u64::from(timeout_ms).div_ceil(tick) * tick;
        Instant::now() + std::time::Duration::from_millis(ms)
    }

    pub fn insert(&mut self, id: i64, timeout_ms: u32, conn: Option<WatcherId>) {
        let expires_at = self.deadline(timeout_ms);
        self.sessions.insert(
            id,
            Session {
                id,
                timeout_ms,
                expires_at,
                conn,
                closing: false,
                local: false,
            },
        );
    }

    /// Marks a session local (see [`Session::local`]).
    pub fn mark_local(&mut self, id: i64) {
        if let Some(s) = self.sessions.get_mut(&id) {
            s.local = true;
        }
    }

    /// Removes the local sessions; returns the connection each was on.
    pub fn remove_local(&mut self) -> Vec<Option<WatcherId>> {
        let local: Vec<i64> = self
            .sessions
            .values()
            .filter(|s| s.local)
            .map(|s| s.id)
            .collect();
        local
            .into_iter()
            .filter_map(|id| self.sessions.remove(&id))
            .map(|s| s.conn)
            .collect()
    }

    pub fn get(&self, id: i64) -> Option<&Session> {
        self.sessions.get(&id)
    }

    pub fn get_mut(&mut self, id: i64) -> Option<&mut Session> {
        self.sessions.get_mut(&id)
    }

    pub fn remove(&mut self, id: i64) -> Option<Session> {
        self.sessions.remove(&id)
    }

    /// Any packet from the client renews the session.
    pub fn touch(&mut self, id: i64) {
        let Some(timeout) = self.sessions.get(&id).map(|s| s.timeout_ms) else {
            return;
        };
        let deadline = self.deadline(timeout);
        if let Some(s) = self.sessions.get_mut(&id) {
            s.expires_at = deadline;
        }
    }

    /// Sessions past their deadline and not yet closing.
    pub fn expired(&self, now: Instant) -> Vec<i64> {
        self.sessions
            .values()
            .filter(|s| !s.closing && s.expires_at <= now)
            .map(|s| s.id)
            .collect()
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Session> {
        self.sessions.values_mut()
    }
}
