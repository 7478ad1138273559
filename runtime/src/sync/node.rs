//! A node: the store, the rule engine and its hot-reload registry, one Jira client per
//! instance, and the pipeline, all built from the node's config.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use super::pipeline::Pipeline;
use super::side::{JiraSide, Side};
use crate::config::{
    ConfigError, Flavour, InstanceConfig, NodeConfig, SideConfig, SideMode, SyncMethod,
};
use crate::jira::{self, Auth, BudgetConfig, ClientConfig, JiraClient, JiraError};
use crate::rules::{EngineSettings, LoadError, RuleEngine, RuleRegistry, RuleSlot};
use crate::setup::Stored;
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
    /// The setup in the store cannot be read or used.
    #[error(transparent)]
    Setup(Box<crate::setup::SetupError>),
    /// Anything else, as a message.
    #[error("{0}")]
    Other(String),
}

/// Everything a running node (or a CLI command acting for it) needs.
pub struct Node {
    /// The config file the node started from: `[node]` holds; its instances and connections
    /// were taken into the store, and [`Node::live`] is what runs.
    pub config: NodeConfig,
    /// The node's store.
    pub store: Arc<Store>,
    /// The rules serving each side, hot-reloaded.
    pub registry: Arc<RuleRegistry>,
    /// The node's sides and what its workers share.
    pub pipeline: Arc<Pipeline>,
    /// The token the admin API requires, if one is configured.
    pub admin_token: Option<String>,
    /// The node's peer identity and links, when it serves peers or has remote connections.
    pub(crate) peers: Option<Arc<crate::peer::link::PeerLinks>>,
    /// The node's data directory, resolved.
    pub(crate) data_dir: PathBuf,
    spool: PathBuf,
    /// What runs now: swapped whole by [`Node::apply`].
    live: RwLock<Arc<Live>>,
    /// One change of setup at a time.
    applying: Mutex<()>,
    /// The running node's stop, for work started in the background (bulk runs).
    stop: Mutex<Option<crate::stop::Stop>>,
    /// Bulk runs going on now, by id, so a second click does not run one twice.
    bulk_running: Mutex<BTreeSet<i64>>,
    /// The admin page's address for the links written into Jira, once the node listens.
    admin_url: RwLock<Option<String>>,
    /// One change of setup at a time, from reading the store to applying it (admin API
    /// writes and a peer joining a pending connection).
    pub(crate) setup_lock: tokio::sync::Mutex<()>,
}

/// The parts of a node its setup decides, as built from one effective config.
struct Live {
    config: Arc<NodeConfig>,
    /// Per instance: its definition (to tell when it changed) and its client.
    clients: BTreeMap<String, (InstanceConfig, Arc<JiraClient>)>,
    /// Per instance: the secret a webhook must carry, if one is configured.
    webhook_secrets: BTreeMap<String, Option<String>>,
}

impl Node {
    /// Opens the store, takes the config file's instances and connections into it, loads
    /// every side's rule (a rule that fails to load leaves its side's events failing with the
    /// reason until it is fixed), and builds the clients.
    pub fn build(config: NodeConfig) -> Result<Arc<Node>, NodeError> {
        // The secrets that guard doors first: a weak one stops the node before it makes anything.
        let admin_token = match &config.node.admin_token {
            Some(t) => Some(t.resolve_strong("node.admin_token", &config.base_dir)?),
            None => None,
        };
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
        crate::setup::import(&store, &config)?;
        let effective = Stored::read(&store)?.effective(&config);
        effective.validate(Path::new("the node's setup"))?;
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
        let peers = if config.node.peer_listen.is_some() {
            let identity =
                crate::peer::Identity::load_or_create(&crate::peer::Identity::dir_in(&data_dir))
                    .map_err(NodeError::Peer)?;
            Some(Arc::new(crate::peer::link::PeerLinks::new(
                Arc::new(identity),
                store.clone(),
                Default::default(),
                config.node.peer_max_attachment_bytes,
                spool.clone(),
            )))
        } else {
            None
        };
        let mut pipeline = Pipeline::new(store.clone(), Vec::new());
        if let Some(p) = &peers {
            pipeline = pipeline.with_peers(p.clone());
        }
        let empty = Live {
            config: Arc::new(effective.clone()),
            clients: BTreeMap::new(),
            webhook_secrets: BTreeMap::new(),
        };
        let node = Arc::new(Node {
            config,
            store,
            registry,
            pipeline: Arc::new(pipeline),
            admin_token,
            peers,
            data_dir,
            spool,
            live: RwLock::new(Arc::new(empty)),
            applying: Mutex::new(()),
            stop: Mutex::new(None),
            bulk_running: Mutex::new(BTreeSet::new()),
            admin_url: RwLock::new(None),
            setup_lock: tokio::sync::Mutex::new(()),
        });
        {
            let _one = node.applying.lock().unwrap_or_else(|p| p.into_inner());
            node.run_on(effective)?;
        }
        Ok(node)
    }

