//! The JVM system properties ZooKeeper deployments set in `SERVER_JVMFLAGS`
//! or `JVMFLAGS` (zookeeper-env.sh, systemd units, container env):
//! `-Dzookeeper.DigestAuthenticationProvider.superDigest=...`,
//! `-Dreadonlymode.enabled=true`, `-Djava.security.auth.login.config=...`,
//! the `-Dzookeeper.ssl.*` keys and the like. ZooKeeper reads those
//! settings as system properties, and a zoo.cfg line of the same name sets
//! the property too, later, so zoo.cfg wins; the same here. Properties that
//! are not server settings (logging, the JVM's own) are left alone.

/// Settings ZooKeeper takes as system properties, without their
/// `zookeeper.` prefix; a name ending in `.` covers a family.
const PROPERTIES: &[&str] = &[
    "DigestAuthenticationProvider.superDigest",
    "X509AuthenticationProvider.superUser",
    "SASLAuthenticationProvider.superPassword",
    "superUser",
    "allowSaslFailedClients",
    "sessionRequireClientSASLAuth",
    "enforce.auth.",
    "authProvider.",
    "ssl.",
    "4lw.commands.whitelist",
    "admin.",
    "readonlymode.enabled",
    "jute.maxbuffer",
    "electionPortBindRetry",
    "commitLogCount",
    "serverCnxnFactory",
    "extendedTypesEnabled",
    "enforceQuota",
    "znode.container.checkIntervalMs",
    "maxCnxns",
    "globalOutstandingLimit",
    "maxResponseSize",
    "nio.sessionlessCnxnTimeout",
];

/// The JAAS file property, which is the JVM's, not ZooKeeper's.
const JAAS: &str = "java.security.auth.login.config";

/// zoo.cfg lines for the settings in `flags` (whitespace-separated JVM
/// flags) that `zoo_cfg` does not set itself.
pub fn lines_from_flags(flags: &str, zoo_cfg: &str) -> String {
    let set_in_file: Vec<&str> = zoo_cfg
        .lines()
        .filter_map(|l| l.trim().split_once('='))
        .map(|(k, _)| strip(k.trim()))
        .collect();
    let mut out = String::new();
    for flag in flags.split_whitespace() {
        let Some((key, value)) = flag.strip_prefix("-D").and_then(|p| p.split_once('=')) else {
            continue;
        };
        let name = strip(key);
        let known = name == JAAS
            || PROPERTIES
                .iter()
                .any(|p| name == *p || (p.ends_with('.') && name.starts_with(p)));
        if known && !set_in_file.contains(&name) {
            out.push_str(&format!("{name}={}\n", value.trim_matches('"')));
        }
    }
    out
}

/// The flags of `SERVER_JVMFLAGS` then `JVMFLAGS`, as zkServer.sh passes
/// both.
pub fn process_flags() -> String {
    ["JVMFLAGS", "SERVER_JVMFLAGS"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `-D` properties of SERVER_JVMFLAGS and JVMFLAGS, as the admin
/// server's `system_properties` lists them; passwords masked.
pub fn system_properties() -> Vec<(String, String)> {
    process_flags()
        .split_whitespace()
        .filter_map(|flag| flag.strip_prefix("-D")?.split_once('='))
        .map(|(k, v)| {
            let v = if k.to_ascii_lowercase().contains("password") {
                "********"
            } else {
                v.trim_matches('"')
            };
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn strip(key: &str) -> &str {
    key.strip_prefix("zookeeper.").unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_settings_come_over_and_zoo_cfg_wins() {
        let flags = "-Xmx1g -Dzookeeper.DigestAuthenticationProvider.superDigest=super:abc= \
                     -Dreadonlymode.enabled=true -Dzookeeper.log.dir=/var/log \
                     -Djava.security.auth.login.config=/etc/jaas.conf \
                     -Dzookeeper.ssl.keyStore.location=/k.jks -Dzookeeper.4lw.commands.whitelist=*";
        let lines = lines_from_flags(flags, "tickTime=2000\n4lw.commands.whitelist=srvr\n");
        assert_eq!(
            lines,
            "DigestAuthenticationProvider.superDigest=super:abc=\n\
             readonlymode.enabled=true\n\
             java.security.auth.login.config=/etc/jaas.conf\n\
             ssl.keyStore.location=/k.jks\n"
        );
    }
}
