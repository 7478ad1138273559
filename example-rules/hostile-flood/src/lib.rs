//! Hostile test rule `hostile-flood`: answers with a huge replica (16 MiB of
//! labels and description by default) that still fits a 64 MiB memory limit,
//! so only the host's output size cap can refuse it.
//!
//! Config key `flood.mib` (1 to 40, default 16) sets the size, so tests can
//! aim just above or below a cap.

use twinsync_sdk::prelude::*;

/// The flooding rule.
pub struct HostileFlood;

/// The default payload, in MiB.
const DEFAULT_MIB: usize = 16;
/// The largest payload: with the copies the canonical ABI makes it stays under 64 MiB.
const MAX_MIB: usize = 40;
/// Each label is 4 KiB of text.
const LABEL_BYTES: usize = 4 << 10;

/// The payload size from config, clamped to what fits the memory limit.
fn flood_bytes() -> Result<usize, RuleError> {
    let mib = match config("flood.mib") {
        None => DEFAULT_MIB,
        Some(v) => v.trim().parse::<usize>().map_err(|_| {
            fail(format!(
                "config key `flood.mib` must be a number, not {v:?}"
            ))
        })?,
    };
    Ok(mib.clamp(1, MAX_MIB) << 20)
}

/// Half the payload as 4 KiB labels, half as one description.
fn payload() -> Result<(Vec<String>, String), RuleError> {
    let total = flood_bytes()?;
    let label_count = total / 2 / LABEL_BYTES;
    let labels = (0..label_count)
        .map(|i| {
            let mut label = format!("flood-{i:08}-");
            label.extend(std::iter::repeat_n('x', LABEL_BYTES - label.len()));
            label
        })
        .collect();
    let description = "flood ".repeat(total / 2 / 6);
    Ok((labels, description))
}

impl Rule for HostileFlood {
    fn outgoing(issue: Issue, _ctx: SyncContext) -> Result<Replica, RuleError> {
        let (labels, description) = payload()?;
        let mut replica = replica_from(&issue);
        replica.labels = labels;
        replica.description = Some(rich_text(description));
        Ok(replica)
    }

    fn incoming(
        replica: Replica,
        _local: Option<Issue>,
        _ctx: SyncContext,
    ) -> Result<Changes, RuleError> {
        let (labels, description) = payload()?;
        let mut changes = changes_from(&replica);
        changes.labels = Some(labels);
        changes.description = Some(rich_text(description));
        Ok(changes)
    }
}

twinsync_sdk::export_rule!(HostileFlood);
