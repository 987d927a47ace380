//! The admin server's commands that read the state task's data, with
//! ZooKeeper's JSON field names (`admin/Commands.java`): tools such as
//! ZooNavigator and Kubernetes probes parse them.

use std::sync::atomic::Ordering;

use serde_json::{Map, Value, json};

use super::VERSION_BUILT;
use crate::metrics::{self, Sample};
use crate::request::Core;

/// The commands answered by the state task.
pub const STATE_COMMANDS: &[&str] = &[
    "connections",
    "connection_stat_reset",
    "dump",
    "is_read_only",
    "monitor",
    "server_stats",
    "stat_reset",
    "stats",
    "watch_summary",
    "watches",
    "watches_by_path",
];

impl Core {
    /// Runs one of [`STATE_COMMANDS`]; the map holds the data keys only.
    pub(crate) fn admin_command(&mut self, name: &str) -> Map<String, Value> {
        let mut out = Map::new();
        match name {
            "connections" => {
                out.insert("connections".into(), self.connections_json(false));
                out.insert(
                    "secure_connections".into(),
                    self.secure_connections_json(false),
                );
            }
            "connection_stat_reset" => {
                for c in self.conns.values() {
                    c.stats.reset();
                }
            }
            "stat_reset" => {
                self.stats.reset();
                self.stats.metrics.reset_latencies();
            }
            "dump" => {
                let mut expiry: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
                let now = tokio::time::Instant::now();
                for s in self.sessions.iter() {
                    // ZooKeeper keys by the expiry time (ms), rounded to a tick.
                    let tick = u128::from(self.config.tick_ms.max(1));
                    let at = crate::now_ms() as u128
                        + s.expires_at.saturating_duration_since(now).as_millis();
                    expiry
                        .entry((at / tick * tick).to_string())
                        .or_default()
                        .push(s.id);
                }
                out.insert("expiry_time_to_session_ids".into(), json!(expiry));
                let ephemerals: Map<String, Value> = self
                    .tree
                    .ephemeral_sessions()
                    .map(|(id, paths)| (id.to_string(), json!(paths.iter().collect::<Vec<_>>())))
                    .collect();
                out.insert(
                    "session_id_to_ephemeral_paths".into(),
                    Value::Object(ephemerals),
                );
            }
            "is_read_only" => {
                out.insert("read_only".into(), self.is_read_only().into());
            }
            "monitor" => {
                for (k, v) in metrics::flatten(&self.monitor_samples()) {
                    out.insert(k, v);
                }
            }
            "server_stats" | "stats" => {
                self.server_stats_json(&mut out);
                if name == "stats" {
                    out.insert("connections".into(), self.connections_json(true));
                    out.insert(
                        "secure_connections".into(),
                        self.secure_connections_json(true),
                    );
                }
            }
            "watch_summary" => {
                out.insert(
                    "num_connections".into(),
                    self.watches.watcher_count().into(),
                );
                out.insert("num_paths".into(), self.watches.path_count().into());
                out.insert("num_total_watches".into(), self.watches.count().into());
            }
            "watches" => {
                let by_session: Map<String, Value> = self
                    .watches
                    .by_watcher()
                    .into_iter()
                    .map(|(w, paths)| {
                        (
                            self.session_of_conn(w).to_string(),
                            json!(paths.into_iter().collect::<Vec<_>>()),
                        )
                    })
                    .collect();
                out.insert(
                    "session_id_to_watched_paths".into(),
                    Value::Object(by_session),
                );
            }
            "watches_by_path" => {
                let by_path: Map<String, Value> = self
                    .watches
                    .by_path()
                    .into_iter()
                    .map(|(p, ws)| {
                        let ids: Vec<i64> =
                            ws.into_iter().map(|w| self.session_of_conn(w)).collect();
                        (p.to_owned(), json!(ids))
                    })
                    .collect();
                out.insert("path_to_session_ids".into(), Value::Object(by_path));
            }
            _ => {}
        }
        out
    }

    /// The node count as ZooKeeper reports it (`srvr`, `mntr`, the admin
    /// server): its tree holds the root under both "" and "/", so its
    /// count is one more than the znodes; tools compare against it.
    pub(crate) fn reported_node_count(&self) -> usize {
        self.tree.node_count() + 1
    }

