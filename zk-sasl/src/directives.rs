//! RFC 2831's directive lists: `name=value` pairs separated by commas, a
//! value a token or a quoted string (`\` quotes the next character).

use crate::SaslError;

/// Parses `a=b,c="d,e"`; names are lowercased. At most `MAX_DIRECTIVES`
/// (a token is small; a list longer than that is an attack, not a client).
pub fn parse(text: &[u8]) -> Result<Vec<(String, String)>, SaslError> {
    const MAX_DIRECTIVES: usize = 32;
    let text = std::str::from_utf8(text).map_err(|_| SaslError::Malformed("not UTF-8"))?;
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        if out.len() == MAX_DIRECTIVES {
            return Err(SaslError::Malformed("too many directives"));
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            name.push(c.to_ascii_lowercase());
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if name.is_empty() || chars.next() != Some('=') {
            return Err(SaslError::Malformed("expected name=value"));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => {
                        value.push(chars.next().ok_or(SaslError::Malformed("bad escape"))?)
                    }
                    Some(c) => value.push(c),
                    None => return Err(SaslError::Malformed("unterminated quote")),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((name, value));
    }
}

/// The value of `name`; a directive given twice is an error (RFC 2831
/// says each appears at most once).
pub fn get<'a>(list: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, SaslError> {
    let mut found = list.iter().filter(|(n, _)| n == name);
    let first = found.next().map(|(_, v)| v.as_str());
    if found.next().is_some() {
        return Err(SaslError::Malformed("a directive appears twice"));
    }
    Ok(first)
}

/// `"value"` with `"` and `\` escaped.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_quoted_strings() {
        let list = parse(br#"realm="a, \"b\"",nonce=xyz , qop="auth""#).expect("parses");
        assert_eq!(get(&list, "realm").expect("once"), Some(r#"a, "b""#));
        assert_eq!(get(&list, "nonce").expect("once"), Some("xyz"));
        assert_eq!(get(&list, "qop").expect("once"), Some("auth"));
        assert_eq!(get(&list, "cnonce").expect("once"), None);
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    #[test]
    fn garbage_is_an_error() {
        for bad in [
            &b"=x"[..],
            b"a",
            b"a=\"open",
            b"a=1,a=2",
            b"a=\"x\\",
            b"\xff=1",
        ] {
            let parsed = parse(bad);
            let twice = parsed.as_ref().map(|l| get(l, "a"));
            assert!(
                parsed.is_err() || matches!(twice, Ok(Err(_))),
                "{bad:?}: {parsed:?}"
            );
        }
        let many = "a=1,".repeat(40);
        assert!(parse(many.as_bytes()).is_err());
    }
}
