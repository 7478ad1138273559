//! Hostile test rule `hostile-recursion`: recurses without end, so the host's
//! wasm stack limit must end the call with a stack overflow.

use twinsync_sdk::prelude::*;

/// The recursing rule.
pub struct HostileRecursion;

/// Recurses until `depth` reaches `limit`, which callers set out of reach.
/// The rotate-and-xor after the call is not an accumulator the optimiser can
/// turn into a loop, and the values stay in wasm locals rather than the
/// shadow stack in linear memory, so the engine's own stack runs out first.
fn descend(depth: u64, limit: u64) -> u64 {
    if depth >= limit {
        return depth;
    }
    descend(depth + 1, limit).rotate_left(7) ^ depth
}

/// A limit no stack can reach, but one the compiler cannot see as constant.
fn unreachable_depth(input_len: usize) -> u64 {
    u64::MAX - input_len as u64
}

impl Rule for HostileRecursion {
    fn outgoing(issue: Issue, _ctx: SyncContext) -> Result<Replica, RuleError> {
        let n = descend(0, unreachable_depth(issue.summary.len()));
        Err(fail(format!("recursion ended at depth {n}")))
    }

    fn incoming(
        replica: Replica,
        _local: Option<Issue>,
        _ctx: SyncContext,
    ) -> Result<Changes, RuleError> {
        let n = descend(0, unreachable_depth(replica.labels.len()));
        Err(fail(format!("recursion ended at depth {n}")))
    }
}

twinsync_sdk::export_rule!(HostileRecursion);
