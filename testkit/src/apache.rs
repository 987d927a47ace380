//! Apache ZooKeeper 3.8 (Debian's package) started for a test by
//! `.ci/apache-zk.sh`, and stopped (its directory removed) when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/apache-zk.sh")
}

/// A standalone Apache ZooKeeper serving on a port of 127.0.0.1.
#[derive(Debug)]
pub struct ApacheZk {
    dir: PathBuf,
}

impl ApacheZk {
    /// Starts one in `dir` (wiped first) on `port`, with `lines` added to
    /// its zoo.cfg and `env` for the script (`SERVER_JVMFLAGS`,
    /// `ADMIN_PORT`); returns once it serves. Panics, with the script's
    /// output, if it does not start: the caller checked the package is
    /// there (`tools::debian_classpath`).
    pub fn start(dir: &Path, port: u16, lines: &[String], env: &[(&str, String)]) -> ApacheZk {
        let mut cmd = Command::new(script());
        cmd.arg("start").arg(dir).arg(port.to_string()).args(lines);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let started = cmd.output().expect("apache-zk.sh runs");
        let apache = ApacheZk {
            dir: dir.to_owned(),
        };
        assert!(
            started.status.success(),
            "Apache ZooKeeper did not start: {}",
            String::from_utf8_lossy(&started.stderr)
        );
        apache
    }
}

impl Drop for ApacheZk {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
