//! DIGEST-MD5 (RFC 2831) as ZooKeeper runs it: protocol `zookeeper`,
//! server name and realm `zk-sasl-md5`, qop `auth` only (no integrity or
//! confidentiality layer), `algorithm=md5-sess`. The client's first token
//! is empty; the server answers with a challenge, the client with its
//! response, the server with `rspauth` and is done.

use md5::{Digest, Md5};

use crate::SaslError;
use crate::directives::{self, get, quote};

/// The realm and server name ZooKeeper uses (`SecurityUtils`).
pub const REALM: &str = "zk-sasl-md5";
/// The digest-uri a client sends: `zookeeper/zk-sasl-md5`.
pub const DIGEST_URI: &str = "zookeeper/zk-sasl-md5";

/// One side's view of the exchange's end: the user it proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerStep {
    /// Send this challenge; the exchange goes on.
    Challenge(Vec<u8>),
    /// Send this last token (`rspauth`); `user` is authenticated.
    Done { token: Vec<u8>, user: String },
}

/// The server side of one exchange.
#[derive(Debug)]
pub struct DigestServer {
    nonce: Option<String>,
    finished: bool,
}

impl Default for DigestServer {
    fn default() -> Self {
        DigestServer::new()
    }
}

impl DigestServer {
    pub fn new() -> DigestServer {
        DigestServer {
            nonce: None,
            finished: false,
        }
    }

    /// The next step for the client's `token`; `password` looks a user's
    /// password up. Any failure ends the exchange.
    pub fn step(
        &mut self,
        token: &[u8],
        password: impl Fn(&str) -> Option<String>,
    ) -> Result<ServerStep, SaslError> {
        if self.finished {
            return Err(SaslError::Protocol("the exchange is over"));
        }
        let Some(nonce) = self.nonce.clone() else {
            // Step one: the client's initial token is empty.
            let nonce = random_nonce()?;
            let challenge = format!(
                "realm={},nonce={},qop=\"auth\",charset=utf-8,algorithm=md5-sess",
                quote(REALM),
                quote(&nonce)
            );
            self.nonce = Some(nonce);
            return Ok(ServerStep::Challenge(challenge.into_bytes()));
        };
        self.finished = true;
        let list = directives::parse(token)?;
        let field = |name: &'static str| -> Result<&str, SaslError> {
            get(&list, name)?.ok_or(SaslError::Missing(name))
        };
        let user = field("username")?;
        let cnonce = field("cnonce")?;
        let uri = field("digest-uri")?;
        let response = field("response")?;
        if get(&list, "realm")?.is_some_and(|r| r != REALM) {
            return Err(SaslError::Protocol("another realm"));
        }
        if field("nonce")? != nonce {
            return Err(SaslError::Protocol("another nonce"));
        }
        // One exchange per nonce: the count must be 1 (the JDK checks it).
        if field("nc")? != "00000001" {
            return Err(SaslError::Protocol("nonce count is not 1"));
        }
        let qop = get(&list, "qop")?.unwrap_or("auth");
        if qop != "auth" {
            return Err(SaslError::Protocol("only qop=auth is offered"));
        }
        if uri != DIGEST_URI {
            return Err(SaslError::Protocol("another digest-uri"));
        }
        // An authorization id other than the user is not allowed (ZooKeeper
        // authorizes a DIGEST user only as itself).
        let authzid = get(&list, "authzid")?;
        if authzid.is_some_and(|a| a != user) {
            return Err(SaslError::Protocol("authzid differs from username"));
        }
        let secret = password(user).ok_or(SaslError::BadCredentials)?;
        let parts = Parts {
            user,
            realm: REALM,
            password: &secret,
            nonce: &nonce,
            cnonce,
            nc: "00000001",
            uri,
            authzid,
        };
        let expected = parts.response("AUTHENTICATE");
        if !equal(
            expected.as_bytes(),
            response.to_ascii_lowercase().as_bytes(),
        ) {
            return Err(SaslError::BadCredentials);
        }
        let token = format!("rspauth={}", parts.response("")).into_bytes();
        Ok(ServerStep::Done {
            token,
            user: user.to_owned(),
        })
    }
}

