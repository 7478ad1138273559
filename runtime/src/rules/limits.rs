//! Per-call limits on a rule (CPU, memory, output, log) and the store limiter that enforces memory.

use serde::{Deserialize, Serialize};

/// Limits on one rule call, configurable per connection side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleLimits {
    /// Wasm fuel per call; one unit is roughly one wasm instruction.
    /// The default is about 100 ms of work on a current x86 core.
    pub fuel: u64,
    /// Linear memory a call may grow to, in bytes.
    pub memory_bytes: usize,
    /// Size of the replica or changes a call may return, in bytes of text; the host copies
    /// at most four times this out of the guest before it checks.
    pub output_bytes: usize,
    /// Bytes of `log` lines kept per call; the rest is dropped with a marker.
    pub log_bytes: usize,
}

impl Default for RuleLimits {
    fn default() -> Self {
        RuleLimits {
            fuel: 300_000_000,
            memory_bytes: 64 << 20,
            output_bytes: 4 << 20,
            log_bytes: 16 << 10,
        }
    }
}

/// Which limit a call ran into, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitHit {
    /// The fuel budget, in units of fuel.
    Fuel(u64),
    /// The memory cap, in bytes.
    Memory(usize),
    /// The wasm stack, in bytes.
    Stack(usize),
    /// The answer's size cap, in bytes.
    Output(usize),
}

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimitHit::Fuel(n) => write!(f, "CPU limit ({n} fuel units)"),
            LimitHit::Memory(n) => write!(f, "memory limit ({} MiB)", n >> 20),
            LimitHit::Stack(n) => write!(f, "wasm stack limit ({} KiB)", n >> 10),
            LimitHit::Output(n) => write!(f, "output size limit ({} KiB)", n >> 10),
        }
    }
}

/// Enforces the memory limit of one call and remembers whether it was hit.
pub(crate) struct CallLimiter {
    memory_bytes: usize,
    pub(crate) memory_refused: bool,
    /// Linear memory the call's instance holds, all its memories together (grows only).
    pub(crate) memory_used: usize,
}

impl CallLimiter {
    pub(crate) fn new(limits: &RuleLimits) -> Self {
        CallLimiter {
            memory_bytes: limits.memory_bytes,
            memory_refused: false,
            memory_used: 0,
        }
    }
}

/// Table elements a call may grow to; tables hold function references, so this is generous.
const TABLE_ELEMENTS: usize = 1 << 20;

impl wasmtime::ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // The limit holds for all the instance's memories together (an interpreter's
        // component has several).
        let total = self.memory_used + desired.saturating_sub(current);
        if total > self.memory_bytes {
            self.memory_refused = true;
            // A trap rather than a failed grow: guests rarely survive a failed
            // allocation, and a trap names the limit precisely.
            return Err(wasmtime::Error::msg(format!(
                "memory limit: growing to {total} bytes (all memories) refused"
            )));
        }
        // Called when each memory is created (from 0) and on every grow.
        self.memory_used = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= TABLE_ELEMENTS)
    }
}
