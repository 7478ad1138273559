//! The CLI's side of the admin API: `status`, `errors`, `retry`, `connection list|pause|resume`
//! and `rules try` ask the running node over HTTP, with its admin token, and turn the JSON
//! answers into readable tables (or print them as they are with `--json`).

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::config::NodeConfig;

#[derive(Debug, thiserror::Error)]
pub enum AdminClientError {
    #[error(transparent)]
    Config(#[from] Box<crate::config::ConfigError>),
    #[error(
        "cannot read the node's config {path} ({reason}): name it with -c FILE (the demo \
         writes <its data dir>/twinsync.toml, target/demo/twinsync.toml by default), or give \
         the node's admin URL with --node URL and its token in TWINSYNC_ADMIN_TOKEN"
    )]
    NoConfig { path: String, reason: String },
    #[error(
        "cannot reach the node's admin API at {url}: {reason}\n(is the node running? start it with `twinsync node`, or point --node at it)"
    )]
    Unreachable { url: String, reason: String },
    #[error("the node refused {what}: {status}: {message}")]
    Refused {
        what: String,
        status: u16,
        message: String,
    },
    #[error("the node's answer to {what} is not JSON: {reason}")]
    BadAnswer { what: String, reason: String },
}

/// A client of one node's admin API.
pub struct AdminClient {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

/// The address to reach a node's admin listener at (a wildcard means this host).
fn reach(listen: SocketAddr) -> SocketAddr {
    match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), listen.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST), listen.port())
        }
        _ => listen,
    }
}

impl AdminClient {
    /// A client for a node: the one `config_path` describes (its `admin_listen` address and admin
    /// token; default `twinsync.toml`), or the one at `node`. With `node`, the token comes
    /// only from `TWINSYNC_ADMIN_TOKEN` or a config named explicitly, so a local token is
    /// never sent to another host by accident.
    pub fn from_config(
        config_path: Option<&Path>,
        node: Option<&str>,
    ) -> Result<Self, AdminClientError> {
        let config = match (node, config_path) {
            (Some(_), None) => None,
            (_, path) => Some(
                NodeConfig::load(path.unwrap_or(Path::new("twinsync.toml"))).map_err(
                    |e| match e {
                        // The one mistake a new user makes first: say which flags fix it.
                        crate::config::ConfigError::Read { path, source } => {
                            AdminClientError::NoConfig {
                                path: path.display().to_string(),
                                reason: source.to_string(),
                            }
                        }
                        e => AdminClientError::Config(Box::new(e)),
                    },
                )?,
            ),
        };
        let base = node
            .map(|url| url.trim_end_matches('/').to_string())
            .or_else(|| {
                config
                    .as_ref()
                    .map(|c| format!("http://{}", reach(c.node.admin_listen())))
            })
            .unwrap_or_default();
        let token = match std::env::var("TWINSYNC_ADMIN_TOKEN") {
            Ok(t) if !t.is_empty() => Some(t),
            _ => match config
                .as_ref()
                .and_then(|c| Some((c, c.node.admin_token.as_ref()?)))
            {
                Some((c, t)) => Some(
                    t.resolve("node admin token", &c.base_dir)
                        .map_err(Box::new)?,
                ),
                // The token the node made for itself, when its config names none.
                None => config.as_ref().and_then(crate::admin_token::read_made),
            },
        };
        Ok(Self::new(base, token))
    }

