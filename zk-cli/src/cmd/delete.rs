//! `delete [-v version] path`, `deleteall path [-b batch size]`

use std::collections::VecDeque;

use zk_client::Client;

use super::ls::child_path;
use super::{CliError, CmdResult, Ctx, parse, usage_error, version_flag};

pub async fn delete(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let p = parse(&[('v', true)], args)?;
    let Some(path) = p.args.first() else {
        return Err(usage_error("delete"));
    };
    if p.args.len() > 1 {
        ctx.out.err(
            "'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.",
        );
    }
    let version = version_flag(&p)?;
    ctx.client
        .delete(path, version)
        .await
        .map_err(|e| CliError::zk(&e, path))
}

/// `ZKUtil.listSubTreeBFS`: the root, then the tree level by level.
pub async fn subtree_bfs(client: &Client, root: &str) -> Result<Vec<String>, CliError> {
    let mut tree = vec![root.to_owned()];
    let mut queue = VecDeque::from([root.to_owned()]);
    while let Some(node) = queue.pop_front() {
        let (children, _) = client
            .get_children(&node)
            .await
            .map_err(|e| CliError::zk(&e, &node))?;
        for c in children {
            let p = child_path(&node, &c);
            queue.push_back(p.clone());
            tree.push(p);
        }
    }
    Ok(tree)
}

pub async fn deleteall(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let p = parse(&[('b', true)], args)?;
    let Some(path) = p.args.first() else {
        return Err(usage_error("deleteall"));
    };
    let batch: usize = match p.value('b') {
        None => 1000,
        Some(b) => b
            .parse::<i32>()
            .map_err(|_| CliError::new("-b argument must be an int value"))?
            .max(0) as usize,
    };
    let client = ctx.client;
    let tree = subtree_bfs(client, path).await?;
    // leaves first, the root last
    let order: Vec<&String> = tree.iter().rev().collect();
    if batch == 0 {
        for node in order {
            client
                .delete(node, None)
                .await
                .map_err(|e| CliError::zk(&e, node))?;
        }
        return Ok(());
    }
    for chunk in order.chunks(batch) {
        let multi = chunk
            .iter()
            .fold(client.multi(), |m, node| m.delete(node, None));
        if multi.commit().await.is_err() {
            return Err(CliError::new(
                "Failed to delete some node(s) in the subtree!",
            ));
        }
    }
    Ok(())
}
