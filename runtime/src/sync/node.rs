//! A node: the store, the rule engine and its hot-reload registry, one Jira client per
//! instance, and the pipeline, all built from the node's config.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::pipeline::Pipeline;
use super::side::{JiraSide, Side};
use crate::config::{ConfigError, Flavour, NodeConfig};
use crate::jira::{self, Auth, BudgetConfig, ClientConfig, JiraClient, JiraError};
use crate::rules::{EngineSettings, LoadError, RuleEngine, RuleRegistry};
use crate::store::{Store, StoreError};

/// Why a node cannot be built or run: its config, store, rules, a Jira instance or its data directory.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The config cannot be used.
    #[error(transparent)]
    Config(#[from] Box<ConfigError>),
    /// The store cannot be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A rule cannot be loaded.
    #[error(transparent)]
    Rules(#[from] LoadError),
    /// A Jira instance cannot be set up.
    #[error("instance {instance}: {source}")]
    Jira {
        /// The instance's name in the config.
        instance: String,
        /// What went wrong.
        source: Box<JiraError>,
    },
    /// The data directory cannot be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why creating it failed.
        source: std::io::Error,
    },
    /// A peer link cannot be set up.
    #[error(transparent)]
    Peer(crate::peer::PeerError),
    /// Anything else, as a message.
    #[error("{0}")]
    Other(String),
}

/// Everything a running node (or a CLI command acting for it) needs.
pub struct Node {
    /// The config the node was built from.
    pub config: NodeConfig,
    /// The node's store.
    pub store: Arc<Store>,
    /// The rules serving each side, hot-reloaded.
    pub registry: Arc<RuleRegistry>,
    /// The node's sides and what its workers share.
    pub pipeline: Arc<Pipeline>,
    pub(crate) clients: BTreeMap<String, Arc<JiraClient>>,
    /// Per instance: the secret a webhook must carry, if one is configured.
    pub(crate) webhook_secrets: BTreeMap<String, Option<String>>,
    /// The token the admin API requires, if one is configured.
    pub admin_token: Option<String>,
    /// The node's peer identity and links, when it serves peers or has remote connections.
    pub(crate) peers: Option<Arc<crate::peer::link::PeerLinks>>,
}

