//! Tests that need what a machine may lack (a JVM and Apache ZooKeeper's
//! zkCli, kazoo, root for a tmpfs, a server option): such a test finds out
//! at run time, and when it cannot run it says so and returns, through
//! [`crate::skip!`] or [`crate::require!`].
//!
//! libtest has no run-time "skipped", so the test itself shows as passed;
//! the record is what makes it count as skipped. It goes to stderr and, when
//! `ZK_TEST_SKIP_LOG` names a file, as a line `crate::test<TAB>reason` to
//! that file. `./test.sh` sets it, lists every skipped test with its reason
//! in its summary, subtracts them from the passed count, and fails under
//! `CI=true` if any test was skipped.

use std::io::Write;

/// The environment variable naming the file skip records are appended to.
pub const SKIP_LOG: &str = "ZK_TEST_SKIP_LOG";

/// Records that the calling test does not run, and why: `skip!("needs {x}")`.
/// The test returns right after.
#[macro_export]
macro_rules! skip {
    ($($reason:tt)+) => {
        $crate::skip::record(env!("CARGO_CRATE_NAME"), &format!($($reason)+))
    };
}

/// `require!(expr)` evaluates a `Result<T, String>`: the `T`, or (on `Err`,
/// the reason) records a skip and returns from the test.
#[macro_export]
macro_rules! require {
    ($needed:expr) => {
        match $needed {
            Ok(found) => found,
            Err(why) => {
                $crate::skip!("{why}");
                return;
            }
        }
    };
}

/// Writes the skip record for the test running on this thread (libtest
/// names a test's thread after the test).
pub fn record(krate: &str, reason: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("unnamed");
    let line = format!("{krate}::{test}\t{}\n", reason.replace(['\n', '\t'], " "));
    eprint!("SKIPPED {line}");
    let Some(path) = std::env::var_os(SKIP_LOG) else {
        return;
    };
    // One short append per record: parallel tests do not interleave lines.
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        panic!("cannot record the skip in {}: {e}", path.to_string_lossy());
    }
}
