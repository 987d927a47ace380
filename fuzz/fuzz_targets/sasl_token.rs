//! Feeds arbitrary tokens to the SASL code a client or member can reach
//! before it is authenticated: the DIGEST-MD5 server's steps (as the first
//! token, and as the response to a real challenge), the client's step on a
//! server's challenge, and the JAAS file parser. Nothing may panic, and a
//! server step never accepts a response it did not check.

#![no_main]

use libfuzzer_sys::fuzz_target;
use zk_sasl::digest::{DigestClient, DigestServer, ServerStep};
use zk_sasl::jaas::Jaas;

fn users(name: &str) -> Option<String> {
    (name == "bob").then(|| "secret".to_owned())
}

fuzz_target!(|data: &[u8]| {
    // The server: the token as a first step, then as the response.
    let mut server = DigestServer::new();
    let _ = server.step(data, users);
    let mut server = DigestServer::new();
    if let Ok(ServerStep::Challenge(_)) = server.step(b"", users) {
        // A random response cannot know the nonce: it must never pass.
        assert!(!matches!(server.step(data, users), Ok(ServerStep::Done { .. })));
    }
    // The client, on an arbitrary challenge, then an arbitrary rspauth.
    let mut client = DigestClient::new("bob", "secret");
    if let Ok(Some(_)) = client.step(data) {
        let _ = client.step(data);
    }
    // The JAAS parser, on the same bytes as text.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(jaas) = Jaas::parse(text) {
            let _ = jaas.users("Server");
            let _ = jaas.credentials("Client");
        }
    }
});
