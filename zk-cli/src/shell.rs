//! The session of the shell: the connection, the history, the exit code,
//! and the commands that are about the shell rather than znodes
//! (`connect`, `close`, `history`, `redo`, `printwatches`, `quit`, ...).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use zk_client::{Client, SessionState};

use crate::cmd::{self, CliError, Ctx, fourlw};
use crate::events::Events;
use crate::output::{Out, Printer};
use crate::tokenize;

/// After a command: go on or leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// How to connect (from the command line).
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub server: String,
    pub timeout: Duration,
    pub read_only: bool,
    pub tls: Option<zk_client::tls::ClientTls>,
    pub sasl: Option<zk_client::sasl::SaslCredentials>,
}

/// The client the shell uses now; the completer reads it too.
pub type SharedClient = Arc<Mutex<Option<Client>>>;

#[derive(Debug)]
pub struct Shell {
    opts: ConnectOptions,
    client: SharedClient,
    events: Events,
    events_task: JoinHandle<()>,
    printer: Arc<Printer>,
    history: Vec<String>,
    exit_code: i32,
    interactive: bool,
}

/// zkCli's names of the client states (`ZooKeeper.States`).
pub fn state_name(state: Option<SessionState>) -> &'static str {
    match state {
        Some(SessionState::Connecting | SessionState::Disconnected) => "CONNECTING",
        Some(SessionState::Connected) => "CONNECTED",
        Some(SessionState::ConnectedReadOnly) => "CONNECTEDREADONLY",
        Some(SessionState::AuthFailed) => "AUTH_FAILED",
        Some(SessionState::Expired | SessionState::Closed) | None => "CLOSED",
    }
}

impl Shell {
    /// Must run inside the runtime (it starts the event printer).
    pub fn new(opts: ConnectOptions, printer: Arc<Printer>, interactive: bool) -> Shell {
        let (events, events_task) = Events::start(printer.clone(), interactive);
        Shell {
            opts,
            client: Arc::new(Mutex::new(None)),
            events,
            events_task,
            printer,
            history: Vec::new(),
            exit_code: 0,
            interactive,
        }
    }

    pub fn shared_client(&self) -> SharedClient {
        self.client.clone()
    }

    pub fn exit_code(&self) -> i32 {
        self.exit_code
    }

    fn client(&self) -> Option<Client> {
        self.client.lock().ok().and_then(|c| c.clone())
    }

    fn set_client(&self, client: Option<Client>) {
        if let Ok(mut c) = self.client.lock() {
            *c = client;
        }
    }

    /// `[zk: host:port(CONNECTED) 3] `
    pub fn prompt(&self) -> String {
        format!(
            "[zk: {}({}) {}] ",
            self.opts.server,
            state_name(self.client().map(|c| c.state())),
            self.history.len()
        )
    }

    /// Connects to the server of the options (closing any session first).
    pub async fn connect(&mut self) -> Result<(), CliError> {
        if let Some(old) = self.client() {
            old.close().await;
        }
        self.set_client(None);
        let builder = Client::builder(&self.opts.server)
            .map_err(|e| {
                CliError::new(format!("Invalid connect string {}: {e}", self.opts.server))
            })?
            .session_timeout(self.opts.timeout)
            .connect_timeout(self.opts.timeout)
            .can_be_read_only(self.opts.read_only);
        let builder = match &self.opts.tls {
            Some(tls) => builder.tls(tls.clone()),
            None => builder,
        };
        let builder = match &self.opts.sasl {
            Some(sasl) => builder.sasl(sasl.clone()),
            None => builder,
        };
        match builder.connect().await {
            Ok(client) => {
                self.events.follow(&client);
                if self.interactive {
                    self.events
                        .connected(client.state() == SessionState::ConnectedReadOnly);
                }
                self.set_client(Some(client));
                Ok(())
            }
            Err(e) => Err(CliError::new(format!(
                "Unable to connect to {}: {}",
                self.opts.server,
                crate::format::connect_error(&e)
            ))),
        }
    }

    /// Runs one line typed or read from stdin; zkCli numbers it, keeps it
    /// in the history and remembers its exit code.
    pub async fn execute_line(&mut self, line: &str) -> Flow {
        let words = tokenize::split(line);
        if words.is_empty() {
            return Flow::Continue;
        }
        self.history.push(line.to_owned());
        let words = if words[0] == "redo" {
            match self.redo(&words) {
                Ok(w) => w,
                Err(e) => {
                    self.fail(e);
                    return Flow::Continue;
                }
            }
        } else {
            words
        };
        self.run(&words).await
    }

    /// Runs the command of a one-shot invocation.
    pub async fn execute_words(&mut self, words: &[String]) -> Flow {
        self.run(words).await
    }

