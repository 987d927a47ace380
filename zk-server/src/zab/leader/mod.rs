//! The leader role: discovery (a new epoch above every follower's, acked
//! by a quorum), then the broadcast stage with the state task in front of
//! it; each learner has a handler task.

mod broadcast;
mod handler;
pub mod sync;

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use zk_proto::txn::Txn;

use super::epoch;
use super::node::{Local, RoleCtx};
use crate::admin::Mode;
use crate::log::{Timed, run_log_stage};
use crate::persist::FileTxnLog;
use crate::request::{Downstream, StateMsg};
use broadcast::{Broadcast, Wiring};

/// Txns queued for the broadcast stage before the state task waits.
const PROPOSAL_QUEUE: usize = 4096;

/// What the leader's state task sends down the pipeline, in one order.
#[derive(Debug)]
pub enum LeaderInput {
    Propose(Txn),
    /// A learner's `sync`: answer it after everything proposed so far.
    Sync {
        sid: u64,
    },
}

/// Handlers' part in discovery.
#[derive(Debug)]
enum Discovery {
    Info {
        sid: u64,
        accepted_epoch: u32,
        reply: oneshot::Sender<u32>,
    },
    AckEpoch {
        sid: u64,
        current_epoch: u32,
        last_zxid: i64,
        reply: oneshot::Sender<()>,
    },
}

/// What handlers need once the leader runs its pipeline.
#[derive(Debug)]
struct Running {
    events: mpsc::Sender<broadcast::Event>,
    state: mpsc::Sender<StateMsg>,
    /// Storage work inline (a simulation), see `persist::off_thread`.
    inline_io: bool,
}

/// Leads until the quorum is lost or the role is stopped.
pub async fn lead(ctx: &RoleCtx, local: Local) -> Result<(), String> {
    let me = ctx.ensemble.me();
    let addr = me.listen_addr(me.peer_port, ctx.config.quorum_listen_all);
    let listener = ctx
        .net
        .bind(addr.clone())
        .await
        .map_err(|e| format!("cannot listen for learners on {addr}: {e}"))?;
    let (disc_tx, mut disc_rx) = mpsc::channel(64);
    let (running_tx, running_rx) = watch::channel(None);
    let hctx = Arc::new(handler::HandlerCtx {
        ensemble: ctx.ensemble.clone(),
        discovery: disc_tx,
        running: running_rx,
        init_timeout: ctx.init_timeout(),
        sync_timeout: ctx.sync_timeout(),
        token: ctx.token.clone(),
    });
    ctx.tasks
        .spawn(handler::accept(listener, hctx, ctx.tasks.clone()));

    let history = (local.accepted_epoch, local.current_epoch, local.last_zxid());
    let epoch = discover(ctx, history, &mut disc_rx).await?;
    tracing::info!(myid = me.sid, epoch, "leading: new epoch acked by a quorum");

    let recovered = local.recovered;
    let (log_tx, log_rx) = mpsc::channel(PROPOSAL_QUEUE);
    let (logged_tx, logged_rx) = mpsc::unbounded_channel();
    ctx.tasks.spawn(run_log_stage(
        Timed::new(
            FileTxnLog::with_progress(
                recovered.writer,
                ctx.durable_from(recovered.tree.last_zxid()),
            ),
            ctx.stats.clone(),
        ),
        log_rx,
        logged_tx,
    ));
    let (input_tx, input_rx) = mpsc::channel(PROPOSAL_QUEUE);
    let (events_tx, events_rx) = mpsc::channel(1024);
    let (commit_tx, commit_rx) = mpsc::unbounded_channel();
    let state = ctx.start_core(
        recovered.tree,
        &recovered.sessions,
        Downstream::Leader(input_tx),
        commit_rx,
        Some(epoch),
    );
    let (established_tx, established_rx) = oneshot::channel();
    let stage = Broadcast::new(
        ctx.ensemble.clone(),
        epoch,
        (
            recovered.tail,
            recovered.snapshot_zxid,
            ctx.config.commit_log_count,
        ),
        ctx.stats.clone(),
        ctx.tick(),
        ctx.config.init_limit,
        ctx.config.sync_limit,
        established_tx,
    );
    let wiring = Wiring {
        input: input_rx,
        events: events_rx,
        log: log_tx,
        logged: logged_rx,
        commits: commit_tx,
    };
    let (ended_tx, mut ended_rx) = oneshot::channel();
    let token = ctx.token.clone();
    ctx.tasks.spawn(async move {
        let _ = ended_tx.send(stage.run(wiring, token).await);
    });
    let _ = running_tx.send(Some(Arc::new(Running {
        events: events_tx,
        state: state.clone(),
        inline_io: ctx.storage.simulated(),
    })));
    // Learners that acked the epoch wait for `running`; later ones join
    // directly. Discovery messages still arriving are answered here.
    let serve = async {
        if established_rx.await.is_ok() {
            ctx.serve_clients(state, Mode::Leader);
            ctx.election.established(me.sid, epoch).await;
        }
        std::future::pending::<()>().await;
    };
    let answer_late = async {
        while let Some(msg) = disc_rx.recv().await {
            match msg {
                Discovery::Info { reply, .. } => {
                    let _ = reply.send(epoch);
                }
                Discovery::AckEpoch { reply, .. } => {
                    let _ = reply.send(());
                }
            }
        }
        std::future::pending::<()>().await;
    };
    tokio::select! {
        biased;
        () = ctx.token.cancelled() => Ok(()),
        ended = &mut ended_rx => ended.unwrap_or(Ok(())),
        () = serve => Ok(()),
        () = answer_late => Ok(()),
    }
}

