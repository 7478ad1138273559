//! Shared harness for the end-to-end scenarios: where the built example rules and samples are.

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
    target.join("wasm32-wasip2").join("release")
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
