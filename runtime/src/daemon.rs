//! A running node: the pipeline's workers, the poller and the HTTP server, until shutdown.

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
    pub addr: SocketAddr,
    /// Where the peer API (HTTPS) listens, when the node has one.
    pub peer_addr: Option<SocketAddr>,
    shutdown: Arc<Notify>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// The base URL of the node's HTTP server.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops workers, poller and server; events in flight stay queued and resume at the next start.
    pub async fn stop(self) {
        self.shutdown.notify_waiters();
        for t in self.tasks {
            t.abort();
            let _ = t.await;
        }
    }
}

/// Starts a built node on `listen` (port 0 picks a free one).
pub async fn start(node: Arc<Node>, listen: SocketAddr) -> Result<Running, NodeError> {
    if !listen.ip().is_loopback() && node.admin_token.is_none() {
        return Err(NodeError::Other(format!(
            "refusing to listen on {listen} without an admin token: the admin API would be open \
             to the network; set node.admin_token (or listen on 127.0.0.1)"
        )));
    }
    node.store.recover()?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| NodeError::Other(format!("cannot listen on {listen}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| NodeError::Other(e.to_string()))?;
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
    let hosts = crate::server::AdminHosts::new(addr, &node.config.node.admin_hosts);
    let app = crate::server::router(node.clone(), hosts);
    let stop = shutdown.clone();
    tasks.push(tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.notified().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    }));
    tracing::info!(url = %format!("http://{addr}"), "node serving");
    let peer_addr = start_peer(&node, &shutdown, &mut tasks).await?;
    Ok(Running {
        node,
        addr,
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
    let listen = config.node.listen;
    let node = Node::build(config)?;
    let running = start(node, listen).await?;
    println!("twinsync node serving at {}", running.url());
    if let Some(file) = made_token {
        println!(
            "  admin token: in {} (the CLI reads it from there)",
            file.display()
        );
    }
    println!("  webhooks: {}/webhooks/jira/<instance>", running.url());
    println!("  status:   {}/api/status", running.url());
    let _ = tokio::signal::ctrl_c().await;
    println!("stopping; queued events resume at the next start");
    running.stop().await;
    Ok(())
}
