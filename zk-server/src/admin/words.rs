//! The four-letter words, with ZooKeeper's output formats (tools and
//! clients parse them: zkServer.sh reads `Mode:` from `srvr`, kazoo's
//! `server_version()` reads `envi`).

use std::fmt::Write;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::{VERSION_BUILT, not_whitelisted};
use crate::request::Core;

/// Every word ZooKeeper 3.9 knows (`FourLetterCommands`).
pub const KNOWN: &[&str] = &[
    "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk", "srvr", "srst", "stat",
    "wchc", "wchp", "wchs", "mntr", "isro", "hash",
];

pub fn is_known(word: &[u8]) -> bool {
    KNOWN.iter().any(|w| w.as_bytes() == word)
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

impl Core {
    pub(crate) fn four_letter_word(&mut self, word: &str) -> String {
        if !self.config.four_letter_words.allows(word) {
            return not_whitelisted(word);
        }
        let mut out = String::new();
        match word {
            "ruok" => out.push_str("imok"),
            // After a storage failure the server serves reads only.
            "isro" => out.push_str(if self.write_failure.is_some() {
                "ro"
            } else {
                "rw"
            }),
            "srvr" => self.write_srvr(&mut out, false),
            "stat" => self.write_srvr(&mut out, true),
            "conf" => self.write_conf(&mut out),
            "cons" => {
                for id in self.sorted_conns() {
                    self.write_conn(&mut out, id, false);
                }
                out.push('\n');
            }
            "crst" => {
                for c in self.conns.values() {
                    c.stats.reset();
                }
                out.push_str("Connection stats reset.\n");
            }
            "srst" => {
                self.stats.reset();
                self.stats.metrics.reset_latencies();
                out.push_str("Server stats reset.\n");
            }
            "envi" => write_envi(&mut out),
            "mntr" => self.write_mntr(&mut out),
            "wchs" => {
                let _ = writeln!(
                    out,
                    "{} connections watching {} paths\nTotal watches:{}",
                    self.watches.watcher_count(),
                    self.watches.path_count(),
                    self.watches.count()
                );
            }
            "wchc" => {
                for (watcher, paths) in self.watches.by_watcher() {
                    let _ = writeln!(out, "0x{:x}", self.session_of(watcher));
                    for p in paths {
                        let _ = writeln!(out, "\t{p}");
                    }
                }
                out.push('\n');
            }
            "wchp" => {
                for (path, watchers) in self.watches.by_path() {
                    let _ = writeln!(out, "{path}");
                    for w in watchers {
                        let _ = writeln!(out, "\t0x{:x}", self.session_of(w));
                    }
                }
                out.push('\n');
            }
            "dump" => self.write_dump(&mut out),
            "dirs" => {
                let (data, log) = dir_sizes(&self.config);
                let _ = writeln!(out, "datadir_size: {data}");
                let _ = writeln!(out, "logdir_size: {log}");
            }
            "gtmk" => out.push_str("306\n"),
            "stmk" => out.push_str("306\n"),
            "hash" => {
                let _ = writeln!(
                    out,
                    "Digest in zxid 0x{:x}: not tracked",
                    self.tree.last_zxid()
                );
            }
            _ => return format!("Unknown command: {word}\n"),
        }
        out
    }

    fn session_of(&self, conn: u64) -> i64 {
        self.conns.get(&conn).map_or(0, |c| c.session_id)
    }

    fn sorted_conns(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.conns.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    fn write_srvr(&self, out: &mut String, with_clients: bool) {
        let _ = writeln!(out, "Zookeeper version: {VERSION_BUILT}");
        if with_clients {
            out.push_str("Clients:\n");
            for id in self.sorted_conns() {
                self.write_conn(out, id, true);
            }
            out.push('\n');
        }
        let s = &self.stats;
        let (min, avg, max) = s.latency();
        let _ = write!(
            out,
            "Latency min/avg/max: {min}/{avg}/{max}\nReceived: {}\nSent: {}\nConnections: {}\n\
             Outstanding: {}\nZxid: 0x{:x}\nMode: {}\nNode count: {}\n",
            s.received.load(Ordering::Relaxed),
            s.sent.load(Ordering::Relaxed),
            self.conns.len(),
            s.outstanding.load(Ordering::Relaxed).max(0),
            self.tree.last_zxid(),
            s.mode().name(),
            self.reported_node_count(),
        );
    }

    fn write_conn(&self, out: &mut String, id: u64, brief: bool) {
        let Some(c) = self.conns.get(&id) else {
            return;
        };
        let st = &c.stats;
        let _ = write!(
            out,
            " /{}[1](queued={},recved={},sent={}",
            c.peer,
            c.queue.len() + c.inflight_writes,
            st.received.load(Ordering::Relaxed),
            st.sent.load(Ordering::Relaxed)
        );
        if !brief && c.session_id != 0 {
            let (min, avg, max) = st.latency();
            let lop = st.last_op.lock().map(|op| *op).unwrap_or("NA");
            let _ = write!(
                out,
                ",sid=0x{:x},lop={lop},est={},to={}",
                c.session_id,
                st.established_ms.load(Ordering::Relaxed),
                c.timeout_ms
            );
            let lcxid = st.last_cxid.load(Ordering::Relaxed);
            if lcxid >= 0 {
                let _ = write!(out, ",lcxid=0x{lcxid:x}");
            }
            let _ = write!(
                out,
                ",lzxid=0x{:x},lresp={},llat={},minlat={min},avglat={avg},maxlat={max}",
                st.last_zxid.load(Ordering::Relaxed),
                st.last_response_ms.load(Ordering::Relaxed),
                st.last_latency_ms.load(Ordering::Relaxed),
            );
        }
        out.push_str(")\n");
    }

    fn write_conf(&self, out: &mut String) {
        let c = &self.config;
        let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
        let _ = write!(
            out,
            "clientPort={}\nsecureClientPort=-1\ndataDir={}\ndataDirSize={}\ndataLogDir={}\n\
             dataLogSize={}\ntickTime={}\nmaxClientCnxns={}\nminSessionTimeout={}\n\
             maxSessionTimeout={}\nclientPortListenBacklog=-1\nserverId=0\n",
            c.client_port,
            abs(&c.data_dir).display(),
            dir_size(&c.data_dir),
            abs(&c.data_log_dir).display(),
            dir_size(&c.data_log_dir),
            c.tick_ms,
            c.max_client_cnxns,
            c.min_session_timeout_ms,
            c.max_session_timeout_ms,
        );
    }

    /// ZooKeeper's `mntr`: every gauge, counter and summary as
    /// `zk_<name>\t<value>` lines.
    fn write_mntr(&self, out: &mut String) {
        for (k, v) in crate::metrics::flatten(&self.monitor_samples()) {
            let v = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            let _ = writeln!(out, "zk_{k}\t{v}");
        }
    }

    fn write_dump(&self, out: &mut String) {
        let _ = writeln!(out, "SessionTracker dump:");
        let _ = writeln!(
            out,
            "Session Sets ({})/({}):",
            self.sessions.len(),
            self.sessions.len()
        );
        for s in self.sessions.iter() {
            let _ = writeln!(
                out,
                "1 expire in {} ms:\n\t0x{:x}",
                s.expires_at
                    .saturating_duration_since(tokio::time::Instant::now())
                    .as_millis(),
                s.id
            );
        }
        let sessions: Vec<_> = self.tree.ephemeral_sessions().collect();
        let _ = writeln!(
            out,
            "ephemeral nodes dump:\nSessions with Ephemerals ({}):",
            sessions.len()
        );
        let mut sessions = sessions;
        sessions.sort_by_key(|(id, _)| **id);
        for (id, paths) in sessions {
            let _ = writeln!(out, "0x{id:x}:");
            for p in paths {
                let _ = writeln!(out, "\t{p}");
            }
        }
        let _ = writeln!(out, "Connections dump:");
    }
}

/// What ZooKeeper answers a word with while the server does not serve (it
/// looks for a leader): `ruok` still `imok` (the process is up), `isro`
/// `null`, `envi` the environment; the rest "not currently serving".
pub fn answer_not_serving(config: &crate::Config, word: &str) -> String {
    if !config.four_letter_words.allows(word) {
        return not_whitelisted(word);
    }
    match word {
        "ruok" => "imok".to_owned(),
        "isro" => "null".to_owned(),
        "envi" => {
            let mut out = String::new();
            write_envi(&mut out);
            out
        }
        _ => "This ZooKeeper instance is not currently serving requests\n".to_owned(),
    }
}

fn write_envi(out: &mut String) {
    out.push_str("Environment:\n");
    for (k, v) in environment() {
        let _ = writeln!(out, "{k}={v}");
    }
}

/// What `envi` and the admin server's `environment` report, in
/// ZooKeeper's order (the JVM's keys that do not apply left out).
pub fn environment() -> Vec<(String, String)> {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let os_version = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    [
        ("zookeeper.version", VERSION_BUILT.to_owned()),
        ("host.name", host.trim().to_owned()),
        ("os.name", std::env::consts::OS.to_owned()),
        ("os.arch", std::env::consts::ARCH.to_owned()),
        ("os.version", os_version.trim().to_owned()),
        ("user.name", var("USER")),
        ("user.home", var("HOME")),
        ("user.dir", cwd),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The bytes of the snapshots and of the txn logs (`dirs`): the files in
/// dataDir's and dataLogDir's `version-2`, as ZooKeeper counts them.
pub fn dir_sizes(config: &crate::Config) -> (u64, u64) {
    use crate::persist::version_dir;
    (
        dir_size(&version_dir(&config.data_dir)),
        dir_size(&version_dir(&config.data_log_dir)),
    )
}

pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

pub fn max_fds() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse().ok())
        })
        .unwrap_or(0)
}
