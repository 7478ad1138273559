//! Running a rule natively under `cargo test`: a per-thread config map in
//! place of the host's, captured log lines, and sample issues and contexts.
//!
//! Only available off `wasm32`. A rule's tests call its `Rule` methods directly:
//!
//! ```
//! use twinsync_sdk::prelude::*;
//! use twinsync_sdk::testing::{context, sample_issue, take_logs, with_config};
//!
//! let project = with_config(&[("project", "DEST")], || local_project(&context(true)));
//! assert_eq!(project, Ok(Some("DEST".to_string())));
//! twinsync_sdk::log::info("hello");
//! assert_eq!(take_logs(), vec![(Level::Info, "hello".to_string())]);
//! ```

use crate::host::native::{CONFIG, LOGS};
use crate::rich_text;
use crate::types::{
    Attachment, Comment, CustomField, Issue, Level, SyncContext, SyncEvent, User, Value,
};
use std::collections::HashMap;

/// Runs `f` with exactly `pairs` as this thread's config, then restores the
/// previous config (also when `f` panics).
pub fn with_config<R>(pairs: &[(&str, &str)], f: impl FnOnce() -> R) -> R {
    struct Restore(Option<HashMap<String, String>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                CONFIG.with(|c| *c.borrow_mut() = previous);
            }
        }
    }
    let map = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let _restore = Restore(Some(CONFIG.with(|c| c.replace(map))));
    f()
}

/// Sets one config key for the rest of this thread's test (see [`with_config`] for a scoped one).
pub fn set_config(key: &str, value: &str) {
    CONFIG.with(|c| c.borrow_mut().insert(key.to_owned(), value.to_owned()));
}

/// Removes every config key of this thread.
pub fn clear_config() {
    CONFIG.with(|c| c.borrow_mut().clear());
}

/// The log lines this thread's rule calls wrote since the last call, oldest first.
pub fn take_logs() -> Vec<(Level, String)> {
    LOGS.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// A user with display name `name`, email `email`, account id `acc-<name>`
/// and user name `<name>`, both lower-cased.
pub fn user(name: &str, email: &str) -> User {
    let lower = name.to_lowercase();
    User {
        account_id: Some(format!("acc-{lower}")),
        name: Some(lower),
        display_name: Some(name.to_owned()),
        email: Some(email.to_owned()),
    }
}

/// A plain-text comment by Ada.
pub fn comment(id: &str, body: &str, internal: bool) -> Comment {
    Comment {
        id: id.to_owned(),
        author: Some(user("Ada", "ada@example.com")),
        body: rich_text(body),
        internal,
        created: "2026-11-20T09:00:00.000+0000".to_owned(),
        updated: "2026-11-20T09:00:00.000+0000".to_owned(),
    }
}

/// Attachment metadata for a 1 KiB file uploaded by Ada.
pub fn attachment(id: &str, filename: &str) -> Attachment {
    Attachment {
        id: id.to_owned(),
        filename: filename.to_owned(),
        mime_type: "application/octet-stream".to_owned(),
        size: 1024,
        author: Some(user("Ada", "ada@example.com")),
        created: "2026-11-20T09:30:00.000+0000".to_owned(),
    }
}

/// A custom field with a value.
pub fn custom_field(id: &str, name: &str, value: Value) -> CustomField {
    CustomField {
        id: id.to_owned(),
        name: name.to_owned(),
        value: Some(value),
    }
}

/// A filled-in issue `SRC-1` of project `SRC`: type Bug, status "In Progress",
/// priority High, two labels, one component, assignee Ada (ada@example.com),
/// reporter Bob, a due date, a public comment `10001`, an internal comment
/// `10002`, an attachment `20001` (`trace.log`) and custom fields `Team`
/// (customfield_10010, choice "Blue"), `Story Points` (customfield_10020, 5)
/// and `Customer` (customfield_10030, text "ACME Corp"); no security level.
pub fn sample_issue() -> Issue {
    Issue {
        key: "SRC-1".to_owned(),
        id: "10000".to_owned(),
        project: "SRC".to_owned(),
        issue_type: "Bug".to_owned(),
        summary: "Checkout fails for ACME Corp".to_owned(),
        description: Some(rich_text(
            "Paying with a saved card returns HTTP 500 for ACME Corp.",
        )),
        status: "In Progress".to_owned(),
        priority: Some("High".to_owned()),
        labels: vec!["checkout".to_owned(), "payments".to_owned()],
        components: vec!["Web".to_owned()],
        assignee: Some(user("Ada", "ada@example.com")),
        reporter: Some(user("Bob", "bob@example.com")),
        due_date: Some("2026-12-01".to_owned()),
        parent: None,
        comments: vec![
            comment("10001", "Reproduced on staging.", false),
            comment("10002", "Internal: ACME is on the enterprise plan.", true),
        ],
        attachments: vec![attachment("20001", "trace.log")],
        custom_fields: vec![
            custom_field(
                "customfield_10010",
                "Team",
                Value::Choice("Blue".to_owned()),
            ),
            custom_field("customfield_10020", "Story Points", Value::Number(5.0)),
            custom_field(
                "customfield_10030",
                "Customer",
                Value::Text("ACME Corp".to_owned()),
            ),
        ],
        created: "2026-11-19T08:00:00.000+0000".to_owned(),
        updated: "2026-11-20T09:30:00.000+0000".to_owned(),
        security_level: None,
        worklogs: Vec::new(),
        links: Vec::new(),
        fix_versions: Vec::new(),
        affected_versions: Vec::new(),
    }
}

/// A context on connection `test` between sides `left` (local) and `right`;
/// on first sync no keys are known yet, otherwise `SRC-1` and `DEST-1`.
pub fn context(first_sync: bool) -> SyncContext {
    SyncContext {
        connection: "test".to_owned(),
        local_side: "left".to_owned(),
        remote_side: "right".to_owned(),
        first_sync,
        local_key: (!first_sync).then(|| "SRC-1".to_owned()),
        remote_key: (!first_sync).then(|| "DEST-1".to_owned()),
        event: if first_sync {
            SyncEvent::Created
        } else {
            SyncEvent::Updated
        },
    }
}

/// A context for an incoming call: like [`context`] with event `replica`.
pub fn incoming_context(first_sync: bool) -> SyncContext {
    SyncContext {
        event: SyncEvent::Replica,
        ..context(first_sync)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    #[test]
    fn with_config_restores_the_previous_config_even_after_a_panic() {
        set_config("outer", "1");
        with_config(&[("inner", "2")], || {
            assert_eq!(config("inner").as_deref(), Some("2"));
            assert_eq!(config("outer"), None);
        });
        assert_eq!(config("outer").as_deref(), Some("1"));
        let caught = std::panic::catch_unwind(|| with_config(&[("inner", "2")], || panic!("boom")));
        assert!(caught.is_err());
        assert_eq!(config("inner"), None);
        assert_eq!(config("outer").as_deref(), Some("1"));
        clear_config();
        assert_eq!(config("outer"), None);
    }

    #[test]
    fn logs_are_captured_in_order_and_taken_once() {
        crate::log::warn("first");
        crate::log::debug(format!("second {}", 2));
        assert_eq!(
            take_logs(),
            vec![
                (Level::Warn, "first".to_owned()),
                (Level::Debug, "second 2".to_owned())
            ]
        );
        assert!(take_logs().is_empty());
    }
}
