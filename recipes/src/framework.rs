//! A session that outlives expiry. A `zk_client::Client` is one session:
//! once it expires it stays expired, as ZooKeeper's own client does. The
//! recipes need more (a service instance re-registers, a leader candidate
//! rejoins), so the framework replaces an expired client with a new one and
//! tells whoever listens, like CuratorFramework does.

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use zk_client::{Client, ClientBuilder, SessionState};

use crate::error::Result;

/// The current session's client and its generation (1, 2, ... one per
/// session).
#[derive(Debug, Clone)]
pub struct Current {
    pub generation: u64,
    pub client: Client,
}

/// A client that is replaced when its session expires.
///
/// ```no_run
/// # async fn demo() -> Result<(), zk_recipes::Error> {
/// let fw = zk_recipes::Framework::connect(zk_client::Client::builder("127.0.0.1:2181")?).await?;
/// let client = fw.client();
/// client.sync("/").await?;
/// fw.close().await;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Framework {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    current: watch::Sender<Current>,
    stop: CancellationToken,
}

impl Framework {
    /// Connects the first session and starts watching it.
    pub async fn connect(builder: ClientBuilder) -> Result<Framework> {
        let client = builder.clone().connect().await?;
        let (current, _) = watch::channel(Current {
            generation: 1,
            client,
        });
        let fw = Framework {
            inner: Arc::new(Inner {
                current,
                stop: CancellationToken::new(),
            }),
        };
        tokio::spawn(supervise(
            builder,
            fw.inner.current.clone(),
            fw.inner.stop.clone(),
        ));
        Ok(fw)
    }

    /// Wraps an existing client; its expiry is final (no builder to make a
    /// new session with).
    pub fn from_client(client: Client) -> Framework {
        let (current, _) = watch::channel(Current {
            generation: 1,
            client,
        });
        Framework {
            inner: Arc::new(Inner {
                current,
                stop: CancellationToken::new(),
            }),
        }
    }

    /// The current session's client.
    pub fn client(&self) -> Client {
        self.inner.current.borrow().client.clone()
    }

    pub fn current(&self) -> Current {
        self.inner.current.borrow().clone()
    }

    /// Wakes when a new session replaces an expired one.
    pub fn sessions(&self) -> watch::Receiver<Current> {
        self.inner.current.subscribe()
    }

    /// Closes the current session and stops replacing it.
    pub async fn close(&self) {
        self.inner.stop.cancel();
        self.client().close().await;
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.inner.stop.is_cancelled()
    }
}

async fn supervise(
    builder: ClientBuilder,
    current: watch::Sender<Current>,
    stop: CancellationToken,
) {
    loop {
        let Current { generation, client } = current.borrow().clone();
        let mut states = client.state_watcher();
        let ended = async {
            loop {
                let s = *states.borrow_and_update();
                if s.is_terminal() {
                    return s;
                }
                if states.changed().await.is_err() {
                    return SessionState::Closed;
                }
            }
        };
        let state = tokio::select! {
            () = stop.cancelled() => return,
            s = ended => s,
        };
        if state != SessionState::Expired {
            return;
        }
        tracing::warn!(generation, "session expired; starting a new one");
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(5))
            .with_jitter()
            .without_max_times()
            .build();
        let client = loop {
            tokio::select! {
                () = stop.cancelled() => return,
                made = builder.clone().connect() => match made {
                    Ok(c) => break c,
                    Err(e) => {
                        tracing::warn!(error = %e, "new session failed; retrying");
                        let pause = backoff.next().unwrap_or(Duration::from_secs(1));
                        tokio::time::sleep(pause).await;
                    }
                },
            }
        };
        current.send_replace(Current {
            generation: generation + 1,
            client,
        });
    }
}
