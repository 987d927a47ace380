//! The admin commands: names and aliases as ZooKeeper 3.9 registers them
//! (`admin/Commands.java`), each answering a JSON map with `command` and
//! `error` keys beside its data.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

use super::{Hub, auth};
use crate::admin::json::STATE_COMMANDS;
use crate::admin::{Mode, VERSION_BUILT, words};
use crate::metrics::{Sample, Value as Metric};
use crate::request::StateMsg;
use crate::zab::ensemble::parse_peer;

#[derive(Debug)]
pub struct Command {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// Needs `Authorization` whose ids have ALL on `/` (3.9's
    /// `AuthRequest(Perms.ALL, "/")`).
    pub auth: bool,
}

const fn cmd(name: &'static str, aliases: &'static [&'static str]) -> Command {
    Command {
        name,
        aliases,
        auth: false,
    }
}

/// Every command we serve. `restore` is not among them (see the README).
pub const COMMANDS: &[Command] = &[
    cmd("configuration", &["conf", "config"]),
    cmd("connection_stat_reset", &["crst"]),
    cmd("connections", &["cons"]),
    cmd("dirs", &[]),
    cmd("dump", &[]),
    cmd("environment", &["env", "envi"]),
    cmd("get_trace_mask", &["gtmk"]),
    cmd("hash", &[]),
    cmd("initial_configuration", &["icfg"]),
    cmd("is_read_only", &["isro"]),
    cmd("last_snapshot", &["lsnp"]),
    cmd("leader", &["lead"]),
    cmd("monitor", &["mntr"]),
    cmd("observer_connection_stat_reset", &["orst"]),
    cmd("observers", &["obsr"]),
    cmd("ruok", &[]),
    Command {
        name: "set_trace_mask",
        aliases: &["stmk"],
        auth: true,
    },
    cmd("server_stats", &["srvr"]),
    Command {
        name: "snapshot",
        aliases: &["snap"],
        auth: true,
    },
    cmd("stat_reset", &["srst"]),
    cmd("stats", &["stat"]),
    cmd("system_properties", &["sysp"]),
    cmd("voting_view", &[]),
    cmd("watch_summary", &["wchs"]),
    cmd("watches", &["wchc"]),
    cmd("watches_by_path", &["wchp"]),
    cmd("zabstate", &[]),
];

fn find(name: &str) -> Option<&'static Command> {
    COMMANDS
        .iter()
        .find(|c| c.name == name || c.aliases.contains(&name))
}

/// Runs command `name` (or an alias) for an HTTP request.
pub async fn run(
    hub: &Hub,
    name: &str,
    params: &HashMap<String, String>,
    authorization: Option<&str>,
    certificate_ids: &[zk_proto::data::Id],
) -> Response {
    let Some(command) = find(name) else {
        return reply(
            name,
            StatusCode::OK,
            Err(format!("Unknown command: {name}")),
        );
    };
    let name = command.name;
    if command.auth {
        let super_digest = hub.config.super_digest.as_deref();
        // An HTTPS client certificate is an identity too (x509), as in
        // ZooKeeper 3.9; an Authorization header, when sent, is the one.
        let ids = match auth::ids(authorization, super_digest) {
            Ok(ids) => ids,
            Err(_) if authorization.is_none() && !certificate_ids.is_empty() => {
                certificate_ids.to_vec()
            }
            Err(status) => return reply(name, status, Err(refusal(status))),
        };
        match ask(hub, |reply| StateMsg::RootAllows { ids, reply }).await {
            Some(true) => {}
            Some(false) => {
                let status = StatusCode::FORBIDDEN;
                return reply(name, status, Err(refusal(status)));
            }
            None => return reply(name, StatusCode::SERVICE_UNAVAILABLE, Err(not_serving())),
        }
    }
    if name == "snapshot" {
        return snapshot(hub, params).await;
    }
    let answer = if STATE_COMMANDS.contains(&name) {
        ask(hub, |reply| StateMsg::Admin { name, reply })
            .await
            .ok_or_else(not_serving)
    } else {
        local(hub, name, params)
    };
    reply(name, StatusCode::OK, answer)
}

