//! `setquota -n|-b|-N|-B val path`, `listquota path`,
//! `delquota [-n|-b|-N|-B] path`: like zkCli, they edit
//! `/zookeeper/quota/<path>/zookeeper_limits` (the server keeps
//! `zookeeper_stats` up to date).

use zk_client::{Client, CreateOptions, Error};

use super::ls::child_path;
use super::{CliError, CmdResult, Ctx, parse, usage_error};
use crate::stats_track::{BYTES, BYTES_HARD, COUNT, COUNT_HARD, StatsTrack};

const PROC: &str = "/zookeeper";
const QUOTA_ROOT: &str = "/zookeeper/quota";
const LIMIT_NODE: &str = "zookeeper_limits";
const STAT_NODE: &str = "zookeeper_stats";

pub fn quota_path(path: &str) -> String {
    format!("{QUOTA_ROOT}{path}")
}

pub fn limit_path(path: &str) -> String {
    format!("{QUOTA_ROOT}{path}/{LIMIT_NODE}")
}

pub fn stat_path(path: &str) -> String {
    format!("{QUOTA_ROOT}{path}/{STAT_NODE}")
}

const FLAGS: [(char, &str); 4] = [
    ('n', COUNT),
    ('b', BYTES),
    ('N', COUNT_HARD),
    ('B', BYTES_HARD),
];

/// The one limit flag given, or a usage error.
fn one_flag(p: &crate::opts::Parsed, name: &str) -> Result<Option<(char, &'static str)>, CliError> {
    let given: Vec<_> = FLAGS.iter().filter(|(c, _)| p.has(*c)).collect();
    match given.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(**one)),
        _ => Err(usage_error(name)),
    }
}

pub async fn setquota(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let p = parse(&[('n', true), ('b', true), ('N', true), ('B', true)], args)?;
    let (Some((flag, key)), Some(path)) = (one_flag(&p, "setquota")?, p.args.first()) else {
        return Err(usage_error("setquota"));
    };
    if path.starts_with(QUOTA_ROOT) {
        return Err(CliError::new(format!(
            "cannot set a quota under the path: {QUOTA_ROOT}"
        )));
    }
    let value = p.value(flag).unwrap_or_default();
    let bad_number =
        || CliError::new("NumberFormatException happens when parsing the option value");
    let value: i64 = if matches!(flag, 'n' | 'N') {
        let v: i32 = value.parse().map_err(|_| bad_number())?;
        if v <= 0 {
            return Err(CliError::new("the num quota must be greater than zero"));
        }
        i64::from(v)
    } else {
        let v: i64 = value.parse().map_err(|_| bad_number())?;
        if v < 0 {
            return Err(CliError::new(
                "the bytes quota must be greater than or equal to zero",
            ));
        }
        v
    };
    let mut quota = StatsTrack::unlimited();
    quota.set(key, value);
    create_quota(ctx, path, &quota).await
}

async fn create_quota(ctx: &mut Ctx<'_>, path: &str, quota: &StatsTrack) -> CmdResult {
    let client = ctx.client;
    let zk = |p: &str| {
        let p = p.to_owned();
        move |e: Error| CliError::zk(&e, &p)
    };
    if client.exists(path).await.map_err(zk(path))?.is_none() {
        return Err(CliError::new(format!("{path} does not exist.")));
    }
    check_child_quota(client, path).await?;
    check_parent_quota(client, path).await?;
    let open = CreateOptions::persistent();
    if client
        .exists(QUOTA_ROOT)
        .await
        .map_err(zk(QUOTA_ROOT))?
        .is_none()
    {
        for p in [PROC, QUOTA_ROOT] {
            match client.create(p, b"", &open).await {
                Ok(_) | Err(Error::NodeExists) => {}
                Err(e) => return Err(CliError::zk(&e, p)),
            }
        }
    }
    let mut qpath = QUOTA_ROOT.to_owned();
    for part in path.split('/').filter(|s| !s.is_empty()) {
        qpath = format!("{qpath}/{part}");
        if client.exists(&qpath).await.map_err(zk(&qpath))?.is_none() {
            match client.create(&qpath, b"", &open).await {
                Ok(_) | Err(Error::NodeExists) => {}
                Err(e) => return Err(CliError::zk(&e, &qpath)),
            }
        }
    }
    let (lpath, spath) = (
        format!("{qpath}/{LIMIT_NODE}"),
        format!("{qpath}/{STAT_NODE}"),
    );
    let read = |data: Vec<u8>, p: &str| {
        StatsTrack::parse(&String::from_utf8_lossy(&data))
            .ok_or_else(|| CliError::new(format!("cannot parse the quota in {p}")))
    };
    if client.exists(&lpath).await.map_err(zk(&lpath))?.is_none() {
        let text = quota.to_string();
        client
            .create(&lpath, text.as_bytes(), &open)
            .await
            .map_err(zk(&lpath))?;
        let mut stats = StatsTrack::default();
        stats.set(COUNT, 0);
        stats.set(BYTES, 0);
        client
            .create(&spath, stats.to_string().as_bytes(), &open)
            .await
            .map_err(zk(&spath))?;
        let (l, _) = client.get_data(&lpath).await.map_err(zk(&lpath))?;
        let (s, _) = client.get_data(&spath).await.map_err(zk(&spath))?;
        warn_if_over(ctx, &read(l, &lpath)?, &read(s, &spath)?);
    } else {
        let (l, _) = client.get_data(&lpath).await.map_err(zk(&lpath))?;
        let mut limits = read(l, &lpath)?;
        for key in [COUNT, BYTES, COUNT_HARD, BYTES_HARD] {
            if quota.get(key) > -1 {
                limits.set(key, quota.get(key));
            }
        }
        let (s, _) = client.get_data(&spath).await.map_err(zk(&spath))?;
        warn_if_over(ctx, &limits, &read(s, &spath)?);
        client
            .set_data(&lpath, limits.to_string().as_bytes(), None)
            .await
            .map_err(zk(&lpath))?;
    }
    Ok(())
}

