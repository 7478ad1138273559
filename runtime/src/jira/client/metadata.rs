//! Calls about the instance and its configuration: server info, fields, create and edit
//! screens, a project's versions, and the values an admin maps (statuses per project and issue
//! type, priorities, resolutions, users found by search).

use reqwest::Method;

use super::super::error::JiraError;
use super::super::mapping::FieldCatalog;
use super::super::wire;
use super::transport::{Req, enc};
use super::{
    FieldInfo, FieldMeta, IssueTypeInfo, JiraClient, JiraUser, NamedValue, ProjectInfo, ServerInfo,
    TypeStatuses,
};
use crate::jira::Flavour;

impl JiraClient {
    /// The instance's `serverInfo`: address, version and deployment type.
    pub async fn server_info(&self) -> Result<ServerInfo, JiraError> {
        let w: wire::ServerInfo = self
            .answer(Req::new(Method::GET, "serverInfo"), "server info")
            .await?;
        Ok(ServerInfo {
            base_url: w.base_url,
            version: w.version,
            deployment_type: w.deployment_type,
            title: w.server_title,
        })
    }

    /// Every project the credentials can see: Cloud's `project/search` page by page, DC's
    /// `project` list.
    pub async fn projects(&self) -> Result<Vec<ProjectInfo>, JiraError> {
        let info = |p: wire::Project| ProjectInfo {
            id: p.id,
            key: p.key,
            name: p.name,
        };
        if self.flavour() == Flavour::DataCenter {
            let list: Vec<wire::Project> = self
                .answer(Req::new(Method::GET, "project"), "projects")
                .await?;
            return Ok(list.into_iter().map(info).collect());
        }
        const PAGE: usize = 50;
        let mut out = Vec::new();
        loop {
            let r = Req::new(Method::GET, "project/search")
                .query("startAt", out.len().to_string())
                .query("maxResults", PAGE.to_string());
            let page: wire::ProjectPage = self.answer(r, "projects").await?;
            let n = page.values.len();
            out.extend(page.values.into_iter().map(info));
            let done = page
                .is_last
                .unwrap_or_else(|| page.total.is_none_or(|t| out.len() as u64 >= t));
            // An empty page ends the walk even if Jira says there is more.
            if done || n == 0 {
                return Ok(out);
            }
        }
    }

    /// The names of a project's versions (`GET project/{key}/versions`).
    pub async fn project_versions(&self, project: &str) -> Result<Vec<String>, JiraError> {
        let r = Req::new(Method::GET, format!("project/{}/versions", enc(project)));
        let list: Vec<wire::Version> = self.answer(r, format!("versions of {project}")).await?;
        Ok(list.into_iter().map(|v| v.name).collect())
    }

    /// Creates a version in a project (`POST version`) and returns its id.
    pub async fn create_version(&self, project: &str, name: &str) -> Result<String, JiraError> {
        let r = Req::new(Method::POST, "version").json(serde_json::json!({
            "name": name,
            "project": project,
        }));
        let v: wire::Version = self
            .answer(r, format!("new version {name} of {project}"))
            .await?;
        Ok(v.id)
    }

    /// Every field the instance knows, system and custom.
    pub async fn fields(&self) -> Result<Vec<FieldInfo>, JiraError> {
        let list: Vec<wire::Field> = self
            .answer(Req::new(Method::GET, "field"), "fields")
            .await?;
        Ok(list
            .into_iter()
            .map(|f| {
                let (schema_type, custom_type) =
                    f.schema.map_or((None, None), |s| (s.kind, s.custom));
                FieldInfo {
                    id: f.id,
                    name: f.name,
                    custom: f.custom,
                    schema_type,
                    custom_type,
                }
            })
            .collect())
    }

    /// The field catalogue the mapping needs to write custom fields by name.
    pub async fn field_catalog(&self) -> Result<FieldCatalog, JiraError> {
        let fields = self.fields().await?;
        let string_lists = fields
            .iter()
            .filter(|f| {
                f.custom_type
                    .as_deref()
                    .is_some_and(|t| t.ends_with(":labels"))
            })
            .map(|f| f.id.clone())
            .collect();
        Ok(FieldCatalog {
            fields: fields.into_iter().map(|f| (f.id, f.name)).collect(),
            string_lists,
        })
    }

