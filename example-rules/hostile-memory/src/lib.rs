//! Hostile test rule `hostile-memory`: allocates and touches memory without
//! bound, so the host's memory limit must end the call.

use std::hint::black_box;
use twinsync_sdk::prelude::*;

/// The memory-eating rule.
pub struct HostileMemory;

/// Grabs 1 MiB blocks forever, writing to each so none can be elided.
fn hoard(seed: u8) -> ! {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        let block = vec![seed.wrapping_add(blocks.len() as u8); 1 << 20];
        blocks.push(black_box(block));
    }
}

impl Rule for HostileMemory {
    fn outgoing(issue: Issue, _ctx: SyncContext) -> Result<Replica, RuleError> {
        hoard(issue.summary.len() as u8)
    }

    fn incoming(
        replica: Replica,
        _local: Option<Issue>,
        _ctx: SyncContext,
    ) -> Result<Changes, RuleError> {
        hoard(replica.labels.len() as u8)
    }
}

twinsync_sdk::export_rule!(HostileMemory);
