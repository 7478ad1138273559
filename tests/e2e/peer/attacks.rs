//! A hostile peer, replayed as an outside party would: correctly signed requests over the
//! pinned HTTPS link that try to take over issues, walk paths, replay to another node, fill
//! the nonce store or bounce the node elsewhere with redirects. Each is refused, nothing
//! changes in either Jira, nothing is sent, and the node's log names the peer and the reason.
//! One module for issues a peer tries to take over, one for requests sent where they do not
//! belong; the log capture and the checks that nothing changed are shared here.

use std::io;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::Method;
use serde_json::{Value, json};
use twinsync::peer::Identity;
use twinsync::store::now_ms;
use twinsync_e2e::pair::Org;
use twinsync_e2e::wait::Wait;
use twinsync_jira_sim::SimHandle;

use super::raw;

mod misdirection;
mod takeover;

/// Every log line of the in-process nodes of this test binary.
static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber once; call before starting the nodes whose log a test reads.
fn capture_logs() {
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = Sink(buf.clone());
        let _ = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
            .with_writer(move || sink.clone())
            .try_init();
        buf
    });
}

fn log_lines() -> Vec<String> {
    let Some(buf) = LOG.get() else {
        return Vec::new();
    };
    let bytes = buf.lock().unwrap_or_else(|p| p.into_inner()).clone();
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits for a log line holding every one of `parts`; on giving up, prints the refusals seen.
async fn logged(parts: &[&str]) -> String {
    Wait::new(&format!("a log line with all of {parts:?}"))
        .until(|| async {
            let lines = log_lines();
            if let Some(l) = lines.iter().find(|l| parts.iter().all(|p| l.contains(p))) {
                return Ok(l.clone());
            }
            let seen: Vec<&String> = lines
                .iter()
                .filter(|l| l.contains("refused") || l.contains("redirect"))
                .collect();
            Err(format!("refusals logged:\n{seen:#?}"))
        })
        .await
}

/// Every issue of a simulated Jira but `except`, as text: what must not change.
fn jira_state(sim: &SimHandle, except: &[&str]) -> String {
    let st = sim.state();
    let issues: Vec<_> = st
        .issues
        .values()
        .filter(|i| !except.contains(&i.key.as_str()))
        .collect();
    format!("{issues:?} {:?}", st.attachments)
}

/// Neither Jira changed but for the twins `keys`: each is as its `before` state says.
fn assert_jiras_unchanged((a, b): (&Org, &Org), keys: (&str, &str), before: (&str, &str)) {
    assert_eq!(
        jira_state(&a.sim, &[keys.0]),
        before.0,
        "nothing changed in A's Jira"
    );
    assert_eq!(
        jira_state(&b.sim, &[keys.1]),
        before.1,
        "nothing changed in B's Jira"
    );
}

fn all_events(org: &Org) -> usize {
    org.node()
        .store
        .events(None, Some("ab"), 10_000, 0)
        .expect("events")
        .len()
}

async fn post_signed(
    to: &Org,
    from: &Identity,
    path: &str,
    body: Value,
    nonce: &str,
) -> (u16, String) {
    raw(
        to,
        from,
        Method::POST,
        path,
        serde_json::to_vec(&body).expect("json"),
        (now_ms(), nonce),
        |_, _| {},
    )
    .await
}

/// A replica from B's side for B's issue `key`, as B's node would send it.
fn replica_from_b(key: &str, summary: &str, attachments: Value) -> Value {
    json!({
        "connection": "ab",
        "envelope": {
            "origin_side": "b", "origin_key": key, "seq": 1, "ack": 0, "updated": "",
            "replica": {"summary": summary, "issue_type": "Task", "attachments": attachments}
        }
    })
}
