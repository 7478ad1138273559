//! The admin API's answers as text: `status`, `connection list`, `errors`, `rules try` and
//! `rules versions` print these unless asked for `--json`.

use std::fmt::Write as _;

use serde_json::Value;

/// A JSON value as a table cell: `-` for null, strings without quotes.
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

/// `twinsync status` as a table: one row per connection.
pub(crate) fn status_table(status: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<24} {:<8} {:>7} {:>7} {:>7} {:>7}  {:<10} RULES",
        "CONNECTION", "STATE", "TWINS", "QUEUED", "FAILED", "DONE", "LAST SYNC"
    );
    let now = twinsync::store::now_ms();
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
pub(crate) fn connections_table(status: &Value) -> String {
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
pub(crate) fn errors_table(events: &Value) -> String {
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
pub(crate) fn trial_text(report: &Value) -> String {
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

/// A side's rule history: version, serving mark, hash, size, when published, note.
pub(crate) fn rule_versions_table(answer: &Value) -> String {
    let mut out = String::new();
    let versions = answer["versions"].as_array().map_or(&[][..], Vec::as_slice);
    if versions.is_empty() {
        let _ = writeln!(
            out,
            "{}/{}: no version published yet (the side runs its rule file as it is)",
            text(&answer["connection"]),
            text(&answer["side"])
        );
        return out;
    }
    let _ = writeln!(
        out,
        "{:>7}  {:<7}  {:<12}  {:>9}  {:<20}  NOTE",
        "VERSION", "SERVING", "SHA256", "BYTES", "PUBLISHED (UTC)"
    );
    for v in versions {
        let published = v["published_at"]
            .as_i64()
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map_or_else(
                || "-".to_string(),
                |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
            );
        let _ = writeln!(
            out,
            "{:>7}  {:<7}  {:<12}  {:>9}  {:<20}  {}",
            text(&v["version"]),
            if v["current"] == true { "*" } else { "" },
            v["sha256"].as_str().map_or("", |h| &h[..h.len().min(12)]),
            text(&v["size"]),
            published,
            text(&v["note"])
        );
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
        assert_eq!(ago(Some(0), 125_000), "2m ago");
    }
}
