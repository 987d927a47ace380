//! Client certificates of X.509 version 1, which webpki refuses and Java
//! (so Apache ZooKeeper) accepts: `openssl x509 -req` without extensions
//! makes them, and so does kazoo's test harness. A v1 certificate is
//! accepted when a trust anchor signed it directly and it is valid now; it
//! has no extensions, so there are no key usages to check. Everything else
//! goes to webpki unchanged.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, PeerMisbehaved,
    SignatureScheme,
};
use x509_parser::prelude::{ASN1Time, FromDer, X509Certificate, X509Version};

/// webpki's verifier, with v1 client certificates checked here.
#[derive(Debug)]
pub struct V1Tolerant {
    webpki: Arc<dyn ClientCertVerifier>,
    anchors: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl V1Tolerant {
    pub fn new(
        webpki: Arc<dyn ClientCertVerifier>,
        anchors: Vec<CertificateDer<'static>>,
        algorithms: WebPkiSupportedAlgorithms,
    ) -> V1Tolerant {
        V1Tolerant {
            webpki,
            anchors,
            algorithms,
        }
    }
}

fn bad(reason: &str) -> Error {
    Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(
        std::io::Error::other(reason.to_owned()),
    ))))
}

/// The parsed certificate when it is not v3, else None (webpki's case).
fn legacy<'a>(der: &'a CertificateDer<'_>) -> Option<X509Certificate<'a>> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
    (cert.version() != X509Version::V3).then_some(cert)
}

impl ClientCertVerifier for V1Tolerant {
    fn offer_client_auth(&self) -> bool {
        self.webpki.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.webpki.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.webpki.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let Some(cert) = legacy(end_entity) else {
            return self
                .webpki
                .verify_client_cert(end_entity, intermediates, now);
        };
        let at = i64::try_from(now.as_secs())
            .ok()
            .and_then(|s| ASN1Time::from_timestamp(s).ok())
            .ok_or_else(|| bad("the clock is out of range"))?;
        if !cert.validity().is_valid_at(at) {
            return Err(Error::InvalidCertificate(CertificateError::Expired));
        }
        let signed_by_anchor = self.anchors.iter().any(|anchor| {
            X509Certificate::from_der(anchor.as_ref()).is_ok_and(|(_, ca)| {
                ca.subject().as_raw() == cert.issuer().as_raw()
                    && cert.verify_signature(Some(ca.public_key())).is_ok()
            })
        });
        if signed_by_anchor {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(Error::InvalidCertificate(CertificateError::UnknownIssuer))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        match legacy(cert) {
            Some(parsed) => self.verify_with_key(message, &parsed, dss),
            None => self.webpki.verify_tls12_signature(message, cert, dss),
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        match legacy(cert) {
            // TLS 1.3 has no PKCS#1 v1.5 or SHA-1 signatures.
            Some(_)
                if matches!(
                    dss.scheme,
                    SignatureScheme::RSA_PKCS1_SHA1
                        | SignatureScheme::RSA_PKCS1_SHA256
                        | SignatureScheme::RSA_PKCS1_SHA384
                        | SignatureScheme::RSA_PKCS1_SHA512
                        | SignatureScheme::ECDSA_SHA1_Legacy
                ) =>
            {
                Err(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme.into())
            }
            Some(parsed) => self.verify_with_key(message, &parsed, dss),
            None => self.webpki.verify_tls13_signature(message, cert, dss),
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

impl V1Tolerant {
    /// The handshake signature, checked with the certificate's key under
    /// each algorithm the scheme may mean (TLS 1.2 names no curve): a key of
    /// another type never verifies, so the first success is the answer.
    fn verify_with_key(
        &self,
        message: &[u8],
        cert: &X509Certificate<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        let key = &cert.public_key().subject_public_key.data;
        let candidates = self
            .algorithms
            .mapping
            .iter()
            .find(|(scheme, _)| *scheme == dss.scheme)
            .map(|(_, algs)| *algs)
            .ok_or(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme)?;
        let verified = candidates
            .iter()
            .any(|alg| alg.verify_signature(key, message, dss.signature()).is_ok());
        if verified {
            Ok(HandshakeSignatureValid::assertion())
        } else {
            Err(Error::InvalidCertificate(CertificateError::BadSignature))
        }
    }
}
