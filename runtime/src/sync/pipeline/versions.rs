//! Fix and affected versions by name: a name the local project has is written as that
//! version (in its own spelling); a name it lacks is created when the rule asks for it
//! (`missing-versions = create`), and otherwise dropped or made an error the admin sees, as
//! the rule says.

use super::*;
use crate::model::MissingVersion;

impl Pipeline {
    /// The changes with every version name settled against the local project.
    pub(super) async fn settle_versions(
        &self,
        side: &Side,
        changes: &Changes,
    ) -> Result<Changes, EventError> {
        if changes.fix_versions.is_none() && changes.affected_versions.is_none() {
            return Ok(changes.clone());
        }
        let mut existing = side.jira.versions().await?;
        let policy = changes.missing_versions.unwrap_or_default();
        let mut out = changes.clone();
        for list in [&mut out.fix_versions, &mut out.affected_versions]
            .into_iter()
            .flatten()
        {
            let mut settled = Vec::new();
            for name in list.iter() {
                if let Some(have) = existing.iter().find(|v| v.eq_ignore_ascii_case(name)) {
                    settled.push(have.clone());
                    continue;
                }
                match policy {
                    MissingVersion::Create => {
                        side.jira.create_version(name).await?;
                        tracing::info!(project = %side.project, version = %name, "version created");
                        existing.push(name.clone());
                        settled.push(name.clone());
                    }
                    MissingVersion::Drop => {
                        tracing::warn!(project = %side.project, version = %name,
                            "the project has no such version; left out (the rule may create it)");
                    }
                    MissingVersion::Fail => {
                        return Err(EventError::Permanent(format!(
                            "project {} on {} has no version {name:?}: create it, map it in \
                             the rule, or let the rule create missing versions",
                            side.project, side.instance
                        )));
                    }
                }
            }
            *list = settled;
        }
        Ok(out)
    }
}
