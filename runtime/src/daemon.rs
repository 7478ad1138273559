//! A running node: the pipeline's workers, the poller and its listeners (public, admin,
//! peer), until a stop that lets the work in hand finish.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::config::NodeConfig;
use crate::stop::{self, Stop, StopSender};
use crate::sync::detect;
use crate::sync::node::{Node, NodeError};

/// A node serving in the background; dropping the handle does not stop it, `stop` does.
pub struct Running {
    /// The node it serves: its config, store, rules and pipeline.
    pub node: Arc<Node>,
    /// Where the public listener (webhooks, health check) listens.
    pub addr: SocketAddr,
    /// Whether the public listener speaks TLS (`node.tls`).
    pub(crate) tls: bool,
    /// Where the admin listener (admin API, page, `/metrics`) listens.
    pub admin_addr: SocketAddr,
    stop: StopSender,
    tasks: JoinSet<()>,
}

/// How a stop ended: what the workers had in hand when it began, and what went back to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Events running when the stop began.
    pub in_hand: usize,
    /// Events still running at the deadline, put back to pending for the next start.
    pub requeued: usize,
    /// Whether every task ended on its own before the deadline.
    pub drained: bool,
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

    /// Stops within the node's `stop_grace_secs`; see [`Running::stop_within`].
    pub async fn stop(self) -> Stopped {
        let grace = Duration::from_secs(self.node.config.node.stop_grace_secs);
        self.stop_within(grace).await
    }

    /// Ends intake at once (listeners, poller, peer senders, no new claims), lets the events
    /// in hand finish for up to `grace`, then aborts what is left and puts its events back in
    /// the queue, so every claimed event is either done or pending again.
    pub async fn stop_within(mut self, grace: Duration) -> Stopped {
        let in_hand = match self.node.store.queue_stats(None) {
            Ok(stats) => stats.running as usize,
            Err(e) => {
                tracing::warn!(error = %e, "cannot count the events in hand");
                0
            }
        };
        tracing::info!(
            in_hand,
            grace_secs = grace.as_secs_f64(),
            "stopping: intake closed, letting events in hand finish"
        );
        self.stop.stop();
        let all_ended = async { while self.tasks.join_next().await.is_some() {} };
        let drained = tokio::time::timeout(grace, all_ended).await.is_ok();
        // Aborts what is left and waits until it is gone, so no worker touches the queue below.
        self.tasks.shutdown().await;
        let requeued = match self.node.store.recover() {
            Ok(n) => n,
            Err(e) => {
                // They stay 'running' in the store, and the next start puts them back.
                tracing::error!(error = %e, "cannot put unfinished events back in the queue");
                0
            }
        };
        if drained {
            tracing::info!(in_hand, "stopped: every event in hand finished");
        } else {
            tracing::warn!(
                in_hand,
                requeued,
                "stopped at the deadline: unfinished events are back in the queue"
            );
        }
        Stopped {
            in_hand,
            requeued,
            drained,
        }
    }
}

