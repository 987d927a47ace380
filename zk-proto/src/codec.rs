//! Jute binary encoding: big-endian ints and longs, one-byte booleans,
//! length-prefixed buffers and strings, count-prefixed vectors. A null buffer,
//! string or vector is written as length -1.
//!
//! Decoding never trusts a length: it is checked against the bytes that are
//! actually there before anything is allocated.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Why a record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended inside a record.
    #[error("record truncated: needed {needed} more bytes")]
    Truncated {
        /// How many more bytes the field being read needed.
        needed: usize,
    },
    /// A length prefix below -1 (or a count that cannot fit).
    #[error("invalid length {0}")]
    BadLength(i32),
    /// A string field is not UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// An op number that ZooKeeper does not define, or that cannot appear
    /// where it was found.
    #[error("unknown op code {0}")]
    UnknownOpCode(i32),
    /// A value the protocol does not allow, e.g. a read inside a multi.
    #[error("invalid value: {0}")]
    Invalid(&'static str),
}

/// A value with a jute encoding.
///
/// ```
/// use bytes::Bytes;
/// use zk_proto::data::Stat;
/// use zk_proto::{Decode, DecodeError, Encode};
///
/// let stat = Stat { version: 3, num_children: 2, ..Default::default() };
/// let mut bytes = stat.to_bytes();
/// assert_eq!(bytes.len(), 68); // 11 fields, ints and longs
/// assert_eq!(Stat::decode(&mut bytes)?, stat);
/// assert!(bytes.is_empty());
///
/// // Lengths are checked against the input before anything is allocated.
/// let mut short = Bytes::from_static(&[0, 0, 0, 9, b'x']);
/// assert_eq!(String::decode(&mut short), Err(DecodeError::Truncated { needed: 8 }));
///
/// // Null data (length -1) stays distinct from empty data.
/// let mut null = (None::<Bytes>).to_bytes();
/// assert_eq!(&null[..], &[0xff; 4]);
/// assert_eq!(Option::<Bytes>::decode(&mut null)?, None);
/// # Ok::<(), DecodeError>(())
/// ```
pub trait Encode {
    /// Appends the encoding to `buf`.
    fn encode(&self, buf: &mut BytesMut);

    /// Encodes into a fresh buffer.
    fn to_bytes(&self) -> Bytes {
        let mut buf = BytesMut::new();
        self.encode(&mut buf);
        buf.freeze()
    }
}

/// A value that can be read back from its jute encoding. Buffers are sliced
/// out of the input without copying.
pub trait Decode: Sized {
    /// Reads one value from the front of `buf`, advancing it.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] when the input is short or malformed; how much of
    /// `buf` was consumed is then unspecified.
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError>;
}

fn need(buf: &Bytes, n: usize) -> Result<(), DecodeError> {
    if buf.remaining() < n {
        Err(DecodeError::Truncated {
            needed: n - buf.remaining(),
        })
    } else {
        Ok(())
    }
}

/// Reads a length prefix: -1 (null) is `None`; any other negative value or a
/// length beyond the remaining input is an error.
fn read_len(buf: &mut Bytes) -> Result<Option<usize>, DecodeError> {
    let len = i32::decode(buf)?;
    if len == -1 {
        return Ok(None);
    }
    let n = usize::try_from(len).map_err(|_| DecodeError::BadLength(len))?;
    need(buf, n)?;
    Ok(Some(n))
}

impl Encode for i32 {
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_i32(*self);
    }
}
impl Decode for i32 {
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        need(buf, 4)?;
        Ok(buf.get_i32())
    }
}
impl Encode for i64 {
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_i64(*self);
    }
}
impl Decode for i64 {
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        need(buf, 8)?;
        Ok(buf.get_i64())
    }
}
impl Encode for bool {
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_u8(u8::from(*self));
    }
}
impl Decode for bool {
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        need(buf, 1)?;
        Ok(buf.get_u8() != 0)
    }
}

fn put_len(buf: &mut BytesMut, len: usize) {
    // Lengths are bounded by the frame size (far below i32::MAX) on every
    // path that reaches the wire.
    buf.put_i32(i32::try_from(len).unwrap_or(i32::MAX));
}

