//! The stock rules, built into the binary: `basic` and `mapping` as the components
//! `cargo xtask stock-rules` builds from `example-rules/` into `runtime/stock-rules/`.
//!
//! A node installed with a plain `cargo install` (no Wasm target, no checkout) can run them:
//! [`materialize`] writes a stock rule once into the data directory, content-addressed, so a
//! slot registers and watches it like any other rule file. `runtime/stock-rules/MANIFEST`
//! holds a digest of the sources the components were built from; a test here fails when the
//! sources changed since, so a stale component cannot ship.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// The names of the stock rules, as [`stock`] and `twinsync rules export` take them.
pub const STOCK: &[&str] = &["basic", "mapping"];

static BASIC: &[u8] = include_bytes!("../../stock-rules/basic.wasm");
static MAPPING: &[u8] = include_bytes!("../../stock-rules/mapping.wasm");

/// The component of the stock rule `name`, or `None` when there is no such stock rule.
pub fn stock(name: &str) -> Option<&'static [u8]> {
    match name {
        "basic" => Some(BASIC),
        "mapping" => Some(MAPPING),
        _ => None,
    }
}

/// Writes the stock rule `name` to `<data_dir>/stock-rules/<name>-<sha256 prefix>.wasm`
/// (0600, in a 0700 directory) unless that file is already there with those bytes, and
/// returns its path. The file appears whole (written beside it, then renamed), and its name
/// changes with its content, so a node upgraded to new stock rules gets a new file.
pub fn materialize(data_dir: &Path, name: &str) -> io::Result<PathBuf> {
    let bytes = stock(name).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "there is no stock rule {name:?}; the stock rules are {}",
                STOCK.join(", ")
            ),
        )
    })?;
    let dir = data_dir.join("stock-rules");
    crate::private_fs::create_dir(&dir)?;
    let hash = hex::encode(Sha256::digest(bytes));
    let path = dir.join(format!("{name}-{}.wasm", &hash[..12]));
    if std::fs::read(&path).is_ok_and(|on_disk| on_disk == bytes) {
        crate::private_fs::tighten_if_present(&path)?;
        return Ok(path);
    }
    // Unique per call, so two nodes or threads writing at once never share a temporary file.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = dir.join(format!(
        ".{name}-{}.{}-{n}.tmp",
        &hash[..12],
        std::process::id()
    ));
    let written = crate::private_fs::create_file(&temp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()));
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, &path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Issue, SyncCause, SyncContext};
    use crate::rules::{EngineSettings, RuleEngine, RuleLimits};

    fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .to_path_buf()
    }

    /// The digest `cargo xtask stock-rules` writes (xtask/src/stock.rs), computed the same way.
    fn sources_digest(root: &Path) -> String {
        fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).expect("read dir") {
                let entry = entry.expect("dir entry");
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') || name == "target" {
                    continue;
                }
                let path = entry.path();
                if entry.file_type().expect("file type").is_dir() {
                    collect(root, &path, files);
                } else {
                    let rel = path.strip_prefix(root).expect("under the root");
                    let parts: Vec<_> = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect();
                    files.push(parts.join("/"));
                }
            }
        }
        let mut files = Vec::new();
        for dir in [
            "example-rules/basic",
            "example-rules/mapping",
            "sdk/rust",
            "wit",
        ] {
            collect(root, &root.join(dir), &mut files);
        }
        files.sort();
        let mut hash = Sha256::new();
        for rel in files {
            let bytes = std::fs::read(root.join(&rel)).expect("read source");
            hash.update(rel.as_bytes());
            hash.update([0]);
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(&bytes);
        }
        hex::encode(hash.finalize())
    }

    fn manifest() -> String {
        std::fs::read_to_string(workspace().join("runtime/stock-rules/MANIFEST"))
            .expect("runtime/stock-rules/MANIFEST")
    }

    fn manifest_value(key: &str) -> String {
        manifest()
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ').map(str::to_string))
            .unwrap_or_else(|| panic!("MANIFEST has no {key:?} line"))
    }

    #[test]
    fn the_embedded_components_are_built_from_the_current_sources() {
        assert_eq!(
            manifest_value("sources"),
            sources_digest(&workspace()),
            "example-rules/basic, example-rules/mapping, sdk/rust or wit changed since the \
             stock rules were built: run `cargo xtask stock-rules` and commit \
             runtime/stock-rules/"
        );
        for name in STOCK {
            let bytes = stock(name).expect("stock rule");
            assert_eq!(
                manifest_value(&format!("{name}.wasm")),
                hex::encode(Sha256::digest(bytes)),
                "runtime/stock-rules/{name}.wasm is not the file the MANIFEST lists: run \
                 `cargo xtask stock-rules`"
            );
        }
    }

    #[test]
    fn the_stock_rules_load_and_sync_the_sample_issue() {
        let engine = RuleEngine::new(EngineSettings {
            pooling: false,
            ..EngineSettings::default()
        })
        .expect("engine");
        let sample: Issue =
            serde_json::from_str(include_str!("../../../example-rules/samples/issue.json"))
                .expect("sample issue");
        for name in STOCK {
            let rule = engine
                .load_bytes(&format!("{name}.wasm"), stock(name).expect("stock"))
                .expect("loads and fits the contract");
            assert_eq!(rule.world_version(), "0.3.0", "{name}");
            let ctx = SyncContext {
                connection: "c".into(),
                local_side: "a".into(),
                remote_side: "b".into(),
                cause: SyncCause::Manual,
                local_key: Some(sample.key.clone()),
                ..SyncContext::default()
            };
            let replica = rule
                .outgoing(
                    sample.clone(),
                    ctx,
                    &RuleLimits::default(),
                    &Default::default(),
                )
                .result
                .expect("outgoing");
            assert_eq!(replica.summary.as_deref(), Some(sample.summary.as_str()));
        }
        assert_eq!(stock("nope"), None);
    }

    #[test]
    fn materialize_writes_the_component_once_privately() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = materialize(dir.path(), "basic").expect("materialize");
        assert_eq!(
            path.parent(),
            Some(dir.path().join("stock-rules").as_path())
        );
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with("basic-") && name.ends_with(".wasm"),
            "{name}"
        );
        assert_eq!(
            std::fs::read(&path).expect("read"),
            stock("basic").expect("basic")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let modified = std::fs::metadata(&path)
            .expect("meta")
            .modified()
            .expect("mtime");
        assert_eq!(materialize(dir.path(), "basic").expect("again"), path);
        assert_eq!(
            std::fs::metadata(&path)
                .expect("meta")
                .modified()
                .expect("mtime"),
            modified,
            "an up-to-date file is left alone"
        );
        // A damaged file is replaced.
        std::fs::write(&path, b"garbage").expect("damage");
        materialize(dir.path(), "basic").expect("repair");
        assert_eq!(
            std::fs::read(&path).expect("read"),
            stock("basic").expect("basic")
        );
        let err = materialize(dir.path(), "fancy").expect_err("unknown");
        assert!(err.to_string().contains("basic, mapping"), "{err}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("stock-rules"))
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn materialize_at_once_from_several_threads_gives_one_whole_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| materialize(dir.path(), "mapping")))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread").expect("materialize"))
                .collect()
        });
        assert!(paths.windows(2).all(|w| w[0] == w[1]), "{paths:?}");
        assert_eq!(
            std::fs::read(&paths[0]).expect("read"),
            stock("mapping").expect("mapping")
        );
    }
}
