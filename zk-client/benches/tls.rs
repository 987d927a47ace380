//! What TLS costs a client, against any server (bench/tls.sh runs ours and
//! Apache ZooKeeper side by side): new sessions per second (TCP connect,
//! TLS handshake, ConnectRequest, close) and getData throughput of a 1 KiB
//! node over established connections, plain or TLS. One JSON line per run.
//!
//!   cargo bench -p zk-client --bench tls -- connect 127.0.0.1:2281 --ca ca.pem --key me.pem
//!   cargo bench -p zk-client --bench tls -- read 127.0.0.1:2181 --sessions 8 --inflight 16

use std::time::{Duration, Instant};

use zk_client::tls::{ClientTls, StoreSpec};
use zk_client::{Client, CreateOptions};

struct Args {
    mode: String,
    server: String,
    ca: Option<String>,
    key: Option<String>,
    sessions: usize,
    inflight: usize,
    seconds: u64,
}

fn args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
    let mode = it.next().ok_or("mode: connect or read")?;
    let server = it.next().ok_or("server address")?;
    let mut a = Args {
        mode,
        server,
        ca: None,
        key: None,
        sessions: 4,
        inflight: 16,
        seconds: 10,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = || value.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--ca" => a.ca = Some(value.clone()),
            "--key" => a.key = Some(value.clone()),
            "--sessions" => a.sessions = number()?,
            "--inflight" => a.inflight = number()?,
            "--seconds" => a.seconds = number()? as u64,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(a)
}

fn builder(a: &Args) -> zk_client::Result<zk_client::ClientBuilder> {
    let b = Client::builder(&a.server)?.session_timeout(Duration::from_secs(30));
    let Some(ca) = &a.ca else {
        return Ok(b);
    };
    let mut tls = ClientTls::builder()
        .trust_store(StoreSpec::new(ca))
        .verify_hostname(false);
    if let Some(key) = &a.key {
        tls = tls.key_store(StoreSpec::new(key));
    }
    Ok(b.tls(tls.build()?))
}

/// Sessions opened and closed, `a.sessions` at a time.
async fn connect(a: &Args) -> zk_client::Result<String> {
    let until = Instant::now() + Duration::from_secs(a.seconds);
    let mut tasks: tokio::task::JoinSet<zk_client::Result<u64>> = tokio::task::JoinSet::new();
    for _ in 0..a.sessions {
        let b = builder(a)?;
        tasks.spawn(async move {
            let mut n = 0u64;
            while Instant::now() < until {
                let c = b.clone().connect().await?;
                c.close().await;
                n += 1;
            }
            Ok(n)
        });
    }
    let mut total = 0;
    while let Some(done) = tasks.join_next().await {
        total += done.map_err(|e| zk_client::Error::Protocol(e.to_string()))??;
    }
    Ok(format!(
        "\"sessions_per_s\":{:.1}",
        total as f64 / a.seconds as f64
    ))
}

/// getData of one 1 KiB node, `a.inflight` outstanding per session.
async fn read(a: &Args) -> zk_client::Result<String> {
    let setup = builder(a)?.connect().await?;
    match setup
        .create("/bench-tls", &[7u8; 1024], &CreateOptions::persistent())
        .await
    {
        Ok(_) | Err(zk_client::Error::NodeExists) => {}
        Err(e) => return Err(e),
    }
    let warm = Instant::now() + Duration::from_secs(2);
    let until = warm + Duration::from_secs(a.seconds);
    let mut tasks: tokio::task::JoinSet<zk_client::Result<u64>> = tokio::task::JoinSet::new();
    for _ in 0..a.sessions {
        let client = builder(a)?.connect().await?;
        for _ in 0..a.inflight {
            let client = client.clone();
            tasks.spawn(async move {
                let mut n = 0u64;
                loop {
                    client.get_data("/bench-tls").await?;
                    let now = Instant::now();
                    if now >= until {
                        return Ok(n);
                    }
                    n += u64::from(now >= warm);
                }
            });
        }
    }
    let mut total = 0;
    while let Some(done) = tasks.join_next().await {
        total += done.map_err(|e| zk_client::Error::Protocol(e.to_string()))??;
    }
    Ok(format!(
        "\"reads_per_s\":{:.0}",
        total as f64 / a.seconds as f64
    ))
}

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tls bench: {e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let result = runtime.block_on(async {
        match a.mode.as_str() {
            "connect" => connect(&a).await,
            "read" => read(&a).await,
            other => Err(zk_client::Error::Protocol(format!("unknown mode {other}"))),
        }
    });
    match result {
        Ok(fields) => println!(
            "{{\"mode\":\"{}\",\"tls\":{},\"sessions\":{},\"inflight\":{},{fields}}}",
            a.mode,
            a.ca.is_some(),
            a.sessions,
            a.inflight
        ),
        Err(e) => {
            eprintln!("tls bench: {e}");
            std::process::exit(1);
        }
    }
}
