//! `twinsync sim`: its options, and serving one simulated Jira until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::{FaultConfig, Flavour, Seed, SimError, SimOptions, Simulator};

/// `twinsync sim` options.
#[derive(clap::Args, Debug, Clone)]
pub struct SimArgs {
    /// Which Jira to simulate.
    #[arg(long, value_enum, default_value_t = Flavour::Cloud)]
    pub flavour: Flavour,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8081)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Administrator login: email on Cloud, user name on DC.
    #[arg(long)]
    pub user: Option<String>,
    /// Administrator API token (Cloud) or personal access token (DC).
    #[arg(long)]
    pub token: Option<String>,
    /// JSON seed file replacing the default projects, users, workflow and issues.
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Faults to start with, e.g. `rate-limit,error-next=3,latency=20ms,webhook-drop-next=1`.
    #[arg(long)]
    pub faults: Option<String>,
}

/// `twinsync sim`: serves one simulated Jira until Ctrl-C.
pub async fn run_cli(args: SimArgs) -> Result<(), SimError> {
    let ip: std::net::IpAddr = args
        .bind
        .parse()
        .map_err(|_| SimError::BindAddress(args.bind.clone()))?;
    let mut opts = SimOptions::new(args.flavour);
    opts.addr = SocketAddr::new(ip, args.port);
    opts.user = args.user;
    opts.token = args.token;
    if let Some(path) = &args.seed {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::SeedRead {
            path: path.display().to_string(),
            source,
        })?;
        opts.seed = Some(
            Seed::from_json(&text)
                .map_err(|e| SimError::Seed(format!("{}: {e}", path.display())))?,
        );
    }
    if let Some(spec) = &args.faults {
        opts.faults = FaultConfig::parse(spec)?;
    }
    let handle = Simulator::start(opts).await?;
    let (what, auth) = match handle.flavour() {
        Flavour::Cloud => (
            "Jira Cloud (REST v3 and v2)",
            format!(
                "email {}  API token {}  (Basic auth)",
                handle.user(),
                handle.token()
            ),
        ),
        Flavour::DataCenter => (
            "Jira Data Center (REST v2)",
            format!(
                "user {}  personal access token {}  (Bearer auth)",
                handle.user(),
                handle.token()
            ),
        ),
    };
    println!("Simulated {what} at {}", handle.url());
    println!("  credentials: {auth}");
    println!(
        "  control:     {}/_sim/faults, /_sim/log, /_sim/counters, /_sim/deliveries",
        handle.url()
    );
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c()
        .await
        .map_err(|source| SimError::Signal { source })?;
    handle.shutdown();
    Ok(())
}
