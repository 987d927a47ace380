//! ACL schemes and checks, as ZooKeeper's `checkACL` and `fixupACL` do them.
//!
//! Schemes: `world:anyone`, `auth` (the creator's authenticated ids),
//! `digest` (`user:base64(sha1(user:password))`), `ip` (an address or a
//! CIDR block), `x509` (a TLS client certificate's subject), `sasl` (the
//! user a SASL exchange proved). A connection authenticated as a super
//! user carries the id `super:` and passes every check.

use std::net::IpAddr;

use base64::Engine;
use sha1::{Digest, Sha1};
use zk_proto::ErrorCode;
use zk_proto::data::{Acl, ClientInfo, Id};

/// `user:password` -> `user:base64(sha1(user:password))`.
pub fn digest_of(user_password: &str) -> Option<String> {
    let (user, _) = user_password.split_once(':')?;
    let hash = Sha1::digest(user_password.as_bytes());
    Some(format!(
        "{user}:{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    ))
}

/// The ids an `addauth` adds to a connection, or `AuthFailed`. `ip` adds
/// the peer's own address whatever the client sends, as ZooKeeper's
/// `IPAuthenticationProvider` does.
pub fn authenticate(
    scheme: &str,
    auth: &[u8],
    super_digest: Option<&str>,
    peer: IpAddr,
) -> Result<Vec<Id>, ErrorCode> {
    match scheme {
        "ip" => Ok(vec![Id::new("ip", &peer.to_canonical().to_string())]),
        "digest" => {
            let text = std::str::from_utf8(auth).map_err(|_| ErrorCode::AuthFailed)?;
            let digest = digest_of(text).ok_or(ErrorCode::AuthFailed)?;
            let mut ids = Vec::with_capacity(2);
            if super_digest == Some(digest.as_str()) {
                ids.push(Id::new("super", ""));
            }
            ids.push(Id::new("digest", &digest));
            Ok(ids)
        }
        _ => Err(ErrorCode::AuthFailed),
    }
}

/// Whether `auth` may do `perm` on a node with `acl`.
pub fn allowed(acl: &[Acl], perm: i32, auth: &[Id]) -> bool {
    if acl.is_empty() || auth.iter().any(|id| id.scheme == "super") {
        return true;
    }
    acl.iter().filter(|a| a.perms & perm != 0).any(|a| {
        let id = &a.id;
        (id.scheme == "world" && id.id == "anyone")
            || auth
                .iter()
                .filter(|mine| mine.scheme == id.scheme)
                .any(|mine| matches(&id.scheme, &mine.id, &id.id))
    })
}

pub fn check(acl: &[Acl], perm: i32, auth: &[Id]) -> Result<(), ErrorCode> {
    if allowed(acl, perm, auth) {
        Ok(())
    } else {
        Err(ErrorCode::NoAuth)
    }
}

fn matches(scheme: &str, mine: &str, acl_id: &str) -> bool {
    match scheme {
        "digest" | "x509" => mine == acl_id,
        // SASLAuthenticationProvider.matches: the sasl user `super`
        // matches any sasl entry.
        "sasl" => mine == acl_id || mine == "super",
        "ip" => ip_matches(mine, acl_id),
        _ => false,
    }
}

/// Schemes whose ids a client proved (`isAuthenticated` in ZooKeeper):
/// what the `auth` scheme expands to. `ip` and `super` are not.
const PROVEN: &[&str] = &["digest", "sasl", "x509"];

/// Parses `addr` or `addr/bits`.
fn parse_cidr(spec: &str) -> Option<(IpAddr, u32)> {
    let (addr, bits) = match spec.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u32>().ok()?)),
        None => (spec, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((addr, bits))
}

fn ip_matches(client: &str, spec: &str) -> bool {
    let (Ok(client), Some((net, bits))) = (client.parse::<IpAddr>(), parse_cidr(spec)) else {
        return false;
    };
    match (client, net) {
        (IpAddr::V4(c), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(c) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(c), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(c) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Validates an ACL for create and setACL and expands `auth` entries into
/// the caller's authenticated ids (`PrepRequestProcessor.fixupACL`).
pub fn fixup(acl: &[Acl], auth: &[Id]) -> Result<Vec<Acl>, ErrorCode> {
    if acl.is_empty() {
        return Err(ErrorCode::InvalidAcl);
    }
    let mut out: Vec<Acl> = Vec::with_capacity(acl.len());
    let mut push = |a: Acl| {
        if !out.contains(&a) {
            out.push(a);
        }
    };
    for a in acl {
        match a.id.scheme.as_str() {
            "world" if a.id.id == "anyone" => push(a.clone()),
            "auth" => {
                // Only ids a client proved count; ip and super are not.
                let mut any = false;
                for id in auth
                    .iter()
                    .filter(|id| PROVEN.contains(&id.scheme.as_str()))
                {
                    any = true;
                    push(Acl {
                        perms: a.perms,
                        id: id.clone(),
                    });
                }
                if !any {
                    return Err(ErrorCode::InvalidAcl);
                }
            }
            "digest" if a.id.id.split(':').count() == 2 => push(a.clone()),
            "x509" | "sasl" if !a.id.id.is_empty() => push(a.clone()),
            "ip" if parse_cidr(&a.id.id).is_some() => push(a.clone()),
            _ => return Err(ErrorCode::InvalidAcl),
        }
    }
    Ok(out)
}

/// What `whoAmI` reports for a connection's ids.
pub fn client_infos(auth: &[Id]) -> Vec<ClientInfo> {
    auth.iter()
        .map(|id| ClientInfo {
            auth_scheme: id.scheme.clone(),
            user: match id.scheme.as_str() {
                "digest" => id.id.split(':').next().unwrap_or_default().to_owned(),
                _ => id.id.clone(),
            },
        })
        .collect()
}

/// `getACL` without ADMIN masks digest hashes (`user:x`).
pub fn mask_digests(acl: &[Acl]) -> Vec<Acl> {
    acl.iter()
        .map(|a| {
            let mut a = a.clone();
            if a.id.scheme == "digest" {
                let user = a.id.id.split(':').next().unwrap_or_default();
                a.id.id = format!("{user}:x");
            }
            a
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use zk_proto::data::perms;

    #[test]
    fn digest_matches_zookeeper() {
        // The digest of super:test from ZooKeeper's admin guide example set.
        assert_eq!(
            digest_of("super:test").as_deref(),
            Some("super:D/InIHSb7yEEbrWz8b9l71RjZJU=")
        );
    }

    #[test]
    fn ip_cidr() {
        assert!(ip_matches("10.1.2.3", "10.1.0.0/16"));
        assert!(!ip_matches("10.2.2.3", "10.1.0.0/16"));
        assert!(ip_matches("127.0.0.1", "127.0.0.1"));
        assert!(ip_matches("::1", "::1/128"));
        assert!(ip_matches("1.2.3.4", "0.0.0.0/0"));
    }

    #[test]
    fn checks_and_fixup() {
        let me = vec![Id::new("ip", "127.0.0.1"), Id::new("digest", "u:h")];
        let acl = vec![Acl {
            perms: perms::READ,
            id: Id::new("digest", "u:h"),
        }];
        assert!(allowed(&acl, perms::READ, &me));
        assert!(!allowed(&acl, perms::WRITE, &me));
        assert!(allowed(&acl, perms::WRITE, &[Id::new("super", "")]));
        let fixed = fixup(&Acl::creator_all(), &me).unwrap_or_default();
        assert_eq!(
            fixed,
            vec![Acl {
                perms: perms::ALL,
                id: Id::new("digest", "u:h")
            }]
        );
        assert_eq!(
            fixup(&Acl::creator_all(), &me[..1]),
            Err(ErrorCode::InvalidAcl)
        );
        assert_eq!(
            fixup(
                &[Acl {
                    perms: 1,
                    id: Id::new("world", "x")
                }],
                &me
            ),
            Err(ErrorCode::InvalidAcl)
        );
    }

    #[test]
    fn x509_and_sasl_ids_match_exactly_and_expand_auth() {
        let me = vec![
            Id::new("ip", "127.0.0.1"),
            Id::new("x509", "CN=client,O=zk"),
            Id::new("sasl", "alice"),
        ];
        let only = |scheme: &str, id: &str| {
            vec![Acl {
                perms: perms::ALL,
                id: Id::new(scheme, id),
            }]
        };
        assert!(allowed(&only("x509", "CN=client,O=zk"), perms::READ, &me));
        assert!(!allowed(&only("x509", "CN=client"), perms::READ, &me));
        assert!(allowed(&only("sasl", "alice"), perms::READ, &me));
        assert!(!allowed(&only("sasl", "bob"), perms::READ, &me));
        // The sasl user `super` matches any sasl entry, as in ZooKeeper.
        assert!(allowed(
            &only("sasl", "bob"),
            perms::READ,
            &[Id::new("sasl", "super")]
        ));
        let fixed = fixup(&Acl::creator_all(), &me).expect("proven ids");
        assert_eq!(
            fixed,
            [only("x509", "CN=client,O=zk"), only("sasl", "alice")].concat()
        );
        assert_eq!(fixup(&only("x509", ""), &me), Err(ErrorCode::InvalidAcl));
    }
}