    /// The config the node runs on now: `[node]` from the file, the rest from the store.
    pub fn live(&self) -> Arc<NodeConfig> {
        self.live_parts().config.clone()
    }

    fn live_parts(&self) -> Arc<Live> {
        self.live.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The client of instance `name`, if the node has that instance.
    pub(crate) fn client(&self, name: &str) -> Option<Arc<JiraClient>> {
        self.live_parts().clients.get(name).map(|(_, c)| c.clone())
    }

    /// The secret a webhook for instance `name` must carry: `None` for an unknown instance,
    /// `Some(None)` when it has none.
    pub(crate) fn webhook_secret(&self, name: &str) -> Option<Option<String>> {
        self.live_parts().webhook_secrets.get(name).cloned()
    }

    /// Where the admin page is now that the node listens: the links written into Jira point
    /// there for twins whose other half is on a peer node.
    pub(crate) fn set_admin_url(&self, listening: &str) -> Result<(), NodeError> {
        let url = self
            .config
            .node
            .admin_url
            .clone()
            .unwrap_or_else(|| listening.to_string());
        *self.admin_url.write().unwrap_or_else(|p| p.into_inner()) = Some(url);
        self.apply()
    }

    /// Gives background work the running node's stop.
    pub(crate) fn set_stop(&self, stop: crate::stop::Stop) {
        *self.stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(stop);
    }

    /// The running node's stop; a node not started never stops background work by itself.
    pub(crate) fn stop_signal(&self) -> crate::stop::Stop {
        self.stop
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(crate::stop::never)
    }

    /// Marks bulk run `id` as running; false when it already is.
    pub(crate) fn bulk_started(&self, id: i64) -> bool {
        self.bulk_running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id)
    }

    /// Marks bulk run `id` as no longer running.
    pub(crate) fn bulk_ended(&self, id: i64) {
        self.bulk_running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }

    /// The store's setup as it is now.
    pub fn stored(&self) -> Result<Stored, NodeError> {
        Ok(Stored::read(&self.store)?)
    }

    /// Makes the running node follow the store's setup: new instances get clients, new or
    /// changed sides run from now on, removed ones stop taking events, and peer senders
    /// follow the paired connections. No restart, and no event in hand is cut short.
    pub fn apply(&self) -> Result<(), NodeError> {
        // Read under the lock: two changes applied at once end on the later store.
        let _one = self.applying.lock().unwrap_or_else(|p| p.into_inner());
        let effective = Stored::read(&self.store)?.effective(&self.config);
        effective.validate(Path::new("the node's setup"))?;
        self.run_on(effective)
    }

    /// Runs on `effective`; the caller holds `applying`.
    fn run_on(&self, effective: NodeConfig) -> Result<(), NodeError> {
        let old = self.live_parts();
        let mut webhook_secrets = BTreeMap::new();
        let mut clients = BTreeMap::new();
        for (name, inst) in &effective.instances {
            let secret = match &inst.webhook_secret {
                Some(s) => Some(s.resolve_strong(
                    &format!("instances.{name}.webhook_secret"),
                    &effective.base_dir,
                )?),
                None => None,
            };
            webhook_secrets.insert(name.clone(), secret);
            let client = match old.clients.get(name) {
                Some((was, client)) if was == inst => client.clone(),
                _ => Arc::new(client_for(name, inst, &effective.base_dir)?),
            };
            clients.insert(name.clone(), (inst.clone(), client));
        }
        let old_sides: BTreeMap<(String, String), Arc<Side>> = self
            .pipeline
            .sides()
            .into_iter()
            .map(|s| ((s.connection.clone(), s.name.clone()), s))
            .collect();
        let mut sides = Vec::new();
        let mut remote = BTreeSet::new();
        for conn in &effective.connections {
            if conn.awaiting_peer {
                continue;
            }
            if conn.peer.is_some() {
                remote.insert(conn.name.clone());
            }
            for (i, s) in conn.sides.iter().enumerate() {
                // A remote connection's other side lives on the peer node.
                let other = match &conn.peer {
                    Some(peer) => peer.clone(),
                    None => conn.sides[1 - i].name.clone(),
                };
                let (_, client) = clients.get(&s.instance).ok_or_else(|| {
                    NodeError::Other(format!("instance {:?} is not configured", s.instance))
                })?;
                let admin_url = self
                    .admin_url
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                let fingerprint =
                    crate::setup::hash_of(&(s, &other, &clients[&s.instance].0, &admin_url));
                if let Some(was) = old_sides.get(&(conn.name.clone(), s.name.clone()))
                    && was.fingerprint == fingerprint
                {
                    sides.push(was.clone());
                    continue;
                }
                let slot = self.slot_for(&conn.name, s)?;
                sides.push(Arc::new(Side {
                    connection: conn.name.clone(),
                    name: s.name.clone(),
                    other,
                    instance: s.instance.clone(),
                    project: s.project.clone(),
                    jira: JiraSide::new(client.clone(), self.spool.clone(), &s.project)
                        .with_status_link(s.status_link, admin_url),
                    slot,
                    config: Arc::new(s.config.clone().into_iter().collect()),
                    limits: s.limits,
                    trigger: s.trigger.clone(),
                    sync: s.sync,
                    fingerprint,
                }));
            }
        }
        self.note_disabled(&sides);
        self.pipeline.set_sides(sides);
        if let Some(peers) = &self.peers {
            peers.set_remote(remote);
        }
        *self.live.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(Live {
            config: Arc::new(effective),
            clients,
            webhook_secrets,
        });
        Ok(())
    }

