//! `cargo xtask stock-rules [--check]`: builds the stock rules (`basic`, `mapping`) to the
//! components the node binary embeds, `runtime/stock-rules/<name>.wasm`, and writes
//! `runtime/stock-rules/MANIFEST`: a digest of the sources they are built from, the compiler
//! that built them and each component's SHA-256. The runtime's tests fail when the sources
//! changed since (the digest differs), so a stale component cannot go unnoticed.
//!
//! The build uses its own target directory and maps the checkout's and cargo's paths to
//! fixed names (`--remap-path-prefix`), so the bytes do not depend on where the repository
//! is checked out. `--check` rebuilds and compares instead of writing.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::rules::{PROFILE, TARGET, ensure_target};
use crate::run::{cargo, root, step};

/// The stock rules: the name the node knows each by, and its crate.
pub const STOCK: [(&str, &str); 2] = [("basic", "rule-basic"), ("mapping", "rule-mapping")];

/// What the stock components are built from, relative to the workspace root. The runtime's
/// test (`rules::stock`) digests the same list the same way.
pub const SOURCES: [&str; 4] = [
    "example-rules/basic",
    "example-rules/mapping",
    "sdk/rust",
    "wit",
];

/// Builds the stock components; writes them and the manifest, or with `check` compares.
pub fn build(check: bool) -> Result<()> {
    ensure_target()?;
    let root = root();
    let target_dir = root.join("target/stock-rules");
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    let flags = [
        format!("--remap-path-prefix={}=/twinsync", root.display()),
        format!("--remap-path-prefix={}=/cargo", cargo_home.display()),
    ]
    .join("\x1f");
    let mut build = cargo();
    build
        .args([
            "build",
            "--locked",
            "--profile",
            PROFILE,
            "--target",
            TARGET,
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        .env("CARGO_ENCODED_RUSTFLAGS", flags);
    for (_, krate) in STOCK {
        build.args(["-p", krate]);
    }
    step("build the stock rules", &mut build)?;

    let out_dir = root.join("runtime/stock-rules");
    let mut manifest = format!(
        "# Written by `cargo xtask stock-rules`; the runtime's tests check it. Do not edit.\n\
         sources {}\nrustc {}\n",
        sources_digest(&root)?,
        rustc_version()?
    );
    let mut stale = Vec::new();
    for (name, krate) in STOCK {
        let built = target_dir
            .join(TARGET)
            .join(PROFILE)
            .join(format!("{}.wasm", krate.replace('-', "_")));
        let bytes =
            std::fs::read(&built).with_context(|| format!("{} was not built", built.display()))?;
        manifest += &format!("{name}.wasm {}\n", hex(&Sha256::digest(&bytes)));
        let committed = out_dir.join(format!("{name}.wasm"));
        if check {
            if std::fs::read(&committed).ok().as_deref() != Some(&bytes[..]) {
                stale.push(committed.display().to_string());
            }
        } else {
            std::fs::create_dir_all(&out_dir)?;
            std::fs::write(&committed, &bytes)
                .with_context(|| format!("writing {}", committed.display()))?;
            eprintln!(
                "  {name:<8} {:>8} bytes  {}",
                bytes.len(),
                committed.display()
            );
        }
    }
    let manifest_path = out_dir.join("MANIFEST");
    if check {
        let committed = std::fs::read_to_string(&manifest_path).unwrap_or_default();
        if committed != manifest {
            stale.push(manifest_path.display().to_string());
        }
        if !stale.is_empty() {
            bail!(
                "the committed stock rules differ from a fresh build ({}); run \
                 `cargo xtask stock-rules` and commit the result (a different rustc than the \
                 MANIFEST names also changes the bytes)",
                stale.join(", ")
            );
        }
        eprintln!("the committed stock rules match their sources");
    } else {
        std::fs::write(&manifest_path, manifest)
            .with_context(|| format!("writing {}", manifest_path.display()))?;
    }
    Ok(())
}

/// SHA-256 over every file under [`SOURCES`] (hidden files and `target` skipped), in path
/// order, each as its relative path, a NUL, its length (8 bytes, little-endian) and its bytes.
pub fn sources_digest(root: &Path) -> Result<String> {
    let mut files = Vec::new();
    for dir in SOURCES {
        collect(root, &root.join(dir), &mut files)?;
    }
    files.sort();
    let mut hash = Sha256::new();
    for rel in files {
        let bytes = std::fs::read(root.join(&rel)).with_context(|| format!("reading {rel}"))?;
        hash.update(rel.as_bytes());
        hash.update([0]);
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    Ok(hex(&hash.finalize()))
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect(root, &path, files)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let parts: Vec<_> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push(parts.join("/"));
        }
    }
    Ok(())
}

fn rustc_version() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .arg("-V")
        .output()
        .context("cannot run rustc -V")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
