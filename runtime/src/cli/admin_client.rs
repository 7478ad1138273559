//! The CLI's side of the admin API: `status`, `errors`, `retry`, `connection list|pause|resume`
//! and `rules try` ask the running node over HTTP, with its admin token; `tables` turns the
//! JSON answers into text.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use twinsync::config::NodeConfig;

/// Why the admin API gave no answer: no config, no node, a refusal or a garbled answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AdminClientError {
    #[error(transparent)]
    Config(#[from] Box<twinsync::config::ConfigError>),
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
pub(crate) struct AdminClient {
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
    pub(crate) fn from_config(
        config_path: Option<&Path>,
        node: Option<&str>,
    ) -> Result<Self, AdminClientError> {
        let config = match (node, config_path) {
            (Some(_), None) => None,
            (_, path) => Some(
                NodeConfig::load(path.unwrap_or(Path::new("twinsync.toml"))).map_err(
                    |e| match e {
                        // The one mistake a new user makes first: say which flags fix it.
                        twinsync::config::ConfigError::Read { path, source } => {
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
                None => config.as_ref().and_then(twinsync::admin_token::read_made),
            },
        };
        Ok(Self::new(base, token))
    }

    pub(crate) fn new(base: String, token: Option<String>) -> Self {
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
        let unreachable = |e: reqwest::Error| AdminClientError::Unreachable {
            url: self.base.clone(),
            reason: e.to_string(),
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let text = response.text().await.map_err(unreachable)?;
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

    pub(crate) async fn status(&self) -> Result<Value, AdminClientError> {
        self.send("the status", self.http.get(self.url("/api/status")))
            .await
    }

    /// Failed events, newest first.
    pub(crate) async fn errors(
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

    pub(crate) async fn retry(&self, event: i64) -> Result<Value, AdminClientError> {
        self.send(
            &format!("the retry of event {event}"),
            self.http
                .post(self.url(&format!("/api/events/{event}/retry"))),
        )
        .await
    }

    pub(crate) async fn set_paused(
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
    pub(crate) async fn try_rule(
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

    /// The path of a side's rule under the admin API.
    fn rule_path(connection: &str, side: &str) -> String {
        format!(
            "/api/connections/{}/sides/{}/rule",
            url_segment(connection),
            url_segment(side)
        )
    }

    /// Publishes `module` as the side's rule, with `note` for its history.
    pub(crate) async fn publish_rule(
        &self,
        connection: &str,
        side: &str,
        note: Option<&str>,
        module: Vec<u8>,
    ) -> Result<Value, AdminClientError> {
        let mut request = self
            .http
            .post(self.url(&Self::rule_path(connection, side)))
            .header("content-type", "application/wasm")
            .body(module);
        if let Some(note) = note {
            request = request.query(&[("note", note)]);
        }
        self.send(
            &format!("publishing the rule of {connection}/{side}"),
            request,
        )
        .await
    }

    /// A side's rule history, newest first.
    pub(crate) async fn rule_versions(
        &self,
        connection: &str,
        side: &str,
    ) -> Result<Value, AdminClientError> {
        self.send(
            &format!("the rule versions of {connection}/{side}"),
            self.http
                .get(self.url(&format!("{}/versions", Self::rule_path(connection, side)))),
        )
        .await
    }

    /// Publishes version `to` of a side's rule again.
    pub(crate) async fn rollback_rule(
        &self,
        connection: &str,
        side: &str,
        to: i64,
    ) -> Result<Value, AdminClientError> {
        self.send(
            &format!("the rollback of {connection}/{side} to version {to}"),
            self.http
                .post(self.url(&format!("{}/rollback", Self::rule_path(connection, side))))
                .json(&serde_json::json!({ "version": to })),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_listen_is_reached_on_loopback() {
        let a: SocketAddr = "0.0.0.0:7700".parse().unwrap();
        assert_eq!(reach(a).to_string(), "127.0.0.1:7700");
        assert_eq!(url_segment("a b/c"), "a%20b%2Fc");
    }
}
