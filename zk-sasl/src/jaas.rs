//! JAAS login configuration files, the form ZooKeeper's users already have:
//!
//! ```text
//! Server {
//!     org.apache.zookeeper.server.auth.DigestLoginModule required
//!     user_super="adminsecret"
//!     user_bob="bobsecret";
//! };
//! Client {
//!     org.apache.zookeeper.server.auth.DigestLoginModule required
//!     username="bob"
//!     password="bobsecret";
//! };
//! ```
//!
//! Sections (`Server`, `Client`, `QuorumServer`, `QuorumLearner`) hold
//! login-module entries: a class, a flag, `key=value` options, `;`. `//`
//! and `/* */` comments are allowed.

use std::collections::BTreeMap;
use std::path::Path;

use crate::SaslError;

/// One login module entry of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginModule {
    pub class: String,
    pub flag: String,
    pub options: BTreeMap<String, String>,
}

/// A parsed JAAS file: section name to its entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jaas {
    sections: BTreeMap<String, Vec<LoginModule>>,
}

/// The digest login module; its users are `user_<name>="<password>"`.
pub const DIGEST_MODULE: &str = "org.apache.zookeeper.server.auth.DigestLoginModule";

impl Jaas {
    pub fn from_file(path: &Path) -> Result<Jaas, SaslError> {
        let text = std::fs::read_to_string(path).map_err(|e| SaslError::Jaas {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Jaas::parse(&text).map_err(|reason| SaslError::Jaas {
            path: path.display().to_string(),
            reason,
        })
    }

    pub fn parse(text: &str) -> Result<Jaas, String> {
        let tokens = tokenize(text)?;
        let mut sections = BTreeMap::new();
        let mut at = tokens.iter().peekable();
        while let Some(name) = at.next() {
            let name = name.word()?;
            if at.next() != Some(&Token::Open) {
                return Err(format!("expected {{ after {name}"));
            }
            let mut modules = Vec::new();
            loop {
                match at.next() {
                    Some(Token::Close) => break,
                    Some(Token::Word(class)) => {
                        let flag = at.next().ok_or("a login module without a flag")?.word()?;
                        let mut options = BTreeMap::new();
                        loop {
                            match at.next() {
                                Some(Token::Semi) => break,
                                Some(Token::Word(key)) => {
                                    if at.next() != Some(&Token::Equals) {
                                        return Err(format!("expected = after {key}"));
                                    }
                                    let value = at.next().ok_or("an option without a value")?;
                                    options.insert(key.clone(), value.value()?);
                                }
                                other => return Err(format!("unexpected {other:?} in {name}")),
                            }
                        }
                        modules.push(LoginModule {
                            class: class.clone(),
                            flag,
                            options,
                        });
                    }
                    other => return Err(format!("unexpected {other:?} in {name}")),
                }
            }
            if at.peek() == Some(&&Token::Semi) {
                at.next();
            }
            sections.insert(name, modules);
        }
        Ok(Jaas { sections })
    }

    /// The digest users of a section (`user_<name>`), e.g. `Server`.
    pub fn users(&self, section: &str) -> BTreeMap<String, String> {
        self.digest_options(section)
            .filter_map(|(k, v)| Some((k.strip_prefix("user_")?.to_owned(), v.clone())))
            .collect()
    }

    /// A section's `username` and `password`, e.g. `Client`.
    pub fn credentials(&self, section: &str) -> Option<(String, String)> {
        let options: BTreeMap<&String, &String> = self.digest_options(section).collect();
        let user = options.get(&"username".to_owned())?;
        let password = options.get(&"password".to_owned())?;
        Some(((*user).clone(), (*password).clone()))
    }

    /// Whether the file has the section.
    pub fn has(&self, section: &str) -> bool {
        self.sections.contains_key(section)
    }

    fn digest_options(&self, section: &str) -> impl Iterator<Item = (&String, &String)> {
        self.sections
            .get(section)
            .into_iter()
            .flatten()
            .filter(|m| m.class == DIGEST_MODULE)
            .flat_map(|m| m.options.iter())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Open,
    Close,
    Semi,
    Equals,
}

impl Token {
    fn word(&self) -> Result<String, String> {
        match self {
            Token::Word(w) => Ok(w.clone()),
            other => Err(format!("expected a name, got {other:?}")),
        }
    }

    fn value(&self) -> Result<String, String> {
        match self {
            Token::Word(w) | Token::Quoted(w) => Ok(w.clone()),
            other => Err(format!("expected a value, got {other:?}")),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                loop {
                    match chars.next() {
                        Some('/') if last == '*' => break,
                        Some(c) => last = c,
                        None => return Err("an unterminated comment".into()),
                    }
                }
            }
            '{' => tokens.push(Token::Open),
            '}' => tokens.push(Token::Close),
            ';' => tokens.push(Token::Semi),
            '=' => tokens.push(Token::Equals),
            '"' => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => value.push(chars.next().ok_or("a bad escape")?),
                        Some(c) => value.push(c),
                        None => return Err("an unterminated quote".into()),
                    }
                }
                tokens.push(Token::Quoted(value));
            }
            c => {
                let mut word = String::from(c);
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || "{};=\"".contains(c) {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zookeeper_s_jaas_files() {
        let jaas = Jaas::parse(
            r#"
            // the server's users
            Server {
                org.apache.zookeeper.server.auth.DigestLoginModule required
                user_super="super_secret"
                user_jaasuser="jaas_password";
            };
            /* a client */
            Client {
                org.apache.zookeeper.server.auth.DigestLoginModule required
                username="bob" password="bob\"s";
            };
            QuorumLearner { org.apache.zookeeper.server.auth.DigestLoginModule required username="test" password="mypassword"; };
            "#,
        )
        .expect("parses");
        let users = jaas.users("Server");
        assert_eq!(
            users.get("jaasuser").map(String::as_str),
            Some("jaas_password")
        );
        assert_eq!(users.get("super").map(String::as_str), Some("super_secret"));
        assert_eq!(
            jaas.credentials("Client"),
            Some(("bob".into(), "bob\"s".into()))
        );
        assert_eq!(
            jaas.credentials("QuorumLearner"),
            Some(("test".into(), "mypassword".into()))
        );
        assert!(jaas.users("Client").is_empty());
        assert!(!jaas.has("QuorumServer"));
    }

    #[test]
    fn broken_files_are_errors() {
        for bad in [
            "Server",
            "Server { x required a=\"b\" ",
            "Server { x required a };",
            "{ };",
            "Server { x required a=\"open };",
            "/* open",
        ] {
            assert!(Jaas::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Jaas::parse("").expect("empty"), Jaas::default());
    }
}
