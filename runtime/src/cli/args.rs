//! The command line's shape: every subcommand and its flags, as clap types.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::admin_client::AdminClient;

// The command line: one subcommand.
#[derive(Parser)]
#[command(
    name = "twinsync",
    version,
    about = "Two-way Jira sync with sandboxed WebAssembly rules"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

// What the `twinsync` binary can do.
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Work with rule components: check them against the contract, run them on samples.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Serve a simulated Jira (Cloud v3 or Data Center v2) until stopped.
    #[cfg(feature = "sim")]
    Sim(twinsync_jira_sim::SimArgs),
    /// Two simulated Jiras, one node, stock rules, live sync; prints the URLs.
    ///
    /// The node watches two rule files, <DATA_DIR>/rules/support.wasm (side
    /// support-to-dev/support, Cloud project SUP) and <DATA_DIR>/rules/dev.wasm (side
    /// support-to-dev/dev, Data Center project DEV): replace one (write beside it, then rename
    /// over it) to hot-swap that side's rule. The node's config is <DATA_DIR>/twinsync.toml;
    /// pass it to the CLI with -c (`twinsync status -c target/demo/twinsync.toml`).
    #[cfg(feature = "sim")]
    Demo {
        /// Run the scripted scenario end to end and exit; non-zero on any divergence.
        #[arg(long)]
        check: bool,
        /// The rule both sides run: a .wasm file [default: the stock `basic` rule built into
        /// this binary].
        #[arg(long)]
        rule: Option<PathBuf>,
        #[arg(long, default_value_t = 8081)]
        port_cloud: u16,
        #[arg(long, default_value_t = 8082)]
        port_dc: u16,
        /// The node's public listener (webhooks).
        #[arg(long, default_value_t = 7700)]
        port_node: u16,
        /// The node's admin listener (admin page, API, metrics) [default: 7702, or a free
        /// port when --port-node is 0].
        #[arg(long)]
        port_admin: Option<u16>,
        /// Where the demo node keeps its store, config and rules/ (wiped at start).
        #[arg(long, default_value = "target/demo")]
        data_dir: PathBuf,
    },
    /// Run a node: webhooks (public listener), workers, poller, the admin API (admin listener).
    Node {
        /// The config file [default: twinsync.toml; without one, the node starts with the
        /// defaults and everything else is set up in the admin page].
        #[arg(short, long)]
        config: Option<PathBuf>,
    },
    /// The node's configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Put one issue under sync now (Exalate's manual "exalate").
    Sync {
        key: String,
        #[arg(short = 'C', long)]
        connection: String,
        #[arg(short, long, default_value = "twinsync.toml")]
        config: PathBuf,
    },
    /// Put every matching existing issue under sync, with a progress bar; resumable after a kill.
    Bulk {
        #[arg(short = 'C', long)]
        connection: String,
        /// The side whose issues to sync (default: the side with a trigger).
        #[arg(long)]
        side: Option<String>,
        /// Which issues (default: the side's trigger, else its whole project).
        #[arg(long)]
        jql: Option<String>,
        #[arg(short, long, default_value = "twinsync.toml")]
        config: PathBuf,
    },
    /// Connections, queues, twins, last sync and rule versions (asks the running node).
    Status {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Failed sync events, with the error and the rule version that handled them.
    Errors {
        #[arg(short = 'C', long)]
        connection: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Run a failed sync event again (after fixing its rule or data).
    Retry {
        event: i64,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Pause or resume a connection; a paused connection queues and loses nothing.
    #[command(subcommand)]
    Connection(ConnectionCommand),
}

/// `twinsync config ...`.
#[derive(clap::Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print the node's whole configuration (the file's `[node]`, and the instances,
    /// connections and triggers from the store, the admin page's included) as TOML a node
    /// can start from; secrets as references, never values.
    Export {
        #[arg(short, long, default_value = "twinsync.toml")]
        config: PathBuf,
    },
}

/// How the CLI reaches a running node's admin API.
#[derive(clap::Args)]
pub(crate) struct NodeArgs {
    /// The node's config: its `admin_listen` address and admin token [default: twinsync.toml].
    #[arg(short, long)]
    pub(crate) config: Option<PathBuf>,
    /// The admin listener's URL, instead of the config's `admin_listen` (token: TWINSYNC_ADMIN_TOKEN, else the
    /// config's admin_token or the one the node made in its data directory).
    #[arg(long, value_name = "URL")]
    pub(crate) node: Option<String>,
}

impl NodeArgs {
    /// A client of the node these arguments name.
    pub(crate) fn client(&self) -> anyhow::Result<AdminClient> {
        Ok(AdminClient::from_config(
            self.config.as_deref(),
            self.node.as_deref(),
        )?)
    }
}

// `twinsync connection …`: list, pause, resume and pair connections.
#[derive(Subcommand)]
pub(crate) enum ConnectionCommand {
    /// Connections and their sides.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Stop syncing a connection; changes queue up and nothing is lost.
    Pause {
        name: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    Resume {
        name: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Print a one-time code that pairs a remote connection with a peer node.
    Invite {
        #[arg(short = 'C', long)]
        connection: String,
        /// How long the code works.
        #[arg(long, default_value_t = 60)]
        expires_in_minutes: u64,
        #[arg(short, long, default_value = "twinsync.toml")]
        config: PathBuf,
    },
    /// Pair with the peer node that made an invitation code (its node must be running).
    /// The code is read from standard input, or from --code-file.
    Accept {
        /// Read the code from this file instead of standard input.
        #[arg(long, value_name = "FILE", conflicts_with = "code")]
        code_file: Option<PathBuf>,
        /// The code itself; avoid: other users see it in `ps`, and it stays in shell history.
        code: Option<String>,
        #[arg(short, long, default_value = "twinsync.toml")]
        config: PathBuf,
    },
}

// `twinsync rules …`: check, test and try rule components.
#[derive(Subcommand)]
pub(crate) enum RulesCommand {
    /// Does the component fit the twinsync:rules contract? Prints world version, exports and hash.
    Check {
        rule: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Also run the rule round trips (outgoing here, incoming on the other side, its
        /// outgoing, incoming here) and report every field that does not come back to a
        /// fixed point: a sync loop. Non-zero exit when one does not.
        #[arg(long)]
        round_trip: bool,
        /// The other side's rule for --round-trip [default: the same rule].
        #[arg(long, value_name = "RULE", requires = "round_trip")]
        other: Option<PathBuf>,
        /// A sample issue of this side for --round-trip, as JSON (repeatable)
        /// [default: the stock sample, example-rules/samples/issue.json].
        #[arg(long, value_name = "FILE", requires = "round_trip")]
        issue: Vec<PathBuf>,
        /// A rule config entry `key=value` of this side for --round-trip; repeatable.
        #[arg(long = "config", value_name = "KEY=VALUE", requires = "round_trip")]
        config: Vec<String>,
        /// A rule config entry of the other side for --round-trip; repeatable.
        #[arg(
            long = "other-config",
            value_name = "KEY=VALUE",
            requires = "round_trip"
        )]
        other_config: Vec<String>,
    },
    /// Run one rule on a sample and print the replica (outgoing) or changes (incoming) as JSON.
    Test {
        rule: PathBuf,
        /// The issue (outgoing), or the replica (with --incoming), as JSON.
        #[arg(long)]
        issue: PathBuf,
        /// Run `incoming` instead of `outgoing`.
        #[arg(long)]
        incoming: bool,
        /// The local twin for `incoming`, as JSON; without it the call is a first sync.
        #[arg(long, requires = "incoming")]
        local: Option<PathBuf>,
        /// A rule config entry `key=value`; repeatable.
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
        /// Mark the call as a first sync.
        #[arg(long)]
        first_sync: bool,
        /// Take the rule config of this side of the node's config (`CONNECTION/SIDE`);
        /// `--config` entries override it.
        #[arg(long, value_name = "CONNECTION/SIDE")]
        side: Option<String>,
        /// The node's config, for `--side` (the demo's is <data dir>/twinsync.toml).
        #[arg(short = 'c', long, default_value = "twinsync.toml")]
        node_config: PathBuf,
    },
    /// Write a stock rule built into this binary (basic, mapping) as a .wasm component, to
    /// standard output (not a terminal: redirect it) or to -o FILE.
    Export {
        /// The stock rule's name: basic or mapping.
        name: String,
        /// Write it to this file instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Publish a rule component as a side's rule on the running node: checked, kept in the
    /// side's history and serving at once (asks the running node).
    Publish {
        rule: PathBuf,
        /// The side, `CONNECTION/SIDE`.
        #[arg(long, value_name = "CONNECTION/SIDE")]
        side: String,
        /// What changed, for the history.
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A side's rule history on the running node, newest first, and the version serving.
    Versions {
        /// The side, `CONNECTION/SIDE`.
        #[arg(long, value_name = "CONNECTION/SIDE")]
        side: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Publish an earlier version of a side's rule again (asks the running node).
    Rollback {
        /// The side, `CONNECTION/SIDE`.
        #[arg(long, value_name = "CONNECTION/SIDE")]
        side: String,
        /// The version to bring back (see `rules versions`).
        #[arg(long, value_name = "VERSION")]
        to: i64,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Dry-run a candidate rule on a live issue, beside the rule serving that side now, and
    /// print both answers and their difference; nothing is synced (asks the running node).
    Try {
        rule: PathBuf,
        /// The side to try it on, `CONNECTION/SIDE`.
        #[arg(long, value_name = "CONNECTION/SIDE")]
        side: String,
        /// The issue key on that side.
        #[arg(long)]
        issue: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}
