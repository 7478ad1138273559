//! Running the tools a task is made of: each step is announced, timed, and a failure names
//! the command that failed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// The workspace root (the xtask crate sits one level below it).
pub fn root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// The cargo that runs this task, so a pinned or wrapped toolchain is used throughout.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// A script of ours under `scripts/`, run from the workspace root.
pub fn script(name: &str) -> Command {
    let mut cmd = Command::new(root().join("scripts").join(name));
    cmd.current_dir(root());
    cmd
}

/// Runs `cmd` as the step `what`: a banner before, its time after, an error naming it on failure.
pub fn step(what: &str, cmd: &mut Command) -> Result<()> {
    eprintln!("==> {what}");
    let started = Instant::now();
    let status = cmd
        .status()
        .with_context(|| format!("{what}: cannot run {}", shown(cmd)))?;
    if !status.success() {
        bail!("{what} failed ({status}): {}", shown(cmd));
    }
    eprintln!("    {what}: ok in {:.0?}", started.elapsed());
    Ok(())
}

/// A command as a user would type it, for error messages.
fn shown(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}
