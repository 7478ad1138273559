//! The project's dev tasks, written in Rust so the logic lives in one place the compiler
//! checks: `cargo xtask build-rules`, `cargo xtask stock-rules` and `cargo xtask test`. The scripts under `scripts/`
//! are thin entry points to these, so the README's two commands stay what they are.

mod rules;
mod run;
mod stock;
mod suite;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Twinsync's dev tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Builds every example rule to a wasm32-wasip2 component (Rust, then Python and JavaScript).
    BuildRules {
        /// Only the Rust rules (no componentize-py or componentize-js).
        #[arg(long)]
        rust_only: bool,
    },
    /// Builds the stock rules into runtime/stock-rules/ (the components the node embeds).
    StockRules {
        /// Rebuild and compare with the committed components instead of writing them.
        #[arg(long)]
        check: bool,
    },
    /// Runs every test: rules, formatting, the whole Rust suite, the docs and the demo's check.
    Test,
}

fn main() {
    let cli = Cli::parse();
    let done = match cli.task {
        Task::BuildRules { rust_only } => rules::build(rust_only),
        Task::StockRules { check } => stock::build(check),
        Task::Test => suite::run(),
    };
    if let Err(e) = done {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
