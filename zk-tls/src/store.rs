//! Key stores and trust stores as ZooKeeper reads them
//! (`ssl.keyStore.*`, `ssl.trustStore.*`): PEM (the private key and the
//! certificate chain in one file, the key optionally encrypted), PKCS#12
//! and JKS, the type named or inferred from the file name
//! (`KeyStoreFileType.fromFilename`: `.pem`, `.p12`/`.pfx`, `.jks`).

use std::path::{Path, PathBuf};

use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use p12_keystore::{KeyStore as P12KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};

use crate::TlsError;

/// A store's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreType {
    Pem,
    Pkcs12,
    Jks,
}

impl StoreType {
    /// ZooKeeper's names for `ssl.keyStore.type` (any case).
    pub fn from_name(name: &str) -> Result<StoreType, TlsError> {
        match name.to_ascii_uppercase().as_str() {
            "PEM" => Ok(StoreType::Pem),
            "PKCS12" => Ok(StoreType::Pkcs12),
            "JKS" => Ok(StoreType::Jks),
            "BCFKS" => Err(TlsError::Unsupported(
                "BCFKS stores (convert with keytool -importkeystore -deststoretype PKCS12)".into(),
            )),
            _ => Err(TlsError::Unsupported(format!(
                "store type {name:?} (PEM, PKCS12 or JKS)"
            ))),
        }
    }

    /// The type a file name implies, as ZooKeeper infers it when no type
    /// is set.
    pub fn from_path(path: &Path) -> Option<StoreType> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "pem" | "crt" | "cer" | "key" => Some(StoreType::Pem),
            "p12" | "pfx" | "pkcs12" => Some(StoreType::Pkcs12),
            "jks" => Some(StoreType::Jks),
            _ => None,
        }
    }
}

/// Where a store is and how to open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSpec {
    pub location: PathBuf,
    pub password: Option<String>,
    /// None: inferred from the file name.
    pub kind: Option<StoreType>,
}

impl StoreSpec {
    /// A store at `location`, its type from the file name.
    pub fn new(location: impl Into<PathBuf>) -> StoreSpec {
        StoreSpec {
            location: location.into(),
            password: None,
            kind: None,
        }
    }

    fn kind(&self) -> Result<StoreType, TlsError> {
        self.kind
            .or_else(|| StoreType::from_path(&self.location))
            .ok_or_else(|| TlsError::Store {
                path: self.location.clone(),
                reason:
                    "cannot tell its type from the file name: set the type (PEM, PKCS12 or JKS)"
                        .into(),
            })
    }

    fn read(&self) -> Result<Vec<u8>, TlsError> {
        std::fs::read(&self.location).map_err(|error| TlsError::Read {
            path: self.location.clone(),
            error,
        })
    }

    fn fail(&self, reason: impl ToString) -> TlsError {
        TlsError::Store {
            path: self.location.clone(),
            reason: reason.to_string(),
        }
    }

    fn password(&self) -> &str {
        self.password.as_deref().unwrap_or("")
    }
}

/// A certificate chain (the entity's first) and its private key.
#[derive(Debug)]
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Identity {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// The key and chain of a key store.
pub fn load_identity(spec: &StoreSpec) -> Result<Identity, TlsError> {
    let bytes = spec.read()?;
    let identity = match spec.kind()? {
        StoreType::Pem => pem_identity(spec, &bytes)?,
        StoreType::Jks => jks_identity(spec, &bytes)?,
        StoreType::Pkcs12 => pkcs12_identity(spec, &bytes)?,
    };
    if identity.chain.is_empty() {
        return Err(spec.fail("no certificate for the private key"));
    }
    Ok(identity)
}

/// The certificates a trust store trusts.
pub fn load_trust(spec: &StoreSpec) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = spec.read()?;
    let certs = match spec.kind()? {
        StoreType::Pem => pem_certs(spec, &bytes)?,
        // Trusted-certificate entries only, as Java's PKIX trust manager
        // takes a store: a key entry's chain (a keystore reused as the
        // trust store) would otherwise make its issuing CAs trusted.
        StoreType::Jks => {
            let store = open_jks(spec, &bytes)?;
            store
                .aliases()
                .iter()
                .filter_map(|alias| store.get_trusted_certificate_entry(alias).ok())
                .map(|entry| CertificateDer::from(entry.certificate.content))
                .collect()
        }
        StoreType::Pkcs12 => {
            let store = open_pkcs12(spec, &bytes, Pkcs12ImportPolicy::Strict)?;
            store
                .entries()
                .filter_map(|(_, entry)| match entry {
                    KeyStoreEntry::Certificate(c) => Some(c.as_der().to_vec().into()),
                    _ => None,
                })
                .collect()
        }
    };
    if certs.is_empty() {
        return Err(spec.fail("holds no trusted certificate entry"));
    }
    Ok(certs)
}

