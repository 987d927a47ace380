//! `create [-s] [-e] [-c] [-t ttl] path [data] [acl]`

use zk_client::{Acl, CreateMode, CreateOptions, Error};

use super::{CliError, CmdResult, Ctx, parse, usage_error};
use crate::{acl, format};

/// The largest TTL an ephemeralOwner can hold (`EphemeralType.TTL`).
const MAX_TTL: i64 = 0x00ff_ffff_ffff;

/// The create mode for the flags, or zkCli's complaint.
pub fn mode(e: bool, s: bool, c: bool, ttl: Option<i64>) -> Result<CreateMode, CliError> {
    if c && (e || s) {
        return Err(CliError::new(
            "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.",
        ));
    }
    if ttl.is_some() && e {
        return Err(CliError::new("TTLs cannot be used with Ephemeral znodes"));
    }
    if ttl.is_some() && c {
        return Err(CliError::new("TTLs cannot be used with Container znodes"));
    }
    if let Some(t) = ttl
        && (t <= 0 || t > MAX_TTL)
    {
        return Err(CliError::new(format!(
            "ttl must be positive and cannot be larger than: {MAX_TTL}"
        )));
    }
    Ok(match (e, s, c, ttl.is_some()) {
        (true, true, _, _) => CreateMode::EphemeralSequential,
        (true, false, _, _) => CreateMode::Ephemeral,
        (false, true, _, true) => CreateMode::PersistentSequentialWithTtl,
        (false, true, _, false) => CreateMode::PersistentSequential,
        (false, false, true, _) => CreateMode::Container,
        (false, false, false, true) => CreateMode::PersistentWithTtl,
        (false, false, false, false) => CreateMode::Persistent,
    })
}

pub async fn create(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let p = parse(
        &[('e', false), ('s', false), ('c', false), ('t', true)],
        args,
    )?;
    let Some(path) = p.args.first() else {
        return Err(usage_error("create"));
    };
    let ttl = match p.value('t') {
        None => None,
        Some(t) => Some(
            t.parse::<i64>()
                .map_err(|_| CliError::new("-t argument must be a long value"))?,
        ),
    };
    let mode = mode(p.has('e'), p.has('s'), p.has('c'), ttl)?;
    let data = p.args.get(1).map(String::as_bytes).unwrap_or_default();
    let acl: Vec<Acl> = match p.args.get(2) {
        None => Acl::open_unsafe(),
        Some(text) => {
            let (acl, warnings) = acl::parse(text);
            for w in warnings {
                ctx.out.err(w);
            }
            if acl.is_empty() {
                // the Java client refuses an empty ACL before sending
                ctx.out
                    .err(format::keeper_exception(&Error::InvalidAcl, None));
                return Err(CliError::zk(&Error::InvalidAcl, ""));
            }
            acl
        }
    };
    let opts = CreateOptions {
        mode,
        acl,
        ttl_ms: ttl,
    };
    match ctx.client.create(path, data, &opts).await {
        Ok((created, _)) => {
            ctx.out.err(format!("Created {created}"));
            Ok(())
        }
        Err(Error::InvalidAcl) => {
            ctx.out
                .err(format::keeper_exception(&Error::InvalidAcl, Some(path)));
            Err(CliError::zk(&Error::InvalidAcl, path))
        }
        Err(Error::EphemeralOnLocalSession) => {
            ctx.out
                .err("Unable to create ephemeral node on a local session");
            Err(CliError::zk(&Error::EphemeralOnLocalSession, path))
        }
        Err(e) => Err(CliError::zk(&e, path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_to_modes() {
        let m = |e, s, c, t| mode(e, s, c, t).map_err(|e| e.message);
        assert_eq!(m(false, false, false, None), Ok(CreateMode::Persistent));
        assert_eq!(m(true, false, false, None), Ok(CreateMode::Ephemeral));
        assert_eq!(
            m(true, true, false, None),
            Ok(CreateMode::EphemeralSequential)
        );
        assert_eq!(
            m(false, true, false, None),
            Ok(CreateMode::PersistentSequential)
        );
        assert_eq!(m(false, false, true, None), Ok(CreateMode::Container));
        assert_eq!(
            m(false, false, false, Some(100)),
            Ok(CreateMode::PersistentWithTtl)
        );
        assert_eq!(
            m(false, true, false, Some(100)),
            Ok(CreateMode::PersistentSequentialWithTtl)
        );
        assert_eq!(
            m(false, true, true, None),
            Err(
                "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential."
                    .to_owned()
            )
        );
        assert_eq!(
            m(true, false, false, Some(1)),
            Err("TTLs cannot be used with Ephemeral znodes".to_owned())
        );
        assert!(m(false, false, false, Some(0)).is_err());
    }
}
