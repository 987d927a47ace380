use serde::{Deserialize, Serialize};

/// How an instance is stored (Curator's `ServiceType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceType {
    /// Ephemeral: gone when the registering session ends.
    Dynamic,
    /// Ephemeral-sequential: the node name gets a sequence suffix, so it
    /// is not the instance id.
    DynamicSequential,
    /// Persistent.
    Static,
    /// Persistent (stored like `Static` here).
    Permanent,
}

/// One instance of a service, serialized exactly like Curator
/// x-discovery's `ServiceInstance` (field names included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceInstance {
    /// The service's name: the node under the base path.
    pub name: String,
    /// This instance's id: its node's name.
    pub id: String,
    /// Where to reach it (host name or address).
    pub address: String,
    /// The plain port, if any.
    pub port: Option<u16>,
    /// The TLS port, if any.
    pub ssl_port: Option<u16>,
    /// Anything the service wants to publish, as JSON.
    pub payload: Option<serde_json::Value>,
    /// When it was registered, in ms since the Unix epoch.
    #[serde(rename = "registrationTimeUTC")]
    pub registration_time_utc: i64,
    /// How it is stored.
    pub service_type: ServiceType,
    /// Curator's `UriSpec`, kept as JSON.
    pub uri_spec: Option<serde_json::Value>,
    /// Providers skip disabled instances (missing in the JSON: enabled).
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

impl ServiceInstance {
    /// A DYNAMIC instance with a random id, registered now.
    pub fn new(name: &str, address: &str, port: u16) -> ServiceInstance {
        ServiceInstance {
            name: name.to_owned(),
            id: uuid::Uuid::new_v4().to_string(),
            address: address.to_owned(),
            port: Some(port),
            ssl_port: None,
            payload: None,
            registration_time_utc: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            service_type: ServiceType::Dynamic,
            uri_spec: None,
            enabled: true,
        }
    }

    /// The same instance with the id `id` (a node name: no `/`).
    pub fn with_id(mut self, id: &str) -> ServiceInstance {
        self.id = id.to_owned();
        self
    }

    /// The same instance with a payload.
    pub fn with_payload(mut self, payload: serde_json::Value) -> ServiceInstance {
        self.payload = Some(payload);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_curators_json() {
        // As Curator 5 writes it.
        let json = r#"{"name":"test","id":"a7c3","address":"10.20.30.40","port":1234,"sslPort":null,
            "payload":null,"registrationTimeUTC":1700000000000,"serviceType":"DYNAMIC",
            "uriSpec":{"parts":[{"value":"http://","variable":false}]},"enabled":true}"#;
        let i: ServiceInstance = serde_json::from_str(json).expect("parses");
        assert_eq!(i.port, Some(1234));
        assert_eq!(i.service_type, ServiceType::Dynamic);
        let back = serde_json::to_value(&i).expect("serializes");
        assert_eq!(back["registrationTimeUTC"], 1_700_000_000_000_i64);
        assert_eq!(back["serviceType"], "DYNAMIC");
        assert!(back.get("sslPort").is_some());
    }
}
