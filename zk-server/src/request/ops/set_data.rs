use zk_proto::ErrorCode;
use zk_proto::client::SetDataRequest;
use zk_proto::data::perms;
use zk_proto::txn::{SetDataTxn, TxnBody};

use super::{check_quota, valid};
use crate::request::prep::{PrepCtx, PrepView, next_version};
use crate::tree::acl;

/// setData: WRITE on the node, matching version, within quota.
pub fn prep(
    view: &mut PrepView<'_>,
    ctx: &PrepCtx<'_>,
    r: &SetDataRequest,
) -> Result<TxnBody, ErrorCode> {
    valid(&r.path)?;
    let mut node = view.get(&r.path).ok_or(ErrorCode::NoNode)?;
    acl::check(&node.acl, perms::WRITE, ctx.auth)?;
    let version = next_version(node.stat.version, r.version)?;
    let new_len = r.data.as_ref().map_or(0, |d| d.len()) as i32;
    check_quota(
        view,
        ctx.config.enforce_quota,
        &r.path,
        i64::from(new_len - node.stat.data_length),
        0,
    )?;
    node.stat.version = version;
    node.stat.mzxid = ctx.zxid;
    node.stat.mtime = ctx.time_ms;
    node.stat.data_length = new_len;
    view.put(&r.path, Some(node));
    Ok(TxnBody::SetData(SetDataTxn {
        path: r.path.clone(),
        data: r.data.clone(),
        version,
    }))
}
