use zk_proto::ErrorCode;
use zk_proto::data::perms;
use zk_proto::path::parent;
use zk_proto::txn::{DeleteTxn, TxnBody};

use super::valid;
use crate::request::prep::{PrepCtx, PrepView, next_version};
use crate::tree::acl;

/// delete: DELETE on the parent, matching version, no children.
pub fn prep(
    view: &mut PrepView<'_>,
    ctx: &PrepCtx<'_>,
    path: &str,
    version: i32,
) -> Result<TxnBody, ErrorCode> {
    valid(path)?;
    if is_system(path) {
        return Err(ErrorCode::BadArguments);
    }
    let parent_path = parent(path);
    let mut parent_meta = view.get(parent_path).ok_or(ErrorCode::NoNode)?;
    // The parent's ACL first: without DELETE there, a missing child is
    // NoAuth too (ZooKeeper's order; no existence oracle).
    acl::check(&parent_meta.acl, perms::DELETE, ctx.auth)?;
    let node = view.get(path).ok_or(ErrorCode::NoNode)?;
    next_version(node.stat.version, version)?;
    if node.stat.num_children > 0 {
        return Err(ErrorCode::NotEmpty);
    }
    parent_meta.stat.num_children -= 1;
    parent_meta.stat.pzxid = ctx.zxid;
    view.put(parent_path, Some(parent_meta));
    view.put(path, None);
    Ok(TxnBody::Delete(DeleteTxn {
        path: path.to_owned(),
    }))
}

/// The root and the nodes the server itself maintains.
fn is_system(path: &str) -> bool {
    matches!(
        path,
        "/" | "/zookeeper" | "/zookeeper/quota" | "/zookeeper/config"
    )
}

/// The reaper's delete of an empty container or an expired TTL node: it
/// re-checks that the node is still there and still childless.
pub fn prep_reap(
    view: &mut PrepView<'_>,
    ctx: &PrepCtx<'_>,
    path: &str,
) -> Result<TxnBody, ErrorCode> {
    let node = view.get(path).ok_or(ErrorCode::NoNode)?;
    if node.stat.num_children > 0 {
        return Err(ErrorCode::NotEmpty);
    }
    let parent_path = parent(path);
    let mut parent_meta = view.get(parent_path).ok_or(ErrorCode::NoNode)?;
    parent_meta.stat.num_children -= 1;
    parent_meta.stat.pzxid = ctx.zxid;
    view.put(parent_path, Some(parent_meta));
    view.put(path, None);
    Ok(TxnBody::DeleteContainer(DeleteTxn {
        path: path.to_owned(),
    }))
}
