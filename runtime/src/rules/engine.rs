//! The wasmtime engine that loads rule components and runs each call in a fresh, limited store.
//!
//! One `Engine` and one `Linker` per node. A rule is compiled (or loaded from the
//! compile cache), type-checked against the world once (`InstancePre`), and then
//! every call gets a fresh `Store`: no state survives from one call to the next,
//! so a rule cannot leak one issue's data into another's replica.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{
    Component, HasSelf, Linker, ResourceTable,
    types::{ComponentExtern, ComponentItem},
};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::{V0_1, V0_2, v0_1, v0_2};
use super::cache::CompileCache;
use super::error::{CallError, LoadError, RuleId};
use super::limits::{CallLimiter, LimitHit, RuleLimits};
use crate::model::{Changes, Issue, Replica, RuleRefusal, SyncContext};

/// Node-wide engine settings (per-call limits are per side, in [`RuleLimits`]).
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

/// What a call's store holds: an empty WASI context and the host interface's state.
struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: CallLimiter,
    config: RuleConfig,
    logs: Vec<RuleLogLine>,
    log_budget: usize,
    logs_dropped: usize,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl CallState {
    fn log(&mut self, level: &'static str, message: String) {
        let cost = message.len();
        if cost > self.log_budget {
            self.logs_dropped += 1;
            return;
        }
        self.log_budget -= cost;
        self.logs.push(RuleLogLine { level, message });
    }
}

/// The `host` interface of one contract version, on the call's state.
macro_rules! host_impl {
    ($v:ident) => {
        impl $v::types::Host for CallState {}

        impl $v::twinsync::rules::host::Host for CallState {
            fn log(&mut self, level: $v::Level, message: String) {
                let level = match level {
                    $v::Level::Trace => "trace",
                    $v::Level::Debug => "debug",
                    $v::Level::Info => "info",
                    $v::Level::Warn => "warn",
                    $v::Level::Error => "error",
                };
                CallState::log(self, level, message);
            }

            fn config(&mut self, key: String) -> Option<String> {
                self.config.get(&key).cloned()
            }
        }
    };
}
host_impl!(v0_1);
host_impl!(v0_2);

/// A wall clock stuck at the Unix epoch: rules are pure functions and must not see real time.
struct EpochClock;

impl wasmtime_wasi::HostWallClock for EpochClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

/// A monotonic clock that never moves, for the same reason.
struct FrozenClock;

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// Bytes of stdout/stderr kept per call, to show a panic message in the error.
const OUTPUT_CAPTURE: usize = 4 << 10;

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
}

