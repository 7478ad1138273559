//! Links between twinned issues: each link's other end is named by its twin where it has one
//! (the host fills `other-twin` from its own twin records, on both the issue that goes out and
//! the replica that comes in), and the incoming rule's desired set of links is carried out
//! among the local issues twinned on the connection. Links to issues outside the connection
//! are never touched.

use super::*;
use crate::model::{IssueLink, LinkChange};

/// One change to the local twin's links.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum LinkOp {
    Add(LinkChange),
    Delete { id: String },
}

impl Pipeline {
    /// Names, for each link of a local issue, the other end's twin on the far side.
    pub(super) fn name_link_twins_out(
        &self,
        side: &Side,
        links: &mut [IssueLink],
    ) -> Result<(), EventError> {
        for l in links {
            l.other_twin = self
                .store
                .twin_by_local(&side.connection, &side.name, &l.other_key)?
                .and_then(|t| t.remote_key);
        }
        Ok(())
    }

    /// Names, for each link of an arriving replica, the other end's local twin; whatever the
    /// sender wrote there is replaced, since only this side's records say what is local.
    pub(super) fn name_link_twins_in(
        &self,
        side: &Side,
        links: &mut [IssueLink],
    ) -> Result<(), EventError> {
        for l in links {
            l.other_twin = self
                .store
                .twin_by_remote(&side.connection, &side.name, &l.other_key)?
                .map(|t| t.local_key);
        }
        Ok(())
    }

    /// The link changes that make the twin's links among twinned issues the desired set.
    pub(super) fn plan_links(
        &self,
        side: &Side,
        desired: Option<&[LinkChange]>,
        current: &[IssueLink],
    ) -> Result<Vec<LinkOp>, EventError> {
        let Some(desired) = desired else {
            return Ok(Vec::new());
        };
        let same = |l: &IssueLink, c: &LinkChange| {
            l.link_type.eq_ignore_ascii_case(&c.link_type)
                && l.direction == c.direction
                && l.other_key.eq_ignore_ascii_case(&c.other_key)
        };
        let mut ops = Vec::new();
        for c in desired {
            let twinned = self
                .store
                .twin_by_local(&side.connection, &side.name, &c.other_key)?
                .is_some();
            if !twinned {
                tracing::warn!(other = %c.other_key, "a desired link names an issue that is not twinned here; left out");
                continue;
            }
            if !current.iter().any(|l| same(l, c)) && !ops.contains(&LinkOp::Add(c.clone())) {
                ops.push(LinkOp::Add(c.clone()));
            }
        }
        for l in current {
            let managed = self
                .store
                .twin_by_local(&side.connection, &side.name, &l.other_key)?
                .is_some();
            if managed && !desired.iter().any(|c| same(l, c)) {
                ops.push(LinkOp::Delete { id: l.id.clone() });
            }
        }
        Ok(ops)
    }

    /// Carries out link changes on `key`.
    pub(super) async fn apply_links(
        &self,
        side: &Side,
        key: &str,
        ops: &[LinkOp],
    ) -> Result<(), EventError> {
        for op in ops {
            match op {
                LinkOp::Add(c) => {
                    side.jira
                        .add_issue_link(key, &c.link_type, c.direction, &c.other_key)
                        .await?
                }
                LinkOp::Delete { id } => side.jira.delete_issue_link(key, id).await?,
            }
            crate::failpoint!("link-written");
        }
        Ok(())
    }
}