fn pem_certs(spec: &StoreSpec, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| spec.fail(format!("bad PEM: {e}")))
}

/// Label of PKCS#8 encrypted keys, which the PEM reader of pki-types skips.
const ENCRYPTED: &str = "ENCRYPTED PRIVATE KEY";

fn pem_identity(spec: &StoreSpec, bytes: &[u8]) -> Result<Identity, TlsError> {
    let chain = pem_certs(spec, bytes)?;
    let mut key = None;
    for section in <(SectionKind, Vec<u8>) as PemObject>::pem_slice_iter(bytes) {
        let (kind, der) = section.map_err(|e| spec.fail(format!("bad PEM: {e}")))?;
        let found = match kind {
            SectionKind::PrivateKey => PrivateKeyDer::Pkcs8(der.into()),
            SectionKind::RsaPrivateKey => PrivateKeyDer::Pkcs1(der.into()),
            SectionKind::EcPrivateKey => PrivateKeyDer::Sec1(der.into()),
            _ => continue,
        };
        key.get_or_insert(found);
    }
    let key = match key {
        Some(k) => k,
        None => encrypted_pem_key(spec, bytes)?,
    };
    Ok(Identity { chain, key })
}

/// A PKCS#8 key encrypted with the store's password (PBES2, as `openssl
/// pkcs8 -topk8` writes it).
fn encrypted_pem_key(spec: &StoreSpec, bytes: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    let text = String::from_utf8_lossy(bytes);
    let begin = format!("-----BEGIN {ENCRYPTED}-----");
    let end = format!("-----END {ENCRYPTED}-----");
    let (Some(from), Some(to)) = (text.find(&begin), text.find(&end)) else {
        return Err(spec.fail("no private key in the PEM file"));
    };
    let block = text
        .get(from..to + end.len())
        .ok_or_else(|| spec.fail("bad PEM"))?;
    let (_, doc) = pkcs8::der::Document::from_pem(block)
        .map_err(|e| spec.fail(format!("bad encrypted key: {e}")))?;
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes())
        .map_err(|e| spec.fail(format!("bad encrypted key: {e}")))?;
    let plain = info
        .decrypt(spec.password())
        .map_err(|e| spec.fail(format!("cannot decrypt the key (wrong password?): {e}")))?;
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        plain.as_bytes().to_vec(),
    )))
}

fn open_jks(spec: &StoreSpec, bytes: &[u8]) -> Result<jks::KeyStore, TlsError> {
    let mut store = jks::KeyStore::new();
    store
        .load(bytes, spec.password().as_bytes())
        .map_err(|e| spec.fail(format!("cannot open the JKS store (wrong password?): {e}")))?;
    Ok(store)
}

/// `policy`: Strict for a trust store (only certificates marked trusted,
/// as Java reads them), Relaxed for a key store (a key without its
/// certificate still opens, and the error then says what is missing).
fn open_pkcs12(
    spec: &StoreSpec,
    bytes: &[u8],
    policy: Pkcs12ImportPolicy,
) -> Result<P12KeyStore, TlsError> {
    P12KeyStore::from_pkcs12(bytes, spec.password(), policy).map_err(|e| {
        spec.fail(format!(
            "cannot open the PKCS#12 store (wrong password?): {e}"
        ))
    })
}

fn jks_identity(spec: &StoreSpec, bytes: &[u8]) -> Result<Identity, TlsError> {
    let store = open_jks(spec, bytes)?;
    for alias in store.aliases() {
        if !store.is_private_key_entry(&alias) {
            continue;
        }
        // JKS keys are protected with the store's password: ZooKeeper has
        // one password for both.
        let entry = store
            .get_private_key_entry(&alias, spec.password().as_bytes())
            .map_err(|e| spec.fail(format!("cannot read the key {alias:?}: {e}")))?;
        return Ok(Identity {
            chain: entry
                .certificate_chain
                .into_iter()
                .map(|c| CertificateDer::from(c.content))
                .collect(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(entry.private_key)),
        });
    }
    Err(spec.fail("holds no private key"))
}

fn pkcs12_identity(spec: &StoreSpec, bytes: &[u8]) -> Result<Identity, TlsError> {
    let store = open_pkcs12(spec, bytes, Pkcs12ImportPolicy::Relaxed)?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or_else(|| spec.fail("holds no private key"))?;
    Ok(Identity {
        chain: chain
            .certs()
            .iter()
            .map(|c| c.as_der().to_vec().into())
            .collect(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec())),
    })
}
