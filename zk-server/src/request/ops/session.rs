use std::collections::BTreeSet;

use zk_proto::path::parent;
use zk_proto::txn::{CloseSessionTxn, TxnBody};

use crate::request::prep::PrepView;

/// closeSession: the session's ephemerals (applied and pending) go with it.
pub fn prep_close(view: &mut PrepView<'_>, session_id: i64) -> TxnBody {
    let mut paths: BTreeSet<String> = view.tree.ephemerals_of(session_id).cloned().collect();
    paths.extend(view.pending_ephemerals(session_id));
    paths.retain(|p| view.get(p).is_some());
    for path in &paths {
        let parent_path = parent(path);
        if let Some(mut parent_meta) = view.get(parent_path) {
            parent_meta.stat.num_children -= 1;
            view.put(parent_path, Some(parent_meta));
        }
        view.put(path, None);
    }
    TxnBody::CloseSession(CloseSessionTxn {
        paths_to_delete: paths.into_iter().collect(),
    })
}
