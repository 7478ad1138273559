//! Webhooks: event bodies as Jira writes them, matched against registrations, and really POSTed
//! by a background task that retries, and that drops, duplicates, delays or reorders on demand.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

use super::faults::Faults;
use super::jql;
use super::model::{Api, Comment, Issue, UserId, WebhookKind};
use super::render;
use super::request::{Expand, FieldSel};
use super::state::{Event, State};

/// One POST to make.
#[derive(Clone, Debug)]
pub struct Job {
    pub webhook_ids: Vec<u64>,
    pub url: String,
    pub event: String,
    /// `None` when the registration excludes the body.
    pub body: Option<Value>,
    /// Same for every attempt and duplicate of one notification (`X-Atlassian-Webhook-Identifier`).
    pub identifier: String,
    pub attempt: u32,
}

/// What happened to one delivery attempt.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    /// Order of the attempt, from 1.
    pub seq: u64,
    /// The registrations this delivery serves.
    pub webhook_ids: Vec<u64>,
    /// Where it was sent.
    pub url: String,
    /// The webhook event, e.g. `jira:issue_updated`.
    pub event: String,
    /// `X-Atlassian-Webhook-Identifier`: the same for every attempt of one delivery.
    pub identifier: String,
    /// 0 for the first try; retries count up and carry `X-Atlassian-Webhook-Retry`.
    pub attempt: u32,
    /// `delivered`, `failed`, `dropped` (fault) or `duplicate` (a fault's second copy).
    pub outcome: String,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why the attempt failed, when it did.
    pub error: Option<String>,
    /// The JSON body sent.
    pub body: Option<Value>,
}

fn webhook_event(e: &Event) -> &'static str {
    match e {
        Event::IssueCreated { .. } => "jira:issue_created",
        Event::IssueUpdated { .. } => "jira:issue_updated",
        Event::IssueDeleted { .. } => "jira:issue_deleted",
        Event::CommentCreated { .. } => "comment_created",
        Event::CommentUpdated { .. } => "comment_updated",
        Event::CommentDeleted { .. } => "comment_deleted",
    }
}

fn comment_json(st: &State, api: Api, issue: &Issue, c: &Comment) -> Value {
    render::comment(st, api, issue, c, false, false)
}

/// The documented body for one event.
fn body(st: &State, e: &Event, issue: &Issue, actor: UserId) -> Value {
    // Webhooks use the REST v2 representation on both flavours.
    let api = Api {
        flavour: st.flavour,
        v3: false,
    };
    let ts = Utc::now().timestamp_millis();
    let name = webhook_event(e);
    let user = render::user_short(st, api, Some(actor));
    let full = || {
        render::issue(
            st,
            api,
            issue,
            &FieldSel::parse(std::iter::empty(), "*all"),
            Expand::default(),
        )
    };
    match e {
        Event::IssueCreated { .. } => json!({
            "timestamp": ts, "webhookEvent": name, "issue_event_type_name": "issue_created",
            "user": user, "issue": full(),
        }),
        Event::IssueDeleted { .. } => json!({
            "timestamp": ts, "webhookEvent": name, "issue_event_type_name": "issue_deleted",
            "user": user, "issue": full(),
        }),
        Event::IssueUpdated {
            history,
            type_name,
            comment,
            ..
        } => {
            let mut b = json!({
                "timestamp": ts, "webhookEvent": name, "issue_event_type_name": type_name,
                "user": user, "issue": full(),
            });
            if let Some(h) = history.and_then(|h| issue.histories.iter().find(|x| x.id == h)) {
                let items: Vec<Value> = h.items.iter().map(render::change_item).collect();
                b["changelog"] = json!({"id": h.id.to_string(), "items": items});
            }
            if let Some(c) = comment {
                b["comment"] = comment_json(st, api, issue, c);
            }
            b
        }
        Event::CommentCreated { comment, .. }
        | Event::CommentUpdated { comment, .. }
        | Event::CommentDeleted { comment, .. } => {
            let sel = FieldSel::parse(
                std::iter::once("summary,status,issuetype,priority,assignee,project,labels"),
                "",
            );
            let small = render::issue(st, api, issue, &sel, Expand::default());
            let mut issue_v = json!({"id": small["id"], "self": small["self"], "key": small["key"], "fields": small["fields"]});
            if issue_v["fields"].is_null() {
                issue_v["fields"] = json!({});
            }
            json!({"timestamp": ts, "webhookEvent": name, "comment": comment_json(st, api, issue, comment), "issue": issue_v})
        }
    }
}

