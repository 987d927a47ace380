//! `zoo.cfg`: ZooKeeper's key=value file, with ZooKeeper's key names and
//! defaults. Unknown keys are warned about; a bad value is an error that
//! names the key.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use zk_proto::frame::DEFAULT_MAX_FRAME;

pub mod admin;
pub mod container;
pub mod jvm;
pub mod sasl;
pub mod tls;

pub use admin::{AdminConfig, MetricsConfig};
pub use sasl::{QuorumAuthConfig, SaslConfig};
pub use tls::{TlsConfig, TlsSettings};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not `source`: the message carries the cause, and a chain printer
    /// would print it twice.
    #[error("cannot read {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("line {line}: expected key=value, got {text:?}")]
    Syntax { line: usize, text: String },
    /// A file the server writes for its config (a container's zoo.cfg or
    /// myid) could not be written.
    #[error("cannot write {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A `ZOO_*` variable of the container conventions is off.
    #[error("{var}={value:?}: {reason}")]
    Env {
        var: String,
        value: String,
        reason: String,
    },
    /// A key the server cannot run without.
    #[error("{key} is not set: {hint}")]
    Missing {
        key: &'static str,
        hint: &'static str,
    },
    #[error("invalid value {value:?} for {key}: {reason}")]
    Value {
        key: String,
        value: String,
        reason: String,
    },
}

/// Which four-letter words the client port answers (`4lw.commands.whitelist`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whitelist {
    All,
    Only(BTreeSet<String>),
}

