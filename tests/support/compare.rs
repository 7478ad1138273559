//! The two sides compared: what the `basic` rule syncs of each issue in a simulated Jira, in
//! a form both flavours share, so a test can ask whether twins agree and spot duplicates.

use std::collections::BTreeMap;

use twinsync_jira_sim::SimHandle;

/// One issue as the `basic` rule syncs it.
#[derive(Debug)]
pub struct Synced {
    /// The issue's key, e.g. `SUP-12`.
    pub key: String,
    /// What the rule syncs of it.
    pub fields: SyncedFields,
}

/// What must be equal between twins (their keys differ, of course).
#[derive(Debug, PartialEq, Eq)]
pub struct SyncedFields {
    /// The summary.
    pub summary: String,
    /// The issue type's name, e.g. `Bug`.
    pub issue_type: String,
    /// Plain text, white space folded.
    pub description: String,
    /// The status's name, e.g. `Done`.
    pub status: String,
    /// The priority's name, if the issue has one.
    pub priority: Option<String>,
    /// Sorted.
    pub labels: Vec<String>,
    /// Sorted, with repeats: a duplicate shows as a repeat.
    pub comments: Vec<String>,
    /// (name, size), sorted, with repeats.
    pub attachments: Vec<(String, usize)>,
    /// Each worklog's seconds, sorted, with repeats.
    pub worklogs: Vec<u64>,
    /// Each link's type name, sorted, with repeats (the other ends' keys differ by side).
    pub links: Vec<String>,
}

fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every issue of a simulated Jira whose key starts with `prefix`, in key order.
pub fn snapshot(h: &SimHandle, prefix: &str) -> Vec<Synced> {
    let st = h.state();
    let mut out = Vec::new();
    for i in st.issues.values() {
        if !i.key.starts_with(prefix) {
            continue;
        }
        let mut comments: Vec<String> = i
            .comments
            .iter()
            .map(|c| words(&st.plain_text(&c.body)))
            .collect();
        comments.sort();
        let mut attachments: Vec<(String, usize)> = i
            .attachments
            .iter()
            .filter_map(|id| st.attachments.get(id))
            .map(|a| (a.filename.clone(), a.content.len()))
            .collect();
        attachments.sort();
        let mut labels = i.labels.clone();
        labels.sort();
        let mut worklogs: Vec<u64> = st
            .worklogs
            .values()
            .filter(|w| w.issue_id == i.id)
            .map(|w| w.time_spent_seconds)
            .collect();
        worklogs.sort();
        let mut links: Vec<String> = st
            .links
            .values()
            .filter(|l| l.inward == i.id || l.outward == i.id)
            .map(|l| {
                st.link_types
                    .iter()
                    .find(|t| t.id == l.type_id)
                    .map_or_else(|| l.type_id.clone(), |t| t.name.clone())
            })
            .collect();
        links.sort();
        let fields = SyncedFields {
            summary: i.summary.clone(),
            issue_type: st
                .issue_types
                .iter()
                .find(|t| t.id == i.issue_type)
                .map_or_else(|| i.issue_type.clone(), |t| t.name.clone()),
            description: i
                .description
                .as_ref()
                .map(|d| words(&st.plain_text(d)))
                .unwrap_or_default(),
            status: st
                .status(&i.status)
                .map_or_else(|| i.status.clone(), |s| s.name.clone()),
            priority: i.priority.as_ref().map(|p| {
                st.priorities
                    .iter()
                    .find(|x| &x.id == p)
                    .map_or_else(|| p.clone(), |x| x.name.clone())
            }),
            labels,
            comments,
            attachments,
            worklogs,
            links,
        };
        out.push(Synced {
            key: i.key.clone(),
            fields,
        });
    }
    out.sort_by(|x, y| x.key.cmp(&y.key));
    out
}

/// Issues by key.
pub fn by_key(issues: impl IntoIterator<Item = Synced>) -> BTreeMap<String, Synced> {
    issues.into_iter().map(|s| (s.key.clone(), s)).collect()
}

/// Issues by summary; issues sharing a summary are all kept, so duplicates show.
pub fn by_summary(issues: impl IntoIterator<Item = Synced>) -> BTreeMap<String, Vec<Synced>> {
    let mut out: BTreeMap<String, Vec<Synced>> = BTreeMap::new();
    for s in issues {
        out.entry(s.fields.summary.clone()).or_default().push(s);
    }
    out
}