/// A future that resolves when the stop is raised, for a server's graceful shutdown.
fn until(stopped: &Stop) -> impl std::future::Future<Output = ()> + Send + 'static {
    let mut stopped = stopped.clone();
    async move { stopped.stopped().await }
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
    let resumed = node.store.recover()?;
    if resumed > 0 {
        tracing::warn!(
            events = resumed,
            "resuming events that were running when the node stopped"
        );
    }
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
    node.set_admin_url(&format!("http://{admin_addr}"))?;
    let (stop, stopped) = stop::channel();
    node.set_stop(stopped.clone());
    let mut tasks = JoinSet::new();
    tasks.spawn(
        node.pipeline
            .clone()
            .run(node.config.node.workers, stopped.clone()),
    );
    if node.config.node.poll_interval_secs > 0 {
        tasks.spawn(detect::run_poller(
            node.clone(),
            Duration::from_secs(node.config.node.poll_interval_secs),
            stopped.clone(),
        ));
    }
    let public_app = crate::server::public_router(node.clone());
    let is_tls = tls.is_some();
    match tls {
        Some(config) => {
            let listener = crate::peer::tls::TlsListener::new(public, config).map_err(other)?;
            let until_stopped = until(&stopped);
            tasks.spawn(async move {
                let served = axum::serve(listener, public_app)
                    .with_graceful_shutdown(until_stopped)
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "public HTTPS server stopped");
                }
            });
        }
        None => {
            let until_stopped = until(&stopped);
            tasks.spawn(async move {
                let served = axum::serve(public, public_app)
                    .with_graceful_shutdown(until_stopped)
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "public HTTP server stopped");
                }
            });
        }
    }
    let hosts = crate::server::AdminHosts::new(admin_addr, &node.config.node.admin_hosts);
    let admin_app = crate::server::admin_router(node.clone(), hosts);
    let until_stopped = until(&stopped);
    tasks.spawn(async move {
        let served = axum::serve(admin, admin_app)
            .with_graceful_shutdown(until_stopped)
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "admin HTTP server stopped");
        }
    });
    let scheme = if is_tls { "https" } else { "http" };
    tracing::info!(webhooks = %format!("{scheme}://{addr}"), admin = %format!("http://{admin_addr}"),
        "node serving");
    start_peer(&node, &stopped, &mut tasks).await?;
    detect::resume_bulk(&node);
    Ok(Running {
        node,
        addr,
        tls: is_tls,
        admin_addr,
        stop,
        tasks,
    })
}

/// The peer API over HTTPS and one outbox sender per remote connection, if configured.
async fn start_peer(
    node: &Arc<Node>,
    stopped: &Stop,
    tasks: &mut JoinSet<()>,
) -> Result<(), NodeError> {
    let (Some(peers), Some(listen)) = (&node.peers, node.config.node.peer_listen) else {
        return Ok(());
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
    let until_stopped = until(stopped);
    tasks.spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<crate::peer::tls::PeerAddr>(),
        )
        .with_graceful_shutdown(until_stopped)
        .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "peer HTTPS server stopped");
        }
    });
    // One sender per paired connection, following the setup as connections are paired.
    tasks.spawn(peers.clone().run_senders(stopped.clone()));
    tracing::info!(url = %format!("https://{addr}"), key = %peers.identity.public_key(),
        fingerprint = %peers.identity.cert_fingerprint(), "peer API serving");
    Ok(())
}

/// `twinsync node -c FILE`: serves until SIGTERM or Ctrl-C, then stops as
/// [`Running::stop`] does; a second signal during the stop ends it at once.
pub async fn serve(config_path: Option<&Path>) -> Result<(), NodeError> {
    const DEFAULT_FILE: &str = "twinsync.toml";
    let mut config = match config_path {
        Some(path) => NodeConfig::load(path)?,
        None if Path::new(DEFAULT_FILE).is_file() => NodeConfig::load(Path::new(DEFAULT_FILE))?,
        None => {
            println!(
                "no {DEFAULT_FILE} here: starting with the defaults; add Jira sites and \
                 connections in the admin page"
            );
            NodeConfig::defaults()
        }
    };
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
    let mut signals = Signals::new()?;
    signals.next().await;
    let grace = running.node.config.node.stop_grace_secs;
    println!("stopping: letting events in hand finish (up to {grace}s; a second signal stops now)");
    tokio::select! {
        stopped = running.stop() => {
            if stopped.drained {
                println!("stopped; queued events resume at the next start");
            } else {
                println!(
                    "stopped at the deadline; {} unfinished event(s) are back in the queue",
                    stopped.requeued
                );
            }
        }
        _ = signals.next() => {
            println!("stopped at once; events that were running resume at the next start");
        }
    }
    Ok(())
}

/// The signals that stop a node: SIGTERM (service managers, `kill`) and Ctrl-C.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Self, NodeError> {
        Ok(Signals {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| NodeError::Other(format!("cannot listen for SIGTERM: {e}")))?,
        })
    }

    /// The next SIGTERM or Ctrl-C.
    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
