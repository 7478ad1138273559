//! Project versions: created with `POST /version`, listed per project, named by an issue's
//! `fixVersions` and `versions` fields (by id or by name, within the issue's project).

use chrono::NaiveDate;
use serde_json::Value;

use crate::error::ApiError;
use crate::model::*;

use super::State;

impl State {
    /// A version by id.
    pub fn version(&self, id: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.id == id)
    }

    /// A project's versions, oldest first.
    pub fn versions_of(&self, project_id: &str) -> Vec<&Version> {
        self.versions
            .iter()
            .filter(|v| v.project_id == project_id)
            .collect()
    }

    /// `POST /version`: `{name, project | projectId, description?, released?, archived?,
    /// releaseDate?}`; a name is unique in its project. Returns the new version's id.
    pub fn add_version(&mut self, body: &Value) -> Result<String, ApiError> {
        let name = body
            .get("name")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ApiError::field("name", "You must specify a valid version name"))?
            .to_string();
        let project = body
            .get("projectId")
            .and_then(|v| {
                v.as_u64()
                    .map(|n| n.to_string())
                    .or_else(|| v.as_str().map(str::to_string))
            })
            .or_else(|| {
                body.get("project")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .and_then(|p| self.find_project(&p).map(|p| p.id.clone()))
            .ok_or_else(|| ApiError::field("project", "You must specify a valid project."))?;
        if self
            .versions_of(&project)
            .iter()
            .any(|v| v.name.eq_ignore_ascii_case(&name))
        {
            return Err(ApiError::field(
                "name",
                "A version with this name already exists in this project.",
            ));
        }
        let release_date = match body.get("releaseDate") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_str()
                    .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                    .ok_or_else(|| {
                        ApiError::field("releaseDate", "Please enter the date in yyyy-MM-dd.")
                    })?,
            ),
        };
        let flag = |k: &str| body.get(k).and_then(Value::as_bool).unwrap_or(false);
        let id = self.next_version.to_string();
        self.next_version += 1;
        self.versions.push(Version {
            id: id.clone(),
            project_id: project,
            name,
            description: body
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            released: flag("released"),
            archived: flag("archived"),
            release_date,
        });
        Ok(id)
    }

    /// The id of the version a field value names (`{id}` or `{name}`) in `issue`'s project.
    pub(crate) fn version_in(
        &self,
        field: &str,
        issue: &Issue,
        v: &Value,
    ) -> Result<String, ApiError> {
        let id = v.get("id").and_then(|x| {
            x.as_str()
                .map(str::to_string)
                .or_else(|| x.as_u64().map(|n| n.to_string()))
        });
        let name = v.get("name").and_then(Value::as_str);
        self.versions_of(&issue.project)
            .into_iter()
            .find(|x| {
                id.as_deref() == Some(x.id.as_str())
                    || name.is_some_and(|n| n.eq_ignore_ascii_case(&x.name))
            })
            .map(|x| x.id.clone())
            .ok_or_else(|| {
                let what = id.as_deref().or(name).unwrap_or("");
                ApiError::field(field, format!("Version name '{what}' is not valid"))
            })
    }
}
