//! `twinsync demo`: two simulated Jiras (Cloud and Data Center), one node, the stock `basic`
//! rule on both sides, live sync. `--check` runs a scripted scenario end to end and fails on
//! any divergence.

mod banner;
mod check;
mod runner;

use std::path::PathBuf;
use std::process::ExitCode;

use runner::Demo;

/// Why the demo could not start, or where its scenario diverged.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DemoError {
    #[error(
        "the rule file {0} does not exist (without --rule the demo runs the stock `basic` rule)"
    )]
    NoRule(PathBuf),
    #[error("demo setup: {0}")]
    Setup(String),
    #[error("divergence: {0}")]
    Divergence(String),
}

/// What `twinsync demo` runs: the rule and the ports and directory it uses.
pub(crate) struct DemoOptions {
    /// A rule file for both sides; `None`: the stock `basic` rule built into the binary.
    pub(crate) rule: Option<PathBuf>,
    pub(crate) port_a: u16,
    pub(crate) port_b: u16,
    /// The public listener's port (the simulators' webhooks reach it).
    pub(crate) node_port: u16,
    /// The admin listener's port (the admin page).
    pub(crate) admin_port: u16,
    pub(crate) data_dir: PathBuf,
}

/// Runs the demo until Ctrl-C, or with `check` the scripted scenario once; the exit code
/// says whether it passed.
pub(crate) async fn run(check: bool, opts: DemoOptions) -> anyhow::Result<ExitCode> {
    let demo = Demo::start(&opts).await?;
    demo.print_banner();
    if check {
        out!("Running the scripted scenario:");
        let result = demo.check().await;
        demo.stop().await;
        return match result {
            Ok(()) => {
                out!("demo check passed");
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("demo check FAILED: {e}");
                Ok(ExitCode::FAILURE)
            }
        };
    }
    out!("A first issue, to watch it go across:");
    if let Err(e) = demo.check().await {
        eprintln!("  the first sync did not go through: {e}");
    }
    out!();
    out!("Syncing live; press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    demo.stop().await;
    Ok(ExitCode::SUCCESS)
}
