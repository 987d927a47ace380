//! Length-prefixed frames: a 4-byte big-endian length, then the payload.
//! The length is checked against the maximum before any buffer is reserved
//! for the payload (`jute.maxbuffer`).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// `jute.maxbuffer`'s default: 0xfffff bytes.
pub const DEFAULT_MAX_FRAME: usize = 0xfffff;

/// Why a frame could not be read or written. Each ends the connection:
/// after a bad length the stream cannot be resynchronised.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The length prefix (or a payload to send) is over the maximum.
    #[error("frame length {len} exceeds the maximum of {max} bytes")]
    TooLarge {
        /// The length found.
        len: i64,
        /// The codec's maximum.
        max: usize,
    },
    /// The length prefix is negative.
    #[error("negative frame length {0}")]
    Negative(i32),
    /// The socket failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Splits a byte stream into frame payloads, and writes payloads as frames.
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use tokio_util::codec::{Decoder, Encoder};
/// use zk_proto::frame::{FrameCodec, FrameError};
///
/// let mut codec = FrameCodec::new(16);
/// let mut wire = BytesMut::new();
/// codec.encode(Bytes::from_static(b"hello"), &mut wire)?;
/// assert_eq!(&wire[..], b"\0\0\0\x05hello");
///
/// // A frame split across reads: nothing until the last byte arrives.
/// let mut src = BytesMut::from(&wire[..6]);
/// assert_eq!(codec.decode(&mut src)?, None);
/// src.extend_from_slice(&wire[6..]);
/// assert_eq!(codec.decode(&mut src)?, Some(Bytes::from_static(b"hello")));
///
/// // Over the maximum: refused before the payload is read.
/// let mut big = BytesMut::from(&[0, 0, 0, 17][..]);
/// assert!(matches!(codec.decode(&mut big), Err(FrameError::TooLarge { len: 17, max: 16 })));
/// # Ok::<(), FrameError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FrameCodec {
    max_len: usize,
}

impl FrameCodec {
    /// A codec that refuses payloads over `max_len` bytes, in both
    /// directions.
    pub fn new(max_len: usize) -> FrameCodec {
        FrameCodec { max_len }
    }

    /// The largest payload accepted, in bytes.
    pub fn max_len(&self) -> usize {
        self.max_len
    }
}

impl Default for FrameCodec {
    fn default() -> Self {
        FrameCodec::new(DEFAULT_MAX_FRAME)
    }
}

impl Decoder for FrameCodec {
    type Item = Bytes;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        if src.len() < 4 {
            return Ok(None);
        }
        let len = i32::from_be_bytes([src[0], src[1], src[2], src[3]]);
        let len = usize::try_from(len).map_err(|_| FrameError::Negative(len))?;
        if len > self.max_len {
            return Err(FrameError::TooLarge {
                len: len as i64,
                max: self.max_len,
            });
        }
        if src.len() < 4 + len {
            src.reserve(4 + len - src.len());
            return Ok(None);
        }
        src.advance(4);
        Ok(Some(src.split_to(len).freeze()))
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, payload: Bytes, dst: &mut BytesMut) -> Result<(), FrameError> {
        if payload.len() > self.max_len {
            return Err(FrameError::TooLarge {
                len: payload.len() as i64,
                max: self.max_len,
            });
        }
        dst.reserve(4 + payload.len());
        dst.put_u32(payload.len() as u32);
        dst.put_slice(&payload);
        Ok(())
    }
}

/// Appends one frame to `dst`, letting `body` write the payload in place:
/// the length is written as a placeholder and filled in afterwards, as
/// ZooKeeper's server does, which saves a copy per response. A payload
/// longer than the wire's length field can say (`i32::MAX`: Java reads it
/// signed) is refused, and `dst` is left as it was.
pub fn write_frame(dst: &mut BytesMut, body: impl FnOnce(&mut BytesMut)) -> Result<(), FrameError> {
    write_frame_within(dst, i32::MAX as usize, body)
}

/// [`write_frame`] with a smaller bound on the payload.
pub fn write_frame_within(
    dst: &mut BytesMut,
    max: usize,
    body: impl FnOnce(&mut BytesMut),
) -> Result<(), FrameError> {
    let start = dst.len();
    dst.put_u32(0);
    body(dst);
    let len = dst.len() - start - 4;
    let max = max.min(i32::MAX as usize);
    match u32::try_from(len) {
        Ok(wire) if len <= max => {
            dst[start..start + 4].copy_from_slice(&wire.to_be_bytes());
            Ok(())
        }
        _ => {
            dst.truncate(start);
            Err(FrameError::TooLarge {
                len: i64::try_from(len).unwrap_or(i64::MAX),
                max,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_length_is_refused_before_reading_the_body() {
        let mut codec = FrameCodec::new(16);
        let mut src = BytesMut::from(&[0, 0, 0, 17][..]);
        assert!(matches!(
            codec.decode(&mut src),
            Err(FrameError::TooLarge { len: 17, max: 16 })
        ));
        let mut src = BytesMut::from(&[0xff, 0xff, 0xff, 0xff][..]);
        assert!(matches!(
            codec.decode(&mut src),
            Err(FrameError::Negative(-1))
        ));
    }

    #[test]
    fn write_frame_fills_in_the_length() {
        let mut dst = BytesMut::new();
        write_frame(&mut dst, |b| b.put_slice(b"abc")).expect("small");
        assert_eq!(&dst[..], &[0, 0, 0, 3, b'a', b'b', b'c']);
        let mut codec = FrameCodec::default();
        assert_eq!(
            codec.decode(&mut dst).ok().flatten(),
            Some(Bytes::from_static(b"abc"))
        );
    }

    #[test]
    fn a_payload_over_the_bound_leaves_the_buffer_as_it_was() {
        let mut dst = BytesMut::from(&b"kept"[..]);
        let err = write_frame_within(&mut dst, 8, |b| b.put_slice(&[1; 9])).expect_err("9 > 8");
        assert!(matches!(err, FrameError::TooLarge { len: 9, max: 8 }));
        assert_eq!(&dst[..], b"kept");
        write_frame_within(&mut dst, 8, |b| b.put_slice(&[1; 8])).expect("8 fits");
        assert_eq!(dst.len(), 4 + 4 + 8);
    }
}
