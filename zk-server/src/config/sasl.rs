//! zoo.cfg's SASL keys, as ZooKeeper 3.9 has them: the provider
//! (`authProvider.N=...SASLAuthenticationProvider`), the JAAS file with the
//! users (`-Djava.security.auth.login.config=FILE` in `SERVER_JVMFLAGS` or
//! `JVMFLAGS`, see `jvm`, or our key `jaasLoginConfig`), super users
//! (`superUser`, `SASLAuthenticationProvider.superPassword`), what a
//! failed exchange does (`allowSaslFailedClients`), and enforcement
//! (`sessionRequireClientSASLAuth`, `enforce.auth.enabled` with
//! `enforce.auth.schemes`). Keys may carry the `zookeeper.` prefix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use zk_sasl::jaas::Jaas;

use super::{ConfigError, bad, boolean};

/// The providers `authProvider.N` may name.
const SASL_PROVIDER: &str = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";
const KNOWN_PROVIDERS: &[&str] = &[
    SASL_PROVIDER,
    "org.apache.zookeeper.server.auth.DigestAuthenticationProvider",
    "org.apache.zookeeper.server.auth.IPAuthenticationProvider",
    "org.apache.zookeeper.server.auth.X509AuthenticationProvider",
];

/// SASL as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaslConfig {
    /// `authProvider.N` names the SASL provider.
    pub provider: bool,
    /// Where the JAAS file is, once known.
    pub jaas_path: Option<PathBuf>,
    /// The `Server` section's digest users.
    pub users: BTreeMap<String, String>,
    /// The whole JAAS file, for the quorum's sections.
    pub jaas: Option<Jaas>,
    /// Users that get super rights (`superUser`, `superUser.N`).
    pub super_users: Vec<String>,
    /// A failed exchange leaves the connection open, unauthenticated.
    pub allow_failed: bool,
    /// Requests from a connection not authenticated with one of these
    /// schemes are refused (-124) and the connection closed.
    pub enforce_schemes: Vec<String>,
    enforce_enabled: bool,
    require_sasl: bool,
    super_password: Option<String>,
}

