//! The instance's state: the data of one simulated Jira, lookups over it, and the events its changes raise.
//!
//! The operations that change it live beside this file, one concern each; every change records history and events.

mod attachments;
mod comments;
mod history;
mod issues;
mod links;
mod remote_links;
mod versions;
mod worklogs;

pub use worklogs::format_duration;
mod seed;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::adf;
use crate::error::ApiError;
use crate::model::*;

/// What webhooks are told about.
#[derive(Clone, Debug)]
pub enum Event {
    IssueCreated {
        issue: u64,
        actor: UserId,
    },
    IssueUpdated {
        issue: u64,
        actor: UserId,
        history: Option<u64>,
        type_name: &'static str,
        comment: Option<Comment>,
    },
    /// The issue as it was before deletion.
    IssueDeleted {
        issue: Box<Issue>,
        actor: UserId,
    },
    CommentCreated {
        issue: u64,
        actor: UserId,
        comment: Comment,
    },
    CommentUpdated {
        issue: u64,
        actor: UserId,
        comment: Comment,
    },
    CommentDeleted {
        issue: u64,
        actor: UserId,
        comment: Comment,
    },
}

/// One simulated Jira instance, in memory.
pub struct State {
    /// Which Jira this instance is.
    pub flavour: Flavour,
    /// Base URL that `self` links start with.
    pub base_url: String,
    /// Users; a [`UserId`] is an index here.
    pub users: Vec<User>,
    /// Projects.
    pub projects: Vec<Project>,
    /// Issue types.
    pub issue_types: Vec<IssueType>,
    /// Statuses.
    pub statuses: Vec<Status>,
    /// Priorities.
    pub priorities: Vec<Priority>,
    /// Resolutions.
    pub resolutions: Vec<Resolution>,
    /// Issue security levels.
    pub security_levels: Vec<SecurityLevel>,
    /// Workflows.
    pub workflows: Vec<Workflow>,
    /// Custom fields.
    pub custom_fields: Vec<CustomField>,
    /// Issue link types.
    pub link_types: Vec<LinkType>,
    /// Issues by id.
    pub issues: BTreeMap<u64, Issue>,
    /// Issue key (upper case) to id; keeps moved keys too.
    pub keys: HashMap<String, u64>,
    /// Attachments by id.
    pub attachments: BTreeMap<u64, Attachment>,
    /// Issue links by id.
    pub links: BTreeMap<u64, IssueLink>,
    /// Remote issue links by id.
    pub remote_links: BTreeMap<u64, RemoteLink>,
    /// Project versions, oldest first.
    pub versions: Vec<Version>,
    /// Worklogs by id.
    pub worklogs: BTreeMap<u64, Worklog>,
    /// Registered webhooks by id.
    pub webhooks: BTreeMap<u64, WebhookReg>,
    /// Comment id to issue id.
    pub comment_index: HashMap<u64, u64>,
    /// Events not yet turned into webhook deliveries.
    pub events: Vec<Event>,
    next_issue: u64,
    next_comment: u64,
    next_attachment: u64,
    next_history: u64,
    next_link: u64,
    next_remote_link: u64,
    next_worklog: u64,
    next_version: u64,
    next_webhook: u64,
    next_project: u64,
    next_component: u64,
}

impl State {
    /// A user by account id, name, key, email or display name.
    pub fn find_user(&self, s: &str) -> Option<UserId> {
        self.users.iter().position(|u| {
            u.account_id == s
                || u.name == s
                || u.key == s
                || u.email.eq_ignore_ascii_case(s)
                || u.display_name.eq_ignore_ascii_case(s)
        })
    }

    /// An issue id from a numeric id or a key (any case).
    pub fn find_issue(&self, s: &str) -> Option<u64> {
        if let Ok(id) = s.parse::<u64>() {
            return self.issues.contains_key(&id).then_some(id);
        }
        self.keys
            .get(&s.to_ascii_uppercase())
            .copied()
            .filter(|id| self.issues.contains_key(id))
    }

    /// An issue id from an id or key, or Jira's 404.
    pub fn issue_ref(&self, s: &str) -> Result<u64, ApiError> {
        self.find_issue(s).ok_or_else(ApiError::issue_not_found)
    }

    /// A project by id or key.
    pub fn find_project(&self, s: &str) -> Option<&Project> {
        self.projects
            .iter()
            .find(|p| p.id == s || p.key.eq_ignore_ascii_case(s))
    }

    /// A project by id.
    pub fn project(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// A status by id.
    pub fn status(&self, id: &str) -> Option<&Status> {
        self.statuses.iter().find(|s| s.id == id)
    }

    /// A status by name (any case).
    pub fn status_by_name(&self, name: &str) -> Option<&Status> {
        self.statuses
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// The workflow a project uses.
    pub fn workflow_of(&self, project_id: &str) -> Option<&Workflow> {
        let name = &self.project(project_id)?.workflow;
        self.workflows.iter().find(|w| &w.name == name)
    }

    /// The id Jira would give option `i` of a select field.
    pub fn option_id(&self, cf: &CustomField, i: usize) -> String {
        let n: u64 = cf
            .id
            .trim_start_matches("customfield_")
            .parse()
            .unwrap_or(0);
        (n * 10 + i as u64).to_string()
    }

    /// Plain text of a stored rich-text value.
    pub fn plain_text(&self, v: &Value) -> String {
        match v {
            Value::String(s) => adf::wiki_to_plain(s),
            Value::Null => String::new(),
            other => adf::to_plain(other),
        }
    }

    /// Transitions available from the issue's current status.
    pub fn transitions_for(&self, issue: &Issue) -> Vec<Transition> {
        self.workflow_of(&issue.project)
            .map(|w| {
                w.transitions
                    .iter()
                    .filter(|t| t.from.is_empty() || t.from.contains(&issue.status))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How a user is named in changelogs and links: accountId on Cloud, key on DC.
    pub fn user_ref_id(&self, u: &User) -> String {
        match self.flavour {
            Flavour::Cloud => u.account_id.clone(),
            Flavour::DataCenter => u.key.clone(),
        }
    }

    /// Stored rich text as wiki markup (changelog strings, v2 views).
    pub fn wiki_text(&self, v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            other => adf::to_wiki(other),
        }
    }

    /// Registers a webhook; returns its id.
    pub fn add_webhook(&mut self, mut reg: WebhookReg) -> u64 {
        reg.id = self.next_webhook;
        self.next_webhook += 1;
        let id = reg.id;
        self.webhooks.insert(id, reg);
        id
    }

    /// Timestamp helper for handles and tests.
    pub fn now() -> DateTime<Utc> {
        Utc::now()
    }
}
