//! Who an admin request comes from: `Authorization: digest user:password`
//! as ZooKeeper 3.9's AdminServer takes it (the scheme and the same text
//! `addauth` takes). The ids are checked against the ACL of `/`.

use axum::http::StatusCode;
use zk_proto::data::Id;

use crate::tree::acl::authenticate;

/// The ids `authorization` proves, or the status to refuse with: 401 when
/// there is none, 403 when it does not authenticate.
pub fn ids(authorization: Option<&str>, super_digest: Option<&str>) -> Result<Vec<Id>, StatusCode> {
    let Some(value) = authorization else {
        return Err(StatusCode::UNAUTHORIZED);
    };
    let (scheme, credentials) = value.trim().split_once(' ').ok_or(StatusCode::FORBIDDEN)?;
    // The peer address is not used by the digest scheme; `ip` is not an
    // admin scheme (ZooKeeper takes digest and x509 there).
    if scheme != "digest" {
        return Err(StatusCode::FORBIDDEN);
    }
    let unspecified = std::net::IpAddr::from([0, 0, 0, 0]);
    authenticate(
        scheme,
        credentials.trim().as_bytes(),
        super_digest,
        unspecified,
    )
    .map_err(|_| StatusCode::FORBIDDEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_credentials_give_the_digest_id() {
        let ids = ids(Some("digest admin:secret"), None).expect("ids");
        assert_eq!(ids.len(), 1);
        assert_eq!(ids[0].scheme, "digest");
        assert!(ids[0].id.starts_with("admin:"));
    }

    #[test]
    fn missing_or_foreign_credentials_are_refused() {
        assert_eq!(ids(None, None).err(), Some(StatusCode::UNAUTHORIZED));
        assert_eq!(
            ids(Some("Basic YTpi"), None).err(),
            Some(StatusCode::FORBIDDEN)
        );
        assert_eq!(
            ids(Some("digest nocolon"), None).err(),
            Some(StatusCode::FORBIDDEN)
        );
    }

    #[test]
    fn the_super_digest_gives_super() {
        let digest = crate::tree::acl::digest_of("super:pw").expect("digest");
        let ids = ids(Some("digest super:pw"), Some(&digest)).expect("ids");
        assert!(ids.iter().any(|id| id.scheme == "super"));
    }
}
