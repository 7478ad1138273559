//! The node config of one local connection between two simulated Jiras: `twinsync demo`,
//! the end-to-end tests and the benches all build their node from it.

use std::path::{Path, PathBuf};

use twinsync_jira_sim::SimHandle;

/// A node config for one local connection between two simulators: side A on Cloud project
/// SUP (trigger: label `sync`), side B on Data Center project DEV. The demo, the end-to-end
/// tests and the benches all build their node from it.
#[derive(Debug, Clone)]
pub struct PairConfig {
    /// The node's data directory: its store, compile cache and admin token.
    pub data_dir: PathBuf,
    /// The public listener (webhooks).
    pub listen: String,
    /// The admin listener (admin API, page, metrics).
    pub admin_listen: String,
    /// Sync events the node handles in parallel.
    pub workers: usize,
    /// Seconds between JQL polls that back up webhooks; 0 turns polling off.
    pub poll_interval_secs: u64,
    /// The connection's name.
    pub connection: String,
    /// Side A's name.
    pub side_a: String,
    /// Side B's name.
    pub side_b: String,
    /// The instance name of simulator A (Cloud).
    pub instance_a: String,
    /// The instance name of simulator B (Data Center).
    pub instance_b: String,
    /// Side A's rule file.
    pub rule_a: PathBuf,
    /// Side B's rule file.
    pub rule_b: PathBuf,
    /// The webhook secret both instances' webhooks carry.
    pub webhook_secret: String,
    /// Extra rule config entries of side A, as TOML inline-table items (`, "k" = "v"`).
    pub extra_config_a: String,
    /// Extra rule config entries of side B, in the same form.
    pub extra_config_b: String,
    /// Instance A's `budget` inline table, e.g. `{ unlimited = true }`.
    pub budget_a: Option<String>,
    /// Instance B's `budget` inline table.
    pub budget_b: Option<String>,
    /// A compile cache shared with other nodes (default: inside the data directory).
    pub rule_cache_dir: Option<PathBuf>,
}

impl PairConfig {
    /// Loopback listeners on free ports, two workers, no polling, connection `ab` between
    /// sides and instances `a` and `b`.
    pub fn new(data_dir: PathBuf, rule_a: PathBuf, rule_b: PathBuf) -> Self {
        PairConfig {
            data_dir,
            listen: "127.0.0.1:0".into(),
            admin_listen: "127.0.0.1:0".into(),
            workers: 2,
            poll_interval_secs: 0,
            connection: "ab".into(),
            side_a: "a".into(),
            side_b: "b".into(),
            instance_a: "a".into(),
            instance_b: "b".into(),
            rule_a,
            rule_b,
            webhook_secret: "s3cret-s3cret-s3cret".into(),
            extra_config_a: String::new(),
            extra_config_b: String::new(),
            budget_a: None,
            budget_b: None,
            rule_cache_dir: None,
        }
    }

    /// The TOML text for simulators `a` (Cloud) and `b` (Data Center).
    pub fn toml(&self, a: &SimHandle, b: &SimHandle) -> String {
        let budget = |b: &Option<String>| {
            b.as_ref()
                .map(|t| format!("budget = {t}\n"))
                .unwrap_or_default()
        };
        format!(
            r#"
[node]
data_dir = "{data}"
{cache}listen = "{listen}"
admin_listen = "{admin_listen}"
workers = {workers}
poll_interval_secs = {poll}

[instances.{ia}]
url = "{a_url}"
flavour = "cloud"
user = "{a_user}"
token = {{ value = "{a_token}" }}
webhook_secret = {{ value = "{secret}" }}
{budget_a}
[instances.{ib}]
url = "{b_url}"
flavour = "dc"
token = {{ value = "{b_token}" }}
webhook_secret = {{ value = "{secret}" }}
{budget_b}
[[connection]]
name = "{conn}"
{side_a}{side_b}"#,
            data = self.data_dir.display(),
            cache = self
                .rule_cache_dir
                .as_ref()
                .map(|d| format!("rule_cache_dir = \"{}\"\n", d.display()))
                .unwrap_or_default(),
            listen = self.listen,
            admin_listen = self.admin_listen,
            workers = self.workers,
            poll = self.poll_interval_secs,
            ia = self.instance_a,
            ib = self.instance_b,
            a_url = a.url(),
            a_user = a.user(),
            a_token = a.token(),
            b_url = b.url(),
            b_token = b.token(),
            secret = self.webhook_secret,
            budget_a = budget(&self.budget_a),
            budget_b = budget(&self.budget_b),
            conn = self.connection,
            side_a = SideToml {
                name: &self.side_a,
                instance: &self.instance_a,
                project: "SUP",
                rule: &self.rule_a,
                trigger: Some("sync"),
                extra_config: &self.extra_config_a,
                fuel: None,
            }
            .toml(),
            side_b = SideToml {
                name: &self.side_b,
                instance: &self.instance_b,
                project: "DEV",
                rule: &self.rule_b,
                trigger: None,
                extra_config: &self.extra_config_b,
                fuel: None,
            }
            .toml(),
        )
    }
}

/// One more local connection between the instances of a [`PairConfig`] (`a` on SUP,
/// `b` on DEV), as TOML to append to its text: issues labelled `label` on SUP sync
/// through it, and both sides run their own rule file under their own fuel limit.
pub fn extra_connection_toml(
    name: &str,
    label: &str,
    rule_a: &Path,
    rule_b: &Path,
    fuel: u64,
) -> String {
    let side = |name, project, rule, trigger| SideToml {
        name,
        instance: name,
        project,
        rule,
        trigger,
        extra_config: "",
        fuel: Some(fuel),
    };
    format!(
        "\n[[connection]]\nname = \"{name}\"\n{}{}",
        side("a", "SUP", rule_a, Some(label)).toml(),
        side("b", "DEV", rule_b, None).toml(),
    )
}

/// A `[[connection.side]]` table of a demo connection: its rule config names its project.
struct SideToml<'a> {
    name: &'a str,
    instance: &'a str,
    project: &'a str,
    rule: &'a Path,
    /// The label that puts the project's issues under sync through this side, if any.
    trigger: Option<&'a str>,
    /// Extra rule config entries, as TOML inline-table items (`, "k" = "v"`).
    extra_config: &'a str,
    /// The side's fuel limit, if not the default.
    fuel: Option<u64>,
}

impl SideToml<'_> {
    fn toml(&self) -> String {
        let SideToml {
            name,
            instance,
            project,
            ..
        } = self;
        let mut t = format!(
            "\n[[connection.side]]\nname = \"{name}\"\ninstance = \"{instance}\"\nproject = \"{project}\"\nrule = \"{}\"\n",
            self.rule.display()
        );
        if let Some(label) = self.trigger {
            t += &format!("trigger = \"project = {project} AND labels = {label}\"\n");
        }
        t += &format!(
            "config = {{ project = \"{project}\"{} }}\n",
            self.extra_config
        );
        if let Some(fuel) = self.fuel {
            t += &format!("limits = {{ fuel = {fuel} }}\n");
        }
        t
    }
}
