//! The admin token a node makes for itself when its config names none: 32 random bytes as
//! hex, in `<data_dir>/admin-token`, 0600. `twinsync node` makes it at first start and keeps
//! it across restarts; the CLI reads it from there, so an admin API is never open.

use std::io::Write;
use std::path::{Path, PathBuf};

use ring::rand::SecureRandom;

use crate::config::{ConfigError, NodeConfig, SecretRef};

/// The file's name inside the data directory.
pub(crate) const FILE: &str = "admin-token";

/// Why the node has no admin token: its file cannot be read or written, no randomness, or the configured one is weak.
#[derive(Debug, thiserror::Error)]
pub enum AdminTokenError {
    /// The token file cannot be read or written.
    #[error("admin token {path}: {source}")]
    Io {
        /// The token file.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The system's random source failed.
    #[error("cannot make a random admin token: the system's random source failed")]
    Random,
    /// The configured token cannot be resolved, or is too short.
    #[error(transparent)]
    Weak(#[from] ConfigError),
}

/// Where a node built from `config` keeps the token it made.
pub(crate) fn path(config: &NodeConfig) -> PathBuf {
    config.resolve_path(&config.node.data_dir).join(FILE)
}

/// Gives `config` an admin token if it names none: the one made before, or a new one.
/// Returns the file when the token is (now) the made one.
pub fn ensure(config: &mut NodeConfig) -> Result<Option<PathBuf>, AdminTokenError> {
    if config.node.admin_token.is_some() {
        return Ok(None);
    }
    let file = path(config);
    let io = |source| AdminTokenError::Io {
        path: file.clone(),
        source,
    };
    if let Some(dir) = file.parent() {
        crate::private_fs::create_dir(dir).map_err(io)?;
    }
    if !file.exists() {
        make(&file).map_err(|e| match e {
            MakeError::Io(source) => io(source),
            MakeError::Random => AdminTokenError::Random,
        })?;
        tracing::info!(file = %file.display(), "made the node's admin token");
    }
    crate::private_fs::tighten_if_present(&file).map_err(io)?;
    // A file emptied or cut by hand is refused like a weak configured token, naming it.
    SecretRef::File(file.clone()).resolve_strong(&file.display().to_string(), Path::new("."))?;
    config.node.admin_token = Some(SecretRef::File(file.clone()));
    Ok(Some(file))
}

/// The token made for the node of `config`, if it has made one (for the CLI).
pub fn read_made(config: &NodeConfig) -> Option<String> {
    let text = std::fs::read_to_string(path(config)).ok()?;
    let token = text.trim();
    (!token.is_empty()).then(|| token.to_string())
}

enum MakeError {
    Io(std::io::Error),
    Random,
}

/// Writes a new token; `create_new`, so two starts at once cannot both write one.
fn make(file: &Path) -> Result<(), MakeError> {
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| MakeError::Random)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, crate::private_fs::FILE_MODE);
    let mut f = match options.open(file) {
        Ok(f) => f,
        // Another process made it first: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(MakeError::Io(e)),
    };
    f.write_all(format!("{}\n", hex::encode(bytes)).as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(MakeError::Io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> NodeConfig {
        let text = format!("[node]\ndata_dir = \"{}\"\n", dir.join("data").display());
        NodeConfig::parse(&text, Path::new("t.toml"), dir.to_path_buf()).expect("config")
    }

    #[test]
    fn made_once_kept_and_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut first = config(dir.path());
        let file = ensure(&mut first).expect("made").expect("a made token");
        let token = read_made(&first).expect("readable");
        assert_eq!(token.len(), 64, "{token}");
        let mut again = config(dir.path());
        assert_eq!(ensure(&mut again).expect("kept"), Some(file.clone()));
        assert_eq!(read_made(&again).as_deref(), Some(token.as_str()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&file, "\n").expect("emptied by hand");
        let e = ensure(&mut config(dir.path())).unwrap_err().to_string();
        assert!(e.contains("admin-token is empty"), "{e}");
    }
}
