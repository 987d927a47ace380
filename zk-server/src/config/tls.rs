//! zoo.cfg's TLS keys, as ZooKeeper 3.9 names them: `secureClientPort`,
//! the `ssl.*` settings for the client port and their `ssl.quorum.*` twins
//! between members, `sslQuorum`, and the x509 scheme's super user. Each key
//! may carry ZooKeeper's `zookeeper.` prefix (the system property form).

use std::net::IpAddr;
use std::path::PathBuf;

use zk_tls::{ClientAuth, Protocols, StoreSpec, StoreType};

use super::{ConfigError, bad, boolean, num};

/// One side's TLS: `ssl.*` (the client port) or `ssl.quorum.*` (members).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub key_store: Option<StoreSpec>,
    pub trust_store: Option<StoreSpec>,
    pub client_auth: ClientAuth,
    pub protocols: Protocols,
    /// `ssl.hostnameVerification`: a member checks a peer's name against
    /// its certificate.
    pub hostname_verification: bool,
}

impl Default for TlsSettings {
    fn default() -> TlsSettings {
        TlsSettings {
            key_store: None,
            trust_store: None,
            client_auth: ClientAuth::Need,
            protocols: Protocols::default(),
            hostname_verification: true,
        }
    }
}

/// Everything TLS in a zoo.cfg.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// `secureClientPort`: TLS clients; `clientPort` stays plain.
    pub secure_client_port: Option<u16>,
    pub secure_client_address: Option<IpAddr>,
    pub client: TlsSettings,
    /// `sslQuorum`: members talk TLS to each other.
    pub ssl_quorum: bool,
    /// `portUnification`: the quorum ports take TLS and plain connections
    /// (for a rolling upgrade to `sslQuorum`).
    pub port_unification: bool,
    /// `client.portUnification`: the plain client port takes TLS too.
    pub client_port_unification: bool,
    pub quorum: TlsSettings,
    /// `X509AuthenticationProvider.superUser`: the subject (RFC 2253, as
    /// `whoami` shows it) that gets super rights.
    pub x509_super_user: Option<String>,
}

/// Keys ZooKeeper has that we take without acting on them: the Netty
/// factory (we serve TLS without one), cert reloading (always on), the
/// provider choices (rustls is the only one), the handshake detection of
/// port unification.
const ACCEPTED: &[&str] = &[
    "serverCnxnFactory",
    "clientCnxnSocket",
    "client.certReload",
    "sslQuorumReloadCertFiles",
    "ssl.sslProvider",
    "ssl.quorum.sslProvider",
    "ssl.handshakeDetectionTimeoutMillis",
    "ssl.quorum.handshakeDetectionTimeoutMillis",
    "ssl.authProvider",
    "authProvider.x509",
    "ssl.context.supplier.class",
    "ssl.quorum.context.supplier.class",
];

/// The x509 provider's class, the one `ssl.authProvider` may name.
const X509_PROVIDER: &str = "x509";

impl TlsConfig {
    /// Takes `key=value` if it is a TLS key; `Ok(false)` if it is not.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        let name = key.strip_prefix("zookeeper.").unwrap_or(key);
        match name {
            "secureClientPort" => self.secure_client_port = Some(num(key, value)?),
            "secureClientPortAddress" => self.secure_client_address = Some(num(key, value)?),
            "sslQuorum" => self.ssl_quorum = boolean(key, value)?,
            "portUnification" => self.port_unification = boolean(key, value)?,
            "client.portUnification" => self.client_port_unification = boolean(key, value)?,
            "X509AuthenticationProvider.superUser" => {
                self.x509_super_user = Some(value.to_owned());
            }
            "ssl.authProvider" if value != X509_PROVIDER => {
                return Err(bad(key, value, "the x509 provider is the only one"));
            }
            k if ACCEPTED.contains(&k) => {}
            k => {
                let (side, rest) = if let Some(rest) = k.strip_prefix("ssl.quorum.") {
                    (&mut self.quorum, rest)
                } else if let Some(rest) = k.strip_prefix("ssl.") {
                    (&mut self.client, rest)
                } else {
                    return Ok(false);
                };
                side.set(key, rest, value)?;
            }
        }
        Ok(true)
    }

    /// Checks what only the whole file can tell.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.secure_client_port.is_some() && self.client.key_store.is_none() {
            return Err(ConfigError::Missing {
                key: "ssl.keyStore.location",
                hint: "secureClientPort serves TLS: name the server's key and certificate",
            });
        }
        if self.client_port_unification && self.client.key_store.is_none() {
            return Err(ConfigError::Missing {
                key: "ssl.keyStore.location",
                hint: "client.portUnification serves TLS on the client port",
            });
        }
        if self.ssl_quorum && self.quorum.key_store.is_none() {
            return Err(ConfigError::Missing {
                key: "ssl.quorum.keyStore.location",
                hint: "sslQuorum needs each member's key and certificate",
            });
        }
        if self.ssl_quorum && self.quorum.trust_store.is_none() {
            return Err(ConfigError::Missing {
                key: "ssl.quorum.trustStore.location",
                hint: "sslQuorum: members check each other's certificates against it",
            });
        }
        Ok(())
    }
}

