//! `-client-configuration FILE`: the Java client's properties file (what
//! zkCli.sh takes), so one file serves both shells. The same properties
//! may come as `-D` flags in `CLIENT_JVMFLAGS`/`JVMFLAGS`, as zkCli.sh
//! passes them; the file wins. What zkcli acts on:
//!
//! - TLS: `zookeeper.client.secure=true`, `zookeeper.ssl.keyStore.location`
//!   / `.password` / `.type`, `zookeeper.ssl.trustStore.*`,
//!   `zookeeper.ssl.hostnameVerification`, `zookeeper.ssl.protocol`,
//!   `zookeeper.ssl.enabledProtocols`, `zookeeper.ssl.ciphersuites`;
//! - SASL DIGEST-MD5: `java.security.auth.login.config` (the JAAS file),
//!   its section `zookeeper.sasl.clientconfig` (default `Client`), off with
//!   `zookeeper.sasl.client=false`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use zk_client::sasl::SaslCredentials;
use zk_client::tls::{ClientTls, Protocols, StoreSpec, StoreType};

/// What the client configuration asks for.
#[derive(Debug, Default)]
pub struct Security {
    pub tls: Option<ClientTls>,
    pub sasl: Option<SaslCredentials>,
}

/// Reads `file` (if any) over the `-D` properties of `jvm_flags`.
pub fn load(file: Option<&Path>, jvm_flags: &str) -> Result<Security, String> {
    let mut props: BTreeMap<String, String> = jvm_flags
        .split_whitespace()
        .filter_map(|f| f.strip_prefix("-D")?.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .collect();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        props.extend(parse_properties(&text));
    }
    Ok(Security {
        tls: tls(&props)?,
        sasl: sasl(&props)?,
    })
}

/// Java `.properties`: `key=value`, `key: value` or `key value` per line,
/// `#` and `!` comments.
fn parse_properties(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
        .filter_map(|l| {
            let at = l.find(['=', ':', ' ', '\t'])?;
            let value = l[at + 1..].trim_start_matches([' ', '\t', '=', ':']);
            Some((l[..at].trim().to_owned(), value.trim().to_owned()))
        })
        .collect()
}

fn truthy(props: &BTreeMap<String, String>, key: &str, default: bool) -> bool {
    props
        .get(key)
        .map_or(default, |v| v.eq_ignore_ascii_case("true"))
}

fn store(props: &BTreeMap<String, String>, which: &str) -> Result<Option<StoreSpec>, String> {
    let Some(location) = props.get(&format!("zookeeper.ssl.{which}.location")) else {
        return Ok(None);
    };
    let mut spec = StoreSpec::new(PathBuf::from(location));
    spec.password = props
        .get(&format!("zookeeper.ssl.{which}.password"))
        .cloned();
    if let Some(kind) = props.get(&format!("zookeeper.ssl.{which}.type")) {
        spec.kind = Some(StoreType::from_name(kind).map_err(|e| e.to_string())?);
    }
    Ok(Some(spec))
}

fn tls(props: &BTreeMap<String, String>) -> Result<Option<ClientTls>, String> {
    if !truthy(props, "zookeeper.client.secure", false) {
        return Ok(None);
    }
    let trust = store(props, "trustStore")?
        .ok_or("zookeeper.client.secure=true needs zookeeper.ssl.trustStore.location")?;
    let list = |key: &str| -> Vec<String> {
        props
            .get(key)
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default()
    };
    let mut versions = list("zookeeper.ssl.enabledProtocols");
    if versions.is_empty() {
        versions = list("zookeeper.ssl.protocol");
    }
    let mut builder = ClientTls::builder()
        .trust_store(trust)
        .verify_hostname(truthy(props, "zookeeper.ssl.hostnameVerification", true))
        .protocols(Protocols {
            versions,
            ciphersuites: list("zookeeper.ssl.ciphersuites"),
        });
    if let Some(key) = store(props, "keyStore")? {
        builder = builder.key_store(key);
    }
    builder.build().map(Some).map_err(|e| e.to_string())
}

fn sasl(props: &BTreeMap<String, String>) -> Result<Option<SaslCredentials>, String> {
    if !truthy(props, "zookeeper.sasl.client", true) {
        return Ok(None);
    }
    let Some(jaas) = props.get("java.security.auth.login.config") else {
        return Ok(None);
    };
    let section = props
        .get("zookeeper.sasl.clientconfig")
        .map_or("Client", String::as_str);
    SaslCredentials::from_jaas_section(Path::new(jaas), section)
        .map(Some)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_properties_and_jvm_flags() {
        let props = parse_properties(
            "# comment\n! also\nzookeeper.client.secure=true\nzookeeper.ssl.protocol : TLSv1.3\n\
             zookeeper.sasl.client false\n",
        );
        assert_eq!(
            props.get("zookeeper.client.secure").map(String::as_str),
            Some("true")
        );
        assert_eq!(
            props.get("zookeeper.ssl.protocol").map(String::as_str),
            Some("TLSv1.3")
        );
        assert_eq!(
            props.get("zookeeper.sasl.client").map(String::as_str),
            Some("false")
        );
        assert_eq!(props.len(), 3);
        let none = load(None, "-Xmx1g -Dzookeeper.client.secure=false").expect("nothing asked");
        assert!(none.tls.is_none() && none.sasl.is_none());
        let err = load(None, "-Dzookeeper.client.secure=true").expect_err("no trust store");
        assert!(err.contains("trustStore"), "{err}");
    }
}
