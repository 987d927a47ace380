//! Prep: a write request becomes a txn, or an error, decided against the
//! tree plus every pending change. Prep is where all checks happen (path,
//! ACL, version, existence, quota); apply then cannot fail.

use std::collections::HashMap;

use zk_proto::ErrorCode;
use zk_proto::client::{MultiResult, Request};
use zk_proto::data::Id;
use zk_proto::txn::TxnBody;

use super::ops;
use super::overlay::{Meta, Overlay};
use crate::config::Config;
use crate::tree::DataTree;

/// Why a write was refused. A failed multi reports each op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    Code(ErrorCode),
    Multi(Vec<MultiResult>),
}

impl From<ErrorCode> for Rejected {
    fn from(code: ErrorCode) -> Self {
        Rejected::Code(code)
    }
}

/// Who is asking, and under which settings.
#[derive(Debug)]
pub struct PrepCtx<'a> {
    pub session_id: i64,
    pub auth: &'a [Id],
    pub config: &'a Config,
    pub zxid: i64,
    pub time_ms: i64,
}

/// The tree as it will be once every pending txn is applied, plus the
/// changes of the txn being prepared (kept apart until it succeeds).
#[derive(Debug)]
pub struct PrepView<'a> {
    pub tree: &'a DataTree,
    overlay: &'a Overlay,
    local: HashMap<String, Option<Meta>>,
    order: Vec<String>,
}

impl<'a> PrepView<'a> {
    pub fn new(tree: &'a DataTree, overlay: &'a Overlay) -> PrepView<'a> {
        PrepView {
            tree,
            overlay,
            local: HashMap::new(),
            order: Vec::new(),
        }
    }

    pub fn get(&self, path: &str) -> Option<Meta> {
        match self.local.get(path) {
            Some(meta) => meta.clone(),
            None => self.overlay.get(self.tree, path),
        }
    }

    pub fn put(&mut self, path: &str, meta: Option<Meta>) {
        if self.local.insert(path.to_owned(), meta).is_none() {
            self.order.push(path.to_owned());
        }
    }

    /// The changes made, to be recorded in the overlay.
    pub fn into_changes(mut self) -> Vec<(String, Option<Meta>)> {
        self.order
            .into_iter()
            .map(|p| {
                let meta = self.local.remove(&p).flatten();
                (p, meta)
            })
            .collect()
    }

    /// Ephemerals of `session` created by txns still in the pipeline.
    pub fn pending_ephemerals(&self, session: i64) -> Vec<String> {
        self.overlay.pending_ephemerals(session).cloned().collect()
    }

    /// A savepoint for multi: the local changes so far.
    fn snapshot(&self) -> (HashMap<String, Option<Meta>>, Vec<String>) {
        (self.local.clone(), self.order.clone())
    }

    fn restore(&mut self, saved: (HashMap<String, Option<Meta>>, Vec<String>)) {
        (self.local, self.order) = saved;
    }
}

/// Prepares one write request.
pub fn prep(
    view: &mut PrepView<'_>,
    ctx: &PrepCtx<'_>,
    req: &Request,
) -> Result<TxnBody, Rejected> {
    match req {
        Request::Multi(ops) => prep_multi(view, ctx, ops),
        other => Ok(prep_one(view, ctx, other)?),
    }
}

fn prep_one(
    view: &mut PrepView<'_>,
    ctx: &PrepCtx<'_>,
    req: &Request,
) -> Result<TxnBody, ErrorCode> {
    match req {
        Request::Create(r) | Request::Create2(r) | Request::CreateContainer(r) => {
            ops::create::prep(view, ctx, req.op_code(), r, -1)
        }
        Request::CreateTtl(r) => {
            let plain = zk_proto::client::CreateRequest {
                path: r.path.clone(),
                data: r.data.clone(),
                acl: r.acl.clone(),
                flags: r.flags,
            };
            ops::create::prep(view, ctx, req.op_code(), &plain, r.ttl)
        }
        Request::Delete(r) => ops::delete::prep(view, ctx, &r.path, r.version),
        Request::SetData(r) => ops::set_data::prep(view, ctx, r),
        Request::SetAcl(r) => ops::set_acl::prep(view, ctx, r),
        Request::Check(r) => ops::check::prep(view, ctx, r),
        Request::CloseSession => Ok(ops::session::prep_close(view, ctx.session_id)),
        Request::Reconfig(_) => Err(ErrorCode::ReconfigDisabled),
        _ => Err(ErrorCode::Unimplemented),
    }
}

/// All or nothing: the first failure undoes the ops before it. The ops
/// before it report ok, the failed one its code, the rest
/// RuntimeInconsistency, as ZooKeeper answers.
fn prep_multi(
    view: &mut PrepView<'_>,
    ctx: &PrepCtx<'_>,
    reqs: &[Request],
) -> Result<TxnBody, Rejected> {
    let saved = view.snapshot();
    let mut bodies = Vec::with_capacity(reqs.len());
    for (i, req) in reqs.iter().enumerate() {
        match prep_one(view, ctx, req) {
            Ok(body) => bodies.push(body),
            Err(code) => {
                view.restore(saved);
                let results = (0..reqs.len())
                    .map(|j| MultiResult::Error {
                        err: match j.cmp(&i) {
                            std::cmp::Ordering::Less => 0,
                            std::cmp::Ordering::Equal => code.code(),
                            std::cmp::Ordering::Greater => ErrorCode::RuntimeInconsistency.code(),
                        },
                    })
                    .collect();
                return Err(Rejected::Multi(results));
            }
        }
    }
    Ok(TxnBody::Multi(bodies))
}

/// Checks `version` against the current one (-1 matches any) and returns the
/// next.
pub fn next_version(current: i32, expected: i32) -> Result<i32, ErrorCode> {
    if expected != -1 && expected != current {
        return Err(ErrorCode::BadVersion);
    }
    Ok(current.wrapping_add(1))
}
