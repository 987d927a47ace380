//! One ensemble member's life: load the state from disk, look for a
//! leader, play the role decided, and when the role ends (leader lost,
//! quorum lost, a peer error) start over. Clients are served only inside a
//! role; while looking, connections are closed at once so clients move on
//! to another server.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::election::{Election, PeerState, Vote};
use super::ensemble::Ensemble;
use super::epoch;
use crate::admin::{Mode, ServerStats};
use crate::config::Config;
use crate::log::LogEvent;
use crate::net::quorum::{QuorumNet, QuorumSecurity};
use crate::net::transport::{Listener, Network};
use crate::net::{Accepted, ClientPorts, NetCtx, run_listener};
use crate::persist::{RecoverOptions, Recovered, Snapshotter, Storage, recover_with, version_dir};
use crate::request::{Core, Downstream, StateMsg};
use crate::tree::DataTree;

/// Requests queued for the state task before connections wait.
const STATE_QUEUE: usize = 4096;

/// What a role runs with. The token and tracker are the role's own: when
/// the role ends, everything it started stops and is waited for.
#[derive(Debug, Clone)]
pub struct RoleCtx {
    pub config: Arc<Config>,
    pub ensemble: Ensemble,
    pub storage: Arc<dyn Storage>,
    pub stats: Arc<ServerStats>,
    pub net: Arc<dyn Network>,
    pub clients: ClientPorts,
    pub token: CancellationToken,
    pub tasks: TaskTracker,
    /// The last zxid this member's log holds durably, kept by the role's
    /// log stage: the next election can vote with it before the state is
    /// reloaded from disk.
    pub durable: Arc<AtomicI64>,
    /// The election service, told when the role establishes its epoch.
    pub election: Election,
}

impl RoleCtx {
    /// The role's log starts out holding `zxid`; returns the counter its
    /// log stage keeps up to date.
    pub fn durable_from(&self, zxid: i64) -> Arc<AtomicI64> {
        self.durable.store(zxid, Ordering::Release);
        self.durable.clone()
    }

    pub fn tick(&self) -> Duration {
        Duration::from_millis(u64::from(self.config.tick_ms.max(1)))
    }

    /// `initLimit` ticks: how long connecting and syncing may take.
    pub fn init_timeout(&self) -> Duration {
        self.tick() * self.config.init_limit.max(1)
    }

    /// `syncLimit` ticks: how long a peer may be silent.
    pub fn sync_timeout(&self) -> Duration {
        self.tick() * self.config.sync_limit.max(1)
    }

    /// Starts the state task on `tree`; it runs until the role ends.
    pub fn start_core(
        &self,
        tree: DataTree,
        sessions: &BTreeMap<i64, u32>,
        downstream: Downstream,
        commits: mpsc::UnboundedReceiver<LogEvent>,
        epoch: Option<u32>,
    ) -> mpsc::Sender<StateMsg> {
        let snapshotter = Snapshotter::new(
            self.storage.clone(),
            version_dir(&self.config.data_dir),
            self.config.snap_count,
        );
        let mut core = Core::new(
            self.config.clone(),
            downstream,
            self.stats.clone(),
            tree,
            sessions,
            Some(snapshotter),
        );
        if let Some(epoch) = epoch {
            core.start_epoch(epoch);
        }
        let (state_tx, state_rx) = mpsc::channel(STATE_QUEUE);
        self.tasks
            .spawn(core.run(state_rx, commits, self.token.clone()));
        state_tx
    }

    /// A state task that serves reads only (read-only mode).
    fn start_read_only_core(
        &self,
        tree: DataTree,
        sessions: &BTreeMap<i64, u32>,
        log: mpsc::Sender<zk_proto::txn::Txn>,
        commits: mpsc::UnboundedReceiver<LogEvent>,
    ) -> mpsc::Sender<StateMsg> {
        let mut core = Core::new(
            self.config.clone(),
            Downstream::Log(log),
            self.stats.clone(),
            tree,
            sessions,
            None,
        );
        core.set_read_only();
        let (state_tx, state_rx) = mpsc::channel(STATE_QUEUE);
        self.tasks
            .spawn(core.run(state_rx, commits, self.token.clone()));
        state_tx
    }

