//! The AdminServer's and the Prometheus metrics provider's zoo.cfg keys,
//! with ZooKeeper's defaults.

use std::net::IpAddr;
use std::time::Duration;

use super::{ConfigError, bad, boolean, num};

/// ZooKeeper's Prometheus provider: naming it turns `/metrics` on.
pub const PROMETHEUS_PROVIDER: &str =
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    /// `admin.enableServer` (default true).
    pub enabled: bool,
    /// `admin.serverAddress` (default 0.0.0.0).
    pub address: IpAddr,
    /// `admin.serverPort` (default 8080; 0 picks a free port).
    pub port: u16,
    /// `admin.commandURL` (default `/commands`).
    pub command_url: String,
    /// `admin.idleTimeout` (default 30 s).
    pub idle_timeout: Duration,
    /// `admin.snapshot.enabled` (default true, as 3.9).
    pub snapshot_enabled: bool,
    /// `admin.forceHttps`: HTTPS only, with the `ssl.quorum.*` stores.
    pub force_https: bool,
    /// `admin.portUnification`: HTTPS and HTTP on the one port.
    pub port_unification: bool,
    /// `admin.needClientAuth`: HTTPS clients must show a certificate the
    /// trust store vouches for.
    pub need_client_auth: bool,
}

impl Default for AdminConfig {
    fn default() -> AdminConfig {
        AdminConfig {
            enabled: true,
            address: IpAddr::from([0, 0, 0, 0]),
            port: 8080,
            command_url: "/commands".to_owned(),
            idle_timeout: Duration::from_secs(30),
            snapshot_enabled: true,
            force_https: false,
            port_unification: false,
            need_client_auth: false,
        }
    }
}

/// `/metrics` in Prometheus' text format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Whether `metricsProvider.className` names the Prometheus provider.
    pub enabled: bool,
    /// `metricsProvider.httpHost` (default 0.0.0.0).
    pub host: IpAddr,
    /// `metricsProvider.httpPort` (default 7000).
    pub port: u16,
}

impl Default for MetricsConfig {
    fn default() -> MetricsConfig {
        MetricsConfig {
            enabled: false,
            host: IpAddr::from([0, 0, 0, 0]),
            port: 7000,
        }
    }
}

/// Takes `key` if it is one of these settings (with or without the
/// `zookeeper.` prefix a system property has); false if not.
pub fn set(
    admin: &mut AdminConfig,
    metrics: &mut MetricsConfig,
    key: &str,
    value: &str,
) -> Result<bool, ConfigError> {
    let name = key.strip_prefix("zookeeper.").unwrap_or(key);
    match name {
        "admin.enableServer" => admin.enabled = boolean(key, value)?,
        "admin.serverAddress" => admin.address = num(key, value)?,
        "admin.serverPort" => admin.port = num(key, value)?,
        "admin.commandURL" => {
            if !value.starts_with('/') {
                return Err(bad(key, value, "must start with /"));
            }
            admin.command_url = value.to_owned();
        }
        "admin.idleTimeout" => admin.idle_timeout = Duration::from_millis(num(key, value)?),
        "admin.snapshot.enabled" => admin.snapshot_enabled = boolean(key, value)?,
        "admin.forceHttps" => admin.force_https = boolean(key, value)?,
        "admin.portUnification" => admin.port_unification = boolean(key, value)?,
        "admin.needClientAuth" => admin.need_client_auth = boolean(key, value)?,
        "metricsProvider.className" => {
            metrics.enabled = match value {
                PROMETHEUS_PROVIDER => true,
                "org.apache.zookeeper.metrics.impl.NullMetricsProvider" => false,
                _ => {
                    return Err(bad(
                        key,
                        value,
                        format!(
                            "the metrics providers are {PROMETHEUS_PROVIDER} and NullMetricsProvider"
                        ),
                    ));
                }
            };
        }
        "metricsProvider.httpHost" => metrics.host = num(key, value)?,
        "metricsProvider.httpPort" => metrics.port = num(key, value)?,
        // The JVM's own metrics (hotspot): there is no JVM here; the
        // process metrics (`process_*`) are always exported.
        "metricsProvider.exportJvmInfo"
        | "metricsProvider.numWorkerThreads"
        | "metricsProvider.maxQueueSize"
        | "metricsProvider.workerShutdownTimeoutMs" => {}
        _ => return Ok(false),
    }
    Ok(true)
}
