//! One learner's connection on the leader (ZooKeeper's `LearnerHandler`):
//! discovery, then the sync the broadcast stage queues, then its acks and
//! forwarded requests. A writer task drains the learner's outbox.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::SplitStream;
use futures::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::broadcast::{Event, From, Joined};
use super::{Discovery, Running};
use crate::net::transport::{Listener, Stream};
use crate::persist::install::snapshot_bytes;
use crate::request::StateMsg;
use crate::zab::ensemble::Ensemble;
use crate::zab::link::{self, Frames};
use crate::zab::message::PeerMsg;

/// Messages queued for one learner; a learner this far behind is dropped.
const OUTBOX: usize = 200_000;

/// Most messages written before a flush.
const FLUSH_EVERY: usize = 1024;

const LEARNER: &str = "learner";

#[derive(Debug)]
pub(super) struct HandlerCtx {
    pub ensemble: Ensemble,
    pub discovery: mpsc::Sender<Discovery>,
    pub running: watch::Receiver<Option<Arc<Running>>>,
    pub init_timeout: Duration,
    pub sync_timeout: Duration,
    pub token: CancellationToken,
}

pub(super) async fn accept(listener: Box<dyn Listener>, ctx: Arc<HandlerCtx>, tasks: TaskTracker) {
    loop {
        let accepted = tokio::select! {
            biased;
            () = ctx.token.cancelled() => return,
            a = listener.accept() => a,
        };
        let Ok((stream, peer)) = accepted else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let ctx = ctx.clone();
        let inner = tasks.clone();
        // The learner's id joins the span once it says it (LearnerInfo).
        let span = tracing::info_span!("learner", %peer, sid = tracing::field::Empty);
        tasks.spawn(
            async move {
                if let Err(e) = handle(stream, &ctx, &inner).await {
                    tracing::info!(reason = %e, "learner connection ended");
                }
            }
            .instrument(span),
        );
    }
}

async fn handle(stream: Stream, ctx: &HandlerCtx, tasks: &TaskTracker) -> Result<(), String> {
    let mut frames = link::frames_of_unknown(stream);
    let PeerMsg::LearnerInfo {
        sid,
        accepted_epoch,
        last_zxid: _,
        observer,
    } = link::recv(&mut frames, ctx.init_timeout, LEARNER).await?
    else {
        return Err("expected LearnerInfo".into());
    };
    tracing::Span::current().record("sid", sid);
    match ctx.ensemble.peers.get(&sid) {
        Some(p) if p.observer == observer && sid != ctx.ensemble.myid => {}
        _ => return Err(format!("server {sid} is not a learner of this ensemble")),
    }
    let (reply, epoch) = oneshot::channel();
    let info = Discovery::Info {
        sid,
        accepted_epoch,
        reply,
    };
    ctx.discovery
        .send(info)
        .await
        .map_err(|_| "discovery over")?;
    let epoch = epoch.await.map_err(|_| "no new epoch")?;
    let info = PeerMsg::LeaderInfo { epoch };
    link::send(&mut frames, &info, ctx.init_timeout, LEARNER).await?;
    let PeerMsg::AckEpoch {
        current_epoch,
        last_zxid,
    } = link::recv(&mut frames, ctx.init_timeout, LEARNER).await?
    else {
        return Err("expected AckEpoch".into());
    };
    link::trust(&mut frames);
    let (reply, acked) = oneshot::channel();
    let ack = Discovery::AckEpoch {
        sid,
        current_epoch,
        last_zxid,
        reply,
    };
    ctx.discovery
        .send(ack)
        .await
        .map_err(|_| "discovery over")?;
    acked.await.map_err(|_| "epoch not established")?;
    let running = wait_running(ctx).await?;

    let (sink, stream) = frames.split();
    let (outbox, rx) = mpsc::channel(OUTBOX);
    tasks.spawn(write_outbox(sink, rx, ctx.token.clone(), ctx.sync_timeout));
    join(sid, observer, last_zxid, outbox, &running).await?;
    let result = serve(sid, stream, ctx, &running).await;
    let _ = running.events.send(Event::Gone { sid }).await;
    result
}

async fn wait_running(ctx: &HandlerCtx) -> Result<Arc<Running>, String> {
    let mut running = ctx.running.clone();
    let r = running
        .wait_for(Option::is_some)
        .await
        .map_err(|_| "leader stopped")?;
    r.clone().ok_or_else(|| "leader stopped".into())
}

