//! An in-process `zk-server` for tests and examples: in memory, on a free
//! loopback port, every four-letter word allowed, TTL nodes on, and a
//! short tick (sessions of 0.4-4 s; containers and TTL nodes reaped every
//! 200 ms).

/// Starts a standalone server with no storage; `extra` is more zoo.cfg
/// lines (`key=value\n...`) on top of the test defaults.
pub async fn start_in_memory(extra: &str) -> zk_server::Server {
    let text = format!(
        "tickTime=200\nclientPort=0\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\n\
         inMemory=true\n4lw.commands.whitelist=*\nextendedTypesEnabled=true\n\
         znode.container.checkIntervalMs=200\n{extra}\n"
    );
    let config = zk_server::Config::parse(&text).expect("test config parses");
    zk_server::Server::start(config)
        .await
        .expect("the test server starts")
}
