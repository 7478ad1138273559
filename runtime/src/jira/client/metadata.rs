//! Calls about the instance and its configuration: server info, fields, create and edit screens.

use reqwest::Method;

use super::super::error::JiraError;
use super::super::mapping::FieldCatalog;
use super::super::wire;
use super::transport::{Req, enc};
use super::{FieldInfo, FieldMeta, IssueTypeInfo, JiraClient, ServerInfo};

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