impl Whitelist {
    pub fn allows(&self, cmd: &str) -> bool {
        match self {
            Whitelist::All => true,
            Whitelist::Only(set) => set.contains(cmd),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub tick_ms: u32,
    pub init_limit: u32,
    pub sync_limit: u32,
    pub data_dir: PathBuf,
    pub data_log_dir: PathBuf,
    /// No storage at all (`inMemory=true`, a key of ours): nothing survives
    /// a restart. For tests and trials; a zoo.cfg must otherwise name its
    /// `dataDir`, as ZooKeeper insists.
    pub in_memory: bool,
    /// `preAllocSize` (in KiB in the file): how far the log file grows
    /// ahead of the writes.
    pub prealloc_bytes: u64,
    /// `snapCount`: txns between snapshots (randomized by half).
    pub snap_count: u64,
    /// `autopurge.snapRetainCount` (at least 3).
    pub snap_retain_count: usize,
    /// `autopurge.purgeInterval` in hours; 0 disables autopurge.
    pub purge_interval_hours: u64,
    pub client_port: u16,
    pub client_port_address: Option<IpAddr>,
    /// Connections per client IP; 0 means no limit.
    pub max_client_cnxns: u32,
    /// `maxCnxns`: connections in all (0: no limit).
    pub max_cnxns: u32,
    /// `nio.sessionlessCnxnTimeout`: how long a new connection may take for
    /// its TLS handshake, and again for its ConnectRequest.
    pub sessionless_timeout_ms: u64,
    /// `globalOutstandingLimit`: requests read and not answered, over all
    /// connections, before the server stops reading (ZooKeeper's 1000).
    pub global_outstanding_limit: u32,
    pub min_session_timeout_ms: u32,
    pub max_session_timeout_ms: u32,
    pub four_letter_words: Whitelist,
    /// `jute.maxbuffer`: the largest frame the server reads.
    pub max_frame_bytes: usize,
    /// `maxResponseSize` (ours): the largest reply sent; larger ones are
    /// refused with MarshallingError.
    pub max_response_bytes: usize,
    /// `user:base64(sha1(user:password))` of the super user.
    pub super_digest: Option<String>,
    /// Hard quotas fail writes with QuotaExceeded (`enforceQuota`).
    pub enforce_quota: bool,
    /// TTL nodes are allowed (`extendedTypesEnabled`).
    pub extended_types: bool,
    /// How often empty containers and expired TTL nodes are reaped.
    pub container_check_ms: u64,
    /// `server.N` lines: with any, the server runs in an ensemble.
    pub servers: BTreeMap<u64, String>,
    /// Committed txns a leader keeps in memory to sync learners by DIFF
    /// (`zookeeper.commitLogCount`); a learner further behind gets a SNAP.
    pub commit_log_count: usize,
    /// This server's id: the `myid` file in dataDir (read by `from_file`).
    pub myid: Option<u64>,
    /// `quorumListenOnAllIPs`: the peer and election ports listen on every
    /// address, not only the one in this server's `server.N` line.
    pub quorum_listen_all: bool,
    /// `electionPortBindRetry`: tries to bind the election port (a port
    /// still held by a stopping process frees up); 0 means forever.
    pub election_bind_retry: u32,
    /// `readonlymode.enabled`: cut off from the quorum, serve reads to
    /// clients that allow read-only sessions.
    pub read_only_mode: bool,
    /// `standaloneEnabled` (default true): a config with a single
    /// `server.N` line runs standalone, as ZooKeeper 3.5+ does.
    pub standalone_enabled: bool,
    /// Whether `clientPort` was set; if not, the client port comes from
    /// this server's `server.N=...;clientPort` line when it has one.
    pub client_port_set: bool,
    /// TLS on the client port and between members.
    pub tls: TlsConfig,
    /// SASL for clients: the users, super users, enforcement.
    pub sasl: SaslConfig,
    /// SASL between members.
    pub quorum_auth: QuorumAuthConfig,
    /// A request answered after this long is logged at warn with its
    /// connection's span (`requestWarnThresholdMs`, ours; 0 logs every one).
    pub slow_request_ms: u64,
    /// The AdminServer (`admin.*`).
    pub admin: AdminConfig,
    /// The Prometheus endpoint (`metricsProvider.*`).
    pub metrics: MetricsConfig,
    /// Where the config came from, for `conf` and `status`.
    pub source: Option<PathBuf>,
}

impl Default for Config {
    /// The embedded defaults: standalone on 2181 with data in `./zk-data`.
    fn default() -> Self {
        let tick_ms = 2000;
        Config {
            tick_ms,
            init_limit: 10,
            sync_limit: 5,
            data_dir: PathBuf::from("zk-data"),
            data_log_dir: PathBuf::from("zk-data"),
            in_memory: false,
            prealloc_bytes: 64 << 20,
            snap_count: 100_000,
            snap_retain_count: 3,
            purge_interval_hours: 0,
            client_port: 2181,
            client_port_address: None,
            max_client_cnxns: 60,
            max_cnxns: 0,
            global_outstanding_limit: 1000,
            sessionless_timeout_ms: 10_000,
            min_session_timeout_ms: 2 * tick_ms,
            max_session_timeout_ms: 20 * tick_ms,
            four_letter_words: Whitelist::Only(BTreeSet::from(["srvr".to_owned()])),
            max_frame_bytes: DEFAULT_MAX_FRAME,
            max_response_bytes: 16 << 20,
            super_digest: None,
            enforce_quota: false,
            extended_types: false,
            container_check_ms: 60_000,
            servers: BTreeMap::new(),
            myid: None,
            commit_log_count: 100_000,
            quorum_listen_all: false,
            election_bind_retry: 3,
            read_only_mode: false,
            standalone_enabled: true,
            client_port_set: false,
            tls: TlsConfig::default(),
            sasl: SaslConfig::default(),
            quorum_auth: QuorumAuthConfig::default(),
            slow_request_ms: 1000,
            admin: AdminConfig::default(),
            metrics: MetricsConfig::default(),
            source: None,
        }
    }
}

/// Keys ZooKeeper knows that the standalone server accepts without acting
/// on them (yet): no warning for these.
const ACCEPTED: &[&str] = &[
    "reconfigEnabled",
    "electionAlg",
    "peerType",
    "syncEnabled",
    "forceSync",
    "localSessionsEnabled",
    "localSessionsUpgradingEnabled",
    "dynamicConfigFile",
];

fn bad(key: &str, value: &str, reason: impl ToString) -> ConfigError {
    ConfigError::Value {
        key: key.to_owned(),
        value: value.to_owned(),
        reason: reason.to_string(),
    }
}

fn num<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e| bad(key, value, e))
}

