//! The Jira client: everything the host says to a Jira instance, Cloud (REST v3, ADF) or Data Center (REST v2, wiki markup).
//!
//! `flavour` holds every difference between the two in one place; `client`
//! makes typed calls through `budget` (request pacing) and `retry` (transient
//! faults); `mapping` turns Jira's JSON into [`crate::model`] and back, so that
//! nothing above this module touches raw JSON; `richtext` converts formatting
//! between ADF, wiki markup and plain text; `webhook` reads webhook payloads.

pub mod richtext;
