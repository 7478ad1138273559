//! A running node: the pipeline's workers, the poller and its listeners (public, admin,
//! peer), until shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::config::NodeConfig;
use crate::sync::detect;
use crate::sync::node::{Node, NodeError};

/// A node serving in the background; dropping the handle does not stop it, `stop` does.
pub struct Running {
    pub node: Arc<Node>,
    /// Where the public listener (webhooks, health check) listens.
    pub addr: SocketAddr,
    /// Whether the public listener speaks TLS (`node.tls`).
    pub tls: bool,
    /// Where the admin listener (admin API, page, `/metrics`) listens.
    pub admin_addr: SocketAddr,
    /// Where the peer API (HTTPS) listens, when the node has one.
    pub peer_addr: Option<SocketAddr>,
    shutdown: Arc<Notify>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// The base URL of the public listener, where Jira's webhooks go.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The base URL of the admin listener: the admin page, its API and `/metrics`.
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    /// Stops workers, poller and servers; events in flight stay queued and resume at the next start.
    pub async fn stop(self) {
        self.shutdown.notify_waiters();
        for t in self.tasks {
            t.abort();
            let _ = t.await;
        }
    }
}

fn other(e: impl std::fmt::Display) -> NodeError {
    NodeError::Other(e.to_string())
}

/// Starts a built node on the listeners its config names (port 0 picks a free one): the
/// public `listen`, the `admin_listen` and, for remote connections, `peer_listen`.
pub async fn start(node: Arc<Node>) -> Result<Running, NodeError> {
    let settings = &node.config.node;
    let (listen, admin_listen) = (settings.listen, settings.admin_listen());
    if !admin_listen.ip().is_loopback() && node.admin_token.is_none() {
        return Err(NodeError::Other(format!(
            "refusing to open the admin API on {admin_listen} without an admin token: it would \
             be open to the network; set node.admin_token (or keep admin_listen on 127.0.0.1)"
        )));
    }
    // Certificate files are read before anything binds, so a bad one stops the start cleanly.
    let tls = match &settings.tls {
        Some(files) => {
            Some(crate::server::tls::server_config(files, &node.config.base_dir).map_err(other)?)
        }
        None => None,
    };
    node.store.recover()?;
    let public = TcpListener::bind(listen)
        .await
        .map_err(|e| NodeError::Other(format!("cannot listen on {listen}: {e}")))?;
    let addr = public.local_addr().map_err(other)?;
    let admin = TcpListener::bind(admin_listen).await.map_err(|e| {
        NodeError::Other(format!(
            "cannot listen for the admin API on {admin_listen}: {e}"
        ))
    })?;
    let admin_addr = admin.local_addr().map_err(other)?;
    let shutdown = Arc::new(Notify::new());
    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(
        node.pipeline
            .clone()
            .run(node.config.node.workers, shutdown.clone()),
    ));
    if node.config.node.poll_interval_secs > 0 {
        tasks.push(tokio::spawn(detect::run_poller(
            node.clone(),
            Duration::from_secs(node.config.node.poll_interval_secs),
        )));
    }
    let public_app = crate::server::public_router(node.clone());
    let stop = shutdown.clone();
    let is_tls = tls.is_some();
    match tls {
        Some(config) => {
            let listener = crate::peer::tls::TlsListener::new(public, config).map_err(other)?;
            tasks.push(tokio::spawn(async move {
                let served = axum::serve(listener, public_app)
                    .with_graceful_shutdown(async move { stop.notified().await })
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "public HTTPS server stopped");
                }
            }));
        }
        None => {
            tasks.push(tokio::spawn(async move {
                let served = axum::serve(public, public_app)
                    .with_graceful_shutdown(async move { stop.notified().await })
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "public HTTP server stopped");
                }
            }));
        }
    }
    let hosts = crate::server::AdminHosts::new(admin_addr, &node.config.node.admin_hosts);
    let admin_app = crate::server::admin_router(node.clone(), hosts);
    let stop = shutdown.clone();
    tasks.push(tokio::spawn(async move {
        let served = axum::serve(admin, admin_app)
            .with_graceful_shutdown(async move { stop.notified().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "admin HTTP server stopped");
        }
    }));
    let scheme = if is_tls { "https" } else { "http" };
    tracing::info!(webhooks = %format!("{scheme}://{addr}"), admin = %format!("http://{admin_addr}"),
        "node serving");
    let peer_addr = start_peer(&node, &shutdown, &mut tasks).await?;
    Ok(Running {
        node,
        addr,
        tls: is_tls,
        admin_addr,
        peer_addr,
        shutdown,
        tasks,
    })
}

/// The peer API over HTTPS and one outbox sender per remote connection, if configured.
async fn start_peer(
    node: &Arc<Node>,
    shutdown: &Arc<Notify>,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) -> Result<Option<SocketAddr>, NodeError> {
    let (Some(peers), Some(listen)) = (&node.peers, node.config.node.peer_listen) else {
        return Ok(None);
    };
    let tls = crate::peer::tls::server_config(&peers.identity)
        .map_err(|e| NodeError::Other(e.to_string()))?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| NodeError::Other(format!("cannot listen for peers on {listen}: {e}")))?;
    let listener = crate::peer::tls::TlsListener::new(listener, tls)
        .map_err(|e| NodeError::Other(e.to_string()))?;
    let addr = axum::serve::Listener::local_addr(&listener)
        .map_err(|e| NodeError::Other(e.to_string()))?;
    let app = crate::server::peer::router(node.clone());
    let stop = shutdown.clone();
    tasks.push(tokio::spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<crate::peer::tls::PeerAddr>(),
        )
        .with_graceful_shutdown(async move { stop.notified().await })
        .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "peer HTTPS server stopped");
        }
    }));
    for connection in peers.connections() {
        tasks.push(tokio::spawn(peers.clone().run_sender(connection.clone())));
    }
    tracing::info!(url = %format!("https://{addr}"), key = %peers.identity.public_key(),
        fingerprint = %peers.identity.cert_fingerprint(), "peer API serving");
    Ok(Some(addr))
}

/// `twinsync node -c FILE`: serves until Ctrl-C.
pub async fn serve(config_path: &Path) -> Result<(), NodeError> {
    let mut config = NodeConfig::load(config_path)?;
    // The admin API always wants a token: with none configured, the node makes one.
    let made_token =
        crate::admin_token::ensure(&mut config).map_err(|e| NodeError::Other(e.to_string()))?;
    let node = Node::build(config)?;
    let running = start(node).await?;
    println!("twinsync node serving");
    println!("  webhooks:   {}/webhooks/jira/<instance>", running.url());
    println!(
        "  admin page: {}/  (API {}/api/status, metrics {}/metrics)",
        running.admin_url(),
        running.admin_url(),
        running.admin_url()
    );
    if let Some(file) = made_token {
        println!(
            "  admin token: in {} (the CLI reads it from there)",
            file.display()
        );
    }
    let _ = tokio::signal::ctrl_c().await;
    println!("stopping; queued events resume at the next start");
    running.stop().await;
    Ok(())
}
