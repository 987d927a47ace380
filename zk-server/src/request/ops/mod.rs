//! One file per write op family: each turns a request into a txn body
//! against the prep view, with ZooKeeper's checks in ZooKeeper's order.

pub mod check;
pub mod create;
pub mod delete;
pub mod session;
pub mod set_acl;
pub mod set_data;

use zk_proto::ErrorCode;
use zk_proto::path::validate_path;

use super::prep::PrepView;
use crate::tree::quota::{self, StatsTrack};

/// A path that fails validation is BadArguments.
fn valid(path: &str) -> Result<(), ErrorCode> {
    validate_path(path, false).map_err(|_| ErrorCode::BadArguments)
}

/// Refuses a change that would take the quota covering `path` over a hard
/// limit (`ZooKeeperServer.checkQuota`; only with `enforceQuota`). Soft
/// limits are only logged.
fn check_quota(
    view: &PrepView<'_>,
    enforce: bool,
    path: &str,
    bytes: i64,
    count: i64,
) -> Result<(), ErrorCode> {
    if !enforce {
        return Ok(());
    }
    let Some(target) = view.tree.quota_prefix(path) else {
        return Ok(());
    };
    let read = |p: String| {
        view.tree
            .get(&p)
            .map(|n| StatsTrack::parse(n.data.as_deref().unwrap_or_default()))
    };
    let (Some(limits), Some(current)) = (
        read(quota::limit_path(target)),
        read(quota::stat_path(target)),
    ) else {
        return Ok(());
    };
    let over = |diff: i64, used: i64, soft: i64, hard: i64, what: &str| {
        if diff == 0 || (soft < 0 && hard < 0) {
            return Ok(());
        }
        let limit = if hard > -1 { hard } else { soft };
        if used + diff > limit {
            if hard > -1 {
                tracing::warn!(target, what, "hard quota exceeded");
                return Err(ErrorCode::QuotaExceeded);
            }
            tracing::warn!(target, what, "soft quota exceeded");
        }
        Ok(())
    };
    over(
        count,
        current.count(),
        limits.count(),
        limits.get("countHardLimit"),
        "count",
    )?;
    over(
        bytes,
        current.bytes(),
        limits.bytes(),
        limits.get("byteHardLimit"),
        "bytes",
    )
}
