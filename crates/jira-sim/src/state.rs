//! The instance's state and every operation that changes it; each change records history and events.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::adf;
use super::error::{ApiError, SimError};
use super::input;
use super::model::*;
use super::seed::Seed;

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
    pub flavour: Flavour,
    pub base_url: String,
    pub users: Vec<User>,
    pub projects: Vec<Project>,
    pub issue_types: Vec<IssueType>,
    pub statuses: Vec<Status>,
    pub priorities: Vec<Priority>,
    pub resolutions: Vec<Resolution>,
    pub security_levels: Vec<SecurityLevel>,
    pub workflows: Vec<Workflow>,
    pub custom_fields: Vec<CustomField>,
    pub link_types: Vec<LinkType>,
    pub issues: BTreeMap<u64, Issue>,
    /// Issue key (upper case) to id; keeps moved keys too.
    pub keys: HashMap<String, u64>,
    pub attachments: BTreeMap<u64, Attachment>,
    pub links: BTreeMap<u64, IssueLink>,
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
    next_webhook: u64,
    next_project: u64,
    next_component: u64,
}

fn seed_err(msg: String) -> SimError {
    SimError::Seed(msg)
}

impl State {
    /// Builds an instance from a seed; names in the seed must resolve.
    pub fn new(flavour: Flavour, base_url: String, seed: Seed) -> Result<State, SimError> {
        if seed.users.is_empty() {
            return Err(seed_err(
                "a seed needs at least one user (the administrator)".into(),
            ));
        }
        let mut st = State {
            flavour,
            base_url,
            users: seed.users,
            projects: Vec::new(),
            issue_types: seed.issue_types,
            statuses: seed.statuses,
            priorities: seed.priorities,
            resolutions: seed.resolutions,
            security_levels: vec![
                SecurityLevel {
                    id: "10100".into(),
                    name: "Confidential".into(),
                },
                SecurityLevel {
                    id: "10101".into(),
                    name: "Internal".into(),
                },
            ],
            workflows: Vec::new(),
            custom_fields: seed.custom_fields,
            link_types: seed.link_types,
            issues: BTreeMap::new(),
            keys: HashMap::new(),
            attachments: BTreeMap::new(),
            links: BTreeMap::new(),
            webhooks: BTreeMap::new(),
            comment_index: HashMap::new(),
            events: Vec::new(),
            next_issue: 10000,
            next_comment: 10000,
            next_attachment: 10000,
            next_history: 10000,
            next_link: 10000,
            next_webhook: 1,
            next_project: 10000,
            next_component: 10000,
        };
        for wf in seed.workflows {
            let sid = |name: &str| {
                st.status_by_name(name)
                    .map(|s| s.id.clone())
                    .ok_or_else(|| {
                        seed_err(format!(
                            "workflow '{}' names unknown status '{name}'",
                            wf.name
                        ))
                    })
            };
            let initial = sid(&wf.initial)?;
            let mut transitions = Vec::new();
            for t in &wf.transitions {
                let from = t
                    .from
                    .iter()
                    .map(|f| sid(f))
                    .collect::<Result<Vec<_>, _>>()?;
                let resolution = match &t.resolution {
                    Some(r) => Some(
                        st.resolutions
                            .iter()
                            .find(|x| x.name == *r)
                            .ok_or_else(|| seed_err(format!("unknown resolution '{r}'")))?
                            .id
                            .clone(),
                    ),
                    None => None,
                };
                transitions.push(Transition {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    from,
                    to: sid(&t.to)?,
                    resolution,
                    requires: t.requires.clone(),
                });
            }
            st.workflows.push(Workflow {
                name: wf.name.clone(),
                initial,
                transitions,
            });
        }
        if st.workflows.is_empty() {
            return Err(seed_err("a seed needs at least one workflow".into()));
        }
        for p in seed.projects {
            let lead = match &p.lead {
                Some(l) => st
                    .find_user(l)
                    .ok_or_else(|| seed_err(format!("unknown lead '{l}'")))?,
                None => 0,
            };
            let types: Vec<String> = if p.issue_types.is_empty() {
                st.issue_types.iter().map(|t| t.id.clone()).collect()
            } else {
                p.issue_types
                    .iter()
                    .map(|n| {
                        st.issue_types
                            .iter()
                            .find(|t| t.name == *n)
                            .map(|t| t.id.clone())
                            .ok_or_else(|| seed_err(format!("unknown issue type '{n}'")))
                    })
                    .collect::<Result<_, _>>()?
            };
            let workflow = match &p.workflow {
                Some(w) => st
                    .workflows
                    .iter()
                    .find(|x| x.name == *w)
                    .map(|x| x.name.clone())
                    .ok_or_else(|| seed_err(format!("unknown workflow '{w}'")))?,
                None => st.workflows[0].name.clone(),
            };
            st.add_project(&p.key, &p.name, lead, types, &workflow, &p.components)
                .map_err(|e| seed_err(format!("{e}")))?;
        }
        for si in seed.issues {
            st.seed_issue(&si)
                .map_err(|e| seed_err(format!("issue '{}': {e}", si.summary)))?;
        }
        st.events.clear();
        Ok(st)
    }

