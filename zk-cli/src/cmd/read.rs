//! `get [-s] [-w] [-b] [-x] path`, `set [-s] [-v version] [-b] path data`,
//! `stat [-w] path`

use super::{CliError, CmdResult, Ctx, parse, usage_error, version_flag};
use crate::events::Kind;
use crate::format;

pub async fn get(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let p = parse(
        &[('s', false), ('w', false), ('b', false), ('x', false)],
        args,
    )?;
    let Some(path) = p.args.first() else {
        return Err(usage_error("get"));
    };
    if p.args.len() > 1 {
        ctx.out.err(
            "'get path [watch]' has been deprecated. Please use 'get [-s] [-w] path' instead.",
        );
    }
    let watch = p.has('w') || p.args.len() > 1;
    let client = ctx.client;
    let (data, stat) = if watch {
        let (data, stat, w) = client
            .get_data_and_watch(path)
            .await
            .map_err(|e| CliError::zk(&e, path))?;
        ctx.events.oneshot(Kind::Data, path, w);
        (data, stat)
    } else {
        client
            .get_data(path)
            .await
            .map_err(|e| CliError::zk(&e, path))?
    };
    ctx.out.line(data_text(&data, p.has('b'), p.has('x')));
    if p.has('s') {
        ctx.out.text(format::stat(&stat));
    }
    Ok(())
}

/// How `get` shows data: as text (`null` when there is none: zk-client
/// reports a node created without data as empty), base64 or a hex dump.
pub fn data_text(data: &[u8], base64: bool, hex: bool) -> String {
    if data.is_empty() && !base64 && !hex {
        return "null".to_owned();
    }
    if hex {
        hex_dump(data)
    } else if base64 {
        base64_encode(data)
    } else {
        String::from_utf8_lossy(data).into_owned()
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Netty's `ByteBufUtil.prettyHexDump`, which zkCli's `get -x` prints.
pub fn hex_dump(data: &[u8]) -> String {
    if data.is_empty() {
        return String::new();
    }
    const RULE: &str =
        "+--------+-------------------------------------------------+----------------+";
    let mut s = String::from(
        "         +-------------------------------------------------+\n         |  0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f |\n",
    );
    s.push_str(RULE);
    for (row, chunk) in data.chunks(16).enumerate() {
        s.push_str(&format!("\n|{:08x}|", (row * 16) as u32));
        for b in chunk {
            s.push_str(&format!(" {b:02x}"));
        }
        s.push_str(&"   ".repeat(16 - chunk.len()));
        s.push_str(" |");
        for &b in chunk {
            s.push(if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            });
        }
        s.push_str(&" ".repeat(16 - chunk.len()));
        s.push('|');
    }
    s.push('\n');
    s.push_str(RULE);
    s
}

pub async fn set(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let p = parse(&[('s', false), ('v', true), ('b', false)], args)?;
    let (Some(path), Some(text)) = (p.args.first(), p.args.get(1)) else {
        return Err(usage_error("set"));
    };
    let data = if p.has('b') {
        base64_decode(text).ok_or_else(|| CliError::new("Illegal base64 data"))?
    } else {
        text.as_bytes().to_vec()
    };
    let version = version_flag(&p)?;
    let stat = ctx
        .client
        .set_data(path, &data, version)
        .await
        .map_err(|e| CliError::zk(&e, path))?;
    if p.has('s') {
        ctx.out.text(format::stat(&stat));
    }
    Ok(())
}

pub async fn stat(ctx: &mut Ctx<'_>, args: &[String]) -> CmdResult {
    let p = parse(&[('w', false)], args)?;
    let Some(path) = p.args.first() else {
        return Err(usage_error("stat"));
    };
    if p.args.len() > 1 {
        ctx.out
            .err("'stat path [watch]' has been deprecated. Please use 'stat [-w] path' instead.");
    }
    let client = ctx.client;
    let stat = if p.has('w') || p.args.len() > 1 {
        let (stat, w) = client
            .exists_and_watch(path)
            .await
            .map_err(|e| CliError::zk(&e, path))?;
        ctx.events.oneshot(Kind::Data, path, w);
        stat
    } else {
        client
            .exists(path)
            .await
            .map_err(|e| CliError::zk(&e, path))?
    };
    match stat {
        Some(stat) => {
            ctx.out.text(format::stat(&stat));
            Ok(())
        }
        None => Err(CliError::zk(&zk_client::Error::NoNode, path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_forms() {
        assert_eq!(data_text(b"", false, false), "null");
        assert_eq!(data_text(b"hello", false, false), "hello");
        assert_eq!(data_text(b"hello", true, false), "aGVsbG8=");
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_encode(b"abc"), "YWJj");
        assert_eq!(base64_decode("aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(base64_decode("YWI="), Some(b"ab".to_vec()));
        assert_eq!(base64_decode("!!"), None);
        assert_eq!(
            hex_dump(b"hello\x00"),
            "         +-------------------------------------------------+\n\
             \x20        |  0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f |\n\
             +--------+-------------------------------------------------+----------------+\n\
             |00000000| 68 65 6c 6c 6f 00                               |hello.          |\n\
             +--------+-------------------------------------------------+----------------+"
        );
        assert_eq!(hex_dump(b""), "");
    }
}
