//! Issue links: their types, adding and deleting them, and links made from an edit's `update`.

use serde_json::Value;

use crate::error::ApiError;
use crate::model::*;

use super::State;

impl State {
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

    pub(super) fn link_from_update(
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

    /// Deletes an issue link from both ends.
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
}
