use std::sync::Arc;

use zk_proto::ErrorCode;
use zk_proto::client::SetAclRequest;
use zk_proto::data::perms;
use zk_proto::txn::{SetAclTxn, TxnBody};

use super::valid;
use crate::request::prep::{PrepCtx, PrepView, next_version};
use crate::tree::acl;

/// setACL: ADMIN on the node, matching aversion, a valid ACL.
pub fn prep(
    view: &mut PrepView<'_>,
    ctx: &PrepCtx<'_>,
    r: &SetAclRequest,
) -> Result<TxnBody, ErrorCode> {
    valid(&r.path)?;
    let mut node = view.get(&r.path).ok_or(ErrorCode::NoNode)?;
    acl::check(&node.acl, perms::ADMIN, ctx.auth)?;
    let version = next_version(node.stat.aversion, r.version)?;
    let fixed = acl::fixup(&r.acl, ctx.auth)?;
    node.stat.aversion = version;
    node.acl = Arc::new(fixed.clone());
    view.put(&r.path, Some(node));
    Ok(TxnBody::SetAcl(SetAclTxn {
        path: r.path.clone(),
        acl: fixed,
        version,
    }))
}