    /// The issue types a project can create (`createmeta/{project}/issuetypes`).
    pub async fn create_meta_issue_types(
        &self,
        project: &str,
    ) -> Result<Vec<IssueTypeInfo>, JiraError> {
        let r = Req::new(
            Method::GET,
            format!("issue/createmeta/{}/issuetypes", enc(project)),
        );
        let w: wire::IssueTypes = self.answer(r, format!("issue types of {project}")).await?;
        Ok(w.issue_types
            .into_iter()
            .map(|t| IssueTypeInfo {
                id: t.id,
                name: t.name,
            })
            .collect())
    }

    /// The fields of a create screen (`createmeta/{project}/issuetypes/{id}`).
    pub async fn create_meta(
        &self,
        project: &str,
        issue_type_id: &str,
    ) -> Result<Vec<FieldMeta>, JiraError> {
        let r = Req::new(
            Method::GET,
            format!(
                "issue/createmeta/{}/issuetypes/{}",
                enc(project),
                enc(issue_type_id)
            ),
        );
        let what = format!("create screen of {project} issue type {issue_type_id}");
        let w: wire::CreateFields = self.answer(r, what).await?;
        Ok(w.fields
            .into_iter()
            .map(|f| {
                // Cloud names the field in `fieldId`; DC only in `key`.
                let id = f.field_id.clone().unwrap_or_else(|| f.key.clone());
                field_meta(id, f)
            })
            .collect())
    }

    /// The statuses of each issue type of `project` (`project/{key}/statuses`, both flavours).
    pub async fn project_statuses(&self, project: &str) -> Result<Vec<TypeStatuses>, JiraError> {
        let r = Req::new(Method::GET, format!("project/{}/statuses", enc(project)));
        let list: Vec<wire::TypeStatuses> =
            self.answer(r, format!("statuses of {project}")).await?;
        Ok(list
            .into_iter()
            .map(|t| TypeStatuses {
                issue_type: t.name,
                statuses: t.statuses.into_iter().map(NamedValue::from).collect(),
            })
            .collect())
    }

    /// Every priority of the instance (`priority`).
    pub async fn priorities(&self) -> Result<Vec<NamedValue>, JiraError> {
        let list: Vec<wire::IdNamed> = self
            .answer(Req::new(Method::GET, "priority"), "priorities")
            .await?;
        Ok(list.into_iter().map(NamedValue::from).collect())
    }

    /// Every resolution of the instance (`resolution`).
    pub async fn resolutions(&self) -> Result<Vec<NamedValue>, JiraError> {
        let list: Vec<wire::IdNamed> = self
            .answer(Req::new(Method::GET, "resolution"), "resolutions")
            .await?;
        Ok(list.into_iter().map(NamedValue::from).collect())
    }

    /// One page of the users `query` finds (name, display name or email prefix), as Jira
    /// pages them: never the whole directory.
    pub async fn search_users(
        &self,
        query: &str,
        start_at: usize,
        max_results: usize,
    ) -> Result<Vec<JiraUser>, JiraError> {
        // An empty query lists everyone: DC wants "." for that, Cloud an empty string.
        let query = match (query.trim(), self.flavour()) {
            ("", Flavour::DataCenter) => ".",
            (q, _) => q,
        };
        let r = Req::new(Method::GET, "user/search")
            .query(self.flavour().user_search_param(), query)
            .query("startAt", start_at.to_string())
            .query("maxResults", max_results.to_string());
        let found: Vec<wire::User> = self.answer(r, "users found by search").await?;
        Ok(found.into_iter().map(JiraUser::from).collect())
    }

    /// The fields an issue's edit screen offers.
    pub async fn edit_meta(&self, key: &str) -> Result<Vec<FieldMeta>, JiraError> {
        let r = Req::new(Method::GET, format!("issue/{}/editmeta", enc(key)));
        let w: wire::EditFields = self.answer(r, format!("edit screen of {key}")).await?;
        Ok(w.fields
            .into_iter()
            .map(|(id, f)| field_meta(id, f))
            .collect())
    }
}

fn field_meta(id: String, f: wire::FieldMeta) -> FieldMeta {
    FieldMeta {
        id,
        name: f.name,
        required: f.required,
        schema_type: f.schema.and_then(|s| s.kind),
        allowed_values: f
            .allowed_values
            .into_iter()
            .flatten()
            .filter_map(|a| {
                a["name"]
                    .as_str()
                    .or(a["value"].as_str())
                    .map(str::to_string)
            })
            .collect(),
    }
}
