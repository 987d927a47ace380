//! The TLS side of a port: the handshake, the client's certificate as an
//! `x509` id (ZooKeeper's `X509AuthenticationProvider`), and the key and
//! trust stores reloaded when their files change, without a restart.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use tokio_rustls::TlsAcceptor;
use zk_proto::data::Id;
use zk_tls::TlsError;

use super::transport::{Conn, ReadHalf, Stream, WriteHalf};
use crate::config::TlsSettings;

/// How often, at most, the store files are looked at for changes.
const RELOAD_CHECK: Duration = Duration::from_secs(1);

/// A file's modification time and length, or None if it cannot be read.
type Stamp = Option<(SystemTime, u64)>;

/// Accepts TLS connections with the current certificates.
#[derive(Debug)]
pub struct TlsServer {
    settings: TlsSettings,
    super_user: Option<String>,
    /// Held for a file check and a swap, never across an await.
    loaded: Mutex<Loaded>,
}

struct Loaded {
    acceptor: TlsAcceptor,
    stamps: Vec<Stamp>,
    checked: Instant,
}

/// By hand: the acceptor has no `Debug`.
impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("stamps", &self.stamps)
            .field("checked", &self.checked)
            .finish_non_exhaustive()
    }
}

impl TlsServer {
    /// Loads the stores now: a server with unusable keys does not start.
    pub fn new(settings: &TlsSettings, super_user: Option<String>) -> Result<TlsServer, TlsError> {
        let acceptor = build(settings)?;
        Ok(TlsServer {
            loaded: Mutex::new(Loaded {
                acceptor,
                stamps: stamps(settings),
                checked: Instant::now(),
            }),
            settings: settings.clone(),
            super_user,
        })
    }

    /// The acceptor for the next handshake; reloads first when a store's
    /// file changed. A store that fails to load (say, half written) keeps
    /// the old certificates in use, with a warning.
    fn acceptor(&self) -> Option<TlsAcceptor> {
        let mut loaded = self.loaded.lock().ok()?;
        if loaded.checked.elapsed() >= RELOAD_CHECK {
            loaded.checked = Instant::now();
            let now = stamps(&self.settings);
            if now != loaded.stamps {
                loaded.stamps = now;
                match build(&self.settings) {
                    Ok(acceptor) => {
                        loaded.acceptor = acceptor;
                        tracing::info!("TLS key or trust store changed: reloaded");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "TLS store changed but cannot be loaded; keeping the old one");
                    }
                }
            }
        }
        Some(loaded.acceptor.clone())
    }

    /// The handshake; the stream to serve and the ids its certificate
    /// proves (`x509:<subject>`, and `super:` for the super user).
    pub async fn accept(&self, stream: Stream) -> std::io::Result<(Stream, Vec<Id>)> {
        let acceptor = self
            .acceptor()
            .ok_or_else(|| std::io::Error::other("TLS state poisoned"))?;
        let tls = acceptor.accept(stream).await?;
        let ids = match tls.get_ref().1.peer_certificates().and_then(|c| c.first()) {
            Some(cert) => self.ids_of(cert),
            None => Vec::new(),
        };
        Ok((Box::new(tls), ids))
    }

    fn ids_of(&self, cert: &[u8]) -> Vec<Id> {
        match zk_tls::subject_dn(cert) {
            Ok(dn) => {
                let mut ids = Vec::with_capacity(2);
                if self.super_user.as_deref() == Some(dn.as_str()) {
                    ids.push(Id::new("super", ""));
                }
                ids.push(Id::new("x509", &dn));
                ids
            }
            Err(e) => {
                tracing::warn!(error = %e, "client certificate subject unreadable: no x509 id");
                Vec::new()
            }
        }
    }
}

fn build(settings: &TlsSettings) -> Result<TlsAcceptor, TlsError> {
    let key_store = settings
        .key_store
        .as_ref()
        .ok_or_else(|| TlsError::Unsupported("TLS without a key store".into()))?;
    let identity = zk_tls::load_identity(key_store)?;
    let trust = settings
        .trust_store
        .as_ref()
        .map(zk_tls::load_trust)
        .transpose()?;
    let config = zk_tls::server_config(
        &identity,
        trust.as_deref(),
        settings.client_auth,
        &settings.protocols,
    )?;
    Ok(TlsAcceptor::from(config))
}

fn stamps(settings: &TlsSettings) -> Vec<Stamp> {
    let files: Vec<&PathBuf> = [&settings.key_store, &settings.trust_store]
        .into_iter()
        .flatten()
        .map(|s| &s.location)
        .collect();
    files
        .into_iter()
        .map(|path| {
            let meta = std::fs::metadata(path).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        })
        .collect()
}

impl Conn for tokio_rustls::server::TlsStream<Stream> {
    fn split(self: Box<Self>) -> (ReadHalf, WriteHalf) {
        let (r, w) = tokio::io::split(*self);
        (Box::new(r), Box::new(w))
    }
}
