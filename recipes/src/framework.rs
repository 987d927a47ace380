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
    /// 1 for the first session, one more for each replacement.
    pub generation: u64,
    /// That session's client.
    pub client: Client,
}

/// A client that is replaced when its session expires.
///
/// Recipes take a `&Framework` and ask it for the current client at each
/// step, so they go on with the new session after an expiry. Clones share
/// the session. Expiry is the only trigger: a closed client or failed
/// authentication is final.
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use zk_client::{Client, CreateOptions, SessionState};
/// use zk_recipes::Framework;
///
/// let fw = Framework::connect(Client::builder(&servers)?).await?;
/// assert_eq!(fw.current().generation, 1);
/// let client = fw.client();
/// assert_eq!(client.state(), SessionState::Connected);
/// client.create("/app", b"", &CreateOptions::persistent()).await?;
///
/// fw.close().await;
/// assert_eq!(fw.client().state(), SessionState::Closed);
/// # Ok(()) });
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

    /// The current client with its generation, read together.
    pub fn current(&self) -> Current {
        self.inner.current.borrow().clone()
    }

    /// The current client and its generation, as a watch channel that wakes
    /// when a new session replaces an expired one (generation 2, 3, ...).
    ///
    /// ```
    /// # zk_testkit::doc::run(|servers| async move {
    /// use zk_client::Client;
    /// use zk_recipes::Framework;
    ///
    /// let fw = Framework::connect(Client::builder(&servers)?).await?;
    /// let sessions = fw.sessions();
    /// let now = sessions.borrow().clone();
    /// assert_eq!(now.generation, 1);
    /// assert_eq!(now.client.session().id, fw.client().session().id);
    /// # fw.close().await;
    /// # Ok(()) });
    /// ```
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
