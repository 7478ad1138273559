//! The demo's banner: where the simulators, the node and its admin page listen, the rule
//! files it watches, and a first request to try.

use super::runner::Demo;

impl Demo {
    /// Prints what runs where and how to try it.
    pub(crate) fn print_banner(&self) {
        println!(
            "Twinsync demo: two simulated Jiras, one node, the stock `basic` rule on both sides."
        );
        println!();
        println!(
            "  Jira Cloud (sim)        {}   user {}  API token {:?}",
            self.a.url(),
            self.a.user(),
            self.a.token()
        );
        println!(
            "  Jira Data Center (sim)  {}   PAT {:?}",
            self.b.url(),
            self.b.token()
        );
        println!(
            "  node webhooks           {}/webhooks/jira/<instance>",
            self.node.url()
        );
        println!(
            "  node admin              {}   status: {}/api/status (with the admin token)",
            self.node.admin_url(),
            self.node.admin_url()
        );
        if let Some(token) = &self.node.node.admin_token {
            // The token rides in the fragment, which the browser never sends to a server.
            println!(
                "  admin page              {}/#token={token}",
                self.node.admin_url()
            );
        }
        println!();
        println!("Connection `support-to-dev`: Cloud project SUP <-> Data Center project DEV.");
        println!(
            "Issues in SUP labelled `sync` go across; edits, comments and status changes flow both ways."
        );
        let rules = self.rules_dir();
        println!();
        println!("Rules (hot-swapped when a file is replaced; docs/rules.md section 6):");
        println!(
            "  side support-to-dev/support (Cloud)   {}",
            rules.join("support.wasm").display()
        );
        println!(
            "  side support-to-dev/dev (Data Center) {}",
            rules.join("dev.wasm").display()
        );
        println!(
            "  node config, for the CLI's -c         {}",
            self.config_path().display()
        );
        println!("Try:");
        println!(
            "  curl -u {}:{} -H 'Content-Type: application/json' {}/issue \\\n    -d '{{\"fields\":{{\"project\":{{\"key\":\"SUP\"}},\"issuetype\":{{\"name\":\"Task\"}},\"summary\":\"Hello from Cloud\",\"labels\":[\"sync\"]}}}}'",
            self.a.user(),
            self.a.token(),
            self.a.api_base()
        );
        println!(
            "  curl -H 'Authorization: Bearer {}' '{}/search?jql=project=DEV'",
            self.b.token(),
            self.b.api_base()
        );
        println!();
    }
}
