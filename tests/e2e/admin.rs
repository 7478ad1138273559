//! The admin surface end to end, one module a concern: `/metrics` after a real sync, access
//! (the admin token, and no admin API open to the network without one), the API and the page,
//! the CLI over the API, a side's rule versions (publish, history, rollback), and the sync
//! method of each direction (automatic, manual, disabled), and Visual mode's mapping.

mod access;
mod api;
mod cli;
mod issue;
mod metrics;
mod rule_versions;
mod setup;
mod sync_method;
pub(crate) mod visual;