    fn fail(&mut self, e: CliError) {
        let mut out = Out::default();
        out.err(&e.message);
        self.printer.write(&mut out);
        self.exit_code = e.code;
    }

    async fn run(&mut self, words: &[String]) -> Flow {
        let mut out = Out::default();
        let result = self.dispatch(words, &mut out).await;
        let flow = match result {
            Ok(Flow::Quit) => Flow::Quit,
            Ok(Flow::Continue) => {
                self.exit_code = 0;
                Flow::Continue
            }
            Err(e) => {
                out.err(&e.message);
                self.exit_code = e.code;
                Flow::Continue
            }
        };
        self.printer.write(&mut out);
        flow
    }

    /// `redo n`: the words of command `n`, which becomes this command.
    fn redo(&mut self, words: &[String]) -> Result<Vec<String>, CliError> {
        let count = self.history.len() - 1;
        let Some(n) = words.get(1) else {
            return Err(CliError::new(cmd::usage_of("redo")));
        };
        let i: usize = n
            .parse()
            .ok()
            .filter(|i| *i < count)
            .ok_or_else(|| CliError::new("Command index out of range"))?;
        let line = self.history[i].clone();
        let redone = tokenize::split(&line);
        if redone.first().map(String::as_str) == Some("redo") {
            return Err(CliError::new("No redoing redos"));
        }
        self.history[count] = line;
        Ok(redone)
    }

    async fn dispatch(&mut self, words: &[String], out: &mut Out) -> Result<Flow, CliError> {
        let (name, args) = (words[0].as_str(), &words[1..]);
        match name {
            "quit" | "exit" => return Ok(Flow::Quit),
            "help" => out.text(cmd::usage()),
            "history" => {
                let count = self.history.len().saturating_sub(1);
                for i in count.saturating_sub(10)..=count {
                    if let Some(line) = self.history.get(i) {
                        out.line(format!("{i} - {line}"));
                    }
                }
            }
            "redo" => return Err(CliError::new(cmd::usage_of("redo"))),
            "printwatches" => match args.first() {
                None => out.line(format!(
                    "printwatches is {}",
                    if self.events.print_watches() {
                        "on"
                    } else {
                        "off"
                    }
                )),
                Some(v) => self.events.set_print_watches(v == "on"),
            },
            "version" => out.line(format!(
                "ZooKeeper CLI version: zkcli {} (zk-rs)",
                env!("CARGO_PKG_VERSION")
            )),
            "connect" => {
                if let Some(server) = args.first() {
                    self.opts.server = server.clone();
                }
                self.connect().await?;
            }
            "close" => {
                if let Some(c) = self.client() {
                    c.close().await;
                }
            }
            "4lw" => {
                let Some(word) = args.first() else {
                    return Err(CliError::new(cmd::usage_of("4lw")));
                };
                let hosts = match args.get(1) {
                    Some(h) => vec![h.clone()],
                    None => fourlw::hosts(&self.opts.server),
                };
                print_answer(out, &fourlw::ask(word, &hosts).await?);
            }
            w if fourlw::is_bare_word(w) => {
                let hosts = fourlw::hosts(&self.opts.server);
                print_answer(out, &fourlw::ask(w, &hosts).await?);
            }
            n if cmd::is_znode_command(n) => {
                let client = self
                    .client()
                    .filter(|c| !c.state().is_terminal())
                    .ok_or_else(|| CliError::new("Not connected"))?;
                let chroot = self.opts.server.contains('/');
                let mut ctx = Ctx {
                    client: &client,
                    out,
                    events: &self.events,
                    chroot,
                };
                cmd::run(&mut ctx, n, args).await?;
            }
            other => {
                out.err(cmd::usage().trim_end());
                return Err(CliError {
                    message: format!("Command not found: {other}"),
                    code: 127,
                });
            }
        }
        Ok(Flow::Continue)
    }

    /// Closes the session and waits (briefly) for the last events.
    pub async fn shutdown(self) {
        if let Some(c) = self.client() {
            c.close().await;
        }
        self.set_client(None);
        let Shell {
            events,
            events_task,
            ..
        } = self;
        drop(events);
        let _ = tokio::time::timeout(Duration::from_secs(2), events_task).await;
    }
}

fn print_answer(out: &mut Out, answer: &str) {
    if answer.ends_with('\n') || answer.is_empty() {
        out.text(answer);
    } else {
        out.line(answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names() {
        assert_eq!(state_name(Some(SessionState::Connected)), "CONNECTED");
        assert_eq!(state_name(Some(SessionState::Disconnected)), "CONNECTING");
        assert_eq!(state_name(Some(SessionState::Closed)), "CLOSED");
        assert_eq!(state_name(Some(SessionState::AuthFailed)), "AUTH_FAILED");
        assert_eq!(state_name(None), "CLOSED");
    }
}
