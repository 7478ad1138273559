//! The guide's first rule as a new author writes it: `basic`, minus comments that mention
//! "secret", with `"[ACME] "` before every summary sent. It loops: the prefixed summary comes
//! back from the other side, lands here, and goes out with a second prefix.
//! `twinsync rules check --round-trip` catches it; `acme-prefix` is the fixed version.

use twinsync_sdk::prelude::*;

pub struct AcmePrefixLoop;

impl Rule for AcmePrefixLoop {
    fn outgoing(issue: Issue, _ctx: SyncContext) -> Result<Replica, RuleError> {
        let mut replica = twinsync_sdk::basic::outgoing(&issue);
        replica
            .comments
            .retain(|c| !c.body.text.to_lowercase().contains("secret"));
        replica.summary = replica.summary.map(|s| format!("[ACME] {s}"));
        Ok(replica)
    }

    fn incoming(
        replica: Replica,
        local: Option<Issue>,
        ctx: SyncContext,
    ) -> Result<Changes, RuleError> {
        twinsync_sdk::basic::incoming(&replica, local.as_ref(), &ctx)
    }
}

twinsync_sdk::export_rule!(AcmePrefixLoop);
