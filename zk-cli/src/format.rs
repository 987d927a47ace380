//! How zkCli prints things: the Stat field by field, dates like Java's
//! `Date.toString()`, ACL entries, child lists, watch events and the
//! messages of failed calls.

use std::fmt::Write as _;

use zk_client::{Acl, Error, EventType, Id, KeeperState, Stat, WatchedEvent, perms};

/// The eleven lines of zkCli's `StatPrinter`, each ending in a newline.
pub fn stat(stat: &Stat) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "cZxid = 0x{:x}", stat.czxid);
    let _ = writeln!(s, "ctime = {}", java_date(stat.ctime));
    let _ = writeln!(s, "mZxid = 0x{:x}", stat.mzxid);
    let _ = writeln!(s, "mtime = {}", java_date(stat.mtime));
    let _ = writeln!(s, "pZxid = 0x{:x}", stat.pzxid);
    let _ = writeln!(s, "cversion = {}", stat.cversion);
    let _ = writeln!(s, "dataVersion = {}", stat.version);
    let _ = writeln!(s, "aclVersion = {}", stat.aversion);
    let _ = writeln!(s, "ephemeralOwner = 0x{:x}", stat.ephemeral_owner);
    let _ = writeln!(s, "dataLength = {}", stat.data_length);
    let _ = writeln!(s, "numChildren = {}", stat.num_children);
    s
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Milliseconds since the epoch as Java's `Date.toString()` prints them
/// (`EEE MMM dd HH:mm:ss zzz yyyy`), always in UTC.
pub fn java_date(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let weekday = (days + 4).rem_euclid(7) as usize;
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[weekday],
        MONTHS[(month - 1) as usize],
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        year
    )
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31), proleptic
/// Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// An `Id` as jute's `toString()` writes it: `'world,'anyone` and a
/// newline (a top-level record ends with one).
pub fn id_csv(id: &Id) -> String {
    format!("'{},'{}\n", csv_escape(&id.scheme), csv_escape(&id.id))
}

/// jute's `Utils.toCSVString` escaping.
fn csv_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => out.push_str("%00"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            ',' => out.push_str("%2C"),
            '}' => out.push_str("%7D"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
}

/// What `getAcl` prints: two lines per entry (`println(id + ": " + perms)`
/// with the id's trailing newline).
pub fn acl(acl: &[Acl]) -> String {
    let mut s = String::new();
    for a in acl {
        let _ = writeln!(s, "{}: {}", id_csv(&a.id), perms::letters(a.perms));
    }
    s
}

/// Java's `List.toString()`: `[a, b, c]`.
pub fn java_list<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("[{}]", parts.join(", "))
}

pub fn event_type_name(t: EventType) -> &'static str {
    match t {
        EventType::None => "None",
        EventType::NodeCreated => "NodeCreated",
        EventType::NodeDeleted => "NodeDeleted",
        EventType::NodeDataChanged => "NodeDataChanged",
        EventType::NodeChildrenChanged => "NodeChildrenChanged",
        EventType::DataWatchRemoved => "DataWatchRemoved",
        EventType::ChildWatchRemoved => "ChildWatchRemoved",
        EventType::PersistentWatchRemoved => "PersistentWatchRemoved",
    }
}

pub fn keeper_state_name(s: KeeperState) -> &'static str {
    match s {
        KeeperState::Unknown => "Unknown",
        KeeperState::Disconnected => "Disconnected",
        KeeperState::NoSyncConnected => "NoSyncConnected",
        KeeperState::SyncConnected => "SyncConnected",
        KeeperState::AuthFailed => "AuthFailed",
        KeeperState::ConnectedReadOnly => "ConnectedReadOnly",
        KeeperState::SaslAuthenticated => "SaslAuthenticated",
        KeeperState::Expired => "Expired",
        KeeperState::Closed => "Closed",
    }
}

/// zkCli's notification block (`printMessage` twice): a blank line,
/// `WATCHER::`, a blank line, then 3.9's `WatchedEvent.toString()`.
pub fn watch_event(ev: &WatchedEvent) -> String {
    let path = if ev.path.is_empty() && ev.event_type == EventType::None {
        "null"
    } else {
        ev.path.as_str()
    };
    format!(
        "\nWATCHER::\n\nWatchedEvent state:{} type:{} path:{} zxid: {}\n",
        keeper_state_name(ev.state),
        event_type_name(ev.event_type),
        path,
        ev.zxid
    )
}

