//! TLS as ZooKeeper configures it, for the zk-rs server and client:
//!
//! - [`store`]: key and trust stores in PEM, PKCS#12 and JKS, with
//!   ZooKeeper's rule for telling the type from the file name;
//! - [`configs`]: rustls server and client configurations from ZooKeeper's
//!   settings (protocols, cipher suites, client certificates, hostname
//!   verification);
//! - [`dn`]: a certificate's subject as the `x509` ACL scheme names it.
//!
//! ```
//! use zk_tls::store::{StoreSpec, StoreType};
//!
//! // ssl.keyStore.location=/etc/zk/keystore.jks, no type: JKS from the name.
//! let spec = StoreSpec::new("/etc/zk/keystore.jks");
//! assert_eq!(StoreType::from_path(&spec.location), Some(StoreType::Jks));
//! assert!(zk_tls::store::load_identity(&spec).is_err()); // no such file here
//! ```

pub mod configs;
pub mod dn;
mod legacy;
pub mod store;

pub use configs::{ClientAuth, Protocols, client_config, names, server_config};
pub use dn::subject_dn;
pub use rustls::pki_types::CertificateDer;
pub use store::{Identity, StoreSpec, StoreType, load_identity, load_trust};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A store file could not be read.
    #[error("cannot read {path}: {error}")]
    Read {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    /// A store file was read but is not usable.
    #[error("{path}: {reason}")]
    Store {
        path: std::path::PathBuf,
        reason: String,
    },
    /// A certificate cannot be used.
    #[error("certificate: {0}")]
    Certificate(String),
    /// A setting rustls cannot honour.
    #[error("not supported: {0}")]
    Unsupported(String),
    #[error("TLS: {0}")]
    Rustls(rustls::Error),
}
