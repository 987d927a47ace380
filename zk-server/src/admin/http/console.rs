//! The web console at `/` on the admin port: static files built into the
//! binary (no build step, nothing fetched from elsewhere, so it works
//! offline) and two JSON endpoints of its own; the rest it reads from
//! `/commands/*`. Read-only.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Hub, auth};
use crate::request::StateMsg;
use crate::zab::ensemble::parse_peer;

const INDEX: &str = include_str!("console/index.html");
const SCRIPT: &str = include_str!("console/console.js");
const STYLE: &str = include_str!("console/console.css");

pub async fn index() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX).into_response()
}

pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

fn json_reply(status: StatusCode, value: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// `GET /console/api/node?path=P`: the node as the visitor may see it;
/// with `Authorization: digest user:password`, as that user.
pub async fn node(
    State(hub): State<std::sync::Arc<Hub>>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<super::listener::Peer>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = params
        .get("path")
        .cloned()
        .unwrap_or_else(|| "/".to_owned());
    if zk_proto::path::validate_path(&path, false).is_err() {
        return json_reply(
            StatusCode::BAD_REQUEST,
            json!({"path": path, "error": "BadArguments"}),
        );
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    // Without credentials: what an HTTPS client certificate proves, if any.
    let ids = match authorization {
        None => peer.ids,
        Some(_) => match auth::ids(authorization, hub.config.super_digest.as_deref()) {
            Ok(ids) => ids,
            Err(status) => return json_reply(status, json!({"path": path, "error": "AuthFailed"})),
        },
    };
    let Some(state) = hub.stats.serving.get() else {
        return json_reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"path": path, "error": "not serving"}),
        );
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    if state
        .send(StateMsg::Browse {
            path: path.clone(),
            ids,
            reply,
        })
        .await
        .is_err()
    {
        return json_reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"path": path, "error": "not serving"}),
        );
    }
    match answer.await {
        Ok(map) => json_reply(StatusCode::OK, Value::Object(map)),
        Err(_) => json_reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"path": path, "error": "not serving"}),
        ),
    }
}

/// `GET /console/api/members`: every member of the configuration with
/// the role and zxid it reports (`srvr` on its client port, which every
/// whitelist has), and how far its zxid is behind the newest.
pub async fn members(State(hub): State<std::sync::Arc<Hub>>) -> Response {
    let config = &hub.config;
    let mut rows = Vec::new();
    if config.servers.is_empty() {
        let own: SocketAddr = ([127, 0, 0, 1], config.client_port).into();
        rows.push(member_row(0, own.to_string(), None, Some(own)).await);
    } else {
        let asked = config
            .servers
            .iter()
            .filter_map(|(sid, line)| parse_peer(*sid, line).ok())
            .map(|p| {
                let client = p.client_port.map(|port| {
                    let host = p
                        .client_address
                        .filter(|ip| !ip.is_unspecified())
                        .map_or_else(|| p.host.clone(), |ip| ip.to_string());
                    format!("{host}:{port}")
                });
                let client = client.or_else(|| {
                    (config.myid == Some(p.sid))
                        .then(|| format!("127.0.0.1:{}", config.client_port))
                });
                let addr = client.as_deref().and_then(resolve);
                member_row(p.sid, p.peer_addr(), client, addr)
            });
        rows = futures::future::join_all(asked).await;
    }
    let newest = rows
        .iter()
        .filter_map(|r| r["zxid_value"].as_i64())
        .max()
        .unwrap_or(0);
    for row in &mut rows {
        if let Some(z) = row["zxid_value"].as_i64() {
            row["lag"] = (newest - z).into();
        }
        if let Some(obj) = row.as_object_mut() {
            obj.remove("zxid_value");
        }
    }
    json_reply(
        StatusCode::OK,
        json!({"myid": config.myid.unwrap_or(0), "members": rows}),
    )
}

fn resolve(hostport: &str) -> Option<SocketAddr> {
    std::net::ToSocketAddrs::to_socket_addrs(hostport)
        .ok()?
        .next()
}

async fn member_row(
    sid: u64,
    peer: String,
    client: Option<String>,
    addr: Option<SocketAddr>,
) -> Value {
    let mut row = json!({"sid": sid, "peer": peer, "client": client, "mode": "unknown"});
    let Some(addr) = addr else {
        row["mode"] = "unknown (no client port in its server line)".into();
        return row;
    };
    match srvr(addr).await {
        Some(text) => {
            for line in text.lines() {
                if let Some(mode) = line.strip_prefix("Mode: ") {
                    row["mode"] = mode.trim().into();
                }
                if let Some(z) = line.strip_prefix("Zxid: ") {
                    let z = z.trim();
                    row["zxid"] = z.into();
                    if let Ok(v) = i64::from_str_radix(z.trim_start_matches("0x"), 16) {
                        row["zxid_value"] = v.into();
                    }
                }
                if let Some(n) = line.strip_prefix("Connections: ") {
                    row["connections"] = n.trim().parse::<u64>().map_or(Value::Null, Value::from);
                }
            }
            if text.contains("not currently serving") {
                row["mode"] = "looking".into();
            }
        }
        None => row["mode"] = "down".into(),
    }
    row
}

/// `srvr` over the client port, within a second.
async fn srvr(addr: SocketAddr) -> Option<String> {
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        stream.write_all(b"srvr").await.ok()?;
        let mut out = Vec::new();
        stream.take(64 << 10).read_to_end(&mut out).await.ok()?;
        Some(String::from_utf8_lossy(&out).into_owned())
    };
    tokio::time::timeout(Duration::from_secs(1), ask)
        .await
        .ok()
        .flatten()
}
