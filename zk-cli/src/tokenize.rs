//! Splits a command line into words the way zkCli's `parseCommand` does:
//! words are separated by white space; a word that starts with `"` or `'`
//! runs to the matching quote, which is stripped (`set /a "hello world"`).

/// The words of `line`; empty for a blank line.
pub fn split(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let c = chars[i];
        if c == '"' || c == '\'' {
            if let Some(len) = chars[i + 1..].iter().position(|&x| x == c) {
                words.push(chars[i + 1..i + 1 + len].iter().collect());
                i += len + 2;
                continue;
            }
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() {
            i += 1;
        }
        words.push(chars[start..i].iter().collect());
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(line: &str) -> Vec<String> {
        split(line)
    }

    #[test]
    fn plain_words() {
        assert_eq!(s("  ls   -s /a  "), ["ls", "-s", "/a"]);
        assert!(s("   ").is_empty());
        assert!(s("").is_empty());
        assert_eq!(s("create /a\tdata"), ["create", "/a", "data"]);
    }

    #[test]
    fn quotes() {
        assert_eq!(s(r#"set /a "hello world""#), ["set", "/a", "hello world"]);
        assert_eq!(s("set /a 'it is'"), ["set", "/a", "it is"]);
        assert_eq!(s(r#"set /a """#), ["set", "/a", ""]);
        assert_eq!(s(r#"set /a "it's""#), ["set", "/a", "it's"]);
        // quotes inside a word are kept
        assert_eq!(s(r#"set /a x"y"#), ["set", "/a", r#"x"y"#]);
        // an unmatched quote starts an ordinary word
        assert_eq!(s(r#"set /a "abc"#), ["set", "/a", r#""abc"#]);
    }
}