/// A jute `buffer`; null decodes as empty.
impl Encode for Bytes {
    fn encode(&self, buf: &mut BytesMut) {
        put_len(buf, self.len());
        buf.put_slice(self);
    }
}
impl Decode for Bytes {
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        Ok(read_len(buf)?.map_or_else(Bytes::new, |n| buf.split_to(n)))
    }
}

/// A jute `buffer` where null matters (znode data: `get` of a node created
/// with null data answers null, and zkCli prints `null`).
impl Encode for Option<Bytes> {
    fn encode(&self, buf: &mut BytesMut) {
        match self {
            Some(b) => b.encode(buf),
            None => buf.put_i32(-1),
        }
    }
}
impl Decode for Option<Bytes> {
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        Ok(read_len(buf)?.map(|n| buf.split_to(n)))
    }
}

/// A jute `ustring`; null decodes as empty.
impl Encode for String {
    fn encode(&self, buf: &mut BytesMut) {
        self.as_str().encode(buf);
    }
}
impl Encode for str {
    fn encode(&self, buf: &mut BytesMut) {
        put_len(buf, self.len());
        buf.put_slice(self.as_bytes());
    }
}
impl Decode for String {
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        match read_len(buf)? {
            None => Ok(String::new()),
            Some(n) => {
                let raw = buf.split_to(n);
                String::from_utf8(raw.to_vec()).map_err(|_| DecodeError::InvalidUtf8)
            }
        }
    }
}
impl Encode for Option<String> {
    fn encode(&self, buf: &mut BytesMut) {
        match self {
            Some(s) => s.encode(buf),
            None => buf.put_i32(-1),
        }
    }
}
impl Decode for Option<String> {
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        match read_len(buf)? {
            None => Ok(None),
            Some(n) => {
                let raw = buf.split_to(n);
                String::from_utf8(raw.to_vec())
                    .map(Some)
                    .map_err(|_| DecodeError::InvalidUtf8)
            }
        }
    }
}

/// A jute `vector`; null decodes as empty.
impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, buf: &mut BytesMut) {
        put_len(buf, self.len());
        for item in self {
            item.encode(buf);
        }
    }
}
impl<T: Decode> Decode for Vec<T> {
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        // Every element takes at least one byte, so the count is bounded by
        // the remaining input: `read_len` checks exactly that.
        let Some(n) = read_len(buf)? else {
            return Ok(Vec::new());
        };
        // Capped: a claimed count is bounded by the input, but elements are
        // larger in memory than their one-byte minimum on the wire.
        let mut out = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            out.push(T::decode(buf)?);
        }
        Ok(out)
    }
}

/// Defines a jute record: a struct whose encoding is its fields in order.
#[macro_export]
#[doc(hidden)]
macro_rules! record {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name { $($(#[$fm])* pub $field: $ty),* }
        impl $crate::codec::Encode for $name {
            #[allow(unused_variables)]
            fn encode(&self, buf: &mut ::bytes::BytesMut) {
                $($crate::codec::Encode::encode(&self.$field, buf);)*
            }
        }
        impl $crate::codec::Decode for $name {
            #[allow(unused_variables)]
            fn decode(buf: &mut ::bytes::Bytes) -> Result<Self, $crate::codec::DecodeError> {
                Ok(Self { $($field: $crate::codec::Decode::decode(buf)?),* })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_lengths_decode_as_empty_or_none() {
        let mut b = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(String::decode(&mut b.clone()), Ok(String::new()));
        assert_eq!(Option::<Bytes>::decode(&mut b), Ok(None));
    }

    #[test]
    fn huge_length_is_rejected_before_allocating() {
        let mut b = Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff, 1, 2]);
        assert!(matches!(
            Vec::<i64>::decode(&mut b),
            Err(DecodeError::Truncated { .. })
        ));
        let mut b = Bytes::from_static(&[0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(Bytes::decode(&mut b), Err(DecodeError::BadLength(-2)));
    }
}