    /// Remembers when each disabled direction was disabled (the earliest time, if it was
    /// disabled again before a catch-up), so a catch-up knows what changed meanwhile.
    fn note_disabled(&self, sides: &[Arc<Side>]) {
        let since = crate::sync::detect::DISABLED_SINCE;
        for s in sides.iter().filter(|s| s.sync == SyncMethod::Disabled) {
            let noted = self.store.watermark(&s.connection, &s.name, since);
            let result = match noted {
                Ok(Some(_)) => Ok(()),
                Ok(None) => self.store.set_watermark(
                    &s.connection,
                    &s.name,
                    since,
                    &crate::store::now_ms().to_string(),
                ),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                tracing::error!(connection = %s.connection, side = %s.name, error = %e,
                    "cannot note when the direction was disabled; a catch-up will miss it");
            }
        }
    }

    /// The rule slot of a side: the one it has if its file is the same, else a new one. A
    /// stock-mode side gets its own copy of the stock rule the first time.
    fn slot_for(&self, connection: &str, s: &SideConfig) -> Result<Arc<RuleSlot>, NodeError> {
        let slot_name = format!("{connection}/{}", s.name);
        let Some(rule_path) = &s.rule else {
            return Err(NodeError::Other(format!(
                "connection {connection:?}, side {:?}: no rule file",
                s.name
            )));
        };
        if let Some(stock) = s.mode.stock_rule()
            && !rule_path.exists()
        {
            write_stock_rule(stock, rule_path)?;
        }
        // A script-mode side waits for its first upload in a directory that is watched.
        if let Some(dir) = rule_path.parent()
            && s.mode == SideMode::Script
        {
            crate::private_fs::create_dir(dir).map_err(|source| NodeError::DataDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        if let Some(slot) = self.registry.slot(&slot_name)
            && slot.file() == crate::rules::absolute(rule_path)
        {
            // A mode change wrote a new rule at the same path: it serves now, not at the next watch.
            if let Err(e) = self.registry.reload_slot(&slot) {
                tracing::error!(connection, side = %s.name, error = %e, "rule not loaded");
            }
            return Ok(slot);
        }
        match self.registry.register(&slot_name, rule_path) {
            Ok(slot) => Ok(slot),
            Err(e) => {
                tracing::error!(connection, side = %s.name, error = %e,
                    "rule not loaded; this side's events fail until the rule is fixed");
                self.registry.slot(&slot_name).ok_or(NodeError::Rules(e))
            }
        }
    }
    /// The side of `connection` that syncs the project of `key`.
    pub(crate) fn side_for_key(&self, connection: &str, key: &str) -> Result<Arc<Side>, NodeError> {
        let project = key.rsplit_once('-').map_or(key, |(p, _)| p);
        self.pipeline
            .sides()
            .into_iter()
            .find(|s| s.connection == connection && s.project.eq_ignore_ascii_case(project))
            .ok_or_else(|| {
                let known: Vec<String> = self
                    .pipeline
                    .sides()
                    .into_iter()
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

/// A Jira client for instance `name` as its definition says.
fn client_for(name: &str, inst: &InstanceConfig, base_dir: &Path) -> Result<JiraClient, NodeError> {
    let token = inst
        .token
        .resolve(&format!("instance {name} token"), base_dir)
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
    JiraClient::new(client_config).map_err(|source| NodeError::Jira {
        instance: name.to_string(),
        source: Box::new(source),
    })
}

/// Writes a stock rule's component to a side's own rule file (0600, whole or not at all).
fn write_stock_rule(stock: &str, path: &Path) -> Result<(), NodeError> {
    use std::io::Write as _;
    let bytes = crate::rules::stock::stock(stock)
        .ok_or_else(|| NodeError::Other(format!("there is no stock rule {stock:?}")))?;
    let io = |source| NodeError::DataDir {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        crate::private_fs::create_dir(dir).map_err(io)?;
    }
    let tmp = path.with_extension("wasm.tmp");
    let mut file = crate::private_fs::create_file(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

impl From<crate::setup::SetupError> for NodeError {
    fn from(e: crate::setup::SetupError) -> Self {
        NodeError::Setup(Box::new(e))
    }
}

impl From<ConfigError> for NodeError {
    fn from(e: ConfigError) -> Self {
        NodeError::Config(Box::new(e))
    }
}
