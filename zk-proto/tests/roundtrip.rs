//! Encode-then-decode round trips for every record and enum of zk-proto: the
//! decoded value equals the original and every byte is consumed.

mod common;

use bytes::{Buf, Bytes, BytesMut};
use common::*;
use proptest::collection::vec;
use proptest::prelude::*;
use zk_proto::client::*;
use zk_proto::data::{AddWatchMode, CreateMode, EventType, KeeperState, WatcherType};
use zk_proto::frame::FrameCodec;
use zk_proto::txn::{Txn, TxnBody};
use zk_proto::{Decode, Encode, ErrorCode, OpCode};

/// Size of the txn header on the wire: client id, cxid, zxid, time, type.
const TXN_HEADER_LEN: usize = 8 + 4 + 8 + 8 + 4;

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

proptest! {
    // ---- data records ----------------------------------------------------

    #[test]
    fn stat_roundtrip(v in stat()) {
        check_roundtrip(&v)?;
        // Six longs and five ints: 68 bytes, as in ZooKeeper.
        prop_assert_eq!(v.to_bytes().len(), 6 * 8 + 5 * 4);
    }

    #[test]
    fn id_roundtrip(v in id()) {
        check_roundtrip(&v)?;
    }

    #[test]
    fn acl_roundtrip(v in acl()) {
        check_roundtrip(&v)?;
    }

    #[test]
    fn acl_vec_roundtrip(v in acls()) {
        check_roundtrip(&v)?;
    }

    #[test]
    fn client_info_roundtrip(v in client_info()) {
        check_roundtrip(&v)?;
    }

    #[test]
    fn option_bytes_keeps_none_and_empty_apart(v in opt_bytes()) {
        check_roundtrip(&v)?;
    }

    #[test]
    fn option_string_keeps_none_and_empty_apart(v in prop_oneof![
        Just(None),
        Just(Some(String::new())),
        opt_string(),
    ]) {
        check_roundtrip(&v)?;
    }

    // ---- handshake and headers -------------------------------------------

    #[test]
    fn connect_request_roundtrip(v in connect_request()) {
        check_roundtrip(&v)?;
        // 4 + 8 + 4 + 8 + (4 + passwd), and the readOnly byte only if present.
        let expected = 28 + v.passwd.len() + usize::from(v.read_only.is_some());
        prop_assert_eq!(v.to_bytes().len(), expected);
    }

    #[test]
    fn connect_response_roundtrip(v in connect_response()) {
        check_roundtrip(&v)?;
        let expected = 20 + v.passwd.len() + usize::from(v.read_only.is_some());
        prop_assert_eq!(v.to_bytes().len(), expected);
    }

    #[test]
    fn connect_response_expired_roundtrip(ro in prop::option::of(any::<bool>())) {
        let v = ConnectResponse::expired(ro);
        check_roundtrip(&v)?;
        prop_assert_eq!(v.read_only, ro.map(|_| false));
    }

    #[test]
    fn request_header_roundtrip(v in request_header()) {
        check_roundtrip(&v)?;
    }

    #[test]
    fn reply_header_roundtrip(v in reply_header()) {
        check_roundtrip(&v)?;
    }

    #[test]
    fn watcher_event_roundtrip(v in watcher_event()) {
        check_roundtrip(&v)?;
    }

    #[test]
    fn watch_notification_roundtrip(h in reply_header(), ev in watcher_event()) {
        let mut buf = BytesMut::new();
        h.encode(&mut buf);
        ev.encode(&mut buf);
        let mut buf = buf.freeze();
        prop_assert_eq!(ReplyHeader::decode(&mut buf).map_err(fail)?, h);
        prop_assert_eq!(WatcherEvent::decode(&mut buf).map_err(fail)?, ev);
        prop_assert!(buf.is_empty());
    }

    // ---- request records -------------------------------------------------

    #[test]
    fn request_records_roundtrip(
        create in create_request(),
        create_ttl in create_ttl_request(),
        delete in delete_request(),
        path_watch in path_watch_request(),
        set_data in set_data_request(),
        path in path_request(),
        set_acl in set_acl_request(),
        check in check_version_request(),
        reconfig in reconfig_request(),
        watches in watches_request(),
        add_watch in add_watch_request(),
    ) {
        check_roundtrip(&create)?;
        check_roundtrip(&create_ttl)?;
        check_roundtrip(&delete)?;
        check_roundtrip(&path_watch)?;
        check_roundtrip(&set_data)?;
        check_roundtrip(&path)?;
        check_roundtrip(&set_acl)?;
        check_roundtrip(&check)?;
        check_roundtrip(&reconfig)?;
        check_roundtrip(&watches)?;
        check_roundtrip(&add_watch)?;
    }

    #[test]
    fn session_records_roundtrip(
        sw in set_watches(),
        sw2 in set_watches2(),
        auth in auth_packet(),
        sasl in sasl_request(),
        mh in multi_header(),
    ) {
        check_roundtrip(&sw)?;
        check_roundtrip(&sw2)?;
        check_roundtrip(&auth)?;
        check_roundtrip(&sasl)?;
        check_roundtrip(&mh)?;
    }

    // ---- requests --------------------------------------------------------

    #[test]
    fn request_roundtrip(req in request()) {
        let mut buf = BytesMut::new();
        req.encode_body(&mut buf);
        let mut buf = buf.freeze();
        let decoded = Request::decode(req.op_code(), &mut buf).map_err(fail)?;
        prop_assert_eq!(&decoded, &req);
        prop_assert!(buf.is_empty(), "{} bytes left over", buf.len());
    }

    #[test]
    fn multi_request_roundtrip(
        write_ops in vec(multi_write_op(), 0..8),
        read_ops in vec(multi_read_op(), 0..8),
    ) {
        for req in [Request::Multi(write_ops), Request::MultiRead(read_ops)] {
            let mut buf = BytesMut::new();
            req.encode_body(&mut buf);
            let mut buf = buf.freeze();
            let decoded = Request::decode(req.op_code(), &mut buf).map_err(fail)?;
            prop_assert_eq!(&decoded, &req);
            prop_assert!(buf.is_empty());
        }
    }

    /// A whole request frame as a client sends it: length, header, body.
    #[test]
    fn framed_request_roundtrip((header, req) in request_with_header()) {
        let mut wire = encode_request_frames(&[(header.clone(), req.clone())]);
        let mut codec = FrameCodec::default();
        let mut frame = tokio_util::codec::Decoder::decode(&mut codec, &mut wire)
            .map_err(fail)?
            .ok_or_else(|| fail("incomplete frame"))?;
        prop_assert!(wire.is_empty());
        let h = RequestHeader::decode(&mut frame).map_err(fail)?;
        prop_assert_eq!(&h, &header);
        let op = OpCode::try_from(h.op).map_err(fail)?;
        prop_assert_eq!(Request::decode(op, &mut frame).map_err(fail)?, req);
        prop_assert!(frame.is_empty());
    }

    // ---- responses -------------------------------------------------------

    #[test]
    fn response_records_roundtrip(
        create in create_response(),
        create2 in create2_response(),
        get_data in get_data_response(),
        get_acl in get_acl_response(),
        children in get_children_response(),
        children2 in get_children2_response(),
        err in error_response(),
    ) {
        check_roundtrip(&create)?;
        check_roundtrip(&create2)?;
        check_roundtrip(&get_data)?;
        check_roundtrip(&get_acl)?;
        check_roundtrip(&children)?;
        check_roundtrip(&children2)?;
        check_roundtrip(&err)?;
    }

    #[test]
    fn response_roundtrip((op, resp) in response_with_op()) {
        let mut buf = resp.to_bytes();
        // The size a server checks before it builds a reply is exact.
        prop_assert_eq!(resp.encoded_len(), buf.len());
        let decoded = Response::decode(op, &mut buf).map_err(fail)?;
        prop_assert_eq!(&decoded, &resp);
        prop_assert!(buf.is_empty(), "{} bytes left over", buf.len());
    }

    #[test]
    fn multi_result_roundtrip(
        op in prop::sample::select(vec![OpCode::Multi, OpCode::MultiRead]),
        results in vec(multi_result(), 0..10),
    ) {
        // Each variant alone, then all together.
        for r in &results {
            let resp = Response::Multi(vec![r.clone()]);
            let mut buf = resp.to_bytes();
            prop_assert_eq!(Response::decode(op, &mut buf).map_err(fail)?, resp);
            prop_assert!(buf.is_empty());
        }
        let resp = Response::Multi(results);
        let mut buf = resp.to_bytes();
        prop_assert_eq!(resp.encoded_len(), buf.len());
        prop_assert_eq!(Response::decode(op, &mut buf).map_err(fail)?, resp);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn reply_roundtrip(h in reply_header(), (op, resp) in response_with_op()) {
        let mut buf = BytesMut::new();
        h.encode(&mut buf);
        resp.encode(&mut buf);
        let mut buf = buf.freeze();
        prop_assert_eq!(ReplyHeader::decode(&mut buf).map_err(fail)?, h);
        prop_assert_eq!(Response::decode(op, &mut buf).map_err(fail)?, resp);
        prop_assert!(buf.is_empty());
    }

    // ---- txns ------------------------------------------------------------

    #[test]
    fn txn_records_roundtrip(
        create in create_txn(),
        container in create_container_txn(),
        ttl in create_ttl_txn(),
        delete in delete_txn(),
        set_data in set_data_txn(),
        check in check_version_txn(),
        set_acl in set_acl_txn(),
        session in create_session_txn(),
        close in close_session_txn(),
        err in error_txn(),
        header in txn_header(),
    ) {
        check_roundtrip(&create)?;
        check_roundtrip(&container)?;
        check_roundtrip(&ttl)?;
        check_roundtrip(&delete)?;
        check_roundtrip(&set_data)?;
        check_roundtrip(&check)?;
        check_roundtrip(&set_acl)?;
        check_roundtrip(&session)?;
        check_roundtrip(&close)?;
        check_roundtrip(&err)?;
        check_roundtrip(&header)?;
    }

    #[test]
    fn txn_roundtrip(t in txn()) {
        check_roundtrip(&t)?;
        // The type on the wire is the body's, and the body decodes alone.
        let bytes = t.to_bytes();
        let mut ty = bytes.slice(TXN_HEADER_LEN - 4..TXN_HEADER_LEN);
        prop_assert_eq!(ty.get_i32(), t.body.op_code().code());
        let mut body = bytes.slice(TXN_HEADER_LEN..);
        prop_assert_eq!(TxnBody::decode(t.body.op_code(), &mut body).map_err(fail)?, t.body);
        prop_assert!(body.is_empty());
    }

    #[test]
    fn multi_txn_roundtrip(header in txn_header(), subs in vec(single_txn_body(), 0..10)) {
        check_roundtrip(&Txn { header, body: TxnBody::Multi(subs) })?;
    }

    // ---- enums -----------------------------------------------------------

    #[test]
    fn enum_codes_roundtrip(v in any::<i32>()) {
        if let Ok(op) = OpCode::try_from(v) {
            prop_assert_eq!(op.code(), v);
        }
        if let Some(c) = ErrorCode::from_code(v) {
            prop_assert_eq!(c.code(), v);
        }
        if let Some(m) = CreateMode::from_flags(v) {
            prop_assert_eq!(m.flags(), v);
        }
        if let Some(e) = EventType::from_code(v) {
            prop_assert_eq!(e as i32, v);
        }
        if let Some(s) = KeeperState::from_code(v) {
            prop_assert_eq!(s as i32, v);
        }
        if let Some(w) = WatcherType::from_code(v) {
            prop_assert_eq!(w as i32, v);
        }
        if let Some(m) = AddWatchMode::from_code(v) {
            prop_assert_eq!(m as i32, v);
        }
    }
}

#[test]
fn every_enum_value_roundtrips() {
    for op in OpCode::ALL {
        assert_eq!(OpCode::try_from(op.code()), Ok(*op));
    }
    for c in ErrorCode::ALL {
        assert_eq!(ErrorCode::from_code(c.code()), Some(*c));
    }
    use CreateMode as C;
    for m in [
        C::Persistent,
        C::Ephemeral,
        C::PersistentSequential,
        C::EphemeralSequential,
        C::Container,
        C::PersistentWithTtl,
        C::PersistentSequentialWithTtl,
    ] {
        assert_eq!(CreateMode::from_flags(m.flags()), Some(m));
    }
    use EventType as E;
    for e in [
        E::None,
        E::NodeCreated,
        E::NodeDeleted,
        E::NodeDataChanged,
        E::NodeChildrenChanged,
        E::DataWatchRemoved,
        E::ChildWatchRemoved,
        E::PersistentWatchRemoved,
    ] {
        assert_eq!(EventType::from_code(e as i32), Some(e));
    }
    use KeeperState as K;
    for s in [
        K::Unknown,
        K::Disconnected,
        K::NoSyncConnected,
        K::SyncConnected,
        K::AuthFailed,
        K::ConnectedReadOnly,
        K::SaslAuthenticated,
        K::Expired,
        K::Closed,
    ] {
        assert_eq!(KeeperState::from_code(s as i32), Some(s));
    }
    use WatcherType as W;
    for w in [
        W::Children,
        W::Data,
        W::Any,
        W::Persistent,
        W::PersistentRecursive,
    ] {
        assert_eq!(WatcherType::from_code(w as i32), Some(w));
    }
    for m in [AddWatchMode::Persistent, AddWatchMode::PersistentRecursive] {
        assert_eq!(AddWatchMode::from_code(m as i32), Some(m));
    }
}

/// The documented decode quirks, pinned down.
#[test]
fn null_forms_decode_as_documented() {
    let null = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff]);
    assert_eq!(String::decode(&mut null.clone()), Ok(String::new()));
    assert_eq!(Option::<String>::decode(&mut null.clone()), Ok(None));
    assert_eq!(Bytes::decode(&mut null.clone()), Ok(Bytes::new()));
    assert_eq!(Option::<Bytes>::decode(&mut null.clone()), Ok(None));
    assert_eq!(Vec::<String>::decode(&mut null.clone()), Ok(Vec::new()));
    let empty = Bytes::from_static(&[0, 0, 0, 0]);
    assert_eq!(
        Option::<Bytes>::decode(&mut empty.clone()),
        Ok(Some(Bytes::new()))
    );
    assert_eq!(
        Option::<String>::decode(&mut empty.clone()),
        Ok(Some(String::new()))
    );
}

/// A pre-3.4 client's handshake has no readOnly byte and decodes to `None`.
#[test]
fn connect_request_without_read_only_byte() {
    let req = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        timeout_ms: 30_000,
        session_id: 0,
        passwd: Bytes::from_static(&[0; 16]),
        read_only: None,
    };
    let bytes = req.to_bytes();
    assert_eq!(bytes.len(), 44);
    assert_eq!(ConnectRequest::decode(&mut bytes.clone()), Ok(req.clone()));
    let with = ConnectRequest {
        read_only: Some(false),
        ..req
    };
    let bytes = with.to_bytes();
    assert_eq!(bytes.len(), 45);
    assert_eq!(bytes[44], 0);
    assert_eq!(ConnectRequest::decode(&mut bytes.clone()), Ok(with));
}

/// The generators' table of body-less replies agrees with the decoder, so a
/// reply that gains a body (or loses one) is noticed here.
#[test]
fn empty_response_ops_match_the_decoder() {
    for &op in OpCode::ALL {
        let empty = Response::decode(op, &mut Bytes::new()) == Ok(Response::Empty);
        assert_eq!(empty, EMPTY_RESPONSE_OPS.contains(&op), "{op:?}");
    }
}
