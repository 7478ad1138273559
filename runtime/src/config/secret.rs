//! Secrets given by reference (an environment variable, a file, or inline for demos):
//! read when needed, redacted in `Debug`, and refused when a door's secret is weak.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The shortest admin token or webhook secret a node accepts: an empty one lets every
/// request in, a short one is guessed.
pub(crate) const MIN_SECRET_CHARS: usize = 16;

/// A secret given by reference: an environment variable, a file, or (for demos) inline.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
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
pub(super) fn check_strong(key: &str, value: &str) -> Result<(), ConfigError> {
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
