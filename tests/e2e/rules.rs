//! The rule engine with real components built from example-rules/: stock rules, hostile rules,
//! hot reload, the compile cache and the contract checks.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use twinsync::model::{SyncCause, SyncContext};
use twinsync::rules::{EngineSettings, RuleConfig, RuleEngine};

mod cache;
mod contract;
mod hostile;
mod reload;
mod stock;

/// One engine for the tests that need no special settings: built once, as a node would.
fn engine() -> &'static RuleEngine {
    static ENGINE: OnceLock<RuleEngine> = OnceLock::new();
    ENGINE.get_or_init(|| RuleEngine::new(EngineSettings::default()).expect("engine"))
}

/// The context of a call on connection `acme-globex`, side `acme`.
fn ctx(first_sync: bool) -> SyncContext {
    SyncContext {
        connection: "acme-globex".into(),
        local_side: "acme".into(),
        remote_side: "globex".into(),
        first_sync,
        local_key: Some("ACME-42".into()),
        remote_key: None,
        cause: SyncCause::Updated,
    }
}

/// A rule config of `pairs`.
fn config(pairs: &[(&str, &str)]) -> RuleConfig {
    Arc::new(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
    )
}
