//! Znode path validation, with the rules of ZooKeeper's `PathUtils`.

/// Why a path is not a valid znode path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path {path:?}: {reason}")]
pub struct InvalidPath {
    /// The path as given.
    pub path: String,
    /// ZooKeeper's wording of the rule it breaks.
    pub reason: &'static str,
}

/// Checks an absolute znode path. With `sequential`, the server appends a
/// 10-digit suffix, so a trailing `/` is allowed (`create -s /a/`).
///
/// ```
/// use zk_proto::path::validate_path;
///
/// assert!(validate_path("/app/config", false).is_ok());
/// let err = validate_path("/app/", false).unwrap_err();
/// assert_eq!(err.reason, "path must not end with / character");
/// assert!(validate_path("/app/", true).is_ok());
/// assert!(validate_path("/app/../etc", false).is_err());
/// assert!(validate_path("app", false).is_err());
/// ```
pub fn validate_path(path: &str, sequential: bool) -> Result<(), InvalidPath> {
    let fail = |reason| {
        Err(InvalidPath {
            path: path.to_owned(),
            reason,
        })
    };
    if path.is_empty() {
        return fail("path length must be > 0");
    }
    if !path.starts_with('/') {
        return fail("path must start with / character");
    }
    if path.len() == 1 {
        return if sequential {
            fail("path must not end with / character")
        } else {
            Ok(())
        };
    }
    if path.ends_with('/') && !sequential {
        return fail("path must not end with / character");
    }
    let segments: Vec<&str> = path[1..].split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        // `create -s /a/` names the child by its suffix alone.
        let suffix_follows = sequential && i == segments.len() - 1;
        if segment.is_empty() && !suffix_follows {
            return fail("empty node name specified");
        }
        if *segment == "." || *segment == ".." {
            return fail("relative paths not allowed");
        }
    }
    for c in path.chars() {
        let bad = c == '\u{0}'
            || ('\u{1}'..='\u{1f}').contains(&c)
            || ('\u{7f}'..='\u{9f}').contains(&c)
            || ('\u{e000}'..='\u{f8ff}').contains(&c)
            || ('\u{fff0}'..='\u{ffff}').contains(&c);
        if bad {
            return fail("invalid character");
        }
    }
    Ok(())
}

/// The parent of an absolute path (`/` for top-level nodes).
///
/// ```
/// use zk_proto::path::{base_name, parent};
///
/// assert_eq!(parent("/app/config"), "/app");
/// assert_eq!(parent("/app"), "/");
/// assert_eq!(base_name("/app/config"), "config");
/// ```
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// The last component of an absolute path (empty for `/`).
pub fn base_name(path: &str) -> &str {
    path.rfind('/').map_or(path, |i| &path[i + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects_like_zookeeper() {
        for ok in ["/", "/a", "/a/b", "/a.b", "/...", "/a-b_c"] {
            assert_eq!(validate_path(ok, false), Ok(()), "{ok}");
        }
        for bad in [
            "", "a", "/a/", "//a", "/a//b", "/.", "/a/..", "/a\u{0}", "/a\u{1}b",
        ] {
            assert!(validate_path(bad, false).is_err(), "{bad:?}");
        }
        assert_eq!(validate_path("/a/", true), Ok(()));
        assert_eq!(validate_path("/a/lock-", true), Ok(()));
        assert!(validate_path("/", true).is_err());
        assert!(validate_path("//", true).is_err());
    }

    #[test]
    fn parent_and_base_name() {
        assert_eq!(parent("/a"), "/");
        assert_eq!(parent("/a/b/c"), "/a/b");
        assert_eq!(base_name("/a/b"), "b");
        assert_eq!(base_name("/"), "");
    }
}