fn boolean(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" => Ok(true),
        "false" | "no" => Ok(false),
        _ => Err(bad(key, value, "expected true or false")),
    }
}

impl Config {
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_owned(),
            error,
        })?;
        // What SERVER_JVMFLAGS/JVMFLAGS set as system properties applies
        // too, behind the file's own lines.
        let from_flags = jvm::lines_from_flags(&jvm::process_flags(), &text);
        if !from_flags.is_empty() {
            tracing::info!(settings = %from_flags.trim().replace('\n', " "), "settings from JVM flags");
        }
        let mut config = Config::parse(&format!("{text}\n{from_flags}"))?;
        config.source = Some(path.to_owned());
        if !config.servers.is_empty() {
            let myid = match read_myid(&config.data_dir) {
                // One server line and no myid: that line is this server.
                Err(_) if config.servers.len() == 1 && config.standalone_enabled => {
                    config.servers.keys().next().copied().unwrap_or(1)
                }
                found => found?,
            };
            config.myid = Some(myid);
        }
        config.resolve_membership()?;
        Ok(config)
    }

    /// What the `server.N` lines mean for this server (its id known): the
    /// client port of its own line when `clientPort` is not set, and
    /// standalone when it is the only server and `standaloneEnabled`.
    pub fn resolve_membership(&mut self) -> Result<(), ConfigError> {
        let Some(myid) = self.myid else {
            return Ok(());
        };
        let Some(line) = self.servers.get(&myid) else {
            return Ok(());
        };
        let own = crate::zab::ensemble::parse_peer(myid, line)?;
        if !self.client_port_set
            && let Some(port) = own.client_port
        {
            self.client_port = port;
            self.client_port_address = own.client_address;
            self.client_port_set = true;
        }
        if self.standalone_enabled && self.servers.len() == 1 && !own.observer {
            tracing::info!(
                server = format_args!("server.{myid}={line}"),
                "one server and standaloneEnabled: running standalone"
            );
            self.servers.clear();
        }
        Ok(())
    }

    /// Parses the text of a zoo.cfg.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        let (mut min_timeout, mut max_timeout) = (None, None);
        let mut data_log_dir = None;
        let mut data_dir_set = false;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(ConfigError::Syntax {
                    line: i + 1,
                    text: line.to_owned(),
                });
            };
            let (key, value) = (key.trim(), value.trim());
            match key {
                "tickTime" => c.tick_ms = num(key, value)?,
                "initLimit" => c.init_limit = num(key, value)?,
                "syncLimit" => c.sync_limit = num(key, value)?,
                "dataDir" => {
                    c.data_dir = PathBuf::from(value);
                    data_dir_set = true;
                }
                "snapCount" => c.snap_count = num(key, value)?,
                "autopurge.snapRetainCount" => c.snap_retain_count = num(key, value)?,
                "autopurge.purgeInterval" => c.purge_interval_hours = num(key, value)?,
                "preAllocSize" => c.prealloc_bytes = num::<u64>(key, value)?.saturating_mul(1024),
                "dataLogDir" => data_log_dir = Some(PathBuf::from(value)),
                "clientPort" => {
                    c.client_port = num(key, value)?;
                    c.client_port_set = true;
                }
                "clientPortAddress" => c.client_port_address = Some(num(key, value)?),
                "maxClientCnxns" => c.max_client_cnxns = num(key, value)?,
                "maxCnxns" | "zookeeper.maxCnxns" => c.max_cnxns = num(key, value)?,
                "nio.sessionlessCnxnTimeout" | "zookeeper.nio.sessionlessCnxnTimeout" => {
                    c.sessionless_timeout_ms = num(key, value)?;
                }
                "globalOutstandingLimit" | "zookeeper.globalOutstandingLimit" => {
                    c.global_outstanding_limit = num(key, value)?;
                }
                "minSessionTimeout" => min_timeout = Some(num::<i64>(key, value)?),
                "maxSessionTimeout" => max_timeout = Some(num::<i64>(key, value)?),
                "4lw.commands.whitelist" => c.four_letter_words = parse_whitelist(value),
                "jute.maxbuffer" => {
                    let n: usize = parse_int_maybe_hex(key, value)?;
                    if n < 1024 {
                        return Err(bad(key, value, "must be at least 1024"));
                    }
                    c.max_frame_bytes = n;
                }
                "maxResponseSize" | "zookeeper.maxResponseSize" => {
                    let n: usize = parse_int_maybe_hex(key, value)?;
                    if n < 1024 {
                        return Err(bad(key, value, "must be at least 1024"));
                    }
                    c.max_response_bytes = n;
                }
                "superDigest" | "DigestAuthenticationProvider.superDigest" => {
                    if value.split(':').count() != 2 {
                        return Err(bad(key, value, "expected user:base64(sha1(user:password))"));
                    }
                    c.super_digest = Some(value.to_owned());
                }
                "enforceQuota" => c.enforce_quota = boolean(key, value)?,
                "extendedTypesEnabled" => c.extended_types = boolean(key, value)?,
                "inMemory" => c.in_memory = boolean(key, value)?,
                "readonlymode.enabled" => c.read_only_mode = boolean(key, value)?,
                "standaloneEnabled" => c.standalone_enabled = boolean(key, value)?,
                "quorumListenOnAllIPs" => c.quorum_listen_all = boolean(key, value)?,
                "electionPortBindRetry" | "zookeeper.electionPortBindRetry" => {
                    c.election_bind_retry = num(key, value)?
                }
                "commitLogCount" | "zookeeper.commitLogCount" => {
                    c.commit_log_count = num(key, value)?
                }
                "znode.container.checkIntervalMs" => c.container_check_ms = num(key, value)?,
                "requestWarnThresholdMs" => c.slow_request_ms = num(key, value)?,
                k if k.starts_with("server.") => {
                    let id: u64 = num(key, &k["server.".len()..])?;
                    c.servers.insert(id, value.to_owned());
                }
                k if ACCEPTED.contains(&k) => {}
                k if c.tls.set(k, value)? => {}
                k if admin::set(&mut c.admin, &mut c.metrics, k, value)? => {}
                k if c.sasl.set(k, value)? => {}
                k if c.quorum_auth.set(k, value)? => {}
                _ => tracing::warn!(key, "unknown configuration key ignored"),
            }
        }
        if c.tick_ms == 0 {
            return Err(bad("tickTime", "0", "must be positive"));
        }
        c.tls.validate()?;
        c.sasl.finish()?;
        c.quorum_auth.validate()?;
        if !data_dir_set && !c.in_memory {
            return Err(ConfigError::Missing {
                key: "dataDir",
                hint: "name the directory for snapshots (and the log, without dataLogDir), \
                       or set inMemory=true to keep nothing on disk",
            });
        }
        c.data_log_dir = data_log_dir.unwrap_or_else(|| c.data_dir.clone());
        let resolve = |v: Option<i64>, default: u32| match v {
            None | Some(-1) => Ok(default),
            Some(n) => u32::try_from(n).map_err(|e| e.to_string()),
        };
        c.min_session_timeout_ms = resolve(min_timeout, 2 * c.tick_ms)
            .map_err(|e| bad("minSessionTimeout", &format!("{min_timeout:?}"), e))?;
        c.max_session_timeout_ms = resolve(max_timeout, 20 * c.tick_ms)
            .map_err(|e| bad("maxSessionTimeout", &format!("{max_timeout:?}"), e))?;
        if c.min_session_timeout_ms > c.max_session_timeout_ms {
            return Err(bad(
                "minSessionTimeout",
                &c.min_session_timeout_ms.to_string(),
                "must not be larger than maxSessionTimeout",
            ));
        }
        Ok(c)
    }

    pub fn log_options(&self) -> crate::persist::LogOptions {
        crate::persist::LogOptions {
            prealloc_bytes: self.prealloc_bytes,
            ..crate::persist::LogOptions::default()
        }
    }

    /// How long a connection may take to start its session.
    pub fn sessionless_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.sessionless_timeout_ms)
    }

    /// Whether the plain client port is served: always, unless the config
    /// names only a `secureClientPort` (ZooKeeper then serves TLS only).
    pub fn plain_client_port(&self) -> bool {
        self.client_port_set || self.tls.secure_client_port.is_none()
    }

    /// Clamps a requested session timeout into [min, max].
    pub fn negotiate_timeout(&self, requested_ms: i32) -> u32 {
        let requested = u32::try_from(requested_ms).unwrap_or(0);
        requested.clamp(self.min_session_timeout_ms, self.max_session_timeout_ms)
    }
}

