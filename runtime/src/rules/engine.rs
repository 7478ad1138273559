//! The wasmtime engine that loads rule components and runs each call in a fresh, limited store.
//!
//! One `Engine` and one `Linker` per node. A rule is compiled (or loaded from the
//! compile cache), type-checked against the world once (`InstancePre`), and then
//! every call gets a fresh `Store`: no state survives from one call to the next,
//! so a rule cannot leak one issue's data into another's replica.
//!
//! This file holds the engine, its settings and stats, and the types a caller sees;
//! `load` compiles and type-checks a module (through the compile cache), `call` runs
//! one call of a loaded rule in its store, with its fuel and limits.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, Weak};

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::bindings::{v0_1, v0_2, v0_3};
use super::cache::CompileCache;
use super::error::{CallError, LoadError, RuleId};

mod call;
mod load;

use call::CallState;

/// Node-wide engine settings (per-call limits are per side, in [`RuleLimits`](super::RuleLimits)).
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Wasm stack per call, in bytes; wasmtime fixes it per engine.
    pub max_wasm_stack: usize,
    /// Pre-reserve instance slots: instantiation drops from tens of microseconds to a few.
    pub pooling: bool,
    /// Rule instances alive at once (pool slots); calls beyond it fail to instantiate.
    pub max_instances: u32,
    /// Ceiling on any rule's memory; per-side limits may only be lower.
    pub max_memory_bytes: usize,
    /// Where compiled rules are cached; `None` compiles on every load.
    pub cache_dir: Option<PathBuf>,
    /// A second cache read on a miss (the CLI's, so a file `rules check` or `rules test`
    /// compiled loads at once); what is found there is copied into `cache_dir`.
    pub shared_cache_dir: Option<PathBuf>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            max_wasm_stack: 512 << 10,
            pooling: true,
            max_instances: 64,
            max_memory_bytes: 256 << 20,
            cache_dir: None,
            shared_cache_dir: None,
        }
    }
}

/// Counts of compilations and cache loads, so tests and metrics see what a load cost.
#[derive(Debug, Default)]
pub struct EngineStats {
    /// Modules compiled from source.
    pub compilations: AtomicU64,
    /// Modules loaded from the compile cache.
    pub cache_loads: AtomicU64,
    /// Loads that found the same module already in memory and shared its code.
    pub shared_loads: AtomicU64,
    /// Wall time of each rule call, instantiation included.
    pub(crate) call_seconds: crate::metrics::Histogram,
}

/// Settings a rule reads through `config(key)`.
pub type RuleConfig = Arc<HashMap<String, String>>;

/// A line a rule wrote through `log`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleLogLine {
    /// The level the rule gave (`trace`, `debug`, `info`, `warn`, `error`).
    pub level: &'static str,
    /// The message, as the rule wrote it.
    pub message: String,
}

/// The result of one rule call, with what the host needs to record about it.
#[derive(Debug)]
pub struct CallReport<T> {
    /// The rule's answer, or why there is none.
    pub result: Result<T, CallError>,
    /// The rule version that handled the call.
    pub rule: RuleId,
    pub(crate) logs: Vec<RuleLogLine>,
    /// Fuel the call used.
    pub fuel_used: u64,
    /// Linear memory the call's instance held at its end, all memories together.
    pub memory_bytes: u64,
}

/// The node's rule engine.
pub struct RuleEngine {
    engine: Engine,
    linker: Linker<CallState>,
    cache: Option<CompileCache>,
    settings: EngineSettings,
    stats: Arc<EngineStats>,
    /// Modules in memory by hash, while some loaded rule still uses them.
    loaded: Mutex<HashMap<String, Weak<Compiled>>>,
    /// One lock per module being compiled, so concurrent loads of it compile it once.
    compiling: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

/// A rule type-checked against the contract version it was built for.
enum RulePre {
    V0_1(v0_1::RulePre<CallState>),
    V0_2(v0_2::RulePre<CallState>),
    V0_3(v0_3::RulePre<CallState>),
}

/// A module's compiled code, type-checked against its contract version; shared by every
/// loaded rule with the same bytes, so fifty sides running one module hold its code once.
struct Compiled {
    world_version: String,
    pre: RulePre,
}

/// A compiled, type-checked rule, ready to be called any number of times, concurrently.
pub struct LoadedRule {
    id: RuleId,
    world_version: String,
    pre: Arc<Compiled>,
    engine: Engine,
    max_wasm_stack: usize,
    stats: Arc<EngineStats>,
}

impl RuleEngine {
    /// An engine with these settings: its compile cache, limits and pooling.
    pub fn new(settings: EngineSettings) -> Result<Self, LoadError> {
        let engine_err = |e: wasmtime::Error| LoadError::Engine(format!("{e:#}"));
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.consume_fuel(true); // deterministic CPU limit: the same rule stops at the same point
        config.max_wasm_stack(settings.max_wasm_stack);
        if settings.pooling {
            let n = settings.max_instances;
            let mut pool = PoolingAllocationConfig::default();
            pool.total_component_instances(n);
            // A wasip2 component holds several core instances (the program, the WASI adapter, shims).
            pool.total_core_instances(n * 8);
            pool.total_memories(n * 2);
            pool.total_tables(n * 4);
            pool.max_memory_size(settings.max_memory_bytes);
            // Interpreted-language rules (Python, JS) have large function tables.
            pool.table_elements(100_000);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&config).map_err(engine_err)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(engine_err)?;
        // Each contract version's host interface has its own versioned name, so both link side by side.
        v0_1::Rule::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(engine_err)?;
        v0_2::Rule::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(engine_err)?;
        v0_3::Rule::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(engine_err)?;
        let cache = match &settings.cache_dir {
            Some(dir) => Some(CompileCache::open(dir, &engine)?),
            None => None,
        };
        Ok(RuleEngine {
            engine,
            linker,
            cache,
            settings,
            stats: Arc::default(),
            loaded: Mutex::default(),
            compiling: Mutex::default(),
        })
    }

    /// What loads have cost so far.
    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }
}

/// Imports and exports of a loaded rule, for `rules check`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleInfo {
    /// The rule's name: its file name.
    pub name: String,
    /// The component's SHA-256 (hex): its version.
    pub hash: String,
    /// The contract version it is built against.
    pub world_version: String,
    /// The component's imports.
    pub imports: Vec<String>,
    /// The component's exports.
    pub exports: Vec<String>,
}