fn warn_if_over(ctx: &mut Ctx<'_>, quota: &StatsTrack, stats: &StatsTrack) {
    let over = |limit: i64, used: i64| limit > -1 && limit < used;
    let count = stats.get(COUNT);
    if over(quota.get(COUNT), count) || over(quota.get(COUNT_HARD), count) {
        ctx.out.line(format!(
            "[Warning]: the count quota you create is less than the existing count:{count}"
        ));
    }
    let bytes = stats.get(BYTES);
    if over(quota.get(BYTES), bytes) || over(quota.get(BYTES_HARD), bytes) {
        ctx.out.line(format!(
            "[Warning]: the bytes quota you create is less than the existing bytes:{bytes}"
        ));
    }
}

/// No node below `path` may have a quota already.
async fn check_child_quota(client: &Client, path: &str) -> CmdResult {
    let root = quota_path(path);
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let children = match client.get_children(&dir).await {
            Ok((c, _)) => c,
            Err(Error::NoNode) => continue,
            Err(e) => return Err(CliError::zk(&e, &dir)),
        };
        if dir != root && children.iter().any(|c| c == LIMIT_NODE) {
            return Err(CliError::new(format!(
                "{path} has a child {} which has a quota",
                &dir[QUOTA_ROOT.len()..]
            )));
        }
        stack.extend(children.iter().map(|c| child_path(&dir, c)));
    }
    Ok(())
}

/// No node above `path` may have a quota already.
async fn check_parent_quota(client: &Client, path: &str) -> CmdResult {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut qpath = QUOTA_ROOT.to_owned();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        qpath = format!("{qpath}/{part}");
        let children = match client.get_children(&qpath).await {
            Ok((c, _)) => c,
            Err(Error::NoNode) => return Ok(()),
            Err(e) => return Err(CliError::zk(&e, &qpath)),
        };
        if children.is_empty() {
            return Ok(());
        }
        if children.iter().any(|c| c == LIMIT_NODE) {
            return Err(CliError::new(format!(
                "{path} has a parent {} which has a quota",
                &qpath[QUOTA_ROOT.len()..]
            )));
        }
    }
    Ok(())
}

pub async fn listquota(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let Some(path) = args.first() else {
        return Err(usage_error("listquota"));
    };
    ctx.out
        .err(format!("absolute path is {}", limit_path(path)));
    let client = ctx.client;
    let mut lines = Vec::new();
    for (label, p) in [("quota", limit_path(path)), ("stat", stat_path(path))] {
        match client.get_data(&p).await {
            Ok((data, _)) => {
                let st = StatsTrack::parse(&String::from_utf8_lossy(&data))
                    .ok_or_else(|| CliError::new(format!("cannot parse the quota in {p}")))?;
                lines.push(format!("Output {label} for {path} {st}"));
            }
            Err(Error::NoNode) => {
                return Err(CliError::new(format!("quota for {path} does not exist.")));
            }
            Err(e) => return Err(CliError::zk(&e, &p)),
        }
    }
    for l in lines {
        ctx.out.line(l);
    }
    Ok(())
}

pub async fn delquota(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let p = parse(
        &[('n', false), ('b', false), ('N', false), ('B', false)],
        args,
    )?;
    let Some(path) = p.args.first() else {
        return Err(usage_error("delquota"));
    };
    let flag = one_flag(&p, "delquota")?;
    let client = ctx.client;
    let (qpath, lpath) = (quota_path(path), limit_path(path));
    let not_there = || CliError::new(format!("quota for {path} does not exist."));
    let zk = |p: &str| {
        let p = p.to_owned();
        move |e: Error| match e {
            Error::NoNode => CliError::new(format!("quota for {p} does not exist.")),
            e => CliError::zk(&e, &p),
        }
    };
    match client.exists(&lpath).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            ctx.out.line(format!("Quota does not exist for {path}"));
            return Ok(());
        }
        Err(e) => return Err(CliError::zk(&e, &lpath)),
    }
    let (data, _) = client.get_data(&lpath).await.map_err(|_| not_there())?;
    let Some((_, key)) = flag else {
        let (children, _) = client.get_children(&qpath).await.map_err(zk(path))?;
        for c in children {
            let p = child_path(&qpath, &c);
            client.delete(&p, None).await.map_err(zk(path))?;
        }
        // remove the quota tree's nodes that are left empty
        let mut dir = qpath;
        while dir != QUOTA_ROOT && dir.starts_with(QUOTA_ROOT) {
            let (children, _) = client.get_children(&dir).await.map_err(zk(path))?;
            if !children.is_empty() {
                break;
            }
            client.delete(&dir, None).await.map_err(zk(path))?;
            dir = dir[..dir.rfind('/').unwrap_or(0)].to_owned();
        }
        return Ok(());
    };
    let mut limits = StatsTrack::parse(&String::from_utf8_lossy(&data))
        .ok_or_else(|| CliError::new(format!("cannot parse the quota in {lpath}")))?;
    limits.set(key, -1);
    client
        .set_data(&lpath, limits.to_string().as_bytes(), None)
        .await
        .map_err(zk(path))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_paths() {
        assert_eq!(quota_path("/a/b"), "/zookeeper/quota/a/b");
        assert_eq!(limit_path("/a"), "/zookeeper/quota/a/zookeeper_limits");
        assert_eq!(stat_path("/a"), "/zookeeper/quota/a/zookeeper_stats");
    }
}
