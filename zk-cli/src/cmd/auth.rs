//! `addauth scheme auth`, `whoami`

use super::{CliError, CmdResult, Ctx, usage_error};

pub async fn addauth(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let Some(scheme) = args.first() else {
        return Err(usage_error("addauth"));
    };
    let auth = args.get(1).map(String::as_bytes).unwrap_or_default();
    ctx.client
        .add_auth(scheme, auth)
        .await
        .map_err(|e| CliError::new(crate::format::keeper_exception(&e, None)))
}

pub async fn whoami(ctx: &mut Ctx<'_>, _args: &[String]) -> CmdResult {
    let infos = ctx
        .client
        .whoami()
        .await
        .map_err(|e| CliError::new(crate::format::keeper_exception(&e, None)))?;
    ctx.out.line("Auth scheme: User");
    for i in infos {
        ctx.out.line(format!("{}: {}", i.auth_scheme, i.user));
    }
    Ok(())
}
