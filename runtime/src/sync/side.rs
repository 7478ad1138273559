//! One connection side as the pipeline sees it: its Jira (through the client), its rule slot,
//! its rule config and limits, and its trigger. The side's project is a hard boundary here:
//! whatever a peer, a rule or a stored row names, `JiraSide` reads, writes and creates issues
//! of that project only.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::OnceCell;

use super::status_link::StatusLinkSettings;
use super::workflow::Available;
use crate::config::SyncMethod;
use crate::jira::{
    FieldCatalog, JiraClient, JiraError, NoUserMapping, PageCursor, RemoteLink, UploadSource,
    WriteContext, mapping,
};
use crate::model::{Changes, Issue, RichText};
use crate::rules::{RuleConfig, RuleLimits, RuleSlot};

/// A side's Jira work that failed, and whether trying again later can help.
#[derive(Debug, thiserror::Error)]
pub enum SideError {
    /// A Jira call failed.
    #[error(transparent)]
    Jira(#[from] JiraError),
    /// Changes could not become a request body.
    #[error(transparent)]
    Mapping(#[from] mapping::MappingError),
    /// The side refuses: an issue outside its project, an answer without what was asked for.
    #[error("{0}")]
    Refused(String),
}

impl SideError {
    /// Only Jira's own transient faults (5xx, 429, the network) are worth another try.
    pub fn is_transient(&self) -> bool {
        matches!(self, SideError::Jira(e) if e.is_transient())
    }
}

/// The fallback for users this instance does not know: the field is left as it is on the
/// twin (a custom user list keeps the users it knows), with a warning naming the user.
fn without_unknown_users(
    changes: &Changes,
    people: &mapping::ResolvedUsers,
    instance: &str,
) -> Changes {
    use crate::model::Value as V;
    let known = |r: &crate::model::UserRef| {
        let found = people.get(r).is_some();
        if !found {
            tracing::warn!(instance, user = ?r, "user not found on this instance; leaving the field as it is");
        }
        found
    };
    let mut out = changes.clone();
    if let Some(Some(r)) = &changes.assignee
        && !known(r)
    {
        out.assignee = None;
    }
    if let Some(r) = &changes.reporter
        && !known(r)
    {
        out.reporter = None;
    }
    out.custom_fields.retain_mut(|f| match &mut f.value {
        Some(V::User(u)) => known(&mapping::user_ref_of(u)),
        Some(V::Users(list)) => {
            list.retain(|u| known(&mapping::user_ref_of(u)));
            true
        }
        _ => true,
    });
    out
}

/// The entity property that marks an issue the node created as a twin.
pub(crate) const ORIGIN_PROPERTY: &str = "twinsync.origin";

/// Where a twin came from: connection, the sending side and its key.
pub(crate) struct TwinOrigin<'a> {
    pub(crate) connection: &'a str,
    pub(crate) side: &'a str,
    pub(crate) key: &'a str,
}

impl TwinOrigin<'_> {
    fn value(&self) -> serde_json::Value {
        serde_json::json!({ "connection": self.connection, "side": self.side, "key": self.key })
    }
}

/// A local issue as read for one sync event.
#[derive(Debug, Clone)]
pub(crate) struct LocalIssue {
    pub(crate) issue: Issue,
}

/// One side of a connection as the pipeline runs it: its Jira project, its rule and its trigger.
pub struct Side {
    /// The connection's name.
    pub connection: String,
    /// The side's name.
    pub name: String,
    /// The other side's name.
    pub(crate) other: String,
    /// The instance's name in the config, for messages.
    pub(crate) instance: String,
    /// The Jira project this side syncs.
    pub project: String,
    pub(crate) jira: JiraSide,
    pub(crate) slot: Arc<RuleSlot>,
    pub(crate) config: RuleConfig,
    pub(crate) limits: RuleLimits,
    /// JQL that puts matching issues under sync automatically.
    pub trigger: Option<String>,
    /// How this side's changes cross: automatic, manual (on request only) or disabled.
    pub sync: SyncMethod,
    /// A hash of the side's definition: a change of setup keeps the side when it is equal.
    pub(crate) fingerprint: String,
}

