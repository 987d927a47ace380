//! `getAcl [-s] path`, `setAcl [-s] [-v version] [-R] path acl`

use zk_client::Error;

use super::{CliError, CmdResult, Ctx, parse, usage_error, version_flag};
use crate::{acl, format};

pub async fn get_acl(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let p = parse(&[('s', false)], args)?;
    let Some(path) = p.args.first() else {
        return Err(usage_error("getAcl"));
    };
    let (acl, stat) = ctx
        .client
        .get_acl(path)
        .await
        .map_err(|e| CliError::zk(&e, path))?;
    ctx.out.text(format::acl(&acl));
    if p.has('s') {
        ctx.out.text(format::stat(&stat));
    }
    Ok(())
}

pub async fn set_acl(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let p = parse(&[('s', false), ('v', true), ('R', false)], args)?;
    let (Some(path), Some(text)) = (p.args.first(), p.args.get(1)) else {
        return Err(usage_error("setAcl"));
    };
    let (acl, warnings) = acl::parse(text);
    for w in warnings {
        ctx.out.err(w);
    }
    if acl.is_empty() {
        // the Java client refuses an empty ACL before sending
        return Err(CliError::zk(&Error::InvalidAcl, ""));
    }
    let version = version_flag(&p)?;
    let client = ctx.client;
    if p.has('R') {
        // zkCli walks the tree (visitSubTreeDFS) and prints each failure
        // as it goes (without a newline, as it does).
        client
            .get_data(path)
            .await
            .map_err(|e| CliError::zk(&e, path))?;
        let mut failed = false;
        let mut set = |node: &str, result: Result<zk_client::Stat, Error>| {
            if let Err(e) = result {
                ctx.out.text(format::keeper_exception(&e, Some(node)));
                failed = true;
            }
        };
        set(path, client.set_acl(path, &acl, version).await);
        let mut stack = vec![path.clone()];
        while let Some(dir) = stack.pop() {
            let mut children = match client.get_children(&dir).await {
                Ok((children, _)) => children,
                Err(Error::NoNode) => continue,
                Err(e) => return Err(CliError::zk(&e, &dir)),
            };
            children.sort();
            let paths: Vec<String> = children
                .iter()
                .map(|c| super::ls::child_path(&dir, c))
                .collect();
            for node in &paths {
                set(node, client.set_acl(node, &acl, version).await);
            }
            stack.extend(paths.into_iter().rev());
        }
        if failed {
            ctx.out.text("\n");
            return Err(CliError::new(format!(
                "setAcl -R: some nodes under {path} were not changed"
            )));
        }
        return Ok(());
    }
    let stat = client
        .set_acl(path, &acl, version)
        .await
        .map_err(|e| CliError::zk(&e, path))?;
    if p.has('s') {
        ctx.out.text(format::stat(&stat));
    }
    Ok(())
}
