//! Tab completion in the interactive shell, like zkCli's
//! `JLineZNodeCompleter`: the first word completes to a command, a word
//! starting with `/` to the children of the node it names so far.

use std::time::Duration;

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use crate::cmd::{COMMANDS, fourlw};
use crate::shell::SharedClient;

pub struct ZkHelper {
    client: SharedClient,
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for ZkHelper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZkHelper").finish_non_exhaustive()
    }
}

impl ZkHelper {
    pub fn new(client: SharedClient, runtime: tokio::runtime::Handle) -> ZkHelper {
        ZkHelper { client, runtime }
    }

    fn children(&self, dir: &str) -> Vec<String> {
        let Some(client) = self.client.lock().ok().and_then(|c| c.clone()) else {
            return Vec::new();
        };
        let listing = client.get_children(dir);
        self.runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(2), listing).await })
            .ok()
            .and_then(Result::ok)
            .map(|(children, _)| children)
            .unwrap_or_default()
    }
}

/// The word being completed: its start in `line` and its text.
pub fn current_word(line: &str, pos: usize) -> (usize, &str) {
    let before = &line[..pos];
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8());
    (start, &before[start..])
}

/// Commands (and bare four-letter words) starting with `prefix`, sorted.
pub fn commands(prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = COMMANDS
        .iter()
        .map(|c| c.name)
        .chain(["exit"])
        .chain(
            fourlw::WORDS
                .iter()
                .copied()
                .filter(|w| fourlw::is_bare_word(w)),
        )
        .filter(|n| n.starts_with(prefix))
        .map(str::to_owned)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Splits a partial path into the node to list and the prefix of the
/// child: `/a/b` -> (`/a`, `b`), `/a/` -> (`/a`, ``), `/x` -> (`/`, `x`).
pub fn path_parts(token: &str) -> (&str, &str) {
    let idx = token.rfind('/').map_or(0, |i| i + 1);
    let dir = if idx <= 1 { "/" } else { &token[..idx - 1] };
    (dir, &token[idx..])
}

/// The full paths of the children of `dir` that start with `prefix`.
pub fn path_candidates(dir: &str, prefix: &str, children: &[String]) -> Vec<String> {
    let mut out: Vec<String> = children
        .iter()
        .filter(|c| c.starts_with(prefix))
        .map(|c| {
            if dir == "/" {
                format!("/{c}")
            } else {
                format!("{dir}/{c}")
            }
        })
        .collect();
    out.sort();
    out
}

impl Completer for ZkHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, word) = current_word(line, pos);
        let found: Vec<Pair> = if word.starts_with('/') {
            let (dir, prefix) = path_parts(word);
            path_candidates(dir, prefix, &self.children(dir))
                .into_iter()
                .map(|p| Pair {
                    display: p.clone(),
                    replacement: p,
                })
                .collect()
        } else if line[..start].trim().is_empty() {
            commands(word)
                .into_iter()
                .map(|c| Pair {
                    display: c.clone(),
                    replacement: format!("{c} "),
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok((start, found))
    }
}

impl Hinter for ZkHelper {
    type Hint = String;
}

impl Highlighter for ZkHelper {}

impl Validator for ZkHelper {}

impl Helper for ZkHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_paths() {
        assert_eq!(current_word("ls /a/b", 7), (3, "/a/b"));
        assert_eq!(current_word("ls /a/b", 4), (3, "/"));
        assert_eq!(current_word("ge", 2), (0, "ge"));
        assert_eq!(current_word("ls ", 3), (3, ""));
        assert_eq!(path_parts("/"), ("/", ""));
        assert_eq!(path_parts("/zo"), ("/", "zo"));
        assert_eq!(path_parts("/zookeeper/"), ("/zookeeper", ""));
        assert_eq!(path_parts("/zookeeper/qu"), ("/zookeeper", "qu"));
        let kids = vec!["quota".to_owned(), "config".to_owned()];
        assert_eq!(
            path_candidates("/zookeeper", "", &kids),
            ["/zookeeper/config", "/zookeeper/quota"]
        );
        assert_eq!(path_candidates("/", "q", &kids), ["/quota"]);
    }

    #[test]
    fn command_names() {
        assert_eq!(
            commands("get"),
            ["get", "getAcl", "getAllChildrenNumber", "getEphemerals"]
        );
        assert_eq!(commands("ru"), ["ruok"]);
        assert!(commands("st").contains(&"stat".to_owned()));
        assert!(commands("").len() > 30);
    }
}
