//! SASL for zk-rs, as ZooKeeper does it:
//!
//! - [`digest`]: DIGEST-MD5 (RFC 2831), the server and client steps with
//!   ZooKeeper's names (realm `zk-sasl-md5`, digest-uri
//!   `zookeeper/zk-sasl-md5`, qop `auth`);
//! - [`jaas`]: JAAS login files (`Server`, `Client`, `QuorumServer`,
//!   `QuorumLearner` sections) and where ZooKeeper users point to them.
//!
//! ```
//! use zk_sasl::digest::{DigestClient, DigestServer, ServerStep};
//!
//! let users = |name: &str| (name == "bob").then(|| "secret".to_owned());
//! let mut server = DigestServer::new();
//! let mut client = DigestClient::new("bob", "secret");
//! let ServerStep::Challenge(challenge) = server.step(&client.initial(), users)? else { panic!() };
//! let response = client.step(&challenge)?.expect("a response");
//! let ServerStep::Done { token, user } = server.step(&response, users)? else { panic!() };
//! assert_eq!(user, "bob");
//! assert_eq!(client.step(&token)?, None); // the server proved itself too
//! # Ok::<(), zk_sasl::SaslError>(())
//! ```

pub mod digest;
mod directives;
pub mod jaas;

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    /// The user is unknown or the password wrong.
    #[error("bad credentials")]
    BadCredentials,
    /// A token that does not parse.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// A token without a directive the mechanism needs.
    #[error("token without {0}")]
    Missing(&'static str),
    /// A token that breaks the mechanism's rules.
    #[error("protocol: {0}")]
    Protocol(&'static str),
    /// A JAAS file that cannot be read or parsed.
    #[error("JAAS file {path}: {reason}")]
    Jaas { path: String, reason: String },
}
