//! Hand-written proptest strategies for every record and enum of zk-proto,
//! shared by the round-trip and robustness tests.
//!
//! The generators respect the documented decode quirks: a plain `String`,
//! `Bytes` or `Vec` field has no null form (the encoders never write one),
//! `Option<Bytes>` / `Option<String>` keep `None` apart from `Some(empty)`, a
//! multi holds only the ops its decoder allows, and a multi txn is never
//! nested.

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::fmt::Debug;

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use proptest::test_runner::TestCaseError;
use zk_proto::client::*;
use zk_proto::data::{Acl, ClientInfo, Id, Stat};
use zk_proto::frame::write_frame;
use zk_proto::txn::*;
use zk_proto::{Decode, Encode, OpCode};

/// A uniform choice between strategies of different types with one value
/// type (`prop_oneof!` only takes up to ten arms of distinct types).
macro_rules! one_of {
    ($($s:expr),+ $(,)?) => {
        Union::new(vec![$(($s).boxed()),+]).boxed()
    };
}

// ---- primitives ----------------------------------------------------------

/// Any string: mostly short ASCII paths, sometimes arbitrary Unicode.
pub fn string() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        3 => "(/[a-z0-9._-]{0,6}){0,3}",
        1 => ".{0,12}",
    ]
}

pub fn opt_string() -> impl Strategy<Value = Option<String>> + Clone {
    prop::option::of(string())
}

pub fn strings() -> impl Strategy<Value = Vec<String>> + Clone {
    vec(string(), 0..5)
}

