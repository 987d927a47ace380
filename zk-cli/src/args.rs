//! The command line: zkCli's `-server host:port -timeout ms -r [cmd args]`
//! (single-dash long options, which are rewritten for clap) or the usual
//! `--server`.

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "zkcli",
    version,
    about = "A ZooKeeper shell with zkCli.sh's commands and output",
    after_help = "Without a command: an interactive shell (or, with stdin not a terminal, \
                  one command per line of stdin). With one: run it and exit (status 0 on \
                  success). Type `help` in the shell for the commands."
)]
pub struct Args {
    /// Connect string: `host:port[,host:port...][/chroot]`
    #[arg(long, default_value = "localhost:2181")]
    pub server: String,
    /// Session timeout in milliseconds (also how long to try connecting)
    #[arg(long, default_value_t = 30_000)]
    pub timeout: u64,
    /// Accept a read-only connection (to a server cut off from its quorum)
    #[arg(short = 'r', long = "readonly")]
    pub read_only: bool,
    /// Accepted for zkCli compatibility (zkcli always waits for the connection)
    #[arg(long = "waitforconnection")]
    pub wait_for_connection: bool,
    /// The Java client's properties file, as zkCli.sh takes it: TLS
    /// (`zookeeper.client.secure`, `zookeeper.ssl.*`) and SASL
    /// (`java.security.auth.login.config`); `-D` flags in CLIENT_JVMFLAGS
    /// count too
    #[arg(long = "client-configuration")]
    pub client_configuration: Option<std::path::PathBuf>,
    /// A command to run instead of the shell, e.g. `ls -s /`
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// Rewrites zkCli's `-server x` style to `--server x`, and puts `--` before
/// the command so that its flags stay its own.
pub fn normalize<I: IntoIterator<Item = String>>(argv: I) -> Vec<String> {
    let mut it = argv.into_iter();
    let mut out: Vec<String> = it.next().into_iter().collect();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-server" | "-timeout" | "-client-configuration" => {
                out.push(format!("-{a}"));
                out.extend(it.next());
            }
            "-waitforconnection" | "-readonly" => out.push(format!("-{a}")),
            "--server" | "--timeout" | "--client-configuration" => {
                out.push(a);
                out.extend(it.next());
            }
            "--" => {
                out.push(a);
                out.extend(it.by_ref());
            }
            s if s.starts_with("-server=") || s.starts_with("-timeout=") => {
                out.push(format!("-{a}"));
            }
            s if s.starts_with('-') => out.push(a),
            _ => {
                out.push("--".to_owned());
                out.push(a);
                out.extend(it.by_ref());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Args {
        let argv =
            std::iter::once("zkcli".to_owned()).chain(line.split_whitespace().map(str::to_owned));
        Args::try_parse_from(normalize(argv)).expect("parses")
    }

    #[test]
    fn zkcli_style_and_clap_style() {
        let a = args("-server 127.0.0.1:2181 ls -s /");
        assert_eq!(a.server, "127.0.0.1:2181");
        assert_eq!(a.command, ["ls", "-s", "/"]);
        let a = args("--server h:1 -timeout 500 -r create -e /x");
        assert_eq!(
            (a.server.as_str(), a.timeout, a.read_only),
            ("h:1", 500, true)
        );
        assert_eq!(a.command, ["create", "-e", "/x"]);
        let a = args("-server=h:2");
        assert_eq!(a.server, "h:2");
        assert!(a.command.is_empty());
        let a = args("-waitforconnection get /a");
        assert!(a.wait_for_connection);
        assert_eq!(a.command, ["get", "/a"]);
        let a = args("");
        assert_eq!(a.server, "localhost:2181");
    }
}
