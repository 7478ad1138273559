//! A running simulator's handle: its address and credentials, direct access to its state,
//! faults, the request log and webhook deliveries.

use std::sync::MutexGuard;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::model::{self, User, UserId};
use crate::server;
use crate::{ApiError, Counter, Delivery, FaultConfig, Flavour, RequestRecord, SimError, State};

/// A running simulator. Dropping it stops the server.
pub struct SimHandle {
    pub(crate) app: server::App,
    pub(crate) url: String,
    pub(crate) login: String,
    pub(crate) token: String,
    pub(crate) shutdown: Option<oneshot::Sender<()>>,
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
