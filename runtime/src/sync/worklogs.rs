//! Worklogs on a side: writing the copy of a worklog from the other side, its author kept
//! where this site can set it, and otherwise named at the head of its comment.

use serde_json::{Value, json};

use super::side::{JiraSide, SideError};
use crate::jira::{Flavour, WorklogWrite, mapping};
use crate::model::{RichText, User, WorklogChange};

impl JiraSide {
    /// Logs the copy of a worklog on `key`; returns the new worklog's id.
    pub(crate) async fn add_worklog(
        &self,
        key: &str,
        w: &WorklogChange,
    ) -> Result<String, SideError> {
        self.guard(key).await?;
        let (comment, author) = self.authored(w).await?;
        let write = WorklogWrite {
            started: &w.started,
            time_spent_seconds: w.time_spent_seconds,
            comment: comment.as_ref(),
            author: author.as_deref(),
        };
        Ok(self.client().add_worklog(key, &write).await?.id)
    }

    /// Rewrites the copy of a worklog on `key`.
    pub(crate) async fn update_worklog(
        &self,
        key: &str,
        id: &str,
        w: &WorklogChange,
    ) -> Result<(), SideError> {
        self.guard(key).await?;
        let (comment, author) = self.authored(w).await?;
        let write = WorklogWrite {
            started: &w.started,
            time_spent_seconds: w.time_spent_seconds,
            comment: comment.as_ref(),
            author: author.as_deref(),
        };
        self.client().update_worklog(key, id, &write).await?;
        Ok(())
    }

    /// Deletes a worklog of `key`; one already gone is not an error.
    pub(crate) async fn delete_worklog(&self, key: &str, id: &str) -> Result<(), SideError> {
        self.guard(key).await?;
        match self.client().delete_worklog(key, id).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => Ok(other?),
        }
    }

    /// The comment and author a worklog copy gets: the author's local identity when this
    /// site has the user and lets a worklog's author be set (Data Center); otherwise the
    /// author is named at the head of the comment (Cloud always writes the caller).
    async fn authored(
        &self,
        w: &WorklogChange,
    ) -> Result<(Option<RichText>, Option<String>), SideError> {
        let Some(author) = &w.author else {
            return Ok((w.comment.clone(), None));
        };
        let flavour = self.client().flavour();
        let local = match flavour {
            Flavour::DataCenter => self
                .client()
                .find_user(&mapping::user_ref_of(author))
                .await?
                .and_then(|u| u.ident(flavour).map(str::to_string)),
            Flavour::Cloud => None,
        };
        match local {
            Some(name) => Ok((w.comment.clone(), Some(name))),
            None => Ok((Some(with_author_line(w.comment.as_ref(), author)), None)),
        }
    }
}

/// How a worklog's author is named when the copy cannot carry them as its author.
fn author_line(author: &User) -> String {
    let who = author
        .display_name
        .as_deref()
        .or(author.email.as_deref())
        .or(author.name.as_deref())
        .or(author.account_id.as_deref())
        .unwrap_or("someone");
    format!("Logged by {who}")
}

/// The comment with a first line naming the author, in each form the comment has.
fn with_author_line(comment: Option<&RichText>, author: &User) -> RichText {
    let line = author_line(author);
    let Some(c) = comment.filter(|c| !c.text.is_empty()) else {
        return RichText::plain(line);
    };
    RichText {
        text: format!("{line}\n\n{}", c.text),
        adf: c.adf.as_deref().and_then(|adf| adf_with_line(adf, &line)),
        wiki: c.wiki.as_ref().map(|w| format!("{line}\n\n{w}")),
    }
}

/// An ADF document with one more paragraph at its head; `None` if it is not a document.
fn adf_with_line(adf: &str, line: &str) -> Option<String> {
    let mut doc: Value = serde_json::from_str(adf).ok()?;
    let content = doc.get_mut("content")?.as_array_mut()?;
    content.insert(
        0,
        json!({"type": "paragraph", "content": [{"type": "text", "text": line}]}),
    );
    Some(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ada() -> User {
        User {
            display_name: Some("Ada Lovelace".into()),
            email: Some("ada@example.com".into()),
            ..User::default()
        }
    }

    #[test]
    fn the_author_heads_each_form_of_the_comment() {
        let c = RichText {
            text: "pairing".into(),
            adf: Some(
                r#"{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"pairing"}]}]}"#
                    .into(),
            ),
            wiki: None,
        };
        let out = with_author_line(Some(&c), &ada());
        assert_eq!(out.text, "Logged by Ada Lovelace\n\npairing");
        let adf: Value = serde_json::from_str(out.adf.as_deref().unwrap()).unwrap();
        assert_eq!(
            adf["content"][0]["content"][0]["text"],
            "Logged by Ada Lovelace"
        );
        assert_eq!(adf["content"][1]["content"][0]["text"], "pairing");
        assert_eq!(out.wiki, None);
        assert_eq!(
            with_author_line(None, &ada()).text,
            "Logged by Ada Lovelace"
        );
    }
}
