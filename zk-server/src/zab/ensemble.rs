//! Membership from the `server.N` lines: who votes, who observes, where
//! each listens, and what a quorum is.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::ConfigError;

/// One `server.N=host:peerPort:electionPort[:participant|:observer][;[addr:]clientPort]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub sid: u64,
    pub host: String,
    /// Where the leader listens for learners (`quorumPort`, 2888).
    pub peer_port: u16,
    pub election_port: u16,
    pub observer: bool,
    pub client_port: Option<u16>,
    /// The address of `;addr:clientPort`, when it is an IP address.
    pub client_address: Option<std::net::IpAddr>,
}

impl Peer {
    pub fn peer_addr(&self) -> String {
        format!("{}:{}", self.host, self.peer_port)
    }

    pub fn election_addr(&self) -> String {
        format!("{}:{}", self.host, self.election_port)
    }

    /// Where to listen: this address, or every address
    /// (`quorumListenOnAllIPs`).
    pub fn listen_addr(&self, port: u16, all: bool) -> String {
        if all {
            format!("0.0.0.0:{port}")
        } else {
            format!("{}:{port}", self.host)
        }
    }
}

#[derive(Debug, Clone)]
pub struct Ensemble {
    pub myid: u64,
    pub peers: BTreeMap<u64, Peer>,
}

fn bad(key: &str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Value {
        key: key.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

fn port(key: &str, value: &str, text: &str) -> Result<u16, ConfigError> {
    text.trim()
        .parse()
        .map_err(|_| bad(key, value, "a port must be a number from 0 to 65535"))
}

/// Parses one `server.N` value.
pub fn parse_peer(sid: u64, value: &str) -> Result<Peer, ConfigError> {
    let key = format!("server.{sid}");
    let (addrs, client) = match value.split_once(';') {
        Some((a, c)) => (a, Some(c)),
        None => (value, None),
    };
    let parts: Vec<&str> = addrs.split(':').collect();
    let (host, peer, election, kind) = match parts.as_slice() {
        [h, p, e] => (h, p, e, None),
        [h, p, e, k] => (h, p, e, Some(*k)),
        _ => {
            return Err(bad(
                &key,
                value,
                "expected host:peerPort:electionPort[:participant|:observer][;clientPort]",
            ));
        }
    };
    let observer = match kind {
        None | Some("participant") => false,
        Some("observer") => true,
        Some(_) => return Err(bad(&key, value, "the role must be participant or observer")),
    };
    let client_port = match client {
        None => None,
        Some(c) => Some(port(&key, value, c.rsplit(':').next().unwrap_or(c))?),
    };
    let client_address = client
        .and_then(|c| c.rsplit_once(':'))
        .and_then(|(addr, _)| addr.trim().parse().ok());
    Ok(Peer {
        sid,
        host: host.trim().to_owned(),
        peer_port: port(&key, value, peer)?,
        election_port: port(&key, value, election)?,
        observer,
        client_port,
        client_address,
    })
}

impl Ensemble {
    pub fn new(myid: u64, servers: &BTreeMap<u64, String>) -> Result<Ensemble, ConfigError> {
        let mut peers = BTreeMap::new();
        for (sid, value) in servers {
            peers.insert(*sid, parse_peer(*sid, value)?);
        }
        if !peers.contains_key(&myid) {
            return Err(bad("myid", &myid.to_string(), "no server line has this id"));
        }
        if !peers.values().any(|p| !p.observer) {
            return Err(bad(
                "server",
                "",
                "an ensemble needs at least one participant",
            ));
        }
        Ok(Ensemble { myid, peers })
    }

    pub fn me(&self) -> &Peer {
        &self.peers[&self.myid]
    }

    pub fn is_voter(&self, sid: u64) -> bool {
        self.peers.get(&sid).is_some_and(|p| !p.observer)
    }

    pub fn voter_count(&self) -> usize {
        self.peers.values().filter(|p| !p.observer).count()
    }

    /// A majority of the voters (ZooKeeper's `QuorumMaj`); non-voters in
    /// `sids` do not count.
    pub fn is_quorum<'a>(&self, sids: impl IntoIterator<Item = &'a u64>) -> bool {
        let votes: BTreeSet<u64> = sids
            .into_iter()
            .copied()
            .filter(|s| self.is_voter(*s))
            .collect();
        votes.len() * 2 > self.voter_count()
    }

    pub fn others(&self) -> impl Iterator<Item = &Peer> {
        self.peers.values().filter(|p| p.sid != self.myid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_lines_parse_like_zookeeper() {
        let p = parse_peer(1, "zk1:2888:3888").unwrap();
        assert_eq!(
            (p.peer_port, p.election_port, p.observer),
            (2888, 3888, false)
        );
        let p = parse_peer(4, "10.0.0.4:2888:3888:observer;0.0.0.0:2184").unwrap();
        assert!(p.observer);
        assert_eq!(p.client_port, Some(2184));
        assert_eq!(
            parse_peer(2, "h:1:2:participant;2182").unwrap().client_port,
            Some(2182)
        );
        assert!(parse_peer(1, "h:1").is_err());
        assert!(parse_peer(1, "h:1:2:leader").is_err());
        assert!(parse_peer(1, "h:x:2").is_err());
    }

    #[test]
    fn a_quorum_is_a_majority_of_voters() {
        let servers: BTreeMap<u64, String> = [
            (1, "h:1:1"),
            (2, "h:2:2"),
            (3, "h:3:3"),
            (4, "h:4:4:observer"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect();
        let e = Ensemble::new(1, &servers).unwrap();
        assert!(!e.is_quorum(&[1]));
        assert!(!e.is_quorum(&[1, 4]));
        assert!(e.is_quorum(&[1, 3]));
        assert!(Ensemble::new(9, &servers).is_err());
    }
}
