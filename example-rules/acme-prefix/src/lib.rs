//! The guide's first rule: `basic`, minus comments that mention "secret", with `"[ACME] "`
//! before the summary the other side sees. Idempotent, so it cannot loop: the prefix is added
//! only when missing, and stripped from a summary that comes back.

use twinsync_sdk::prelude::*;

const PREFIX: &str = "[ACME] ";

pub struct AcmePrefix;

impl Rule for AcmePrefix {
    fn outgoing(issue: Issue, _ctx: SyncContext) -> Result<Replica, RuleError> {
        let mut replica = twinsync_sdk::basic::outgoing(&issue);
        replica
            .comments
            .retain(|c| !c.body.text.to_lowercase().contains("secret"));
        replica.summary = replica.summary.map(|s| {
            if s.starts_with(PREFIX) {
                s
            } else {
                format!("{PREFIX}{s}")
            }
        });
        Ok(replica)
    }

    fn incoming(
        replica: Replica,
        local: Option<Issue>,
        ctx: SyncContext,
    ) -> Result<Changes, RuleError> {
        let mut changes = twinsync_sdk::basic::incoming(&replica, local.as_ref(), &ctx)?;
        changes.summary = changes
            .summary
            .map(|s| s.strip_prefix(PREFIX).map(str::to_string).unwrap_or(s));
        Ok(changes)
    }
}

twinsync_sdk::export_rule!(AcmePrefix);

#[cfg(test)]
mod tests {
    use super::*;
    use twinsync_sdk::testing::{context, incoming_context, sample_issue, with_config};

    #[test]
    fn the_prefix_goes_out_once_and_comes_back_off() {
        let replica = AcmePrefix::outgoing(sample_issue(), context(false)).expect("outgoing");
        let summary = replica.summary.clone().expect("summary");
        assert!(summary.starts_with("[ACME] ") && !summary.starts_with("[ACME] [ACME]"));
        let again = AcmePrefix::outgoing(
            Issue {
                summary: summary.clone(),
                ..sample_issue()
            },
            context(false),
        )
        .expect("outgoing");
        assert_eq!(again.summary.as_deref(), Some(summary.as_str()));
        let changes = with_config(&[("project", "SUP")], || {
            AcmePrefix::incoming(replica, None, incoming_context(true))
        })
        .expect("incoming");
        assert_eq!(changes.summary, Some(sample_issue().summary));
    }
}
