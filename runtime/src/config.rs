//! The node's TOML configuration: instances, connections and their sides, rules, limits, triggers, workers.
//!
//! Credentials are never written in the file itself by default: they are read
//! from environment variables or files named there, and never logged (their
//! `Debug` is redacted). A bad file gets an error naming the key and the line.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::rules::RuleLimits;

/// Why a node config cannot be used: unreadable, unparsable, invalid, or a secret missing or weak.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The file is not valid TOML for a node config.
    #[error("config {path}: {message}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// The parser's complaint, with its position.
        message: String,
    },
    /// The file parses but says something a node cannot do.
    #[error("config {path}: {message}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// What is wrong and where.
        message: String,
    },
    /// A secret names an environment variable that is not set.
    #[error("secret for {what}: environment variable {var} is not set")]
    MissingEnv {
        /// Which secret (e.g. an instance's token).
        what: String,
        /// The variable's name.
        var: String,
    },
    /// A secret names a file that cannot be read.
    #[error("secret for {what}: cannot read {path}: {source}")]
    SecretFile {
        /// Which secret.
        what: String,
        /// The file it names.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// An admin token or webhook secret is empty or too short.
    #[error(
        "{key} {problem}: it must be at least {min} characters; make one with \
         `openssl rand -hex 32`",
        min = MIN_SECRET_CHARS
    )]
    WeakSecret {
        /// The setting that holds it.
        key: String,
        /// Empty, or how short.
        problem: String,
    },
}

/// The shortest admin token or webhook secret a node accepts: an empty one lets every
/// request in, a short one is guessed.
pub(crate) const MIN_SECRET_CHARS: usize = 16;

/// The whole node configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The `[node]` table: listeners, data directory, workers, tokens.
    #[serde(default)]
    pub node: NodeSettings,
    #[serde(default)]
    pub(crate) instances: BTreeMap<String, InstanceConfig>,
    #[serde(default, rename = "connection")]
    pub(crate) connections: Vec<ConnectionConfig>,
    /// Where this file was read from; relative paths in it are relative to its directory.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// The `[node]` table: how this node runs and where it keeps its data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeSettings {
    /// The store and the compile cache live here.
    pub data_dir: PathBuf,
    /// Where compiled rules are cached (default `<data_dir>/rule-cache`); nodes of one
    /// user on one machine may share it, since entries are keyed by module hash.
    pub(crate) rule_cache_dir: Option<PathBuf>,
    /// The public listener: Jira webhooks and the health check, nothing else.
    pub(crate) listen: SocketAddr,
    /// TLS on `listen` from certificate files; plain HTTP when unset (e.g. behind a
    /// reverse proxy that terminates TLS).
    pub(crate) tls: Option<TlsFiles>,
    /// The admin listener: the admin API, the admin page and `/metrics`. Unset, it is
    /// 127.0.0.1:7702, or 127.0.0.1 on a free port when `listen` asks for one (port 0).
    pub admin_listen: Option<SocketAddr>,
    /// Sync events handled in parallel (different issues).
    pub(crate) workers: usize,
    /// At a stop (SIGTERM, Ctrl-C), how long events in hand may run on before they are
    /// cut short and put back in the queue, seconds.
    pub(crate) stop_grace_secs: u64,
    /// Seconds between JQL polls that back up webhooks; 0 turns polling off.
    pub(crate) poll_interval_secs: u64,
    /// Wasm stack per rule call, bytes (node-wide in wasmtime).
    pub(crate) max_wasm_stack: usize,
    /// Bearer token the admin API and `/metrics` require; made at first start when unset.
    pub admin_token: Option<SecretRef>,
    /// Host names the admin API answers to besides the addresses it listens on (and
    /// `localhost` on loopback), e.g. the name of a reverse proxy in front of it; a request
    /// whose `Host` is none of them is refused (DNS rebinding).
    pub(crate) admin_hosts: Vec<String>,
    /// HTTPS endpoint for peer nodes (remote connections); off when unset.
    pub peer_listen: Option<SocketAddr>,
    /// The URL peers reach `peer_listen` at, put in invitations (default `https://<peer_listen>`).
    pub(crate) peer_url: Option<String>,
    /// How far a peer request's timestamp may be from this node's clock, seconds.
    pub(crate) peer_skew_secs: u64,
    /// Largest attachment that crosses a peer link, bytes.
    pub(crate) peer_max_attachment_bytes: u64,
}

