//! The handshake: the first frame of a connection has no request header.
//!
//! Clients of ZooKeeper 3.3 and older omit the trailing `readOnly` byte; the
//! server answers in the form the client used (ZOOKEEPER-4492).

use bytes::{Buf, Bytes, BytesMut};

use crate::codec::{Decode, DecodeError, Encode};

/// The client's first frame: a new session (id 0) or the resume of one.
///
/// ```
/// use bytes::Bytes;
/// use zk_proto::client::ConnectRequest;
/// use zk_proto::{Decode, Encode};
///
/// let old_client = ConnectRequest { timeout_ms: 30_000, ..Default::default() };
/// let mut bytes = old_client.to_bytes();
/// assert_eq!(bytes.len(), 4 + 8 + 4 + 8 + 4); // no readOnly byte
/// assert_eq!(ConnectRequest::decode(&mut bytes)?.read_only, None);
///
/// let new_client = ConnectRequest { read_only: Some(false), ..old_client };
/// let decoded = ConnectRequest::decode(&mut new_client.to_bytes())?;
/// assert_eq!(decoded, new_client);
/// # Ok::<(), zk_proto::DecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectRequest {
    /// Always 0 in every released ZooKeeper.
    pub protocol_version: i32,
    /// The highest zxid the client has seen; a server that is behind it
    /// refuses the connection, so a client never reads back in time.
    pub last_zxid_seen: i64,
    /// The session timeout the client asks for; the server clamps it to
    /// its min and max.
    pub timeout_ms: i32,
    /// 0 for a new session, else the session to resume.
    pub session_id: i64,
    /// The session's password (16 bytes); empty for a new session.
    pub passwd: Bytes,
    /// Whether the client accepts a read-only server; `None` when the
    /// client sent no readOnly byte.
    pub read_only: Option<bool>,
}

/// The server's answer to a [`ConnectRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectResponse {
    /// Always 0.
    pub protocol_version: i32,
    /// The negotiated session timeout; 0 means the session is expired.
    pub timeout_ms: i32,
    /// The session's id; 0 means the session is expired.
    pub session_id: i64,
    /// The password to present when resuming the session elsewhere.
    pub passwd: Bytes,
    /// Whether the server is read-only; `None` to answer a client that sent
    /// no readOnly byte.
    pub read_only: Option<bool>,
}

impl ConnectResponse {
    /// The answer to a resume of an unknown or expired session, or with a
    /// wrong password: timeout 0, session 0, a zeroed 16-byte password.
    pub fn expired(read_only: Option<bool>) -> ConnectResponse {
        ConnectResponse {
            protocol_version: 0,
            timeout_ms: 0,
            session_id: 0,
            passwd: Bytes::from_static(&[0; 16]),
            read_only: read_only.map(|_| false),
        }
    }
}

impl Encode for ConnectRequest {
    fn encode(&self, buf: &mut BytesMut) {
        self.protocol_version.encode(buf);
        self.last_zxid_seen.encode(buf);
        self.timeout_ms.encode(buf);
        self.session_id.encode(buf);
        self.passwd.encode(buf);
        if let Some(ro) = self.read_only {
            ro.encode(buf);
        }
    }
}

impl Decode for ConnectRequest {
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        Ok(ConnectRequest {
            protocol_version: i32::decode(buf)?,
            last_zxid_seen: i64::decode(buf)?,
            timeout_ms: i32::decode(buf)?,
            session_id: i64::decode(buf)?,
            passwd: Bytes::decode(buf)?,
            read_only: if buf.has_remaining() {
                Some(bool::decode(buf)?)
            } else {
                None
            },
        })
    }
}

impl Encode for ConnectResponse {
    fn encode(&self, buf: &mut BytesMut) {
        self.protocol_version.encode(buf);
        self.timeout_ms.encode(buf);
        self.session_id.encode(buf);
        self.passwd.encode(buf);
        if let Some(ro) = self.read_only {
            ro.encode(buf);
        }
    }
}

impl Decode for ConnectResponse {
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        Ok(ConnectResponse {
            protocol_version: i32::decode(buf)?,
            timeout_ms: i32::decode(buf)?,
            session_id: i64::decode(buf)?,
            passwd: Bytes::decode(buf)?,
            read_only: if buf.has_remaining() {
                Some(bool::decode(buf)?)
            } else {
                None
            },
        })
    }
}
