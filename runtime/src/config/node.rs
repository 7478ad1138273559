//! The `[node]` table: listeners, TLS, the data directory, workers, polling and tokens,
//! with their defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::SecretRef;

/// The `[node]` table: how this node runs and where it keeps its data.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeSettings {
    /// The store and the compile cache live here.
    pub data_dir: PathBuf,
    /// Where compiled rules are cached (default `<data_dir>/rule-cache`); nodes of one
    /// user on one machine may share it, since entries are keyed by module hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rule_cache_dir: Option<PathBuf>,
    /// The public listener: Jira webhooks and the health check, nothing else.
    pub(crate) listen: SocketAddr,
    /// TLS on `listen` from certificate files; plain HTTP when unset (e.g. behind a
    /// reverse proxy that terminates TLS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tls: Option<TlsFiles>,
    /// The admin listener: the admin API, the admin page and `/metrics`. Unset, it is
    /// 127.0.0.1:7702, or 127.0.0.1 on a free port when `listen` asks for one (port 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_listen: Option<SocketAddr>,
    /// Sync events handled in parallel (different issues).
    pub(crate) workers: usize,
    /// At a stop (SIGTERM, Ctrl-C), how long events in hand may run on before they are
    /// cut short and put back in the queue, seconds.
    pub(crate) stop_grace_secs: u64,
    /// Seconds between JQL polls that back up webhooks; 0 turns polling off.
    pub(crate) poll_interval_secs: u64,
    /// Wasm stack per rule call, bytes (node-wide in wasmtime).
    pub(crate) max_wasm_stack: usize,
    /// Bearer token the admin API and `/metrics` require; made at first start when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_token: Option<SecretRef>,
    /// The admin page's address as people reach it (e.g. behind a proxy), put in the links
    /// Jira shows on each twin; unset, the admin listener's own address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) admin_url: Option<String>,
    /// Host names the admin API answers to besides the addresses it listens on (and
    /// `localhost` on loopback), e.g. the name of a reverse proxy in front of it; a request
    /// whose `Host` is none of them is refused (DNS rebinding).
    pub(crate) admin_hosts: Vec<String>,
    /// HTTPS endpoint for peer nodes (remote connections); off when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_listen: Option<SocketAddr>,
    /// The URL peers reach `peer_listen` at, put in invitations (default `https://<peer_listen>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) peer_url: Option<String>,
    /// How far a peer request's timestamp may be from this node's clock, seconds.
    pub(crate) peer_skew_secs: u64,
    /// Largest attachment that crosses a peer link, bytes.
    pub(crate) peer_max_attachment_bytes: u64,
}

impl Default for NodeSettings {
    fn default() -> Self {
        NodeSettings {
            data_dir: PathBuf::from("twinsync-data"),
            rule_cache_dir: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 7700)),
            tls: None,
            admin_listen: None,
            workers: 4,
            stop_grace_secs: 5,
            poll_interval_secs: 60,
            max_wasm_stack: 512 << 10,
            admin_token: None,
            admin_url: None,
            admin_hosts: Vec::new(),
            peer_listen: None,
            peer_url: None,
            peer_skew_secs: 300,
            peer_max_attachment_bytes: 100 << 20,
        }
    }
}

/// Where the admin listener is when `admin_listen` is unset: loopback, on a port of its own
/// (7700 stays the public listener's, 7701 is the usual `peer_listen`).
pub const DEFAULT_ADMIN_PORT: u16 = 7702;

impl NodeSettings {
    /// The admin listener's address, with the default filled in.
    pub fn admin_listen(&self) -> SocketAddr {
        self.admin_listen.unwrap_or_else(|| {
            // A node asked to pick its public port (tests, the demo) picks its admin port too.
            let port = if self.listen.port() == 0 {
                0
            } else {
                DEFAULT_ADMIN_PORT
            };
            SocketAddr::from(([127, 0, 0, 1], port))
        })
    }
}

/// A PEM certificate chain and its private key for TLS on the public listener.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TlsFiles {
    /// The certificate chain, leaf first (PEM).
    pub(crate) cert: PathBuf,
    /// The leaf's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub(crate) key: PathBuf,
}
