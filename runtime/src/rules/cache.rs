//! On-disk cache of compiled rules, keyed by module hash and engine settings.
//!
//! Loading compiled code is `unsafe` in wasmtime (it is trusted machine code), so
//! the cache only ever loads files this node wrote: the directory must belong to
//! the node's user and be writable by nobody else, and every file is checked
//! against the SHA-256 recorded beside it when it was written.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::LoadError;

pub(crate) struct CompileCache {
    dir: PathBuf,
    /// Hex digest of the engine's compatibility hash: compiled code from other settings never matches.
    engine_key: String,
}

/// Feeds `std::hash::Hash` output into SHA-256 for a digest stable across runs.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first)
    }
}

impl CompileCache {
    pub(crate) fn open(dir: &Path, engine: &wasmtime::Engine) -> Result<Self, LoadError> {
        let fail = |reason: String| LoadError::Cache {
            path: dir.to_path_buf(),
            reason,
        };
        // Nodes sharing a cache may create it at the same moment; what counts is that it exists.
        if let Err(e) = create_private_dir(dir)
            && !dir.is_dir()
        {
            create_private_dir(dir).map_err(|_| fail(e.to_string()))?;
        }
        check_private_dir(dir).map_err(fail)?;
        Ok(CompileCache {
            dir: dir.to_path_buf(),
            engine_key: engine_key(engine),
        })
    }

    /// A cache another process (the CLI) keeps, if it exists and passes the same checks;
    /// it is only read.
    pub(crate) fn open_existing(dir: &Path, engine: &wasmtime::Engine) -> Option<Self> {
        if !dir.is_dir() {
            return None;
        }
        match check_private_dir(dir) {
            Ok(()) => Some(CompileCache {
                dir: dir.to_path_buf(),
                engine_key: engine_key(engine),
            }),
            Err(reason) => {
                tracing::debug!(cache = %dir.display(), %reason, "shared compile cache not used");
                None
            }
        }
    }

    /// Whether compiled code for the module is there (not yet checked against its hash).
    pub(crate) fn contains(&self, module_hash: &str) -> bool {
        let (code, sum) = self.paths(module_hash);
        code.is_file() && sum.is_file()
    }

    fn paths(&self, module_hash: &str) -> (PathBuf, PathBuf) {
        let stem = format!("{module_hash}-{}", self.engine_key);
        (
            self.dir.join(format!("{stem}.cwasm")),
            self.dir.join(format!("{stem}.sha256")),
        )
    }

    /// The compiled bytes for a module, if present and intact.
    pub(crate) fn get(&self, module_hash: &str) -> Option<Vec<u8>> {
        let (code_path, sum_path) = self.paths(module_hash);
        let recorded = fs::read_to_string(&sum_path).ok()?;
        let code = fs::read(&code_path).ok()?;
        if hex::encode(Sha256::digest(&code)) != recorded.trim() {
            tracing::warn!(path = %code_path.display(), "compiled rule does not match its recorded hash; recompiling");
            return None;
        }
        Some(code)
    }

    /// Stores compiled bytes; written to a temporary name and renamed, so readers never see half a file.
    pub(crate) fn put(&self, module_hash: &str, code: &[u8]) -> std::io::Result<()> {
        let (code_path, sum_path) = self.paths(module_hash);
        write_atomic(&code_path, code)?;
        write_atomic(&sum_path, hex::encode(Sha256::digest(code)).as_bytes())
    }
}

/// Hex digest of the engine's compatibility hash: compiled code from other settings never matches.
fn engine_key(engine: &wasmtime::Engine) -> String {
    let mut hasher = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex::encode(&hasher.0.finalize()[..16])
}

/// The compile cache of this user's CLI, which nodes read too: `TWINSYNC_RULE_CACHE`, else
/// `$XDG_CACHE_HOME/twinsync/rules`, else `~/.cache/twinsync/rules`.
pub fn user_cache_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(dir) = env("TWINSYNC_RULE_CACHE") {
        return Some(dir.into());
    }
    env("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".cache")))
        .map(|c| c.join("twinsync").join("rules"))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // Unique per process and per write: nodes and threads may share one cache directory.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600); // like the data directory's files
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

/// Refuses a directory that someone else could write compiled code into.
#[cfg(unix)]
fn check_private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::symlink_metadata(dir).map_err(|e| e.to_string())?;
    if !meta.is_dir() {
        return Err("not a directory (symbolic links are refused)".into());
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "writable by group or others (mode {:o}); run `chmod go-w` on it",
            meta.mode() & 0o777
        ));
    }
    // The owner must be us: compare with a file we create there right now.
    // Unique per call: nodes built at once in one process share the pid.
    static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let probe = dir.join(format!(".owner-probe-{}-{n}", std::process::id()));
    fs::write(&probe, b"").map_err(|e| format!("not writable: {e}"))?;
    let ours = fs::metadata(&probe).map(|m| m.uid());
    let _ = fs::remove_file(&probe);
    match ours {
        Ok(uid) if uid == meta.uid() => Ok(()),
        Ok(uid) => Err(format!(
            "owned by uid {}, but this node runs as uid {uid}",
            meta.uid()
        )),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(not(unix))]
fn check_private_dir(_dir: &Path) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tampered_code_is_a_miss() {
        let tmp = tempfile::tempdir().unwrap();
        let engine = wasmtime::Engine::default();
        let cache = CompileCache::open(&tmp.path().join("c"), &engine).unwrap();
        cache.put("abc", b"compiled").unwrap();
        assert_eq!(cache.get("abc").as_deref(), Some(&b"compiled"[..]));
        let (code, _) = cache.paths("abc");
        fs::write(&code, b"evil").unwrap();
        assert_eq!(cache.get("abc"), None);
    }

    #[cfg(unix)]
    #[test]
    fn world_writable_dir_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        let err = CompileCache::open(&dir, &wasmtime::Engine::default())
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("writable by group or others"),
            "{err}"
        );
        // The CLI's cache, which a node only reads, passes the same check or is not used.
        assert!(CompileCache::open_existing(&dir, &wasmtime::Engine::default()).is_none());
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        assert!(CompileCache::open_existing(&dir, &wasmtime::Engine::default()).is_some());
    }
}
