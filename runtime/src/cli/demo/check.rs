//! `twinsync demo --check`: the scripted scenario. Each step is made on one simulator and
//! waited for on the other; a timeout, an echo or a failed event is a divergence.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use twinsync_jira_sim::SimHandle;

use super::DemoError;
use super::runner::Demo;

impl Demo {
    async fn wait<T, F, Fut>(&self, what: &str, mut probe: F) -> Result<T, DemoError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>, DemoError>>,
    {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(v) = probe().await? {
                return Ok(v);
            }
            if Instant::now() > deadline {
                return Err(DemoError::Divergence(format!(
                    "timed out waiting for {what}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn issue(&self, sim: &SimHandle, key: &str) -> Result<Value, DemoError> {
        self.call(sim, reqwest::Method::GET, &format!("/issue/{key}"), None)
            .await
    }

    /// The scripted scenario: each step is checked on the other side.
    pub(crate) async fn check(&self) -> Result<(), DemoError> {
        let step = |s: &str| println!("  ✓ {s}");
        let created = self
            .call(&self.a, reqwest::Method::POST, "/issue", Some(json!({"fields": {
                "project": {"key": "SUP"}, "issuetype": {"name": "Bug"},
                "summary": "Checkout button does nothing",
                "description": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
                    {"type": "text", "text": "Clicking "}, {"type": "text", "text": "Pay now", "marks": [{"type": "strong"}]},
                    {"type": "text", "text": " has no effect."}]}]},
                "priority": {"name": "High"}, "labels": ["sync", "checkout"]
            }})))
            .await?;
        let key_a = created["key"].as_str().unwrap_or_default().to_string();
        let store = self.node.node.store.clone();
        let key_b = self
            .wait("the twin on Data Center", || {
                let store = store.clone();
                let key_a = key_a.clone();
                async move {
                    Ok(store
                        .twin_by_local("support-to-dev", "support", &key_a)
                        .map_err(|e| DemoError::Setup(e.to_string()))?
                        .and_then(|t| t.remote_key))
                }
            })
            .await?;
        let b = self.issue(&self.b, &key_b).await?;
        expect_eq(
            &b["fields"]["summary"],
            "Checkout button does nothing",
            "summary on DC",
        )?;
        expect_eq(
            &b["fields"]["description"],
            "Clicking *Pay now* has no effect.",
            "description as wiki markup on DC",
        )?;
        step(&format!(
            "{key_a} (Cloud) created {key_b} (Data Center), bold text as wiki markup"
        ));

        self.call(
            &self.a,
            reqwest::Method::PUT,
            &format!("/issue/{key_a}"),
            Some(json!({"fields": {"summary": "Checkout button does nothing on Safari"}})),
        )
        .await?;
        self.wait("the edited summary on DC", || async {
            Ok((self.issue(&self.b, &key_b).await?["fields"]["summary"]
                == "Checkout button does nothing on Safari")
                .then_some(()))
        })
        .await?;
        step("summary edited on Cloud, updated on Data Center");

        self.call(
            &self.a,
            reqwest::Method::POST,
            &format!("/issue/{key_a}/transitions"),
            Some(json!({"transition": {"id": "11"}})),
        )
        .await?;
        self.wait("In Progress on DC", || async {
            Ok(
                (self.issue(&self.b, &key_b).await?["fields"]["status"]["name"] == "In Progress")
                    .then_some(()),
            )
        })
        .await?;
        step("status moved to In Progress on Cloud, transitioned on Data Center");

        self.call(
            &self.b,
            reqwest::Method::POST,
            &format!("/issue/{key_b}/comment"),
            Some(json!({"body": "Reproduced on *Safari 18*"})),
        )
        .await?;
        self.wait("the comment on Cloud", || async {
            let comments = &self.issue(&self.a, &key_a).await?["fields"]["comment"]["comments"];
            Ok((comments.as_array().map_or(0, Vec::len) == 1).then_some(()))
        })
        .await?;
        step("comment on Data Center arrived on Cloud once");

        // Settle, then make sure nothing echoes back and forth.
        self.wait("a quiet queue", || async {
            Ok((!store
                .has_open_events()
                .map_err(|e| DemoError::Setup(e.to_string()))?)
            .then_some(()))
        })
        .await?;
        let comments_b = self.issue(&self.b, &key_b).await?["fields"]["comment"]["comments"]
            .as_array()
            .map_or(0, Vec::len);
        if comments_b != 1 {
            return Err(DemoError::Divergence(format!(
                "{key_b} has {comments_b} comments, expected 1 (an echo?)"
            )));
        }
        let failed = store
            .events(Some(twinsync::store::EventState::Failed), None, 10, 0)
            .map_err(|e| DemoError::Setup(e.to_string()))?;
        if let Some(f) = failed.first() {
            return Err(DemoError::Divergence(format!(
                "event {} failed: {}",
                f.id,
                f.last_error.as_deref().unwrap_or("")
            )));
        }
        step("no echo, no failed events");
        Ok(())
    }
}

fn expect_eq(got: &Value, want: &str, what: &str) -> Result<(), DemoError> {
    if got.as_str().map(str::trim) == Some(want) {
        Ok(())
    } else {
        Err(DemoError::Divergence(format!(
            "{what}: expected {want:?}, got {got}"
        )))
    }
}
