//! `ls [-s] [-w] [-R] path`

use crate::events::Kind;

use super::{CliError, CmdResult, Ctx, parse, usage_error};
use crate::format;

pub async fn ls(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let p = parse(
        &[('s', false), ('w', false), ('R', false), ('?', false)],
        args,
    )?;
    let mut pos = p.args.clone();
    if pos.len() > 1 {
        ctx.out
            .err("'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.");
    }
    let Some(path) = pos.first().cloned() else {
        return Err(usage_error("ls"));
    };
    let watch = p.has('w') || pos.len() > 1;
    pos.truncate(1);
    if p.has('R') {
        return recursive(ctx, &path, watch).await;
    }
    let client = ctx.client;
    let (mut children, stat) = if watch {
        let (children, stat, watcher) = client
            .get_children_and_watch(&path)
            .await
            .map_err(|e| CliError::zk(&e, &path))?;
        ctx.events.oneshot(Kind::Child, &path, watcher);
        (children, stat)
    } else {
        client
            .get_children(&path)
            .await
            .map_err(|e| CliError::zk(&e, &path))?
    };
    children.sort();
    ctx.out.line(format::java_list(&children));
    if p.has('s') {
        ctx.out.text(format::stat(&stat));
    }
    Ok(())
}

/// `ZKUtil.visitSubTreeDFS`: the node, then its children (sorted), then
/// each child's subtree in turn.
async fn recursive(ctx: &mut Ctx<'_>, root: &str, watch: bool) -> CmdResult {
    let client = ctx.client;
    if watch {
        let (_, _, w) = client
            .get_data_and_watch(root)
            .await
            .map_err(|e| CliError::zk(&e, root))?;
        ctx.events.oneshot(Kind::Data, root, w);
    } else {
        client
            .get_data(root)
            .await
            .map_err(|e| CliError::zk(&e, root))?;
    }
    ctx.out.line(root);
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let listed = if watch {
            client.get_children_and_watch(&dir).await.map(|(c, _, w)| {
                ctx.events.oneshot(Kind::Child, &dir, w);
                c
            })
        } else {
            client.get_children(&dir).await.map(|(c, _)| c)
        };
        let mut children = match listed {
            Ok(c) => c,
            // deleted since it was listed
            Err(zk_client::Error::NoNode) => continue,
            Err(e) => return Err(CliError::zk(&e, &dir)),
        };
        children.sort();
        let paths: Vec<String> = children.iter().map(|c| child_path(&dir, c)).collect();
        for p in &paths {
            ctx.out.line(p);
        }
        stack.extend(paths.into_iter().rev());
    }
    Ok(())
}

pub fn child_path(dir: &str, child: &str) -> String {
    if dir == "/" {
        format!("/{child}")
    } else {
        format!("{dir}/{child}")
    }
}
