//! The official `zookeeper` Docker image's conventions, done by the server
//! itself (a `FROM scratch` image has no shell for an entrypoint script):
//! with no `$ZOO_CONF_DIR/zoo.cfg` mounted, the zoo.cfg is built from the
//! same `ZOO_*` variables, with the same defaults; `$ZOO_DATA_DIR/myid` is
//! written from `ZOO_MY_ID` unless it exists. So compose files and Helm
//! values written for the official image work with the image swapped.
//!
//! | variable | default | zoo.cfg |
//! |---|---|---|
//! | `ZOO_CONF_DIR` | `/conf` | where zoo.cfg is read (or written) |
//! | `ZOO_DATA_DIR` | `/data` | `dataDir` (and `myid`) |
//! | `ZOO_DATA_LOG_DIR` | `/datalog` | `dataLogDir` |
//! | `ZOO_TICK_TIME` | 2000 | `tickTime` |
//! | `ZOO_INIT_LIMIT` | 5 | `initLimit` |
//! | `ZOO_SYNC_LIMIT` | 2 | `syncLimit` |
//! | `ZOO_AUTOPURGE_PURGEINTERVAL` | 0 | `autopurge.purgeInterval` |
//! | `ZOO_AUTOPURGE_SNAPRETAINCOUNT` | 3 | `autopurge.snapRetainCount` |
//! | `ZOO_MAX_CLIENT_CNXNS` | 60 | `maxClientCnxns` |
//! | `ZOO_STANDALONE_ENABLED` | true | `standaloneEnabled` |
//! | `ZOO_ADMINSERVER_ENABLED` | true | `admin.enableServer` |
//! | `ZOO_SERVERS` | `server.1=localhost:2888:3888;2181` | the `server.N` lines (space-separated) |
//! | `ZOO_4LW_COMMANDS_WHITELIST` | (not written) | `4lw.commands.whitelist` |
//! | `ZOO_CFG_EXTRA` | (none) | more `key=value` lines (space-separated) |
//! | `ZOO_MY_ID` | 1 | the `myid` file |
//! | `ZOO_MY_ID_FROM_HOSTNAME` (ours) | false | `true`: the id is the ordinal of a StatefulSet pod's host name plus one (`zk-0` is 1), for Kubernetes, where one pod template serves every member |

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ConfigError;

/// The variables as the process sees them, for [`prepare`].
pub fn process_env() -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("ZOO_") || k == "HOSTNAME")
        .collect();
    if !env.contains_key("HOSTNAME")
        && let Ok(name) = std::fs::read_to_string("/etc/hostname")
    {
        env.insert("HOSTNAME".into(), name.trim().to_owned());
    }
    env
}

/// The server id: `ZOO_MY_ID`, or with `ZOO_MY_ID_FROM_HOSTNAME=true` the
/// pod ordinal of `HOSTNAME` plus one, else 1.
fn my_id(env: &BTreeMap<String, String>) -> Result<String, ConfigError> {
    if let Some(id) = env.get("ZOO_MY_ID") {
        number::<u64>("ZOO_MY_ID", id)?;
        return Ok(id.trim().to_owned());
    }
    match env.get("ZOO_MY_ID_FROM_HOSTNAME").map(|v| v.trim()) {
        None | Some("false") => Ok("1".to_owned()),
        Some("true") => {
            let host = env.get("HOSTNAME").map_or("", String::as_str);
            host.rsplit_once('-')
                .and_then(|(_, n)| n.parse::<u64>().ok())
                .map(|ordinal| (ordinal + 1).to_string())
                .ok_or_else(|| {
                    bad(
                        "ZOO_MY_ID_FROM_HOSTNAME",
                        "true",
                        format!("the host name {host:?} does not end in -<ordinal>"),
                    )
                })
        }
        Some(other) => Err(bad(
            "ZOO_MY_ID_FROM_HOSTNAME",
            other,
            "expected true or false",
        )),
    }
}

/// Makes the files a container starts from and returns the zoo.cfg path:
/// the mounted one if there is one, else one built from `env`; writes
/// `myid` if it is missing.
pub fn prepare(env: &BTreeMap<String, String>) -> Result<PathBuf, ConfigError> {
    let get = |var: &str, default: &str| env.get(var).cloned().unwrap_or_else(|| default.into());
    let conf_dir = PathBuf::from(get("ZOO_CONF_DIR", "/conf"));
    let cfg = conf_dir.join("zoo.cfg");
    if cfg.exists() {
        tracing::info!(config = %cfg.display(), "using the mounted zoo.cfg; ZOO_* settings are not applied");
    } else {
        let text = zoo_cfg(env)?;
        write(&conf_dir, &cfg, &text)?;
        tracing::info!(
            config = %cfg.display(),
            lines = %text.trim_end().replace('\n', "; "),
            "built zoo.cfg from the environment"
        );
    }
    let data_dir = PathBuf::from(get("ZOO_DATA_DIR", "/data"));
    let myid = data_dir.join("myid");
    if !myid.exists() {
        let id = my_id(env)?;
        write(&data_dir, &myid, &format!("{id}\n"))?;
        tracing::info!(myid = %myid.display(), id, "wrote myid");
    }
    Ok(cfg)
}

