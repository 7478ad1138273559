//! Loading a rule: reading its bytes, compiling them or taking them from the compile
//! cache (this node's, then the CLI's shared one), sharing code already in memory, and
//! type-checking the component against the contract version it was built for.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::super::bindings::{V0_1, V0_2, V0_3, v0_1, v0_2, v0_3};
use super::super::cache::CompileCache;
use super::super::error::{LoadError, RuleId};
use super::{Compiled, LoadedRule, RuleEngine, RulePre};

impl RuleEngine {
    /// Reads, compiles (or loads from cache) and type-checks a rule file.
    pub fn load_file(&self, path: &Path) -> Result<Arc<LoadedRule>, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        self.load_bytes(&name, &bytes)
    }

    /// Compiles (or loads from cache) and type-checks a rule given as bytes.
    pub fn load_bytes(&self, name: &str, bytes: &[u8]) -> Result<Arc<LoadedRule>, LoadError> {
        self.load(name, bytes, true)
    }

    /// Compiles a module to try, not shared with the sides' rules; its compiled code goes to
    /// the compile cache, so swapping the tried file in afterwards does not compile it again.
    pub(crate) fn load_candidate(
        &self,
        name: &str,
        bytes: &[u8],
    ) -> Result<Arc<LoadedRule>, LoadError> {
        self.load(name, bytes, false)
    }

    /// Whether loading the module with this hash needs a compile: it is neither in memory
    /// nor in a compile cache.
    pub(crate) fn needs_compile(&self, hash: &str) -> bool {
        let in_memory = self
            .loaded
            .lock()
            .ok()
            .and_then(|m| m.get(hash).and_then(Weak::upgrade))
            .is_some();
        let cached = self.cache.as_ref().is_some_and(|c| c.contains(hash))
            || self.shared_cache().is_some_and(|c| c.contains(hash));
        !(in_memory || cached)
    }

    /// The shared cache, opened at each use: the CLI may make it after the node started.
    fn shared_cache(&self) -> Option<CompileCache> {
        let dir = self.settings.shared_cache_dir.as_ref()?;
        if self.settings.cache_dir.as_ref() == Some(dir) {
            return None;
        }
        CompileCache::open_existing(dir, &self.engine)
    }

    fn load(&self, name: &str, bytes: &[u8], keep: bool) -> Result<Arc<LoadedRule>, LoadError> {
        let id = RuleId {
            name: name.to_string(),
            hash: hex::encode(Sha256::digest(bytes)),
        };
        classify_binary(name, bytes)?;
        // Sides loading one new module at once wait for a single compile of it.
        let gate = keep.then(|| {
            self.compiling
                .lock()
                .map(|mut m| m.entry(id.hash.clone()).or_default().clone())
                .unwrap_or_default()
        });
        let _compiling = gate.as_ref().map(|g| g.lock());
        let shared = self
            .loaded
            .lock()
            .ok()
            .and_then(|m| m.get(&id.hash).and_then(Weak::upgrade));
        if let Some(compiled) = shared {
            self.stats.shared_loads.fetch_add(1, Ordering::Relaxed);
            return Ok(self.loaded_rule(id, compiled));
        }
        let component = self.compile(&id, bytes)?;
        let world_version = world_version(&self.engine, &component, &id)?;
        let instance_pre =
            self.linker
                .instantiate_pre(&component)
                .map_err(|e| LoadError::WrongWorld {
                    id: id.clone(),
                    reason: format!("{e:#}"),
                })?;
        let wrong_world = |e: wasmtime::Error| LoadError::WrongWorld {
            id: id.clone(),
            reason: format!("{e:#}"),
        };
        let minor = semver_minor(&world_version);
        let pre = if minor == semver_minor(V0_1) {
            RulePre::V0_1(v0_1::RulePre::new(instance_pre).map_err(wrong_world)?)
        } else if minor == semver_minor(V0_2) {
            RulePre::V0_2(v0_2::RulePre::new(instance_pre).map_err(wrong_world)?)
        } else {
            RulePre::V0_3(v0_3::RulePre::new(instance_pre).map_err(wrong_world)?)
        };
        let compiled = Arc::new(Compiled { world_version, pre });
        if keep && let Ok(mut m) = self.loaded.lock() {
            // Versions no side runs any more are forgotten here, so hot reloads do not pile up.
            m.retain(|_, w| w.strong_count() > 0);
            m.insert(id.hash.clone(), Arc::downgrade(&compiled));
        }
        if let Ok(mut m) = self.compiling.lock() {
            // Waiters hold their own handle on the gate; new loads find the module instead.
            m.remove(&id.hash);
        }
        Ok(self.loaded_rule(id, compiled))
    }

    fn loaded_rule(&self, id: RuleId, compiled: Arc<Compiled>) -> Arc<LoadedRule> {
        Arc::new(LoadedRule {
            id,
            world_version: compiled.world_version.clone(),
            pre: compiled,
            engine: self.engine.clone(),
            max_wasm_stack: self.settings.max_wasm_stack,
            stats: self.stats.clone(),
        })
    }

    fn compile(&self, id: &RuleId, bytes: &[u8]) -> Result<Component, LoadError> {
        if let Some(cache) = &self.cache
            && let Some(code) = cache.get(&id.hash)
            && let Some(component) = self.deserialize(id, &code)
        {
            return Ok(component);
        }
        if let Some(shared) = self.shared_cache()
            && let Some(code) = shared.get(&id.hash)
            && let Some(component) = self.deserialize(id, &code)
        {
            if let Some(cache) = &self.cache
                && let Err(e) = cache.put(&id.hash, &code)
            {
                tracing::warn!(rule = %id, error = %e, "could not write the compile cache");
            }
            return Ok(component);
        }
        let component = Component::new(&self.engine, bytes).map_err(|e| LoadError::Compile {
            id: id.clone(),
            reason: format!("{e:#}"),
        })?;
        self.stats.compilations.fetch_add(1, Ordering::Relaxed);
        if let Some(cache) = &self.cache {
            match component.serialize() {
                Ok(code) => {
                    if let Err(e) = cache.put(&id.hash, &code) {
                        tracing::warn!(rule = %id, error = %e, "could not write the compile cache");
                    }
                }
                Err(e) => {
                    tracing::warn!(rule = %id, error = %e, "could not serialise compiled rule")
                }
            }
        }
        Ok(component)
    }
}

