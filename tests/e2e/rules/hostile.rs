//! Hostile rules meet their limits: fuel, memory, stack, output, a panic, and attempts to reach
//! the host.

use std::collections::HashMap;

use super::{config, ctx, engine};
use twinsync::rules::{CallError, LimitHit, RuleLimits};
use twinsync_e2e::fixtures::{rule, sample_issue};

/// Runs one hostile rule and checks that a good rule on the same engine still serves afterwards.
fn hostile(name: &str, limits: &RuleLimits, cfg: &[(&str, &str)]) -> CallError {
    let bad = engine()
        .load_file(&rule(name))
        .expect("hostile rules still load");
    let report = bad.outgoing(sample_issue(), ctx(false), limits, &config(cfg));
    let err = report.result.expect_err("a hostile rule gives no answer");
    assert_eq!(err.rule(), Some(bad.id()), "{err}");
    let message = err.to_string();
    assert!(
        message.contains(&bad.id().name),
        "names the file: {message}"
    );
    assert!(
        message.contains(bad.id().version()),
        "names the version: {message}"
    );
    let good = engine().load_file(&rule("basic")).expect("load basic");
    let after = good.outgoing(
        sample_issue(),
        ctx(false),
        &RuleLimits::default(),
        &config(&[]),
    );
    assert!(after.result.is_ok(), "basic keeps serving after {name}");
    err
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let limits = RuleLimits::default();
    let err = hostile("hostile-loop", &limits, &[]);
    assert!(
        matches!(err, CallError::Limit { limit: LimitHit::Fuel(n), .. } if n == limits.fuel),
        "{err}"
    );
    assert!(err.to_string().contains("CPU limit"), "{err}");
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    let limits = RuleLimits {
        memory_bytes: 32 << 20,
        ..RuleLimits::default()
    };
    let err = hostile("hostile-memory", &limits, &[]);
    assert!(
        matches!(err, CallError::Limit { limit: LimitHit::Memory(n), .. } if n == 32 << 20),
        "{err}"
    );
    assert!(err.to_string().contains("memory limit (32 MiB)"), "{err}");
}

#[test]
fn deep_recursion_hits_the_stack_limit() {
    let err = hostile("hostile-recursion", &RuleLimits::default(), &[]);
    assert!(
        matches!(
            err,
            CallError::Limit {
                limit: LimitHit::Stack(_),
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn output_flood_hits_the_output_limit() {
    let limits = RuleLimits {
        output_bytes: 1 << 20,
        ..RuleLimits::default()
    };
    // 4 MiB of output: far over the 1 MiB cap, well inside memory and fuel.
    let err = hostile("hostile-flood", &limits, &[("flood.mib", "4")]);
    assert!(
        matches!(err, CallError::Limit { limit: LimitHit::Output(n), .. } if n == 1 << 20),
        "{err}"
    );
}

#[test]
fn panic_is_a_trap_with_the_panic_message() {
    let err = hostile("hostile-panic", &RuleLimits::default(), &[]);
    match &err {
        CallError::Trap { output, .. } => assert!(output.contains("panicked"), "{err}"),
        other => panic!("expected a trap, got {other}"),
    }
}

#[test]
fn escape_attempts_see_nothing_of_the_host() {
    let escape = engine()
        .load_file(&rule("hostile-escape"))
        .expect("load escape");
    // Set a variable the rule must not see.
    let report = escape.outgoing(
        sample_issue(),
        ctx(false),
        &RuleLimits::default(),
        &config(&[]),
    );
    let replica = report
        .result
        .expect("the escape rule answers with what it saw");
    let seen: HashMap<_, _> = replica.properties.into_iter().collect();
    let get = |k: &str| {
        seen.get(k)
            .cloned()
            .unwrap_or_else(|| panic!("no {k} in {seen:?}"))
    };
    assert!(get("fs").starts_with("error"), "file access: {}", get("fs"));
    assert!(get("env").starts_with("0 "), "environment: {}", get("env"));
    assert!(get("net").starts_with("error"), "network: {}", get("net"));
    assert!(
        get("dns").starts_with("error"),
        "name lookup: {}",
        get("dns")
    );
    let wall: u64 = get("clock")
        .trim()
        .parse()
        .expect("clock is a number of seconds");
    assert_eq!(wall, 0, "the wall clock is frozen at the epoch");
    // Same "randomness" on every call: a rule cannot become non-deterministic.
    let again = escape.outgoing(
        sample_issue(),
        ctx(false),
        &RuleLimits::default(),
        &config(&[]),
    );
    let again: HashMap<_, _> = again
        .result
        .expect("again")
        .properties
        .into_iter()
        .collect();
    assert_eq!(again.get("random"), seen.get("random"));
}
