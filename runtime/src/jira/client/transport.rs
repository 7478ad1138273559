//! The request path below the retry loop: URLs, call sites, auth, redirects, request bodies and decoding answers.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::super::error::{CallSite, JiraError, TransportKind};
use super::super::wire::{self, ShapeError};
use super::{JiraClient, UploadSource};
use crate::text::error_chain;

/// Percent-encodes an issue key, id or account id for a URL path: they are URL-safe but for the odd ':' or space.
pub(super) use crate::text::percent_encode as enc;

pub(super) enum ReqBody {
    None,
    Json(Value),
    Upload {
        filename: String,
        mime: String,
        source: UploadSource,
    },
}

pub(super) struct Req {
    pub(super) method: Method,
    /// Relative to the API prefix unless it starts with `/` or `http`.
    pub(super) path: String,
    pub(super) query: Vec<(String, String)>,
    pub(super) body: ReqBody,
    /// The issue a write goes to, for the per-issue write windows.
    pub(super) issue: Option<String>,
}

impl Req {
    pub(super) fn new(method: Method, path: impl Into<String>) -> Req {
        Req {
            method,
            path: path.into(),
            query: Vec::new(),
            body: ReqBody::None,
            issue: None,
        }
    }
    pub(super) fn query(mut self, k: &str, v: impl Into<String>) -> Req {
        self.query.push((k.to_string(), v.into()));
        self
    }
    pub(super) fn json(mut self, v: Value) -> Req {
        self.body = ReqBody::Json(v);
        self
    }
    pub(super) fn issue(mut self, key: &str) -> Req {
        self.issue = Some(key.to_string());
        self
    }
}

/// Where the client may follow a redirect: Jira Cloud sends an attachment's bytes from its
/// media host, so another host is allowed (reqwest drops the `Authorization` header on any
/// change of host, port or scheme, so credentials never follow), but another scheme never
/// (no https to http downgrade), and only a few hops.
pub(super) fn redirect_policy() -> reqwest::redirect::Policy {
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
pub(super) fn same_origin(a: &str, b: &str) -> bool {
    match (reqwest::Url::parse(a), reqwest::Url::parse(b)) {
        (Ok(a), Ok(b)) => {
            a.scheme() == b.scheme()
                && a.host_str() == b.host_str()
                && a.port_or_known_default() == b.port_or_known_default()
        }
        _ => false,
    }
}

pub(super) fn transport_error(site: CallSite, e: reqwest::Error) -> JiraError {
    if e.is_redirect() {
        // A refused redirect is the site's answer, not a passing fault: retrying cannot help.
        return JiraError::Config {
            instance: site.instance.clone(),
            reason: format!("{} {}: {}", site.method, site.path, error_chain(&e)),
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

impl JiraClient {
    pub(super) fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else if path.starts_with('/') {
            format!("{}{path}", self.inner.base)
        } else {
            format!("{}{}/{path}", self.inner.base, self.flavour().api_prefix())
        }
    }

    pub(super) fn site(&self, method: &Method, url: &str) -> CallSite {
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

    pub(super) async fn build(
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

    /// Sends a request and decodes its answer as `T`; `what` names the resource in a shape error.
    pub(super) async fn answer<T: DeserializeOwned>(
        &self,
        req: Req,
        what: impl Into<String>,
    ) -> Result<T, JiraError> {
        let (site, status, v) = self.json_at(req).await?;
        wire::decode(what, &v).map_err(|source| JiraError::Shape {
            site,
            status,
            source: Box::new(source),
        })
    }

    async fn json_at(&self, req: Req) -> Result<(CallSite, u16, Value), JiraError> {
        let url = self.url(&req.path);
        let site = self.site(&req.method, &url);
        let resp = self.send(req).await?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| transport_error(site.clone(), e))?;
        if bytes.is_empty() {
            return Ok((site, status, Value::Null));
        }
        match serde_json::from_slice(&bytes) {
            Ok(v) => Ok((site, status, v)),
            Err(e) => Err(JiraError::Decode {
                site,
                status,
                reason: format!("not JSON: {e}"),
            }),
        }
    }

    /// A shape error in part of an answer already read (an issue in a search page).
    pub(super) fn shape_err(&self, method: &Method, path: &str, source: ShapeError) -> JiraError {
        let url = self.url(path);
        JiraError::Shape {
            site: self.site(method, &url),
            status: 200,
            source: Box::new(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::flavour::{Auth, Flavour};
    use super::super::ClientConfig;
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