fn refusal(status: StatusCode) -> String {
    if status == StatusCode::UNAUTHORIZED {
        "Auth info is missing".to_owned()
    } else {
        "Not authorized: the Authorization header's digest credentials need ALL on /".to_owned()
    }
}

fn not_serving() -> String {
    "This ZooKeeper instance is not currently serving requests".to_owned()
}

/// The JSON reply: the data, then `command` and `error`.
fn reply(name: &str, status: StatusCode, answer: Result<Map<String, Value>, String>) -> Response {
    let (mut map, error) = match answer {
        Ok(map) => (map, Value::Null),
        Err(e) => (Map::new(), Value::String(e)),
    };
    map.insert("command".into(), name.into());
    map.insert("error".into(), error);
    let body = serde_json::to_string_pretty(&Value::Object(map)).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Sends a message to the state task of the current role and waits for
/// its answer; `None` while no role serves.
async fn ask<T>(hub: &Hub, message: impl FnOnce(oneshot::Sender<T>) -> StateMsg) -> Option<T> {
    let state = hub.stats.serving.get()?;
    let (tx, rx) = oneshot::channel();
    state.send(message(tx)).await.ok()?;
    rx.await.ok()
}

/// What the Prometheus endpoint exports: the state's samples while a
/// role serves, else what is known without it.
pub async fn samples(hub: &Hub) -> Vec<Sample> {
    if let Some(samples) = ask(hub, |reply| StateMsg::Samples { reply }).await {
        return samples;
    }
    let s = &hub.stats;
    let mut out: Vec<Sample> = vec![
        (
            "uptime",
            Metric::Gauge(s.started.elapsed().as_millis() as f64),
        ),
        (
            "open_file_descriptor_count",
            Metric::Gauge(words::open_fds() as f64),
        ),
    ];
    out.extend(s.role_samples());
    out.extend(s.metrics.samples());
    out
}

/// The commands that need nothing from the state task.
fn local(
    hub: &Hub,
    name: &str,
    params: &HashMap<String, String>,
) -> Result<Map<String, Value>, String> {
    let config = &hub.config;
    let stats = &hub.stats;
    let mut out = Map::new();
    match name {
        "ruok" | "observer_connection_stat_reset" => {}
        "configuration" => configuration(config, &mut out),
        "dirs" => {
            let (data, log) = words::dir_sizes(config);
            out.insert("datadir_size".into(), data.into());
            out.insert("logdir_size".into(), log.into());
        }
        "environment" => {
            for (k, v) in words::environment() {
                out.insert(k, v.into());
            }
        }
        "system_properties" => {
            for (k, v) in system_properties() {
                out.insert(k, v.into());
            }
        }
        "get_trace_mask" => {
            out.insert(
                "tracemask".into(),
                stats.trace_mask.load(Ordering::Relaxed).into(),
            );
        }
        "set_trace_mask" => {
            let mask = params
                .get("traceMask")
                .and_then(|m| m.parse::<i64>().ok())
                .ok_or("setTraceMask requires long traceMask argument")?;
            stats.trace_mask.store(mask, Ordering::Relaxed);
            out.insert("tracemask".into(), mask.into());
        }
        // Standalone ZooKeeper answers an empty list too; we keep no
        // digest of the tree (see the README).
        "hash" => {
            out.insert("digests".into(), json!([]));
        }
        "initial_configuration" => {
            let text = config
                .source
                .as_ref()
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default();
            out.insert("initial_configuration".into(), text.into());
        }
        "last_snapshot" => {
            let (zxid, at) = last_snapshot(config).unwrap_or((0, 0));
            out.insert("zxid".into(), format!("{zxid:x}").into());
            out.insert("timestamp".into(), at.into());
        }
        "leader" => leader(hub, &mut out)?,
        "observers" => {
            out.insert(
                "synced_observers".into(),
                stats.synced_observers.load(Ordering::Relaxed).into(),
            );
            out.insert("observers".into(), json!([]));
        }
        "voting_view" => {
            let view: Map<String, Value> = config
                .servers
                .iter()
                .filter_map(|(sid, line)| parse_peer(*sid, line).ok())
                .filter(|p| !p.observer)
                .map(|p| (p.sid.to_string(), server_line(&p).into()))
                .collect();
            out.insert("current_config".into(), Value::Object(view));
        }
        "zabstate" => zabstate(hub, &mut out)?,
        _ => return Err(format!("Unknown command: {name}")),
    }
    Ok(out)
}

fn configuration(config: &crate::Config, out: &mut Map<String, Value>) {
    let abs = |p: &Path| {
        std::path::absolute(p)
            .unwrap_or_else(|_| p.to_owned())
            .join("version-2")
            .display()
            .to_string()
    };
    out.insert("client_port".into(), config.client_port.into());
    if let Some(secure) = config.tls.secure_client_port {
        out.insert("secure_client_port".into(), secure.into());
    }
    out.insert("data_dir".into(), abs(&config.data_dir).into());
    out.insert("data_log_dir".into(), abs(&config.data_log_dir).into());
    out.insert("tick_time".into(), config.tick_ms.into());
    out.insert("max_client_cnxns".into(), config.max_client_cnxns.into());
    out.insert(
        "min_session_timeout".into(),
        config.min_session_timeout_ms.into(),
    );
    out.insert(
        "max_session_timeout".into(),
        config.max_session_timeout_ms.into(),
    );
    out.insert("server_id".into(), config.myid.unwrap_or(0).into());
    out.insert("client_port_listen_backlog".into(), (-1).into());
    if !config.servers.is_empty() {
        out.insert("init_limit".into(), config.init_limit.into());
        out.insert("sync_limit".into(), config.sync_limit.into());
        out.insert("election_alg".into(), 3.into());
        let peers: Map<String, Value> = config
            .servers
            .iter()
            .filter_map(|(sid, line)| parse_peer(*sid, line).ok())
            .map(|p| (format!("server.{}", p.sid), server_line(&p).into()))
            .collect();
        out.insert("quorum_verifier".into(), Value::Object(peers));
    }
}

/// A member as ZooKeeper's `QuorumServer.toString` writes it.
fn server_line(p: &crate::zab::ensemble::Peer) -> String {
    let role = if p.observer {
        "observer"
    } else {
        "participant"
    };
    let mut line = format!("{}:{}:{}:{role}", p.host, p.peer_port, p.election_port);
    if let Some(port) = p.client_port {
        let ip = p
            .client_address
            .map_or_else(|| "0.0.0.0".to_owned(), |ip| ip.to_string());
        line.push_str(&format!(";{ip}:{port}"));
    }
    line
}

fn leader(hub: &Hub, out: &mut Map<String, Value>) -> Result<(), String> {
    let config = &hub.config;
    let leader = hub.stats.leader.load(Ordering::Relaxed);
    if config.servers.is_empty() || leader < 0 {
        return Err("server is not initialized".into());
    }
    let leader = leader as u64;
    out.insert("is_leader".into(), (config.myid == Some(leader)).into());
    out.insert("leader_id".into(), leader.into());
    let host = config
        .servers
        .get(&leader)
        .and_then(|line| parse_peer(leader, line).ok())
        .map(|p| p.host)
        .unwrap_or_default();
    out.insert("leader_ip".into(), host.into());
    Ok(())
}

fn zabstate(hub: &Hub, out: &mut Map<String, Value>) -> Result<(), String> {
    let config = &hub.config;
    let (Some(myid), false) = (config.myid, config.servers.is_empty()) else {
        // What ZooKeeper answers standalone.
        out.insert("voting".into(), false.into());
        out.insert("zabstate".into(), "".into());
        return Ok(());
    };
    let me = config
        .servers
        .get(&myid)
        .and_then(|line| parse_peer(myid, line).ok())
        .ok_or("server is not initialized")?;
    let mode = hub.stats.mode();
    let zxid = hub.stats.last_zxid.load(Ordering::Relaxed);
    out.insert("myid".into(), myid.into());
    out.insert("is_leader".into(), (mode == Mode::Leader).into());
    out.insert("quorum_address".into(), me.peer_addr().into());
    out.insert("election_address".into(), me.election_addr().into());
    let client = me.client_port.map(|port| {
        let ip = me
            .client_address
            .map_or_else(|| "0.0.0.0".to_owned(), |ip| ip.to_string());
        format!("{ip}:{port}")
    });
    out.insert("client_address".into(), client.into());
    out.insert("voting".into(), (!me.observer).into());
    out.insert("last_zxid".into(), format!("0x{zxid:x}").into());
    out.insert("zab_epoch".into(), (zxid >> 32).into());
    out.insert("zab_counter".into(), (zxid & 0xffff_ffff).into());
    let state = match mode {
        Mode::Looking => "ELECTION",
        Mode::Leader | Mode::Follower | Mode::Observer => "BROADCAST",
        Mode::Standalone | Mode::ReadOnly => "BROADCAST",
    };
    out.insert("zabstate".into(), state.into());
    Ok(())
}

/// The newest snapshot's zxid and its file's time (seconds), as
/// `last_snapshot` reports them.
fn last_snapshot(config: &crate::Config) -> Option<(i64, u64)> {
    let dir = crate::persist::version_dir(&config.data_dir);
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let zxid =
                crate::persist::snapshot::parse_snapshot_name(&e.file_name().to_string_lossy())?;
            let at = e.metadata().ok()?.modified().ok()?;
            let secs = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
            Some((zxid, secs))
        })
        .max()
}