    fn seed_issue(&mut self, si: &super::seed::SeedIssue) -> Result<(), ApiError> {
        let user = |st: &State, n: &Option<String>| -> Result<Option<UserId>, ApiError> {
            match n {
                Some(n) => st
                    .find_user(n)
                    .map(Some)
                    .ok_or_else(|| ApiError::bad_request(format!("unknown user '{n}'"))),
                None => Ok(None),
            }
        };
        let reporter = user(self, &si.reporter)?.unwrap_or(0);
        let mut fields = Map::new();
        fields.insert("project".into(), json!({"key": si.project}));
        fields.insert("issuetype".into(), json!({"name": si.issue_type}));
        fields.insert("summary".into(), json!(si.summary));
        if let Some(d) = &si.description {
            fields.insert("description".into(), json!(d));
        }
        if let Some(p) = &si.priority {
            fields.insert("priority".into(), json!({"name": p}));
        }
        fields.insert("labels".into(), json!(si.labels));
        fields.insert(
            "components".into(),
            Value::from(
                si.components
                    .iter()
                    .map(|c| json!({"name": c}))
                    .collect::<Vec<_>>(),
            ),
        );
        if let Some(parent) = &si.parent {
            fields.insert("parent".into(), json!({"key": parent}));
        }
        let api = Api {
            flavour: self.flavour,
            v3: false,
        };
        let id = self.create_issue(reporter, api, &fields, None)?;
        let assignee = user(self, &si.assignee)?;
        if let Some(issue) = self.issues.get_mut(&id) {
            issue.assignee = assignee;
        }
        if let Some(target) = &si.status {
            let sid = self
                .status_by_name(target)
                .map(|s| s.id.clone())
                .ok_or_else(|| ApiError::bad_request(format!("unknown status '{target}'")))?;
            let done = self
                .status(&sid)
                .is_some_and(|s| s.category == StatusCategory::Done);
            let resolution = done
                .then(|| self.resolutions.first().map(|r| r.id.clone()))
                .flatten();
            if let Some(issue) = self.issues.get_mut(&id) {
                issue.status = sid;
                if done {
                    issue.resolution = resolution;
                    issue.resolution_date = Some(issue.updated);
                }
            }
        }
        for c in &si.comments {
            let author = self
                .find_user(&c.author)
                .ok_or_else(|| ApiError::bad_request(format!("unknown user '{}'", c.author)))?;
            let mut body = json!({"body": c.body});
            if c.internal {
                body["properties"] =
                    json!([{"key": "sd.public.comment", "value": {"internal": true}}]);
            }
            self.add_comment(id, author, api, &body)?;
        }
        Ok(())
    }

    // ---- lookups ----

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

    pub fn issue_ref(&self, s: &str) -> Result<u64, ApiError> {
        self.find_issue(s).ok_or_else(ApiError::issue_not_found)
    }

    /// A project by id or key.
    pub fn find_project(&self, s: &str) -> Option<&Project> {
        self.projects
            .iter()
            .find(|p| p.id == s || p.key.eq_ignore_ascii_case(s))
    }

    pub fn project(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }

    pub fn status(&self, id: &str) -> Option<&Status> {
        self.statuses.iter().find(|s| s.id == id)
    }

