//! A certificate's subject as ZooKeeper's x509 scheme names it: Java's
//! `X500Principal.getName()`, the RFC 2253 form. The RDNs come last-first
//! (most specific first), `,` between them and `+` inside one; the RFC's
//! keywords (CN, L, ST, O, OU, C, STREET, DC, UID) stand for their types and
//! any other type is its dotted OID with the value as `#` and the hex of its
//! DER encoding; special characters in values are escaped with `\`.

use x509_parser::der_parser::asn1_rs::{Any, Tag};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::TlsError;

/// RFC 2253's keywords, by OID.
const KEYWORDS: &[(&str, &str)] = &[
    ("2.5.4.3", "CN"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.6", "C"),
    ("2.5.4.9", "STREET"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("0.9.2342.19200300.100.1.1", "UID"),
];

/// The subject of the DER certificate `der`, RFC 2253 style.
pub fn subject_dn(der: &[u8]) -> Result<String, TlsError> {
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| TlsError::Certificate(format!("cannot parse the certificate: {e}")))?;
    let rdns: Vec<String> = cert
        .subject()
        .iter_rdn()
        .map(|rdn| {
            let avas: Vec<String> = rdn
                .iter()
                .map(|ava| {
                    let oid = ava.attr_type().to_id_string();
                    match KEYWORDS.iter().find(|(o, _)| *o == oid) {
                        Some((_, keyword)) => match text(ava.attr_value()) {
                            Some(value) => format!("{keyword}={}", escape(&value)),
                            None => format!("{keyword}=#{}", der_hex(ava.attr_value())),
                        },
                        None => format!("{oid}=#{}", der_hex(ava.attr_value())),
                    }
                })
                .collect();
            avas.join("+")
        })
        .collect();
    Ok(rdns.into_iter().rev().collect::<Vec<_>>().join(","))
}

/// A string value's text, for the string types Java writes as text
/// (others, NumericString among them, go out as `#` and hex).
fn text(value: &Any<'_>) -> Option<String> {
    let data = value.data;
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::GeneralString => {
            std::str::from_utf8(data).ok().map(str::to_owned)
        }
        // T.61 as Latin-1, the way Java reads it.
        Tag::TeletexString => Some(data.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// As Java's `AVA.toRFC2253String`: `, = + < > # ; " \` escaped
/// anywhere, a space at the start or the end, NUL as `\00`.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        if c == '\0' {
            out.push_str("\\00");
            continue;
        }
        let special = matches!(c, ',' | '=' | '+' | '<' | '>' | '#' | ';' | '"' | '\\')
            || ((i == 0 || i == last) && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The value's whole DER encoding (tag, length, content) in lowercase hex.
fn der_hex(value: &Any<'_>) -> String {
    let data = value.data;
    let mut der = Vec::with_capacity(data.len() + 6);
    let constructed = if value.header.is_constructed() {
        0x20
    } else {
        0
    };
    let class = (value.header.class() as u8) << 6;
    // Attribute values are universal types with small tag numbers.
    der.push(class | constructed | (value.tag().0 as u8 & 0x1f));
    let len = data.len();
    if len < 0x80 {
        der.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        der.push(0x80 | bytes.len() as u8);
        der.extend(bytes);
    }
    der.extend_from_slice(data);
    der.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

    fn cert_with(subject: &[(DnType, &str)]) -> Vec<u8> {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        let mut dn = DistinguishedName::new();
        for (t, v) in subject {
            dn.push(t.clone(), *v);
        }
        params.distinguished_name = dn;
        let key = KeyPair::generate().expect("key");
        params.self_signed(&key).expect("cert").der().to_vec()
    }

    #[test]
    fn most_specific_first_with_rfc_2253_keywords() {
        let der = cert_with(&[
            (DnType::CountryName, "US"),
            (DnType::OrganizationName, "Example, Inc."),
            (DnType::OrganizationalUnitName, "ops"),
            (DnType::CommonName, "client"),
        ]);
        assert_eq!(
            subject_dn(&der).expect("dn"),
            r"CN=client,OU=ops,O=Example\, Inc.,C=US"
        );
    }

    #[test]
    fn other_types_are_oids_with_their_der_in_hex() {
        let der = cert_with(&[
            (
                DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
                "a@b.c",
            ),
            (DnType::CommonName, "x"),
        ]);
        let dn = subject_dn(&der).expect("dn");
        // rcgen writes custom types as UTF8String (tag 0x0c).
        assert_eq!(dn, "CN=x,1.2.840.113549.1.9.1=#0c056140622e63");
    }

    #[test]
    fn escapes_what_rfc_2253_asks() {
        assert_eq!(escape("#a b "), r"\#a b\ ");
        assert_eq!(escape(r#"a+b;c<d>"e\"#), r#"a\+b\;c\<d\>\"e\\"#);
        assert_eq!(escape(" x"), r"\ x");
        assert_eq!(escape("a=b#c"), r"a\=b\#c");
        assert_eq!(escape("a\0b"), r"a\00b");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(subject_dn(b"not a certificate").is_err());
        assert!(subject_dn(&[]).is_err());
    }
}
