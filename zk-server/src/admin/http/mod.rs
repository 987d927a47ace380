//! The AdminServer (`/commands/*`, JSON, port 8080) and the Prometheus
//! endpoint (`/metrics`, port 7000), on axum: it is hyper with routing and
//! extractors, which these two small routers need, and hyper is already
//! in the build.

mod auth;
mod commands;
mod console;
mod listener;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::ServerStats;
use crate::config::Config;
use crate::server::ServerError;

pub use commands::COMMANDS;

/// What the HTTP handlers share.
#[derive(Debug)]
struct Hub {
    config: Arc<Config>,
    stats: Arc<ServerStats>,
}

/// The addresses the HTTP endpoints listen on (port 0 resolved).
#[derive(Debug, Default, Clone, Copy)]
pub struct Endpoints {
    pub admin: Option<SocketAddr>,
    pub metrics: Option<SocketAddr>,
}

/// Starts the admin server (unless `admin.enableServer=false`) and the
/// Prometheus endpoint (when `metricsProvider.className` names it). An
/// admin port that cannot be bound is logged and the server goes on, as
/// ZooKeeper's; a metrics port that cannot be bound stops the start, as
/// ZooKeeper's metrics provider does.
pub async fn start(
    config: Arc<Config>,
    stats: Arc<ServerStats>,
    shutdown: &CancellationToken,
    tasks: &TaskTracker,
) -> Result<Endpoints, ServerError> {
    let hub = Arc::new(Hub {
        config: config.clone(),
        stats,
    });
    let mut endpoints = Endpoints::default();
    let admin = &config.admin;
    if admin.enabled {
        let addr = SocketAddr::new(admin.address, admin.port);
        // Unusable TLS stores stop the start, as for the client port.
        let tls = listener::tls_for(&config).map_err(ServerError::Tls)?;
        match tokio::net::TcpListener::bind(addr).await {
            Ok(tcp) => {
                let listener = listener::start(
                    tcp,
                    tls,
                    admin.port_unification,
                    admin.idle_timeout,
                    shutdown.clone(),
                    tasks,
                )
                .map_err(|error| ServerError::Bind { addr, error })?;
                endpoints.admin = axum::serve::Listener::local_addr(&listener)
                    .ok()
                    .map(|p| p.addr);
                let url = admin.command_url.trim_end_matches('/').to_owned();
                let mut router = Router::new()
                    .route(&format!("{url}/{{name}}"), get(command).post(post_command))
                    .route(if url.is_empty() { "/" } else { &url }, get(list));
                if !url.is_empty() {
                    router = router
                        .route("/", get(console::index))
                        .route("/console.js", get(console::script))
                        .route("/console.css", get(console::style))
                        .route("/console/api/node", get(console::node))
                        .route("/console/api/members", get(console::members));
                }
                let router = router.with_state(hub.clone());
                tasks.spawn(serve(
                    listener,
                    router,
                    admin.idle_timeout,
                    shutdown.clone(),
                ));
                tracing::info!(addr = ?endpoints.admin, url = %admin.command_url, "admin server started");
            }
            Err(error) => {
                tracing::warn!(%addr, %error, "admin server not started (admin.serverPort in use?)");
            }
        }
    }
    let metrics = &config.metrics;
    if metrics.enabled {
        let addr = SocketAddr::new(metrics.host, metrics.port);
        let tcp = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|error| ServerError::Bind { addr, error })?;
        let listener = listener::start(
            tcp,
            None,
            false,
            admin.idle_timeout,
            shutdown.clone(),
            tasks,
        )
        .map_err(|error| ServerError::Bind { addr, error })?;
        endpoints.metrics = axum::serve::Listener::local_addr(&listener)
            .ok()
            .map(|p| p.addr);
        let router = Router::new()
            .route("/metrics", get(prometheus))
            .with_state(hub);
        tasks.spawn(serve(
            listener,
            router,
            admin.idle_timeout,
            shutdown.clone(),
        ));
        tracing::info!(addr = ?endpoints.metrics, "Prometheus metrics at /metrics");
    }
    Ok(endpoints)
}

async fn serve(
    listener: listener::AdminListener,
    router: Router,
    idle: Duration,
    shutdown: CancellationToken,
) {
    let service =
        with_request_timeout(router, idle).into_make_service_with_connect_info::<listener::Peer>();
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
    if let Err(error) = served {
        tracing::warn!(%error, "HTTP endpoint stopped");
    }
}

/// The router with requests that take longer than `idle` answered 503.
fn with_request_timeout(router: Router, idle: Duration) -> Router {
    router.layer(axum::middleware::from_fn(
        move |req, next: axum::middleware::Next| async move {
            match tokio::time::timeout(idle, next.run(req)).await {
                Ok(response) => response,
                Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
            }
        },
    ))
}

/// `GET /commands`: links to every command, as ZooKeeper's servlet lists them.
async fn list(State(hub): State<Arc<Hub>>) -> Html<String> {
    let url = hub.config.admin.command_url.trim_end_matches('/');
    let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let body: String = names
        .iter()
        .map(|n| format!("<a href=\"{url}/{n}\">{n}</a>\n<br/>\n"))
        .collect();
    Html(body)
}

async fn command(
    State(hub): State<Arc<Hub>>,
    ConnectInfo(peer): ConnectInfo<listener::Peer>,
    Path(name): Path<String>,
    Query(params): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    commands::run(&hub, &name, &params, authorization, &peer.ids).await
}

/// ZooKeeper 3.8 serves its commands to GET only.
async fn post_command() -> StatusCode {
    StatusCode::METHOD_NOT_ALLOWED
}

async fn prometheus(State(hub): State<Arc<Hub>>) -> Response {
    let samples = commands::samples(&hub).await;
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        crate::metrics::render(&samples),
    )
        .into_response()
}
