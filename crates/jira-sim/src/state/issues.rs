//! Issues: create, edit, transition, assign and delete; each change records history and raises an event.

use std::collections::BTreeMap;

use chrono::Utc;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::input;
use crate::model::*;

use super::{Event, State};

impl State {
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
            fix_versions: Vec::new(),
            versions: Vec::new(),
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
    pub(super) fn commit_change(
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
        self.remote_links.retain(|_, l| l.issue_id != id);
        self.worklogs.retain(|_, w| w.issue_id != id);
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
}
