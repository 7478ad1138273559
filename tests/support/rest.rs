//! The simulated Jiras as a test reaches them: a simulator started with fast webhook retries,
//! and a small JSON client speaking its flavour's REST API as the administrator.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use twinsync_jira_sim::{Flavour, RetryPolicy, SimHandle, SimOptions, Simulator};

/// Starts a simulator with fast webhook retries (tests never wait seconds).
pub async fn start(flavour: Flavour) -> SimHandle {
    let mut o = SimOptions::new(flavour);
    o.webhook_retry = RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(20),
    };
    Simulator::start(o).await.expect("simulator starts")
}

/// The body of a new issue: its project, type and summary, and the fields of `more` (a JSON
/// object) beside them.
pub fn new_issue(project: &str, issue_type: &str, summary: &str, more: Value) -> Value {
    let mut fields = json!({
        "project": {"key": project},
        "issuetype": {"name": issue_type},
        "summary": summary,
    });
    if let (Some(fields), Value::Object(more)) = (fields.as_object_mut(), more) {
        fields.extend(more);
    }
    json!({ "fields": fields })
}

/// A small JSON client speaking the flavour's REST API as the administrator.
pub struct Client {
    /// The HTTP client.
    pub http: reqwest::Client,
    /// The flavour's REST API base, e.g. `http://127.0.0.1:PORT/rest/api/3`.
    pub base: String,
    /// The simulator's root URL.
    pub url: String,
    /// The `Authorization` header value of the administrator.
    pub auth: String,
}

/// One answer: status, headers and JSON body (`Null` when empty or not JSON).
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as JSON (`Null` when empty or not JSON).
    pub body: Value,
    /// The body as sent.
    pub bytes: Vec<u8>,
}

/// An HTTP client with the TLS provider installed.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().expect("http client")
}

impl Client {
    /// A client of simulator `h`, as its administrator.
    pub fn new(h: &SimHandle) -> Client {
        Client {
            http: http(),
            base: h.api_base(),
            url: h.url().to_string(),
            auth: h.auth_header(),
        }
    }

    /// `path` is relative to the API base unless it starts with `/rest` or `/secure` or `/_sim`.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let url = if path.starts_with("/rest")
            || path.starts_with("/secure")
            || path.starts_with("/_sim")
        {
            format!("{}{path}", self.url)
        } else if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let mut req = self
            .http
            .request(method, &url)
            .header("Authorization", &self.auth);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request reaches the simulator");
        Answer::read(resp).await
    }

    /// See [`Client::call`].
    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }
    /// See [`Client::call`].
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }
    /// See [`Client::call`].
    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }
    /// See [`Client::call`].
    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates an issue from `body` (see [`new_issue`]); Jira must answer 201. Returns its key.
    pub async fn create(&self, body: Value) -> String {
        let answer = self.post("/issue", body).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        answer.body["key"].as_str().expect("key").to_string()
    }

    /// Edits issue `key`'s `fields` (a JSON object).
    pub async fn edit(&self, key: &str, fields: Value) -> Answer {
        self.put(&format!("/issue/{key}"), json!({ "fields": fields }))
            .await
    }

    /// Moves issue `key` along transition `id`.
    pub async fn transition(&self, key: &str, id: &str) -> Answer {
        self.post(
            &format!("/issue/{key}/transitions"),
            json!({"transition": {"id": id}}),
        )
        .await
    }

    /// Adds a comment to issue `key`; `body` is ADF on Cloud, a wiki string on Data Center.
    pub async fn comment(&self, key: &str, body: Value) -> Answer {
        self.post(&format!("/issue/{key}/comment"), json!({ "body": body }))
            .await
    }

    /// One field of issue `key` (a path into `fields`), as the REST API answers it.
    pub async fn field(&self, key: &str, path: &[&str]) -> Value {
        let issue = self.get(&format!("/issue/{key}")).await;
        let mut v = &issue.body["fields"];
        for p in path {
            v = &v[*p];
        }
        v.clone()
    }

    /// A list field of issue `key` (e.g. `["comment", "comments"]`); empty when absent.
    pub async fn list(&self, key: &str, path: &[&str]) -> Vec<Value> {
        self.field(key, path)
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Uploads an attachment to `key` as Jira takes it (multipart, no-check header); the
    /// answer as it came, which a simulator with faults may refuse.
    pub async fn try_upload(&self, key: &str, name: &str, bytes: &[u8]) -> Answer {
        let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string());
        let form = reqwest::multipart::Form::new().part("file", part);
        let resp = self
            .http
            .post(format!("{}/issue/{key}/attachments", self.base))
            .header("Authorization", &self.auth)
            .header("X-Atlassian-Token", "no-check")
            .multipart(form)
            .send()
            .await
            .expect("upload reaches the simulator");
        Answer::read(resp).await
    }

    /// Uploads an attachment to `key`; returns the attachment Jira made.
    pub async fn upload(&self, key: &str, name: &str, bytes: &[u8]) -> Value {
        let answer = self.try_upload(key, name, bytes).await;
        assert_eq!(
            answer.status, 200,
            "upload to {key} answered 200 like Jira: {}",
            answer.body
        );
        answer.body[0].clone()
    }

    /// The bytes behind an attachment's `content` URL, fetched with the client's credentials.
    pub async fn download(&self, content: &str) -> Vec<u8> {
        self.http
            .get(content)
            .header("Authorization", &self.auth)
            .send()
            .await
            .expect("download")
            .bytes()
            .await
            .expect("bytes")
            .to_vec()
    }
}

impl Answer {
    /// Reads a response whole; a body that is not JSON is `Null` beside its bytes.
    pub async fn read(resp: reqwest::Response) -> Answer {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            bytes,
        }
    }
    /// Header `k`, if present and text.
    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers.get(k).and_then(|v| v.to_str().ok())
    }
}
