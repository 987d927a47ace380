use std::future::Future;

use tokio_util::sync::CancellationToken;

use super::Participant;
use crate::error::Result;
use crate::framework::Framework;
use crate::lock::{InterProcessMutex, LOCK_NAME};

/// Handed to the leader's future: cancelled when leadership is taken away
/// (the connection was lost or the selector is stopping). The future is
/// dropped then anyway; this lets it wind down cleanly if it checks.
#[derive(Debug, Clone)]
pub struct Leadership {
    /// Cancelled when the term ends early.
    pub lost: CancellationToken,
}

/// A leader selector (Curator's `LeaderSelector`): candidates queue on a
/// mutex (nodes `lock-`, carrying the participant id); the holder runs the
/// leader future; when it returns, leadership passes to the next one, and
/// with auto-requeue this candidate queues again.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use tokio_util::sync::CancellationToken;
/// use zk_client::Client;
/// use zk_recipes::{Framework, LeaderSelector};
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// let selector = LeaderSelector::new(&fw, "/election/jobs", "node-a");
/// let me = selector.clone();
/// let mut terms = 0;
/// selector
///     .run(
///         |_leadership| {
///             terms += 1;
///             let me = me.clone();
///             async move {
///                 // While the future runs, this candidate is the leader.
///                 let line = me.participants().await.expect("participants");
///                 assert_eq!(line[0].id, "node-a");
///                 assert!(line[0].is_leader);
///             }
///         },
///         CancellationToken::new(),
///     )
///     .await?;
/// // Without auto-requeue, `run` returns after one term.
/// assert_eq!(terms, 1);
/// assert!(selector.participants().await?.is_empty());
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct LeaderSelector {
    fw: Framework,
    dir: String,
    id: String,
    requeue: bool,
}

impl LeaderSelector {
    /// A candidate in the election at `path`; `participant_id` is stored in
    /// its lock node, for [`participants`](Self::participants).
    pub fn new(fw: &Framework, path: &str, participant_id: &str) -> LeaderSelector {
        LeaderSelector {
            fw: fw.clone(),
            dir: path.to_owned(),
            id: participant_id.to_owned(),
            requeue: false,
        }
    }

    /// Queue again after each term (default: lead once).
    pub fn auto_requeue(mut self, yes: bool) -> LeaderSelector {
        self.requeue = yes;
        self
    }

    /// Every candidate, leader first.
    pub async fn participants(&self) -> Result<Vec<Participant>> {
        super::participants(&self.fw.client(), &self.dir, LOCK_NAME).await
    }

    /// Waits for leadership and runs `lead` while leader, until `stop` is
    /// cancelled (or after one term without auto-requeue). The term ends
    /// when the future returns, or, dropping it, when the connection is
    /// lost or `stop` is cancelled.
    pub async fn run<F, Fut>(&self, mut lead: F, stop: CancellationToken) -> Result<()>
    where
        F: FnMut(Leadership) -> Fut,
        Fut: Future<Output = ()>,
    {
        loop {
            let mutex = InterProcessMutex::with_data(&self.fw, &self.dir, self.id.as_bytes());
            let guard = tokio::select! {
                () = stop.cancelled() => return Ok(()),
                g = mutex.acquire() => match g {
                    Ok(g) => g,
                    Err(e) if self.requeue && !self.fw.is_closed() => {
                        tracing::debug!(error = %e, "leader selector: queueing again");
                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        continue;
                    }
                    Err(e) => return Err(e),
                },
            };
            let client = self.fw.client();
            let mut states = client.state_watcher();
            let lost = CancellationToken::new();
            let term = lead(Leadership { lost: lost.clone() });
            tokio::pin!(term);
            let suspended = async {
                loop {
                    if !states.borrow_and_update().is_connected() {
                        return;
                    }
                    if states.changed().await.is_err() {
                        return;
                    }
                }
            };
            tokio::select! {
                () = &mut term => {}
                () = suspended => tracing::info!(id = %self.id, "connection lost: leadership taken away"),
                () = stop.cancelled() => {}
            }
            lost.cancel();
            let _ = guard.release().await;
            if !self.requeue || stop.is_cancelled() {
                return Ok(());
            }
        }
    }
}