impl SaslConfig {
    /// Takes `key=value` if it is a SASL key; `Ok(false)` if it is not.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        let name = key.strip_prefix("zookeeper.").unwrap_or(key);
        match name {
            n if n.starts_with("authProvider.") => {
                if value == SASL_PROVIDER {
                    self.provider = true;
                } else if !KNOWN_PROVIDERS.contains(&value) {
                    return Err(bad(key, value, "not a provider this server has"));
                }
            }
            "jaasLoginConfig" | "java.security.auth.login.config" => {
                self.jaas_path = Some(PathBuf::from(value));
            }
            "allowSaslFailedClients" => self.allow_failed = boolean(key, value)?,
            "sessionRequireClientSASLAuth" => self.require_sasl = boolean(key, value)?,
            "enforce.auth.enabled" => self.enforce_enabled = boolean(key, value)?,
            "enforce.auth.schemes" => {
                self.enforce_schemes = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "SASLAuthenticationProvider.superPassword" => {
                self.super_password = Some(value.to_owned());
            }
            n if n == "superUser" || n.starts_with("superUser.") => {
                self.super_users.push(value.to_owned());
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// After the whole file: enforcement settled, the JAAS file read.
    pub fn finish(&mut self) -> Result<(), ConfigError> {
        if self.require_sasl {
            // 3.6's key is 3.7's enforce.auth for the sasl scheme.
            self.enforce_enabled = true;
            if !self.enforce_schemes.iter().any(|s| s == "sasl") {
                self.enforce_schemes.push("sasl".into());
            }
        }
        if !self.enforce_enabled {
            self.enforce_schemes.clear();
        } else if self.enforce_schemes.is_empty() {
            return Err(bad(
                "enforce.auth.schemes",
                "",
                "enforce.auth.enabled needs the schemes a client must use",
            ));
        }
        if let Some(path) = self.jaas_path.clone() {
            self.load(&path)?;
        }
        if !self.users.is_empty() && !self.provider {
            tracing::warn!(
                "the JAAS file has Server users but no authProvider.N=org.apache.zookeeper.server.auth.SASLAuthenticationProvider: clients cannot use SASL"
            );
        }
        Ok(())
    }

    fn load(&mut self, path: &Path) -> Result<(), ConfigError> {
        let jaas = Jaas::from_file(path)
            .map_err(|e| bad("jaasLoginConfig", &path.display().to_string(), e))?;
        self.users = jaas.users("Server");
        if let Some(password) = &self.super_password {
            self.users.insert("super".into(), password.clone());
        }
        self.jaas = Some(jaas);
        Ok(())
    }

    /// Whether clients may authenticate with SASL here: the provider is
    /// configured (as ZooKeeper needs it for `sasl:` ACLs) and there are
    /// users.
    pub fn serves(&self) -> bool {
        self.provider && !self.users.is_empty()
    }

    /// Whether SASL itself is enforced (a failed exchange answers -124).
    pub fn sasl_required(&self) -> bool {
        self.enforce_schemes.iter().any(|s| s == "sasl")
    }
}

/// SASL between members (`quorum.auth.*`, ZooKeeper's server-to-server
/// authentication): the JAAS `QuorumServer` section's users may connect,
/// the `QuorumLearner` section's user is who this member connects as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumAuthConfig {
    /// `quorum.auth.enableSasl`.
    pub enable_sasl: bool,
    /// `quorum.auth.learnerRequireSasl`: this member must have credentials.
    pub learner_require: bool,
    /// `quorum.auth.serverRequireSasl`: peers without SASL are refused.
    pub server_require: bool,
    /// `quorum.auth.learner.saslLoginContext` (default `QuorumLearner`).
    pub learner_context: String,
    /// `quorum.auth.server.saslLoginContext` (default `QuorumServer`).
    pub server_context: String,
}

impl Default for QuorumAuthConfig {
    fn default() -> QuorumAuthConfig {
        QuorumAuthConfig {
            enable_sasl: false,
            learner_require: false,
            server_require: false,
            learner_context: "QuorumLearner".into(),
            server_context: "QuorumServer".into(),
        }
    }
}

impl QuorumAuthConfig {
    /// Takes `key=value` if it is a quorum auth key; `Ok(false)` if not.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        match key.strip_prefix("zookeeper.").unwrap_or(key) {
            "quorum.auth.enableSasl" => self.enable_sasl = boolean(key, value)?,
            "quorum.auth.learnerRequireSasl" => self.learner_require = boolean(key, value)?,
            "quorum.auth.serverRequireSasl" => self.server_require = boolean(key, value)?,
            "quorum.auth.learner.saslLoginContext" => self.learner_context = value.to_owned(),
            "quorum.auth.server.saslLoginContext" => self.server_context = value.to_owned(),
            // Kerberos only; the thread pool is not ours.
            "quorum.auth.kerberos.servicePrincipal" | "quorum.cnxn.threads.size" => {}
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Whether the keys make sense together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if (self.learner_require || self.server_require) && !self.enable_sasl {
            return Err(bad(
                "quorum.auth.enableSasl",
                "false",
                "learnerRequireSasl and serverRequireSasl need enableSasl=true",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_the_jaas_file() {
        let path = std::env::temp_dir().join(format!("zk-jaas-{}.conf", std::process::id()));
        std::fs::write(
            &path,
            "Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob=\"pw\"; };",
        )
        .expect("write");
        let mut c = SaslConfig::default();
        for (k, v) in [
            (
                "authProvider.1",
                "org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
            ),
            ("jaasLoginConfig", path.to_str().expect("utf-8")),
            ("zookeeper.sessionRequireClientSASLAuth", "true"),
            ("SASLAuthenticationProvider.superPassword", "root"),
            ("superUser", "bob"),
        ] {
            assert!(c.set(k, v).expect("valid"), "{k}");
        }
        c.finish().expect("finishes");
        let _ = std::fs::remove_file(&path);
        assert!(c.provider && c.serves() && c.sasl_required());
        assert_eq!(c.users.get("bob").map(String::as_str), Some("pw"));
        assert_eq!(c.users.get("super").map(String::as_str), Some("root"));
        assert_eq!(c.super_users, ["bob"]);
        assert!(!c.set("tickTime", "2").expect("not ours"));
    }

    #[test]
    fn bad_settings_name_the_key() {
        let mut c = SaslConfig::default();
        let err = c
            .set("authProvider.2", "com.example.Nope")
            .expect_err("unknown");
        assert!(err.to_string().contains("authProvider.2"), "{err}");
        let mut c = SaslConfig::default();
        c.set("enforce.auth.enabled", "true").expect("valid");
        let err = c.finish().expect_err("no schemes");
        assert!(err.to_string().contains("enforce.auth.schemes"), "{err}");
        let mut c = SaslConfig::default();
        c.set("jaasLoginConfig", "/nonexistent/jaas.conf")
            .expect("set");
        let err = c.finish().expect_err("missing file");
        assert!(err.to_string().contains("/nonexistent/jaas.conf"), "{err}");
    }
}
