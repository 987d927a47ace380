use std::time::Duration;

/// What a recipe can fail with.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The ZooKeeper call failed (after the recipe's bounded retries).
    #[error(transparent)]
    Zk(#[from] zk_client::Error),
    /// The session that held the lock, lease or leadership expired: what it
    /// held is gone.
    #[error("the session ended; what it held is released")]
    SessionLost,
    /// A wait ran out of time. No recipe returns it today: the timed calls
    /// (`try_*`) answer `None` or `false` instead.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// A value could not be (de)serialized.
    #[error("serialization: {0}")]
    Serde(String),
    /// The recipe was used after close, its node vanished under it, or it
    /// was given an argument it cannot take (a name with a `/`).
    #[error("{0}")]
    State(&'static str),
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Serde(e.to_string())
    }
}

/// A recipe call's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
