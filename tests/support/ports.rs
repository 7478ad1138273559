//! Free loopback ports for listeners whose address must be known before the node starts.

/// A free loopback port: for a listener whose URL goes into a config, an invitation or a
/// webhook before it binds, so port 0 will not do.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
