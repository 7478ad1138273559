//! `cargo xtask test`: every test the project has, in the order a fresh machine needs them:
//! the rules the tests load, the stock rules the binary embeds (rebuilt and compared), the
//! Python and browser tools, formatting, the Rust suite (unit, end-to-end, SDK and rule
//! tests), the API docs with warnings as errors, and the demo's check.

use anyhow::Result;

use crate::run::{cargo, root, script, step};

/// Runs the whole suite, stopping at the first step that fails.
pub fn run() -> Result<()> {
    crate::rules::build(false)?;
    // The components the node embeds must be what their sources build, byte for byte.
    crate::stock::build(true)?;
    if root().join("scripts/setup-python.sh").is_file() {
        step("prepare the Python tools", &mut script("setup-python.sh"))?;
    }
    // Chromium and Playwright for the admin page's browser test.
    step("prepare the browser", &mut script("setup-browser.sh"))?;
    step(
        "check formatting",
        cargo().args(["fmt", "--all", "--", "--check"]),
    )?;
    // The crash and stop scenarios run the node as its own process: they need the binary.
    step("build the node", cargo().args(["build", "-p", "twinsync"]))?;
    step(
        "run the Rust suite",
        cargo().args(["test", "--workspace", "--no-fail-fast"]),
    )?;
    step(
        "build the API docs (warnings are errors)",
        cargo()
            .args(["doc", "--workspace", "--no-deps", "--exclude", "xtask"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    // The demo's scripted scenario, through the real binary.
    step(
        "run the demo's check",
        cargo().args([
            "run",
            "-q",
            "-p",
            "twinsync",
            "--",
            "demo",
            "--check",
            "--port-cloud",
            "0",
            "--port-dc",
            "0",
            "--port-node",
            "0",
            "--port-admin",
            "0",
        ]),
    )?;
    eprintln!("all tests passed");
    Ok(())
}