impl Default for NodeSettings {
    fn default() -> Self {
        NodeSettings {
            data_dir: PathBuf::from("twinsync-data"),
            rule_cache_dir: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 7700)),
            tls: None,
            admin_listen: None,
            workers: 4,
            stop_grace_secs: 5,
            poll_interval_secs: 60,
            max_wasm_stack: 512 << 10,
            admin_token: None,
            admin_hosts: Vec::new(),
            peer_listen: None,
            peer_url: None,
            peer_skew_secs: 300,
            peer_max_attachment_bytes: 100 << 20,
        }
    }
}

/// Where the admin listener is when `admin_listen` is unset: loopback, on a port of its own
/// (7700 stays the public listener's, 7701 is the usual `peer_listen`).
pub const DEFAULT_ADMIN_PORT: u16 = 7702;

impl NodeSettings {
    /// The admin listener's address, with the default filled in.
    pub fn admin_listen(&self) -> SocketAddr {
        self.admin_listen.unwrap_or_else(|| {
            // A node asked to pick its public port (tests, the demo) picks its admin port too.
            let port = if self.listen.port() == 0 {
                0
            } else {
                DEFAULT_ADMIN_PORT
            };
            SocketAddr::from(([127, 0, 0, 1], port))
        })
    }
}

/// Whether two listeners would want the same socket (port 0 always gets a fresh one).
fn clash(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() != 0
        && a.port() == b.port()
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

/// A PEM certificate chain and its private key for TLS on the public listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TlsFiles {
    /// The certificate chain, leaf first (PEM).
    pub(crate) cert: PathBuf,
    /// The leaf's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub(crate) key: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Flavour {
    /// Jira Cloud: REST v3, ADF, email + API token.
    Cloud,
    /// Jira Data Center: REST v2, wiki markup, personal access token.
    Dc,
}

/// A secret given by reference: an environment variable, a file, or (for demos) inline.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
pub enum SecretRef {
    /// The value of this environment variable.
    Env(String),
    /// The contents of this file, trimmed.
    File(PathBuf),
    /// The value itself, written in the config (demos and tests only).
    Value(String),
}

impl std::fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretRef::Env(v) => write!(f, "env:{v}"),
            SecretRef::File(p) => write!(f, "file:{}", p.display()),
            SecretRef::Value(_) => f.write_str("<redacted>"),
        }
    }
}

impl SecretRef {
    /// Reads the secret now; `what` names it in errors (never the value).
    pub fn resolve(&self, what: &str, base_dir: &Path) -> Result<String, ConfigError> {
        match self {
            SecretRef::Env(var) => std::env::var(var).map_err(|_| ConfigError::MissingEnv {
                what: what.into(),
                var: var.clone(),
            }),
            SecretRef::File(path) => {
                let path = base_dir.join(path);
                std::fs::read_to_string(&path)
                    .map(|s| s.trim().to_string())
                    .map_err(|source| ConfigError::SecretFile {
                        what: what.into(),
                        path,
                        source,
                    })
            }
            SecretRef::Value(v) => Ok(v.clone()),
        }
    }

    /// Reads a secret that guards a door (the admin token, a webhook secret) and refuses it
    /// when it is empty or short; `key` names it in errors, as it is written in the file.
    pub(crate) fn resolve_strong(&self, key: &str, base_dir: &Path) -> Result<String, ConfigError> {
        let value = self.resolve(key, base_dir)?;
        check_strong(key, &value)?;
        Ok(value)
    }
}