pub fn bytes() -> impl Strategy<Value = Bytes> + Clone {
    vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

/// `None`, `Some(empty)` and `Some(data)` all occur.
pub fn opt_bytes() -> impl Strategy<Value = Option<Bytes>> + Clone {
    prop_oneof![Just(None), Just(Some(Bytes::new())), bytes().prop_map(Some)]
}

// ---- data ------------------------------------------------------------------

pub fn stat() -> impl Strategy<Value = Stat> + Clone {
    (
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
        any::<i32>(),
        any::<i32>(),
        any::<i32>(),
        any::<i64>(),
        any::<i32>(),
        any::<i32>(),
        any::<i64>(),
    )
        .prop_map(
            |(
                czxid,
                mzxid,
                ctime,
                mtime,
                version,
                cversion,
                aversion,
                ephemeral_owner,
                data_length,
                num_children,
                pzxid,
            )| Stat {
                czxid,
                mzxid,
                ctime,
                mtime,
                version,
                cversion,
                aversion,
                ephemeral_owner,
                data_length,
                num_children,
                pzxid,
            },
        )
}

pub fn id() -> impl Strategy<Value = Id> + Clone {
    (string(), string()).prop_map(|(scheme, id)| Id { scheme, id })
}

pub fn acl() -> impl Strategy<Value = Acl> + Clone {
    (any::<i32>(), id()).prop_map(|(perms, id)| Acl { perms, id })
}

pub fn acls() -> impl Strategy<Value = Vec<Acl>> + Clone {
    vec(acl(), 0..4)
}

pub fn client_info() -> impl Strategy<Value = ClientInfo> + Clone {
    (string(), string()).prop_map(|(auth_scheme, user)| ClientInfo { auth_scheme, user })
}

// ---- handshake and headers -------------------------------------------------

pub fn connect_request() -> impl Strategy<Value = ConnectRequest> + Clone {
    (
        any::<i32>(),
        any::<i64>(),
        any::<i32>(),
        any::<i64>(),
        bytes(),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(protocol_version, last_zxid_seen, timeout_ms, session_id, passwd, read_only)| {
                ConnectRequest {
                    protocol_version,
                    last_zxid_seen,
                    timeout_ms,
                    session_id,
                    passwd,
                    read_only,
                }
            },
        )
}

pub fn connect_response() -> impl Strategy<Value = ConnectResponse> + Clone {
    (
        any::<i32>(),
        any::<i32>(),
        any::<i64>(),
        bytes(),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(protocol_version, timeout_ms, session_id, passwd, read_only)| ConnectResponse {
                protocol_version,
                timeout_ms,
                session_id,
                passwd,
                read_only,
            },
        )
}

pub fn request_header() -> impl Strategy<Value = RequestHeader> + Clone {
    (any::<i32>(), any::<i32>()).prop_map(|(xid, op)| RequestHeader { xid, op })
}

pub fn reply_header() -> impl Strategy<Value = ReplyHeader> + Clone {
    (any::<i32>(), any::<i64>(), any::<i32>()).prop_map(|(xid, zxid, err)| ReplyHeader {
        xid,
        zxid,
        err,
    })
}

pub fn watcher_event() -> impl Strategy<Value = WatcherEvent> + Clone {
    (any::<i32>(), any::<i32>(), string()).prop_map(|(event_type, state, path)| WatcherEvent {
        event_type,
        state,
        path,
    })
}

// ---- request records --------------------------------------------------------

pub fn create_request() -> impl Strategy<Value = CreateRequest> + Clone {
    (string(), opt_bytes(), acls(), any::<i32>()).prop_map(|(path, data, acl, flags)| {
        CreateRequest {
            path,
            data,
            acl,
            flags,
        }
    })
}

pub fn create_ttl_request() -> impl Strategy<Value = CreateTtlRequest> + Clone {
    (string(), opt_bytes(), acls(), any::<i32>(), any::<i64>()).prop_map(
        |(path, data, acl, flags, ttl)| CreateTtlRequest {
            path,
            data,
            acl,
            flags,
            ttl,
        },
    )
}

pub fn delete_request() -> impl Strategy<Value = DeleteRequest> + Clone {
    (string(), any::<i32>()).prop_map(|(path, version)| DeleteRequest { path, version })
}

pub fn path_watch_request() -> impl Strategy<Value = PathWatchRequest> + Clone {
    (string(), any::<bool>()).prop_map(|(path, watch)| PathWatchRequest { path, watch })
}

pub fn set_data_request() -> impl Strategy<Value = SetDataRequest> + Clone {
    (string(), opt_bytes(), any::<i32>()).prop_map(|(path, data, version)| SetDataRequest {
        path,
        data,
        version,
    })
}

pub fn path_request() -> impl Strategy<Value = PathRequest> + Clone {
    string().prop_map(|path| PathRequest { path })
}

pub fn set_acl_request() -> impl Strategy<Value = SetAclRequest> + Clone {
    (string(), acls(), any::<i32>()).prop_map(|(path, acl, version)| SetAclRequest {
        path,
        acl,
        version,
    })
}

pub fn check_version_request() -> impl Strategy<Value = CheckVersionRequest> + Clone {
    (string(), any::<i32>()).prop_map(|(path, version)| CheckVersionRequest { path, version })
}

pub fn reconfig_request() -> impl Strategy<Value = ReconfigRequest> + Clone {
    (opt_string(), opt_string(), opt_string(), any::<i64>()).prop_map(
        |(joining_servers, leaving_servers, new_members, cur_config_id)| ReconfigRequest {
            joining_servers,
            leaving_servers,
            new_members,
            cur_config_id,
        },
    )
}

pub fn watches_request() -> impl Strategy<Value = WatchesRequest> + Clone {
    (string(), any::<i32>()).prop_map(|(path, watcher_type)| WatchesRequest { path, watcher_type })
}

pub fn add_watch_request() -> impl Strategy<Value = AddWatchRequest> + Clone {
    (string(), any::<i32>()).prop_map(|(path, mode)| AddWatchRequest { path, mode })
}

pub fn set_watches() -> impl Strategy<Value = SetWatches> + Clone {
    (any::<i64>(), strings(), strings(), strings()).prop_map(
        |(relative_zxid, data_watches, exist_watches, child_watches)| SetWatches {
            relative_zxid,
            data_watches,
            exist_watches,
            child_watches,
        },
    )
}

pub fn set_watches2() -> impl Strategy<Value = SetWatches2> + Clone {
    (
        any::<i64>(),
        strings(),
        strings(),
        strings(),
        strings(),
        strings(),
    )
        .prop_map(
            |(
                relative_zxid,
                data_watches,
                exist_watches,
                child_watches,
                persistent_watches,
                persistent_recursive_watches,
            )| SetWatches2 {
                relative_zxid,
                data_watches,
                exist_watches,
                child_watches,
                persistent_watches,
                persistent_recursive_watches,
            },
        )
}

pub fn auth_packet() -> impl Strategy<Value = AuthPacket> + Clone {
    (any::<i32>(), string(), bytes()).prop_map(|(auth_type, scheme, auth)| AuthPacket {
        auth_type,
        scheme,
        auth,
    })
}

pub fn sasl_request() -> impl Strategy<Value = SaslRequest> + Clone {
    bytes().prop_map(|token| SaslRequest { token })
}

pub fn multi_header() -> impl Strategy<Value = MultiHeader> + Clone {
    (any::<i32>(), any::<bool>(), any::<i32>()).prop_map(|(op, done, err)| MultiHeader {
        op,
        done,
        err,
    })
}

// ---- requests --------------------------------------------------------------

/// The ops a write multi may hold: create*, delete, setData, check.
pub fn multi_write_op() -> BoxedStrategy<Request> {
    one_of![
        create_request().prop_map(Request::Create),
        create_request().prop_map(Request::Create2),
        create_request().prop_map(Request::CreateContainer),
        create_ttl_request().prop_map(Request::CreateTtl),
        delete_request().prop_map(Request::Delete),
        set_data_request().prop_map(Request::SetData),
        check_version_request().prop_map(Request::Check),
    ]
}

/// The ops a multiRead may hold: getData, getChildren.
pub fn multi_read_op() -> BoxedStrategy<Request> {
    one_of![
        path_watch_request().prop_map(Request::GetData),
        path_watch_request().prop_map(Request::GetChildren),
    ]
}

/// Every `Request` variant, each about equally likely.
pub fn request() -> BoxedStrategy<Request> {
    one_of![
        create_request().prop_map(Request::Create),
        create_request().prop_map(Request::Create2),
        create_request().prop_map(Request::CreateContainer),
        create_ttl_request().prop_map(Request::CreateTtl),
        delete_request().prop_map(Request::Delete),
        path_watch_request().prop_map(Request::Exists),
        path_watch_request().prop_map(Request::GetData),
        set_data_request().prop_map(Request::SetData),
        path_request().prop_map(Request::GetAcl),
        set_acl_request().prop_map(Request::SetAcl),
        path_watch_request().prop_map(Request::GetChildren),
        path_watch_request().prop_map(Request::GetChildren2),
        path_request().prop_map(Request::Sync),
        Just(Request::Ping),
        check_version_request().prop_map(Request::Check),
        vec(multi_write_op(), 0..5).prop_map(Request::Multi),
        vec(multi_read_op(), 0..5).prop_map(Request::MultiRead),
        reconfig_request().prop_map(Request::Reconfig),
        watches_request().prop_map(Request::CheckWatches),
        watches_request().prop_map(Request::RemoveWatches),
        add_watch_request().prop_map(Request::AddWatch),
        path_request().prop_map(Request::GetEphemerals),
        path_request().prop_map(Request::GetAllChildrenNumber),
        Just(Request::WhoAmI),
        set_watches().prop_map(Request::SetWatches),
        set_watches2().prop_map(Request::SetWatches2),
        auth_packet().prop_map(Request::Auth),
        sasl_request().prop_map(Request::Sasl),
        Just(Request::CloseSession),
    ]
}

/// A request with a header whose op matches it.
pub fn request_with_header() -> impl Strategy<Value = (RequestHeader, Request)> {
    (any::<i32>(), request()).prop_map(|(xid, req)| {
        (
            RequestHeader {
                xid,
                op: req.op_code().code(),
            },
            req,
        )
    })
}

// ---- responses -------------------------------------------------------------

pub fn create_response() -> impl Strategy<Value = CreateResponse> + Clone {
    string().prop_map(|path| CreateResponse { path })
}

pub fn create2_response() -> impl Strategy<Value = Create2Response> + Clone {
    (string(), stat()).prop_map(|(path, stat)| Create2Response { path, stat })
}

pub fn get_data_response() -> impl Strategy<Value = GetDataResponse> + Clone {
    (opt_bytes(), stat()).prop_map(|(data, stat)| GetDataResponse { data, stat })
}

pub fn get_acl_response() -> impl Strategy<Value = GetAclResponse> + Clone {
    (acls(), stat()).prop_map(|(acl, stat)| GetAclResponse { acl, stat })
}

pub fn get_children_response() -> impl Strategy<Value = GetChildrenResponse> + Clone {
    strings().prop_map(|children| GetChildrenResponse { children })
}

pub fn get_children2_response() -> impl Strategy<Value = GetChildren2Response> + Clone {
    (strings(), stat()).prop_map(|(children, stat)| GetChildren2Response { children, stat })
}

pub fn error_response() -> impl Strategy<Value = ErrorResponse> + Clone {
    any::<i32>().prop_map(|err| ErrorResponse { err })
}

/// Every `MultiResult` variant; `Create2` carries one of the ops that answer
/// with a stat.
pub fn multi_result() -> BoxedStrategy<MultiResult> {
    one_of![
        string().prop_map(|path| MultiResult::Create { path }),
        (
            select(vec![
                OpCode::Create2,
                OpCode::CreateContainer,
                OpCode::CreateTtl
            ]),
            string(),
            stat()
        )
            .prop_map(|(op, path, stat)| MultiResult::Create2 { op, path, stat }),
        Just(MultiResult::Delete),
        Just(MultiResult::Check),
        stat().prop_map(|stat| MultiResult::SetData { stat }),
        strings().prop_map(|children| MultiResult::GetChildren { children }),
        (opt_bytes(), stat()).prop_map(|(data, stat)| MultiResult::GetData { data, stat }),
        any::<i32>().prop_map(|err| MultiResult::Error { err }),
    ]
}

/// The ops whose successful reply has no body.
pub const EMPTY_RESPONSE_OPS: &[OpCode] = &[
    OpCode::Delete,
    OpCode::Ping,
    OpCode::Check,
    OpCode::Auth,
    OpCode::SetWatches,
    OpCode::SetWatches2,
    OpCode::CheckWatches,
    OpCode::RemoveWatches,
    OpCode::CloseSession,
    OpCode::DeleteContainer,
    OpCode::CreateSession,
    OpCode::Notification,
    OpCode::Error,
];

/// Every `Response` variant, paired with an op whose reply decodes to it.
pub fn response_with_op() -> BoxedStrategy<(OpCode, Response)> {
    one_of![
        select(EMPTY_RESPONSE_OPS).prop_map(|op| (op, Response::Empty)),
        create_response().prop_map(|r| (OpCode::Create, Response::Create(r))),
        (
            select(vec![
                OpCode::Create2,
                OpCode::CreateContainer,
                OpCode::CreateTtl
            ]),
            create2_response()
        )
            .prop_map(|(op, r)| (op, Response::Create2(r))),
        (
            select(vec![OpCode::Exists, OpCode::SetData, OpCode::SetAcl]),
            stat()
        )
            .prop_map(|(op, s)| (op, Response::Stat(s))),
        (
            select(vec![OpCode::GetData, OpCode::Reconfig]),
            get_data_response()
        )
            .prop_map(|(op, r)| (op, Response::GetData(r))),
        get_acl_response().prop_map(|r| (OpCode::GetAcl, Response::GetAcl(r))),
        get_children_response().prop_map(|r| (OpCode::GetChildren, Response::GetChildren(r))),
        get_children2_response().prop_map(|r| (OpCode::GetChildren2, Response::GetChildren2(r))),
        string().prop_map(|p| (OpCode::Sync, Response::Sync(p))),
        (
            select(vec![OpCode::Multi, OpCode::MultiRead]),
            vec(multi_result(), 0..5)
        )
            .prop_map(|(op, rs)| (op, Response::Multi(rs))),
        strings().prop_map(|p| (OpCode::GetEphemerals, Response::GetEphemerals(p))),
        any::<i32>().prop_map(|n| (OpCode::GetAllChildrenNumber, Response::AllChildrenNumber(n))),
        vec(client_info(), 0..4).prop_map(|i| (OpCode::WhoAmI, Response::WhoAmI(i))),
        bytes().prop_map(|t| (OpCode::Sasl, Response::Sasl(t))),
        any::<i32>().prop_map(|err| (OpCode::AddWatch, Response::ErrorBody(err))),
    ]
}

// ---- txns --------------------------------------------------------------------

pub fn create_txn() -> impl Strategy<Value = CreateTxn> + Clone {
    (string(), opt_bytes(), acls(), any::<bool>(), any::<i32>()).prop_map(
        |(path, data, acl, ephemeral, parent_cversion)| CreateTxn {
            path,
            data,
            acl,
            ephemeral,
            parent_cversion,
        },
    )
}

pub fn create_container_txn() -> impl Strategy<Value = CreateContainerTxn> + Clone {
    (string(), opt_bytes(), acls(), any::<i32>()).prop_map(|(path, data, acl, parent_cversion)| {
        CreateContainerTxn {
            path,
            data,
            acl,
            parent_cversion,
        }
    })
}

pub fn create_ttl_txn() -> impl Strategy<Value = CreateTtlTxn> + Clone {
    (string(), opt_bytes(), acls(), any::<i32>(), any::<i64>()).prop_map(
        |(path, data, acl, parent_cversion, ttl)| CreateTtlTxn {
            path,
            data,
            acl,
            parent_cversion,
            ttl,
        },
    )
}

pub fn delete_txn() -> impl Strategy<Value = DeleteTxn> + Clone {
    string().prop_map(|path| DeleteTxn { path })
}

pub fn set_data_txn() -> impl Strategy<Value = SetDataTxn> + Clone {
    (string(), opt_bytes(), any::<i32>()).prop_map(|(path, data, version)| SetDataTxn {
        path,
        data,
        version,
    })
}

pub fn check_version_txn() -> impl Strategy<Value = CheckVersionTxn> + Clone {
    (string(), any::<i32>()).prop_map(|(path, version)| CheckVersionTxn { path, version })
}

pub fn set_acl_txn() -> impl Strategy<Value = SetAclTxn> + Clone {
    (string(), acls(), any::<i32>()).prop_map(|(path, acl, version)| SetAclTxn {
        path,
        acl,
        version,
    })
}

pub fn create_session_txn() -> impl Strategy<Value = CreateSessionTxn> + Clone {
    any::<i32>().prop_map(|timeout_ms| CreateSessionTxn { timeout_ms })
}

pub fn close_session_txn() -> impl Strategy<Value = CloseSessionTxn> + Clone {
    strings().prop_map(|paths_to_delete| CloseSessionTxn { paths_to_delete })
}

pub fn error_txn() -> impl Strategy<Value = ErrorTxn> + Clone {
    any::<i32>().prop_map(|err| ErrorTxn { err })
}

pub fn txn_header() -> impl Strategy<Value = TxnHeader> + Clone {
    (any::<i64>(), any::<i32>(), any::<i64>(), any::<i64>()).prop_map(
        |(client_id, cxid, zxid, time_ms)| TxnHeader {
            client_id,
            cxid,
            zxid,
            time_ms,
        },
    )
}

/// Every `TxnBody` variant but `Multi`: what a multi txn may hold.
pub fn single_txn_body() -> BoxedStrategy<TxnBody> {
    one_of![
        create_txn().prop_map(TxnBody::Create),
        create_container_txn().prop_map(TxnBody::CreateContainer),
        create_ttl_txn().prop_map(TxnBody::CreateTtl),
        delete_txn().prop_map(TxnBody::Delete),
        delete_txn().prop_map(TxnBody::DeleteContainer),
        set_data_txn().prop_map(TxnBody::SetData),
        check_version_txn().prop_map(TxnBody::CheckVersion),
        set_acl_txn().prop_map(TxnBody::SetAcl),
        create_session_txn().prop_map(TxnBody::CreateSession),
        close_session_txn().prop_map(TxnBody::CloseSession),
        error_txn().prop_map(TxnBody::Error),
    ]
}

/// Every `TxnBody` variant, including a (flat) multi of sub-txns.
pub fn txn_body() -> BoxedStrategy<TxnBody> {
    prop_oneof![
        11 => single_txn_body(),
        2 => vec(single_txn_body(), 0..5).prop_map(TxnBody::Multi),
    ]
    .boxed()
}

pub fn txn() -> impl Strategy<Value = Txn> {
    (txn_header(), txn_body()).prop_map(|(header, body)| Txn { header, body })
}

// ---- helpers -----------------------------------------------------------------

/// Encodes `value`, decodes it back and checks that the result is equal and
/// that every byte was consumed.
pub fn check_roundtrip<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Encode + Decode + PartialEq + Debug,
{
    let mut buf = value.to_bytes();
    let decoded = T::decode(&mut buf).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(&decoded, value);
    prop_assert!(buf.is_empty(), "{} bytes left over", buf.len());
    Ok(())
}

/// One request as a client sends it: header then body.
pub fn encode_request(header: &RequestHeader, req: &Request, buf: &mut BytesMut) {
    header.encode(buf);
    req.encode_body(buf);
}

/// Several requests, each length-prefixed with `write_frame`.
pub fn encode_request_frames(reqs: &[(RequestHeader, Request)]) -> BytesMut {
    let mut out = BytesMut::new();
    for (header, req) in reqs {
        write_frame(&mut out, |b| encode_request(header, req, b)).expect("a frame");
    }
    out
}