/// What Java's system properties hold that applies to us: the platform,
/// the user, and the `-D` properties given in SERVER_JVMFLAGS/JVMFLAGS.
fn system_properties() -> Vec<(String, String)> {
    let mut props: Vec<(String, String)> = words::environment()
        .into_iter()
        .filter(|(k, _)| k.starts_with("os.") || k.starts_with("user."))
        .collect();
    props.push(("file.separator".into(), "/".into()));
    props.push(("line.separator".into(), "\n".into()));
    props.push(("path.separator".into(), ":".into()));
    props.push(("zookeeper.version".into(), VERSION_BUILT.into()));
    props.extend(crate::config::jvm::system_properties());
    props.sort();
    props.dedup_by(|a, b| a.0 == b.0);
    props
}

/// `snapshot`: the whole state in our snapshot format, with the zxid it
/// holds in the `last_zxid` header (as ZooKeeper's streamed snapshot).
async fn snapshot(hub: &Hub, params: &HashMap<String, String>) -> Response {
    if !hub.config.admin.snapshot_enabled {
        return reply(
            "snapshot",
            StatusCode::OK,
            Err("Snapshot command is disabled".into()),
        );
    }
    // ZooKeeper's `streaming` parameter; ours always streams.
    let _ = params;
    let Some(snap) = ask(hub, |reply| StateMsg::Snapshot { reply }).await else {
        return reply(
            "snapshot",
            StatusCode::SERVICE_UNAVAILABLE,
            Err(not_serving()),
        );
    };
    let zxid = snap.zxid;
    let bytes =
        tokio::task::spawn_blocking(move || crate::persist::install::snapshot_bytes(&snap)).await;
    match bytes {
        Ok(Ok(bytes)) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                (
                    header::HeaderName::from_static("last_zxid"),
                    format!("0x{zxid:x}"),
                ),
            ],
            bytes,
        )
            .into_response(),
        _ => reply(
            "snapshot",
            StatusCode::INTERNAL_SERVER_ERROR,
            Err("the snapshot could not be serialised".into()),
        ),
    }
}