/// Refuses an empty or short secret, naming its key and never its value.
fn check_strong(key: &str, value: &str) -> Result<(), ConfigError> {
    let chars = value.trim().chars().count();
    let problem = match chars {
        0 => "is empty".to_string(),
        n if n < MIN_SECRET_CHARS => format!("is only {n} characters long"),
        _ => return Ok(()),
    };
    Err(ConfigError::WeakSecret {
        key: key.to_string(),
        problem,
    })
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstanceConfig {
    pub(crate) url: String,
    pub(crate) flavour: Flavour,
    /// Cloud: the account's email (with the API token). DC: the user name (informational).
    #[serde(default)]
    pub(crate) user: Option<String>,
    /// Cloud: API token. DC: personal access token.
    pub(crate) token: SecretRef,
    /// Shared secret a webhook must carry (`?secret=` in its URL, or an HMAC signature).
    #[serde(default)]
    pub(crate) webhook_secret: Option<SecretRef>,
    /// How fast the node may call this instance; the defaults are safe for Jira Cloud.
    #[serde(default)]
    pub(crate) budget: Option<BudgetSettings>,
}

/// Request pacing for one instance; unset values keep the client's defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BudgetSettings {
    /// No pacing at all (a simulator, or a Data Center site that allows it).
    #[serde(default)]
    pub(crate) unlimited: bool,
    pub(crate) reads_per_sec: Option<f64>,
    pub(crate) writes_per_sec: Option<f64>,
    pub(crate) max_in_flight: Option<usize>,
}

/// A `[[connection]]`: a named pairing of two sides, or of one side with a peer node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionConfig {
    pub(crate) name: String,
    /// Its sides (`[[connection.side]]`): two for a local connection, one for a remote one.
    #[serde(rename = "side")]
    pub sides: Vec<SideConfig>,
    /// A remote connection: the name of the side on the peer node; this node has one side.
    #[serde(default)]
    pub(crate) peer: Option<String>,
}

/// A `[[connection.side]]`: an instance's project and the rule that serves it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SideConfig {
    /// The side's name, unique within its connection.
    pub name: String,
    /// The key of an `[instances.*]` table.
    pub(crate) instance: String,
    /// The Jira project this side syncs.
    pub(crate) project: String,
    /// The rule component (hot-reloaded when the file changes).
    pub(crate) rule: PathBuf,
    /// JQL that puts matching issues under sync automatically.
    #[serde(default)]
    pub(crate) trigger: Option<String>,
    /// What `config(key)` answers inside the rule.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) limits: RuleLimits,
}

