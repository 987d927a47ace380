//! `sync path`, `getEphemerals [path]`, `getAllChildrenNumber path`,
//! `config [-c] [-w] [-s]`

use super::{CliError, CmdResult, Ctx, parse, usage_error};
use crate::events::Kind;
use crate::format;

pub async fn sync(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let Some(path) = args.first() else {
        return Err(usage_error("sync"));
    };
    match ctx.client.sync(path).await {
        Ok(()) => {
            ctx.out.line("Sync is OK");
            Ok(())
        }
        Err(e @ zk_client::Error::BadPath { .. }) => Err(CliError::zk(&e, path)),
        Err(e) => Err(CliError::new(format!(
            "Sync has failed. rc={}",
            rc_of(&e).map_or_else(|| e.to_string(), |c| c.to_string())
        ))),
    }
}

/// The numeric code of a server error (for `Sync has failed. rc=-101`).
fn rc_of(e: &zk_client::Error) -> Option<i32> {
    use zk_client::Error as E;
    Some(match e {
        E::NoNode => -101,
        E::NoAuth => -102,
        E::ConnectionLoss => -4,
        E::SessionExpired => -112,
        E::OperationTimeout => -7,
        E::Unknown(c) => *c,
        _ => return None,
    })
}

pub async fn get_ephemerals(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let path = args.first().map_or("/", String::as_str);
    let list = ctx
        .client
        .get_ephemerals(path)
        .await
        .map_err(|e| CliError::zk(&e, path))?;
    ctx.out.line(format::java_list(&list));
    Ok(())
}

pub async fn get_all_children_number(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let Some(path) = args.first() else {
        return Err(usage_error("getAllChildrenNumber"));
    };
    let n = ctx
        .client
        .get_all_children_number(path)
        .await
        .map_err(|e| CliError::zk(&e, path))?;
    ctx.out.line(n.to_string());
    Ok(())
}

pub async fn config(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let p = parse(&[('s', false), ('w', false), ('c', false)], args)?;
    const CONFIG: &str = "/zookeeper/config";
    let client = ctx.client;
    let (data, stat) = if p.has('w') {
        if ctx.chroot {
            return Err(CliError::new(
                "config -w is not supported with a chroot in the connect string",
            ));
        }
        let (data, stat, w) = client
            .get_data_and_watch(CONFIG)
            .await
            .map_err(|e| CliError::zk(&e, CONFIG))?;
        ctx.events.oneshot(Kind::Data, CONFIG, w);
        (data, stat)
    } else {
        client
            .get_config()
            .await
            .map_err(|e| CliError::zk(&e, CONFIG))?
    };
    let text = String::from_utf8_lossy(&data);
    if p.has('c') {
        ctx.out.line(client_config(&text));
    } else {
        ctx.out.line(text);
    }
    if p.has('s') {
        ctx.out.text(format::stat(&stat));
    }
    Ok(())
}

/// `ConfigUtils.getClientConfigStr`: `version host:port,host:port` from
/// the dynamic configuration's `server.N=host:p1:p2[:role];[addr:]port`.
pub fn client_config(config: &str) -> String {
    let mut version = "";
    let mut servers = Vec::new();
    for line in config.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if key == "version" {
            version = value;
        }
        if !key.starts_with("server.") {
            continue;
        }
        let Some((server, client)) = value.split_once(';') else {
            continue;
        };
        let host = server.split(':').next().unwrap_or_default();
        servers.push(match client.rsplit_once(':') {
            Some((addr, port)) => format!("{addr}:{port}"),
            None => format!("{host}:{client}"),
        });
    }
    format!("{version} {}", servers.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_config_string() {
        let cfg = "server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\n\
                   server.2=10.0.0.2:2888:3888:participant;2182\n\
                   version=100000000";
        assert_eq!(client_config(cfg), "100000000 0.0.0.0:2181,10.0.0.2:2182");
        assert_eq!(client_config(""), " ");
    }
}