fn substitute(url: &str, st: &State, issue: &Issue) -> String {
    if !url.contains("${") {
        return url.to_string();
    }
    let pkey = st
        .project(&issue.project)
        .map(|p| p.key.clone())
        .unwrap_or_default();
    url.replace("${issue.key}", &issue.key)
        .replace("${issue.id}", &issue.id.to_string())
        .replace("${project.key}", &pkey)
        .replace("${project.id}", &issue.project)
}

/// Turns events into deliveries for every registration whose events and JQL filter match.
pub fn jobs_for(st: &State, events: Vec<Event>) -> Vec<Job> {
    let mut jobs = Vec::new();
    if st.webhooks.is_empty() {
        return jobs;
    }
    let mut compiled: BTreeMap<u64, Option<jql::Query>> = BTreeMap::new();
    for e in &events {
        let name = webhook_event(e);
        let (issue, actor) = match e {
            Event::IssueDeleted { issue, actor } => (issue.as_ref(), *actor),
            Event::IssueCreated { issue, actor }
            | Event::IssueUpdated { issue, actor, .. }
            | Event::CommentCreated { issue, actor, .. }
            | Event::CommentUpdated { issue, actor, .. }
            | Event::CommentDeleted { issue, actor, .. } => match st.issues.get(issue) {
                Some(i) => (i, *actor),
                None => continue,
            },
        };
        let mut dynamic: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        let mut the_body: Option<Value> = None;
        let identifier = format!(
            "{}-{}",
            name,
            Utc::now().timestamp_nanos_opt().unwrap_or(0) + jobs.len() as i64
        );
        for reg in st
            .webhooks
            .values()
            .filter(|r| r.enabled && r.events.iter().any(|x| x == name))
        {
            if let Some(q) = &reg.jql {
                let q = compiled
                    .entry(reg.id)
                    .or_insert_with(|| jql::compile(q, st, Some(reg.owner)).ok());
                // A filter that no longer compiles matches nothing, as Jira does.
                if !q.as_ref().is_some_and(|q| q.matches(issue, st)) {
                    continue;
                }
            }
            match reg.kind {
                WebhookKind::Dynamic => dynamic.entry(reg.url.clone()).or_default().push(reg.id),
                WebhookKind::Admin => {
                    let b = the_body
                        .get_or_insert_with(|| body(st, e, issue, actor))
                        .clone();
                    jobs.push(Job {
                        webhook_ids: vec![reg.id],
                        url: substitute(&reg.url, st, issue),
                        event: name.to_string(),
                        body: (!reg.exclude_body).then_some(b),
                        identifier: format!("{identifier}-{}", reg.id),
                        attempt: 0,
                    });
                }
            }
        }
        for (url, ids) in dynamic {
            let mut b = the_body
                .get_or_insert_with(|| body(st, e, issue, actor))
                .clone();
            b["matchedWebhookIds"] = json!(ids);
            jobs.push(Job {
                webhook_ids: ids,
                url,
                event: name.to_string(),
                body: Some(b),
                identifier: identifier.clone(),
                attempt: 0,
            });
        }
    }
    jobs
}

/// Retry policy for failed deliveries.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Retries after the first attempt before giving up.
    pub max_retries: u32,
    /// First retry waits this long; each later one twice as long.
    pub base_delay: Duration,
}

struct Records {
    seq: u64,
    list: Vec<Delivery>,
}

/// The queue between request handlers and the delivery task.
pub struct Dispatcher {
    tx: mpsc::UnboundedSender<Job>,
    records: Arc<Mutex<Records>>,
    notify: Arc<Notify>,
}

impl Dispatcher {
    /// Starts the delivery task on the current runtime.
    pub fn start(
        faults: Arc<Faults>,
        retry: RetryPolicy,
        roots: &[Vec<u8>],
    ) -> Result<Dispatcher, super::error::SimError> {
        // reqwest is built without a default TLS provider; ring is the crate's choice.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(10));
        if !roots.is_empty() {
            let certs = roots
                .iter()
                .map(|der| reqwest::Certificate::from_der(der))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| super::error::SimError::Client(e.to_string()))?;
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .build()
            .map_err(|e| super::error::SimError::Client(e.to_string()))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let records = Arc::new(Mutex::new(Records {
            seq: 0,
            list: Vec::new(),
        }));
        let notify = Arc::new(Notify::new());
        let worker = Worker {
            client,
            faults,
            retry,
            records: records.clone(),
            notify: notify.clone(),
            tx: tx.downgrade(),
        };
        tokio::spawn(worker.run(rx));
        Ok(Dispatcher {
            tx,
            records,
            notify,
        })
    }

