//! Hostile and fragmented input: decoding never panics, a decoded value
//! re-encodes to something that decodes to itself, truncated records are
//! refused, the frame codec yields the same frames however the stream is cut,
//! and the maximum frame size is enforced before anything is allocated.

mod common;

use bytes::{Bytes, BytesMut};
use common::*;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use tokio_util::codec::Decoder;
use zk_proto::client::*;
use zk_proto::frame::{DEFAULT_MAX_FRAME, FrameCodec, FrameError};
use zk_proto::txn::{Txn, TxnBody};
use zk_proto::{Decode, Encode, OpCode};

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

// ---- properties of a successful decode ----------------------------------------

/// If `bytes` decode as a request of type `op`, the value re-encodes to a
/// body that decodes to the same value with nothing left over.
fn check_request(op: OpCode, bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut buf = Bytes::copy_from_slice(bytes);
    if let Ok(req) = Request::decode(op, &mut buf) {
        prop_assert_eq!(req.op_code(), op);
        let mut out = BytesMut::new();
        req.encode_body(&mut out);
        let mut out = out.freeze();
        prop_assert_eq!(Request::decode(op, &mut out).map_err(fail)?, req);
        prop_assert!(out.is_empty());
    }
    Ok(())
}

fn check_response(op: OpCode, bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut buf = Bytes::copy_from_slice(bytes);
    if let Ok(resp) = Response::decode(op, &mut buf) {
        let mut out = resp.to_bytes();
        prop_assert_eq!(Response::decode(op, &mut out).map_err(fail)?, resp);
        prop_assert!(out.is_empty());
    }
    Ok(())
}

fn check_txn_body(op: OpCode, bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut buf = Bytes::copy_from_slice(bytes);
    if let Ok(body) = TxnBody::decode(op, &mut buf) {
        // Wrap it in a txn to re-encode it (the body encoder is private).
        let txn = Txn {
            header: Default::default(),
            body,
        };
        let mut out = txn.to_bytes();
        prop_assert_eq!(Txn::decode(&mut out).map_err(fail)?, txn);
        prop_assert!(out.is_empty());
    }
    Ok(())
}

/// Decodes with `T` and, on success, checks that the value round-trips.
fn check_record<T>(bytes: &[u8]) -> Result<(), TestCaseError>
where
    T: Encode + Decode + PartialEq + std::fmt::Debug,
{
    let mut buf = Bytes::copy_from_slice(bytes);
    if let Ok(v) = T::decode(&mut buf) {
        check_roundtrip(&v)?;
    }
    Ok(())
}

/// What the server does with a request frame: header, op code, body.
fn check_request_frame(frame: &[u8]) -> Result<(), TestCaseError> {
    let mut buf = Bytes::copy_from_slice(frame);
    let Ok(header) = RequestHeader::decode(&mut buf) else {
        return Ok(());
    };
    if let Ok(op) = OpCode::try_from(header.op) {
        check_request(op, &buf)?;
    }
    Ok(())
}

/// Feeds `data` to every decoder of the crate. None may panic; whatever
/// decodes must round-trip.
fn decode_everything(data: &[u8]) -> Result<(), TestCaseError> {
    // The frame codec with the default and with a tiny maximum.
    for max in [DEFAULT_MAX_FRAME, 16] {
        let mut codec = FrameCodec::new(max);
        let mut src = BytesMut::from(data);
        let mut first = true;
        while let Ok(Some(frame)) = codec.decode(&mut src) {
            prop_assert!(frame.len() <= max);
            if first {
                check_record::<ConnectRequest>(&frame)?;
                first = false;
            }
            check_request_frame(&frame)?;
        }
        prop_assert!(src.capacity() <= 2 * (data.len() + 4 + max));
    }
    check_record::<ConnectRequest>(data)?;
    check_record::<ConnectResponse>(data)?;
    check_record::<RequestHeader>(data)?;
    check_record::<ReplyHeader>(data)?;
    check_record::<WatcherEvent>(data)?;
    check_record::<Txn>(data)?;
    check_request_frame(data)?;
    for &op in OpCode::ALL {
        check_request(op, data)?;
        check_response(op, data)?;
        check_txn_body(op, data)?;
    }
    Ok(())
}

