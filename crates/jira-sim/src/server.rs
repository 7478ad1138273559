//! The HTTP server: shared app state, request extractors (auth, dialect, body), router and middleware.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::body::{Body as AxBody, Bytes};
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, request::Parts};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use super::faults::{Faults, Verdict};
use super::model::{Api, Flavour, UserId};
use super::reqlog::RequestLog;
use super::state::State;
use super::webhooks::Dispatcher;
use super::{
    control, routes_attachment, routes_comment, routes_issue, routes_meta, routes_remote_link,
    routes_search, routes_webhook, routes_worklog,
};

/// Rendered bodies by (version and path, query), with the generation they were rendered at.
pub type RenderCache = HashMap<(String, String), (u64, Bytes)>;

/// Everything a request handler can reach.
pub struct Shared {
    pub flavour: Flavour,
    pub state: Mutex<State>,
    pub faults: Arc<Faults>,
    pub log: RequestLog,
    pub webhooks: Dispatcher,
    pub started: Instant,
    /// Bumped on every change that could alter a rendered answer.
    pub generation: AtomicU64,
    /// Rendered issue GETs, valid for one generation; `None` = caching off.
    pub render_cache: Option<Mutex<RenderCache>>,
}

pub type App = Arc<Shared>;

impl Shared {
    /// Locks the state; a poisoned lock is recovered since every change is applied whole.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Invalidates cached renders.
    pub fn bump(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// A cached answer for `key` rendered in the current generation.
    pub fn cached(&self, key: &(String, String)) -> Option<Bytes> {
        let cache = self
            .render_cache
            .as_ref()?
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let current = self.generation.load(Ordering::Acquire);
        cache
            .get(key)
            .filter(|(g, _)| *g == current)
            .map(|(_, b)| b.clone())
    }

    /// Remembers an answer rendered at `generation`.
    pub fn remember(&self, key: (String, String), generation: u64, body: Bytes) {
        if let Some(c) = &self.render_cache {
            let mut cache = c.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(key, (generation, body));
        }
    }

    /// Runs a change and hands the webhook events it raised to the dispatcher.
    pub fn mutate<T>(
        &self,
        f: impl FnOnce(&mut State) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut st = self.lock();
        let out = f(&mut st);
        self.bump();
        let events = std::mem::take(&mut st.events);
        let jobs = if events.is_empty() {
            Vec::new()
        } else {
            super::webhooks::jobs_for(&st, events)
        };
        drop(st);
        self.webhooks.send(jobs);
        out
    }
}

/// The request path before nesting stripped a prefix; set by the outermost middleware.
#[derive(Clone)]
pub struct FullPath(pub String);

fn full_path(parts: &Parts) -> &str {
    parts
        .extensions
        .get::<FullPath>()
        .map(|p| p.0.as_str())
        .unwrap_or_else(|| parts.uri.path())
}

/// An authenticated request: who, and in which REST dialect.
pub struct Ctx {
    pub app: App,
    pub api: Api,
    pub user: UserId,
}

fn api_of(flavour: Flavour, path: &str) -> Api {
    Api {
        flavour,
        v3: path.starts_with("/rest/api/3/"),
    }
}

fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        buf = (buf << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Resolves the `Authorization` header the way the flavour does.
pub fn authenticate(st: &State, headers: &HeaderMap) -> Option<UserId> {
    let h = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, cred) = h.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = String::from_utf8(b64_decode(cred.trim())?).ok()?;
        let (who, secret) = raw.split_once(':')?;
        st.users.iter().position(|u| {
            let id_ok = match st.flavour {
                Flavour::Cloud => u.email.eq_ignore_ascii_case(who),
                Flavour::DataCenter => u.name == who,
            };
            id_ok && u.active && u.token.as_deref() == Some(secret)
        })
    } else if scheme.eq_ignore_ascii_case("bearer") && st.flavour == Flavour::DataCenter {
        let t = cred.trim();
        st.users
            .iter()
            .position(|u| u.active && u.token.as_deref() == Some(t))
    } else {
        None
    }
}

impl FromRequestParts<App> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let api = api_of(app.flavour, full_path(parts));
        let user = authenticate(&app.lock(), &parts.headers);
        match user {
            Some(user) => Ok(Ctx {
                app: app.clone(),
                api,
                user,
            }),
            None => {
                let mut r = ApiError::unauthorized().into_response();
                let h = r.headers_mut();
                h.insert(
                    "WWW-Authenticate",
                    HeaderValue::from_static("Basic realm=\"protected-area\""),
                );
                h.insert(
                    "X-Seraph-LoginReason",
                    HeaderValue::from_static("AUTHENTICATED_FAILED"),
                );
                Err(r)
            }
        }
    }
}

/// The request's REST dialect, for endpoints that need no login.
pub struct Dialect(pub Api);

impl FromRequestParts<App> for Dialect {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        Ok(Dialect(api_of(app.flavour, full_path(parts))))
    }
}

