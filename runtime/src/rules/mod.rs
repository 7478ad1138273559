//! Rules: the sandboxed WebAssembly components that shape what leaves a side and how what arrives lands.
//!
//! `engine` compiles and runs them under per-call limits, `cache` keeps compiled
//! code across restarts, `registry` hot-swaps them when their files change, and
//! `bindings` converts between each WIT version and [`crate::model`]; `stock` holds the
//! stock rules built into the binary.

pub mod authoring;
pub(crate) mod bindings;
mod cache;
pub use cache::user_cache_dir;
pub(crate) mod engine;
pub(crate) mod error;
pub(crate) mod limits;
pub(crate) mod registry;
pub mod round_trip;
pub mod stock;

pub use engine::{
    CallReport, EngineSettings, EngineStats, LoadedRule, RuleConfig, RuleEngine, RuleInfo,
    RuleLogLine,
};
pub use error::{CallError, LoadError, RuleId};
pub use limits::{LimitHit, RuleLimits};
pub(crate) use registry::absolute;
pub use registry::{Loading, ReloadOutcome, RuleRegistry, RuleSlot, SlotLog};