/// Instantiates `$pre` in `$store` and runs `$body` with `$rule` bound to the
/// instance and `$v` to that version's bindings module.
macro_rules! with_rule {
    ($pre:expr, $store:expr, |$rule:ident, $v:ident| $body:expr) => {
        match $pre {
            RulePre::V0_1(pre) => {
                #[allow(unused_imports)]
                use v0_1 as $v;
                let $rule = pre.instantiate(&mut *$store)?;
                $body
            }
            RulePre::V0_2(pre) => {
                #[allow(unused_imports)]
                use v0_2 as $v;
                let $rule = pre.instantiate(&mut *$store)?;
                $body
            }
        }
    };
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

    /// Reads, compiles (or loads from cache) and type-checks a rule file.
    pub fn load_file(&self, path: &Path) -> Result<Arc<LoadedRule>, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        self.load_bytes(&name, &bytes)
    }

    /// Compiles (or loads from cache) and type-checks a rule given as bytes.
    pub fn load_bytes(&self, name: &str, bytes: &[u8]) -> Result<Arc<LoadedRule>, LoadError> {
        self.load(name, bytes, true)
    }

    /// Compiles a module to try, not shared with the sides' rules; its compiled code goes to
    /// the compile cache, so swapping the tried file in afterwards does not compile it again.
    pub(crate) fn load_candidate(
        &self,
        name: &str,
        bytes: &[u8],
    ) -> Result<Arc<LoadedRule>, LoadError> {
        self.load(name, bytes, false)
    }

    /// Whether loading the module with this hash needs a compile: it is neither in memory
    /// nor in a compile cache.
    pub(crate) fn needs_compile(&self, hash: &str) -> bool {
        let in_memory = self
            .loaded
            .lock()
            .ok()
            .and_then(|m| m.get(hash).and_then(Weak::upgrade))
            .is_some();
        let cached = self.cache.as_ref().is_some_and(|c| c.contains(hash))
            || self.shared_cache().is_some_and(|c| c.contains(hash));
        !(in_memory || cached)
    }

    /// The shared cache, opened at each use: the CLI may make it after the node started.
    fn shared_cache(&self) -> Option<CompileCache> {
        let dir = self.settings.shared_cache_dir.as_ref()?;
        if self.settings.cache_dir.as_ref() == Some(dir) {
            return None;
        }
        CompileCache::open_existing(dir, &self.engine)
    }

    fn load(&self, name: &str, bytes: &[u8], keep: bool) -> Result<Arc<LoadedRule>, LoadError> {
        let id = RuleId {
            name: name.to_string(),
            hash: hex::encode(Sha256::digest(bytes)),
        };
        classify_binary(name, bytes)?;
        // Sides loading one new module at once wait for a single compile of it.
        let gate = keep.then(|| {
            self.compiling
                .lock()
                .map(|mut m| m.entry(id.hash.clone()).or_default().clone())
                .unwrap_or_default()
        });
        let _compiling = gate.as_ref().map(|g| g.lock());
        let shared = self
            .loaded
            .lock()
            .ok()
            .and_then(|m| m.get(&id.hash).and_then(Weak::upgrade));
        if let Some(compiled) = shared {
            self.stats.shared_loads.fetch_add(1, Ordering::Relaxed);
            return Ok(self.loaded_rule(id, compiled));
        }
        let component = self.compile(&id, bytes)?;
        let world_version = world_version(&self.engine, &component, &id)?;
        let instance_pre =
            self.linker
                .instantiate_pre(&component)
                .map_err(|e| LoadError::WrongWorld {
                    id: id.clone(),
                    reason: format!("{e:#}"),
                })?;
        let wrong_world = |e: wasmtime::Error| LoadError::WrongWorld {
            id: id.clone(),
            reason: format!("{e:#}"),
        };
        let pre = if semver_minor(&world_version) == semver_minor(V0_1) {
            RulePre::V0_1(v0_1::RulePre::new(instance_pre).map_err(wrong_world)?)
        } else {
            RulePre::V0_2(v0_2::RulePre::new(instance_pre).map_err(wrong_world)?)
        };
        let compiled = Arc::new(Compiled { world_version, pre });
        if keep && let Ok(mut m) = self.loaded.lock() {
            // Versions no side runs any more are forgotten here, so hot reloads do not pile up.
            m.retain(|_, w| w.strong_count() > 0);
            m.insert(id.hash.clone(), Arc::downgrade(&compiled));
        }
        if let Ok(mut m) = self.compiling.lock() {
            // Waiters hold their own handle on the gate; new loads find the module instead.
            m.remove(&id.hash);
        }
        Ok(self.loaded_rule(id, compiled))
    }

    fn loaded_rule(&self, id: RuleId, compiled: Arc<Compiled>) -> Arc<LoadedRule> {
        Arc::new(LoadedRule {
            id,
            world_version: compiled.world_version.clone(),
            pre: compiled,
            engine: self.engine.clone(),
            max_wasm_stack: self.settings.max_wasm_stack,
            stats: self.stats.clone(),
        })
    }

    fn compile(&self, id: &RuleId, bytes: &[u8]) -> Result<Component, LoadError> {
        if let Some(cache) = &self.cache
            && let Some(code) = cache.get(&id.hash)
            && let Some(component) = self.deserialize(id, &code)
        {
            return Ok(component);
        }
        if let Some(shared) = self.shared_cache()
            && let Some(code) = shared.get(&id.hash)
            && let Some(component) = self.deserialize(id, &code)
        {
            if let Some(cache) = &self.cache
                && let Err(e) = cache.put(&id.hash, &code)
            {
                tracing::warn!(rule = %id, error = %e, "could not write the compile cache");
            }
            return Ok(component);
        }
        let component = Component::new(&self.engine, bytes).map_err(|e| LoadError::Compile {
            id: id.clone(),
            reason: format!("{e:#}"),
        })?;
        self.stats.compilations.fetch_add(1, Ordering::Relaxed);
        if let Some(cache) = &self.cache {
            match component.serialize() {
                Ok(code) => {
                    if let Err(e) = cache.put(&id.hash, &code) {
                        tracing::warn!(rule = %id, error = %e, "could not write the compile cache");
                    }
                }
                Err(e) => {
                    tracing::warn!(rule = %id, error = %e, "could not serialise compiled rule")
                }
            }
        }
        Ok(component)
    }
}

impl RuleEngine {
    /// Compiled code from a cache as a component, or `None` (with a warning) when unusable.
    fn deserialize(&self, id: &RuleId, code: &[u8]) -> Option<Component> {
        // SAFETY: caches hand back only files written by this user into a directory only
        // this user can write, verified against their recorded SHA-256.
        match unsafe { Component::deserialize(&self.engine, code) } {
            Ok(component) => {
                self.stats.cache_loads.fetch_add(1, Ordering::Relaxed);
                Some(component)
            }
            Err(e) => {
                tracing::warn!(rule = %id, error = %e, "cached rule unusable; recompiling");
                None
            }
        }
    }
}

