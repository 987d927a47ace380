use std::sync::Arc;

use zk_proto::client::CreateRequest;
use zk_proto::data::{CreateMode, Stat, perms};
use zk_proto::path::{parent, validate_path};
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
    check_mode(ctx, op, mode, ttl)?;
    validate_path(&r.path, mode.is_sequential()).map_err(|_| ErrorCode::BadArguments)?;
    let acl = acl::fixup(&r.acl, ctx.auth)?;
    let parent_path = parent(&r.path);
    let mut parent_meta = view.get(parent_path).ok_or(ErrorCode::NoNode)?;
    acl::check(&parent_meta.acl, perms::CREATE, ctx.auth)?;
    let path = if mode.is_sequential() {
        // The suffix is the parent's cversion, 10 digits, as ZooKeeper names
        // it (it wraps to negative numbers like ZooKeeper's int does).
        format!("{}{:010}", r.path, parent_meta.stat.cversion)
    } else {
        r.path.clone()
    };
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
    let owner = if mode.is_ephemeral() {
        ctx.session_id
    } else if mode.is_container() {
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
    Ok(if mode.is_container() {
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

/// The op and the mode must agree; TTLs need `extendedTypesEnabled` and a
/// value that fits the encoding.
fn check_mode(ctx: &PrepCtx<'_>, op: OpCode, mode: CreateMode, ttl: i64) -> Result<(), ErrorCode> {
    if mode.is_ttl() || op == OpCode::CreateTtl {
        if !ctx.config.extended_types {
            return Err(ErrorCode::Unimplemented);
        }
        if op != OpCode::CreateTtl || !mode.is_ttl() || ttl <= 0 || ttl > MAX_TTL_MS {
            return Err(ErrorCode::BadArguments);
        }
    }
    if op == OpCode::CreateContainer && !mode.is_container() {
        return Err(ErrorCode::BadArguments);
    }
    Ok(())
}
