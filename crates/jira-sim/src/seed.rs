//! Seed data: the default instance (projects, users, a workflow, some issues) and the JSON seed format.

use serde::{Deserialize, Serialize};

use super::model::{
    CustomField, CustomKind, IssueType, LinkType, Priority, Resolution, Status, StatusCategory,
    Transition, User, Workflow,
};

/// Everything an instance starts with. Missing sections of a seed file take the default's.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Seed {
    /// The first user is the administrator the CLI prints.
    pub users: Vec<User>,
    /// Statuses.
    pub statuses: Vec<Status>,
    /// Priorities.
    pub priorities: Vec<Priority>,
    /// Resolutions.
    pub resolutions: Vec<Resolution>,
    /// Issue types.
    pub issue_types: Vec<IssueType>,
    /// Workflows; a project uses one by name.
    pub workflows: Vec<Workflow>,
    /// Custom fields.
    pub custom_fields: Vec<CustomField>,
    /// Issue link types.
    pub link_types: Vec<LinkType>,
    /// Projects.
    pub projects: Vec<SeedProject>,
    /// Issues, created in order.
    pub issues: Vec<SeedIssue>,
}

/// A project in a seed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedProject {
    /// Project key, e.g. `SUP`.
    pub key: String,
    /// Project name.
    pub name: String,
    /// User name of the project lead; the first user when absent.
    #[serde(default)]
    pub lead: Option<String>,
    /// Issue type names; all non-sub-task types plus the sub-task type when empty.
    #[serde(default)]
    pub issue_types: Vec<String>,
    /// Workflow name; the first workflow when absent.
    #[serde(default)]
    pub workflow: Option<String>,
    /// Component names.
    #[serde(default)]
    pub components: Vec<String>,
}

/// An issue in a seed; names stand for the instance's ids.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedIssue {
    /// Project key.
    pub project: String,
    /// Issue type name.
    #[serde(rename = "type")]
    pub issue_type: String,
    /// Summary.
    pub summary: String,
    /// Description as wiki markup.
    #[serde(default)]
    pub description: Option<String>,
    /// Status name; must be reachable, but seeds may place issues anywhere.
    #[serde(default)]
    pub status: Option<String>,
    /// Priority name.
    #[serde(default)]
    pub priority: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Component names.
    #[serde(default)]
    pub components: Vec<String>,
    /// User names.
    #[serde(default)]
    pub assignee: Option<String>,
    /// User name of the reporter; the first user when absent.
    #[serde(default)]
    pub reporter: Option<String>,
    /// Key of the parent (for sub-tasks), which must come earlier in the list.
    #[serde(default)]
    pub parent: Option<String>,
    /// Comments, in order.
    #[serde(default)]
    pub comments: Vec<SeedComment>,
}

/// A comment in a seed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedComment {
    /// User name of the author.
    pub author: String,
    /// Body as wiki markup.
    pub body: String,
    /// Marks the comment internal, as Jira Service Management does.
    #[serde(default)]
    pub internal: bool,
}

impl Default for Seed {
    fn default() -> Self {
        Self::default_seed()
    }
}

fn user(n: u32, name: &str, display: &str) -> User {
    User {
        account_id: format!("5f1a2b3c4d5e6f70819{n:05}"),
        name: name.into(),
        key: format!("JIRAUSER{}", 10000 + n),
        email: format!("{name}@example.com"),
        display_name: display.into(),
        active: true,
        token: Some(name.into()),
        groups: vec!["jira-software-users".into()],
    }
}

fn status(id: &str, name: &str, category: StatusCategory) -> Status {
    Status {
        id: id.into(),
        name: name.into(),
        category,
    }
}

fn tr(id: &str, name: &str, from: &[&str], to: &str, resolution: Option<&str>) -> Transition {
    Transition {
        id: id.into(),
        name: name.into(),
        from: from.iter().map(|s| s.to_string()).collect(),
        to: to.into(),
        resolution: resolution.map(str::to_string),
        requires: Vec::new(),
    }
}

fn named<T>(list: &[(&str, &str)], f: impl Fn(&str, &str) -> T) -> Vec<T> {
    list.iter().map(|(id, name)| f(id, name)).collect()
}