/// `KeeperException.getCodeMessage`; `None` for errors that are not a
/// server code.
fn code_message(err: &Error) -> Option<String> {
    Some(
        match err {
            Error::SystemError => "SystemError",
            Error::RuntimeInconsistency => "RuntimeInconsistency",
            Error::DataInconsistency => "DataInconsistency",
            Error::ConnectionLoss | Error::ConnectTimeout => "ConnectionLoss",
            Error::MarshallingError => "MarshallingError",
            Error::NewConfigNoQuorum => "NewConfigNoQuorum",
            Error::ReconfigInProgress => "ReconfigInProgress",
            Error::Unimplemented => "Unimplemented",
            Error::OperationTimeout | Error::RequestTimeout => "OperationTimeout",
            Error::BadArguments => "BadArguments",
            Error::ApiError => "APIError",
            Error::NoNode => "NoNode",
            Error::NoAuth => "NoAuth",
            Error::BadVersion => "BadVersion",
            Error::NoChildrenForEphemerals => "NoChildrenForEphemerals",
            Error::NodeExists => "NodeExists",
            Error::InvalidAcl => "InvalidACL",
            Error::AuthFailed => "AuthFailed",
            Error::NotEmpty => "Directory not empty",
            Error::SessionExpired => "Session expired",
            Error::InvalidCallback => "Invalid callback",
            Error::SessionMoved => "Session moved",
            Error::NotReadOnly => "Not a read-only call",
            Error::EphemeralOnLocalSession => "Ephemeral node on local session",
            Error::NoWatcher => "No such watcher",
            Error::ReconfigDisabled => "Reconfig is disabled",
            Error::SessionClosedRequireSaslAuth => {
                "Session closed because client failed to authenticate"
            }
            Error::QuotaExceeded => "Quota has exceeded",
            Error::Throttled => "Op throttled due to high load",
            Error::UnknownSession => "Unknown session",
            Error::Unknown(code) => return Some(format!("Unknown error {code}")),
            _ => return None,
        }
        .to_owned(),
    )
}

/// `KeeperException.getMessage()`: `KeeperErrorCode = NoNode for /x`.
pub fn keeper_exception(err: &Error, path: Option<&str>) -> String {
    let err = match err {
        Error::Multi { source, .. } => source,
        e => e,
    };
    let code = code_message(err).unwrap_or_else(|| err.to_string());
    match path {
        Some(p) if !p.is_empty() => format!("KeeperErrorCode = {code} for {p}"),
        _ => format!("KeeperErrorCode = {code}"),
    }
}

/// Why a connect failed: a name that does not resolve or a missing chroot
/// in our own words (zkCli would retry forever), the rest as zkCli says it.
pub fn connect_error(err: &Error) -> String {
    match err {
        Error::UnknownHost(_) | Error::NoChroot { .. } => err.to_string(),
        e => keeper_exception(e, None),
    }
}

/// What zkCli prints for a failed call on `path` (`CliWrapperException`,
/// or the `IllegalArgumentException` of a bad path).
pub fn error(err: &Error, path: &str) -> String {
    let p = if path.is_empty() { "null" } else { path };
    match err {
        Error::Multi { source, .. } => error(source, path),
        Error::NoNode => format!("Node does not exist: {p}"),
        Error::NoChildrenForEphemerals => format!("Ephemerals cannot have children: {p}"),
        Error::NodeExists => format!("Node already exists: {p}"),
        Error::NotEmpty => format!("Node not empty: {p}"),
        Error::NotReadOnly => format!("Not a read-only call: {p}"),
        Error::InvalidAcl => format!("Acl is not valid : {p}"),
        Error::NoAuth => format!("Insufficient permission : {p}"),
        Error::BadArguments => format!("Arguments are not valid : {p}"),
        Error::BadVersion => format!("version No is not valid : {p}"),
        Error::QuotaExceeded => format!("Quota has exceeded : {p}"),
        Error::ReconfigInProgress => {
            "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)"
                .to_owned()
        }
        Error::NewConfigNoQuorum => "No quorum of new config is connected and up-to-date with \
             the leader of last committed config - try invoking reconfiguration after new \
             servers are connected and synced"
            .to_owned(),
        Error::BadPath { path, reason } => bad_path(path, reason),
        Error::Closed => "Not connected".to_owned(),
        Error::Protocol(msg) => msg.clone(),
        e => keeper_exception(e, Some(path)),
    }
}

