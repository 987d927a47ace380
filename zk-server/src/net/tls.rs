//! The TLS sides of the server's links: accepting (the client port, and
//! the quorum ports between members) and connecting (to other members).
//! An accepted client's certificate is its `x509` id (ZooKeeper's
//! `X509AuthenticationProvider`). Key and trust stores are reloaded when
//! their files change, without a restart.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use tokio_rustls::{TlsAcceptor, TlsConnector};
use zk_proto::data::Id;
use zk_tls::{CertificateDer, TlsError};

use super::transport::{Conn, ReadHalf, Stream, WriteHalf};
use crate::config::TlsSettings;

/// How often, at most, the store files are looked at for changes.
const RELOAD_CHECK: Duration = Duration::from_secs(1);

/// A file's modification time and length, or None if it cannot be read.
type Stamp = Option<(SystemTime, u64)>;

/// A TLS config built from the stores, rebuilt when their files change.
struct Reloading<T> {
    settings: TlsSettings,
    build: fn(&TlsSettings) -> Result<T, TlsError>,
    /// Held for a file check and a swap, never across an await.
    loaded: Mutex<(T, Vec<Stamp>, Instant)>,
}

/// By hand: rustls's acceptor and connector have no `Debug`.
impl<T> std::fmt::Debug for Reloading<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloading")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<T: Clone> Reloading<T> {
    /// Loads the stores now: unusable keys stop the start.
    fn new(
        settings: &TlsSettings,
        build: fn(&TlsSettings) -> Result<T, TlsError>,
    ) -> Result<Reloading<T>, TlsError> {
        let built = build(settings)?;
        Ok(Reloading {
            loaded: Mutex::new((built, stamps(settings), Instant::now())),
            settings: settings.clone(),
            build,
        })
    }

    /// The config for the next handshake; rebuilt first when a store's
    /// file changed. A store that fails to load (say, half written) keeps
    /// the old certificates in use, with a warning.
    fn current(&self) -> std::io::Result<T> {
        let mut loaded = self
            .loaded
            .lock()
            .map_err(|_| std::io::Error::other("TLS state poisoned"))?;
        let (built, known, checked) = &mut *loaded;
        if checked.elapsed() >= RELOAD_CHECK {
            *checked = Instant::now();
            let now = stamps(&self.settings);
            if now != *known {
                *known = now;
                match (self.build)(&self.settings) {
                    Ok(fresh) => {
                        *built = fresh;
                        tracing::info!("TLS key or trust store changed: reloaded");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "TLS store changed but cannot be loaded; keeping the old one");
                    }
                }
            }
        }
        Ok(built.clone())
    }
}

/// Accepts TLS connections with the current certificates.
#[derive(Debug)]
pub struct TlsServer {
    acceptor: Reloading<TlsAcceptor>,
    super_user: Option<String>,
}

impl TlsServer {
    /// `super_user`: the subject that gets super rights (client port).
    pub fn new(settings: &TlsSettings, super_user: Option<String>) -> Result<TlsServer, TlsError> {
        Ok(TlsServer {
            acceptor: Reloading::new(settings, build_acceptor)?,
            super_user,
        })
    }

    /// The handshake; the stream to serve and the peer's certificate, if
    /// it sent one.
    pub async fn accept(
        &self,
        stream: Stream,
    ) -> std::io::Result<(Stream, Option<CertificateDer<'static>>)> {
        let tls = self.acceptor.current()?.accept(stream).await?;
        let cert = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.clone().into_owned());
        Ok((Box::new(tls), cert))
    }

    /// The ids a client certificate proves: `x509:<subject>`, and `super:`
    /// for the super user.
    pub fn ids_of(&self, cert: &[u8]) -> Vec<Id> {
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

/// Connects to other members with TLS, presenting this member's
/// certificate.
#[derive(Debug)]
pub struct TlsClient {
    connector: Reloading<TlsConnector>,
}

impl TlsClient {
    pub fn new(settings: &TlsSettings) -> Result<TlsClient, TlsError> {
        Ok(TlsClient {
            connector: Reloading::new(settings, build_connector)?,
        })
    }

    /// The handshake with `host` (checked against its certificate when
    /// hostname verification is on).
    pub async fn connect(&self, host: &str, stream: Stream) -> std::io::Result<Stream> {
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(
            |e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{host}: {e}")),
        )?;
        let tls = self.connector.current()?.connect(name, stream).await?;
        Ok(Box::new(tls))
    }
}

fn identity(settings: &TlsSettings) -> Result<zk_tls::Identity, TlsError> {
    let key_store = settings
        .key_store
        .as_ref()
        .ok_or_else(|| TlsError::Unsupported("TLS without a key store".into()))?;
    zk_tls::load_identity(key_store)
}

fn trust(settings: &TlsSettings) -> Result<Option<Vec<zk_tls::CertificateDer<'static>>>, TlsError> {
    settings
        .trust_store
        .as_ref()
        .map(zk_tls::load_trust)
        .transpose()
}

fn build_acceptor(settings: &TlsSettings) -> Result<TlsAcceptor, TlsError> {
    let config = zk_tls::server_config(
        &identity(settings)?,
        trust(settings)?.as_deref(),
        settings.client_auth,
        &settings.protocols,
    )?;
    Ok(TlsAcceptor::from(config))
}

fn build_connector(settings: &TlsSettings) -> Result<TlsConnector, TlsError> {
    let trust = trust(settings)?
        .ok_or_else(|| TlsError::Unsupported("TLS to members without a trust store".into()))?;
    let config = zk_tls::client_config(
        &trust,
        Some(&identity(settings)?),
        settings.hostname_verification,
        &settings.protocols,
    )?;
    Ok(TlsConnector::from(config))
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

impl Conn for tokio_rustls::client::TlsStream<Stream> {
    fn split(self: Box<Self>) -> (ReadHalf, WriteHalf) {
        let (r, w) = tokio::io::split(*self);
        (Box::new(r), Box::new(w))
    }
}
