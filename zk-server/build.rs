//! Records when the server was built, for `srvr`, `stat`, `envi` and `mntr`
//! ("built on 2026-12-03 13:45 UTC", as ZooKeeper prints it).
//! `SOURCE_DATE_EPOCH` (reproducible builds) wins over the clock.
//!
//! No `rerun-if` lines on purpose: cargo then reruns this script whenever
//! a file of the package changes, which is exactly when "built on" moves.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn main() {
    let at = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or_else(SystemTime::now, |secs| {
            UNIX_EPOCH + Duration::from_secs(secs)
        });
    // `2026-12-03T13:45:30Z` -> `2026-12-03 13:45 UTC`.
    let iso = humantime::format_rfc3339_seconds(at).to_string();
    let built = format!("{} {} UTC", &iso[..10], &iso[11..16]);
    println!("cargo:rustc-env=ZK_BUILT_ON={built}");
}
