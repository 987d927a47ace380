//! The TLS client port's read path: a real rustls server (our config
//! builder, a certificate made once per run) and client in memory. The
//! first byte picks the mode: raw bytes at the server before any handshake
//! (what an attacker's first packets are), or, after a real handshake, the
//! rest as the client's plaintext, which the server decrypts and hands to
//! the frame codec and request decoder as a connection would. Nothing may
//! panic; what the server decrypts is exactly what the client sent.

#![no_main]

use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, ServerConfig, ServerConnection};
use tokio_util::codec::Decoder;
use zk_proto::client::{Request, RequestHeader};
use zk_proto::frame::FrameCodec;
use zk_proto::{Decode, OpCode};

struct Configs {
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
}

fn configs() -> &'static Configs {
    static CONFIGS: OnceLock<Configs> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let identity = zk_tls::Identity {
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        };
        let trust: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
        Configs {
            server: zk_tls::server_config(
                &identity,
                Some(&trust),
                zk_tls::ClientAuth::Want,
                &Default::default(),
            )
            .expect("server config"),
            client: zk_tls::client_config(&trust, None, true, &Default::default())
                .expect("client config"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let c = configs();
    let mut server = ServerConnection::new(c.server.clone()).expect("server");
    if mode & 1 == 0 {
        // Raw bytes before any handshake.
        let mut input = rest;
        while !input.is_empty() {
            match server.read_tls(&mut input) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if server.process_new_packets().is_err() {
                        break;
                    }
                }
            }
        }
        let mut plain = Vec::new();
        let _ = server.reader().read_to_end(&mut plain);
        assert!(plain.is_empty(), "plaintext without a handshake");
        return;
    }
    let name = ServerName::try_from("localhost").expect("name");
    let mut client = ClientConnection::new(c.client.clone(), name).expect("client");
    // The handshake, then the plaintext, through an in-memory wire.
    client.writer().write_all(rest).expect("buffer plaintext");
    for _ in 0..32 {
        let mut wire = Vec::new();
        while client.wants_write() {
            if client.write_tls(&mut wire).is_err() {
                break;
            }
        }
        let mut slice = wire.as_slice();
        while !slice.is_empty() {
            if server.read_tls(&mut slice).is_err() || server.process_new_packets().is_err() {
                return;
            }
        }
        let mut back = Vec::new();
        while server.wants_write() {
            if server.write_tls(&mut back).is_err() {
                break;
            }
        }
        let mut slice = back.as_slice();
        while !slice.is_empty() {
            if client.read_tls(&mut slice).is_err() || client.process_new_packets().is_err() {
                return;
            }
        }
        if !client.is_handshaking() && !client.wants_write() && !server.wants_write() {
            break;
        }
    }
    let mut plain = Vec::new();
    let _ = server.reader().read_to_end(&mut plain);
    assert_eq!(plain, rest, "the server read what the client wrote");
    // What a connection does with it.
    let mut codec = FrameCodec::default();
    let mut src = BytesMut::from(&plain[..]);
    while let Ok(Some(mut frame)) = codec.decode(&mut src) {
        if let Ok(header) = RequestHeader::decode(&mut frame)
            && let Ok(op) = OpCode::try_from(header.op)
        {
            let _ = Request::decode(op, &mut frame);
        }
    }
});
