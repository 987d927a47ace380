//! `addWatch [-m mode] path`, `removewatches path [-c|-d|-p|-r|-a] [-l]`

use zk_client::{AddWatchMode, WatcherType};

use crate::events::Kind;

use super::{CliError, CmdResult, Ctx, parse, usage_error};

pub fn parse_mode(text: &str) -> Option<AddWatchMode> {
    match text.to_ascii_uppercase().as_str() {
        "PERSISTENT" => Some(AddWatchMode::Persistent),
        "PERSISTENT_RECURSIVE" => Some(AddWatchMode::PersistentRecursive),
        _ => None,
    }
}

pub async fn add_watch(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let p = parse(&[('m', true)], args)?;
    if p.args.len() != 1 {
        return Err(usage_error("addWatch"));
    }
    let mode = match p.value('m') {
        None => AddWatchMode::PersistentRecursive,
        Some(m) => parse_mode(m).ok_or_else(|| usage_error("addWatch"))?,
    };
    let path = &p.args[0];
    let watcher = ctx
        .client
        .add_watch(path, mode)
        .await
        .map_err(|e| CliError::zk(&e, path))?;
    let kind = match mode {
        AddWatchMode::Persistent => Kind::Persistent,
        AddWatchMode::PersistentRecursive => Kind::Recursive,
    };
    ctx.events.persistent(kind, path, watcher);
    Ok(())
}

/// The watcher type for the flags (the first of -c, -d, -p, -r, -a wins).
pub fn watcher_type(c: bool, d: bool, p: bool, r: bool) -> WatcherType {
    if c {
        WatcherType::Children
    } else if d {
        WatcherType::Data
    } else if p {
        WatcherType::Persistent
    } else if r {
        WatcherType::PersistentRecursive
    } else {
        WatcherType::Any
    }
}

pub async fn remove_watches(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let p = parse(
        &[
            ('c', false),
            ('d', false),
            ('p', false),
            ('r', false),
            ('a', false),
            ('l', false),
        ],
        args,
    )?;
    let Some(path) = p.args.first() else {
        return Err(usage_error("removewatches"));
    };
    let wtype = watcher_type(p.has('c'), p.has('d'), p.has('p'), p.has('r'));
    ctx.client
        .remove_watches(path, wtype)
        .await
        .map_err(|e| CliError::zk(&e, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_types() {
        assert_eq!(parse_mode("persistent"), Some(AddWatchMode::Persistent));
        assert_eq!(
            parse_mode("PERSISTENT_RECURSIVE"),
            Some(AddWatchMode::PersistentRecursive)
        );
        assert_eq!(parse_mode("FOO"), None);
        assert_eq!(watcher_type(false, false, false, false), WatcherType::Any);
        assert_eq!(
            watcher_type(true, true, false, false),
            WatcherType::Children
        );
        assert_eq!(watcher_type(false, true, false, false), WatcherType::Data);
        assert_eq!(
            watcher_type(false, false, false, true),
            WatcherType::PersistentRecursive
        );
    }
}
