//! The handshake: the first frame of a connection has no request header.
//!
//! Clients of ZooKeeper 3.3 and older omit the trailing `readOnly` byte; the
//! server answers in the form the client used (ZOOKEEPER-4492).

use bytes::{Buf, Bytes, BytesMut};

use crate::codec::{Decode, DecodeError, Encode};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectRequest {
    pub protocol_version: i32,
    pub last_zxid_seen: i64,
    pub timeout_ms: i32,
    pub session_id: i64,
    pub passwd: Bytes,
    /// `None` when the client sent no readOnly byte.
    pub read_only: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectResponse {
    pub protocol_version: i32,
    pub timeout_ms: i32,
    pub session_id: i64,
    pub passwd: Bytes,
    /// `None` to answer a client that sent no readOnly byte.
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
