//! Twinsync: keeps issues in two Jira instances in sync through sandboxed WebAssembly rules.
//!
//! Layers, top to bottom: `server`, `sync` and `peer` use `rules`, `jira` and
//! `store`; those three never use each other. `sim` (the Jira simulator)
//! stands alone and shares no types with the Jira client.

pub mod rules;
pub mod sim;