/// Tells a core module or a non-wasm file from a component, for a clear refusal.
fn classify_binary(name: &str, bytes: &[u8]) -> Result<(), LoadError> {
    if wasmparser::Parser::is_component(bytes) {
        Ok(())
    } else if wasmparser::Parser::is_core_wasm(bytes) {
        Err(LoadError::CoreModule { name: name.into() })
    } else {
        Err(LoadError::NotWasm { name: name.into() })
    }
}

/// The `twinsync:rules` version a component was built against, read from its imports.
fn world_version(engine: &Engine, component: &Component, id: &RuleId) -> Result<String, LoadError> {
    let ty = component.component_type();
    let mut found = None;
    for (name, _) in ty.imports(engine) {
        if let Some(rest) = name.strip_prefix("twinsync:rules/") {
            found = rest.split_once('@').map(|(_, v)| v.to_string());
        }
    }
    let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
    let Some(version) = found else {
        let has_exports = exports.iter().any(|e| e == "outgoing" || e == "incoming");
        let reason = if has_exports {
            "it imports nothing from twinsync:rules (build it against wit/rules.wit)".to_string()
        } else {
            format!(
                "it neither imports twinsync:rules nor exports `outgoing`/`incoming` (exports: {})",
                if exports.is_empty() {
                    "none".into()
                } else {
                    exports.join(", ")
                }
            )
        };
        return Err(LoadError::WrongWorld {
            id: id.clone(),
            reason,
        });
    };
    let compatible = [V0_1, V0_2]
        .iter()
        .any(|v| semver_minor(&version) == semver_minor(v));
    if !compatible {
        return Err(LoadError::IncompatibleVersion {
            id: id.clone(),
            found: version,
            supported: format!("{}.x and {}.x", semver_minor(V0_1), semver_minor(V0_2)),
        });
    }
    Ok(version)
}