    pub fn send(&self, jobs: Vec<Job>) {
        for j in jobs {
            // The worker lives as long as the runtime; a closed channel means shutdown.
            let _ = self.tx.send(j);
        }
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .list
            .clone()
    }

    pub fn clear(&self) {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .list
            .clear();
    }

    /// Waits until `pred` holds over the delivery records, or `timeout` passes; returns the records.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        pred: impl Fn(&[Delivery]) -> bool,
    ) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.notify.notified();
            {
                let r = self.records.lock().unwrap_or_else(|p| p.into_inner());
                if pred(&r.list) {
                    return r.list.clone();
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.deliveries();
            }
        }
    }
}

struct Worker {
    client: reqwest::Client,
    faults: Arc<Faults>,
    retry: RetryPolicy,
    records: Arc<Mutex<Records>>,
    notify: Arc<Notify>,
    /// Weak, so the task ends when the instance is dropped.
    tx: mpsc::WeakUnboundedSender<Job>,
}

impl Worker {
    fn record(&self, job: &Job, outcome: &str, status: Option<u16>, error: Option<String>) {
        let mut r = self.records.lock().unwrap_or_else(|p| p.into_inner());
        r.seq += 1;
        let seq = r.seq;
        r.list.push(Delivery {
            seq,
            webhook_ids: job.webhook_ids.clone(),
            url: job.url.clone(),
            event: job.event.clone(),
            identifier: job.identifier.clone(),
            attempt: job.attempt,
            outcome: outcome.into(),
            status,
            error,
            body: job.body.clone(),
        });
        drop(r);
        self.notify.notify_waiters();
    }

    async fn run(self, mut rx: mpsc::UnboundedReceiver<Job>) {
        let mut held: Option<Job> = None;
        loop {
            let next = if held.is_some() {
                // A held delivery waits briefly for a partner to swap with.
                match tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
                    Ok(j) => j,
                    Err(_) => {
                        if let Some(h) = held.take() {
                            self.deliver_first(h).await;
                        }
                        continue;
                    }
                }
            } else {
                rx.recv().await
            };
            let Some(job) = next else { break };
            let cfg = self.faults.get();
            if job.attempt == 0 && cfg.webhook_reorder {
                match held.take() {
                    None => {
                        held = Some(job);
                        continue;
                    }
                    Some(h) => {
                        self.deliver_first(job).await;
                        self.deliver_first(h).await;
                        continue;
                    }
                }
            }
            if let Some(h) = held.take() {
                self.deliver_first(h).await;
            }
            if job.attempt == 0 {
                self.deliver_first(job).await;
            } else {
                self.post(job, "delivered").await;
            }
        }
    }

    /// First attempt: apply drop/duplicate/delay faults, then POST.
    async fn deliver_first(&self, job: Job) {
        let (drop, dup) = self.faults.webhook_roll();
        if drop {
            tracing::debug!(url = %job.url, event = %job.event, "webhook dropped by fault");
            self.record(&job, "dropped", None, None);
            return;
        }
        let delay = self.faults.get().webhook_delay_ms;
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        self.post(job.clone(), "delivered").await;
        if dup {
            self.post(job, "duplicate").await;
        }
    }

    async fn post(&self, job: Job, ok_outcome: &str) {
        let mut req = self
            .client
            .post(&job.url)
            .header("User-Agent", "Atlassian Webhook HTTP Client")
            .header("X-Atlassian-Webhook-Identifier", &job.identifier)
            .header("X-Atlassian-Webhook-Flow", "Primary");
        if job.attempt > 0 {
            req = req.header("X-Atlassian-Webhook-Retry", job.attempt.to_string());
        }
        req = match &job.body {
            Some(b) => req.json(b),
            None => req,
        };
        let res = req.send().await;
        let (status, error) = match res {
            Ok(r) => (Some(r.status().as_u16()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        // Jira retries on connection failures, 5xx and a few throttling codes.
        let retryable = match status {
            None => true,
            Some(s) => s >= 500 || matches!(s, 408 | 409 | 425 | 429),
        };
        let success = status.is_some_and(|s| (200..300).contains(&s));
        self.record(
            &job,
            if success { ok_outcome } else { "failed" },
            status,
            error,
        );
        if !success && retryable && job.attempt < self.retry.max_retries {
            let wait = self.retry.base_delay * 2u32.saturating_pow(job.attempt);
            let tx = self.tx.clone();
            let mut next = job;
            next.attempt += 1;
            tokio::spawn(async move {
                tokio::time::sleep(wait).await;
                if let Some(tx) = tx.upgrade() {
                    let _ = tx.send(next);
                }
            });
        }
    }
}
