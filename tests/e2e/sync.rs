//! The sync pipeline end to end: two simulated Jiras (Cloud and Data Center), one node with a
//! local connection, the stock `basic` rule on both sides, real webhooks on loopback. One
//! module a concern: what crosses (fields, rich text, workflows, comments, attachments),
//! concurrent edits on both sides, and recovery (pauses, restarts, failed rules, lost webhooks).

mod authorship;
mod concurrent;
mod connect;
mod crossing;
mod items;
mod jsm;
mod mentions;
mod recovery;
mod status;
