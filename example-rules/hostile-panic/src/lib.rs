//! Hostile test rule `hostile-panic`: panics, which in a wasm component aborts
//! with a trap the host must turn into a clear error.

use twinsync_sdk::prelude::*;

/// The panicking rule.
pub struct HostilePanic;

impl Rule for HostilePanic {
    fn outgoing(issue: Issue, _ctx: SyncContext) -> Result<Replica, RuleError> {
        panic!("hostile-panic: refusing to handle {}", issue.key)
    }

    fn incoming(
        replica: Replica,
        _local: Option<Issue>,
        _ctx: SyncContext,
    ) -> Result<Changes, RuleError> {
        panic!(
            "hostile-panic: refusing a replica of {}",
            replica.key.as_deref().unwrap_or("an unknown issue")
        )
    }
}

twinsync_sdk::export_rule!(HostilePanic);