/// `PathUtils.validatePath`'s messages.
fn bad_path(path: &str, reason: &str) -> String {
    let mut chars = reason.chars();
    let capitalized = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect::<String>(),
        None => String::new(),
    };
    match reason {
        "path length must be > 0"
        | "path must start with / character"
        | "path must not end with / character" => capitalized,
        _ => format!("Invalid path string \"{path}\" caused by {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_like_java() {
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        // 2026-11-22 04:58:44 UTC, a Sunday (seen from zkCli 3.8).
        assert_eq!(java_date(1_795_323_524_000), "Sun Nov 22 04:58:44 UTC 2026");
        assert_eq!(java_date(951_782_400_000), "Tue Feb 29 00:00:00 UTC 2000");
        assert_eq!(java_date(-1), "Wed Dec 31 23:59:59 UTC 1969");
    }

    #[test]
    fn stat_field_by_field() {
        let s = Stat {
            czxid: 0xd,
            mzxid: 0x19,
            ctime: 0,
            mtime: 1000,
            version: 4,
            cversion: 1,
            aversion: 0,
            ephemeral_owner: 0x1000a2b3c4d0000,
            data_length: 5,
            num_children: 2,
            pzxid: 0xe,
        };
        assert_eq!(
            stat(&s),
            "cZxid = 0xd\n\
             ctime = Thu Jan 01 00:00:00 UTC 1970\n\
             mZxid = 0x19\n\
             mtime = Thu Jan 01 00:00:01 UTC 1970\n\
             pZxid = 0xe\n\
             cversion = 1\n\
             dataVersion = 4\n\
             aclVersion = 0\n\
             ephemeralOwner = 0x1000a2b3c4d0000\n\
             dataLength = 5\n\
             numChildren = 2\n"
        );
        // Long.toHexString of a negative owner (containers): two's complement.
        let c = Stat {
            ephemeral_owner: i64::MIN,
            ..s
        };
        assert!(stat(&c).contains("ephemeralOwner = 0x8000000000000000\n"));
    }

    #[test]
    fn acls_and_perms() {
        assert_eq!(perms::letters(perms::ALL), "cdrwa");
        assert_eq!(
            perms::letters(perms::READ | perms::WRITE | perms::ADMIN),
            "rwa"
        );
        assert_eq!(perms::letters(0), "");
        let a = vec![
            Acl {
                perms: perms::ALL,
                id: Id::anyone(),
            },
            Acl {
                perms: perms::READ,
                id: Id::new("digest", "alice:JYdjG/dL2+v79QyuS8/0gpT+rQQ="),
            },
            Acl {
                perms: perms::CREATE,
                id: Id::new("x", "a,b%"),
            },
        ];
        assert_eq!(
            acl(&a),
            "'world,'anyone\n: cdrwa\n'digest,'alice:JYdjG/dL2+v79QyuS8/0gpT+rQQ=\n: r\n'x,'a%2Cb%25\n: c\n"
        );
    }

    #[test]
    fn lists_and_events() {
        assert_eq!(java_list::<&str>(&[]), "[]");
        assert_eq!(java_list(&["a", "b"]), "[a, b]");
        let ev = WatchedEvent {
            event_type: EventType::NodeDataChanged,
            state: KeeperState::SyncConnected,
            path: "/x".into(),
            zxid: 5,
        };
        assert_eq!(
            watch_event(&ev),
            "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/x zxid: 5\n"
        );
        let none = WatchedEvent {
            event_type: EventType::None,
            state: KeeperState::Closed,
            path: String::new(),
            zxid: -1,
        };
        assert!(watch_event(&none).ends_with("state:Closed type:None path:null zxid: -1\n"));
    }

    #[test]
    fn error_messages() {
        assert_eq!(error(&Error::NoNode, "/x"), "Node does not exist: /x");
        assert_eq!(error(&Error::NodeExists, "/x"), "Node already exists: /x");
        assert_eq!(error(&Error::NotEmpty, "/x"), "Node not empty: /x");
        assert_eq!(
            error(&Error::BadVersion, "/x"),
            "version No is not valid : /x"
        );
        assert_eq!(error(&Error::NoAuth, "/x"), "Insufficient permission : /x");
        assert_eq!(error(&Error::InvalidAcl, ""), "Acl is not valid : null");
        assert_eq!(
            error(&Error::NoChildrenForEphemerals, "/e/c"),
            "Ephemerals cannot have children: /e/c"
        );
        assert_eq!(
            error(&Error::NoWatcher, "/w"),
            "KeeperErrorCode = No such watcher for /w"
        );
        assert_eq!(
            error(&Error::Unimplemented, "/t"),
            "KeeperErrorCode = Unimplemented for /t"
        );
        let multi = Error::Multi {
            index: 1,
            source: Box::new(Error::NotEmpty),
        };
        assert_eq!(error(&multi, "/a"), "Node not empty: /a");
        let bad = |p: &str, reason: &'static str| {
            let e = Error::BadPath {
                path: p.to_owned(),
                reason,
            };
            error(&e, p)
        };
        assert_eq!(
            bad("x", "path must start with / character"),
            "Path must start with / character"
        );
        assert_eq!(
            bad("/x/", "path must not end with / character"),
            "Path must not end with / character"
        );
        let e = Error::BadPath {
            path: "/a//b".into(),
            reason: "empty node name specified",
        };
        assert_eq!(
            error(&e, "/a//b"),
            "Invalid path string \"/a//b\" caused by empty node name specified"
        );
        assert_eq!(
            keeper_exception(&Error::InvalidAcl, None),
            "KeeperErrorCode = InvalidACL"
        );
    }
}