/// Discovery: a quorum of voters report their accepted epochs; the new
/// epoch is above all of them; a quorum acks it, none with a later
/// history than the leader's (then this server should not lead).
async fn discover(
    ctx: &RoleCtx,
    (accepted_epoch, current_epoch, last_zxid): (u32, u32, i64),
    disc: &mut mpsc::Receiver<Discovery>,
) -> Result<u32, String> {
    let myid = ctx.ensemble.myid;
    let deadline = Instant::now() + ctx.init_timeout();
    let mut accepted: BTreeMap<u64, u32> = BTreeMap::from([(myid, accepted_epoch)]);
    let mut waiting_epoch = Vec::new();
    let mut acked: Vec<u64> = vec![myid];
    let mut waiting_ack = Vec::new();
    let mut epoch = None;
    loop {
        if epoch.is_none() && ctx.ensemble.is_quorum(accepted.keys()) {
            let e = accepted.values().max().copied().unwrap_or(0) + 1;
            epoch::write(
                ctx.storage.as_ref(),
                &ctx.config.data_dir,
                epoch::ACCEPTED,
                e,
            )
            .map_err(|e| format!("cannot record the accepted epoch: {e}"))?;
            for reply in waiting_epoch.drain(..) {
                let _ = oneshot::Sender::send(reply, e);
            }
            epoch = Some(e);
        }
        if let Some(e) = epoch
            && ctx.ensemble.is_quorum(&acked)
        {
            epoch::write(
                ctx.storage.as_ref(),
                &ctx.config.data_dir,
                epoch::CURRENT,
                e,
            )
            .map_err(|e| format!("cannot record the current epoch: {e}"))?;
            for reply in waiting_ack.drain(..) {
                let _ = oneshot::Sender::send(reply, ());
            }
            return Ok(e);
        }
        let msg = tokio::select! {
            biased;
            () = ctx.token.cancelled() => return Err("stopped".into()),
            () = tokio::time::sleep_until(deadline) => {
                return Err("no quorum of followers within initLimit".into());
            }
            msg = disc.recv() => msg.ok_or("discovery closed")?,
        };
        match msg {
            Discovery::Info {
                sid,
                accepted_epoch,
                reply,
            } => match epoch {
                Some(e) => {
                    let _ = reply.send(e);
                }
                None => {
                    accepted.insert(sid, accepted_epoch);
                    waiting_epoch.push(reply);
                }
            },
            Discovery::AckEpoch {
                sid,
                current_epoch: theirs_epoch,
                last_zxid: theirs_zxid,
                reply,
            } => {
                if (theirs_epoch, theirs_zxid) > (current_epoch, last_zxid) {
                    return Err(format!(
                        "follower {sid} has a later history ({theirs_epoch}, {theirs_zxid:#x}) than ours"
                    ));
                }
                acked.push(sid);
                waiting_ack.push(reply);
            }
        }
    }
}
