use std::sync::Arc;

use zk_proto::client::CreateRequest;
use zk_proto::data::{CreateMode, Stat, perms};
use zk_proto::path::validate_path;
use zk_proto::txn::{CreateContainerTxn, CreateTtlTxn, CreateTxn, TxnBody};
use zk_proto::{ErrorCode, OpCode};

use super::check_quota;
use crate::request::overlay::Meta;
use crate::request::prep::{PrepCtx, PrepView};
use crate::tree::acl;
use crate::tree::node::{CONTAINER_OWNER, MAX_TTL_MS, NodeKind};

/// create, create2, createContainer, createTTL
/// (`PrepRequestProcessor.pRequest2TxnCreate`).
pub fn prep(
    view: &mut PrepView<'_>,
    ctx: &PrepCtx<'_>,
    op: OpCode,
    r: &CreateRequest,
    ttl: i64,
) -> Result<TxnBody, ErrorCode> {
    let mode = CreateMode::from_flags(r.flags).ok_or(ErrorCode::BadArguments)?;
    check_mode(ctx, mode, ttl)?;
    // The checks run in ZooKeeper's order, which clients can observe: the
    // parent is looked up before the full path is validated.
    if !r.path.contains('/') || r.path.contains('\0') {
        return Err(ErrorCode::BadArguments);
    }
    let acl = acl::fixup(&r.acl, ctx.auth)?;
    let parent_path = &r.path[..r.path.rfind('/').unwrap_or(0)];
    let parent_path = if parent_path.is_empty() {
        "/"
    } else {
        parent_path
    };
    let mut parent_meta = view.get(parent_path).ok_or(ErrorCode::NoNode)?;
    acl::check(&parent_meta.acl, perms::CREATE, ctx.auth)?;
    let path = if mode.is_sequential() {
        // The suffix is the parent's cversion, 10 digits, as ZooKeeper names
        // it (it wraps to negative numbers like ZooKeeper's int does).
        format!("{}{:010}", r.path, parent_meta.stat.cversion)
    } else {
        r.path.clone()
    };
    validate_path(&path, false).map_err(|_| ErrorCode::BadArguments)?;
    if view.get(&path).is_some() {
        return Err(ErrorCode::NodeExists);
    }
    if matches!(
        NodeKind::from_owner(parent_meta.stat.ephemeral_owner),
        NodeKind::Ephemeral(_)
    ) {
        return Err(ErrorCode::NoChildrenForEphemerals);
    }
    let data_len = r.data.as_ref().map_or(0, |d| d.len());
    check_quota(view, ctx.config.enforce_quota, &path, data_len as i64, 1)?;

    let parent_cversion = parent_meta.stat.cversion.wrapping_add(1);
    parent_meta.stat.cversion = parent_cversion;
    parent_meta.stat.num_children += 1;
    parent_meta.stat.pzxid = ctx.zxid;
    view.put(parent_path, Some(parent_meta));
    // The op, not the flags, makes a container (as ZooKeeper's txn does).
    let container = op == OpCode::CreateContainer;
    let owner = if mode.is_ephemeral() {
        ctx.session_id
    } else if container {
        CONTAINER_OWNER
    } else if mode.is_ttl() {
        NodeKind::ttl_owner(ttl)
    } else {
        0
    };
    view.put(
        &path,
        Some(Meta {
            stat: Stat {
                czxid: ctx.zxid,
                mzxid: ctx.zxid,
                ctime: ctx.time_ms,
                mtime: ctx.time_ms,
                ephemeral_owner: owner,
                data_length: data_len as i32,
                pzxid: ctx.zxid,
                ..Stat::default()
            },
            acl: Arc::new(acl.clone()),
        }),
    );
    let data = r.data.clone();
    Ok(if container {
        TxnBody::CreateContainer(CreateContainerTxn {
            path,
            data,
            acl,
            parent_cversion,
        })
    } else if mode.is_ttl() {
        TxnBody::CreateTtl(CreateTtlTxn {
            path,
            data,
            acl,
            parent_cversion,
            ttl,
        })
    } else {
        TxnBody::Create(CreateTxn {
            path,
            data,
            acl,
            ephemeral: mode.is_ephemeral(),
            parent_cversion,
        })
    })
}

/// TTL modes need `extendedTypesEnabled` and a TTL that fits the encoding;
/// other modes take no TTL (`EphemeralType.validateTTL`).
fn check_mode(ctx: &PrepCtx<'_>, mode: CreateMode, ttl: i64) -> Result<(), ErrorCode> {
    if mode.is_ttl() {
        if !ctx.config.extended_types {
            return Err(ErrorCode::Unimplemented);
        }
        if ttl <= 0 || ttl > MAX_TTL_MS {
            return Err(ErrorCode::BadArguments);
        }
    } else if ttl >= 0 {
        return Err(ErrorCode::BadArguments);
    }
    Ok(())
}
