//! SASL DIGEST-MD5 with the server at every (re)connect, before any other
//! request, as the Java client does when its JAAS file has a `Client`
//! section (and kazoo with `sasl_options`). A server that refuses the
//! credentials ends the session with `AuthFailed`.
//!
//! ```no_run
//! # async fn demo() -> zk_client::Result<()> {
//! use zk_client::Client;
//! use zk_client::sasl::SaslCredentials;
//!
//! let creds = SaslCredentials::digest("bob", "bobsecret");
//! // or the Java client's JAAS file: SaslCredentials::from_jaas("jaas.conf".as_ref())?
//! let client = Client::builder("zk1:2181")?.sasl(creds).connect().await?;
//! client.whoami().await?; // [ip, sasl:bob]
//! # Ok(()) }
//! ```

use std::path::Path;

use zk_sasl::jaas::Jaas;

use crate::error::{Error, Result};

/// Who the client proves to be with DIGEST-MD5.
#[derive(Clone, PartialEq, Eq)]
pub struct SaslCredentials {
    pub(crate) user: String,
    pub(crate) password: String,
}

/// By hand: never print the password.
impl std::fmt::Debug for SaslCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslCredentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl SaslCredentials {
    /// A DIGEST-MD5 user and password (a `user_<name>` of the server's
    /// JAAS `Server` section).
    pub fn digest(user: &str, password: &str) -> SaslCredentials {
        SaslCredentials {
            user: user.to_owned(),
            password: password.to_owned(),
        }
    }

    /// The `username` and `password` of a JAAS file's `Client` section,
    /// as the Java client reads them.
    pub fn from_jaas(path: &Path) -> Result<SaslCredentials> {
        SaslCredentials::from_jaas_section(path, "Client")
    }

    /// The same from another section (the Java client's
    /// `zookeeper.sasl.clientconfig`).
    pub fn from_jaas_section(path: &Path, section: &str) -> Result<SaslCredentials> {
        let jaas = Jaas::from_file(path).map_err(|e| Error::Sasl(e.to_string()))?;
        let (user, password) = jaas.credentials(section).ok_or_else(|| {
            Error::Sasl(format!(
                "{}: no {section} section with username and password",
                path.display()
            ))
        })?;
        Ok(SaslCredentials { user, password })
    }
}
