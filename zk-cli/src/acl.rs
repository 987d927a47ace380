//! zkCli's ACL syntax (`AclParser`): comma-separated `scheme:id:perms`,
//! e.g. `world:anyone:cdrwa,digest:bob:<hash>:r,ip:10.0.0.0/8:r,auth::cdrwa`.
//! The id is everything between the first and the last colon.

use zk_client::{Acl, Id, perms};

/// The parsed entries plus the complaints zkCli prints to stderr for the
/// parts it skips (`x does not have the form scheme:id:perm`, `Unknown
/// perm type: q`).
pub fn parse(text: &str) -> (Vec<Acl>, Vec<String>) {
    let mut acl = Vec::new();
    let mut warnings = Vec::new();
    for part in text.split(',') {
        let (Some(first), Some(last)) = (part.find(':'), part.rfind(':')) else {
            warnings.push(format!("{part} does not have the form scheme:id:perm"));
            continue;
        };
        if first == last {
            warnings.push(format!("{part} does not have the form scheme:id:perm"));
            continue;
        }
        let mut p = 0;
        for c in part[last + 1..].chars() {
            match c {
                'r' => p |= perms::READ,
                'w' => p |= perms::WRITE,
                'c' => p |= perms::CREATE,
                'd' => p |= perms::DELETE,
                'a' => p |= perms::ADMIN,
                other => warnings.push(format!("Unknown perm type: {other}")),
            }
        }
        acl.push(Acl {
            perms: p,
            id: Id::new(&part[..first], &part[first + 1..last]),
        });
    }
    (acl, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        let (acl, warnings) = parse(
            "world:anyone:cdrwa,digest:bob:JYdjG/dL2+v79QyuS8/0gpT+rQQ=:rw,ip:10.0.0.0/8:r,auth::cdrwa",
        );
        assert!(warnings.is_empty());
        assert_eq!(
            acl,
            vec![
                Acl {
                    perms: perms::ALL,
                    id: Id::anyone()
                },
                Acl {
                    perms: perms::READ | perms::WRITE,
                    id: Id::new("digest", "bob:JYdjG/dL2+v79QyuS8/0gpT+rQQ=")
                },
                Acl {
                    perms: perms::READ,
                    id: Id::new("ip", "10.0.0.0/8")
                },
                Acl {
                    perms: perms::ALL,
                    id: Id::new("auth", "")
                },
            ]
        );
    }

    #[test]
    fn malformed_parts() {
        let (acl, warnings) = parse("world:anyone");
        assert!(acl.is_empty());
        assert_eq!(
            warnings,
            ["world:anyone does not have the form scheme:id:perm"]
        );
        let (acl, warnings) = parse("world:anyone:rxz");
        assert_eq!(acl[0].perms, perms::READ);
        assert_eq!(warnings, ["Unknown perm type: x", "Unknown perm type: z"]);
        let (acl, warnings) = parse("foo");
        assert!(acl.is_empty());
        assert_eq!(warnings, ["foo does not have the form scheme:id:perm"]);
    }
}