    /// Serves clients from now until the role ends.
    pub fn serve_clients(&self, state: mpsc::Sender<StateMsg>, mode: Mode) {
        self.stats.set_mode(mode);
        let ctx = Arc::new(NetCtx::new(
            self.config.clone(),
            state,
            self.stats.clone(),
            self.token.clone(),
        ));
        self.tasks
            .spawn(run_listener(self.clients.clone(), ctx, self.tasks.clone()));
        tracing::info!(
            myid = self.ensemble.myid,
            mode = mode.name(),
            "serving clients"
        );
    }
}

/// `RoleCtx::durable` while a role rewrites the history (SNAP, TRUNC).
pub const DURABLE_UNKNOWN: i64 = i64::MIN;

/// What a server knows of its own history when it starts a round.
#[derive(Debug)]
pub struct Local {
    pub recovered: Recovered,
    pub current_epoch: u32,
    pub accepted_epoch: u32,
}

impl Local {
    pub fn last_zxid(&self) -> i64 {
        self.recovered.tree.last_zxid()
    }
}

fn load(config: &Config, storage: &Arc<dyn Storage>) -> Result<Local, String> {
    let opts = RecoverOptions {
        log: config.log_options(),
        upto: None,
        keep_tail: true,
    };
    let recovered = recover_with(
        storage.clone(),
        &config.data_dir,
        &config.data_log_dir,
        opts,
    )
    .map_err(|e| e.to_string())?;
    let read =
        |name| epoch::read(storage.as_ref(), &config.data_dir, name).map_err(|e| e.to_string());
    Ok(Local {
        recovered,
        current_epoch: read(epoch::CURRENT)?,
        accepted_epoch: read(epoch::ACCEPTED)?,
    })
}