impl RuleEngine {
    /// Compiled code from a cache as a component, or `None` (with a warning) when unusable.
    fn deserialize(&self, id: &RuleId, code: &[u8]) -> Option<Component> {
        // SAFETY: caches hand back only files written by this user into a directory only
        // this user can write, verified against their recorded SHA-256.
        match unsafe { Component::deserialize(&self.engine, code) } {
            Ok(component) => {
                self.stats.cache_loads.fetch_add(1, Ordering::Relaxed);
                Some(component)
            }
            Err(e) => {
                tracing::warn!(rule = %id, error = %e, "cached rule unusable; recompiling");
                None
            }
        }
    }
}

/// Tells a core module or a non-wasm file from a component, for a clear refusal.
fn classify_binary(name: &str, bytes: &[u8]) -> Result<(), LoadError> {
    if wasmparser::Parser::is_component(bytes) {
        Ok(())
    } else if wasmparser::Parser::is_core_wasm(bytes) {
        Err(LoadError::CoreModule { name: name.into() })
    } else {
        Err(LoadError::NotWasm { name: name.into() })
    }
}

/// The `twinsync:rules` version a component was built against, read from its imports.
fn world_version(engine: &Engine, component: &Component, id: &RuleId) -> Result<String, LoadError> {
    let ty = component.component_type();
    let mut found = None;
    for (name, _) in ty.imports(engine) {
        if let Some(rest) = name.strip_prefix("twinsync:rules/") {
            found = rest.split_once('@').map(|(_, v)| v.to_string());
        }
    }
    let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
    let Some(version) = found else {
        let has_exports = exports.iter().any(|e| e == "outgoing" || e == "incoming");
        let reason = if has_exports {
            "it imports nothing from twinsync:rules (build it against wit/rules.wit)".to_string()
        } else {
            format!(
                "it neither imports twinsync:rules nor exports `outgoing`/`incoming` (exports: {})",
                if exports.is_empty() {
                    "none".into()
                } else {
                    exports.join(", ")
                }
            )
        };
        return Err(LoadError::WrongWorld {
            id: id.clone(),
            reason,
        });
    };
    let compatible = [V0_1, V0_2, V0_3]
        .iter()
        .any(|v| semver_minor(&version) == semver_minor(v));
    if !compatible {
        return Err(LoadError::IncompatibleVersion {
            id: id.clone(),
            found: version,
            supported: format!(
                "{}.x, {}.x and {}.x",
                semver_minor(V0_1),
                semver_minor(V0_2),
                semver_minor(V0_3)
            ),
        });
    }
    Ok(version)
}

/// "0.1.3" -> "0.1": for 0.x packages the minor version is the compatibility line.
fn semver_minor(v: &str) -> &str {
    match v.match_indices('.').nth(1) {
        Some((i, _)) => &v[..i],
        None => v,
    }
}