/// The client side of one exchange.
#[derive(Debug)]
pub struct DigestClient {
    user: String,
    password: String,
    expect: Option<String>,
    done: bool,
}

impl DigestClient {
    pub fn new(user: &str, password: &str) -> DigestClient {
        DigestClient {
            user: user.to_owned(),
            password: password.to_owned(),
            expect: None,
            done: false,
        }
    }

    /// The first token: empty (DIGEST-MD5 has no initial response).
    pub fn initial(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Whether the server proved it knows the password too.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The answer to the server's `token`: the response to its challenge,
    /// or, after the server's `rspauth`, nothing (None) once it checks.
    pub fn step(&mut self, token: &[u8]) -> Result<Option<Vec<u8>>, SaslError> {
        let list = directives::parse(token)?;
        if let Some(expected) = self.expect.take() {
            let rspauth = get(&list, "rspauth")?.ok_or(SaslError::Missing("rspauth"))?;
            if !equal(expected.as_bytes(), rspauth.to_ascii_lowercase().as_bytes()) {
                return Err(SaslError::Protocol("the server's rspauth is wrong"));
            }
            self.done = true;
            return Ok(None);
        }
        let nonce = get(&list, "nonce")?.ok_or(SaslError::Missing("nonce"))?;
        let realm = get(&list, "realm")?.unwrap_or(REALM);
        if !get(&list, "qop")?
            .unwrap_or("auth")
            .split(',')
            .any(|q| q.trim() == "auth")
        {
            return Err(SaslError::Protocol("the server does not offer qop=auth"));
        }
        let cnonce = random_nonce()?;
        let parts = Parts {
            user: &self.user,
            realm,
            password: &self.password,
            nonce,
            cnonce: &cnonce,
            nc: "00000001",
            uri: DIGEST_URI,
            authzid: None,
        };
        let response = format!(
            "charset=utf-8,username={},realm={},nonce={},nc=00000001,cnonce={},digest-uri={},maxbuf=65536,response={},qop=auth",
            quote(&self.user),
            quote(realm),
            quote(nonce),
            quote(&cnonce),
            quote(DIGEST_URI),
            parts.response("AUTHENTICATE"),
        );
        self.expect = Some(parts.response(""));
        Ok(Some(response.into_bytes()))
    }
}

/// The inputs of RFC 2831's response value (section 2.1.2.1).
struct Parts<'a> {
    user: &'a str,
    realm: &'a str,
    password: &'a str,
    nonce: &'a str,
    cnonce: &'a str,
    nc: &'a str,
    uri: &'a str,
    authzid: Option<&'a str>,
}

impl Parts<'_> {
    /// `response` with `method` "AUTHENTICATE" (the client's), `rspauth`
    /// with "" (the server's answer).
    fn response(&self, method: &str) -> String {
        let mut secret = Md5::new();
        secret.update(latin1_or_utf8(self.user));
        secret.update(b":");
        secret.update(latin1_or_utf8(self.realm));
        secret.update(b":");
        secret.update(latin1_or_utf8(self.password));
        let mut a1 = Md5::new();
        a1.update(secret.finalize());
        a1.update(format!(":{}:{}", self.nonce, self.cnonce).as_bytes());
        if let Some(authzid) = self.authzid {
            a1.update(format!(":{authzid}").as_bytes());
        }
        let ha1 = hex(&a1.finalize());
        let ha2 = hex(&Md5::digest(format!("{method}:{}", self.uri).as_bytes()));
        hex(&Md5::digest(
            format!(
                "{ha1}:{}:{}:{}:auth:{ha2}",
                self.nonce, self.nc, self.cnonce
            )
            .as_bytes(),
        ))
    }
}

