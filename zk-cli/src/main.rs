//! `zkcli`: a ZooKeeper shell with zkCli.sh's commands, flags and output.
//!
//! ```text
//! zkcli -server 127.0.0.1:2181            interactive shell (history, tab completion)
//! zkcli -server 127.0.0.1:2181 ls /       one command; exit status 0 on success
//! zkcli -server 127.0.0.1:2181 < script   one command per line of stdin
//! ```

mod acl;
mod args;
mod client_config;
mod cmd;
mod complete;
mod events;
mod format;
mod opts;
mod output;
mod shell;
mod stats_track;
mod tokenize;

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};

use crate::args::Args;
use crate::output::{Out, Printer};
use crate::shell::{ConnectOptions, Flow, Shell};

fn main() -> ExitCode {
    let args = Args::parse_from(args::normalize(std::env::args()));
    match run(args) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("zkcli: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let oneshot = !args.command.is_empty();
    let interactive = !oneshot && std::io::stdin().is_terminal();
    let printer = Arc::new(Printer::new());
    let flags = ["JVMFLAGS", "CLIENT_JVMFLAGS"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .collect::<Vec<_>>()
        .join(" ");
    let security = client_config::load(args.client_configuration.as_deref(), &flags)
        .map_err(anyhow::Error::msg)
        .context("client configuration")?;
    let opts = ConnectOptions {
        server: args.server.clone(),
        timeout: Duration::from_millis(args.timeout),
        read_only: args.read_only,
        tls: security.tls,
        sasl: security.sasl,
    };
    let mut shell = runtime.block_on(async { Shell::new(opts, printer.clone(), interactive) });
    if interactive {
        let mut out = Out::default();
        out.line(format!("Connecting to {}", args.server));
        out.line("Welcome to ZooKeeper!");
        printer.write(&mut out);
    }
    // A four-letter word needs no session: `zkcli srvr` answers also from a
    // server that takes no sessions (one looking for a leader), which is
    // when an operator or a probe asks.
    let word_only = oneshot
        && matches!(args.command.first().map(String::as_str), Some(w) if w == "4lw" || cmd::fourlw::is_bare_word(w));
    let connected = if word_only {
        Ok(())
    } else {
        runtime.block_on(shell.connect())
    };
    let code = match connected {
        Err(e) if oneshot => {
            let mut out = Out::default();
            out.err(e.message);
            printer.write(&mut out);
            1
        }
        _ => {
            if let Err(e) = connected {
                let mut out = Out::default();
                out.err(e.message);
                printer.write(&mut out);
            }
            if oneshot {
                runtime.block_on(shell.execute_words(&args.command));
            } else if interactive {
                repl(&runtime, &mut shell)?;
            } else {
                script(&runtime, &mut shell)?;
            }
            shell.exit_code()
        }
    };
    runtime.block_on(shell.shutdown());
    Ok(code)
}

/// Commands from a pipe or file, one a line, no prompt.
fn script(runtime: &tokio::runtime::Runtime, shell: &mut Shell) -> anyhow::Result<()> {
    for line in std::io::stdin().lock().lines() {
        let line = line.context("reading stdin")?;
        if runtime.block_on(shell.execute_line(&line)) == Flow::Quit {
            break;
        }
    }
    Ok(())
}

fn history_file() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".zkcli_history"))
}

/// The interactive shell: line editing, history, completion.
fn repl(runtime: &tokio::runtime::Runtime, shell: &mut Shell) -> anyhow::Result<()> {
    let config = Config::builder()
        .auto_add_history(true)
        .completion_type(CompletionType::List)
        .build();
    let mut editor: Editor<complete::ZkHelper, DefaultHistory> =
        Editor::with_config(config).context("starting the line editor")?;
    editor.set_helper(Some(complete::ZkHelper::new(
        shell.shared_client(),
        runtime.handle().clone(),
    )));
    let history = history_file();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    loop {
        match editor.readline(&shell.prompt()) {
            Ok(line) => {
                if runtime.block_on(shell.execute_line(&line)) == Flow::Quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e).context("reading a line"),
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(())
}
