//! The Jira simulator: Cloud v3 and Data Center v2 from memory, over real HTTP.
//!
//! It writes Jira's JSON shapes itself and shares no types with the Jira client, so a wrong
//! shape cannot hide on both sides. Start one in-process with [`Simulator::start`], or from the
//! command line with [`run_cli`].

#![warn(missing_docs)]

mod adf;
mod cli;
mod control;
mod error;
mod faults;
mod fields;
mod handle;
mod input;
mod jql;
mod model;
mod render;
mod reqlog;
mod request;
mod routes_attachment;
mod routes_comment;
mod routes_issue;
mod routes_meta;
mod routes_remote_link;
mod routes_search;
mod routes_webhook;
mod routes_worklog;
mod seed;
mod server;
mod state;
mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

pub use cli::{SimArgs, run_cli};
pub use error::{ApiError, SimError};
pub use faults::{FaultConfig, RateLimits};
pub use handle::SimHandle;
pub use model::{CustomKind, Flavour, Issue, User, UserId};
pub use reqlog::{Counter, RequestRecord};
pub use seed::{Seed, SeedComment, SeedIssue, SeedProject};
pub use state::State;
pub use webhooks::{Delivery, RetryPolicy};

/// Options for an in-process simulator.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Which Jira to simulate.
    pub flavour: Flavour,
    /// Where to listen; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Administrator login (email on Cloud, name on DC); the seed's first user keeps its own when `None`.
    pub user: Option<String>,
    /// Administrator token; the seed's first user keeps its own when `None`.
    pub token: Option<String>,
    /// `None` = the default seed.
    pub seed: Option<Seed>,
    /// Faults to start with.
    pub faults: FaultConfig,
    /// How failed webhook deliveries are retried.
    pub webhook_retry: RetryPolicy,
    /// Serve repeated GETs of an unchanged issue from a cache (on by default).
    pub render_cache: bool,
    /// Extra certificates (DER) webhook deliveries to https URLs trust, as a Jira site's
    /// admin adds a private CA; the system's roots are trusted as well.
    pub webhook_roots: Vec<Vec<u8>>,
}

impl SimOptions {
    /// Defaults for `flavour`: loopback on a free port, the default seed, no faults.
    pub fn new(flavour: Flavour) -> SimOptions {
        SimOptions {
            flavour,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            user: None,
            token: None,
            seed: None,
            faults: FaultConfig::default(),
            webhook_retry: RetryPolicy {
                max_retries: 5,
                base_delay: Duration::from_secs(1),
            },
            render_cache: true,
            webhook_roots: Vec::new(),
        }
    }
    /// Defaults for a Jira Cloud.
    pub fn cloud() -> SimOptions {
        Self::new(Flavour::Cloud)
    }
    /// Defaults for a Jira Data Center.
    pub fn dc() -> SimOptions {
        Self::new(Flavour::DataCenter)
    }
}

/// Starts simulators.
pub struct Simulator;

impl Simulator {
    /// Binds `opts.addr` and serves on the current tokio runtime until the handle is dropped.
    pub async fn start(opts: SimOptions) -> Result<SimHandle, SimError> {
        let listener = tokio::net::TcpListener::bind(opts.addr)
            .await
            .map_err(|source| SimError::Bind {
                addr: opts.addr.to_string(),
                source,
            })?;
        let local = listener.local_addr().map_err(|source| SimError::Bind {
            addr: opts.addr.to_string(),
            source,
        })?;
        let host = if local.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            local.ip().to_string()
        };
        let url = format!("http://{host}:{}", local.port());
        let mut seed = opts.seed.unwrap_or_default();
        if let Some(admin) = seed.users.first_mut() {
            if let Some(u) = &opts.user {
                match opts.flavour {
                    Flavour::Cloud => admin.email = u.clone(),
                    Flavour::DataCenter => admin.name = u.clone(),
                }
            }
            if let Some(t) = &opts.token {
                admin.token = Some(t.clone());
            }
        }
        let state = State::new(opts.flavour, url.clone(), seed)?;
        let (login, token) = state
            .users
            .first()
            .map(|u| {
                let login = match opts.flavour {
                    Flavour::Cloud => u.email.clone(),
                    Flavour::DataCenter => u.name.clone(),
                };
                (login, u.token.clone().unwrap_or_default())
            })
            .unwrap_or_default();
        let faults = Arc::new(faults::Faults::new(opts.faults));
        let dispatcher =
            webhooks::Dispatcher::start(faults.clone(), opts.webhook_retry, &opts.webhook_roots)?;
        let shared = Arc::new(server::Shared {
            flavour: opts.flavour,
            state: Mutex::new(state),
            faults: faults.clone(),
            log: reqlog::RequestLog::default(),
            webhooks: dispatcher,
            started: Instant::now(),
            generation: std::sync::atomic::AtomicU64::new(0),
            render_cache: opts
                .render_cache
                .then(|| Mutex::new(std::collections::HashMap::new())),
        });
        let router = server::router(shared.clone());
        // Small responses must not wait for delayed ACKs.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
        });
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "simulator stopped");
            }
        });
        tracing::info!(%url, flavour = ?opts.flavour, "Jira simulator listening");
        Ok(SimHandle {
            app: shared,
            url,
            login,
            token,
            shutdown: Some(tx),
        })
    }
}