/// XORs a non-zero byte into a few positions.
fn flip(data: &[u8], flips: &[(Index, u8)]) -> Vec<u8> {
    let mut out = data.to_vec();
    if !out.is_empty() {
        for (i, x) in flips {
            let i = i.index(out.len());
            out[i] ^= *x;
        }
    }
    out
}

fn flips() -> impl Strategy<Value = Vec<(Index, u8)>> {
    vec((any::<Index>(), 1u8..), 1..4)
}

/// Runs `frames` through the codec, feeding `chunks` one after the other and
/// draining every complete frame after each.
fn split_frames<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<Bytes>, TestCaseError> {
    let mut codec = FrameCodec::default();
    let mut src = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        src.extend_from_slice(chunk);
        while let Some(frame) = codec.decode(&mut src).map_err(fail)? {
            frames.push(frame);
        }
    }
    prop_assert!(src.is_empty(), "{} bytes left in the codec", src.len());
    Ok(frames)
}

proptest! {
    // ---- (a) arbitrary bytes ---------------------------------------------

    #[test]
    fn arbitrary_bytes_never_panic(data in vec(any::<u8>(), 0..256)) {
        decode_everything(&data)?;
    }

    /// Arbitrary bodies behind a valid frame prefix and request header, so the
    /// request decoders see more than an unknown op code.
    #[test]
    fn arbitrary_request_bodies_never_panic(
        xid in any::<i32>(),
        op in prop::sample::select(OpCode::ALL),
        body in vec(any::<u8>(), 0..128),
    ) {
        let mut wire = BytesMut::new();
        zk_proto::frame::write_frame(&mut wire, |b| {
            RequestHeader { xid, op: op.code() }.encode(b);
            b.extend_from_slice(&body);
        })
        .expect("a frame");
        decode_everything(&wire)?;
    }

    /// Arbitrary sub-records behind multi headers of allowed and disallowed
    /// ops, for the multi request and multi result decoders.
    #[test]
    fn arbitrary_multi_bodies_never_panic(
        ops in vec((prop::sample::select(OpCode::ALL), any::<bool>(), vec(any::<u8>(), 0..24)), 0..5),
        multi in prop::sample::select(vec![OpCode::Multi, OpCode::MultiRead]),
    ) {
        let mut body = BytesMut::new();
        for (op, done, rest) in &ops {
            MultiHeader { op: op.code(), done: *done, err: -1 }.encode(&mut body);
            body.extend_from_slice(rest);
        }
        MultiHeader { op: -1, done: true, err: -1 }.encode(&mut body);
        check_request(multi, &body)?;
        check_response(multi, &body)?;
    }

    /// Arbitrary sub-txn records inside a multi txn.
    #[test]
    fn arbitrary_multi_txn_bodies_never_panic(
        subs in vec((prop::sample::select(OpCode::ALL), vec(any::<u8>(), 0..32)), 0..5),
    ) {
        let mut body = BytesMut::new();
        (subs.len() as i32).encode(&mut body);
        for (op, record) in &subs {
            op.code().encode(&mut body);
            Bytes::copy_from_slice(record).encode(&mut body);
        }
        check_txn_body(OpCode::Multi, &body)?;
    }

    // ---- (a) mutations of valid encodings --------------------------------

    #[test]
    fn truncated_requests_are_refused((header, req) in request_with_header()) {
        let wire = encode_request_frames(&[(header, req.clone())]);
        for len in 0..=wire.len() {
            decode_everything(&wire[..len])?;
        }
        let mut body = BytesMut::new();
        req.encode_body(&mut body);
        for len in 0..body.len() {
            let mut prefix = body.clone().freeze().slice(..len);
            prop_assert!(Request::decode(req.op_code(), &mut prefix).is_err(), "prefix {}", len);
        }
    }

    #[test]
    fn flipped_requests_never_panic(
        reqs in vec(request_with_header(), 1..4),
        flips in flips(),
    ) {
        let wire = encode_request_frames(&reqs);
        decode_everything(&flip(&wire, &flips))?;
        decode_everything(&flip(&wire[4..], &flips))?;
    }

    #[test]
    fn truncated_responses_are_refused(h in reply_header(), (op, resp) in response_with_op()) {
        let body = resp.to_bytes();
        for len in 0..body.len() {
            let mut prefix = body.slice(..len);
            prop_assert!(Response::decode(op, &mut prefix).is_err(), "prefix {}", len);
        }
        let mut wire = BytesMut::new();
        h.encode(&mut wire);
        resp.encode(&mut wire);
        for len in 0..=wire.len() {
            decode_everything(&wire[..len])?;
        }
    }

    #[test]
    fn flipped_responses_never_panic(
        h in reply_header(),
        (op, resp) in response_with_op(),
        flips in flips(),
    ) {
        let body = flip(&resp.to_bytes(), &flips);
        check_response(op, &body)?;
        let mut wire = BytesMut::new();
        h.encode(&mut wire);
        resp.encode(&mut wire);
        decode_everything(&flip(&wire, &flips))?;
    }

    #[test]
    fn truncated_txns_are_refused(t in txn()) {
        let bytes = t.to_bytes();
        for len in 0..bytes.len() {
            let prefix = &bytes[..len];
            prop_assert!(Txn::decode(&mut Bytes::copy_from_slice(prefix)).is_err(), "prefix {}", len);
            decode_everything(prefix)?;
        }
    }

    #[test]
    fn flipped_txns_never_panic(t in txn(), flips in flips()) {
        decode_everything(&flip(&t.to_bytes(), &flips))?;
    }

    #[test]
    fn truncated_connect_requests_are_refused(req in connect_request()) {
        let bytes = req.to_bytes();
        // Without its readOnly byte the handshake is still a valid (old) one.
        let shortest_valid = bytes.len() - usize::from(req.read_only.is_some());
        for len in 0..bytes.len() {
            let decoded = ConnectRequest::decode(&mut bytes.slice(..len));
            if len == shortest_valid {
                prop_assert_eq!(decoded.map_err(fail)?, ConnectRequest { read_only: None, ..req.clone() });
            } else {
                prop_assert!(decoded.is_err(), "prefix {}", len);
            }
            decode_everything(&bytes[..len])?;
        }
        let mut wire = BytesMut::new();
        zk_proto::frame::write_frame(&mut wire, |b| req.encode(b)).expect("a frame");
        decode_everything(&wire)?;
    }

    #[test]
    fn flipped_connect_requests_never_panic(req in connect_request(), flips in flips()) {
        decode_everything(&flip(&req.to_bytes(), &flips))?;
        decode_everything(&flip(&connect_response_bytes(&req), &flips))?;
    }

    // ---- (b) fragmented streams ------------------------------------------

    #[test]
    fn frames_split_anywhere_decode_the_same(reqs in vec(request_with_header(), 1..5)) {
        let wire = encode_request_frames(&reqs);
        let whole = split_frames([&wire[..]])?;
        prop_assert_eq!(whole.len(), reqs.len());
        for (frame, (header, req)) in whole.iter().zip(&reqs) {
            let mut frame = frame.clone();
            prop_assert_eq!(&RequestHeader::decode(&mut frame).map_err(fail)?, header);
            prop_assert_eq!(&Request::decode(req.op_code(), &mut frame).map_err(fail)?, req);
            prop_assert!(frame.is_empty());
        }
        for at in 0..=wire.len() {
            let (a, b) = wire.split_at(at);
            prop_assert_eq!(&split_frames([a, b])?, &whole, "split at {}", at);
        }
        prop_assert_eq!(&split_frames(wire.chunks(1))?, &whole, "one byte at a time");
    }

    // ---- (c) the maximum frame size --------------------------------------

    #[test]
    fn oversized_prefix_is_refused_before_the_body(
        max in prop_oneof![0usize..64, 0usize..=DEFAULT_MAX_FRAME],
        excess in prop_oneof![1u64..16, 1u64..=(i32::MAX as u64)],
        partial_body in vec(any::<u8>(), 0..8),
    ) {
        let len = (max as u64 + excess).min(i32::MAX as u64);
        prop_assume!(len > max as u64);
        let mut codec = FrameCodec::new(max);
        let mut src = BytesMut::new();
        src.extend_from_slice(&(len as u32).to_be_bytes());
        src.extend_from_slice(&partial_body);
        let cap = src.capacity();
        let is_too_large = matches!(codec.decode(&mut src), Err(FrameError::TooLarge { .. }));
        prop_assert!(is_too_large);
        prop_assert_eq!(src.capacity(), cap, "no buffer was reserved");
        prop_assert!(src.capacity() < 64);
    }

    #[test]
    fn negative_prefix_is_refused(len in i32::MIN..0) {
        let mut codec = FrameCodec::default();
        let mut src = BytesMut::from(&len.to_be_bytes()[..]);
        let is_negative = matches!(codec.decode(&mut src), Err(FrameError::Negative(n)) if n == len);
        prop_assert!(is_negative);
        prop_assert!(src.capacity() < 64);
    }
}