/// A JSON body; malformed JSON is Jira's 400, not axum's 422.
pub struct Body(pub Value);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("Cannot read the request body: {e}")))?;
        if bytes.is_empty() {
            return Ok(Body(Value::Null));
        }
        serde_json::from_slice(&bytes).map(Body).map_err(|e| {
            ApiError::bad_request(format!("Unexpected character in the JSON body: {e}"))
        })
    }
}

/// Query parameters, repeated keys kept.
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
    }
    pub fn all<'a>(&'a self, k: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(a, _)| a == k)
            .map(|(_, v)| v.as_str())
    }
    /// A non-negative integer parameter; junk is Jira's 400.
    pub fn num(&self, k: &str, default: usize) -> Result<usize, ApiError> {
        match self.get(k) {
            None | Some("") => Ok(default),
            Some(v) => v.parse::<i64>().map(|n| n.max(0) as usize).map_err(|_| {
                ApiError::bad_request(format!("The '{k}' parameter must be a number."))
            }),
        }
    }
    pub fn flag(&self, k: &str) -> bool {
        self.get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|q| Params(q.0))
            .map_err(|e| ApiError::bad_request(format!("Invalid query string: {e}")))
    }
}

/// The route template a request matched, passed from the inner middleware to the logger.
#[derive(Clone)]
struct Route(String);

/// Inner middleware (matched routes only): latency, injected 5xx and rate limits.
async fn faults_mw(AxState(app): AxState<App>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let method = req.method().clone();
    let path = req
        .extensions()
        .get::<FullPath>()
        .map(|p| p.0.clone())
        .unwrap_or_default();
    let issue = issue_of(&app, &route, &path);
    let verdict = app.faults.check(&method, &route, issue);
    if let Some(d) = verdict.latency {
        tokio::time::sleep(d).await;
    }
    let mut resp = match verdict.verdict {
        Verdict::Pass => next.run(req).await,
        Verdict::ServerError(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            ApiError::new(status, "Injected fault: the server is unavailable.").into_response()
        }
        Verdict::Limited { .. } => {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded.").into_response()
        }
    };
    verdict.headers(resp.headers_mut());
    resp.extensions_mut().insert(Route(route));
    resp
}

/// The issue id a per-issue write limit applies to, when the route names an issue.
fn issue_of(app: &App, route: &str, path: &str) -> Option<u64> {
    if !app.faults.limits_on() || !route.contains("/issue/{key}") {
        return None;
    }
    let key = path.split('/').nth(5)?;
    app.lock().find_issue(key)
}

/// Outer middleware: the request log and counters.
async fn log_mw(AxState(app): AxState<App>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    req.extensions_mut().insert(FullPath(path.clone()));
    if path.starts_with("/_sim/") {
        return next.run(req).await;
    }
    let resp = next.run(req).await;
    let route = resp.extensions().get::<Route>().map(|r| r.0.clone());
    app.log
        .record(&method, &path, route, resp.status().as_u16());
    resp
}

async fn not_found(Dialect(_): Dialect) -> ApiError {
    ApiError::not_found("null for uri")
}

/// Routes of one REST version, mounted at `/rest/api/{2,3}`.
fn api_routes(flavour: Flavour, v3: bool) -> Router<App> {
    let r = Router::new()
        .merge(routes_meta::routes(flavour))
        .merge(routes_issue::routes(flavour))
        .merge(routes_comment::routes())
        .merge(routes_remote_link::routes())
        .merge(routes_worklog::routes())
        .merge(routes_attachment::routes(flavour))
        .merge(routes_search::routes(flavour));
    if flavour == Flavour::Cloud {
        r.merge(routes_webhook::dynamic_routes(v3))
    } else {
        r
    }
}

/// The whole router for one instance.
pub fn router(app: App) -> Router {
    let flavour = app.flavour;
    let mut r = Router::new().nest("/rest/api/2", api_routes(flavour, false));
    if flavour == Flavour::Cloud {
        r = r.nest("/rest/api/3", api_routes(flavour, true));
    }
    let r = r
        .merge(routes_webhook::admin_routes())
        .merge(routes_attachment::secure_routes())
        .route_layer(middleware::from_fn_with_state(app.clone(), faults_mw))
        .fallback(not_found)
        .merge(control::routes())
        .layer(middleware::from_fn_with_state(app.clone(), log_mw));
    r.with_state(app)
}

/// 204 No Content.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// A JSON answer with a status.
pub fn json(status: StatusCode, v: Value) -> Response {
    (status, axum::Json(v)).into_response()
}

/// A 200 with an already serialised JSON body.
pub fn json_bytes(body: Bytes) -> Response {
    let mut r = Response::new(AxBody::from(body));
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Bytes with a content type (attachment downloads).
pub fn bytes(content_type: &str, filename: &str, data: Bytes) -> Response {
    let mut r = Response::new(AxBody::from(data));
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(axum::http::header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        filename.replace('"', "")
    )) {
        h.insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    r
}

/// True for methods that change data (rate limits and per-issue write limits).
pub fn is_write(m: &Method) -> bool {
    matches!(
        *m,
        Method::POST | Method::PUT | Method::DELETE | Method::PATCH
    )
}