impl Node {
    /// Opens the store, loads every side's rule (a rule that fails to load leaves its
    /// side's events failing with the reason until the file is fixed), and builds the clients.
    pub fn build(config: NodeConfig) -> Result<Arc<Node>, NodeError> {
        // The secrets that guard doors first: a weak one stops the node before it makes anything.
        let admin_token = match &config.node.admin_token {
            Some(t) => Some(t.resolve_strong("node.admin_token", &config.base_dir)?),
            None => None,
        };
        let mut webhook_secrets = BTreeMap::new();
        for (name, inst) in &config.instances {
            let secret = match &inst.webhook_secret {
                Some(s) => Some(s.resolve_strong(
                    &format!("instances.{name}.webhook_secret"),
                    &config.base_dir,
                )?),
                None => None,
            };
            webhook_secrets.insert(name.clone(), secret);
        }
        let data_dir = config.resolve_path(&config.node.data_dir);
        crate::private_fs::create_dir(&data_dir).map_err(|source| NodeError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let store = Arc::new(Store::open(&data_dir.join("twinsync.db"))?);
        let spool = data_dir.join("spool");
        crate::private_fs::create_dir(&spool).map_err(|source| NodeError::DataDir {
            path: spool.clone(),
            source,
        })?;
        let engine = Arc::new(RuleEngine::new(EngineSettings {
            max_wasm_stack: config.node.max_wasm_stack,
            cache_dir: Some(match &config.node.rule_cache_dir {
                Some(dir) => config.resolve_path(dir),
                None => data_dir.join("rule-cache"),
            }),
            // What `rules check`/`test` compiled for this user loads at once.
            shared_cache_dir: crate::rules::user_cache_dir(),
            ..EngineSettings::default()
        })?);
        let registry = RuleRegistry::new(engine);

        let mut clients = BTreeMap::new();
        for (name, inst) in &config.instances {
            let token = inst
                .token
                .resolve(&format!("instance {name} token"), &config.base_dir)
                .map_err(Box::new)?;
            let (flavour, auth) = match inst.flavour {
                Flavour::Cloud => (
                    jira::Flavour::Cloud,
                    Auth::cloud(inst.user.clone().unwrap_or_default(), token),
                ),
                Flavour::Dc => (jira::Flavour::DataCenter, Auth::pat(token)),
            };
            let mut client_config = ClientConfig::new(name, &inst.url, flavour, auth);
            if let Some(b) = &inst.budget {
                let budget = &mut client_config.budget;
                if b.unlimited {
                    *budget = BudgetConfig::unlimited();
                }
                if let Some(r) = b.reads_per_sec {
                    (budget.reads_per_sec, budget.read_burst) = (r, r);
                }
                if let Some(w) = b.writes_per_sec {
                    (budget.writes_per_sec, budget.write_burst) = (w, w);
                }
                if let Some(n) = b.max_in_flight {
                    budget.max_in_flight = n.max(1);
                }
            }
            let client = JiraClient::new(client_config).map_err(|source| NodeError::Jira {
                instance: name.clone(),
                source: Box::new(source),
            })?;
            clients.insert(name.clone(), Arc::new(client));
        }

        let mut sides = Vec::new();
        for conn in &config.connections {
            for (i, s) in conn.sides.iter().enumerate() {
                // A remote connection's other side lives on the peer node.
                let other = match &conn.peer {
                    Some(peer) => peer.clone(),
                    None => conn.sides[1 - i].name.clone(),
                };
                let slot_name = format!("{}/{}", conn.name, s.name);
                let rule_path = config.resolve_path(&s.rule);
                let slot = match registry.register(&slot_name, &rule_path) {
                    Ok(slot) => slot,
                    Err(e) => {
                        tracing::error!(connection = %conn.name, side = %s.name, error = %e,
                            "rule not loaded; this side's events fail until the file is fixed");
                        registry.slot(&slot_name).ok_or(NodeError::Rules(e))?
                    }
                };
                let client = clients.get(&s.instance).cloned().ok_or_else(|| {
                    NodeError::Other(format!("instance {:?} is not configured", s.instance))
                })?;
                sides.push(Arc::new(Side {
                    connection: conn.name.clone(),
                    name: s.name.clone(),
                    other,
                    instance: s.instance.clone(),
                    project: s.project.clone(),
                    jira: JiraSide::new(client, spool.clone(), &s.project),
                    slot,
                    config: Arc::new(s.config.clone().into_iter().collect()),
                    limits: s.limits,
                    trigger: s.trigger.clone(),
                }));
            }
        }
        let peers = if config.node.peer_listen.is_some() {
            let identity =
                crate::peer::Identity::load_or_create(&crate::peer::Identity::dir_in(&data_dir))
                    .map_err(NodeError::Peer)?;
            let remote = config
                .connections
                .iter()
                .filter(|c| c.peer.is_some())
                .map(|c| c.name.clone())
                .collect();
            Some(Arc::new(crate::peer::link::PeerLinks::new(
                Arc::new(identity),
                store.clone(),
                remote,
                config.node.peer_max_attachment_bytes,
                spool.clone(),
            )))
        } else {
            None
        };
        let mut pipeline = Pipeline::new(store.clone(), sides);
        if let Some(p) = &peers {
            pipeline = pipeline.with_peers(p.clone());
        }
        let pipeline = Arc::new(pipeline);
        Ok(Arc::new(Node {
            config,
            store,
            registry,
            pipeline,
            clients,
            webhook_secrets,
            admin_token,
            peers,
        }))
    }

    /// The side of `connection` that syncs the project of `key`.
    pub(crate) fn side_for_key(&self, connection: &str, key: &str) -> Result<Arc<Side>, NodeError> {
        let project = key.rsplit_once('-').map_or(key, |(p, _)| p);
        self.pipeline
            .sides()
            .find(|s| s.connection == connection && s.project.eq_ignore_ascii_case(project))
            .cloned()
            .ok_or_else(|| {
                let known: Vec<String> = self
                    .pipeline
                    .sides()
                    .filter(|s| s.connection == connection)
                    .map(|s| format!("{} (project {})", s.name, s.project))
                    .collect();
                if known.is_empty() {
                    NodeError::Other(format!("there is no connection named {connection:?}"))
                } else {
                    NodeError::Other(format!(
                        "{key} is in project {project}, which no side of {connection:?} syncs; sides: {}",
                        known.join(", ")
                    ))
                }
            })
    }
}

impl From<ConfigError> for NodeError {
    fn from(e: ConfigError) -> Self {
        NodeError::Config(Box::new(e))
    }
}
