//! rustls configurations from ZooKeeper's TLS settings: the protocol
//! versions (`ssl.protocol`, `ssl.enabledProtocols`), the cipher suites
//! (`ssl.ciphersuites`, Java's names), client certificates
//! (`ssl.clientAuth`) and the client's hostname check
//! (`ssl.hostnameVerification`).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig,
    SignatureScheme, SupportedProtocolVersion,
};

use x509_parser::prelude::{FromDer, X509Certificate};

use crate::legacy::V1Tolerant;
use crate::{Identity, TlsError};

/// Whether a server asks for client certificates (`ssl.clientAuth`;
/// ZooKeeper's default is `need`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// A client without a certificate the trust store vouches for is refused.
    #[default]
    Need,
    /// A certificate is asked for; a client without one gets in
    /// unauthenticated (a bad one is still refused).
    Want,
    /// No certificate is asked for.
    None,
}

impl ClientAuth {
    /// `need`, `want` or `none` (any case).
    pub fn from_name(name: &str) -> Result<ClientAuth, TlsError> {
        match name.to_ascii_lowercase().as_str() {
            "need" => Ok(ClientAuth::Need),
            "want" => Ok(ClientAuth::Want),
            "none" => Ok(ClientAuth::None),
            _ => Err(TlsError::Unsupported(format!(
                "ssl.clientAuth {name:?} (need, want or none)"
            ))),
        }
    }
}

/// Protocol versions and cipher suites, by their Java names. Empty lists
/// mean rustls's defaults (TLS 1.2 and 1.3, its suites).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protocols {
    /// `TLSv1.2`, `TLSv1.3`.
    pub versions: Vec<String>,
    /// Names such as `TLS_AES_128_GCM_SHA256` or
    /// `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
    pub ciphersuites: Vec<String>,
}