    pub fn new(base: String, token: Option<String>) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap_or_default();
        AdminClient { base, token, http }
    }

    async fn send(
        &self,
        what: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, AdminClientError> {
        let request = match &self.token {
            Some(t) => request.bearer_auth(t),
            None => request,
        };
        let response = request
            .send()
            .await
            .map_err(|e| AdminClientError::Unreachable {
                url: self.base.clone(),
                reason: e.to_string(),
            })?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| AdminClientError::Unreachable {
                url: self.base.clone(),
                reason: e.to_string(),
            })?;
        let body = serde_json::from_str::<Value>(&text);
        if !status.is_success() {
            // Not every refusal is the API's JSON (a body over the size limit is plain text).
            let message = match &body {
                Ok(v) => v["error"].as_str().map(str::to_string),
                Err(_) => None,
            }
            .unwrap_or_else(|| text.trim().to_string());
            return Err(AdminClientError::Refused {
                what: what.into(),
                status: status.as_u16(),
                message,
            });
        }
        body.map_err(|e| AdminClientError::BadAnswer {
            what: what.into(),
            reason: e.to_string(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn status(&self) -> Result<Value, AdminClientError> {
        self.send("the status", self.http.get(self.url("/api/status")))
            .await
    }

    /// Failed events, newest first.
    pub async fn errors(
        &self,
        connection: Option<&str>,
        limit: i64,
    ) -> Result<Value, AdminClientError> {
        let mut query = vec![
            ("state", "failed".to_string()),
            ("limit", limit.to_string()),
        ];
        if let Some(c) = connection {
            query.push(("connection", c.to_string()));
        }
        self.send(
            "the failed events",
            self.http.get(self.url("/api/events")).query(&query),
        )
        .await
    }

    pub async fn retry(&self, event: i64) -> Result<Value, AdminClientError> {
        self.send(
            &format!("the retry of event {event}"),
            self.http
                .post(self.url(&format!("/api/events/{event}/retry"))),
        )
        .await
    }

    pub async fn set_paused(
        &self,
        connection: &str,
        paused: bool,
    ) -> Result<Value, AdminClientError> {
        let verb = if paused { "pause" } else { "resume" };
        let path = format!("/api/connections/{}/{verb}", url_segment(connection));
        self.send(
            &format!("the {verb} of connection {connection:?}"),
            self.http.post(self.url(&path)),
        )
        .await
    }

    /// A dry run of `module` on `issue` of `connection`/`side`.
    pub async fn try_rule(
        &self,
        connection: &str,
        side: &str,
        issue: &str,
        module: Vec<u8>,
    ) -> Result<Value, AdminClientError> {
        self.send(
            &format!("the trial on {issue}"),
            self.http
                .post(self.url("/api/rules/try"))
                .query(&[("connection", connection), ("side", side), ("issue", issue)])
                .header("content-type", "application/wasm")
                .body(module),
        )
        .await
    }
}

/// A path segment with the characters a URL path would misread escaped.
fn url_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// "3m ago" for a time in ms since the epoch, against `now_ms`.
fn ago(at_ms: Option<i64>, now_ms: i64) -> String {
    let Some(at) = at_ms else {
        return "never".into();
    };
    let s = (now_ms - at).max(0) / 1000;
    match s {
        0..60 => format!("{s}s ago"),
        60..3600 => format!("{}m ago", s / 60),
        3600..86400 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86400),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `twinsync status` as a table: one row per connection.
pub fn status_table(status: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<24} {:<8} {:>7} {:>7} {:>7} {:>7}  {:<10} RULES",
        "CONNECTION", "STATE", "TWINS", "QUEUED", "FAILED", "DONE", "LAST SYNC"
    );
    let now = now_ms();
    for c in status["connections"].as_array().into_iter().flatten() {
        let q = &c["queue"];
        let queued = q["pending"].as_i64().unwrap_or(0) + q["running"].as_i64().unwrap_or(0);
        let rules: Vec<String> = c["sides"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                let reload = s["rule"]["last_reload"]["outcome"]
                    .as_str()
                    .filter(|o| *o == "rejected")
                    .map_or(String::new(), |_| " (last reload rejected)".into());
                // A new version compiling while this one serves, so a swap is not mistaken for a failure.
                let reload = match s["rule"]["loading"]["text"].as_str() {
                    Some(loading) => format!("{reload} ({loading})"),
                    None => reload,
                };
                format!(
                    "{}={}{reload}",
                    text(&s["name"]),
                    text(&s["rule"]["version"])
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "{:<24} {:<8} {:>7} {:>7} {:>7} {:>7}  {:<10} {}",
            text(&c["name"]),
            text(&c["state"]),
            text(&c["twins"]),
            queued,
            text(&q["failed"]),
            text(&q["done"]),
            ago(c["last_sync_at_ms"].as_i64(), now),
            rules.join(" "),
        );
    }
    out
}

/// `twinsync connection list`: connections with their sides.
pub fn connections_table(status: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:<24} {:<8} SIDES", "CONNECTION", "STATE");
    for c in status["connections"].as_array().into_iter().flatten() {
        let sides: Vec<String> = c["sides"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                format!(
                    "{}@{}:{}",
                    text(&s["name"]),
                    text(&s["instance"]),
                    text(&s["project"])
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "{:<24} {:<8} {}",
            text(&c["name"]),
            text(&c["state"]),
            sides.join(" <-> ")
        );
    }
    out
}

/// `twinsync errors`: each failed event with its error and the rule version that handled it.
pub fn errors_table(events: &Value) -> String {
    let list = events["events"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        return "no failed events\n".into();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>6}  {:<20} {:<10} {:<9} {:<12} {:<12} {:>8}",
        "EVENT", "CONNECTION", "SIDE", "KIND", "ISSUE", "RULE", "ATTEMPTS"
    );
    for e in list {
        let _ = writeln!(
            out,
            "{:>6}  {:<20} {:<10} {:<9} {:<12} {:<12} {:>8}\n        {}",
            text(&e["id"]),
            text(&e["connection"]),
            text(&e["side"]),
            text(&e["kind"]),
            text(&e["queue_key"]),
            text(&e["rule_version"]),
            text(&e["attempts"]),
            text(&e["last_error"]),
        );
    }
    out
}

/// `twinsync rules try`: each direction's answers and the fields that differ.
pub fn trial_text(report: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "dry run on {} ({} / {}); nothing was synced",
        text(&report["issue"]),
        text(&report["connection"]),
        text(&report["side"])
    );
    for dir in ["outgoing", "incoming"] {
        let d = &report[dir];
        if d.is_null() {
            let _ = writeln!(
                out,
                "\n{dir}: no replica from the other side has been applied to this issue yet"
            );
            continue;
        }
        let describe = |a: &Value| {
            if a.is_null() {
                return "none serving".to_string();
            }
            let verdict = match a["error"].as_str() {
                Some(e) => format!("error: {e}"),
                None => "answered".into(),
            };
            format!(
                "{} {} (contract {}), fuel {}: {verdict}",
                text(&a["rule"]),
                text(&a["version"]),
                text(&a["world_version"]),
                text(&a["fuel_used"])
            )
        };
        let _ = writeln!(out, "\n{dir}:");
        let _ = writeln!(out, "  current:   {}", describe(&d["current"]));
        let _ = writeln!(out, "  candidate: {}", describe(&d["candidate"]));
        let diff = d["diff"].as_array().cloned().unwrap_or_default();
        if diff.is_empty() {
            let _ = writeln!(out, "  no difference");
        }
        for f in diff {
            let _ = writeln!(
                out,
                "  {}:\n    - {}\n    + {}",
                text(&f["field"]),
                f["current"],
                f["candidate"]
            );
        }
        for line in d["candidate"]["logs"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "  candidate log [{}] {}",
                text(&line["level"]),
                text(&line["message"])
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_show_what_an_admin_needs() {
        let status = json!({"connections": [{
            "name": "acme-globex", "state": "paused", "twins": 12, "last_sync_at_ms": null,
            "queue": {"pending": 2, "running": 1, "failed": 3, "done": 40, "skipped": 0},
            "sides": [{"name": "acme", "instance": "cloud", "project": "SUP",
                       "rule": {"version": "abc123", "last_reload": {"outcome": "rejected"}}}],
        }]});
        let t = status_table(&status);
        assert!(t.contains("acme-globex"), "{t}");
        assert!(t.contains("paused"), "{t}");
        assert!(t.contains("never"), "{t}");
        assert!(t.contains("acme=abc123 (last reload rejected)"), "{t}");
        let compiling = json!({"connections": [{"name": "c", "state": "active", "queue": {},
            "sides": [{"name": "s", "rule": {"version": "abc123",
                "loading": {"text": "compiling def456"}}}]}]});
        let t = status_table(&compiling);
        assert!(t.contains("s=abc123 (compiling def456)"), "{t}");
        assert!(connections_table(&status).contains("acme@cloud:SUP"));
        let errors = json!({"events": [{"id": 7, "connection": "c", "side": "s", "kind": "outgoing",
            "queue_key": "SUP-1", "rule_version": "abc", "attempts": 2, "last_error": "boom"}]});
        let e = errors_table(&errors);
        assert!(e.contains("SUP-1") && e.contains("boom"), "{e}");
        assert_eq!(errors_table(&json!({"events": []})), "no failed events\n");
    }

    #[test]
    fn wildcard_listen_is_reached_on_loopback() {
        let a: SocketAddr = "0.0.0.0:7700".parse().unwrap();
        assert_eq!(reach(a).to_string(), "127.0.0.1:7700");
        assert_eq!(url_segment("a b/c"), "a%20b%2Fc");
        assert_eq!(ago(Some(0), 125_000), "2m ago");
    }
}
