//! Wiring of the standalone server: listener -> connections -> state task
//! -> log stage -> state task (ZooKeeper's `setupRequestProcessors`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::admin::ServerStats;
use crate::admin::http::Endpoints;
use crate::config::Config;
use crate::log::{MemLog, Timed, run_healing_log_stage, run_log_stage};
use crate::net::transport::{Network, TokioNet};
use crate::net::{ClientPorts, NetCtx, run_listener};
use crate::persist::{
    FileStorage, FileTxnLog, LogError, Snapshotter, Storage, check_writable, off_thread, recover,
    version_dir,
};
use crate::request::{Core, Downstream};
use crate::tree::DataTree;

/// Requests queued for the state task before connections wait.
const STATE_QUEUE: usize = 4096;
/// Txns queued for the log stage before the state task waits.
const LOG_QUEUE: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The data on disk cannot be read back: the server does not start
    /// rather than serve without acknowledged writes.
    #[error("recovery failed: {0}")]
    Recovery(LogError),
    /// Not `source`: the message carries the cause (see `ConfigError`).
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        addr: SocketAddr,
        error: std::io::Error,
    },
    /// `dataDir` or `dataLogDir` cannot be used; `error` names the path
    /// and the operation that failed.
    #[error("{key} {path} is not usable: {error}")]
    DataDir {
        key: &'static str,
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("cannot start the ensemble member: {0}")]
    Ensemble(std::io::Error),
    /// The TLS key or trust store cannot be used (the message names the
    /// file and why).
    #[error("TLS: {0}")]
    Tls(zk_tls::TlsError),
}

/// A running server. Dropping it does not stop it; call `shutdown`.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    secure_addr: Option<SocketAddr>,
    endpoints: Endpoints,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl Server {
    /// Binds the client port and starts every task, with data in files.
    pub async fn start(config: Config) -> Result<Server, ServerError> {
        Server::start_with_storage(config, Arc::new(FileStorage)).await
    }

    /// Like `start`, with the data files on `storage` (tests use an
    /// in-memory storage that can crash or fail).
    pub async fn start_with_storage(
        config: Config,
        storage: Arc<dyn Storage>,
    ) -> Result<Server, ServerError> {
        Server::start_with(config, storage, Arc::new(TokioNet)).await
    }

    /// Like `start_with_storage`, on `net` (the simulation passes its
    /// own; there the HTTP endpoints are left out, see
    /// [`Network::host_sockets`]).
    pub async fn start_with(
        mut config: Config,
        storage: Arc<dyn Storage>,
        net: Arc<dyn Network>,
    ) -> Result<Server, ServerError> {
        log_start(&config);
        if !config.in_memory {
            check_data_dirs(&storage, &config).await?;
        }
        let ports = ClientPorts::bind(&config, net.as_ref()).await?;
        // `conf` reports the ports clients connect to, also when 0 was asked.
        if let Some(plain) = ports.plain_addr() {
            config.client_port = plain.port();
        }
        let secure_addr = ports.secure_addr();
        if let Some(secure) = secure_addr {
            config.tls.secure_client_port = Some(secure.port());
        }
        let addr = ports
            .plain_addr()
            .or(secure_addr)
            .ok_or_else(|| ServerError::Ensemble(std::io::Error::other("no client port")))?;
        let config = Arc::new(config);
        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let stats = Arc::new(ServerStats::default());
        let endpoints = if net.host_sockets() {
            crate::admin::http::start(config.clone(), stats.clone(), &shutdown, &tasks).await?
        } else {
            Endpoints::default()
        };
        if !config.servers.is_empty() {
            crate::zab::node::start(config, storage, net, stats, ports, shutdown.clone(), &tasks)
                .await
                .map_err(ServerError::Ensemble)?;
            tasks.close();
            tracing::info!(%addr, "ensemble member started");
            return Ok(Server {
                addr,
                secure_addr,
                endpoints,
                shutdown,
                tasks,
            });
        }
        let (state_tx, state_rx) = mpsc::channel(STATE_QUEUE);
        let (log_tx, log_rx) = mpsc::channel(LOG_QUEUE);
        let (commit_tx, commit_rx) = mpsc::unbounded_channel();
        // One heal request at a time: the state task waits for the answer.
        let (heal_tx, heal_rx) = mpsc::channel(1);

        let (tree, sessions, snapshotter) = if config.in_memory {
            tracing::warn!("no dataDir: data is kept in memory only");
            tasks.spawn(run_log_stage(MemLog::default(), log_rx, commit_tx));
            (DataTree::new(), BTreeMap::new(), None)
        } else {
            let snapshot_storage = storage.clone();
            let (data_dir, log_dir, opts) = (
                config.data_dir.clone(),
                config.data_log_dir.clone(),
                config.log_options(),
            );
            let inline = storage.simulated();
            let recovered = off_thread(inline, move || recover(storage, &data_dir, &log_dir, opts))
                .await
                .map_err(|e| ServerError::Recovery(LogError::Io(e)))?
                .map_err(ServerError::Recovery)?;
            tasks.spawn(run_healing_log_stage(
                Timed::new(FileTxnLog::new(recovered.writer), stats.clone()),
                log_rx,
                commit_tx,
                heal_rx,
            ));
            let mut snapshotter = Snapshotter::new(
                snapshot_storage,
                version_dir(&config.data_dir),
                config.snap_count,
            );
            if recovered.replayed > 0 || recovered.snapshot_zxid == 0 {
                snapshotter.take_now(&recovered.tree, recovered.sessions.clone());
            }
            (recovered.tree, recovered.sessions, Some(snapshotter))
        };
        let mut core = Core::new(
            config.clone(),
            Downstream::Log(log_tx),
            stats.clone(),
            tree,
            &sessions,
            snapshotter,
        );
        core.heal_log_with(heal_tx);
        tasks.spawn(core.run(state_rx, commit_rx, shutdown.clone()));
        let ctx = Arc::new(NetCtx::new(config, state_tx, stats, shutdown.clone()));
        tasks.spawn(run_listener(ports, ctx, tasks.clone()));
        tasks.close();
        tracing::info!(%addr, secure = ?secure_addr, "serving clients (standalone)");
        Ok(Server {
            addr,
            secure_addr,
            endpoints,
            shutdown,
            tasks,
        })
    }

    /// The bound client address (with the real port when 0 was asked):
    /// the plain port's, or the TLS port's when only that is served.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The TLS client port's address, when `secureClientPort` is set.
    pub fn secure_addr(&self) -> Option<SocketAddr> {
        self.secure_addr
    }

    /// The admin server's address (`admin.serverPort`), when it runs.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.endpoints.admin
    }

    /// The Prometheus endpoint's address (`metricsProvider.httpPort`),
    /// when `metricsProvider.className` turned it on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.endpoints.metrics
    }

    /// Asks every task to stop and returns at once (for a `Drop` that
    /// cannot wait); [`Server::shutdown`] also waits for them.
    pub fn cancel(&self) {
        self.shutdown.cancel();
    }

    /// Stops accepting, closes every connection and waits for all tasks.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        self.tasks.wait().await;
    }

    /// Waits until the server stops by itself (a fatal error) or `token`
    /// is cancelled, then shuts down.
    pub async fn run_until(self, token: CancellationToken) {
        tokio::select! {
            () = token.cancelled() => {}
            () = self.shutdown.cancelled() => {}
        }
        self.shutdown().await;
    }
}

