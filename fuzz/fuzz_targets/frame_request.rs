//! Feeds arbitrary bytes to the server's read path: the frame codec, then for
//! each frame the request header, the op code and the request body; the first
//! frame is also tried as a connect request, as a new connection's would be.
//! Nothing may panic, and whatever decodes must re-encode to itself.

#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;
use zk_proto::client::{ConnectRequest, Request, RequestHeader};
use zk_proto::frame::FrameCodec;
use zk_proto::{Decode, Encode, OpCode};

fuzz_target!(|data: &[u8]| {
    let mut codec = FrameCodec::default();
    let mut src = BytesMut::from(data);
    let mut first = true;
    while let Ok(Some(frame)) = codec.decode(&mut src) {
        if first {
            first = false;
            if let Ok(req) = ConnectRequest::decode(&mut frame.clone()) {
                let mut again = req.to_bytes();
                assert_eq!(ConnectRequest::decode(&mut again).as_ref(), Ok(&req));
                assert!(again.is_empty());
            }
        }
        decode_request(frame);
    }
});

fn decode_request(mut frame: Bytes) {
    let Ok(header) = RequestHeader::decode(&mut frame) else {
        return;
    };
    let Ok(op) = OpCode::try_from(header.op) else {
        return;
    };
    let Ok(req) = Request::decode(op, &mut frame) else {
        return;
    };
    assert_eq!(req.op_code(), op);
    let mut body = BytesMut::new();
    req.encode_body(&mut body);
    let mut body = body.freeze();
    assert_eq!(Request::decode(op, &mut body).as_ref(), Ok(&req));
    assert!(body.is_empty());
}
