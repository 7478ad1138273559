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
    /// The file cannot be read.
    #[error("cannot read rule {path}: {source}")]
    Io {
        /// The rule file.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The file is not WebAssembly.
    #[error("{name} is not a WebAssembly file (bad magic number)")]
    NotWasm {
        /// The file's name.
        name: String,
    },
    /// The file is a core module, not a component.
    #[error(
        "{name} is a core WebAssembly module, not a component: build it for wasm32-wasip2 \
         (or wrap it with `wasm-tools component new`)"
    )]
    CoreModule {
        /// The file's name.
        name: String,
    },
    /// The component does not compile.
    #[error("{id} does not compile: {reason}")]
    Compile {
        /// The rule version.
        id: RuleId,
        /// The compiler's reason.
        reason: String,
    },
    /// The component is built against a contract version this node cannot load.
    #[error(
        "{id} is built against twinsync:rules@{found}, which this node cannot load \
         (it loads {supported})"
    )]
    IncompatibleVersion {
        /// The rule version.
        id: RuleId,
        /// The contract version it is built against.
        found: String,
        /// The contract versions this node loads.
        supported: String,
    },
    /// The component's imports or exports do not fit the contract.
    #[error("{id} does not fit the twinsync:rules world: {reason}")]
    WrongWorld {
        /// The rule version.
        id: RuleId,
        /// What does not fit.
        reason: String,
    },
    /// The wasm engine could not be set up.
    #[error("rule engine setup failed: {0}")]
    Engine(String),
    /// The compile cache failed.
    #[error("compile cache at {path}: {reason}")]
    Cache {
        /// The cache directory or entry.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
}

/// One rule call gave no usable answer. It affects only the sync event that made it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// Not an error: the rule decided this change does not sync.
    #[error("{id} skipped: {reason}")]
    Skip {
        /// The rule version.
        id: RuleId,
        /// The rule's reason.
        reason: String,
    },
    /// The rule returned `fail`: the admin must look, the issue waits for a retry.
    #[error("{id} failed: {reason}")]
    Fail {
        /// The rule version.
        id: RuleId,
        /// The rule's reason.
        reason: String,
    },
    /// The call ran into one of its limits and was stopped.
    #[error("{id} stopped: exceeded its {limit}")]
    Limit {
        /// The rule version.
        id: RuleId,
        /// Which limit.
        limit: LimitHit,
    },
    /// The rule trapped (a panic, an abort, an out-of-bounds access...).
    #[error("{id} trapped: {message}{}", output_suffix(.output))]
    Trap {
        /// The rule version.
        id: RuleId,
        /// The trap's message.
        message: String,
        /// What the rule printed to stdout/stderr before trapping (a panic message, say).
        output: String,
    },
    /// The rule answered something the host cannot use.
    #[error("{id} gave an invalid answer: {reason}")]
    Invalid {
        /// The rule version.
        id: RuleId,
        /// What is wrong with it.
        reason: String,
    },
    /// No rule is loaded for this side (its first load failed).
    #[error("no rule is loaded for {side}: {reason}")]
    NoRule {
        /// The side.
        side: String,
        /// Why its last load failed.
        reason: String,
    },
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