    pub fn status_by_name(&self, name: &str) -> Option<&Status> {
        self.statuses
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

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

    // ---- administration (seed, handle) ----

    /// Adds a project; `components` are names.
    pub fn add_project(
        &mut self,
        key: &str,
        name: &str,
        lead: UserId,
        issue_types: Vec<String>,
        workflow: &str,
        components: &[String],
    ) -> Result<String, ApiError> {
        let valid_key = key.len() >= 2
            && key
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && key.starts_with(|c: char| c.is_ascii_uppercase());
        if !valid_key {
            return Err(ApiError::field(
                "projectKey",
                "Project keys must start with an uppercase letter, followed by one or more uppercase alphanumeric characters.",
            ));
        }
        if self.find_project(key).is_some() {
            return Err(ApiError::field(
                "projectKey",
                format!("Project '{key}' uses this project key."),
            ));
        }
        let id = self.next_project.to_string();
        self.next_project += 1;
        let comps = components
            .iter()
            .map(|c| {
                let id = self.next_component.to_string();
                self.next_component += 1;
                Component {
                    id,
                    name: c.clone(),
                }
            })
            .collect();
        self.projects.push(Project {
            id: id.clone(),
            key: key.to_string(),
            name: name.to_string(),
            lead,
            issue_types,
            workflow: workflow.to_string(),
            components: comps,
            next_number: 1,
        });
        Ok(id)
    }

    /// Adds a user and returns its index.
    pub fn add_user(&mut self, user: User) -> UserId {
        self.users.push(user);
        self.users.len() - 1
    }

    // ---- issues ----

    /// Creates an issue from a create request's `fields` (and `update`).
    pub fn create_issue(
        &mut self,
        actor: UserId,
        api: Api,
        fields: &Map<String, Value>,
        update: Option<&Map<String, Value>>,
    ) -> Result<u64, ApiError> {
        let pv = fields
            .get("project")
            .ok_or_else(|| ApiError::field("project", "Specify a valid project ID or key"))?;
        let pref = pv
            .get("id")
            .or_else(|| pv.get("key"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let project = self
            .find_project(pref)
            .ok_or_else(|| ApiError::field("project", "Specify a valid project ID or key"))?
            .clone();
        let tv = fields
            .get("issuetype")
            .ok_or_else(|| ApiError::field("issuetype", "Specify an issue type"))?;
        let itype = self
            .issue_types
            .iter()
            .find(|t| {
                tv.get("id").and_then(Value::as_str) == Some(t.id.as_str())
                    || tv
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(&t.name))
            })
            .filter(|t| project.issue_types.contains(&t.id))
            .ok_or_else(|| ApiError::field("issuetype", "Specify an issue type"))?
            .clone();
        let wf = self
            .workflow_of(&project.id)
            .ok_or_else(|| ApiError::bad_request("The project has no workflow."))?;
        let now = Utc::now();
        let mut issue = Issue {
            id: self.next_issue,
            key: format!("{}-{}", project.key, project.next_number),
            project: project.id.clone(),
            issue_type: itype.id.clone(),
            summary: String::new(),
            description: None,
            status: wf.initial.clone(),
            priority: self
                .priorities
                .get(self.priorities.len() / 2)
                .map(|p| p.id.clone()),
            resolution: None,
            resolution_date: None,
            security: None,
            labels: Vec::new(),
            components: Vec::new(),
            assignee: None,
            reporter: Some(actor),
            creator: actor,
            created: now,
            updated: now,
            due_date: None,
            parent: None,
            custom: BTreeMap::new(),
            comments: Vec::new(),
            attachments: Vec::new(),
            histories: Vec::new(),
            properties: BTreeMap::new(),
        };
        let mut rest = fields.clone();
        rest.remove("project");
        rest.remove("issuetype");
        if !rest.contains_key("summary") && !update.is_some_and(|u| u.contains_key("summary")) {
            return Err(ApiError::field(
                "summary",
                "You must specify a summary of the issue.",
            ));
        }
        let extras = input::apply(self, api, &mut issue, Some(&rest), update, false)?;
        match (itype.subtask, issue.parent) {
            (true, None) => {
                return Err(ApiError::field(
                    "parent",
                    "Given parent issue does not belong to appropriate hierarchy.",
                ));
            }
            (true, Some(p)) => {
                let parent = self
                    .issues
                    .get(&p)
                    .ok_or_else(|| ApiError::field("parent", "Could not find parent issue"))?;
                if self
                    .issue_types
                    .iter()
                    .any(|t| t.id == parent.issue_type && t.subtask)
                {
                    return Err(ApiError::field(
                        "parent",
                        "Given parent issue does not belong to appropriate hierarchy.",
                    ));
                }
                if parent.project != issue.project {
                    return Err(ApiError::field(
                        "parent",
                        "Sub-tasks must be in the same project as their parent.",
                    ));
                }
            }
            (false, Some(_)) => {
                return Err(ApiError::field(
                    "parent",
                    "Given parent issue does not belong to appropriate hierarchy.",
                ));
            }
            (false, None) => {}
        }
        let id = issue.id;
        self.next_issue += 1;
        if let Some(p) = self.projects.iter_mut().find(|p| p.id == project.id) {
            p.next_number += 1;
        }
        self.keys.insert(issue.key.clone(), id);
        self.issues.insert(id, issue);
        self.events.push(Event::IssueCreated { issue: id, actor });
        for c in extras.comments {
            self.add_comment(id, actor, api, &c)?;
        }
        for l in extras.links {
            self.link_from_update(id, actor, &l)?;
        }
        Ok(id)
    }

    /// Edits an issue (`PUT /issue/{key}`).
    pub fn edit_issue(
        &mut self,
        id: u64,
        actor: UserId,
        api: Api,
        fields: Option<&Map<String, Value>>,
        update: Option<&Map<String, Value>>,
    ) -> Result<(), ApiError> {
        let old = self.issues.get(&id).ok_or_else(ApiError::issue_not_found)?;
        let mut new = old.clone();
        let extras = input::apply(self, api, &mut new, fields, update, false)?;
        if new.parent != old.parent {
            let t = self.issue_types.iter().find(|t| t.id == new.issue_type);
            if !t.is_some_and(|t| t.subtask) || new.parent.is_none() {
                return Err(ApiError::field(
                    "parent",
                    "Given parent issue does not belong to appropriate hierarchy.",
                ));
            }
        }
        self.commit_change(id, actor, new, "issue_updated", None);
        for c in extras.comments {
            self.add_comment(id, actor, api, &c)?;
        }
        for l in extras.links {
            self.link_from_update(id, actor, &l)?;
        }
        Ok(())
    }

    /// Replaces issue `id` with `new`, recording the changelog and an update event when something changed.
    fn commit_change(
        &mut self,
        id: u64,
        actor: UserId,
        mut new: Issue,
        type_name: &'static str,
        extra: Option<ChangeItem>,
    ) -> Option<u64> {
        let old = self.issues.get(&id)?;
        let mut items = self.diff(old, &new);
        items.extend(extra);
        if items.is_empty() {
            return None;
        }
        let type_name =
            if type_name == "issue_updated" && items.iter().all(|i| i.field == "assignee") {
                "issue_assigned"
            } else {
                type_name
            };
        let now = Utc::now();
        let hid = self.next_history;
        self.next_history += 1;
        new.updated = now;
        new.histories.push(History {
            id: hid,
            author: actor,
            created: now,
            items,
        });
        self.issues.insert(id, new);
        self.events.push(Event::IssueUpdated {
            issue: id,
            actor,
            history: Some(hid),
            type_name,
            comment: None,
        });
        Some(hid)
    }

    /// Runs a workflow transition, with its screen `fields`/`update`.
    pub fn transition(
        &mut self,
        id: u64,
        actor: UserId,
        api: Api,
        transition_id: &str,
        fields: Option<&Map<String, Value>>,
        update: Option<&Map<String, Value>>,
    ) -> Result<(), ApiError> {
        let issue = self.issues.get(&id).ok_or_else(ApiError::issue_not_found)?;
        let t = self
            .transitions_for(issue)
            .into_iter()
            .find(|t| t.id == transition_id)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Transition id '{transition_id}' is not valid for this issue."
                ))
            })?;
        let mut new = issue.clone();
        let extras = input::apply(self, api, &mut new, fields, update, true)?;
        for req in &t.requires {
            let missing = match req.as_str() {
                "assignee" => new.assignee.is_none(),
                "description" => new.description.is_none(),
                "duedate" => new.due_date.is_none(),
                "priority" => new.priority.is_none(),
                "labels" => new.labels.is_empty(),
                "components" => new.components.is_empty(),
                other => !new.custom.contains_key(other),
            };
            if missing {
                return Err(ApiError::field(
                    req.clone(),
                    format!("Field '{req}' is required for transition '{}'.", t.name),
                ));
            }
        }
        new.status = t.to.clone();
        let done = self
            .status(&t.to)
            .is_some_and(|s| s.category == StatusCategory::Done);
        if done {
            if new.resolution.is_none() {
                new.resolution = t
                    .resolution
                    .clone()
                    .or_else(|| self.resolutions.first().map(|r| r.id.clone()));
            }
            if new.resolution_date.is_none() {
                new.resolution_date = Some(Utc::now());
            }
        } else {
            new.resolution = None;
            new.resolution_date = None;
        }
        self.commit_change(id, actor, new, "issue_generic", None);
        for c in extras.comments {
            self.add_comment(id, actor, api, &c)?;
        }
        Ok(())
    }

    /// Deletes an issue (and its sub-tasks when asked).
    pub fn delete_issue(
        &mut self,
        id: u64,
        actor: UserId,
        delete_subtasks: bool,
    ) -> Result<(), ApiError> {
        if !self.issues.contains_key(&id) {
            return Err(ApiError::issue_not_found());
        }
        let subs: Vec<u64> = self
            .issues
            .values()
            .filter(|i| i.parent == Some(id))
            .map(|i| i.id)
            .collect();
        if !subs.is_empty() && !delete_subtasks {
            return Err(ApiError::bad_request(
                "The issue has subtasks. You must specify the 'deleteSubtasks' parameter to delete this issue with subtasks.",
            ));
        }
        for s in subs {
            self.delete_issue(s, actor, true)?;
        }
        let Some(issue) = self.issues.remove(&id) else {
            return Ok(());
        };
        for c in &issue.comments {
            self.comment_index.remove(&c.id);
        }
        for a in &issue.attachments {
            self.attachments.remove(a);
        }
        self.links.retain(|_, l| l.inward != id && l.outward != id);
        self.events.push(Event::IssueDeleted {
            issue: Box::new(issue),
            actor,
        });
        Ok(())
    }

    /// Assigns (`PUT /issue/{key}/assignee`).
    pub fn assign(&mut self, id: u64, actor: UserId, who: Option<UserId>) -> Result<(), ApiError> {
        let mut new = self
            .issues
            .get(&id)
            .ok_or_else(ApiError::issue_not_found)?
            .clone();
        new.assignee = who;
        self.commit_change(id, actor, new, "issue_assigned", None);
        Ok(())
    }

    /// Changelog items between two versions of an issue, in Jira's terms.
    pub fn diff(&self, a: &Issue, b: &Issue) -> Vec<ChangeItem> {
        let mut items = Vec::new();
        let mut push = |field: &str,
                        field_id: &str,
                        fieldtype: &str,
                        from: Option<String>,
                        from_s: Option<String>,
                        to: Option<String>,
                        to_s: Option<String>| {
            items.push(ChangeItem {
                field: field.into(),
                fieldtype: fieldtype.into(),
                field_id: field_id.into(),
                from,
                from_string: from_s,
                to,
                to_string: to_s,
            })
        };
        if a.summary != b.summary {
            push(
                "summary",
                "summary",
                "jira",
                None,
                Some(a.summary.clone()),
                None,
                Some(b.summary.clone()),
            );
        }
        if a.description != b.description {
            let t = |d: &Option<Value>| d.as_ref().map(|v| self.wiki_text(v));
            push(
                "description",
                "description",
                "jira",
                None,
                t(&a.description),
                None,
                t(&b.description),
            );
        }
        if a.issue_type != b.issue_type {
            let n = |id: &str| {
                self.issue_types
                    .iter()
                    .find(|t| t.id == id)
                    .map(|t| t.name.clone())
            };
            push(
                "issuetype",
                "issuetype",
                "jira",
                Some(a.issue_type.clone()),
                n(&a.issue_type),
                Some(b.issue_type.clone()),
                n(&b.issue_type),
            );
        }
        if a.status != b.status {
            let n = |id: &str| self.status(id).map(|s| s.name.clone());
            push(
                "status",
                "status",
                "jira",
                Some(a.status.clone()),
                n(&a.status),
                Some(b.status.clone()),
                n(&b.status),
            );
        }
        if a.resolution != b.resolution {
            let n = |id: &Option<String>| {
                id.as_ref()
                    .and_then(|id| self.resolutions.iter().find(|r| &r.id == id))
                    .map(|r| r.name.clone())
            };
            push(
                "resolution",
                "resolution",
                "jira",
                a.resolution.clone(),
                n(&a.resolution),
                b.resolution.clone(),
                n(&b.resolution),
            );
        }
        if a.priority != b.priority {
            let n = |id: &Option<String>| {
                id.as_ref()
                    .and_then(|id| self.priorities.iter().find(|r| &r.id == id))
                    .map(|r| r.name.clone())
            };
            push(
                "priority",
                "priority",
                "jira",
                a.priority.clone(),
                n(&a.priority),
                b.priority.clone(),
                n(&b.priority),
            );
        }
        if a.security != b.security {
            let n = |id: &Option<String>| {
                id.as_ref()
                    .and_then(|id| self.security_levels.iter().find(|l| &l.id == id))
                    .map(|l| l.name.clone())
            };
            push(
                "security",
                "security",
                "jira",
                a.security.clone(),
                n(&a.security),
                b.security.clone(),
                n(&b.security),
            );
        }
        if a.labels != b.labels {
            let j = |l: &Vec<String>| (!l.is_empty()).then(|| l.join(" "));
            push(
                "labels",
                "labels",
                "jira",
                None,
                j(&a.labels),
                None,
                j(&b.labels),
            );
        }
        if a.components != b.components {
            let names = |ids: &Vec<String>| {
                let p = self.project(&a.project);
                let v: Vec<String> = ids
                    .iter()
                    .filter_map(|id| {
                        p.and_then(|p| p.components.iter().find(|c| &c.id == id))
                            .map(|c| c.name.clone())
                    })
                    .collect();
                (!v.is_empty()).then(|| v.join(", "))
            };
            push(
                "Component",
                "components",
                "jira",
                None,
                names(&a.components),
                None,
                names(&b.components),
            );
        }
        for (field, fa, fb) in [
            ("assignee", a.assignee, b.assignee),
            ("reporter", a.reporter, b.reporter),
        ] {
            if fa != fb {
                let id = |u: Option<UserId>| {
                    u.and_then(|u| self.users.get(u))
                        .map(|u| self.user_ref_id(u))
                };
                let n = |u: Option<UserId>| {
                    u.and_then(|u| self.users.get(u))
                        .map(|u| u.display_name.clone())
                };
                push(field, field, "jira", id(fa), n(fa), id(fb), n(fb));
            }
        }
        if a.due_date != b.due_date {
            let d = |x: Option<chrono::NaiveDate>| x.map(|d| d.to_string());
            push(
                "duedate",
                "duedate",
                "jira",
                d(a.due_date),
                d(a.due_date),
                d(b.due_date),
                d(b.due_date),
            );
        }
        if a.parent != b.parent {
            let k = |p: Option<u64>| p.and_then(|p| self.issues.get(&p)).map(|i| i.key.clone());
            push(
                "Parent",
                "parent",
                "jira",
                a.parent.map(|p| p.to_string()),
                k(a.parent),
                b.parent.map(|p| p.to_string()),
                k(b.parent),
            );
        }
        for cf in &self.custom_fields {
            let (va, vb) = (a.custom.get(&cf.id), b.custom.get(&cf.id));
            if va != vb {
                let s = |v: Option<&Value>| {
                    v.map(|v| match (cf.kind, v) {
                        (CustomKind::User, Value::Number(n)) => n
                            .as_u64()
                            .and_then(|u| self.users.get(u as usize))
                            .map(|u| u.display_name.clone())
                            .unwrap_or_default(),
                        (CustomKind::Textarea, v) => self.wiki_text(v),
                        (_, Value::String(s)) => s.clone(),
                        (_, Value::Array(a)) => a
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(" "),
                        (_, other) => other.to_string(),
                    })
                };
                push(&cf.name, &cf.id, "custom", None, s(va), None, s(vb));
            }
        }
        items
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

    // ---- comments ----

    fn visibility_in(v: &Value) -> Result<Option<Visibility>, ApiError> {
        match v.get("visibility") {
            None | Some(Value::Null) => Ok(None),
            Some(vis) => {
                let kind = vis.get("type").and_then(Value::as_str).unwrap_or("");
                let value = vis
                    .get("value")
                    .or_else(|| vis.get("identifier"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !matches!(kind, "role" | "group") || value.is_empty() {
                    return Err(ApiError::field(
                        "commentLevel",
                        "You are currently not a member of the project role or group specified.",
                    ));
                }
                Ok(Some(Visibility {
                    kind: kind.into(),
                    value: value.into(),
                }))
            }
        }
    }

    fn properties_in(v: &Value) -> BTreeMap<String, Value> {
        v.get("properties")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|p| {
                        Some((p.get("key")?.as_str()?.to_string(), p.get("value")?.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Adds a comment from a request body `{body, visibility?, properties?}`.
    pub fn add_comment(
        &mut self,
        issue_id: u64,
        actor: UserId,
        api: Api,
        req: &Value,
    ) -> Result<u64, ApiError> {
        if !self.issues.contains_key(&issue_id) {
            return Err(ApiError::issue_not_found());
        }
        let body = req.get("body").cloned().unwrap_or(Value::Null);
        let body = input::rich_in(api, "comment", &body)?
            .ok_or_else(|| ApiError::field("comment", "Comment body can not be empty!"))?;
        let visibility = Self::visibility_in(req)?;
        let now = Utc::now();
        let comment = Comment {
            id: self.next_comment,
            author: actor,
            update_author: actor,
            body,
            created: now,
            updated: now,
            visibility,
            properties: Self::properties_in(req),
        };
        self.next_comment += 1;
        let cid = comment.id;
        self.comment_index.insert(cid, issue_id);
        if let Some(issue) = self.issues.get_mut(&issue_id) {
            issue.comments.push(comment.clone());
            issue.updated = now;
        }
        self.events.push(Event::CommentCreated {
            issue: issue_id,
            actor,
            comment: comment.clone(),
        });
        self.events.push(Event::IssueUpdated {
            issue: issue_id,
            actor,
            history: None,
            type_name: "issue_commented",
            comment: Some(comment),
        });
        Ok(cid)
    }

    pub fn comment(&self, issue_id: u64, comment_id: u64) -> Result<&Comment, ApiError> {
        self.issues
            .get(&issue_id)
            .ok_or_else(ApiError::issue_not_found)?
            .comments
            .iter()
            .find(|c| c.id == comment_id)
            .ok_or_else(|| {
                ApiError::not_found(format!("Can not find a comment for the id: {comment_id}."))
            })
    }

    pub fn update_comment(
        &mut self,
        issue_id: u64,
        comment_id: u64,
        actor: UserId,
        api: Api,
        req: &Value,
    ) -> Result<(), ApiError> {
        self.comment(issue_id, comment_id)?;
        let body = match req.get("body") {
            Some(b) => Some(
                input::rich_in(api, "comment", b)?
                    .ok_or_else(|| ApiError::field("comment", "Comment body can not be empty!"))?,
            ),
            None => None,
        };
        let visibility = if req.get("visibility").is_some() {
            Some(Self::visibility_in(req)?)
        } else {
            None
        };
        let props = Self::properties_in(req);
        let now = Utc::now();
        let Some(issue) = self.issues.get_mut(&issue_id) else {
            return Err(ApiError::issue_not_found());
        };
        let Some(c) = issue.comments.iter_mut().find(|c| c.id == comment_id) else {
            return Err(ApiError::issue_not_found());
        };
        if let Some(b) = body {
            c.body = b;
        }
        if let Some(v) = visibility {
            c.visibility = v;
        }
        c.properties.extend(props);
        c.updated = now;
        c.update_author = actor;
        let comment = c.clone();
        issue.updated = now;
        self.events.push(Event::CommentUpdated {
            issue: issue_id,
            actor,
            comment: comment.clone(),
        });
        self.events.push(Event::IssueUpdated {
            issue: issue_id,
            actor,
            history: None,
            type_name: "issue_comment_edited",
            comment: Some(comment),
        });
        Ok(())
    }

    pub fn delete_comment(
        &mut self,
        issue_id: u64,
        comment_id: u64,
        actor: UserId,
    ) -> Result<(), ApiError> {
        self.comment(issue_id, comment_id)?;
        let Some(issue) = self.issues.get_mut(&issue_id) else {
            return Err(ApiError::issue_not_found());
        };
        let Some(pos) = issue.comments.iter().position(|c| c.id == comment_id) else {
            return Err(ApiError::issue_not_found());
        };
        let comment = issue.comments.remove(pos);
        issue.updated = Utc::now();
        self.comment_index.remove(&comment_id);
        self.events.push(Event::CommentDeleted {
            issue: issue_id,
            actor,
            comment: comment.clone(),
        });
        self.events.push(Event::IssueUpdated {
            issue: issue_id,
            actor,
            history: None,
            type_name: "issue_comment_deleted",
            comment: Some(comment),
        });
        Ok(())
    }

    /// Sets a comment property (how JSM marks a comment internal).
    pub fn set_comment_property(
        &mut self,
        comment_id: u64,
        key: &str,
        value: Value,
    ) -> Result<(), ApiError> {
        let issue_id = *self.comment_index.get(&comment_id).ok_or_else(|| {
            ApiError::not_found(format!("Can not find a comment for the id: {comment_id}."))
        })?;
        let Some(c) = self
            .issues
            .get_mut(&issue_id)
            .and_then(|i| i.comments.iter_mut().find(|c| c.id == comment_id))
        else {
            return Err(ApiError::not_found("Comment not found."));
        };
        c.properties.insert(key.to_string(), value);
        Ok(())
    }

    // ---- attachments ----

    pub fn add_attachment(
        &mut self,
        issue_id: u64,
        actor: UserId,
        filename: String,
        mime_type: String,
        content: axum::body::Bytes,
    ) -> Result<u64, ApiError> {
        if !self.issues.contains_key(&issue_id) {
            return Err(ApiError::issue_not_found());
        }
        let id = self.next_attachment;
        self.next_attachment += 1;
        let now = Utc::now();
        self.attachments.insert(
            id,
            Attachment {
                id,
                issue_id,
                filename: filename.clone(),
                mime_type,
                author: actor,
                created: now,
                content,
            },
        );
        let Some(mut new) = self.issues.get(&issue_id).cloned() else {
            return Err(ApiError::issue_not_found());
        };
        new.attachments.push(id);
        let item = ChangeItem {
            field: "Attachment".into(),
            fieldtype: "jira".into(),
            field_id: "attachment".into(),
            from: None,
            from_string: None,
            to: Some(id.to_string()),
            to_string: Some(filename),
        };
        self.commit_change(issue_id, actor, new, "issue_updated", Some(item));
        Ok(id)
    }

    pub fn delete_attachment(&mut self, id: u64, actor: UserId) -> Result<(), ApiError> {
        let a = self.attachments.remove(&id).ok_or_else(|| {
            ApiError::not_found(format!("The attachment with id '{id}' does not exist"))
        })?;
        if let Some(mut new) = self.issues.get(&a.issue_id).cloned() {
            new.attachments.retain(|x| *x != id);
            let item = ChangeItem {
                field: "Attachment".into(),
                fieldtype: "jira".into(),
                field_id: "attachment".into(),
                from: Some(id.to_string()),
                from_string: Some(a.filename.clone()),
                to: None,
                to_string: None,
            };
            self.commit_change(a.issue_id, actor, new, "issue_updated", Some(item));
        }
        Ok(())
    }

    // ---- links ----

    fn link_type(&self, v: &Value) -> Result<LinkType, ApiError> {
        let id = v.get("id").and_then(Value::as_str);
        let name = v.get("name").and_then(Value::as_str);
        self.link_types
            .iter()
            .find(|t| {
                Some(t.id.as_str()) == id || name.is_some_and(|n| n.eq_ignore_ascii_case(&t.name))
            })
            .cloned()
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "No issue link type with name '{}' found.",
                    name.or(id).unwrap_or("")
                ))
            })
    }

    /// Links two issues (`POST /issueLink`); the outward issue "blocks" the inward one.
    pub fn add_link(
        &mut self,
        actor: UserId,
        type_ref: &Value,
        inward: u64,
        outward: u64,
    ) -> Result<u64, ApiError> {
        let t = self.link_type(type_ref)?;
        if !self.issues.contains_key(&inward) || !self.issues.contains_key(&outward) {
            return Err(ApiError::issue_not_found());
        }
        if let Some(existing) = self
            .links
            .values()
            .find(|l| l.type_id == t.id && l.inward == inward && l.outward == outward)
        {
            return Ok(existing.id);
        }
        let id = self.next_link;
        self.next_link += 1;
        self.links.insert(
            id,
            IssueLink {
                id,
                type_id: t.id.clone(),
                inward,
                outward,
            },
        );
        let key = |i: u64| {
            self.issues
                .get(&i)
                .map(|x| x.key.clone())
                .unwrap_or_default()
        };
        let (ik, ok) = (key(inward), key(outward));
        for (me, text) in [
            (outward, format!("This issue {} {ik}", t.outward)),
            (inward, format!("This issue {} {ok}", t.inward)),
        ] {
            if let Some(new) = self.issues.get(&me).cloned() {
                let item = ChangeItem {
                    field: "Link".into(),
                    fieldtype: "jira".into(),
                    field_id: "issuelinks".into(),
                    from: None,
                    from_string: None,
                    to: Some(if me == outward {
                        ik.clone()
                    } else {
                        ok.clone()
                    }),
                    to_string: Some(text),
                };
                self.commit_change(me, actor, new, "issue_updated", Some(item));
            }
        }
        Ok(id)
    }

    fn link_from_update(
        &mut self,
        issue_id: u64,
        actor: UserId,
        v: &Value,
    ) -> Result<(), ApiError> {
        let t = v.get("type").cloned().unwrap_or(Value::Null);
        let other = |k: &str| {
            v.get(k)
                .and_then(|o| o.get("key").or_else(|| o.get("id")))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        if let Some(o) = other("outwardIssue") {
            let o = self.issue_ref(&o)?;
            self.add_link(actor, &t, o, issue_id)?;
        } else if let Some(i) = other("inwardIssue") {
            let i = self.issue_ref(&i)?;
            self.add_link(actor, &t, issue_id, i)?;
        } else {
            return Err(ApiError::field(
                "issuelinks",
                "Issue link must name an inwardIssue or an outwardIssue.",
            ));
        }
        Ok(())
    }

    pub fn delete_link(&mut self, id: u64, actor: UserId) -> Result<(), ApiError> {
        let l = self
            .links
            .remove(&id)
            .ok_or_else(|| ApiError::not_found(format!("No issue link with id '{id}' exists.")))?;
        for me in [l.inward, l.outward] {
            if let Some(new) = self.issues.get(&me).cloned() {
                let item = ChangeItem {
                    field: "Link".into(),
                    fieldtype: "jira".into(),
                    field_id: "issuelinks".into(),
                    from: Some(id.to_string()),
                    from_string: Some("link removed".into()),
                    to: None,
                    to_string: None,
                };
                self.commit_change(me, actor, new, "issue_updated", Some(item));
            }
        }
        Ok(())
    }

    // ---- webhooks ----

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
