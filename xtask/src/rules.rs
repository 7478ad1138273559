//! `cargo xtask build-rules`: every crate under `example-rules/` built to a wasm32-wasip2
//! component, checked to be a component, and listed with its size; then the Python and
//! JavaScript example rules through their own toolchains' scripts.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use cargo_metadata::MetadataCommand;

use crate::run::{cargo, root, script, step};

/// The Wasm target rules are built for.
pub const TARGET: &str = "wasm32-wasip2";
/// The cargo profile the example rules are built with.
pub const PROFILE: &str = "rules";

/// The Rust rules, then (unless `rust_only`) the Python and JavaScript ones.
pub fn build(rust_only: bool) -> Result<()> {
    ensure_target()?;
    let metadata = MetadataCommand::new()
        .manifest_path(root().join("Cargo.toml"))
        .no_deps()
        .exec()
        .context("cannot read the workspace's metadata (cargo metadata)")?;
    let rules_root = root().join("example-rules");
    let mut packages: Vec<String> = metadata
        .workspace_packages()
        .into_iter()
        .filter(|p| p.manifest_path.as_std_path().starts_with(&rules_root))
        .map(|p| p.name.to_string())
        .collect();
    packages.sort();
    if packages.is_empty() {
        bail!("no rule crates found under {}", rules_root.display());
    }
    let mut build = cargo();
    build.args(["build", "--profile", PROFILE, "--target", TARGET]);
    for p in &packages {
        build.args(["-p", p]);
    }
    step("build the Rust example rules", &mut build)?;

    let out: PathBuf = metadata
        .target_directory
        .as_std_path()
        .join(TARGET)
        .join(PROFILE);
    eprintln!("rule components in {}:", out.display());
    let mut problems = Vec::new();
    for p in &packages {
        let file = out.join(format!("{}.wasm", p.replace('-', "_")));
        match check_component(&file) {
            Ok(size) => eprintln!("  {p:<28} {size:>8} bytes  {}", file.display()),
            Err(e) => problems.push(format!("{p}: {e:#}")),
        }
    }
    if !rust_only {
        // Both run even when one fails, so one toolchain's trouble does not hide the other's.
        for (what, name) in [
            ("build the Python example rules", "build-rules-py.sh"),
            ("build the JavaScript example rule", "build-rules-js.sh"),
        ] {
            if let Err(e) = step(what, &mut script(name)) {
                problems.push(format!("{e:#}"));
            }
        }
    }
    if !problems.is_empty() {
        bail!("some rules were not built:\n  {}", problems.join("\n  "));
    }
    Ok(())
}

/// The file's size if it is a Wasm component (magic, then layer 1: bytes 0d 00 01 00).
fn check_component(file: &std::path::Path) -> Result<u64> {
    let bytes = std::fs::read(file).with_context(|| format!("{} was not built", file.display()))?;
    if bytes.get(..8) != Some(&[0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00][..]) {
        bail!("{} is not a wasm component", file.display());
    }
    Ok(bytes.len() as u64)
}

/// The target's standard library must be there; rustup can add it, a bare toolchain cannot.
pub fn ensure_target() -> Result<()> {
    let listed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match listed {
        Ok(out) if out.status.success() => {
            let installed = String::from_utf8_lossy(&out.stdout);
            if installed.lines().any(|l| l.trim() == TARGET) {
                return Ok(());
            }
            eprintln!("installing the {TARGET} target (rustup target add {TARGET})...");
            let mut add = Command::new("rustup");
            add.args(["target", "add", TARGET]);
            step("install the Wasm target", &mut add).with_context(|| {
                format!(
                    "could not install the {TARGET} target; run 'rustup target add {TARGET}' \
                     by hand (it needs network access) and run this again"
                )
            })
        }
        _ => {
            let sysroot = Command::new("rustc")
                .args(["--print", "sysroot"])
                .output()
                .context("rustc is not installed; install Rust with rustup (https://rustup.rs)")?;
            let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
            let lib = PathBuf::from(sysroot).join("lib/rustlib").join(TARGET);
            if lib.is_dir() {
                Ok(())
            } else {
                bail!(
                    "the {TARGET} target is not installed and rustup is missing; install Rust \
                     with rustup (https://rustup.rs), then run this again"
                )
            }
        }
    }
}
