//! Hostile test rule `hostile-escape`: tries to reach files, environment,
//! clocks, randomness and the network, and reports what it observed instead
//! of failing, so a test can check that the sandbox gave it nothing real.
//!
//! `outgoing` returns the issue's replica with one property per probe;
//! `incoming` returns changes with one custom field change `escape.<probe>`
//! per probe. Probes: `fs` (read /etc/passwd), `fs.dir` (list "."), `env`
//! (count variables), `args`, `clock` (wall clock, unix seconds),
//! `monotonic`, `random` (a randomly keyed hash), `net` (TCP to
//! 127.0.0.1:80), `dns` (resolve example.com).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use twinsync_sdk::prelude::*;
use twinsync_sdk::types::{CustomFieldChange, Value};

/// The escaping rule.
pub struct HostileEscape;

/// Runs every probe; each value says what the rule saw, e.g. `error: ...`.
pub fn probes() -> Vec<(String, String)> {
    let fs = match std::fs::read_to_string("/etc/passwd") {
        Ok(text) => format!("read {} bytes", text.len()),
        Err(e) => format!("error: {e}"),
    };
    let dir = match std::fs::read_dir(".") {
        Ok(entries) => format!("{} entries", entries.count()),
        Err(e) => format!("error: {e}"),
    };
    let env = format!("{} vars", std::env::vars_os().count());
    let args = format!("{} args", std::env::args_os().count());
    let clock = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => since.as_secs().to_string(),
        Err(e) => format!("error: {e}"),
    };
    let start = Instant::now();
    let monotonic = format!("{start:?}, {:?} elapsed", start.elapsed());
    let random = format!("{:016x}", RandomState::new().hash_one(0u64));
    let net = match TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], 80)),
        Duration::from_secs(1),
    ) {
        Ok(_) => "connected".to_owned(),
        Err(e) => format!("error: {e}"),
    };
    let dns = match ("example.com", 80).to_socket_addrs() {
        Ok(addrs) => format!("{} addresses", addrs.count()),
        Err(e) => format!("error: {e}"),
    };
    [
        ("fs", fs),
        ("fs.dir", dir),
        ("env", env),
        ("args", args),
        ("clock", clock),
        ("monotonic", monotonic),
        ("random", random),
        ("net", net),
        ("dns", dns),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

impl Rule for HostileEscape {
    fn outgoing(issue: Issue, _ctx: SyncContext) -> Result<Replica, RuleError> {
        let mut replica = replica_from(&issue);
        replica.properties.extend(probes());
        Ok(replica)
    }

    fn incoming(
        replica: Replica,
        _local: Option<Issue>,
        _ctx: SyncContext,
    ) -> Result<Changes, RuleError> {
        let mut changes = changes_from(&replica).only(&[Field::Summary]);
        changes.custom_fields = probes()
            .into_iter()
            .map(|(probe, seen)| CustomFieldChange {
                field: format!("escape.{probe}"),
                value: Some(Value::Text(seen)),
            })
            .collect();
        Ok(changes)
    }
}

twinsync_sdk::export_rule!(HostileEscape);