/// Runs the member until `shutdown`; a state that cannot be read from
/// disk stops it (and cancels `shutdown`).
pub async fn run_node(base: RoleCtx) {
    let shutdown = base.token.clone();
    let election = base.election.clone();
    let mut known: Option<i64> = None;
    while !shutdown.is_cancelled() {
        base.stats.set_mode(Mode::Looking);
        // The state is reloaded while the election runs: after a role the
        // vote needs only the last durable zxid and the epoch, both known.
        let mut loading = start_load(&base);
        let mut local = None;
        let vote_from = match known.take() {
            Some(zxid) if !base.config.read_only_mode => {
                let current =
                    epoch::read(base.storage.as_ref(), &base.config.data_dir, epoch::CURRENT);
                current.ok().map(|e| (zxid, e))
            }
            _ => None,
        };
        let (zxid, peer_epoch) = match vote_from {
            Some(v) => v,
            None => match (&mut loading).await {
                Ok(l) => {
                    let v = (l.last_zxid(), l.current_epoch);
                    local = Some(l);
                    v
                }
                Err(e) => return stop(&shutdown, &e),
            },
        };
        // While looking: close client connections at once, or, with
        // `readonlymode.enabled`, serve reads from what is on disk.
        let looking = RoleCtx {
            token: shutdown.child_token(),
            tasks: TaskTracker::new(),
            ..base.clone()
        };
        let disk_state = local
            .as_ref()
            .map(|l: &Local| (l.recovered.tree.clone(), l.recovered.sessions.clone()));
        looking
            .tasks
            .spawn(while_looking(looking.clone(), disk_state));
        let me = base.ensemble.me();
        let own = Vote {
            leader: if me.observer { 0 } else { me.sid },
            zxid,
            peer_epoch,
        };
        base.stats.leader.store(-1, Ordering::Relaxed);
        crate::metrics::inc(&base.stats.metrics.looking_count);
        let election_started = tokio::time::Instant::now();
        let span = tracing::info_span!(
            "election",
            myid = me.sid,
            zxid = format_args!("{zxid:#x}"),
            peer_epoch
        );
        let decision = tokio::select! {
            biased;
            () = shutdown.cancelled() => return,
            d = election.elect(own).instrument(span.clone()) => d,
        };
        let took = election_started.elapsed();
        base.stats.metrics.election_time.record_duration(took);
        span.in_scope(|| match &decision {
            Some(d) => tracing::info!(
                leader = d.vote.leader,
                state = ?d.state,
                ms = took.as_millis() as u64,
                "election decided"
            ),
            None => tracing::info!("election stopped"),
        });
        looking.token.cancel();
        looking.tasks.close();
        looking.tasks.wait().await;
        let Some(decision) = decision else { return };
        let local = match local {
            Some(l) => l,
            None => match loading.await {
                Ok(l) => l,
                Err(e) => return stop(&shutdown, &e),
            },
        };
        // The vote must have carried exactly what the disk holds; if not,
        // this decision is void: look again with what the disk says.
        if local.last_zxid() != zxid {
            tracing::warn!(
                voted = format_args!("{zxid:#x}"),
                on_disk = format_args!("{:#x}", local.last_zxid()),
                "the vote did not match the log; electing again"
            );
            continue;
        }
        base.durable.store(zxid, Ordering::Release);
        base.stats.last_zxid.store(zxid, Ordering::Relaxed);
        base.stats
            .leader
            .store(decision.vote.leader as i64, Ordering::Relaxed);
        let role_started = tokio::time::Instant::now();
        let role = RoleCtx {
            token: shutdown.child_token(),
            tasks: TaskTracker::new(),
            ..base.clone()
        };
        // Everything the role logs carries who leads and what this member is.
        let span = tracing::info_span!(
            "role",
            myid = me.sid,
            state = ?decision.state,
            leader = decision.vote.leader
        );
        let result = async {
            match decision.state {
                PeerState::Leading => super::leader::lead(&role, local).await,
                PeerState::Following | PeerState::Observing => {
                    let leader = base.ensemble.peers.get(&decision.vote.leader).cloned();
                    match leader {
                        Some(leader) => super::learner::follow(&role, &leader, local).await,
                        None => Err(format!(
                            "elected leader {} is not in the ensemble",
                            decision.vote.leader
                        )),
                    }
                }
                PeerState::Looking => Ok(()),
            }
        }
        .instrument(span)
        .await;
        role.token.cancel();
        role.tasks.close();
        role.tasks.wait().await;
        // Every log write of the role is over: this is what the disk holds
        // (unless the role replaced the history and did not say where it ends).
        known = Some(base.durable.load(Ordering::Acquire)).filter(|z| *z != DURABLE_UNKNOWN);
        match result {
            Ok(()) => tracing::info!(myid = me.sid, "role ended"),
            Err(e) => tracing::warn!(myid = me.sid, reason = %e, "role ended; looking again"),
        }
        // A role that fails at once (a peer not up yet) would otherwise
        // spin; one that ran a while ends for a reason worth acting on now.
        if role_started.elapsed() < Duration::from_secs(1) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A server that has looked this long for a quorum starts serving reads
/// (ZooKeeper waits the same before its read-only server).
const READ_ONLY_AFTER: Duration = Duration::from_secs(2);

/// Reloads the state from disk: on a blocking thread, or at once for a
/// simulated storage.
fn start_load(base: &RoleCtx) -> Pin<Box<dyn Future<Output = Result<Local, String>> + Send>> {
    let (config, storage) = (base.config.clone(), base.storage.clone());
    if storage.simulated() {
        let loaded = load(&config, &storage);
        return Box::pin(async move { loaded });
    }
    let handle = tokio::task::spawn_blocking(move || load(&config, &storage));
    Box::pin(async move { handle.await.map_err(|e| e.to_string())? })
}

fn stop(shutdown: &CancellationToken, error: &str) {
    tracing::error!(error, "cannot read this server's data; stopping");
    shutdown.cancel();
}

async fn while_looking(ctx: RoleCtx, disk_state: Option<(DataTree, BTreeMap<i64, u32>)>) {
    if let (true, Some((tree, sessions))) = (ctx.config.read_only_mode, disk_state) {
        let wait = READ_ONLY_AFTER.max(ctx.tick());
        tokio::select! {
            biased;
            () = ctx.token.cancelled() => return,
            () = refuse_clients(ctx.clients.clone(), ctx.config.clone(), ctx.token.clone()) => return,
            () = tokio::time::sleep(wait) => {}
        }
        tracing::info!(
            myid = ctx.ensemble.myid,
            "no quorum: serving reads (read-only mode)"
        );
        // The state task stops with the round; nothing goes down its pipe.
        let (log_tx, _log_rx) = mpsc::channel(1);
        let (_commit_tx, commit_rx) = mpsc::unbounded_channel();
        let state = ctx.start_read_only_core(tree, &sessions, log_tx, commit_rx);
        ctx.serve_clients(state, Mode::ReadOnly);
        ctx.token.cancelled().await;
        return;
    }
    refuse_clients(ctx.clients.clone(), ctx.config.clone(), ctx.token.clone()).await;
}

/// Connections answered at once while looking, at most: past it, they are
/// closed unread (a flood cannot pile up tasks).
const LOOKING_ANSWERS_MAX: usize = 64;

/// While looking: accept and close, so clients try another server; a
/// four-letter word gets ZooKeeper's answer for a server that does not
/// serve (`ruok` is `imok`, `srvr` "not currently serving"), which is what
/// operators and probes ask then.
async fn refuse_clients(clients: ClientPorts, config: Arc<Config>, token: CancellationToken) {
    let mut answering = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = token.cancelled() => return,
            Some(_) = answering.join_next(), if !answering.is_empty() => {}
            accepted = clients.accept() => match accepted {
                Ok(accepted) if answering.len() < LOOKING_ANSWERS_MAX => {
                    answering.spawn(answer_word(accepted, config.clone()));
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
        }
    }
}

/// Reads a first four bytes (briefly, after TLS on the secure port);
/// answers them if they are a word.
async fn answer_word(accepted: Accepted, config: Arc<Config>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok((stream, _)) = accepted.establish(Duration::from_secs(1)).await else {
        return;
    };
    let (mut reader, mut writer) = stream.split();
    let mut word = [0u8; 4];
    let read = tokio::time::timeout(Duration::from_secs(1), reader.read_exact(&mut word)).await;
    if !matches!(read, Ok(Ok(_))) || !crate::admin::words::is_known(&word) {
        return;
    }
    let answer = crate::admin::words::answer_not_serving(&config, &String::from_utf8_lossy(&word));
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = writer.write_all(answer.as_bytes()).await;
        let _ = writer.shutdown().await;
    })
    .await;
}