fn connect_response_bytes(req: &ConnectRequest) -> Bytes {
    ConnectResponse {
        protocol_version: req.protocol_version,
        timeout_ms: req.timeout_ms,
        session_id: req.session_id,
        passwd: req.passwd.clone(),
        read_only: req.read_only,
    }
    .to_bytes()
}

#[test]
fn default_max_frame_is_enforced_on_the_prefix_alone() {
    let mut codec = FrameCodec::default();
    for len in [DEFAULT_MAX_FRAME as u32 + 1, 1 << 24, i32::MAX as u32] {
        let mut src = BytesMut::from(&len.to_be_bytes()[..]);
        assert_eq!(src.capacity(), 4);
        let err = codec.decode(&mut src).unwrap_err();
        assert!(
            matches!(err, FrameError::TooLarge { len: l, max } if l == i64::from(len) && max == DEFAULT_MAX_FRAME),
            "{err}"
        );
        assert_eq!(src.capacity(), 4, "nothing reserved for a {len}-byte frame");
    }
}

#[test]
fn a_frame_of_exactly_the_maximum_is_accepted() {
    let mut codec = FrameCodec::new(32);
    let mut src = BytesMut::new();
    zk_proto::frame::write_frame(&mut src, |b| b.extend_from_slice(&[7; 32])).expect("a frame");
    // The prefix alone: waits for the body.
    let mut prefix = BytesMut::from(&src[..4]);
    assert!(codec.decode(&mut prefix).unwrap().is_none());
    let frame = codec.decode(&mut src).unwrap().unwrap();
    assert_eq!(&frame[..], &[7; 32]);
    assert!(src.is_empty());
    assert!(codec.decode(&mut src).unwrap().is_none());
}

#[test]
fn the_encoder_refuses_oversized_payloads() {
    use tokio_util::codec::Encoder;
    let mut codec = FrameCodec::new(8);
    let mut dst = BytesMut::new();
    assert!(matches!(
        codec.encode(Bytes::from_static(&[0; 9]), &mut dst),
        Err(FrameError::TooLarge { len: 9, max: 8 })
    ));
    assert!(dst.is_empty());
    codec.encode(Bytes::from_static(&[1; 8]), &mut dst).unwrap();
    assert_eq!(&dst[..4], &[0, 0, 0, 8]);
}

#[test]
fn empty_input_never_panics() {
    decode_everything(&[]).unwrap();
    decode_everything(&[0xff; 64]).unwrap();
    decode_everything(&[0; 64]).unwrap();
}
