//! Twinsync: keeps issues in two Jira instances in sync through sandboxed WebAssembly rules.
//!
//! Layers, top to bottom: `server`, `sync` and `peer` use `rules`, `jira` and
//! `store`; those three never use each other, and share only `model`, the
//! host's form of the rule contract's types. The Jira simulator is its own crate,
//! `twinsync-jira-sim`, and shares no types with the Jira client; `demo` uses it and
//! exists only with the default `sim` feature.

pub mod admin_token;
pub mod config;
pub mod daemon;
#[cfg(feature = "sim")]
pub mod demo;
pub mod failpoint;
pub mod jira;
pub mod metrics;
pub mod model;
pub mod peer;
pub mod private_fs;
pub mod rules;
pub mod server;
pub mod setup;
pub mod stop;
pub mod store;
pub mod sync;
pub mod text;