/// Says so when anyone who can reach the quorum ports could join: they
/// listen beyond loopback and members do not authenticate each other.
fn warn_if_open(config: &Config, ensemble: &Ensemble) {
    let host = &ensemble.me().host;
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if config.quorum_listen_all || !loopback {
        tracing::warn!(
            host,
            "the election and peer ports take any process that reaches them: \
             set sslQuorum=true with ssl.quorum.keyStore.location/trustStore.location, \
             or quorum.auth.enableSasl=true with quorum.auth.serverRequireSasl=true \
             and quorum.auth.learnerRequireSasl=true (JAAS QuorumServer/QuorumLearner)"
        );
    }
}

/// Binds the election port, retrying `electionPortBindRetry` times a
/// second apart (0: forever), as a restarted member's old port may still
/// be held for a moment.
async fn bind_election(
    config: &Config,
    ensemble: &Ensemble,
    net: &dyn Network,
) -> std::io::Result<Box<dyn Listener>> {
    let me = ensemble.me();
    let addr = me.listen_addr(me.election_port, config.quorum_listen_all);
    let mut tries = 0u32;
    loop {
        match net.bind(addr.clone()).await {
            Ok(l) => return Ok(l),
            Err(e) => {
                tries += 1;
                if config.election_bind_retry != 0 && tries >= config.election_bind_retry {
                    return Err(e);
                }
                tracing::warn!(%addr, error = %e, "cannot bind the election port; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Binds both ports and starts the member; the tasks run on `tasks`.
pub async fn start(
    config: Arc<Config>,
    storage: Arc<dyn Storage>,
    net: Arc<dyn Network>,
    stats: Arc<ServerStats>,
    clients: ClientPorts,
    shutdown: CancellationToken,
    tasks: &TaskTracker,
) -> std::io::Result<()> {
    let myid = config
        .myid
        .ok_or_else(|| std::io::Error::other("server.N lines need a myid file in dataDir"))?;
    let ensemble = Ensemble::new(myid, &config.servers).map_err(std::io::Error::other)?;
    stats
        .quorum_size
        .store(ensemble.voter_count() as u64, Ordering::Relaxed);
    let hosts = ensemble.peers.values().map(|p| p.host.clone()).collect();
    let net: Arc<dyn Network> = match QuorumSecurity::from_config(&config, hosts)? {
        Some(security) => Arc::new(QuorumNet::new(net, security)),
        None => {
            warn_if_open(&config, &ensemble);
            net
        }
    };
    let election_listener = bind_election(&config, &ensemble, net.as_ref()).await?;
    let election = Election::start(
        ensemble.clone(),
        election_listener,
        net.clone(),
        shutdown.clone(),
        tasks,
    );
    let base = RoleCtx {
        config,
        ensemble,
        storage,
        stats,
        net,
        clients,
        token: shutdown,
        tasks: tasks.clone(),
        durable: Arc::new(AtomicI64::new(0)),
        election,
    };
    tasks.spawn(run_node(base));
    Ok(())
}
