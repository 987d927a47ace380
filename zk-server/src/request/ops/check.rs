use zk_proto::ErrorCode;
use zk_proto::client::CheckVersionRequest;
use zk_proto::data::perms;
use zk_proto::txn::{CheckVersionTxn, TxnBody};

use super::valid;
use crate::request::prep::{PrepCtx, PrepView};
use crate::tree::acl;

/// check (inside a multi): the node exists with this version.
pub fn prep(
    view: &mut PrepView<'_>,
    ctx: &PrepCtx<'_>,
    r: &CheckVersionRequest,
) -> Result<TxnBody, ErrorCode> {
    valid(&r.path)?;
    let node = view.get(&r.path).ok_or(ErrorCode::NoNode)?;
    acl::check(&node.acl, perms::READ, ctx.auth)?;
    if r.version != -1 && r.version != node.stat.version {
        return Err(ErrorCode::BadVersion);
    }
    Ok(TxnBody::CheckVersion(CheckVersionTxn {
        path: r.path.clone(),
        version: r.version,
    }))
}
