//! Building an instance: from a seed at start, and the projects and users a handle adds later.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use crate::error::{ApiError, SimError};
use crate::model::*;
use crate::seed::Seed;

use super::State;

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
            remote_links: BTreeMap::new(),
            worklogs: BTreeMap::new(),
            versions: Vec::new(),
            webhooks: BTreeMap::new(),
            comment_index: HashMap::new(),
            events: Vec::new(),
            next_issue: 10000,
            next_comment: 10000,
            next_attachment: 10000,
            next_history: 10000,
            next_link: 10000,
            next_remote_link: 10000,
            next_worklog: 10000,
            next_version: 10000,
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

    fn seed_issue(&mut self, si: &crate::seed::SeedIssue) -> Result<(), ApiError> {
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
}
