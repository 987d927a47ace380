//! Connect strings and client options.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::chroot::Chroot;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::sasl::SaslCredentials;
use crate::tls::ClientTls;

/// One `host:port` of a connect string. Names are resolved at every
/// connection attempt, so a server that moved (a Kubernetes pod) is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// A name or an IP address (IPv6 without the brackets).
    pub host: String,
    /// The client port (2181 when the connect string names none).
    pub port: u16,
}

/// Options for a client; finish with [`ClientBuilder::connect`].
///
/// ```
/// # zk_testkit::doc::run(|servers| async move {
/// use std::time::Duration;
/// use zk_client::{Client, CreateOptions};
///
/// // The chroot must exist: make it through a client without one.
/// let root = Client::connect(&servers).await?;
/// root.create("/app", b"", &CreateOptions::persistent()).await?;
///
/// // Several hosts, then the chroot (`servers` is one "host:port").
/// let client = Client::builder(&format!("{servers},{servers}/app"))?
///     .session_timeout(Duration::from_secs(10))
///     .auth("digest", b"user:secret")
///     .connect()
///     .await?;
/// let me = client.whoami().await?;
/// assert!(me.iter().any(|id| id.auth_scheme == "digest" && id.user == "user"));
/// // The server may grant another timeout than the one asked for.
/// assert!(client.session().timeout <= Duration::from_secs(10));
/// # Ok(()) });
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    pub(crate) hosts: Vec<HostPort>,
    pub(crate) chroot: Chroot,
    pub(crate) session_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_only: bool,
    pub(crate) auth: Vec<(String, Bytes)>,
    pub(crate) session: Option<(i64, Bytes)>,
    pub(crate) tls: Option<Arc<ClientTls>>,
    pub(crate) sasl: Option<SaslCredentials>,
}

impl ClientBuilder {
    /// Parses `host1:port1,host2:port2[/chroot]`; a host without a port
    /// uses 2181, IPv6 addresses go in brackets (`[::1]:2181`). A malformed
    /// string or chroot is `BadPath`; nothing is resolved or connected yet.
    pub fn new(connect_string: &str) -> Result<ClientBuilder> {
        let bad = |reason: &'static str| Error::BadPath {
            path: connect_string.to_owned(),
            reason,
        };
        let (hosts_part, chroot) = match connect_string.find('/') {
            Some(i) => (&connect_string[..i], &connect_string[i..]),
            None => (connect_string, ""),
        };
        let mut hosts = Vec::new();
        for item in hosts_part
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            hosts.push(parse_host(item).ok_or_else(|| bad("expected host:port"))?);
        }
        if hosts.is_empty() {
            return Err(bad("no hosts in connect string"));
        }
        Ok(ClientBuilder {
            hosts,
            chroot: Chroot::new(chroot)?,
            session_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            read_only: false,
            auth: Vec::new(),
            session: None,
            tls: None,
            sasl: None,
        })
    }

    /// The session timeout to ask for (the server clamps it into its range).
    pub fn session_timeout(mut self, timeout: Duration) -> Self {
        self.session_timeout = timeout;
        self
    }

    /// How long [`ClientBuilder::connect`] waits for a first server.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Accept a read-only connection to a server cut off from its quorum.
    pub fn can_be_read_only(mut self, yes: bool) -> Self {
        self.read_only = yes;
        self
    }

    /// Authenticate at every (re)connect, e.g. `("digest", b"user:password")`.
    pub fn auth(mut self, scheme: &str, auth: &[u8]) -> Self {
        self.auth
            .push((scheme.to_owned(), Bytes::copy_from_slice(auth)));
        self
    }

    /// Connect with TLS (to the servers' `secureClientPort`).
    pub fn tls(mut self, tls: ClientTls) -> Self {
        self.tls = Some(Arc::new(tls));
        self
    }

    /// Authenticate with SASL DIGEST-MD5 at every (re)connect, before any
    /// other request.
    pub fn sasl(mut self, credentials: SaslCredentials) -> Self {
        self.sasl = Some(credentials);
        self
    }

    /// Resume an existing session (id and password from
    /// [`Client::session`]) instead of creating one.
    pub fn session(mut self, id: i64, password: &[u8]) -> Self {
        self.session = Some((id, Bytes::copy_from_slice(password)));
        self
    }

    /// Connects to the first server that answers (hosts are tried in a
    /// random order) and returns the client. Fails with `UnknownHost` when
    /// no host resolves, `ConnectTimeout` when no server answered within
    /// the connect timeout, `NoChroot` when the chroot does not exist, and
    /// `SessionExpired` when the session to resume is gone.
    pub async fn connect(self) -> Result<Client> {
        Client::start(self).await
    }
}

/// Fails when not one of `hosts` resolves (a typo, a name that does not
/// exist), so a caller hears it at once instead of after the connect
/// timeout. One name that resolves is enough: the others may come up later
/// (names are resolved again at every attempt).
pub(crate) async fn check_resolvable(hosts: &[HostPort], timeout: Duration) -> Result<()> {
    let lookups = hosts.iter().map(|h| async move {
        let found =
            tokio::time::timeout(timeout, tokio::net::lookup_host((h.host.as_str(), h.port))).await;
        match found {
            Ok(Ok(mut addrs)) => match addrs.next() {
                Some(_) => Ok(()),
                None => Err(format!("{}:{} (no address)", h.host, h.port)),
            },
            Ok(Err(e)) => Err(format!("{}:{} ({e})", h.host, h.port)),
            Err(_) => Err(format!("{}:{} (lookup timed out)", h.host, h.port)),
        }
    });
    let results = futures::future::join_all(lookups).await;
    if results.iter().any(Result::is_ok) {
        return Ok(());
    }
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    Err(Error::UnknownHost(failures.join(", ")))
}

fn parse_host(item: &str) -> Option<HostPort> {
    let (host, port) = if let Some(rest) = item.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => 2181,
            None => return None,
        };
        (host, port)
    } else {
        match item.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (item, 2181),
        }
    };
    (!host.is_empty()).then(|| HostPort {
        host: host.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_strings() {
        let b = ClientBuilder::new("a:1, b ,[::1]:3/app").expect("parses");
        assert_eq!(
            b.hosts,
            vec![
                HostPort {
                    host: "a".into(),
                    port: 1
                },
                HostPort {
                    host: "b".into(),
                    port: 2181
                },
                HostPort {
                    host: "::1".into(),
                    port: 3
                },
            ]
        );
        assert_eq!(b.chroot, Chroot::new("/app").expect("valid"));
        assert!(ClientBuilder::new("").is_err());
        assert!(ClientBuilder::new("a:x").is_err());
        assert!(ClientBuilder::new("a:1/bad/").is_err());
    }
}