impl TlsSettings {
    /// `rest` is the key after `ssl.` or `ssl.quorum.`.
    fn set(&mut self, key: &str, rest: &str, value: &str) -> Result<(), ConfigError> {
        match rest {
            "keyStore.location" => store(&mut self.key_store).location = PathBuf::from(value),
            "keyStore.password" => store(&mut self.key_store).password = Some(value.to_owned()),
            "keyStore.passwordPath" => {
                store(&mut self.key_store).password = Some(password_file(key, value)?);
            }
            "keyStore.type" => store(&mut self.key_store).kind = store_type(key, value)?,
            "trustStore.location" => store(&mut self.trust_store).location = PathBuf::from(value),
            "trustStore.password" => {
                store(&mut self.trust_store).password = Some(value.to_owned());
            }
            "trustStore.passwordPath" => {
                store(&mut self.trust_store).password = Some(password_file(key, value)?);
            }
            "trustStore.type" => store(&mut self.trust_store).kind = store_type(key, value)?,
            "clientAuth" => {
                self.client_auth = ClientAuth::from_name(value).map_err(|e| bad(key, value, e))?;
            }
            // Java's SSLContext protocol: the one version enabled unless
            // `enabledProtocols` says more.
            "protocol" if self.protocols.versions.is_empty() => {
                self.protocols.versions = vec![value.to_owned()];
            }
            "protocol" => {}
            "enabledProtocols" => self.protocols.versions = list(value),
            "ciphersuites" => self.protocols.ciphersuites = list(value),
            "hostnameVerification" => self.hostname_verification = boolean(key, value)?,
            "clientHostnameVerification" => {}
            "crl" | "ocsp" if boolean(key, value)? => {
                return Err(bad(key, value, "revocation checks are not supported"));
            }
            "crl" | "ocsp" => {}
            _ => tracing::warn!(key, "unknown TLS key ignored"),
        }
        Ok(())
    }
}

/// The store a key sets, made on its first key.
fn store(slot: &mut Option<StoreSpec>) -> &mut StoreSpec {
    slot.get_or_insert_with(|| StoreSpec::new(PathBuf::new()))
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn store_type(key: &str, value: &str) -> Result<Option<StoreType>, ConfigError> {
    if value.is_empty() {
        return Ok(None);
    }
    StoreType::from_name(value)
        .map(Some)
        .map_err(|e| bad(key, value, e))
}

/// `*.passwordPath`: the password is the file's content (3.8+), without a
/// trailing line break.
fn password_file(key: &str, path: &str) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(key, path, e))?;
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[(&str, &str)]) -> Result<TlsConfig, ConfigError> {
        let mut c = TlsConfig::default();
        for (k, v) in lines {
            assert!(c.set(k, v)?, "{k} is a TLS key");
        }
        c.validate()?;
        Ok(c)
    }

    #[test]
    fn client_and_quorum_keys_go_to_their_side() {
        let c = parse(&[
            ("secureClientPort", "2281"),
            ("ssl.keyStore.location", "/k/server.jks"),
            ("ssl.keyStore.password", "secret"),
            ("zookeeper.ssl.trustStore.location", "/k/trust.p12"),
            ("ssl.trustStore.type", "pkcs12"),
            ("ssl.clientAuth", "want"),
            ("ssl.enabledProtocols", "TLSv1.3, TLSv1.2"),
            ("ssl.quorum.keyStore.location", "/k/q.pem"),
            ("ssl.quorum.protocol", "TLSv1.3"),
            ("X509AuthenticationProvider.superUser", "CN=admin"),
        ])
        .expect("valid");
        assert_eq!(c.secure_client_port, Some(2281));
        let key = c.client.key_store.as_ref().expect("key store");
        assert_eq!(key.location, PathBuf::from("/k/server.jks"));
        assert_eq!(key.password.as_deref(), Some("secret"));
        assert_eq!(key.kind, None, "inferred from the name later");
        let trust = c.client.trust_store.as_ref().expect("trust store");
        assert_eq!(trust.kind, Some(StoreType::Pkcs12));
        assert_eq!(c.client.client_auth, ClientAuth::Want);
        assert_eq!(c.client.protocols.versions, ["TLSv1.3", "TLSv1.2"]);
        assert_eq!(c.quorum.protocols.versions, ["TLSv1.3"]);
        assert_eq!(c.quorum.client_auth, ClientAuth::Need);
        assert_eq!(c.x509_super_user.as_deref(), Some("CN=admin"));
    }

    #[test]
    fn bad_or_missing_values_name_the_key() {
        let err = parse(&[("ssl.clientAuth", "maybe")]).expect_err("bad");
        assert!(err.to_string().contains("ssl.clientAuth"), "{err}");
        let err = parse(&[("secureClientPort", "2281")]).expect_err("no key store");
        assert!(
            err.to_string().starts_with("ssl.keyStore.location"),
            "{err}"
        );
        let err = parse(&[
            ("sslQuorum", "true"),
            ("ssl.quorum.keyStore.location", "/k"),
        ])
        .expect_err("no trust");
        assert!(
            err.to_string()
                .starts_with("ssl.quorum.trustStore.location"),
            "{err}"
        );
        let err = parse(&[("ssl.keyStore.type", "BCFKS")]).expect_err("bcfks");
        assert!(err.to_string().contains("keytool"), "{err}");
        assert!(
            !TlsConfig::default()
                .set("tickTime", "2000")
                .expect("not ours")
        );
    }

    #[test]
    fn a_password_file_is_read_without_its_line_break() {
        let path = std::env::temp_dir().join(format!("zk-tls-pw-{}", std::process::id()));
        std::fs::write(&path, "s3cret\n").expect("write");
        let c = parse(&[(
            "ssl.trustStore.passwordPath",
            path.to_str().expect("utf-8 path"),
        )])
        .expect("valid");
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            c.client.trust_store.expect("trust").password.as_deref(),
            Some("s3cret")
        );
    }
}
