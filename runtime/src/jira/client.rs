//! The typed Jira client: one per instance, every call paced by the budget and retried on transient faults.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use super::budget::{Budget, BudgetConfig, Kind};
use super::error::{CallSite, JiraError, JiraMessages, TransportKind};
use super::flavour::{Auth, Flavour, Pagination, UserKey};
use super::mapping::{self, FieldCatalog, ResolvedUsers};
use super::retry::{Outcome, RetryPolicy, parse_retry_after};
use super::richtext::UserMapper;
use crate::model::{Attachment, Comment, Issue, RichText, UserRef};

/// How to reach and treat one instance.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The instance's name in logs and errors.
    pub name: String,
    /// Site root, e.g. `https://acme.atlassian.net` (no `/rest/...`).
    pub base_url: String,
    pub flavour: Flavour,
    pub auth: Auth,
    pub budget: BudgetConfig,
    pub retry: RetryPolicy,
    /// Whole-request timeout (an attachment upload included).
    pub timeout: Duration,
    pub connect_timeout: Duration,
}

impl ClientConfig {
    pub fn new(
        name: impl Into<String>,
        base_url: impl Into<String>,
        flavour: Flavour,
        auth: Auth,
    ) -> Self {
        ClientConfig {
            name: name.into(),
            base_url: base_url.into(),
            flavour,
            auth,
            budget: BudgetConfig::default(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Counters for one client, for metrics and the calls-per-operation bench.
#[derive(Debug, Default)]
pub struct Stats {
    /// HTTP requests sent, retries included.
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    /// 429 answers received.
    pub throttled: AtomicU64,
    /// Total time spent waiting for budget slots, in microseconds.
    pub budget_wait_us: AtomicU64,
}

/// A snapshot of [`Stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub requests: u64,
    pub retries: u64,
    pub throttled: u64,
    pub budget_wait_us: u64,
}

/// Bytes to upload; re-read on every attempt, so an upload can be retried.
#[derive(Debug, Clone)]
pub enum UploadSource {
    Bytes(Bytes),
    /// Streamed from disk, never held in memory whole.
    File(PathBuf),
}

/// Where a JQL search continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageCursor {
    Start,
    Token(String),
    Offset(u64),
}

/// One page of search results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub issues: Vec<Issue>,
    /// `None` on the last page.
    pub next: Option<PageCursor>,
    /// DC reports the total; Cloud's token search does not.
    pub total: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerInfo {
    pub base_url: String,
    pub version: String,
    pub deployment_type: String,
    pub title: String,
}

/// A person as this instance knows them.
#[derive(Debug, Clone, PartialEq)]
pub struct JiraUser {
    pub account_id: Option<String>,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub active: bool,
}

impl JiraUser {
    fn from_json(v: &Value) -> Option<JiraUser> {
        let u = mapping::user_from_json(v)?;
        Some(JiraUser {
            account_id: u.account_id,
            name: u.name,
            display_name: u.display_name,
            email: u.email,
            active: v.get("active").and_then(Value::as_bool).unwrap_or(true),
        })
    }

    /// The identity this flavour uses in requests.
    pub fn ident(&self, flavour: Flavour) -> Option<&str> {
        match flavour {
            Flavour::Cloud => self.account_id.as_deref(),
            Flavour::DataCenter => self.name.as_deref(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub id: String,
    pub name: String,
    pub to_status: String,
    pub to_status_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreatedIssue {
    pub id: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldInfo {
    pub id: String,
    pub name: String,
    pub custom: bool,
    /// `schema.type`: string, number, option, array, user, date...
    pub schema_type: Option<String>,
    pub custom_type: Option<String>,
}

/// A field as create/edit metadata describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMeta {
    pub id: String,
    pub name: String,
    pub required: bool,
    pub schema_type: Option<String>,
    /// Names (or values) of the allowed choices, when the field has a list.
    pub allowed_values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IssueTypeInfo {
    pub id: String,
    pub name: String,
}

/// An attachment download under way; read it in chunks or whole.
pub struct Download {
    pub filename: Option<String>,
    pub mime_type: Option<String>,
    pub size: Option<u64>,
    site: CallSite,
    resp: Response,
}

impl Download {
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, JiraError> {
        self.resp
            .chunk()
            .await
            .map_err(|e| transport_error(self.site.clone(), e))
    }

    pub async fn bytes(self) -> Result<Bytes, JiraError> {
        let site = self.site.clone();
        self.resp
            .bytes()
            .await
            .map_err(|e| transport_error(site, e))
    }

    /// Streams the bytes to a file; returns how many were written.
    pub async fn save_to(mut self, path: &std::path::Path) -> Result<u64, JiraError> {
        use tokio::io::AsyncWriteExt;
        let io = |site: &CallSite, source| JiraError::Io {
            site: site.clone(),
            source,
        };
        // Spooled attachments are the node's data: 0600.
        let mut f = crate::private_fs::create_file_async(path)
            .await
            .map_err(|e| io(&self.site, e))?;
        let mut n = 0u64;
        while let Some(c) = self.chunk().await? {
            f.write_all(&c).await.map_err(|e| io(&self.site, e))?;
            n += c.len() as u64;
        }
        f.flush().await.map_err(|e| io(&self.site, e))?;
        Ok(n)
    }
}

enum ReqBody {
    None,
    Json(Value),
    Upload {
        filename: String,
        mime: String,
        source: UploadSource,
    },
}

struct Req {
    method: Method,
    /// Relative to the API prefix unless it starts with `/` or `http`.
    path: String,
    query: Vec<(String, String)>,
    body: ReqBody,
    /// The issue a write goes to, for the per-issue write windows.
    issue: Option<String>,
}

impl Req {
    fn new(method: Method, path: impl Into<String>) -> Req {
        Req {
            method,
            path: path.into(),
            query: Vec::new(),
            body: ReqBody::None,
            issue: None,
        }
    }
    fn query(mut self, k: &str, v: impl Into<String>) -> Req {
        self.query.push((k.to_string(), v.into()));
        self
    }
    fn json(mut self, v: Value) -> Req {
        self.body = ReqBody::Json(v);
        self
    }
    fn issue(mut self, key: &str) -> Req {
        self.issue = Some(key.to_string());
        self
    }
}

struct Inner {
    cfg: ClientConfig,
    base: String,
    http: reqwest::Client,
    budget: Budget,
    stats: Stats,
}

/// The client for one Jira instance; cheap to clone, share it between tasks.
#[derive(Clone)]
pub struct JiraClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for JiraClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraClient")
            .field("name", &self.inner.cfg.name)
            .field("base", &self.inner.base)
            .field("flavour", &self.inner.cfg.flavour)
            .finish()
    }
}

/// Where the client may follow a redirect: Jira Cloud sends an attachment's bytes from its
/// media host, so another host is allowed (reqwest drops the `Authorization` header on any
/// change of host, port or scheme, so credentials never follow), but another scheme never
/// (no https to http downgrade), and only a few hops.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first_scheme = attempt.previous().first().map(|u| u.scheme().to_string());
        if first_scheme.is_some_and(|s| s != attempt.url().scheme()) {
            let to = attempt.url().to_string();
            return attempt.error(format!("refused a redirect to another scheme: {to}"));
        }
        if attempt.previous().len() > 3 {
            return attempt.error("refused more than 3 redirects");
        }
        attempt.follow()
    })
}

/// Whether two URLs share scheme, host and port: credentials go to the configured site only.
fn same_origin(a: &str, b: &str) -> bool {
    match (reqwest::Url::parse(a), reqwest::Url::parse(b)) {
        (Ok(a), Ok(b)) => {
            a.scheme() == b.scheme()
                && a.host_str() == b.host_str()
                && a.port_or_known_default() == b.port_or_known_default()
        }
        _ => false,
    }
}

/// An error with its causes: reqwest's own message hides the policy's reason.
fn error_text(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn transport_error(site: CallSite, e: reqwest::Error) -> JiraError {
    if e.is_redirect() {
        // A refused redirect is the site's answer, not a passing fault: retrying cannot help.
        return JiraError::Config {
            instance: site.instance.clone(),
            reason: format!("{} {}: {}", site.method, site.path, error_text(&e)),
        };
    }
    let kind = if e.is_timeout() {
        TransportKind::Timeout
    } else if e.is_connect() {
        TransportKind::Connect
    } else {
        TransportKind::Other
    };
    JiraError::Transport {
        site,
        kind,
        source: e,
    }
}

fn enc(segment: &str) -> String {
    // Issue keys, ids and account ids are URL-safe except for the odd ':' or space.
    let mut out = String::new();
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl JiraClient {
    pub fn new(cfg: ClientConfig) -> Result<JiraClient, JiraError> {
        let bad = |reason: String| JiraError::Config {
            instance: cfg.name.clone(),
            reason,
        };
        let base = cfg.base_url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(bad(format!("base URL '{base}' is not http(s)")));
        }
        // The process may have installed a provider already; either way ring serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut headers = HeaderMap::new();
        headers.insert("Accept", HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .user_agent(concat!("twinsync/", env!("CARGO_PKG_VERSION")))
            .redirect(redirect_policy())
            .build()
            .map_err(|e| bad(format!("cannot build the HTTP client: {e}")))?;
        Ok(JiraClient {
            inner: Arc::new(Inner {
                budget: Budget::new(cfg.budget.clone()),
                base,
                http,
                stats: Stats::default(),
                cfg,
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.inner.cfg.name
    }

    pub fn flavour(&self) -> Flavour {
        self.inner.cfg.flavour
    }

    pub fn budget(&self) -> &Budget {
        &self.inner.budget
    }

    pub fn stats(&self) -> StatsSnapshot {
        let s = &self.inner.stats;
        StatsSnapshot {
            requests: s.requests.load(Ordering::Relaxed),
            retries: s.retries.load(Ordering::Relaxed),
            throttled: s.throttled.load(Ordering::Relaxed),
            budget_wait_us: s.budget_wait_us.load(Ordering::Relaxed),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else if path.starts_with('/') {
            format!("{}{path}", self.inner.base)
        } else {
            format!("{}{}/{path}", self.inner.base, self.flavour().api_prefix())
        }
    }

    fn site(&self, method: &Method, url: &str) -> CallSite {
        let path = url
            .strip_prefix(&self.inner.base)
            .unwrap_or(url)
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        CallSite {
            instance: self.inner.cfg.name.clone(),
            method: method.to_string(),
            path,
        }
    }

    async fn build(
        &self,
        req: &Req,
        url: &str,
        site: &CallSite,
    ) -> Result<reqwest::RequestBuilder, JiraError> {
        let mut rb = self.inner.http.request(req.method.clone(), url);
        rb = self.inner.cfg.auth.apply(rb);
        if !req.query.is_empty() {
            rb = rb.query(&req.query);
        }
        Ok(match &req.body {
            ReqBody::None => rb,
            ReqBody::Json(v) => rb.json(v),
            ReqBody::Upload {
                filename,
                mime,
                source,
            } => {
                let part = match source {
                    UploadSource::Bytes(b) => reqwest::multipart::Part::bytes(b.to_vec()),
                    UploadSource::File(p) => {
                        let io = |source| JiraError::Io {
                            site: site.clone(),
                            source,
                        };
                        let file = tokio::fs::File::open(p).await.map_err(io)?;
                        let len = file.metadata().await.map_err(io)?.len();
                        reqwest::multipart::Part::stream_with_length(file, len)
                    }
                };
                let part = part
                    .file_name(filename.clone())
                    .mime_str(mime)
                    .map_err(|e| JiraError::Config {
                        instance: site.instance.clone(),
                        reason: format!("bad MIME type '{mime}': {e}"),
                    })?;
                let form = reqwest::multipart::Form::new().part("file", part);
                // Jira refuses multipart posts without this (XSRF check).
                rb.header("X-Atlassian-Token", "no-check").multipart(form)
            }
        })
    }

    /// Sends a request through the budget, retrying transient faults; error statuses become [`JiraError::Api`].
    async fn send(&self, req: Req) -> Result<Response, JiraError> {
        let url = self.url(&req.path);
        let site = self.site(&req.method, &url);
        let kind = if req.method == Method::GET || req.method == Method::HEAD {
            Kind::Read
        } else {
            Kind::Write
        };
        let policy = &self.inner.cfg.retry;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let permit = self.inner.budget.acquire(kind, req.issue.as_deref()).await;
            self.inner
                .stats
                .budget_wait_us
                .fetch_add(permit.waited.as_micros() as u64, Ordering::Relaxed);
            let rb = self.build(&req, &url, &site).await?;
            self.inner.stats.requests.fetch_add(1, Ordering::Relaxed);
            let result = rb.send().await;
            drop(permit);
            let (outcome, err) = match result {
                Ok(resp) => {
                    let h = resp.headers();
                    if h.get("X-RateLimit-NearLimit")
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
                    {
                        tracing::debug!(instance = %site.instance, "Jira is near its rate limit; slowing down");
                        self.inner.budget.near_limit();
                    }
                    let status = resp.status();
                    if status.is_success() || status.is_redirection() {
                        return Ok(resp);
                    }
                    let retry_after = h
                        .get("Retry-After")
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_retry_after);
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        self.inner.stats.throttled.fetch_add(1, Ordering::Relaxed);
                    }
                    let body = resp.text().await.unwrap_or_default();
                    let err = JiraError::Api {
                        site: site.clone(),
                        status: status.as_u16(),
                        messages: Box::new(JiraMessages::parse(&body)),
                        retry_after,
                    };
                    (
                        Outcome::Status {
                            status: status.as_u16(),
                            retry_after,
                        },
                        err,
                    )
                }
                Err(e) => {
                    let err = transport_error(site.clone(), e);
                    let JiraError::Transport { kind, .. } = &err else {
                        return Err(err);
                    };
                    (Outcome::Transport(*kind), err)
                }
            };
            match policy.next_wait(&req.method, outcome, attempt) {
                Some(wait) => {
                    tracing::warn!(instance = %site.instance, method = %site.method, path = %site.path,
                        attempt, wait_ms = wait.as_millis() as u64, error = %err, "transient Jira fault; retrying");
                    self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
                    if let Outcome::Status { status: 429, .. } = outcome {
                        // The limit is the site's, not this call's: hold every caller.
                        self.inner.budget.pause_for(wait);
                    } else {
                        tokio::time::sleep(wait).await;
                    }
                }
                None => {
                    let transient = err.is_transient();
                    if transient && attempt > 1 {
                        return Err(JiraError::Exhausted {
                            site,
                            attempts: attempt,
                            last: Box::new(err),
                        });
                    }
                    return Err(err);
                }
            }
        }
    }

    async fn json(&self, req: Req) -> Result<Value, JiraError> {
        let url = self.url(&req.path);
        let site = self.site(&req.method, &url);
        let resp = self.send(req).await?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| transport_error(site.clone(), e))?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| JiraError::Decode {
            site,
            status,
            reason: format!("not JSON: {e}"),
        })
    }

    fn decode_err(&self, method: &Method, path: &str, reason: impl Into<String>) -> JiraError {
        let url = self.url(path);
        JiraError::Decode {
            site: self.site(method, &url),
            status: 200,
            reason: reason.into(),
        }
    }

    // ------------------------------------------------------------ instance

    pub async fn server_info(&self) -> Result<ServerInfo, JiraError> {
        let v = self.json(Req::new(Method::GET, "serverInfo")).await?;
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Ok(ServerInfo {
            base_url: s("baseUrl"),
            version: s("version"),
            deployment_type: s("deploymentType"),
            title: s("serverTitle"),
        })
    }

    pub async fn myself(&self) -> Result<JiraUser, JiraError> {
        let v = self.json(Req::new(Method::GET, "myself")).await?;
        JiraUser::from_json(&v)
            .ok_or_else(|| self.decode_err(&Method::GET, "myself", "no user object"))
    }

    // ------------------------------------------------------------ issues

    /// The raw issue JSON, with `names` and `schema` expanded for the mapping.
    pub async fn get_issue_json(
        &self,
        key: &str,
        fields: Option<&str>,
    ) -> Result<Value, JiraError> {
        let mut r =
            Req::new(Method::GET, format!("issue/{}", enc(key))).query("expand", "names,schema");
        if let Some(f) = fields {
            r = r.query("fields", f);
        }
        self.json(r).await
    }

    /// An issue with all its comments (fetching further comment pages when Jira cut the embedded list short).
    pub async fn get_issue(&self, key: &str) -> Result<Issue, JiraError> {
        let v = self.get_issue_json(key, None).await?;
        let mut issue = mapping::issue_from_json(&v);
        let c = &v["fields"]["comment"];
        let total = c["total"].as_u64().unwrap_or(0) as usize;
        if total > issue.comments.len() {
            issue.comments = self.comments(key).await?;
        }
        Ok(issue)
    }

    pub async fn create_issue(&self, body: Value) -> Result<CreatedIssue, JiraError> {
        let v = self
            .json(Req::new(Method::POST, "issue").json(body))
            .await?;
        match (v["id"].as_str(), v["key"].as_str()) {
            (Some(id), Some(key)) => Ok(CreatedIssue {
                id: id.to_string(),
                key: key.to_string(),
            }),
            _ => Err(self.decode_err(&Method::POST, "issue", "no id/key in the answer")),
        }
    }

    /// `PUT issue/{key}` with a body from [`mapping::edit_request`].
    pub async fn edit_issue(&self, key: &str, body: Value) -> Result<(), JiraError> {
        let r = Req::new(Method::PUT, format!("issue/{}", enc(key)))
            .json(body)
            .issue(key);
        self.send(r).await.map(drop)
    }

    /// An issue entity property's value, or `None` if the issue has no such property.
    pub async fn issue_property(
        &self,
        key: &str,
        property: &str,
    ) -> Result<Option<Value>, JiraError> {
        let r = Req::new(
            Method::GET,
            format!("issue/{}/properties/{}", enc(key), enc(property)),
        );
        match self.json(r).await {
            Ok(v) => Ok(Some(v["value"].clone())),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn delete_issue(&self, key: &str) -> Result<(), JiraError> {
        let r = Req::new(Method::DELETE, format!("issue/{}", enc(key))).issue(key);
        self.send(r).await.map(drop)
    }

    pub async fn transitions(&self, key: &str) -> Result<Vec<Transition>, JiraError> {
        let v = self
            .json(Req::new(
                Method::GET,
                format!("issue/{}/transitions", enc(key)),
            ))
            .await?;
        Ok(v["transitions"]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .map(|t| Transition {
                        id: t["id"].as_str().unwrap_or_default().to_string(),
                        name: t["name"].as_str().unwrap_or_default().to_string(),
                        to_status: t["to"]["name"].as_str().unwrap_or_default().to_string(),
                        to_status_id: t["to"]["id"].as_str().unwrap_or_default().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Performs a transition; `fields` are the transition screen's fields, if it needs any.
    pub async fn transition(
        &self,
        key: &str,
        transition_id: &str,
        fields: Option<Value>,
    ) -> Result<(), JiraError> {
        let mut body = json!({ "transition": { "id": transition_id } });
        if let Some(f) = fields {
            body["fields"] = f;
        }
        let r = Req::new(Method::POST, format!("issue/{}/transitions", enc(key)))
            .json(body)
            .issue(key);
        self.send(r).await.map(drop)
    }

    // ------------------------------------------------------------ comments

    /// Every comment of an issue, oldest first, across pages.
    pub async fn comments(&self, key: &str) -> Result<Vec<Comment>, JiraError> {
        let mut out = Vec::new();
        let mut start = 0u64;
        loop {
            let r = Req::new(Method::GET, format!("issue/{}/comment", enc(key)))
                .query("startAt", start.to_string())
                .query("maxResults", "100")
                .query("expand", "properties");
            let v = self.json(r).await?;
            let page = v["comments"].as_array().cloned().unwrap_or_default();
            let n = page.len() as u64;
            out.extend(page.iter().map(mapping::comment_from_json));
            let total = v["total"].as_u64().unwrap_or(0);
            start += n;
            if n == 0 || start >= total {
                break;
            }
        }
        Ok(out)
    }

    pub async fn add_comment(
        &self,
        key: &str,
        body: &RichText,
        internal: bool,
        users: &dyn UserMapper,
    ) -> Result<Comment, JiraError> {
        let b = mapping::comment_body(body, internal, self.flavour(), users);
        let r = Req::new(Method::POST, format!("issue/{}/comment", enc(key)))
            .query("expand", "properties")
            .json(b)
            .issue(key);
        let v = self.json(r).await?;
        Ok(mapping::comment_from_json(&v))
    }

    /// Updates a comment's body; an `internal` flag is set through the comment property JSM reads.
    pub async fn update_comment(
        &self,
        key: &str,
        id: &str,
        body: &RichText,
        internal: bool,
        users: &dyn UserMapper,
    ) -> Result<Comment, JiraError> {
        let b = mapping::comment_body(body, internal, self.flavour(), users);
        let r = Req::new(
            Method::PUT,
            format!("issue/{}/comment/{}", enc(key), enc(id)),
        )
        .query("expand", "properties")
        .json(b)
        .issue(key);
        let v = self.json(r).await?;
        Ok(mapping::comment_from_json(&v))
    }

    pub async fn delete_comment(&self, key: &str, id: &str) -> Result<(), JiraError> {
        let r = Req::new(
            Method::DELETE,
            format!("issue/{}/comment/{}", enc(key), enc(id)),
        )
        .issue(key);
        self.send(r).await.map(drop)
    }

    // ------------------------------------------------------------ attachments

    /// Uploads one file (multipart part `file`); Jira answers with the new attachments.
    pub async fn upload_attachment(
        &self,
        key: &str,
        filename: &str,
        mime_type: &str,
        source: UploadSource,
    ) -> Result<Vec<Attachment>, JiraError> {
        let mut r = Req::new(Method::POST, format!("issue/{}/attachments", enc(key))).issue(key);
        r.body = ReqBody::Upload {
            filename: filename.to_string(),
            mime: mime_type.to_string(),
            source,
        };
        let v = self.json(r).await?;
        Ok(v.as_array()
            .map(|l| l.iter().map(mapping::attachment_from_json).collect())
            .unwrap_or_default())
    }

    /// Attachment metadata, including the `content` URL.
    pub async fn attachment_json(&self, id: &str) -> Result<Value, JiraError> {
        self.json(Req::new(Method::GET, format!("attachment/{}", enc(id))))
            .await
    }

    /// Starts downloading an attachment's bytes (Cloud: by id; DC: from its `content` URL).
    pub async fn download_attachment(&self, id: &str) -> Result<Download, JiraError> {
        let (path, meta) = match self.flavour().attachment_content_path(&enc(id)) {
            Some(p) => (p, None),
            None => {
                let meta = self.attachment_json(id).await?;
                let content = meta["content"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| {
                        self.decode_err(&Method::GET, &format!("attachment/{id}"), "no content URL")
                    })?;
                // An absolute URL elsewhere would get the instance's credentials: refused.
                if content.contains("://") && !same_origin(&content, &self.inner.base) {
                    return Err(JiraError::Config {
                        instance: self.name().to_string(),
                        reason: format!(
                            "attachment {id}'s content URL {content} is not on the instance's site {}; not fetched with its credentials",
                            self.inner.base
                        ),
                    });
                }
                (content, Some(meta))
            }
        };
        let url = self.url(&path);
        let site = self.site(&Method::GET, &url);
        let resp = self.send(Req::new(Method::GET, path)).await?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let filename = meta
            .as_ref()
            .and_then(|m| m["filename"].as_str().map(str::to_string))
            .or_else(|| {
                header("Content-Disposition").and_then(|d| {
                    d.split("filename=").nth(1).map(|f| {
                        f.trim_matches(|c| c == '"' || c == ';' || c == ' ')
                            .to_string()
                    })
                })
            });
        Ok(Download {
            filename,
            mime_type: header("Content-Type"),
            size: resp.content_length(),
            site,
            resp,
        })
    }

    pub async fn delete_attachment(&self, id: &str) -> Result<(), JiraError> {
        self.send(Req::new(Method::DELETE, format!("attachment/{}", enc(id))))
            .await
            .map(drop)
    }

    // ------------------------------------------------------------ search

    /// One page of a JQL search; `fields` as Jira takes them (`*all`, `summary,status`, ...).
    pub async fn search_page(
        &self,
        jql: &str,
        fields: &str,
        cursor: &PageCursor,
        page_size: u32,
    ) -> Result<SearchPage, JiraError> {
        let fl = self.flavour();
        let mut r = Req::new(Method::GET, fl.search_path())
            .query("jql", jql)
            .query("fields", fields)
            .query("maxResults", page_size.to_string());
        match (fl.pagination(), cursor) {
            (Pagination::Token, PageCursor::Token(t)) => r = r.query("nextPageToken", t.clone()),
            (Pagination::Offset, PageCursor::Offset(n)) => r = r.query("startAt", n.to_string()),
            (Pagination::Offset, PageCursor::Start) => r = r.query("startAt", "0"),
            _ => {}
        }
        let v = self.json(r).await?;
        let raw = v["issues"].as_array().cloned().unwrap_or_default();
        let issues: Vec<Issue> = raw.iter().map(mapping::issue_from_json).collect();
        let (next, total) = match fl.pagination() {
            Pagination::Token => {
                // The last page has no token (the key is absent, not null).
                let next = v["nextPageToken"]
                    .as_str()
                    .filter(|t| !t.is_empty())
                    .map(|t| PageCursor::Token(t.to_string()));
                (next, None)
            }
            Pagination::Offset => {
                let start = v["startAt"].as_u64().unwrap_or(0);
                let total = v["total"].as_u64().unwrap_or(0);
                let end = start + raw.len() as u64;
                let next = (!raw.is_empty() && end < total).then_some(PageCursor::Offset(end));
                (next, Some(total))
            }
        };
        Ok(SearchPage {
            issues,
            next,
            total,
        })
    }

    /// Every issue a JQL query matches, up to `limit`.
    pub async fn search_all(
        &self,
        jql: &str,
        fields: &str,
        limit: usize,
    ) -> Result<Vec<Issue>, JiraError> {
        let mut out = Vec::new();
        let mut cursor = PageCursor::Start;
        loop {
            let page = self.search_page(jql, fields, &cursor, 100).await?;
            out.extend(page.issues);
            match page.next {
                Some(c) if out.len() < limit => cursor = c,
                _ => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    // ------------------------------------------------------------ fields and metadata

    pub async fn fields(&self) -> Result<Vec<FieldInfo>, JiraError> {
        let v = self.json(Req::new(Method::GET, "field")).await?;
        let list = v
            .as_array()
            .ok_or_else(|| self.decode_err(&Method::GET, "field", "not a list"))?;
        Ok(list
            .iter()
            .map(|f| FieldInfo {
                id: f["id"].as_str().unwrap_or_default().to_string(),
                name: f["name"].as_str().unwrap_or_default().to_string(),
                custom: f["custom"].as_bool().unwrap_or(false),
                schema_type: f["schema"]["type"].as_str().map(str::to_string),
                custom_type: f["schema"]["custom"].as_str().map(str::to_string),
            })
            .collect())
    }

    /// The field catalogue the mapping needs to write custom fields by name.
    pub async fn field_catalog(&self) -> Result<FieldCatalog, JiraError> {
        let fields = self.fields().await?;
        let string_lists = fields
            .iter()
            .filter(|f| {
                f.custom_type
                    .as_deref()
                    .is_some_and(|t| t.ends_with(":labels"))
            })
            .map(|f| f.id.clone())
            .collect();
        Ok(FieldCatalog {
            fields: fields.into_iter().map(|f| (f.id, f.name)).collect(),
            string_lists,
        })
    }

    /// The issue types a project can create (`createmeta/{project}/issuetypes`).
    pub async fn create_meta_issue_types(
        &self,
        project: &str,
    ) -> Result<Vec<IssueTypeInfo>, JiraError> {
        let v = self
            .json(Req::new(
                Method::GET,
                format!("issue/createmeta/{}/issuetypes", enc(project)),
            ))
            .await?;
        // Cloud answers `issueTypes`, DC `values`.
        let list = v["issueTypes"]
            .as_array()
            .or_else(|| v["values"].as_array());
        Ok(list
            .map(|l| {
                l.iter()
                    .map(|t| IssueTypeInfo {
                        id: t["id"].as_str().unwrap_or_default().to_string(),
                        name: t["name"].as_str().unwrap_or_default().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The fields of a create screen (`createmeta/{project}/issuetypes/{id}`).
    pub async fn create_meta(
        &self,
        project: &str,
        issue_type_id: &str,
    ) -> Result<Vec<FieldMeta>, JiraError> {
        let v = self
            .json(Req::new(
                Method::GET,
                format!(
                    "issue/createmeta/{}/issuetypes/{}",
                    enc(project),
                    enc(issue_type_id)
                ),
            ))
            .await?;
        // Cloud answers `fields`, DC `values`.
        let list = v["fields"].as_array().or_else(|| v["values"].as_array());
        Ok(list
            .map(|l| {
                l.iter()
                    .map(|f| field_meta(f["fieldId"].as_str().or(f["key"].as_str()), f))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The fields an issue's edit screen offers.
    pub async fn edit_meta(&self, key: &str) -> Result<Vec<FieldMeta>, JiraError> {
        let v = self
            .json(Req::new(
                Method::GET,
                format!("issue/{}/editmeta", enc(key)),
            ))
            .await?;
        Ok(v["fields"]
            .as_object()
            .map(|m| m.iter().map(|(id, f)| field_meta(Some(id), f)).collect())
            .unwrap_or_default())
    }

    // ------------------------------------------------------------ users

    /// The user with this email (Cloud shows emails only where the user allows it).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<JiraUser>, JiraError> {
        let r =
            Req::new(Method::GET, "user/search").query(self.flavour().user_search_param(), email);
        let v = self.json(r).await?;
        let list: Vec<JiraUser> = v
            .as_array()
            .map(|l| l.iter().filter_map(JiraUser::from_json).collect())
            .unwrap_or_default();
        let exact = list
            .iter()
            .find(|u| {
                u.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .cloned();
        // A lone answer to an email query is that user even when the email is hidden.
        Ok(exact.or_else(|| (list.len() == 1).then(|| list[0].clone())))
    }

    pub async fn user_by_account_id(
        &self,
        account_id: &str,
    ) -> Result<Option<JiraUser>, JiraError> {
        self.user_query("accountId", account_id).await
    }

    /// A DC user by username; Cloud has no usernames (GDPR), so there it finds nobody.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<JiraUser>, JiraError> {
        match self.flavour().user_key() {
            UserKey::Username => self.user_query("username", username).await,
            UserKey::AccountId => Ok(None),
        }
    }

    async fn user_query(&self, param: &str, value: &str) -> Result<Option<JiraUser>, JiraError> {
        match self
            .json(Req::new(Method::GET, "user").query(param, value))
            .await
        {
            Ok(v) => Ok(JiraUser::from_json(&v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Finds a user by whatever the reference gives.
    pub async fn find_user(&self, r: &UserRef) -> Result<Option<JiraUser>, JiraError> {
        match r {
            UserRef::Email(e) => self.user_by_email(e).await,
            UserRef::AccountId(a) => match self.flavour() {
                Flavour::Cloud => self.user_by_account_id(a).await,
                // DC has no account ids: a foreign one cannot name a local user.
                Flavour::DataCenter => Ok(None),
            },
            UserRef::Name(n) => self.user_by_username(n).await,
        }
    }

    /// Resolves user refs to this flavour's identity; refs with no match are left out.
    pub async fn resolve_users(&self, refs: &[UserRef]) -> Result<ResolvedUsers, JiraError> {
        let mut out = ResolvedUsers::new();
        for r in refs {
            if let Some(u) = self.find_user(r).await?
                && let Some(id) = u.ident(self.flavour())
            {
                out.insert(r.clone(), id.to_string());
            }
        }
        Ok(out)
    }
}

fn field_meta(id: Option<&str>, f: &Value) -> FieldMeta {
    FieldMeta {
        id: id.unwrap_or_default().to_string(),
        name: f["name"].as_str().unwrap_or_default().to_string(),
        required: f["required"].as_bool().unwrap_or(false),
        schema_type: f["schema"]["type"].as_str().map(str::to_string),
        allowed_values: f["allowedValues"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|a| {
                        a["name"]
                            .as_str()
                            .or(a["value"].as_str())
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_sites() {
        let c = JiraClient::new(ClientConfig::new(
            "acme",
            "http://localhost:1/",
            Flavour::Cloud,
            Auth::cloud("a@b.c", "t"),
        ))
        .unwrap();
        assert_eq!(
            c.url("issue/A-1"),
            "http://localhost:1/rest/api/3/issue/A-1"
        );
        assert_eq!(
            c.url("/secure/attachment/1/x"),
            "http://localhost:1/secure/attachment/1/x"
        );
        let s = c.site(
            &Method::GET,
            "http://localhost:1/rest/api/3/search/jql?jql=secret",
        );
        assert_eq!(s.path, "/rest/api/3/search/jql");
        assert_eq!(enc("accountid:5b/1 x"), "accountid%3A5b%2F1%20x");
        assert!(
            JiraClient::new(ClientConfig::new(
                "x",
                "ftp://h",
                Flavour::Cloud,
                Auth::pat("t")
            ))
            .is_err()
        );
    }
}