/// `dataDir/myid`: the server's number in the `server.N` lines.
pub fn read_myid(data_dir: &Path) -> Result<u64, ConfigError> {
    let path = data_dir.join("myid");
    let text = std::fs::read_to_string(&path).map_err(|error| ConfigError::Read {
        path: path.clone(),
        error,
    })?;
    num("myid", text.trim())
}

fn parse_int_maybe_hex(key: &str, value: &str) -> Result<usize, ConfigError> {
    match value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
    {
        Some(hex) => usize::from_str_radix(hex, 16).map_err(|e| bad(key, value, e)),
        None => num(key, value),
    }
}

fn parse_whitelist(value: &str) -> Whitelist {
    let words: BTreeSet<String> = value
        .split(',')
        .map(|w| w.trim().to_owned())
        .filter(|w| !w.is_empty())
        .collect();
    if words.contains("*") {
        Whitelist::All
    } else {
        Whitelist::Only(words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_tick_time() {
        let c = Config::parse("tickTime=100\nclientPort=0\ninMemory=true\n# comment\n")
            .expect("parses");
        assert_eq!(c.min_session_timeout_ms, 200);
        assert_eq!(c.max_session_timeout_ms, 2000);
        assert_eq!(c.negotiate_timeout(30_000), 2000);
        assert_eq!(c.negotiate_timeout(1), 200);
        assert!(c.four_letter_words.allows("srvr"));
        assert!(!c.four_letter_words.allows("ruok"));
    }

    #[test]
    fn keys_are_read() {
        let c = Config::parse(
            "dataDir=/tmp/x\n4lw.commands.whitelist=ruok, stat\njute.maxbuffer=0x10000\n\
             server.1=127.0.0.1:2888:3888\nenforceQuota=true\nmaxClientCnxns=0\n",
        )
        .expect("parses");
        assert_eq!(c.data_log_dir, PathBuf::from("/tmp/x"));
        assert!(c.four_letter_words.allows("stat"));
        assert_eq!(c.max_frame_bytes, 0x10000);
        assert_eq!(
            c.servers.get(&1).map(String::as_str),
            Some("127.0.0.1:2888:3888")
        );
        assert!(c.enforce_quota);
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = Config::parse("clientPort=abc").expect_err("bad port");
        assert!(err.to_string().contains("clientPort"), "{err}");
        let err = Config::parse("inMemory=true\nminSessionTimeout=9000\nmaxSessionTimeout=100")
            .expect_err("min>max");
        assert!(err.to_string().contains("minSessionTimeout"), "{err}");
        assert!(Config::parse("novalue").is_err());
    }

    #[test]
    fn the_sample_config_is_valid() {
        let c = Config::parse(include_str!("../../../conf/zoo_sample.cfg")).expect("parses");
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/zookeeper"));
        assert_eq!((c.client_port, c.tick_ms), (2181, 2000));
        assert!(c.servers.is_empty());
    }

    #[test]
    fn data_dir_is_required_unless_in_memory() {
        let err = Config::parse("clientPort=2181\n").expect_err("no dataDir");
        assert!(err.to_string().starts_with("dataDir is not set"), "{err}");
        let c = Config::parse("inMemory=true\n").expect("explicitly in memory");
        assert!(c.in_memory);
        let c = Config::parse("dataDir=/var/lib/zk\n").expect("a dataDir");
        assert!(!c.in_memory);
        assert_eq!(c.data_log_dir, PathBuf::from("/var/lib/zk"));
    }
}
