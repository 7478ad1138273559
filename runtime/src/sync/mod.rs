//! The sync pipeline: detect changes, run the rules, carry replicas across, reconcile the twin.
//!
//! `reconcile` turns desired state into the fewest Jira changes; `workflow`
//! finds the transitions that reach a target status.

pub(crate) mod clock;
pub mod connect;
pub mod detect;
pub mod envelope;
pub mod node;
pub(crate) mod pipeline;
pub(crate) mod reconcile;
pub mod side;
pub(crate) mod status_link;
pub(crate) mod transport;
pub(crate) mod trial;
pub(crate) mod workflow;
pub(crate) mod worklogs;
