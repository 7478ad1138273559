//! Hostile test rule `hostile-alias`: answers with a replica whose labels are many list
//! entries all pointing at one large buffer (4 MiB, 30 times, by default). In the guest's
//! memory the answer is one buffer; copied out by the host it is 120 MiB. Only a bound on
//! the host's copy, taken before the copy, refuses it cheaply.
//!
//! Config keys `alias.mib` (1 to 16, default 4) and `alias.count` (1 to 1000, default 30)
//! set the buffer's size and how many entries point at it.

use std::alloc::{GlobalAlloc, Layout, System};

use twinsync_sdk::prelude::*;

/// Frees nothing: the bindings free each returned string after the call, and here every
/// entry is the same buffer.
struct NeverFree;

// SAFETY: allocation is the system allocator's; leaving memory unfreed is always sound.
unsafe impl GlobalAlloc for NeverFree {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOCATOR: NeverFree = NeverFree;

/// The aliasing rule.
pub struct HostileAlias;

/// A config number, clamped to `range`.
fn number(key: &str, default: usize, range: (usize, usize)) -> Result<usize, RuleError> {
    match config(key) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<usize>()
            .map(|n| n.clamp(range.0, range.1))
            .map_err(|_| fail(format!("config key `{key}` must be a number, not {v:?}"))),
    }
}

/// `count` strings sharing one buffer of `alias.mib` MiB.
fn aliased_labels() -> Result<Vec<String>, RuleError> {
    let bytes = number("alias.mib", 4, (1, 16))? << 20;
    let count = number("alias.count", 30, (1, 1000))?;
    let buffer: &'static mut str = Box::leak("a".repeat(bytes).into_boxed_str());
    let (ptr, len) = (buffer.as_mut_ptr(), buffer.len());
    Ok((0..count)
        // SAFETY: deliberately not: the strings alias one leaked buffer, which is never
        // written or freed (see `NeverFree`); this is the attack the host must survive.
        .map(|_| unsafe { String::from_raw_parts(ptr, len, len) })
        .collect())
}

impl Rule for HostileAlias {
    fn outgoing(issue: Issue, _ctx: SyncContext) -> Result<Replica, RuleError> {
        let mut replica = replica_from(&issue);
        replica.labels = aliased_labels()?;
        Ok(replica)
    }

    fn incoming(
        replica: Replica,
        _local: Option<Issue>,
        _ctx: SyncContext,
    ) -> Result<Changes, RuleError> {
        let mut changes = changes_from(&replica);
        changes.labels = Some(aliased_labels()?);
        Ok(changes)
    }
}

twinsync_sdk::export_rule!(HostileAlias);