fn write(dir: &Path, path: &Path, text: &str) -> Result<(), ConfigError> {
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(path, text))
        .map_err(|error| ConfigError::Write {
            path: path.to_owned(),
            error,
        })
}

fn bad(var: &str, value: &str, reason: impl ToString) -> ConfigError {
    ConfigError::Env {
        var: var.to_owned(),
        value: value.to_owned(),
        reason: reason.to_string(),
    }
}

fn number<T: std::str::FromStr>(var: &str, value: &str) -> Result<T, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| bad(var, value, "expected a whole number"))
}

/// The zoo.cfg the official image's entrypoint would write for `env`, with
/// every value checked (an error names the variable).
pub fn zoo_cfg(env: &BTreeMap<String, String>) -> Result<String, ConfigError> {
    let get = |var: &str, default: &str| env.get(var).cloned().unwrap_or_else(|| default.into());
    let mut out = String::new();
    let mut line = |key: &str, value: &str| {
        out.push_str(&format!("{key}={}\n", value.trim()));
    };
    line("dataDir", &get("ZOO_DATA_DIR", "/data"));
    line("dataLogDir", &get("ZOO_DATA_LOG_DIR", "/datalog"));
    for (var, key, default) in [
        ("ZOO_TICK_TIME", "tickTime", "2000"),
        ("ZOO_INIT_LIMIT", "initLimit", "5"),
        ("ZOO_SYNC_LIMIT", "syncLimit", "2"),
        (
            "ZOO_AUTOPURGE_SNAPRETAINCOUNT",
            "autopurge.snapRetainCount",
            "3",
        ),
        (
            "ZOO_AUTOPURGE_PURGEINTERVAL",
            "autopurge.purgeInterval",
            "0",
        ),
        ("ZOO_MAX_CLIENT_CNXNS", "maxClientCnxns", "60"),
    ] {
        let value = get(var, default);
        number::<u32>(var, &value)?;
        line(key, &value);
    }
    for (var, key) in [
        ("ZOO_STANDALONE_ENABLED", "standaloneEnabled"),
        ("ZOO_ADMINSERVER_ENABLED", "admin.enableServer"),
    ] {
        let value = get(var, "true");
        if !matches!(value.trim(), "true" | "false") {
            return Err(bad(var, &value, "expected true or false"));
        }
        line(key, &value);
    }
    let servers = get("ZOO_SERVERS", "server.1=localhost:2888:3888;2181");
    for entry in servers.split_whitespace() {
        let (key, spec) = entry.split_once('=').ok_or_else(|| {
            bad(
                "ZOO_SERVERS",
                entry,
                "expected server.N=host:port:port[;client]",
            )
        })?;
        let sid = key
            .strip_prefix("server.")
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| bad("ZOO_SERVERS", entry, "expected server.N=..."))?;
        crate::zab::ensemble::parse_peer(sid, spec).map_err(|e| bad("ZOO_SERVERS", entry, e))?;
        line(key, spec);
    }
    if let Some(words) = env.get("ZOO_4LW_COMMANDS_WHITELIST") {
        line("4lw.commands.whitelist", words);
    }
    if let Some(extra) = env.get("ZOO_CFG_EXTRA") {
        for entry in extra.split_whitespace() {
            let (key, value) = entry
                .split_once('=')
                .ok_or_else(|| bad("ZOO_CFG_EXTRA", entry, "expected key=value"))?;
            line(key, value);
        }
    }
    // The result must be a config the server takes.
    super::Config::parse(&out).map_err(|e| bad("ZOO_*", "", e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_are_the_official_images() {
        let text = zoo_cfg(&env(&[])).expect("builds");
        assert_eq!(
            text,
            "dataDir=/data\ndataLogDir=/datalog\ntickTime=2000\ninitLimit=5\nsyncLimit=2\n\
             autopurge.snapRetainCount=3\nautopurge.purgeInterval=0\nmaxClientCnxns=60\n\
             standaloneEnabled=true\nadmin.enableServer=true\n\
             server.1=localhost:2888:3888;2181\n"
        );
    }

    #[test]
    fn the_compose_example_builds_an_ensemble_config() {
        let text = zoo_cfg(&env(&[
            ("ZOO_MY_ID", "2"),
            (
                "ZOO_SERVERS",
                "server.1=zoo1:2888:3888;2181 server.2=zoo2:2888:3888;2181 server.3=zoo3:2888:3888;2181",
            ),
            ("ZOO_4LW_COMMANDS_WHITELIST", "srvr,ruok"),
            ("ZOO_CFG_EXTRA", "quorumListenOnAllIPs=true snapCount=5000"),
            ("ZOO_TICK_TIME", "500"),
        ]))
        .expect("builds");
        let mut c = crate::Config::parse(&text).expect("parses");
        assert_eq!(c.servers.len(), 3);
        assert_eq!((c.tick_ms, c.snap_count), (500, 5000));
        assert!(c.quorum_listen_all);
        assert!(c.four_letter_words.allows("ruok"));
        c.myid = Some(2);
        c.resolve_membership().expect("resolves");
        assert_eq!((c.servers.len(), c.client_port), (3, 2181));
    }

    #[test]
    fn the_old_server_form_without_a_client_port_is_taken() {
        let text = zoo_cfg(&env(&[(
            "ZOO_SERVERS",
            "server.1=zoo1:2888:3888 server.2=zoo2:2888:3888 server.3=zoo3:2888:3888",
        )]))
        .expect("builds");
        assert!(text.contains("server.3=zoo3:2888:3888\n"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            ("ZOO_TICK_TIME", "fast"),
            ("ZOO_SYNC_LIMIT", "-1"),
            ("ZOO_STANDALONE_ENABLED", "yes please"),
            ("ZOO_SERVERS", "server.1=zoo1:2888"),
            ("ZOO_SERVERS", "zoo1:2888:3888"),
            ("ZOO_CFG_EXTRA", "novalue"),
        ] {
            let err = zoo_cfg(&env(&[(var, value)])).expect_err(value);
            assert!(err.to_string().starts_with(var), "{var}: {err}");
        }
    }

    #[test]
    fn one_server_runs_standalone_on_its_client_port() {
        let mut c = crate::Config::parse(&zoo_cfg(&env(&[])).expect("builds")).expect("parses");
        c.myid = Some(1);
        c.resolve_membership().expect("resolves");
        assert!(c.servers.is_empty(), "standalone");
        assert_eq!(c.client_port, 2181);
    }

    #[test]
    fn the_id_can_come_from_a_stateful_set_pod_name() {
        let from_host = |host: &str| {
            my_id(&env(&[
                ("ZOO_MY_ID_FROM_HOSTNAME", "true"),
                ("HOSTNAME", host),
            ]))
        };
        assert_eq!(from_host("zk-0").expect("zk-0"), "1");
        assert_eq!(from_host("my-zk-12").expect("my-zk-12"), "13");
        let err = from_host("zoo").expect_err("no ordinal");
        assert!(
            err.to_string().starts_with("ZOO_MY_ID_FROM_HOSTNAME"),
            "{err}"
        );
        // An explicit id wins.
        let id = my_id(&env(&[
            ("ZOO_MY_ID", "5"),
            ("ZOO_MY_ID_FROM_HOSTNAME", "true"),
        ]));
        assert_eq!(id.expect("explicit"), "5");
        assert_eq!(my_id(&env(&[])).expect("default"), "1");
    }

    #[test]
    fn prepare_writes_the_config_and_myid_once() {
        let dir = std::env::temp_dir().join(format!("zk-container-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let vars = env(&[
            ("ZOO_CONF_DIR", &dir.join("conf").display().to_string()),
            ("ZOO_DATA_DIR", &dir.join("data").display().to_string()),
            ("ZOO_MY_ID", "3"),
        ]);
        let cfg = prepare(&vars).expect("prepares");
        let text = std::fs::read_to_string(&cfg).expect("written");
        assert!(text.contains(&format!("dataDir={}\n", dir.join("data").display())));
        let myid = std::fs::read_to_string(dir.join("data/myid")).expect("myid");
        assert_eq!(myid, "3\n");
        // A config and a myid that exist win over the variables.
        std::fs::write(&cfg, "tickTime=100\ninMemory=true\n").expect("mount");
        let vars = env(&[
            ("ZOO_CONF_DIR", &dir.join("conf").display().to_string()),
            ("ZOO_DATA_DIR", &dir.join("data").display().to_string()),
            ("ZOO_MY_ID", "7"),
            ("ZOO_TICK_TIME", "not even checked"),
        ]);
        prepare(&vars).expect("prepares");
        assert_eq!(
            std::fs::read_to_string(&cfg).expect("kept"),
            "tickTime=100\ninMemory=true\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("data/myid")).expect("kept"),
            "3\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