/// Whether `key` (`PROJ-123`) is an issue key of `project`.
pub(crate) fn in_project(key: &str, project: &str) -> bool {
    key.rsplit_once('-').is_some_and(|(p, n)| {
        p.eq_ignore_ascii_case(project) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Where `jql`'s `ORDER BY` starts (byte offset), outside quoted strings; `None` without one.
fn order_by_at(jql: &str) -> Option<usize> {
    let b = jql.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(_) if c == b'\\' => i += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None => {
                let word_start = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
                if word_start && b.len() >= i + 5 && b[i..i + 5].eq_ignore_ascii_case(b"order") {
                    let rest = &jql[i + 5..];
                    let trimmed = rest.trim_start();
                    if trimmed.len() < rest.len()
                        && trimmed.len() >= 2
                        && trimmed[..2].eq_ignore_ascii_case("by")
                        && trimmed[2..]
                            .chars()
                            .next()
                            .is_none_or(|c| c.is_whitespace())
                    {
                        return Some(i);
                    }
                }
            }
        }
        i += 1;
    }
    None
}

/// `jql` restricted to `project`: `project = "P" AND (its restriction) ORDER BY ...`. Every
/// search of a side stays in its project, whatever a trigger or a bulk run names, and none is
/// unbounded (Jira Cloud's `search/jql` refuses a query without a restriction).
fn scope_to_project(project: &str, jql: &str) -> String {
    let (restriction, order) = match order_by_at(jql) {
        Some(at) => (&jql[..at], Some(jql[at..].trim())),
        None => (jql, None),
    };
    let project = format!(
        "project = \"{}\"",
        project.replace('\\', "\\\\").replace('"', "\\\"")
    );
    let mut out = match restriction.trim() {
        "" => project,
        r => format!("{project} AND ({r})"),
    };
    if let Some(o) = order {
        out.push(' ');
        out.push_str(o);
    }
    out
}

/// The refusal of an issue outside the side's project: permanent, an admin must look.
fn outside(key: &str, found: Option<&str>, project: &str) -> SideError {
    let place = found.map_or(String::new(), |p| format!(" (in project {p})"));
    SideError::Refused(format!(
        "issue {key}{place} is outside this side's project {project}; it is never read, written or sent"
    ))
}

/// The Jira calls the pipeline makes for one side, through the shared client of its instance.
pub(crate) struct JiraSide {
    client: Arc<JiraClient>,
    /// The side's project: no call leaves it.
    project: String,
    catalog: OnceCell<FieldCatalog>,
    /// Where attachment bytes pass through on their way from one Jira to the other.
    spool: PathBuf,
    /// Whether and how the side writes sync status links (on by default).
    status: StatusLinkSettings,
}

/// An attachment's bytes on disk, removed when dropped.
pub(crate) struct Spooled {
    pub(crate) path: PathBuf,
    pub(crate) mime_type: String,
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl JiraSide {
    /// `spool` must be a directory only the node can read: attachments pass through it.
    pub(crate) fn new(client: Arc<JiraClient>, spool: PathBuf, project: &str) -> Self {
        JiraSide {
            client,
            project: project.to_string(),
            catalog: OnceCell::new(),
            spool,
            status: StatusLinkSettings::default(),
        }
    }

    /// Turns the side's sync status links on or off; `url_base` is the admin page's address,
    /// where a twin whose other half is on a peer node links to.
    #[allow(
        dead_code,
        reason = "the node's config wires it (sync/node.rs); until then every side keeps the default"
    )]
    pub(crate) fn with_status_link(mut self, enabled: bool, url_base: Option<String>) -> Self {
        self.status = StatusLinkSettings { enabled, url_base };
        self
    }

    pub(crate) fn status_settings(&self) -> &StatusLinkSettings {
        &self.status
    }

    /// The issue's `updated`, read alone (`None` if Jira left it out).
    pub(crate) async fn issue_updated(&self, key: &str) -> Result<Option<String>, SideError> {
        self.guard(key).await?;
        Ok(self.client.issue_updated(key).await?)
    }

    /// Writes a twin's sync status: the issue property, then the remote link to its other half.
    pub(crate) async fn write_status(
        &self,
        key: &str,
        link: &RemoteLink,
        property: &str,
        value: &serde_json::Value,
    ) -> Result<(), SideError> {
        self.guard(key).await?;
        self.client.set_issue_property(key, property, value).await?;
        self.client.upsert_remote_link(key, link).await?;
        Ok(())
    }

    pub(crate) fn client(&self) -> &Arc<JiraClient> {
        &self.client
    }

    /// Refuses a key outside the side's project before any call is made with it. A key with
    /// another prefix passes only if Jira says the issue is in the project (a renamed
    /// project's old keys).
    pub(super) async fn guard(&self, key: &str) -> Result<(), SideError> {
        if in_project(key, &self.project) {
            return Ok(());
        }
        match self.client.get_issue(key).await {
            Ok(issue) if issue.project.eq_ignore_ascii_case(&self.project) => Ok(()),
            Ok(issue) => Err(outside(key, Some(&issue.project), &self.project)),
            Err(e) if e.is_not_found() => Err(outside(key, None, &self.project)),
            Err(e) => Err(e.into()),
        }
    }

    /// The issue, or `None` if it does not exist (any more); an error if it is outside the
    /// side's project, whatever key led here.
    pub(crate) async fn get_issue(&self, key: &str) -> Result<Option<LocalIssue>, SideError> {
        match self.client.get_issue(key).await {
            Ok(issue) if issue.project.eq_ignore_ascii_case(&self.project) => {
                Ok(Some(LocalIssue { issue }))
            }
            Ok(issue) => Err(outside(key, Some(&issue.project), &self.project)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn transitions(&self, key: &str) -> Result<Vec<Available>, SideError> {
        self.guard(key).await?;
        Ok(self
            .client
            .transitions(key)
            .await?
            .into_iter()
            .map(|t| Available {
                id: t.id,
                to: t.to_status,
            })
            .collect())
    }

    pub(crate) async fn transition(&self, key: &str, id: &str) -> Result<(), SideError> {
        self.guard(key).await?;
        Ok(self.client.transition(key, id, None).await?)
    }

    async fn catalog(&self) -> Result<&FieldCatalog, SideError> {
        Ok(self
            .catalog
            .get_or_try_init(|| self.client.field_catalog())
            .await?)
    }

    /// Resolves the users and custom fields the changes name, then builds the request body.
    async fn body(
        &self,
        changes: &Changes,
        create: Option<&str>,
    ) -> Result<serde_json::Value, SideError> {
        let people = self
            .client
            .resolve_users(&mapping::user_refs(changes))
            .await?;
        let changes = &without_unknown_users(changes, &people, self.client.name());
        let fields = if changes.custom_fields.is_empty() {
            &FieldCatalog::default()
        } else {
            self.catalog().await?
        };
        let cx = WriteContext {
            flavour: self.client.flavour(),
            users: &NoUserMapping,
            people: &people,
            fields,
        };
        Ok(match create {
            Some(project) => mapping::create_request(changes, Some(project), None, &cx)?,
            None => mapping::edit_request(changes, &cx)?,
        })
    }

    /// Creates the twin, marked with an entity property naming its origin, so that after a
    /// crash between Jira's answer and the store's record the node can find it instead of
    /// creating it again.
    pub(crate) async fn create_issue(
        &self,
        project: &str,
        fields: &Changes,
        origin: &TwinOrigin<'_>,
    ) -> Result<String, SideError> {
        // A rule's `changes.project` or a caller's project never takes the twin elsewhere.
        if let Some(other) = [Some(project), fields.project.as_deref()]
            .into_iter()
            .flatten()
            .find(|p| !p.eq_ignore_ascii_case(&self.project))
        {
            return Err(SideError::Refused(format!(
                "creating a twin in project {other}: outside this side's project {}",
                self.project
            )));
        }
        let mut body = self.body(fields, Some(project)).await?;
        body["properties"] =
            serde_json::json!([{ "key": ORIGIN_PROPERTY, "value": origin.value() }]);
        Ok(self.client.create_issue(body).await?.key)
    }

    /// The issue created for `origin` since `since_ms`, if one exists (the crash-recovery path).
    pub(crate) async fn find_created(
        &self,
        project: &str,
        origin: &TwinOrigin<'_>,
        since_ms: i64,
    ) -> Result<Option<LocalIssue>, SideError> {
        if !project.eq_ignore_ascii_case(&self.project) {
            return Ok(None);
        }
        let minutes = ((crate::store::now_ms() - since_ms) / 60_000 + 2).max(2);
        let jql = format!(
            "project = \"{}\" AND created >= -{minutes}m ORDER BY created DESC",
            project.replace('"', "\\\"")
        );
        let want = origin.value();
        let mut cursor = PageCursor::Start;
        loop {
            let (issues, next, _) = self.search_keys(&jql, &cursor, 100).await?;
            for issue in issues {
                if self
                    .client
                    .issue_property(&issue.key, ORIGIN_PROPERTY)
                    .await?
                    .is_some_and(|v| v == want)
                {
                    return self.get_issue(&issue.key).await;
                }
            }
            match next {
                Some(n) => cursor = n,
                None => return Ok(None),
            }
        }
    }

    pub(crate) async fn edit_issue(&self, key: &str, fields: &Changes) -> Result<(), SideError> {
        self.guard(key).await?;
        let body = self.body(fields, None).await?;
        Ok(self.client.edit_issue(key, body).await?)
    }

    pub(crate) async fn add_comment(
        &self,
        key: &str,
        body: &RichText,
        internal: bool,
    ) -> Result<String, SideError> {
        self.guard(key).await?;
        Ok(self
            .client
            .add_comment(key, body, internal, &NoUserMapping)
            .await?
            .id)
    }

    pub(crate) async fn update_comment(
        &self,
        key: &str,
        id: &str,
        body: &RichText,
        internal: bool,
    ) -> Result<(), SideError> {
        self.guard(key).await?;
        self.client
            .update_comment(key, id, body, internal, &NoUserMapping)
            .await?;
        Ok(())
    }

    /// Deletes an issue of the side's project (with its sub-tasks); one already gone is not an error.
    pub(crate) async fn delete_issue(&self, key: &str) -> Result<(), SideError> {
        self.guard(key).await?;
        match self.client.delete_issue(key).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => Ok(other?),
        }
    }

    /// Links two issues of the side's project; both ends are checked against it.
    pub(crate) async fn add_issue_link(
        &self,
        key: &str,
        link_type: &str,
        direction: crate::model::LinkDirection,
        other: &str,
    ) -> Result<(), SideError> {
        self.guard(key).await?;
        self.guard(other).await?;
        Ok(self
            .client
            .add_issue_link(key, link_type, direction, other)
            .await?)
    }

    /// Removes a link of `key`; one already gone is not an error.
    pub(crate) async fn delete_issue_link(&self, key: &str, id: &str) -> Result<(), SideError> {
        self.guard(key).await?;
        match self.client.delete_issue_link(id).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => Ok(other?),
        }
    }

    /// The names of the side's project's versions.
    pub(crate) async fn versions(&self) -> Result<Vec<String>, SideError> {
        Ok(self.client.project_versions(&self.project).await?)
    }

    /// Creates a version in the side's project.
    pub(crate) async fn create_version(&self, name: &str) -> Result<(), SideError> {
        self.client.create_version(&self.project, name).await?;
        Ok(())
    }

    /// Whether the side's project is still visible with the side's credentials.
    pub(crate) async fn project_visible(&self) -> Result<bool, SideError> {
        Ok(self.client.project_visible(&self.project).await?)
    }

    pub(crate) async fn delete_comment(&self, key: &str, id: &str) -> Result<(), SideError> {
        self.guard(key).await?;
        match self.client.delete_comment(key, id).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => Ok(other?),
        }
    }

    /// Streams an attachment's bytes to a spool file (never held in memory whole).
    pub(crate) async fn download_attachment(&self, id: &str) -> Result<Spooled, SideError> {
        let download = self.client.download_attachment(id).await?;
        let mime_type = download
            .mime_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let spooled = Spooled {
            path: self
                .spool
                .join(format!("{}-{id}-{nanos}.part", self.client.name())),
            mime_type,
        };
        download.save_to(&spooled.path).await?;
        Ok(spooled)
    }

    /// Streams a spooled attachment up to `key`.
    pub(crate) async fn upload_attachment(
        &self,
        key: &str,
        filename: &str,
        spooled: &Spooled,
    ) -> Result<String, SideError> {
        self.guard(key).await?;
        let created = self
            .client
            .upload_attachment(
                key,
                filename,
                &spooled.mime_type,
                UploadSource::File(spooled.path.clone()),
            )
            .await?;
        created.into_iter().next().map(|a| a.id).ok_or_else(|| {
            SideError::Refused(format!(
                "uploading {filename} to {key}: Jira answered with no attachment"
            ))
        })
    }

    pub(crate) async fn delete_attachment(&self, id: &str) -> Result<(), SideError> {
        match self.client.delete_attachment(id).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => Ok(other?),
        }
    }

    /// One page of issue keys matching `jql`, and where the next page starts.
    /// How many issues `jql` matches on this side's Jira.
    pub(crate) async fn count(&self, jql: &str) -> Result<u64, SideError> {
        Ok(self.client.count_jql(jql).await?)
    }

    /// One page of issues matching `jql` with their summaries, for `twinsync connect`.
    pub(crate) async fn search_summaries(
        &self,
        jql: &str,
        cursor: &PageCursor,
        page_size: u32,
    ) -> Result<(Vec<Issue>, Option<PageCursor>), SideError> {
        let jql = scope_to_project(&self.project, jql);
        let page = self
            .client
            .search_page(&jql, "key,summary,updated,project", cursor, page_size)
            .await?;
        Ok((self.within(page.issues), page.next))
    }

    /// An issue property of an issue of this side's project (`None` when it has none).
    pub(crate) async fn issue_property(
        &self,
        key: &str,
        property: &str,
    ) -> Result<Option<serde_json::Value>, SideError> {
        self.guard(key).await?;
        Ok(self.client.issue_property(key, property).await?)
    }

    /// Marks an issue that existed before as a twin of `origin` (`twinsync connect`), with
    /// the property the node puts on every twin it creates.
    pub(crate) async fn mark_origin(
        &self,
        key: &str,
        origin: &TwinOrigin<'_>,
    ) -> Result<(), SideError> {
        self.guard(key).await?;
        Ok(self
            .client
            .set_issue_property(key, ORIGIN_PROPERTY, &origin.value())
            .await?)
    }

    pub(crate) async fn search_keys(
        &self,
        jql: &str,
        cursor: &PageCursor,
        page_size: u32,
    ) -> Result<(Vec<Issue>, Option<PageCursor>, Option<u64>), SideError> {
        let jql = scope_to_project(&self.project, jql);
        let page = self
            .client
            .search_page(&jql, "key,updated,project", cursor, page_size)
            .await?;
        Ok((self.within(page.issues), page.next, page.total))
    }

    /// Only the issues of this side's project: JQL that closes the scope's bracket (`x) OR
    /// (y`) must not bring in others.
    fn within(&self, issues: Vec<Issue>) -> Vec<Issue> {
        issues
            .into_iter()
            .filter(|i| {
                let inside = in_project(&i.key, &self.project);
                if !inside {
                    tracing::warn!(project = %self.project, issue = %i.key,
                        "a search answered an issue outside the side's project; left out");
                }
                inside
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{in_project, scope_to_project};

    #[test]
    fn every_search_is_scoped_to_the_project() {
        assert_eq!(scope_to_project("SUP", ""), "project = \"SUP\"");
        assert_eq!(
            scope_to_project("SUP", "ORDER BY created DESC"),
            "project = \"SUP\" ORDER BY created DESC"
        );
        assert_eq!(
            scope_to_project("SUP", "status = Done or labels = x order  by key"),
            "project = \"SUP\" AND (status = Done or labels = x) order  by key"
        );
        assert_eq!(
            scope_to_project("SUP", "summary ~ \"order by\" AND reorder = 1"),
            "project = \"SUP\" AND (summary ~ \"order by\" AND reorder = 1)"
        );
        assert_eq!(
            scope_to_project("SUP", "key = \"A-1\""),
            "project = \"SUP\" AND (key = \"A-1\")"
        );
    }

    #[test]
    fn a_key_is_in_its_project_only() {
        assert!(in_project("SUP-1", "SUP"));
        assert!(in_project("sup-12", "SUP"));
        for (key, project) in [
            ("DEV-1", "SUP"),
            ("SUPX-1", "SUP"),
            ("SUP-", "SUP"),
            ("SUP-1a", "SUP"),
            ("SUP", "SUP"),
            ("A-SUP-1", "SUP"),
            ("../SUP-1", "SUP"),
        ] {
            assert!(!in_project(key, project), "{key} in {project}");
        }
    }
}
