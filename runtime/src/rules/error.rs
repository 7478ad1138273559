//! Errors of loading a rule and of one rule call; each names the rule file and its version.

use std::path::PathBuf;

use super::limits::LimitHit;

/// Which rule, at which version: the file it came from and the hash of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleId {
    /// The file name (or a label for rules loaded from memory).
    pub name: String,
    /// Full hex SHA-256 of the component's bytes.
    pub hash: String,
}

impl RuleId {
    /// The short form shown in logs and the UI.
    pub fn version(&self) -> &str {
        &self.hash[..self.hash.len().min(12)]
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rule {} (version {})", self.name, self.version())
    }
}

/// A rule module could not be loaded; the one already serving (if any) stays.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read rule {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{name} is not a WebAssembly file (bad magic number)")]
    NotWasm { name: String },
    #[error(
        "{name} is a core WebAssembly module, not a component: build it for wasm32-wasip2 \
         (or wrap it with `wasm-tools component new`)"
    )]
    CoreModule { name: String },
    #[error("{id} does not compile: {reason}")]
    Compile { id: RuleId, reason: String },
    #[error(
        "{id} is built against twinsync:rules@{found}, which this node cannot load \
         (it loads {supported})"
    )]
    IncompatibleVersion {
        id: RuleId,
        found: String,
        supported: String,
    },
    #[error("{id} does not fit the twinsync:rules world: {reason}")]
    WrongWorld { id: RuleId, reason: String },
    #[error("rule engine setup failed: {0}")]
    Engine(String),
    #[error("compile cache at {path}: {reason}")]
    Cache { path: PathBuf, reason: String },
}

/// One rule call gave no usable answer. It affects only the sync event that made it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// Not an error: the rule decided this change does not sync.
    #[error("{id} skipped: {reason}")]
    Skip { id: RuleId, reason: String },
    /// The rule returned `fail`: the admin must look, the issue waits for a retry.
    #[error("{id} failed: {reason}")]
    Fail { id: RuleId, reason: String },
    /// The call ran into one of its limits and was stopped.
    #[error("{id} stopped: exceeded its {limit}")]
    Limit { id: RuleId, limit: LimitHit },
    /// The rule trapped (a panic, an abort, an out-of-bounds access...).
    #[error("{id} trapped: {message}{}", output_suffix(.output))]
    Trap {
        id: RuleId,
        message: String,
        /// What the rule printed to stdout/stderr before trapping (a panic message, say).
        output: String,
    },
    /// The rule answered something the host cannot use.
    #[error("{id} gave an invalid answer: {reason}")]
    Invalid { id: RuleId, reason: String },
    /// No rule is loaded for this side (its first load failed).
    #[error("no rule is loaded for {side}: {reason}")]
    NoRule { side: String, reason: String },
}

fn output_suffix(output: &str) -> String {
    if output.trim().is_empty() {
        String::new()
    } else {
        format!(" (rule output: {})", output.trim())
    }
}

impl CallError {
    /// A skip is recorded, not reported as an error.
    pub fn is_skip(&self) -> bool {
        matches!(self, CallError::Skip { .. })
    }

    /// The rule (and version) that produced this outcome, when one was loaded.
    pub fn rule(&self) -> Option<&RuleId> {
        match self {
            CallError::Skip { id, .. }
            | CallError::Fail { id, .. }
            | CallError::Limit { id, .. }
            | CallError::Trap { id, .. }
            | CallError::Invalid { id, .. } => Some(id),
            CallError::NoRule { .. } => None,
        }
    }
}
