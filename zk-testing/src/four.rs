//! Asking a server what it is, the way operators do: `srvr`'s `Mode:`.
//! Readiness is a server that serves (it has a leader), not a log line.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `srvr`'s `Mode:` (`standalone`, `leader`, `follower`, ...), if `addr`
/// answers within a second.
pub(crate) async fn mode(addr: &str) -> Option<String> {
    let ask = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        s.write_all(b"srvr").await.ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).await.ok()?;
        out.lines()
            .find_map(|l| l.strip_prefix("Mode: "))
            .map(str::to_owned)
    };
    tokio::time::timeout(Duration::from_secs(1), ask)
        .await
        .ok()
        .flatten()
}

/// Whether a mode serves clients.
pub(crate) fn serves(mode: &str) -> bool {
    matches!(mode, "standalone" | "leader" | "follower" | "observer")
}
