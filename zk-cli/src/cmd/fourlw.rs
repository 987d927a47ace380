//! Four-letter words: `4lw ruok`, or the word alone (`ruok`, `srvr`,
//! `mntr`, ...; `stat` is zkCli's `stat`, so that one needs `4lw stat`).
//! The word goes to the client port of the server in the connect string
//! (the first that answers) or of `host:port` when given.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::CliError;

/// ZooKeeper 3.9's words (`FourLetterCommands`).
pub const WORDS: &[&str] = &[
    "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro", "mntr", "ruok", "srst",
    "srvr", "stat", "stmk", "wchc", "wchp", "wchs",
];

/// Words that may be typed alone (every word but `stat`).
pub fn is_bare_word(name: &str) -> bool {
    name != "stat" && WORDS.contains(&name)
}

/// `host:port` pairs of a connect string (chroot dropped, port 2181 when
/// missing).
pub fn hosts(connect: &str) -> Vec<String> {
    let hosts = connect.split('/').next().unwrap_or_default();
    hosts
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| {
            let has_port = match h.strip_prefix('[') {
                Some(rest) => rest.contains("]:"),
                None => h.contains(':'),
            };
            if has_port {
                h.to_owned()
            } else {
                format!("{h}:2181")
            }
        })
        .collect()
}

/// Sends `word` to the first of `hosts` that accepts a connection and
/// returns the whole answer.
pub async fn ask(word: &str, hosts: &[String]) -> Result<String, CliError> {
    if word.len() != 4 {
        return Err(CliError::new(format!(
            "{word}: a four-letter word has four letters"
        )));
    }
    let mut last = String::from("no server");
    for h in hosts {
        match ask_one(word, h).await {
            Ok(answer) => return Ok(answer),
            Err(e) => last = format!("{h}: {e}"),
        }
    }
    Err(CliError::new(format!("Unable to send {word}: {last}")))
}

async fn ask_one(word: &str, host: &str) -> std::io::Result<String> {
    let timeout = Duration::from_secs(10);
    let run = async {
        let mut s = TcpStream::connect(host).await?;
        s.write_all(word.as_bytes()).await?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    };
    tokio::time::timeout(timeout, run)
        .await
        .unwrap_or_else(|_| Err(std::io::Error::other("timed out")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_connect_strings() {
        assert_eq!(hosts("a:1,b/app"), ["a:1", "b:2181"]);
        assert_eq!(hosts("[::1]:3, [::2]"), ["[::1]:3", "[::2]:2181"]);
        assert!(is_bare_word("ruok") && is_bare_word("mntr"));
        assert!(!is_bare_word("stat") && !is_bare_word("ls"));
    }
}