impl Seed {
    /// Two projects, four users, a review workflow and a handful of issues.
    pub fn default_seed() -> Seed {
        let mut admin = user(0, "admin", "Administrator");
        admin.groups.push("jira-administrators".into());
        let issue = |project: &str, t: &str, summary: &str, status: &str| SeedIssue {
            project: project.into(),
            issue_type: t.into(),
            summary: summary.into(),
            description: None,
            status: Some(status.into()),
            priority: None,
            labels: Vec::new(),
            components: Vec::new(),
            assignee: None,
            reporter: None,
            parent: None,
            comments: Vec::new(),
        };
        let mut sup1 = issue("SUP", "Bug", "Login page returns an error", "In Progress");
        sup1.description =
            Some("Steps:\n1. open the login page\n\nIt fails with error 500.".into());
        sup1.priority = Some("High".into());
        sup1.labels = vec!["customer".into(), "login".into()];
        sup1.components = vec!["Backend".into()];
        sup1.assignee = Some("alice".into());
        sup1.reporter = Some("carol".into());
        sup1.comments = vec![
            SeedComment {
                author: "carol".into(),
                body: "Seen again this morning.".into(),
                internal: false,
            },
            SeedComment {
                author: "alice".into(),
                body: "Looking into the logs.".into(),
                internal: true,
            },
        ];
        let mut sup2 = issue("SUP", "Task", "Export reports as CSV", "To Do");
        sup2.reporter = Some("carol".into());
        let mut sup3 = issue(
            "SUP",
            "Sub-task",
            "Add a regression test for the login error",
            "To Do",
        );
        sup3.parent = Some("SUP-1".into());
        sup3.assignee = Some("bob".into());
        let mut dev1 = issue("DEV", "Story", "Single sign-on for partners", "Done");
        dev1.labels = vec!["sso".into()];
        let mut dev2 = issue("DEV", "Task", "Upgrade the database driver", "In Review");
        dev2.assignee = Some("bob".into());
        dev2.components = vec!["API".into()];
        Seed {
            users: vec![
                admin,
                user(1, "alice", "Alice Example"),
                user(2, "bob", "Bob Example"),
                user(3, "carol", "Carol Customer"),
            ],
            statuses: vec![
                status("10000", "To Do", StatusCategory::New),
                status("3", "In Progress", StatusCategory::Indeterminate),
                status("10001", "In Review", StatusCategory::Indeterminate),
                status("10002", "Done", StatusCategory::Done),
            ],
            priorities: named(
                &[
                    ("1", "Highest"),
                    ("2", "High"),
                    ("3", "Medium"),
                    ("4", "Low"),
                    ("5", "Lowest"),
                ],
                |id, name| Priority {
                    id: id.into(),
                    name: name.into(),
                },
            ),
            resolutions: named(
                &[
                    ("10000", "Done"),
                    ("10001", "Won't Do"),
                    ("10002", "Duplicate"),
                ],
                |id, name| Resolution {
                    id: id.into(),
                    name: name.into(),
                },
            ),
            issue_types: vec![
                IssueType {
                    id: "10001".into(),
                    name: "Task".into(),
                    description: "A small, distinct piece of work.".into(),
                    subtask: false,
                },
                IssueType {
                    id: "10002".into(),
                    name: "Bug".into(),
                    description: "A problem or error.".into(),
                    subtask: false,
                },
                IssueType {
                    id: "10003".into(),
                    name: "Story".into(),
                    description: "A user-facing feature.".into(),
                    subtask: false,
                },
                IssueType {
                    id: "10004".into(),
                    name: "Sub-task".into(),
                    description: "A part of a larger issue.".into(),
                    subtask: true,
                },
            ],
            workflows: vec![Workflow {
                name: "Review workflow".into(),
                initial: "To Do".into(),
                transitions: vec![
                    tr("11", "Start Progress", &["To Do"], "In Progress", None),
                    tr(
                        "21",
                        "Submit for Review",
                        &["In Progress"],
                        "In Review",
                        None,
                    ),
                    tr("31", "Approve", &["In Review"], "Done", Some("Done")),
                    tr("41", "Request Changes", &["In Review"], "In Progress", None),
                    tr("51", "Stop Progress", &["In Progress"], "To Do", None),
                    tr("61", "Reopen", &["Done"], "To Do", None),
                ],
            }],
            custom_fields: vec![
                CustomField {
                    id: "customfield_10010".into(),
                    name: "Story Points".into(),
                    kind: CustomKind::Number,
                    options: Vec::new(),
                },
                CustomField {
                    id: "customfield_10011".into(),
                    name: "Customer".into(),
                    kind: CustomKind::Text,
                    options: Vec::new(),
                },
                CustomField {
                    id: "customfield_10012".into(),
                    name: "Severity".into(),
                    kind: CustomKind::Select,
                    options: vec!["Critical".into(), "Major".into(), "Minor".into()],
                },
                CustomField {
                    id: "customfield_10013".into(),
                    name: "Notes".into(),
                    kind: CustomKind::Textarea,
                    options: Vec::new(),
                },
                CustomField {
                    id: "customfield_10014".into(),
                    name: "Target date".into(),
                    kind: CustomKind::Date,
                    options: Vec::new(),
                },
                CustomField {
                    id: "customfield_10015".into(),
                    name: "Tags".into(),
                    kind: CustomKind::Labels,
                    options: Vec::new(),
                },
                CustomField {
                    id: "customfield_10016".into(),
                    name: "Reviewer".into(),
                    kind: CustomKind::User,
                    options: Vec::new(),
                },
            ],
            link_types: vec![
                LinkType {
                    id: "10000".into(),
                    name: "Blocks".into(),
                    inward: "is blocked by".into(),
                    outward: "blocks".into(),
                },
                LinkType {
                    id: "10001".into(),
                    name: "Cloners".into(),
                    inward: "is cloned by".into(),
                    outward: "clones".into(),
                },
                LinkType {
                    id: "10002".into(),
                    name: "Duplicate".into(),
                    inward: "is duplicated by".into(),
                    outward: "duplicates".into(),
                },
                LinkType {
                    id: "10003".into(),
                    name: "Relates".into(),
                    inward: "relates to".into(),
                    outward: "relates to".into(),
                },
            ],
            projects: vec![
                SeedProject {
                    key: "SUP".into(),
                    name: "Support".into(),
                    lead: None,
                    issue_types: vec!["Task".into(), "Bug".into(), "Sub-task".into()],
                    workflow: None,
                    components: vec!["Backend".into(), "Frontend".into()],
                },
                SeedProject {
                    key: "DEV".into(),
                    name: "Development".into(),
                    lead: Some("alice".into()),
                    issue_types: Vec::new(),
                    workflow: None,
                    components: vec!["API".into(), "UI".into()],
                },
            ],
            issues: vec![sup1, sup2, sup3, dev1, dev2],
        }
    }

    /// Reads a seed file (JSON).
    pub fn from_json(text: &str) -> Result<Seed, serde_json::Error> {
        serde_json::from_str(text)
    }
}