/// "0.1.3" -> "0.1": for 0.x packages the minor version is the compatibility line.
fn semver_minor(v: &str) -> &str {
    match v.match_indices('.').nth(1) {
        Some((i, _)) => &v[..i],
        None => v,
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

impl LoadedRule {
    /// Which rule and version this is.
    pub fn id(&self) -> &RuleId {
        &self.id
    }

    /// The `twinsync:rules` version the rule was built against.
    pub fn world_version(&self) -> &str {
        &self.world_version
    }

    pub(crate) fn info(&self) -> RuleInfo {
        let ty = match &self.pre.pre {
            RulePre::V0_1(pre) => pre.instance_pre().component(),
            RulePre::V0_2(pre) => pre.instance_pre().component(),
        }
        .component_type();
        let describe = |(name, item): (&str, ComponentExtern<'_>)| match item.ty {
            ComponentItem::ComponentFunc(_) => format!("func {name}"),
            ComponentItem::ComponentInstance(_) => format!("instance {name}"),
            _ => name.to_string(),
        };
        RuleInfo {
            name: self.id.name.clone(),
            hash: self.id.hash.clone(),
            world_version: self.world_version.clone(),
            imports: ty.imports(&self.engine).map(describe).collect(),
            exports: ty.exports(&self.engine).map(describe).collect(),
        }
    }

    /// Local issue -> replica.
    pub fn outgoing(
        &self,
        issue: Issue,
        ctx: SyncContext,
        limits: &RuleLimits,
        config: &RuleConfig,
    ) -> CallReport<Replica> {
        self.call(
            limits,
            config,
            |pre, store| {
                with_rule!(pre, store, |rule, _v| {
                    let answer = rule.call_outgoing(&mut *store, &issue.into(), &ctx.into())?;
                    Ok(answer.map(Replica::from).map_err(RuleRefusal::from))
                })
            },
            Replica::approx_size,
        )
    }

    /// Replica (+ local twin) -> desired local state.
    pub fn incoming(
        &self,
        replica: Replica,
        local: Option<Issue>,
        ctx: SyncContext,
        limits: &RuleLimits,
        config: &RuleConfig,
    ) -> CallReport<Changes> {
        self.call(
            limits,
            config,
            |pre, store| {
                with_rule!(pre, store, |rule, v| {
                    let local = local.map(v::types::Issue::from);
                    let answer = rule.call_incoming(
                        &mut *store,
                        &replica.into(),
                        local.as_ref(),
                        &ctx.into(),
                    )?;
                    Ok(answer.map(Changes::from).map_err(RuleRefusal::from))
                })
            },
            Changes::approx_size,
        )
    }

    fn call<T>(
        &self,
        limits: &RuleLimits,
        config: &RuleConfig,
        run: impl FnOnce(&RulePre, &mut Store<CallState>) -> wasmtime::Result<Result<T, RuleRefusal>>,
        size: impl Fn(&T) -> usize,
    ) -> CallReport<T> {
        let started = std::time::Instant::now();
        let output = MemoryOutputPipe::new(OUTPUT_CAPTURE);
        // Empty WASI: no preopened dirs, no env, no args, no network, frozen clocks, fixed "randomness".
        let wasi = WasiCtxBuilder::new()
            .stdout(output.clone())
            .stderr(output.clone())
            .wall_clock(EpochClock)
            .monotonic_clock(FrozenClock)
            .secure_random(wasmtime_wasi::Deterministic::new(vec![0x5a]))
            .insecure_random(wasmtime_wasi::Deterministic::new(vec![0xa5]))
            .insecure_random_seed(0)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let state = CallState {
            wasi,
            table: ResourceTable::new(),
            limiter: CallLimiter::new(limits),
            config: config.clone(),
            logs: Vec::new(),
            log_budget: limits.log_bytes,
            logs_dropped: 0,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        // Bounds what the host copies out of the guest (the answer, a log line) by the output
        // cap, before the copy: entries of one list may all point at one large buffer.
        store.set_hostcall_fuel(hostcall_fuel(limits));
        let id = self.id.clone();
        let result = match store.set_fuel(limits.fuel) {
            Err(e) => Err(CallError::Invalid {
                id: id.clone(),
                reason: format!("cannot set fuel: {e}"),
            }),
            Ok(()) => match run(&self.pre.pre, &mut store) {
                Err(e) => Err(self.classify(e, &store, limits, &output)),
                Ok(Ok(value)) if size(&value) > limits.output_bytes => Err(CallError::Limit {
                    id: id.clone(),
                    limit: LimitHit::Output(limits.output_bytes),
                }),
                Ok(Ok(value)) => Ok(value),
                Ok(Err(RuleRefusal::Skip(reason))) => Err(CallError::Skip {
                    id: id.clone(),
                    reason,
                }),
                Ok(Err(RuleRefusal::Fail(reason))) => Err(CallError::Fail {
                    id: id.clone(),
                    reason,
                }),
            },
        };
        let fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let mut state = store.into_data();
        let memory_bytes = state.limiter.memory_used as u64;
        if state.logs_dropped > 0 {
            state.logs.push(RuleLogLine {
                level: "warn",
                message: format!(
                    "{} log line(s) dropped: over the {} byte log limit",
                    state.logs_dropped, limits.log_bytes
                ),
            });
        }
        self.stats.call_seconds.observe(started.elapsed());
        CallReport {
            result,
            rule: id,
            logs: state.logs,
            fuel_used,
            memory_bytes,
        }
    }

    /// Turns a wasmtime error into the limit it hit, a trap, or an invalid answer.
    fn classify(
        &self,
        e: wasmtime::Error,
        store: &Store<CallState>,
        limits: &RuleLimits,
        output: &MemoryOutputPipe,
    ) -> CallError {
        let id = self.id.clone();
        if store.data().limiter.memory_refused {
            return CallError::Limit {
                id,
                limit: LimitHit::Memory(limits.memory_bytes),
            };
        }
        if format!("{e:#}").contains(HOSTCALL_FUEL_EXHAUSTED) {
            return CallError::Limit {
                id,
                limit: LimitHit::Output(limits.output_bytes),
            };
        }
        match e.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => CallError::Limit {
                id,
                limit: LimitHit::Fuel(limits.fuel),
            },
            Some(Trap::StackOverflow) => CallError::Limit {
                id,
                limit: LimitHit::Stack(self.max_wasm_stack),
            },
            Some(trap) => CallError::Trap {
                id,
                message: trap.to_string(),
                output: String::from_utf8_lossy(&output.contents()).into_owned(),
            },
            // Not a trap: lifting the answer failed (bad UTF-8, bad discriminant...) or instantiation did.
            None => CallError::Invalid {
                id,
                reason: format!("{e:#}"),
            },
        }
    }
}

/// wasmtime's words when a call's hostcall fuel runs out (its error type is private).
const HOSTCALL_FUEL_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";

/// Bytes the host may copy out of the guest per call. The host form of an answer is larger
/// than its text (a string costs 24 bytes beside its text, a record its fields), so this
/// is a small multiple of the output cap; the exact text cap is checked after the copy.
fn hostcall_fuel(limits: &RuleLimits) -> usize {
    limits.output_bytes.saturating_mul(4).max(64 << 10)
}
