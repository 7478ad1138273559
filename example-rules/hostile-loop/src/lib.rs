//! Hostile test rule `hostile-loop`: never returns, so the host's CPU limit
//! (fuel or epoch deadline) must end the call.

use std::hint::black_box;
use twinsync_sdk::prelude::*;

/// The looping rule.
pub struct HostileLoop;

/// Spins forever; `black_box` keeps the optimiser from reasoning the loop away.
fn spin(seed: u64) -> ! {
    let mut n = seed;
    loop {
        n = black_box(n.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

impl Rule for HostileLoop {
    fn outgoing(issue: Issue, _ctx: SyncContext) -> Result<Replica, RuleError> {
        spin(issue.summary.len() as u64)
    }

    fn incoming(
        replica: Replica,
        _local: Option<Issue>,
        _ctx: SyncContext,
    ) -> Result<Changes, RuleError> {
        spin(replica.labels.len() as u64)
    }
}

twinsync_sdk::export_rule!(HostileLoop);