    pub(crate) fn is_read_only(&self) -> bool {
        self.write_failure.is_some()
    }

    fn session_of_conn(&self, conn: u64) -> i64 {
        self.conns.get(&conn).map_or(0, |c| c.session_id)
    }

    /// What `mntr`, `monitor` and the Prometheus endpoint report: the
    /// state's gauges, then the counters and summaries.
    pub(crate) fn monitor_samples(&self) -> Vec<Sample> {
        use metrics::Value::{Gauge, Text};
        let s = &self.stats;
        let (min, avg, max) = s.latency();
        let mut out: Vec<Sample> = vec![
            ("version", Text(VERSION_BUILT.to_owned())),
            ("server_state", Text(s.mode().name().to_owned())),
            ("avg_latency", Gauge(avg)),
            ("max_latency", Gauge(max as f64)),
            ("min_latency", Gauge(min as f64)),
            (
                "packets_received",
                Gauge(s.received.load(Ordering::Relaxed) as f64),
            ),
            ("packets_sent", Gauge(s.sent.load(Ordering::Relaxed) as f64)),
            ("num_alive_connections", Gauge(self.conns.len() as f64)),
            (
                "outstanding_requests",
                Gauge(s.outstanding.load(Ordering::Relaxed).max(0) as f64),
            ),
            ("znode_count", Gauge(self.reported_node_count() as f64)),
            ("watch_count", Gauge(self.watches.count() as f64)),
            (
                "ephemerals_count",
                Gauge(self.tree.ephemeral_count() as f64),
            ),
            (
                "approximate_data_size",
                Gauge(self.tree.approximate_data_size() as f64),
            ),
            ("global_sessions", Gauge(self.sessions.len() as f64)),
            ("local_sessions", Gauge(0.0)),
            ("uptime", Gauge(s.started.elapsed().as_millis() as f64)),
            (
                "open_file_descriptor_count",
                Gauge(super::words::open_fds() as f64),
            ),
            (
                "max_file_descriptor_count",
                Gauge(super::words::max_fds() as f64),
            ),
        ];
        out.extend(s.role_samples());
        out.extend(s.metrics.samples());
        out
    }

    fn server_stats_json(&self, out: &mut Map<String, Value>) {
        let s = &self.stats;
        let (min, avg, max) = s.latency();
        let sizes = super::words::dir_sizes(&self.config);
        let buffers = json!({"last_buffer_size": -1, "min_buffer_size": -1, "max_buffer_size": -1});
        out.insert("version".into(), VERSION_BUILT.into());
        out.insert("read_only".into(), self.is_read_only().into());
        out.insert(
            "server_stats".into(),
            json!({
                "packets_sent": s.sent.load(Ordering::Relaxed),
                "packets_received": s.received.load(Ordering::Relaxed),
                "fsync_threshold_exceed_count": 0,
                "client_response_stats": buffers,
                "data_dir_size": sizes.0,
                "log_dir_size": sizes.1,
                "provider_null": false,
                "server_state": s.mode().name(),
                "last_processed_zxid": self.tree.last_zxid(),
                "outstanding_requests": s.outstanding.load(Ordering::Relaxed).max(0),
                "avg_latency": avg,
                "max_latency": max,
                "min_latency": min,
                "num_alive_client_connections": self.conns.len(),
                "auth_failed_count": s.metrics.auth_failed_count.load(Ordering::Relaxed),
                "non_mtlsremote_conn_count": 0,
                "non_mtlslocal_conn_count": 0,
                "uptime": s.started.elapsed().as_millis() as u64,
            }),
        );
        out.insert("client_response".into(), buffers);
        out.insert("node_count".into(), self.reported_node_count().into());
    }

    fn connections_json(&self, brief: bool) -> Value {
        self.conns_json(brief, false)
    }

    fn secure_connections_json(&self, brief: bool) -> Value {
        self.conns_json(brief, true)
    }

