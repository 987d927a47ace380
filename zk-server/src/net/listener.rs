use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::connection;
use super::ports::ClientPorts;
use crate::admin::ServerStats;
use crate::config::Config;
use crate::request::StateMsg;

/// What every connection task shares.
#[derive(Debug)]
pub struct NetCtx {
    pub config: Arc<Config>,
    pub state: mpsc::Sender<StateMsg>,
    pub stats: Arc<ServerStats>,
    pub shutdown: CancellationToken,
    /// Open connections per client address, for `maxClientCnxns`. A std
    /// Mutex: held for one map update, never across an await.
    per_ip: Mutex<HashMap<IpAddr, u32>>,
}

impl NetCtx {
    pub fn new(
        config: Arc<Config>,
        state: mpsc::Sender<StateMsg>,
        stats: Arc<ServerStats>,
        shutdown: CancellationToken,
    ) -> NetCtx {
        // The admin server asks the state task that serves now.
        stats.serving.set(state.clone());
        NetCtx {
            config,
            state,
            stats,
            shutdown,
            per_ip: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a connection slot for `ip`, or refuses past the cap.
    fn admit(&self, ip: IpAddr) -> bool {
        let cap = self.config.max_client_cnxns;
        let Ok(mut map) = self.per_ip.lock() else {
            return false;
        };
        let n = map.entry(ip).or_insert(0);
        if cap != 0 && *n >= cap {
            return false;
        }
        *n += 1;
        true
    }

    fn release(&self, ip: IpAddr) {
        if let Ok(mut map) = self.per_ip.lock()
            && let Some(n) = map.get_mut(&ip)
        {
            *n -= 1;
            if *n == 0 {
                map.remove(&ip);
            }
        }
    }
}

/// Accepts connections on the client ports until shutdown; each gets its
/// own task (the TLS handshake first, on the secure port), tracked so
/// shutdown can wait for them.
pub async fn run_listener(ports: ClientPorts, ctx: Arc<NetCtx>, tasks: TaskTracker) {
    let next_id = AtomicU64::new(1);
    loop {
        let accepted = tokio::select! {
            biased;
            () = ctx.shutdown.cancelled() => return,
            accepted = ports.accept() => accepted,
        };
        let accepted = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off briefly
                // instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let peer = accepted.peer;
        let max = ctx.config.max_cnxns;
        if max != 0 && ctx.stats.connections.load(Ordering::Relaxed) >= i64::from(max) {
            tracing::warn!(%peer, max, "maxCnxns reached; closing");
            crate::metrics::inc(&ctx.stats.metrics.connection_rejected);
            drop(accepted);
            continue;
        }
        let ip = peer.ip().to_canonical();
        if !ctx.admit(ip) {
            tracing::warn!(%ip, max = ctx.config.max_client_cnxns, "too many connections from this address; closing");
            crate::metrics::inc(&ctx.stats.metrics.connection_rejected);
            drop(accepted);
            continue;
        }
        // Counted here, not in the task: a burst of accepts cannot pass
        // maxCnxns before the tasks start.
        ctx.stats.connections.fetch_add(1, Ordering::Relaxed);
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let ctx = ctx.clone();
        let secure = accepted.is_tls();
        let span = tracing::info_span!(
            "conn",
            id,
            %peer,
            tls = secure,
            session = tracing::field::Empty
        );
        tasks.spawn(
            async move {
                match accepted.establish(ctx.config.sessionless_timeout()).await {
                    Ok((stream, auth)) => {
                        connection::serve(stream, peer, id, auth, secure, &ctx).await;
                    }
                    // A failed TLS handshake (no certificate, an unknown
                    // CA, a plain client on the TLS port) ends here.
                    Err(e) => {
                        crate::metrics::inc(&ctx.stats.metrics.auth_failed_count);
                        tracing::info!(error = %e, "TLS handshake failed; closing");
                    }
                }
                ctx.stats.connections.fetch_sub(1, Ordering::Relaxed);
                ctx.release(ip);
            }
            .instrument(span),
        );
    }
}
