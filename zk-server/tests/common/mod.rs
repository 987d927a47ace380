//! A raw test client over real TCP, built on zk-proto: the handshake (with
//! or without the readOnly byte, new or resumed session), requests with
//! explicit xids, pipelining, watch events kept apart from replies, and raw
//! byte writes for malformed input.
//!
//! Every read has a deadline, so a server that stops answering fails the
//! test instead of hanging it.

#![allow(dead_code)]
mod client;
mod conn;

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;
use zk_proto::client::{
    CheckVersionRequest, CreateRequest, DeleteRequest, PathWatchRequest, Request, SetDataRequest,
};
use zk_proto::data::Acl;
use zk_server::{Config, Server};

pub use client::Client;
#[allow(unused_imports)]
pub use conn::{Conn, Event, Incoming, Reply, connect_request, parse_incoming};

/// How long any single wait may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Starts a server on a free port of 127.0.0.1. `extra` is zoo.cfg text
/// added after the test defaults (a small tickTime, and a session timeout
/// range wide enough that an idle test client does not expire).
pub async fn start(extra: &str) -> Server {
    start_raw(&format!(
        "tickTime=100\nmaxSessionTimeout=60000\n4lw.commands.whitelist=*\n{extra}"
    ))
    .await
}

/// Starts a server from exactly this zoo.cfg text (plus port and address;
/// in memory unless it names a dataDir).
pub async fn start_raw(cfg: &str) -> Server {
    let storage = if cfg.contains("dataDir=") {
        ""
    } else {
        "inMemory=true\n"
    };
    // The admin server on a free port: tests run side by side.
    let config = Config::parse(&format!(
        "admin.serverAddress=127.0.0.1\nadmin.serverPort=0\n{cfg}\nclientPort=0\nclientPortAddress=127.0.0.1\n{storage}"
    ))
    .expect("config parses");
    Server::start(config).await.expect("server starts")
}

/// Polls `check` until it returns true, failing the test after the deadline.
pub async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + DEADLINE;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
// ---- request builders ----

pub fn create_req(path: &str, data: &[u8], acl: Vec<Acl>, flags: i32) -> CreateRequest {
    CreateRequest {
        path: path.into(),
        data: Some(Bytes::copy_from_slice(data)),
        acl,
        flags,
    }
}

pub fn create_op(path: &str, data: &[u8], flags: i32) -> Request {
    Request::Create(create_req(path, data, Acl::open_unsafe(), flags))
}

pub fn watch_req(path: &str, watch: bool) -> PathWatchRequest {
    PathWatchRequest {
        path: path.into(),
        watch,
    }
}

pub fn set_data_req(path: &str, data: &[u8], version: i32) -> Request {
    Request::SetData(SetDataRequest {
        path: path.into(),
        data: Some(Bytes::copy_from_slice(data)),
        version,
    })
}

pub fn delete_op(path: &str, version: i32) -> Request {
    Request::Delete(DeleteRequest {
        path: path.into(),
        version,
    })
}

pub fn check_op(path: &str, version: i32) -> Request {
    Request::Check(CheckVersionRequest {
        path: path.into(),
        version,
    })
}

pub fn bytes(data: &[u8]) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(data))
}