/// RFC 2831: with charset=utf-8, a string whose characters are all in
/// ISO 8859-1 is hashed in ISO 8859-1.
fn latin1_or_utf8(s: &str) -> Vec<u8> {
    if s.chars().all(|c| (c as u32) < 0x100) {
        s.chars().map(|c| c as u8).collect()
    } else {
        s.as_bytes().to_vec()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares in time that does not depend on where they differ.
fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_nonce() -> Result<String, SaslError> {
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes).map_err(|_| SaslError::Protocol("no randomness"))?;
    Ok(hex(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2831 section 4's example.
    #[test]
    fn the_rfc_2831_example() {
        let parts = Parts {
            user: "chris",
            realm: "elwood.innosoft.com",
            password: "secret",
            nonce: "OA6MG9tEQGm2hh",
            cnonce: "OA6MHXh6VqTrRk",
            nc: "00000001",
            uri: "imap/elwood.innosoft.com",
            authzid: None,
        };
        assert_eq!(
            parts.response("AUTHENTICATE"),
            "d388dad90d4bbd760a152321f2143af7"
        );
        assert_eq!(parts.response(""), "ea40f60335c427b5527b84dbabcdfffd");
    }

    fn users(name: &str) -> Option<String> {
        (name == "jaasuser").then(|| "jaas_password".to_owned())
    }

    fn exchange(user: &str, password: &str) -> Result<String, SaslError> {
        let mut server = DigestServer::new();
        let mut client = DigestClient::new(user, password);
        let ServerStep::Challenge(challenge) = server.step(&client.initial(), users)? else {
            panic!("a challenge first");
        };
        let response = client.step(&challenge)?.expect("a response");
        match server.step(&response, users)? {
            ServerStep::Done { token, user } => {
                assert_eq!(client.step(&token)?, None);
                assert!(client.is_done());
                Ok(user)
            }
            other => panic!("expected the end, got {other:?}"),
        }
    }

    #[test]
    fn our_client_and_server_agree() {
        assert_eq!(
            exchange("jaasuser", "jaas_password").as_deref(),
            Ok("jaasuser")
        );
        assert_eq!(
            exchange("jaasuser", "wrong"),
            Err(SaslError::BadCredentials)
        );
        assert_eq!(exchange("nobody", "x"), Err(SaslError::BadCredentials));
    }

    /// The response kazoo's pure-sasl sends, in its order, for a nonce we
    /// pick: the server must take it (and reject it once tampered with).
    #[test]
    fn a_response_in_pure_sasl_s_form() {
        let mut server = DigestServer::new();
        let ServerStep::Challenge(challenge) = server.step(b"", users).expect("challenge") else {
            panic!("a challenge");
        };
        let list = directives::parse(&challenge).expect("parses");
        let nonce = get(&list, "nonce")
            .expect("once")
            .expect("nonce")
            .to_owned();
        let parts = Parts {
            user: "jaasuser",
            realm: REALM,
            password: "jaas_password",
            nonce: &nonce,
            cnonce: "abcdef",
            nc: "00000001",
            uri: DIGEST_URI,
            authzid: None,
        };
        let token = format!(
            "qop=auth,realm=\"{REALM}\",username=\"jaasuser\",nonce=\"{nonce}\",cnonce=\"abcdef\",nc=00000001,digest-uri=\"{DIGEST_URI}\",response={}",
            parts.response("AUTHENTICATE")
        );
        let mut tampered = DigestServer::new();
        let _ = tampered.step(b"", users);
        assert!(
            tampered.step(token.as_bytes(), users).is_err(),
            "another nonce"
        );
        match server.step(token.as_bytes(), users).expect("accepted") {
            ServerStep::Done { token, user } => {
                assert_eq!(user, "jaasuser");
                assert_eq!(
                    String::from_utf8(token).expect("text"),
                    format!("rspauth={}", parts.response(""))
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(server.step(b"", users).is_err(), "one exchange only");
    }

    #[test]
    fn malformed_responses_fail_without_panicking() {
        for bad in [
            &b"username=\"jaasuser\""[..],
            b"garbage",
            b"\x00\x01\x02",
            b"username=\"jaasuser\",nonce=\"x\",cnonce=\"y\",nc=00000002,digest-uri=\"zookeeper/zk-sasl-md5\",response=00",
        ] {
            let mut server = DigestServer::new();
            let _ = server.step(b"", users);
            assert!(server.step(bad, users).is_err(), "{bad:?}");
        }
    }
}
