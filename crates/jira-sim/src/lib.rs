//! The Jira simulator: Cloud v3 and Data Center v2 from memory, over real HTTP.
//!
//! It writes Jira's JSON shapes itself and shares no types with the Jira client, so a wrong
//! shape cannot hide on both sides. Start one in-process with [`Simulator::start`], or from the
//! command line with [`run_cli`].

#![warn(missing_docs)]

mod adf;
mod control;
mod error;
mod faults;
mod fields;
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
mod routes_search;
mod routes_webhook;
mod seed;
mod server;
mod state;
mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

pub use error::{ApiError, SimError};
pub use faults::{FaultConfig, RateLimits};
pub use model::{CustomKind, Flavour, Issue, User, UserId};
pub use reqlog::{Counter, RequestRecord};
pub use seed::{Seed, SeedComment, SeedIssue, SeedProject};
pub use state::State;
pub use webhooks::{Delivery, RetryPolicy};

/// `twinsync sim` options.
#[derive(clap::Args, Debug, Clone)]
pub struct SimArgs {
    /// Which Jira to simulate.
    #[arg(long, value_enum, default_value_t = Flavour::Cloud)]
    pub flavour: Flavour,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8081)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Administrator login: email on Cloud, user name on DC.
    #[arg(long)]
    pub user: Option<String>,
    /// Administrator API token (Cloud) or personal access token (DC).
    #[arg(long)]
    pub token: Option<String>,
    /// JSON seed file replacing the default projects, users, workflow and issues.
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Faults to start with, e.g. `rate-limit,error-next=3,latency=20ms,webhook-drop-next=1`.
    #[arg(long)]
    pub faults: Option<String>,
}

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

/// A running simulator. Dropping it stops the server.
pub struct SimHandle {
    app: server::App,
    url: String,
    login: String,
    token: String,
    shutdown: Option<oneshot::Sender<()>>,
}

fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl SimHandle {
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }
    /// Which Jira this simulates.
    pub fn flavour(&self) -> Flavour {
        self.app.flavour
    }
    /// The REST base the flavour's client uses: `/rest/api/3` on Cloud, `/rest/api/2` on DC.
    pub fn api_base(&self) -> String {
        match self.app.flavour {
            Flavour::Cloud => format!("{}/rest/api/3", self.url),
            Flavour::DataCenter => format!("{}/rest/api/2", self.url),
        }
    }
    /// Administrator login: email on Cloud, user name on DC.
    pub fn user(&self) -> &str {
        &self.login
    }
    /// Administrator API token (Cloud) or PAT (DC).
    pub fn token(&self) -> &str {
        &self.token
    }
    /// The `Authorization` header value for the administrator.
    pub fn auth_header(&self) -> String {
        match self.app.flavour {
            Flavour::Cloud => format!(
                "Basic {}",
                b64(format!("{}:{}", self.login, self.token).as_bytes())
            ),
            Flavour::DataCenter => format!("Bearer {}", self.token),
        }
    }
    /// An `Authorization` header for any user with a token.
    pub fn auth_header_for(&self, user: UserId) -> Option<String> {
        let st = self.app.lock();
        let u = st.users.get(user)?;
        let t = u.token.clone()?;
        Some(match self.app.flavour {
            Flavour::Cloud => format!("Basic {}", b64(format!("{}:{t}", u.email).as_bytes())),
            Flavour::DataCenter => format!("Bearer {t}"),
        })
    }

    /// Direct, read-mostly access to the state. Changes made here raise no webhooks; use [`Self::with_state`].
    pub fn state(&self) -> MutexGuard<'_, State> {
        // The caller may change anything: cached renders are no longer trusted.
        self.app.bump();
        self.app.lock()
    }
    /// Runs a change on the state and delivers the webhooks it raises.
    pub fn with_state<T>(
        &self,
        f: impl FnOnce(&mut State) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.app.mutate(f)
    }
    /// Creates an issue as the administrator; returns its key.
    pub fn create_issue(
        &self,
        project: &str,
        issue_type: &str,
        summary: &str,
    ) -> Result<String, ApiError> {
        let mut fields = serde_json::Map::new();
        fields.insert("project".into(), serde_json::json!({"key": project}));
        fields.insert("issuetype".into(), serde_json::json!({"name": issue_type}));
        fields.insert("summary".into(), serde_json::json!(summary));
        let flavour = self.app.flavour;
        self.app.mutate(|st| {
            let id = st.create_issue(0, model::Api { flavour, v3: false }, &fields, None)?;
            Ok(st
                .issues
                .get(&id)
                .map(|i| i.key.clone())
                .unwrap_or_default())
        })
    }
    /// Adds a user who can log in with `token`; returns its id.
    pub fn add_user(&self, name: &str, display_name: &str, token: &str) -> UserId {
        self.app.bump();
        let mut st = self.app.lock();
        let n = st.users.len();
        st.add_user(User {
            account_id: format!("5f1a2b3c4d5e6f70819{:05}", n),
            name: name.into(),
            key: format!("JIRAUSER{}", 10000 + n),
            email: format!("{name}@example.com"),
            display_name: display_name.into(),
            active: true,
            token: Some(token.into()),
            groups: vec!["jira-software-users".into()],
        })
    }
    /// Adds a project using the first workflow and every issue type; returns its id.
    pub fn add_project(&self, key: &str, name: &str) -> Result<String, ApiError> {
        self.app.bump();
        let mut st = self.app.lock();
        let types = st.issue_types.iter().map(|t| t.id.clone()).collect();
        let wf = st
            .workflows
            .first()
            .map(|w| w.name.clone())
            .unwrap_or_default();
        st.add_project(key, name, 0, types, &wf, &[])
    }

    /// The faults in force.
    pub fn faults(&self) -> FaultConfig {
        self.app.faults.get()
    }
    /// Replaces the faults from a spec string (see [`FaultConfig::parse`]).
    pub fn set_faults_spec(&self, spec: &str) -> Result<(), SimError> {
        self.app.faults.set(FaultConfig::parse(spec)?);
        Ok(())
    }
    /// Turns every fault off.
    pub fn clear_faults(&self) {
        self.app.faults.set(FaultConfig::default());
    }

    /// The request log (oldest first; the last 100,000 requests).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.app.log.entries()
    }
    /// Counts by method, route template and status.
    pub fn counters(&self) -> Vec<Counter> {
        self.app.log.counters()
    }
    /// Requests with this method whose route template contains `route_part`, any status.
    pub fn count(&self, method: &str, route_part: &str) -> u64 {
        self.app
            .log
            .counters()
            .iter()
            .filter(|c| c.method == method && c.route.contains(route_part))
            .map(|c| c.count)
            .sum()
    }
    /// Empties the request log and its counters.
    pub fn clear_log(&self) {
        self.app.log.clear();
    }

    /// Webhook delivery attempts so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.app.webhooks.deliveries()
    }
    /// Waits until `pred` holds over the deliveries or `timeout` passes; returns them either way.
    pub async fn wait_deliveries(
        &self,
        timeout: Duration,
        pred: impl Fn(&[Delivery]) -> bool,
    ) -> Vec<Delivery> {
        self.app.webhooks.wait_for(timeout, pred).await
    }
    /// Forgets the webhook deliveries so far.
    pub fn clear_deliveries(&self) {
        self.app.webhooks.clear();
    }

    /// Stops serving.
    pub fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// `twinsync sim`: serves one simulated Jira until Ctrl-C.
pub async fn run_cli(args: SimArgs) -> Result<(), SimError> {
    let ip: std::net::IpAddr = args
        .bind
        .parse()
        .map_err(|_| SimError::BindAddress(args.bind.clone()))?;
    let mut opts = SimOptions::new(args.flavour);
    opts.addr = SocketAddr::new(ip, args.port);
    opts.user = args.user;
    opts.token = args.token;
    if let Some(path) = &args.seed {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::SeedRead {
            path: path.display().to_string(),
            source,
        })?;
        opts.seed = Some(
            Seed::from_json(&text)
                .map_err(|e| SimError::Seed(format!("{}: {e}", path.display())))?,
        );
    }
    if let Some(spec) = &args.faults {
        opts.faults = FaultConfig::parse(spec)?;
    }
    let handle = Simulator::start(opts).await?;
    let (what, auth) = match handle.flavour() {
        Flavour::Cloud => (
            "Jira Cloud (REST v3 and v2)",
            format!(
                "email {}  API token {}  (Basic auth)",
                handle.user(),
                handle.token()
            ),
        ),
        Flavour::DataCenter => (
            "Jira Data Center (REST v2)",
            format!(
                "user {}  personal access token {}  (Bearer auth)",
                handle.user(),
                handle.token()
            ),
        ),
    };
    println!("Simulated {what} at {}", handle.url());
    println!("  credentials: {auth}");
    println!(
        "  control:     {}/_sim/faults, /_sim/log, /_sim/counters, /_sim/deliveries",
        handle.url()
    );
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c()
        .await
        .map_err(|source| SimError::Signal { source })?;
    handle.shutdown();
    Ok(())
}