/// Asks the broadcast stage to sync the learner; a SNAP first when its
/// history is too old for a DIFF.
async fn join(
    sid: u64,
    observer: bool,
    last_zxid: i64,
    outbox: mpsc::Sender<PeerMsg>,
    running: &Running,
) -> Result<(), String> {
    let ask = |from| {
        let (reply, rx) = oneshot::channel();
        let event = Event::Join {
            sid,
            observer,
            from,
            outbox: outbox.clone(),
            reply,
        };
        (event, rx)
    };
    let (event, rx) = ask(From::Zxid(last_zxid));
    running
        .events
        .send(event)
        .await
        .map_err(|_| "leader stopped")?;
    if rx.await.map_err(|_| "leader stopped")? == Joined::Synced {
        return Ok(());
    }
    let (reply, snap) = oneshot::channel();
    running
        .state
        .send(StateMsg::Snapshot { reply })
        .await
        .map_err(|_| "leader stopped")?;
    let snap = snap.await.map_err(|_| "leader stopped")?;
    let zxid = snap.zxid;
    let bytes = crate::persist::off_thread(running.inline_io, move || snapshot_bytes(&snap))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    tracing::info!(
        sid,
        zxid = format_args!("{zxid:#x}"),
        bytes = bytes.len(),
        "sending SNAP"
    );
    outbox
        .send(PeerMsg::Snap(bytes))
        .await
        .map_err(|_| "learner gone")?;
    let (event, rx) = ask(From::Snapshot(zxid));
    running
        .events
        .send(event)
        .await
        .map_err(|_| "leader stopped")?;
    match rx.await.map_err(|_| "leader stopped")? {
        Joined::Synced => Ok(()),
        Joined::NeedSnap => Err("history moved past the snapshot; learner retries".into()),
    }
}

/// Reads acks, pings and forwarded requests until the learner goes.
async fn serve(
    sid: u64,
    mut stream: SplitStream<Frames>,
    ctx: &HandlerCtx,
    running: &Running,
) -> Result<(), String> {
    loop {
        let next = tokio::select! {
            biased;
            () = ctx.token.cancelled() => return Ok(()),
            next = tokio::time::timeout(ctx.sync_timeout + ctx.init_timeout, stream.next()) => next,
        };
        let msg = match next {
            Err(_) => return Err("learner silent".into()),
            Ok(None) => return Err("learner closed the connection".into()),
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(Some(Ok(bytes))) => PeerMsg::decode(bytes).map_err(|e| e.to_string())?,
        };
        let event = match msg {
            PeerMsg::Ack { zxid } => Event::Ack { sid, zxid },
            PeerMsg::AckNewLeader => Event::AckNewLeader { sid },
            PeerMsg::Ping => Event::Heard { sid },
            PeerMsg::Forward(forward) => {
                let remote = StateMsg::Remote { sid, forward };
                running
                    .state
                    .send(remote)
                    .await
                    .map_err(|_| "leader stopped")?;
                continue;
            }
            other => return Err(format!("unexpected message from a learner: {other:?}")),
        };
        running
            .events
            .send(event)
            .await
            .map_err(|_| "leader stopped")?;
    }
}

/// Drains a learner's outbox. A learner that stops reading for
/// `stall` (crashed, cut off: its TCP window stays full) ends the
/// connection, so this task never outlives the role waiting on it.
async fn write_outbox(
    mut sink: futures::stream::SplitSink<Frames, bytes::Bytes>,
    mut rx: mpsc::Receiver<PeerMsg>,
    token: CancellationToken,
    stall: Duration,
) {
    loop {
        let msg = tokio::select! {
            biased;
            () = token.cancelled() => return,
            msg = rx.recv() => match msg { Some(m) => m, None => return },
        };
        let batch = async {
            // Send what is queued, then flush once (batches proposals).
            sink.feed(msg.encode()).await?;
            for _ in 0..FLUSH_EVERY {
                let Ok(more) = rx.try_recv() else { break };
                sink.feed(more.encode()).await?;
            }
            sink.flush().await
        };
        let written = tokio::select! {
            biased;
            () = token.cancelled() => return,
            w = tokio::time::timeout(stall, batch) => w,
        };
        if !matches!(written, Ok(Ok(()))) {
            return;
        }
    }
}
