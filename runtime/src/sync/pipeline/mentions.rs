//! Mentions across sites: a user mentioned in a description or comment that arrives is
//! remapped through the same people the host resolves assignees with: the user the other
//! site names (a Cloud account id, a DC user name) is found there, then here by email or by
//! the side's user table (`map.user.<user>`, the `mapping` rule's keys). A user with no twin
//! here becomes plain text with their display name, and nobody is pinged.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::jira::JiraUser;
use crate::jira::flavour::Flavour;
use crate::jira::richtext::mentions::{self, Here, Mentioned};
use crate::sync::side::SideError;

/// A Jira lookup's failure as the event's.
fn jira(e: crate::jira::JiraError) -> EventError {
    EventError::Side(SideError::from(e))
}

impl Pipeline {
    /// The changes with every mention in the description and comments remapped to this side.
    pub(super) async fn remap_mentions(
        &self,
        side: &Side,
        mut changes: Changes,
    ) -> Result<Changes, EventError> {
        let other = self.side(&side.connection, &side.other);
        // Two projects of one site: a mention names a local user already.
        if other.as_ref().is_some_and(|o| o.instance == side.instance) {
            return Ok(changes);
        }
        let texts = changes
            .description
            .iter()
            .chain(changes.comments.iter().flatten().map(|c| &c.body));
        let all: BTreeSet<Mentioned> = texts.flat_map(mentions::mentions).collect();
        if all.is_empty() {
            return Ok(changes);
        }
        let mut here = BTreeMap::new();
        for m in all {
            let h = self.local_user(side, other.as_deref(), &m).await?;
            here.insert(m, h);
        }
        let format = side.jira.client().flavour().body_format();
        let pick = |m: &Mentioned| {
            here.get(m)
                .cloned()
                .unwrap_or_else(|| Here::Plain(format!("@{}", shown(m, None))))
        };
        if let Some(d) = changes.description.as_mut()
            && let Some(r) = mentions::remap(d, format, &pick)
        {
            *d = r;
        }
        for c in changes.comments.iter_mut().flatten() {
            if let Some(r) = mentions::remap(&c.body, format, &pick) {
                c.body = r;
            }
        }
        Ok(changes)
    }

    /// Who a mention from the other site is here.
    async fn local_user(
        &self,
        side: &Side,
        other: Option<&Side>,
        m: &Mentioned,
    ) -> Result<Here, EventError> {
        // The user as the other site knows them (a peer's site is out of reach: its text names them).
        let theirs: Option<JiraUser> = match (other, &m.account_id, &m.username) {
            (Some(o), Some(id), _) if o.jira.client().flavour() == Flavour::Cloud => {
                o.jira.client().user_by_account_id(id).await.map_err(jira)?
            }
            (Some(o), None, Some(name)) => {
                o.jira.client().user_by_username(name).await.map_err(jira)?
            }
            _ => None,
        };
        let client = side.jira.client();
        let mut mine = None;
        if let Some(to) = mapped(side, m, theirs.as_ref()) {
            mine = match to.split_once(':') {
                Some(("accountid", id)) => client.user_by_account_id(id).await,
                Some(("name", name)) => client.user_by_username(name).await,
                _ => client.user_by_email(&to).await,
            }
            .map_err(jira)?;
        }
        if mine.is_none()
            && let Some(email) = theirs.as_ref().and_then(|u| u.email.as_deref())
        {
            mine = client.user_by_email(email).await.map_err(jira)?;
        }
        let name = shown(m, theirs.as_ref());
        Ok(match (mine, client.flavour()) {
            (Some(u), Flavour::Cloud) if u.account_id.is_some() => Here::Account {
                id: u.account_id.unwrap_or_default(),
                text: format!("@{}", u.display_name.unwrap_or(name)),
            },
            (Some(u), Flavour::DataCenter) if u.name.is_some() => {
                Here::Username(u.name.unwrap_or_default())
            }
            _ => {
                tracing::info!(user = %name, "a mentioned user has no twin on this site; written as plain text");
                Here::Plain(format!("@{name}"))
            }
        })
    }
}

/// The side's user table entry for the user, by email, account id, user name or display
/// name (each as written, then lower-cased), as the `mapping` rule reads `map.user.<user>`.
fn mapped(side: &Side, m: &Mentioned, theirs: Option<&JiraUser>) -> Option<String> {
    let names = [
        theirs.and_then(|u| u.email.clone()),
        m.account_id.clone(),
        m.username.clone(),
        theirs.and_then(|u| u.display_name.clone()),
    ];
    names.into_iter().flatten().find_map(|n| {
        side.config
            .get(&format!("map.user.{n}"))
            .or_else(|| side.config.get(&format!("map.user.{}", n.to_lowercase())))
            .cloned()
    })
}

/// The name to show for a mentioned user: their display name where known, else the text
/// the mention carried, else their user name or account id.
fn shown(m: &Mentioned, theirs: Option<&JiraUser>) -> String {
    theirs
        .and_then(|u| u.display_name.clone())
        .or_else(|| {
            let t = m.text.trim().trim_start_matches('@');
            (!t.is_empty()).then(|| t.to_string())
        })
        .or_else(|| m.username.clone())
        .or_else(|| m.account_id.clone())
        .unwrap_or_else(|| "someone".into())
}