    /// ZooKeeper's `ServerCnxn.getConnectionInfo`: the brief form in
    /// `stats`, the whole one in `connections`.
    fn conns_json(&self, brief: bool, secure: bool) -> Value {
        let mut ids: Vec<u64> = self.conns.keys().copied().collect();
        ids.sort_unstable();
        let list = ids
            .into_iter()
            .filter_map(|id| self.conns.get(&id))
            .filter(|c| c.stats.secure == secure)
            .map(|c| {
                let st = &c.stats;
                let mut info = json!({
                    "remote_socket_address": c.peer.to_string(),
                    "interest_ops": 1,
                    "outstanding_requests": c.queue.len() + c.inflight_writes,
                    "packets_received": st.received.load(Ordering::Relaxed),
                    "packets_sent": st.sent.load(Ordering::Relaxed),
                });
                if !brief && c.session_id != 0 {
                    let (min, avg, max) = st.latency();
                    let last_op = st.last_op.lock().map(|op| *op).unwrap_or("NA");
                    let more = json!({
                        "session_id": c.session_id,
                        "last_operation": last_op,
                        "established": st.established_ms.load(Ordering::Relaxed),
                        "session_timeout": c.timeout_ms,
                        "last_cxid": st.last_cxid.load(Ordering::Relaxed),
                        "last_zxid": st.last_zxid.load(Ordering::Relaxed),
                        "last_response_time": st.last_response_ms.load(Ordering::Relaxed),
                        "last_latency": st.last_latency_ms.load(Ordering::Relaxed),
                        "min_latency": min,
                        "avg_latency": avg as u64,
                        "max_latency": max,
                    });
                    if let (Value::Object(info), Value::Object(more)) = (&mut info, more) {
                        info.extend(more);
                    }
                }
                info
            })
            .collect();
        Value::Array(list)
    }
}

impl Core {
    /// Whether `ids` may do everything on `/`: what ZooKeeper 3.9 asks of
    /// the admin commands that expose or change data.
    pub(crate) fn root_allows(&self, ids: &[zk_proto::data::Id]) -> bool {
        self.tree.get("/").is_some_and(|root| {
            crate::tree::acl::allowed(&root.acl, zk_proto::data::perms::ALL, ids)
        })
    }
}

impl Core {
    /// The web console's view of the node at `path` for a visitor with
    /// `ids`: its children, data and Stat where READ allows, its ACL
    /// where READ or ADMIN does (digests masked without ADMIN), as a
    /// client with those ids would be answered.
    pub(crate) fn browse(&self, path: &str, ids: &[zk_proto::data::Id]) -> Map<String, Value> {
        use zk_proto::data::perms;

        use crate::tree::acl;
        let mut out = Map::new();
        out.insert("path".into(), path.into());
        let Some(node) = self.tree.get(path) else {
            out.insert("error".into(), "NoNode".into());
            return out;
        };
        if acl::allowed(&node.acl, perms::READ | perms::ADMIN, ids) {
            let list = if acl::allowed(&node.acl, perms::ADMIN, ids) {
                node.acl.to_vec()
            } else {
                acl::mask_digests(&node.acl)
            };
            let acl: Vec<Value> = list
                .iter()
                .map(|a| json!({"scheme": a.id.scheme, "id": a.id.id, "perms": perms::letters(a.perms)}))
                .collect();
            out.insert("acl".into(), Value::Array(acl));
        }
        if !acl::allowed(&node.acl, perms::READ, ids) {
            out.insert("error".into(), "NoAuth".into());
            return out;
        }
        let s = node.stat();
        out.insert(
            "stat".into(),
            json!({
                "czxid": format!("0x{:x}", s.czxid), "mzxid": format!("0x{:x}", s.mzxid),
                "pzxid": format!("0x{:x}", s.pzxid), "ctime": s.ctime, "mtime": s.mtime,
                "version": s.version, "cversion": s.cversion, "aversion": s.aversion,
                "ephemeralOwner": format!("0x{:x}", s.ephemeral_owner),
                "dataLength": s.data_length, "numChildren": s.num_children,
            }),
        );
        use base64::Engine;
        // Base64, or null for a node created with null data.
        let data = node
            .data
            .as_ref()
            .map(|d| base64::engine::general_purpose::STANDARD.encode(d));
        out.insert("data".into(), data.into());
        let mut children: Vec<&String> = node.children.iter().collect();
        children.sort_unstable();
        // A parent with a million children is not listed whole.
        let total = children.len();
        children.truncate(1000);
        out.insert("children".into(), json!(children));
        out.insert("children_total".into(), total.into());
        out
    }
}
