//! The sync pipeline: detect changes, run the rules, carry replicas across, reconcile the twin.
//!
//! `reconcile` turns desired state into the fewest Jira changes; `workflow`
//! finds the transitions that reach a target status.

pub mod clock;
pub mod detect;
pub mod envelope;
pub mod node;
pub mod pipeline;
pub mod reconcile;
pub mod side;
pub mod transport;
pub mod trial;
pub mod workflow;
