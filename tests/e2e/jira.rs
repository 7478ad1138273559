//! The Jira client over real HTTP against the simulator, both flavours: every call, rich text
//! across flavours, and the fault handling (429 with Retry-After, 5xx bursts, 400s, the budget).

use std::time::Duration;

use twinsync::jira::{Auth, BudgetConfig, ClientConfig, Flavour, JiraClient, RetryPolicy};
use twinsync_jira_sim::{SimHandle, SimOptions, Simulator};

mod calls;
mod faults;
mod remote;
mod richtext;

/// A simulator of `flavour`.
async fn start_sim(flavour: Flavour) -> SimHandle {
    let opts = match flavour {
        Flavour::Cloud => SimOptions::cloud(),
        Flavour::DataCenter => SimOptions::dc(),
    };
    Simulator::start(opts).await.expect("simulator starts")
}

/// The client config for simulator `h` at `base`, with fast retries.
fn config(h: &SimHandle, flavour: Flavour, base: &str) -> ClientConfig {
    let auth = match flavour {
        Flavour::Cloud => Auth::cloud(h.user(), h.token()),
        Flavour::DataCenter => Auth::pat(h.token()),
    };
    let mut c = ClientConfig::new("sim", base, flavour, auth);
    c.budget = BudgetConfig::unlimited();
    // Short waits keep the suite fast; the policy's shape is what is under test.
    c.retry = RetryPolicy {
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        ..RetryPolicy::default()
    };
    c
}

/// A client of simulator `h`.
fn client(h: &SimHandle, flavour: Flavour) -> JiraClient {
    JiraClient::new(config(h, flavour, h.url())).expect("client")
}
