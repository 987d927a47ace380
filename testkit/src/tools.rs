//! The outside programs some tests drive, found or provisioned: each
//! function returns what the test needs, or why it cannot have it (the
//! reason a test gives to [`crate::require!`]). What can be installed
//! without root is installed here (kazoo and pytest into a venv under
//! `target/`); what needs root (Debian's `zookeeper` and Curator packages)
//! is only looked for, and the reason says how to get it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian's packages put their jars.
pub const DEBIAN_JARS: &str = "/usr/share/java";

/// The workspace's target directory (`CARGO_TARGET_DIR` when set).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// Runs a command; its output, or why it could not run or failed.
fn run(cmd: &mut Command) -> Result<String, String> {
    let what = format!("{cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        let tail: Vec<&str> = text.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Err(format!(
            "{what} failed ({}): {}",
            out.status,
            tail.join(" | ")
        ))
    }
}

/// A JDK: `java` and `javac` on PATH.
pub fn jdk() -> Result<(), String> {
    run(Command::new("java").arg("-version"))
        .and_then(|_| run(Command::new("javac").arg("-version")))
        .map(drop)
        .map_err(|e| format!("needs a JDK (java and javac): {e}"))
}

/// The classpath of `jars` (names without `.jar`) in Debian's jar
/// directory, or which is missing and the package that brings it.
pub fn debian_classpath(jars: &[&str], package: &str) -> Result<String, String> {
    jdk()?;
    let mut paths = Vec::new();
    for jar in jars {
        let path = Path::new(DEBIAN_JARS).join(format!("{jar}.jar"));
        if !path.exists() {
            return Err(format!(
                "needs {} (apt-get install {package})",
                path.display()
            ));
        }
        paths.push(path.display().to_string());
    }
    Ok(paths.join(":"))
}

/// Apache ZooKeeper's `zkCli.sh` (`ZKCLI`, else Debian's), with a JVM.
pub fn zkcli() -> Result<PathBuf, String> {
    let path = std::env::var_os("ZKCLI")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/zookeeper/bin/zkCli.sh"));
    if !path.exists() {
        return Err(format!(
            "needs Apache ZooKeeper's {} (apt-get install zookeeper)",
            path.display()
        ));
    }
    run(Command::new("java").arg("-version"))
        .map_err(|e| format!("needs a JVM for zkCli.sh: {e}"))?;
    Ok(path)
}

/// A Prometheus server (`PROMETHEUS`, else Debian's `prometheus`).
pub fn prometheus() -> Result<PathBuf, String> {
    let path = std::env::var_os("PROMETHEUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/prometheus"));
    run(Command::new(&path).arg("--version"))
        .map(|_| path.clone())
        .map_err(|e| {
            format!(
                "needs Prometheus at {} (apt-get install prometheus): {e}",
                path.display()
            )
        })
}

/// Chromium and its WebDriver (`chromedriver`), Debian's `chromium` and
/// `chromium-driver`: the paths of both.
pub fn chromium() -> Result<(PathBuf, PathBuf), String> {
    let browser =
        PathBuf::from(std::env::var_os("CHROMIUM").unwrap_or_else(|| "/usr/bin/chromium".into()));
    let driver = PathBuf::from(
        std::env::var_os("CHROMEDRIVER").unwrap_or_else(|| "/usr/bin/chromedriver".into()),
    );
    for path in [&browser, &driver] {
        if !path.exists() {
            return Err(format!(
                "needs {} (apt-get install chromium chromium-driver)",
                path.display()
            ));
        }
    }
    run(Command::new(&driver).arg("--version"))
        .map_err(|e| format!("chromedriver does not run: {e}"))?;
    Ok((browser, driver))
}

/// A Docker engine this process can use, with `image` present locally
/// (there is no registry to pull from here).
pub fn docker_image(image: &str) -> Result<(), String> {
    run(Command::new("docker").args(["version", "--format", "{{.Server.Version}}"]))
        .map_err(|e| format!("needs a Docker engine: {e}"))?;
    run(Command::new("docker").args(["image", "inspect", "--format", "{{.Id}}", image]))
        .map(drop)
        .map_err(|_| {
            format!(
                "needs the image {image} (deploy/build-image.sh builds zk-rs:latest, \
                 deploy/build-prometheus-image.sh zk-rs-prometheus:latest)"
            )
        })
}

/// Whether this process runs as root (mounting a tmpfs needs it).
pub fn root() -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .unwrap_or("?");
    if uid == "0" {
        Ok(())
    } else {
        Err(format!("needs root (effective uid {uid}) to mount a tmpfs"))
    }
}

/// A Python with kazoo and pytest at the versions in
/// `interop/kazoo/requirements.txt`: a venv in `target/venv-kazoo`, made on
/// first use (pip from PyPI), reused while the requirements are the same.
pub fn kazoo_python() -> Result<PathBuf, String> {
    let requirements =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop/kazoo/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    let venv = target_dir().join("venv-kazoo");
    let python = venv.join("bin/python");
    let stamp = venv.join("requirements.txt");
    let up_to_date = || std::fs::read_to_string(&stamp).is_ok_and(|had| had == wanted);
    if up_to_date() {
        return Ok(python);
    }
    std::fs::create_dir_all(target_dir()).map_err(|e| format!("cannot create target/: {e}"))?;
    // Test binaries run in parallel: one of them builds the venv.
    let lock_path = target_dir().join("venv-kazoo.lock");
    let lock = std::fs::File::create(&lock_path)
        .map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
    if up_to_date() {
        return Ok(python);
    }
    let _ = std::fs::remove_dir_all(&venv);
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv)).map_err(|e| {
        format!("needs python3 with venv (Debian: apt-get install python3-venv): {e}")
    })?;
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements))
    .map_err(|e| format!("cannot install kazoo and pytest from PyPI: {e}"))?;
    std::fs::write(&stamp, &wanted)
        .map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    Ok(python)
}
