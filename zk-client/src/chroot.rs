//! The chroot suffix of a connect string (`host:2181/app`): every path the
//! caller gives is under it, every path the server returns is cut back.

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chroot(Option<String>);

impl Chroot {
    pub fn new(root: &str) -> Result<Chroot> {
        if root.is_empty() || root == "/" {
            return Ok(Chroot(None));
        }
        check(root, false)?;
        Ok(Chroot(Some(root.to_owned())))
    }

    /// The chroot's server path, if there is one.
    pub fn root(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// The server path of a client path (validated first).
    pub fn apply(&self, path: &str, sequential: bool) -> Result<String> {
        check(path, sequential)?;
        Ok(self.join(path))
    }

    /// The server path of a client path, unchecked (watch re-arming).
    pub fn join(&self, path: &str) -> String {
        match &self.0 {
            None => path.to_owned(),
            Some(root) if path == "/" => root.clone(),
            Some(root) => format!("{root}{path}"),
        }
    }

    /// The client path of a server path.
    pub fn strip(&self, server_path: &str) -> String {
        match &self.0 {
            None => server_path.to_owned(),
            Some(root) => match server_path.strip_prefix(root.as_str()) {
                Some("") => "/".to_owned(),
                Some(rest) if rest.starts_with('/') => rest.to_owned(),
                _ => server_path.to_owned(),
            },
        }
    }
}

/// Catches a bad path before any round trip.
pub fn check(path: &str, sequential: bool) -> Result<()> {
    zk_proto::path::validate_path(path, sequential).map_err(|e| Error::BadPath {
        path: e.path,
        reason: e.reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_and_strip() {
        let c = Chroot::new("/app").expect("valid");
        assert_eq!(c.apply("/", false).ok(), Some("/app".to_owned()));
        assert_eq!(c.apply("/a/b", false).ok(), Some("/app/a/b".to_owned()));
        assert_eq!(c.strip("/app"), "/");
        assert_eq!(c.strip("/app/a"), "/a");
        assert_eq!(c.strip("/apple"), "/apple");
        assert!(matches!(c.apply("a", false), Err(Error::BadPath { .. })));
        let none = Chroot::new("/").expect("root");
        assert_eq!(none.apply("/x", false).ok(), Some("/x".to_owned()));
        assert!(Chroot::new("/bad/").is_err());
    }
}