/// Fails, naming the directory, when dataDir or dataLogDir cannot take
/// files (missing permissions, a regular file in the way, a read-only or
/// full disk).
async fn check_data_dirs(storage: &Arc<dyn Storage>, config: &Config) -> Result<(), ServerError> {
    let mut dirs = vec![("dataDir", config.data_dir.clone())];
    if config.data_log_dir != config.data_dir {
        dirs.push(("dataLogDir", config.data_log_dir.clone()));
    }
    for (key, path) in dirs {
        let (probe_storage, probe_path) = (storage.clone(), path.clone());
        off_thread(storage.simulated(), move || {
            check_writable(probe_storage.as_ref(), &probe_path)
        })
        .await
        .and_then(|checked| checked)
        .map_err(|error| ServerError::DataDir { key, path, error })?;
    }
    Ok(())
}

/// One line an operator can check the set-up against: which config, which
/// directories, which ports.
fn log_start(config: &Config) {
    let source = config.source.as_ref().map_or_else(
        || "embedded defaults".to_owned(),
        |p| p.display().to_string(),
    );
    let (data_dir, data_log_dir) = if config.in_memory {
        ("(in memory)".to_owned(), "(in memory)".to_owned())
    } else {
        (
            config.data_dir.display().to_string(),
            config.data_log_dir.display().to_string(),
        )
    };
    let client = match config.client_port_address {
        Some(ip) => SocketAddr::new(ip, config.client_port).to_string(),
        None => format!("*:{}", config.client_port),
    };
    let role = match config.myid {
        Some(id) if !config.servers.is_empty() => {
            format!("member {id} of {}", config.servers.len())
        }
        _ => "standalone".to_owned(),
    };
    tracing::info!(
        version = crate::admin::VERSION,
        config = %source,
        data_dir = %data_dir,
        data_log_dir = %data_log_dir,
        client = %client,
        role = %role,
        "zk-server starting"
    );
}
