//! Fixtures on disk: the workspace root, the built example rules (and fresh variants of
//! them with a version no node has seen), the samples, and the built `twinsync` binary.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The directory `scripts/build-rules.sh` writes the example rule components to.
pub fn rules_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    target.join("wasm32-wasip2").join("rules")
}

/// The built component of example rule `name` (e.g. "basic", "hostile-loop").
///
/// Panics with the command to run when the rules have not been built.
pub fn rule(name: &str) -> PathBuf {
    let path = rules_dir().join(format!("rule_{}.wasm", name.replace('-', "_")));
    assert!(
        path.is_file(),
        "{} is missing: build the example rules first with scripts/build-rules.sh \
         (the README's test command does this)",
        path.display()
    );
    path
}

/// A sample file from example-rules/samples.
pub fn sample(name: &str) -> PathBuf {
    root().join("example-rules").join("samples").join(name)
}

/// A sample issue parsed into the host model.
pub fn sample_issue() -> twinsync::model::Issue {
    let text = std::fs::read_to_string(sample("issue.json")).expect("read sample issue");
    serde_json::from_str(&text).expect("parse sample issue")
}

/// The `twinsync` binary that `cargo build -p twinsync` leaves in the target directory.
pub fn twinsync_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let bin = target
        .join("debug")
        .join(format!("twinsync{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: build the node binary first with `cargo build -p twinsync` \
         (the README's test command, scripts/test.sh, does this)",
        bin.display()
    );
    bin
}

/// The built component of example rule `name` with a custom section that no other call
/// makes, so its hash (its version) is new: a node or a cache has never seen it.
pub fn fresh_variant(name: &str) -> Vec<u8> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let nonce = format!(
        "{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut bytes = std::fs::read(rule(name)).expect("read the rule");
    // A custom section (id 0): its name, then the nonce; components allow them anywhere.
    let section_name = b"twinsync-test";
    let mut body = leb128(section_name.len() as u32);
    body.extend_from_slice(section_name);
    body.extend_from_slice(nonce.as_bytes());
    bytes.push(0);
    bytes.extend(leb128(body.len() as u32));
    bytes.extend(body);
    bytes
}

fn leb128(mut n: u32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// The SHA-256 of `bytes` in hex: a rule's full version.
pub fn version_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
