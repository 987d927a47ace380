//! zkCli's znode commands, one module per family. Each takes the words of
//! the line after the command name, writes into an [`Out`] and returns
//! whether it failed (and how: the message zkCli prints and the exit code).

mod acl;
mod auth;
mod create;
mod delete;
pub mod fourlw;
mod info;
mod ls;
mod quota;
mod read;
mod watch;

use zk_client::{Client, Error};

use crate::events::Events;
use crate::format;
use crate::opts::{self, Parsed, Spec};
use crate::output::Out;

/// A failed command: the message for stderr and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub message: String,
    pub code: i32,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            code: 1,
        }
    }

    /// A failed call on `path`, worded like zkCli.
    pub fn zk(err: &Error, path: &str) -> CliError {
        CliError::new(format::error(err, path))
    }
}

pub type CmdResult = Result<(), CliError>;

/// What a command works with.
#[derive(Debug)]
pub struct Ctx<'a> {
    pub client: &'a Client,
    pub out: &'a mut Out,
    pub events: &'a Events,
    /// The connect string has a chroot (`config -w` cannot watch then).
    pub chroot: bool,
}

/// A command: its name, zkCli's option string (for the usage lines) and
/// whether it talks to the server.
#[derive(Debug, Clone, Copy)]
pub struct CommandInfo {
    pub name: &'static str,
    pub usage: &'static str,
}

/// Every command, for `help` and completion (sorted like zkCli's usage).
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        name: "4lw",
        usage: "word [host:port] # a four-letter word: ruok, srvr, stat, mntr, conf, ...",
    },
    CommandInfo {
        name: "addWatch",
        usage: "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
    },
    CommandInfo {
        name: "addauth",
        usage: "scheme auth",
    },
    CommandInfo {
        name: "close",
        usage: "",
    },
    CommandInfo {
        name: "config",
        usage: "[-c] [-w] [-s]",
    },
    CommandInfo {
        name: "connect",
        usage: "host:port",
    },
    CommandInfo {
        name: "create",
        usage: "[-s] [-e] [-c] [-t ttl] path [data] [acl]",
    },
    CommandInfo {
        name: "delete",
        usage: "[-v version] path",
    },
    CommandInfo {
        name: "deleteall",
        usage: "path [-b batch size]",
    },
    CommandInfo {
        name: "delquota",
        usage: "[-n|-b|-N|-B] path",
    },
    CommandInfo {
        name: "get",
        usage: "[-s] [-w] [-b] [-x] path",
    },
    CommandInfo {
        name: "getAcl",
        usage: "[-s] path",
    },
    CommandInfo {
        name: "getAllChildrenNumber",
        usage: "path",
    },
    CommandInfo {
        name: "getEphemerals",
        usage: "path",
    },
    CommandInfo {
        name: "help",
        usage: "",
    },
    CommandInfo {
        name: "history",
        usage: "",
    },
    CommandInfo {
        name: "listquota",
        usage: "path",
    },
    CommandInfo {
        name: "ls",
        usage: "[-s] [-w] [-R] path",
    },
    CommandInfo {
        name: "printwatches",
        usage: "on|off",
    },
    CommandInfo {
        name: "quit",
        usage: "",
    },
    CommandInfo {
        name: "redo",
        usage: "cmdno",
    },
    CommandInfo {
        name: "removewatches",
        usage: "path [-c|-d|-p|-r|-a] [-l]",
    },
    CommandInfo {
        name: "set",
        usage: "path data [-s] [-v version] [-b]",
    },
    CommandInfo {
        name: "setAcl",
        usage: "[-s] [-v version] [-R] path acl",
    },
    CommandInfo {
        name: "setquota",
        usage: "-n|-b|-N|-B val path",
    },
    CommandInfo {
        name: "stat",
        usage: "[-w] path",
    },
    CommandInfo {
        name: "sync",
        usage: "path",
    },
    CommandInfo {
        name: "version",
        usage: "",
    },
    CommandInfo {
        name: "whoami",
        usage: "",
    },
];

/// `cmd options`, as zkCli's `getUsageStr()`.
pub fn usage_of(name: &str) -> String {
    let usage = COMMANDS
        .iter()
        .find(|c| c.name == name)
        .map_or("", |c| c.usage);
    format!("{name} {usage}")
}

/// The usage block zkCli prints for `help` or an unknown command.
pub fn usage() -> String {
    let mut s = String::from(
        "zkcli -server host:port[,host:port...][/chroot] [-timeout ms] [-r] [cmd args]\n",
    );
    for c in COMMANDS {
        s.push_str(&format!("\t{} {}\n", c.name, c.usage));
    }
    s
}

/// Whether `name` is a command that needs a session (the znode commands).
pub fn is_znode_command(name: &str) -> bool {
    matches!(
        name,
        "ls" | "create"
            | "get"
            | "set"
            | "stat"
            | "delete"
            | "deleteall"
            | "rmr"
            | "getAcl"
            | "setAcl"
            | "addauth"
            | "sync"
            | "addWatch"
            | "removewatches"
            | "getEphemerals"
            | "getAllChildrenNumber"
            | "whoami"
            | "config"
            | "setquota"
            | "listquota"
            | "delquota"
    )
}

/// Runs a znode command (`is_znode_command`).
pub async fn run(ctx: &mut Ctx<'_>, name: &str, args: &[String]) -> CmdResult {
    match name {
        "ls" => ls::ls(ctx, args).await,
        "create" => create::create(ctx, args).await,
        "get" => read::get(ctx, args).await,
        "set" => read::set(ctx, args).await,
        "stat" => read::stat(ctx, args).await,
        "delete" => delete::delete(ctx, args).await,
        "deleteall" | "rmr" => delete::deleteall(ctx, args).await,
        "getAcl" => acl::get_acl(ctx, args).await,
        "setAcl" => acl::set_acl(ctx, args).await,
        "addauth" => auth::addauth(ctx, args).await,
        "whoami" => auth::whoami(ctx, args).await,
        "sync" => info::sync(ctx, args).await,
        "getEphemerals" => info::get_ephemerals(ctx, args).await,
        "getAllChildrenNumber" => info::get_all_children_number(ctx, args).await,
        "config" => info::config(ctx, args).await,
        "addWatch" => watch::add_watch(ctx, args).await,
        "removewatches" => watch::remove_watches(ctx, args).await,
        "setquota" => quota::setquota(ctx, args).await,
        "listquota" => quota::listquota(ctx, args).await,
        "delquota" => quota::delquota(ctx, args).await,
        other => Err(CliError {
            message: format!("Command not found: {other}"),
            code: 127,
        }),
    }
}

/// Parses flags; a bad flag is a usage error.
pub(crate) fn parse(spec: &Spec, args: &[String]) -> Result<Parsed, CliError> {
    opts::parse(spec, args).map_err(|e| CliError::new(e.to_string()))
}

/// The usage error of command `name`.
pub(crate) fn usage_error(name: &str) -> CliError {
    CliError::new(usage_of(name))
}

/// `-v version` as an int (zkCli dies on a bad number; we say so).
pub(crate) fn version_flag(p: &Parsed) -> Result<Option<i32>, CliError> {
    match p.value('v') {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| CliError::new(format!("-v argument must be an int value: {v}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_lines() {
        assert_eq!(usage_of("ls"), "ls [-s] [-w] [-R] path");
        assert_eq!(usage_of("whoami"), "whoami ");
        let u = usage();
        assert!(u.contains("\tcreate [-s] [-e] [-c] [-t ttl] path [data] [acl]\n"));
        let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "usage is listed sorted, like zkCli's");
    }
}
