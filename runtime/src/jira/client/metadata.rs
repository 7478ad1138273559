//! Calls about the instance and its configuration: server info, fields, create and edit screens.

use reqwest::Method;
use serde_json::Value;

use super::super::error::JiraError;
use super::super::mapping::FieldCatalog;
use super::transport::{Req, enc};
use super::{FieldInfo, FieldMeta, IssueTypeInfo, JiraClient, ServerInfo};

impl JiraClient {
    pub async fn server_info(&self) -> Result<ServerInfo, JiraError> {
        let v = self.json(Req::new(Method::GET, "serverInfo")).await?;
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Ok(ServerInfo {
            base_url: s("baseUrl"),
            version: s("version"),
            deployment_type: s("deploymentType"),
            title: s("serverTitle"),
        })
    }

    pub async fn fields(&self) -> Result<Vec<FieldInfo>, JiraError> {
        let v = self.json(Req::new(Method::GET, "field")).await?;
        let list = v
            .as_array()
            .ok_or_else(|| self.decode_err(&Method::GET, "field", "not a list"))?;
        Ok(list
            .iter()
            .map(|f| FieldInfo {
                id: f["id"].as_str().unwrap_or_default().to_string(),
                name: f["name"].as_str().unwrap_or_default().to_string(),
                custom: f["custom"].as_bool().unwrap_or(false),
                schema_type: f["schema"]["type"].as_str().map(str::to_string),
                custom_type: f["schema"]["custom"].as_str().map(str::to_string),
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
        let v = self
            .json(Req::new(
                Method::GET,
                format!("issue/createmeta/{}/issuetypes", enc(project)),
            ))
            .await?;
        // Cloud answers `issueTypes`, DC `values`.
        let list = v["issueTypes"]
            .as_array()
            .or_else(|| v["values"].as_array());
        Ok(list
            .map(|l| {
                l.iter()
                    .map(|t| IssueTypeInfo {
                        id: t["id"].as_str().unwrap_or_default().to_string(),
                        name: t["name"].as_str().unwrap_or_default().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The fields of a create screen (`createmeta/{project}/issuetypes/{id}`).
    pub async fn create_meta(
        &self,
        project: &str,
        issue_type_id: &str,
    ) -> Result<Vec<FieldMeta>, JiraError> {
        let v = self
            .json(Req::new(
                Method::GET,
                format!(
                    "issue/createmeta/{}/issuetypes/{}",
                    enc(project),
                    enc(issue_type_id)
                ),
            ))
            .await?;
        // Cloud answers `fields`, DC `values`.
        let list = v["fields"].as_array().or_else(|| v["values"].as_array());
        Ok(list
            .map(|l| {
                l.iter()
                    .map(|f| field_meta(f["fieldId"].as_str().or(f["key"].as_str()), f))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The fields an issue's edit screen offers.
    pub async fn edit_meta(&self, key: &str) -> Result<Vec<FieldMeta>, JiraError> {
        let v = self
            .json(Req::new(
                Method::GET,
                format!("issue/{}/editmeta", enc(key)),
            ))
            .await?;
        Ok(v["fields"]
            .as_object()
            .map(|m| m.iter().map(|(id, f)| field_meta(Some(id), f)).collect())
            .unwrap_or_default())
    }
}

fn field_meta(id: Option<&str>, f: &Value) -> FieldMeta {
    FieldMeta {
        id: id.unwrap_or_default().to_string(),
        name: f["name"].as_str().unwrap_or_default().to_string(),
        required: f["required"].as_bool().unwrap_or(false),
        schema_type: f["schema"]["type"].as_str().map(str::to_string),
        allowed_values: f["allowedValues"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|a| {
                        a["name"]
                            .as_str()
                            .or(a["value"].as_str())
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}