impl NodeConfig {
    /// Reads and checks the config file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base_dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Self::parse(&text, path, base_dir)
    }

    /// Parses and validates; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path, base_dir: PathBuf) -> Result<Self, ConfigError> {
        let mut config: NodeConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        config.base_dir = base_dir;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        if self.node.workers == 0 {
            return Err(invalid("node.workers must be at least 1".into()));
        }
        // Secrets written inline are checked here; those in files or the environment when
        // the node resolves them at start.
        let inline = std::iter::once(("node.admin_token".to_string(), &self.node.admin_token))
            .chain(self.instances.iter().map(|(name, inst)| {
                (
                    format!("instances.{name}.webhook_secret"),
                    &inst.webhook_secret,
                )
            }));
        for (key, secret) in inline {
            if let Some(SecretRef::Value(v)) = secret {
                check_strong(&key, v).map_err(|e| invalid(e.to_string()))?;
            }
        }
        for host in &self.node.admin_hosts {
            if host.is_empty() || host.contains(['/', ':', ' ']) {
                return Err(invalid(format!(
                    "node.admin_hosts: {host:?} is not a host name (give names without scheme or port)"
                )));
            }
        }
        let (public, admin) = (self.node.listen, self.node.admin_listen());
        if clash(admin, public) {
            return Err(invalid(format!(
                "node.admin_listen ({admin}) and node.listen ({public}) are one address: the \
                 admin API needs a listener of its own, away from the public one"
            )));
        }
        if let Some(peer) = self.node.peer_listen
            && (clash(peer, public) || clash(peer, admin))
        {
            return Err(invalid(format!(
                "node.peer_listen ({peer}) shares a port with node.listen or node.admin_listen"
            )));
        }
        let mut names = std::collections::BTreeSet::new();
        for c in &self.connections {
            if !names.insert(c.name.as_str()) {
                return Err(invalid(format!("connection {:?} is defined twice", c.name)));
            }
            if let Some(peer) = &c.peer {
                if c.sides.len() != 1 || c.sides[0].name == *peer {
                    return Err(invalid(format!(
                        "connection {:?} is remote (peer = {peer:?}): it needs exactly 1 [[connection.side]], not named like the peer's side",
                        c.name
                    )));
                }
                if self.node.peer_listen.is_none() {
                    return Err(invalid(format!(
                        "connection {:?} is remote: node.peer_listen must say where peers reach this node",
                        c.name
                    )));
                }
            } else if c.sides.len() != 2 {
                return Err(invalid(format!(
                    "connection {:?} has {} [[connection.side]] tables; a local connection needs exactly 2",
                    c.name,
                    c.sides.len()
                )));
            }
            if c.peer.is_none() && c.sides[0].name == c.sides[1].name {
                return Err(invalid(format!(
                    "connection {:?}: both sides are named {:?}",
                    c.name, c.sides[0].name
                )));
            }
            for s in &c.sides {
                if !self.instances.contains_key(&s.instance) {
                    return Err(invalid(format!(
                        "connection {:?}, side {:?}: instance {:?} is not defined under [instances]",
                        c.name, s.name, s.instance
                    )));
                }
                if s.limits.memory_bytes == 0 || s.limits.fuel == 0 {
                    return Err(invalid(format!(
                        "connection {:?}, side {:?}: limits must be above zero",
                        c.name, s.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// The URL peers reach this node's peer endpoint at, if it has one.
    pub(crate) fn peer_url(&self) -> Option<String> {
        self.node
            .peer_url
            .clone()
            .or_else(|| self.node.peer_listen.map(|a| format!("https://{a}")))
    }

    /// The connection named `name`, if the config has one.
    pub fn connection(&self, name: &str) -> Option<&ConnectionConfig> {
        self.connections.iter().find(|c| c.name == name)
    }

    /// A path from the file, made relative to the file's directory.
    pub fn resolve_path(&self, p: &Path) -> PathBuf {
        self.base_dir.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[node]
data_dir = "data"
workers = 2

[instances.acme]
url = "http://127.0.0.1:8081"
flavour = "cloud"
user = "admin@example.com"
token = { env = "ACME_TOKEN" }

[instances.globex]
url = "http://127.0.0.1:8082"
flavour = "dc"
token = { value = "admin" }

[[connection]]
name = "acme-globex"

[[connection.side]]
name = "acme"
instance = "acme"
project = "ACME"
rule = "rules/acme.wasm"
config = { project = "ACME" }
limits = { fuel = 1000000 }

[[connection.side]]
name = "globex"
instance = "globex"
project = "GLX"
rule = "rules/globex.wasm"
"#;

    fn parse(text: &str) -> Result<NodeConfig, ConfigError> {
        NodeConfig::parse(text, Path::new("twinsync.toml"), PathBuf::from("."))
    }

    #[test]
    fn a_remote_connection_has_one_side_and_a_peer_endpoint() {
        let remote = GOOD.replace(
            "name = \"acme-globex\"\n",
            "name = \"acme-globex\"\npeer = \"globex\"\n",
        );
        let one_side = remote[..remote.rfind("[[connection.side]]").unwrap()].to_string();
        let e = parse(&one_side).unwrap_err().to_string();
        assert!(e.contains("peer_listen"), "{e}");
        let with_listen = one_side.replace(
            "workers = 2",
            "workers = 2\npeer_listen = \"127.0.0.1:7701\"",
        );
        let c = parse(&with_listen).unwrap();
        assert_eq!(c.connections[0].peer.as_deref(), Some("globex"));
        assert_eq!(c.peer_url().as_deref(), Some("https://127.0.0.1:7701"));
        let two_sides = remote.replace(
            "workers = 2",
            "workers = 2\npeer_listen = \"127.0.0.1:7701\"",
        );
        assert!(
            parse(&two_sides)
                .unwrap_err()
                .to_string()
                .contains("exactly 1")
        );
    }

    #[test]
    fn a_good_config_parses() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.connections[0].sides[0].limits.fuel, 1_000_000);
        assert_eq!(
            c.connections[0].sides[0].limits.memory_bytes,
            RuleLimits::default().memory_bytes
        );
        assert_eq!(c.instances["globex"].flavour, Flavour::Dc);
        assert_eq!(format!("{:?}", c.instances["globex"].token), "<redacted>");
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let bad = GOOD.replace("workers = 2", "workers = 2\nwrokers = 3");
        let e = parse(&bad).unwrap_err().to_string();
        assert!(e.contains("wrokers"), "{e}");
        assert!(e.contains("line 5"), "{e}");
    }

    #[test]
    fn a_missing_instance_is_named() {
        let bad = GOOD.replace("instance = \"globex\"", "instance = \"initech\"");
        let e = parse(&bad).unwrap_err().to_string();
        assert!(e.contains("initech") && e.contains("globex"), "{e}");
    }

    #[test]
    fn a_wrong_type_is_named_with_its_line() {
        let bad = GOOD.replace("workers = 2", "workers = \"two\"");
        let e = parse(&bad).unwrap_err().to_string();
        assert!(e.contains("line 4"), "{e}");
    }

    #[test]
    fn an_empty_or_short_door_secret_is_refused_naming_its_key() {
        let empty = GOOD.replace("workers = 2", "workers = 2\nadmin_token = { value = \"\" }");
        let e = parse(&empty).unwrap_err().to_string();
        assert!(e.contains("node.admin_token is empty"), "{e}");
        let short = GOOD.replace(
            "token = { value = \"admin\" }",
            "token = { value = \"admin\" }\nwebhook_secret = { value = \"s3cret\" }",
        );
        let e = parse(&short).unwrap_err().to_string();
        assert!(
            e.contains("instances.globex.webhook_secret is only 6 characters long"),
            "{e}"
        );
        assert!(!e.contains("\"s3cret\""), "the value is never shown: {e}");

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "\n").unwrap();
        let e = SecretRef::File("token".into())
            .resolve_strong("node.admin_token", dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("node.admin_token is empty"), "{e}");
        std::fs::write(dir.path().join("token"), "0123456789abcdef\n").unwrap();
        let t = SecretRef::File("token".into())
            .resolve_strong("node.admin_token", dir.path())
            .unwrap();
        assert_eq!(t, "0123456789abcdef");
    }

    #[test]
    fn admin_hosts_are_names_without_scheme_or_port() {
        let bad = GOOD.replace(
            "workers = 2",
            "workers = 2\nadmin_hosts = [\"https://twinsync.example\"]",
        );
        let e = parse(&bad).unwrap_err().to_string();
        assert!(e.contains("node.admin_hosts"), "{e}");
        let good = GOOD.replace(
            "workers = 2",
            "workers = 2\nadmin_hosts = [\"twinsync.example\"]",
        );
        assert_eq!(parse(&good).unwrap().node.admin_hosts, ["twinsync.example"]);
    }

    #[test]
    fn the_admin_listener_defaults_to_loopback_on_its_own_port() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.node.listen.to_string(), "127.0.0.1:7700");
        assert_eq!(c.node.admin_listen().to_string(), "127.0.0.1:7702");
        // An existing config that opens `listen` to the network keeps its admin API local.
        let open =
            parse(&GOOD.replace("workers = 2", "workers = 2\nlisten = \"0.0.0.0:7700\"")).unwrap();
        assert_eq!(open.node.admin_listen().to_string(), "127.0.0.1:7702");
        let any =
            parse(&GOOD.replace("workers = 2", "workers = 2\nlisten = \"127.0.0.1:0\"")).unwrap();
        assert_eq!(any.node.admin_listen().to_string(), "127.0.0.1:0");
        let set = parse(&GOOD.replace(
            "workers = 2",
            "workers = 2\nadmin_listen = \"10.0.0.5:9000\"",
        ))
        .unwrap();
        assert_eq!(set.node.admin_listen().to_string(), "10.0.0.5:9000");
    }

    #[test]
    fn listeners_that_would_share_a_socket_are_refused() {
        for lines in [
            "admin_listen = \"127.0.0.1:7700\"",
            "listen = \"0.0.0.0:7702\"",
            "peer_listen = \"0.0.0.0:7700\"",
            "peer_listen = \"127.0.0.1:7702\"",
        ] {
            let bad = GOOD.replace("workers = 2", &format!("workers = 2\n{lines}"));
            let e = parse(&bad).unwrap_err().to_string();
            assert!(e.contains("listen"), "{lines}: {e}");
        }
        // Different addresses may share a port.
        let ok = GOOD.replace(
            "workers = 2",
            "workers = 2\nlisten = \"10.0.0.5:7702\"\nadmin_listen = \"127.0.0.1:7702\"",
        );
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn a_missing_env_secret_names_the_variable_not_a_value() {
        let c = parse(GOOD).unwrap();
        let e = c.instances["acme"]
            .token
            .resolve("instance acme token", Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(e.contains("ACME_TOKEN"), "{e}");
    }
}
