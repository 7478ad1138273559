//! End-to-end scenarios, one test binary so the whole suite links once.

mod admin;
mod admin_nine_steps;
mod admin_ui;
mod admin_visual;
mod guard;
mod jira;
mod lab;
mod listeners;
mod many;
mod peer;
mod rule_author;
mod rules;
mod rules_langs;
mod sim;
mod sim_client;
mod sim_faults;
mod sim_shapes;
mod sim_webhooks;
mod sync;
mod sync_conflicts;
mod sync_crash;
mod sync_crash_points;
mod sync_model;
mod sync_stop;
