//! Calling a loaded rule: each call gets a fresh store with an empty WASI context,
//! frozen clocks, its fuel, memory and output limits, and the host interface (`log`,
//! `config`); what it hit is turned into a [`CallError`].

use std::time::Duration;

use wasmtime::component::{
    ResourceTable,
    types::{ComponentExtern, ComponentItem},
};
use wasmtime::{Store, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::super::bindings::{v0_1, v0_2, v0_3};
use super::super::error::{CallError, RuleId};
use super::super::limits::{CallLimiter, LimitHit, RuleLimits};
use super::{CallReport, LoadedRule, RuleConfig, RuleInfo, RuleLogLine, RulePre};
use crate::model::{Changes, Issue, Replica, RuleRefusal, SyncContext};

/// What a call's store holds: an empty WASI context and the host interface's state.
pub(super) struct CallState {
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
host_impl!(v0_3);

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
            RulePre::V0_3(pre) => {
                #[allow(unused_imports)]
                use v0_3 as $v;
                let $rule = pre.instantiate(&mut *$store)?;
                $body
            }
        }
    };
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

    /// Whether the rule's contract has the `deleted` event (0.3 on); an older rule is never
    /// called for a deletion, and the host unlinks for it.
    pub fn answers_deletion(&self) -> bool {
        matches!(self.pre.pre, RulePre::V0_3(_))
    }

    pub(crate) fn info(&self) -> RuleInfo {
        let ty = match &self.pre.pre {
            RulePre::V0_1(pre) => pre.instance_pre().component(),
            RulePre::V0_2(pre) => pre.instance_pre().component(),
            RulePre::V0_3(pre) => pre.instance_pre().component(),
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
