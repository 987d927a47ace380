//! Flag parsing like Apache commons-cli's `DefaultParser`, which zkCli's
//! commands use: flags and arguments may be mixed (`removewatches /a -d`),
//! `-v 3` and `-v3` both give a value, `-es` is `-e -s`, `--` ends the
//! flags, and a negative number that is not a flag is an argument.

/// One flag a command accepts: its letter and whether it takes a value.
pub type Spec = [(char, bool)];

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Parsed {
    flags: Vec<(char, Option<String>)>,
    /// Everything that is not a flag, in order (the command name is not
    /// included).
    pub args: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptError {
    Unrecognized(String),
    MissingArgument(char),
}

impl std::fmt::Display for OptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptError::Unrecognized(t) => write!(f, "Unrecognized option: {t}"),
            OptError::MissingArgument(c) => write!(f, "Missing argument for option: {c}"),
        }
    }
}

impl Parsed {
    pub fn has(&self, flag: char) -> bool {
        self.flags.iter().any(|(c, _)| *c == flag)
    }

    /// The value of the last occurrence of `flag`.
    pub fn value(&self, flag: char) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(c, _)| *c == flag)
            .and_then(|(_, v)| v.as_deref())
    }
}

fn takes_value(spec: &Spec, c: char) -> Option<bool> {
    spec.iter().find(|(f, _)| *f == c).map(|(_, v)| *v)
}

fn is_number(s: &str) -> bool {
    s.parse::<f64>().is_ok()
}

/// Parses the words after the command name.
pub fn parse(spec: &Spec, words: &[String]) -> Result<Parsed, OptError> {
    let mut out = Parsed::default();
    let mut it = words.iter().peekable();
    while let Some(word) = it.next() {
        if word == "--" {
            out.args.extend(it.by_ref().cloned());
            break;
        }
        let Some(body) = word.strip_prefix('-') else {
            out.args.push(word.clone());
            continue;
        };
        let mut chars = body.chars();
        let Some(first) = chars.next() else {
            out.args.push(word.clone());
            continue;
        };
        let rest = chars.as_str();
        match takes_value(spec, first) {
            None if is_number(body) => out.args.push(word.clone()),
            None => return Err(OptError::Unrecognized(word.clone())),
            Some(true) if !rest.is_empty() => out.flags.push((first, Some(rest.to_owned()))),
            Some(true) => match it.peek() {
                Some(next) if !is_flag(spec, next) => {
                    out.flags.push((first, it.next().cloned()));
                }
                _ => return Err(OptError::MissingArgument(first)),
            },
            Some(false) if rest.is_empty() => out.flags.push((first, None)),
            Some(false) => {
                // concatenated flags: -es, or -sv3
                out.flags.push((first, None));
                for (i, c) in rest.char_indices() {
                    match takes_value(spec, c) {
                        None => return Err(OptError::Unrecognized(word.clone())),
                        Some(false) => out.flags.push((c, None)),
                        Some(true) => {
                            let value = &rest[i + c.len_utf8()..];
                            if !value.is_empty() {
                                out.flags.push((c, Some(value.to_owned())));
                            } else if let Some(next) = it.next() {
                                out.flags.push((c, Some(next.clone())));
                            } else {
                                return Err(OptError::MissingArgument(c));
                            }
                            break;
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

fn is_flag(spec: &Spec, word: &str) -> bool {
    word.strip_prefix('-')
        .and_then(|b| b.chars().next())
        .is_some_and(|c| takes_value(spec, c).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    const CREATE: &Spec = &[('e', false), ('s', false), ('c', false), ('t', true)];

    #[test]
    fn flags_and_args_mixed() {
        let p = parse(CREATE, &w("-e -s /a data")).expect("parses");
        assert!(p.has('e') && p.has('s') && !p.has('c'));
        assert_eq!(p.args, ["/a", "data"]);
        let p = parse(CREATE, &w("/a -t 100 data")).expect("parses");
        assert_eq!(p.value('t'), Some("100"));
        assert_eq!(p.args, ["/a", "data"]);
        let p = parse(CREATE, &w("-es /a")).expect("parses");
        assert!(p.has('e') && p.has('s'));
        let p = parse(CREATE, &w("-t5000 /a")).expect("parses");
        assert_eq!(p.value('t'), Some("5000"));
        let p = parse(CREATE, &w("-st 10 /a")).expect("parses");
        assert!(p.has('s'));
        assert_eq!(p.value('t'), Some("10"));
    }

    #[test]
    fn numbers_dashes_and_errors() {
        let p = parse(&[('v', true)], &w("/a -1")).expect("parses");
        assert_eq!(p.args, ["/a", "-1"]);
        let p = parse(&[('v', true)], &w("-v -1 /a")).expect("parses");
        assert_eq!(p.value('v'), Some("-1"));
        let p = parse(&[('s', false)], &w("-- -s /a")).expect("parses");
        assert!(!p.has('s'));
        assert_eq!(p.args, ["-s", "/a"]);
        let p = parse(&[], &w("- x")).expect("parses");
        assert_eq!(p.args, ["-", "x"]);
        assert_eq!(
            parse(&[('d', false)], &w("/a -x")),
            Err(OptError::Unrecognized("-x".into()))
        );
        assert_eq!(
            parse(&[('v', true)], &w("/a -v")),
            Err(OptError::MissingArgument('v'))
        );
        assert_eq!(
            parse(&[('v', true), ('s', false)], &w("-v -s /a")),
            Err(OptError::MissingArgument('v'))
        );
        assert_eq!(
            OptError::Unrecognized("-x".into()).to_string(),
            "Unrecognized option: -x"
        );
    }
}