impl Protocols {
    fn versions(&self) -> Result<Vec<&'static SupportedProtocolVersion>, TlsError> {
        if self.versions.is_empty() {
            return Ok(rustls::DEFAULT_VERSIONS.to_vec());
        }
        self.versions
            .iter()
            .map(|v| match v.trim() {
                "TLSv1.3" => Ok(&rustls::version::TLS13),
                "TLSv1.2" => Ok(&rustls::version::TLS12),
                other => Err(TlsError::Unsupported(format!(
                    "protocol {other:?}: TLSv1.2 and TLSv1.3 only (older versions are broken)"
                ))),
            })
            .collect()
    }

    /// The ring provider, its suites cut to the ones named. Names rustls
    /// does not have (CBC, RSA key exchange, DHE suites) are refused, so
    /// a config never silently means less than it says.
    fn provider(&self) -> Result<Arc<CryptoProvider>, TlsError> {
        let mut provider = ring::default_provider();
        if !self.ciphersuites.is_empty() {
            let mut chosen = Vec::new();
            for name in &self.ciphersuites {
                let name = name.trim();
                let suite = provider
                    .cipher_suites
                    .iter()
                    .find(|s| java_name(s.suite().as_str().unwrap_or_default()) == name)
                    .ok_or_else(|| {
                        TlsError::Unsupported(format!(
                            "cipher suite {name:?} (rustls has: {})",
                            provider
                                .cipher_suites
                                .iter()
                                .map(|s| java_name(s.suite().as_str().unwrap_or_default()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?;
                chosen.push(*suite);
            }
            provider.cipher_suites = chosen;
        }
        Ok(Arc::new(provider))
    }
}

/// rustls names TLS 1.3 suites `TLS13_...`; Java and IANA say `TLS_...`.
fn java_name(rustls_name: &str) -> String {
    rustls_name.replacen("TLS13_", "TLS_", 1)
}

fn roots(trust: &[CertificateDer<'static>]) -> Result<Arc<RootCertStore>, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in trust {
        roots.add(cert.clone()).map_err(|e| {
            TlsError::Certificate(format!("a trusted certificate is unusable: {e}"))
        })?;
    }
    Ok(Arc::new(roots))
}

/// A server's config: its identity, and the trust that client
/// certificates are checked against (needed unless `auth` is `None`).
pub fn server_config(
    identity: &Identity,
    trust: Option<&[CertificateDer<'static>]>,
    auth: ClientAuth,
    protocols: &Protocols,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = protocols.provider()?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&protocols.versions()?)
        .map_err(TlsError::Rustls)?;
    let builder = match (auth, trust) {
        (ClientAuth::None, _) => builder.with_no_client_auth(),
        (_, None) => {
            return Err(TlsError::Unsupported(
                "client certificates are asked for (ssl.clientAuth need or want) but no trust store is set"
                    .into(),
            ));
        }
        (auth, Some(trust)) => {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(roots(trust)?, provider.clone());
            let verifier = if auth == ClientAuth::Want {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let webpki = verifier
                .build()
                .map_err(|e| TlsError::Certificate(e.to_string()))?;
            builder.with_client_cert_verifier(Arc::new(V1Tolerant::new(
                webpki,
                trust.to_vec(),
                provider.signature_verification_algorithms,
            )))
        }
    };
    let key = certified_key(identity, &provider)?;
    Ok(Arc::new(builder.with_cert_resolver(Arc::new(Fixed(key)))))
}

/// A client's config: the servers' trust, the client's own identity for
/// servers that ask, and whether the server's name must match its
/// certificate (the chain is checked either way).
pub fn client_config(
    trust: &[CertificateDer<'static>],
    identity: Option<&Identity>,
    verify_hostname: bool,
    protocols: &Protocols,
) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = protocols.provider()?;
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&protocols.versions()?)
        .map_err(TlsError::Rustls)?;
    let webpki = WebPkiServerVerifier::builder_with_provider(roots(trust)?, provider.clone())
        .build()
        .map_err(|e| TlsError::Certificate(e.to_string()))?;
    let builder = if verify_hostname {
        builder.with_webpki_verifier(webpki)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyName(webpki)))
    };
    let config = match identity {
        Some(id) => {
            builder.with_client_cert_resolver(Arc::new(Fixed(certified_key(id, &provider)?)))
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The identity's key for rustls, checked against its certificate here:
/// rustls's own check parses the certificate with webpki, which refuses
/// X.509 v1 certificates that Java takes (see `legacy`).
fn certified_key(
    identity: &Identity,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, TlsError> {
    let key = provider
        .key_provider
        .load_private_key(identity.key.clone_key())
        .map_err(TlsError::Rustls)?;
    let end = identity
        .chain
        .first()
        .ok_or_else(|| TlsError::Certificate("no certificate for the key".into()))?;
    let (_, cert) = X509Certificate::from_der(end.as_ref())
        .map_err(|e| TlsError::Certificate(format!("cannot parse the certificate: {e}")))?;
    if key
        .public_key()
        .is_some_and(|spki| spki.as_ref() != cert.public_key().raw)
    {
        return Err(TlsError::Certificate(
            "the private key does not belong to the certificate".into(),
        ));
    }
    Ok(Arc::new(CertifiedKey::new(identity.chain.clone(), key)))
}

/// One certificate for every handshake, server or client side.
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

impl ResolvesClientCert for Fixed {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// The webpki check but for the name (`ssl.hostnameVerification=false`):
/// the chain must still lead to a trusted root and be valid now.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Whether `cert` (an end-entity certificate) names `host`, an IP address
/// or a DNS name, as a server's is checked against the name it was dialled
/// by. A certificate webpki cannot read (X.509 v1) names nothing.
pub fn names(cert: &CertificateDer<'_>, host: &str) -> bool {
    let Ok(name) = ServerName::try_from(host) else {
        return false;
    };
    rustls::server::ParsedCertificate::try_from(cert)
        .is_ok_and(|parsed| rustls::client::verify_server_name(&parsed, &name).is_ok())
}
