//! Hot-reload registry: one slot per connection side, swapped atomically when its rule file changes.
//!
//! A watcher (notify, debounced) sees the file change; the reload compiles on the
//! watcher's own thread, never on the async runtime. A call takes the slot's
//! current `Arc<LoadedRule>` once at its start, so calls in flight finish on the
//! old version and the next call uses the new one. A module that fails to
//! compile or type-check is rejected with its reason, and the old one keeps serving.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, SystemTime};

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};
use sha2::Digest as _;

use super::engine::{LoadedRule, RuleEngine};
use super::error::{CallError, LoadError};

/// Quiet time after the last file event before reloading: lets a copy finish writing.
const DEBOUNCE: Duration = Duration::from_millis(100);

/// The result of the last (re)load of a slot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum ReloadOutcome {
    /// The version now serving, how long loading it took and whether that was a compile
    /// (else the code came from memory or the compile cache).
    Accepted {
        /// The version now serving (its hash).
        version: String,
        /// How long loading it took, in milliseconds.
        load_ms: u64,
        /// Whether it was compiled (else it came from memory or the compile cache).
        compiled: bool,
    },
    /// Why the file was refused; the previous version (if any) keeps serving.
    Rejected {
        /// The load error, as text.
        reason: String,
    },
}

/// A new version of a slot's file being loaded while the old one keeps serving.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Loading {
    /// The file name and the new version.
    pub(crate) rule: String,
    pub(crate) version: String,
    /// True while compiling (seconds for Python or JavaScript); false for a cache load.
    pub(crate) compiling: bool,
    pub(crate) since_ms: u64,
    /// `"compiling <version>"` or `"loading <version>"`, as the log and the page say it.
    pub(crate) text: String,
}

/// One connection side's rule: its file and the version serving now.
pub struct RuleSlot {
    side: String,
    file: PathBuf,
    current: RwLock<Option<Arc<LoadedRule>>>,
    last: Mutex<(SystemTime, ReloadOutcome)>,
    loading: Mutex<Option<Loading>>,
    pub(crate) accepted: AtomicU64,
    /// How many new versions of the file were refused.
    pub rejected: AtomicU64,
    /// The rule's most recent `log` lines, for the admin API.
    logs: Mutex<VecDeque<SlotLog>>,
}

/// A line a rule logged, with when and which version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SlotLog {
    pub(crate) at_ms: u64,
    pub(crate) version: String,
    pub(crate) level: &'static str,
    pub(crate) message: String,
}

/// Rule log lines kept per side.
const KEPT_LOGS: usize = 200;

impl RuleSlot {
    /// The side this slot serves.
    pub(crate) fn side(&self) -> &str {
        &self.side
    }

    /// The rule file the slot loads and watches.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The version serving now; a call holds it for its whole duration.
    pub fn current(&self) -> Result<Arc<LoadedRule>, CallError> {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current.clone().ok_or_else(|| CallError::NoRule {
            side: self.side.clone(),
            reason: match self.last_reload().1 {
                ReloadOutcome::Rejected { reason } => reason,
                ReloadOutcome::Accepted { .. } => "not loaded yet".into(),
            },
        })
    }

    /// When the slot last (re)loaded and with what result.
    pub fn last_reload(&self) -> (SystemTime, ReloadOutcome) {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The version being loaded (compiled) now, if any; the current one serves meanwhile.
    pub(crate) fn loading(&self) -> Option<Loading> {
        self.loading
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_loading(&self, loading: Option<Loading>) {
        *self.loading.lock().unwrap_or_else(|p| p.into_inner()) = loading;
    }

    /// Keeps a call's log lines (the oldest go first beyond a bound).
    pub(crate) fn record_logs(&self, version: &str, lines: &[super::engine::RuleLogLine]) {
        if lines.is_empty() {
            return;
        }
        let at_ms = SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        for line in lines {
            if logs.len() == KEPT_LOGS {
                logs.pop_front();
            }
            logs.push_back(SlotLog {
                at_ms,
                version: version.to_string(),
                level: line.level,
                message: line.message.clone(),
            });
        }
    }

    /// The most recent log lines, oldest first.
    pub(crate) fn recent_logs(&self) -> Vec<SlotLog> {
        self.logs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    fn record(&self, outcome: ReloadOutcome) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = (SystemTime::now(), outcome);
    }
}

/// All rule slots of a node, and the watcher that reloads them.
pub struct RuleRegistry {
    engine: Arc<RuleEngine>,
    slots: RwLock<HashMap<String, Arc<RuleSlot>>>,
    watcher: Mutex<Option<Debouncer<RecommendedWatcher>>>,
    watched_dirs: Mutex<Vec<PathBuf>>,
}

impl RuleRegistry {
    /// An empty registry whose slots load their rules on `engine`.
    pub fn new(engine: Arc<RuleEngine>) -> Arc<Self> {
        Arc::new(RuleRegistry {
            engine,
            slots: RwLock::default(),
            watcher: Mutex::new(None),
            watched_dirs: Mutex::default(),
        })
    }

    /// The engine the slots load their rules on.
    pub fn engine(&self) -> &Arc<RuleEngine> {
        &self.engine
    }

    /// Adds a side's slot and loads its rule file. The slot exists even if the
    /// load fails (calls then fail with the reason) so that fixing the file heals it.
    pub fn register(self: &Arc<Self>, side: &str, file: &Path) -> Result<Arc<RuleSlot>, LoadError> {
        let file = absolute(file);
        let slot = Arc::new(RuleSlot {
            side: side.to_string(),
            file: file.clone(),
            current: RwLock::new(None),
            last: Mutex::new((
                SystemTime::now(),
                ReloadOutcome::Rejected {
                    reason: "not loaded yet".into(),
                },
            )),
            loading: Mutex::new(None),
            accepted: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            logs: Mutex::default(),
        });
        self.slots
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(side.to_string(), slot.clone());
        let loaded = self.reload_slot(&slot);
        if let Some(dir) = file.parent() {
            self.watch_dir(dir);
        }
        loaded.map(|_| slot)
    }

    /// The slot of a side, if one is registered.
    pub fn slot(&self, side: &str) -> Option<Arc<RuleSlot>> {
        self.slots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(side)
            .cloned()
    }

    /// Every registered slot.
    pub fn slots(&self) -> Vec<Arc<RuleSlot>> {
        self.slots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Loads the slot's file now and swaps it in if it is good; returns whether it changed.
    /// While it loads, the slot says so ([`RuleSlot::loading`]) and the old version serves.
    pub(crate) fn reload_slot(&self, slot: &RuleSlot) -> Result<bool, LoadError> {
        let started = std::time::Instant::now();
        let loaded = match std::fs::read(&slot.file) {
            Ok(bytes) => self.load_announced(slot, &bytes),
            Err(source) => Err(LoadError::Io {
                path: slot.file.clone(),
                source,
            }),
        };
        slot.set_loading(None);
        match loaded {
            Ok((rule, compiled)) => {
                let mut current = slot.current.write().unwrap_or_else(|p| p.into_inner());
                if current
                    .as_ref()
                    .is_some_and(|c| c.id().hash == rule.id().hash)
                {
                    return Ok(false);
                }
                let load_ms = started.elapsed().as_millis() as u64;
                tracing::info!(
                    side = %slot.side,
                    rule = %rule.id(),
                    load_ms,
                    how = if compiled { "compiled" } else { "from the compile cache" },
                    "rule loaded"
                );
                slot.record(ReloadOutcome::Accepted {
                    version: rule.id().version().to_string(),
                    load_ms,
                    compiled,
                });
                *current = Some(rule);
                slot.accepted.fetch_add(1, Ordering::Relaxed);
                Ok(true)
            }
            Err(e) => {
                let serving = slot
                    .current
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .as_ref()
                    .map(|r| r.id().to_string());
                tracing::warn!(
                    side = %slot.side,
                    error = %e,
                    still_serving = serving.as_deref().unwrap_or("nothing"),
                    "rule rejected"
                );
                slot.record(ReloadOutcome::Rejected {
                    reason: e.to_string(),
                });
                slot.rejected.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Loads a new version of the slot's file, first saying in the slot and the log that it
    /// is compiling when it will (seconds for Python or JavaScript), so nobody mistakes the
    /// old version still serving for a failed swap. Returns the rule and whether it compiled.
    fn load_announced(
        &self,
        slot: &RuleSlot,
        bytes: &[u8],
    ) -> Result<(Arc<LoadedRule>, bool), LoadError> {
        let name = slot.file.file_name().map_or_else(
            || slot.file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let hash = hex::encode(sha2::Sha256::digest(bytes));
        let serving = slot
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|r| r.id().clone());
        if serving.as_ref().is_some_and(|s| s.hash == hash) {
            return Ok((self.engine.load_bytes(&name, bytes)?, false));
        }
        let version = super::RuleId {
            name: name.clone(),
            hash: hash.clone(),
        }
        .version()
        .to_string();
        let compiling = self.engine.needs_compile(&hash);
        let text = format!(
            "{} {version}",
            if compiling { "compiling" } else { "loading" }
        );
        let since_ms = SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        slot.set_loading(Some(Loading {
            rule: name.clone(),
            version: version.clone(),
            compiling,
            since_ms,
            text,
        }));
        if compiling {
            tracing::info!(
                side = %slot.side,
                rule = %name,
                version = %version,
                still_serving = serving.as_ref().map(|s| s.version()).unwrap_or("nothing"),
                "compiling rule; the old version serves until it is ready"
            );
        }
        Ok((self.engine.load_bytes(&name, bytes)?, compiling))
    }

    /// Starts watching a slot's directory (once per directory).
    fn watch_dir(self: &Arc<Self>, dir: &Path) {
        let mut dirs = self.watched_dirs.lock().unwrap_or_else(|p| p.into_inner());
        if dirs.iter().any(|d| d == dir) {
            return;
        }
        let mut watcher = self.watcher.lock().unwrap_or_else(|p| p.into_inner());
        if watcher.is_none() {
            let registry: Weak<RuleRegistry> = Arc::downgrade(self);
            let handler = move |events: DebounceEventResult| {
                if let Some(registry) = registry.upgrade() {
                    registry.on_events(events);
                }
            };
            match new_debouncer(DEBOUNCE, handler) {
                Ok(d) => *watcher = Some(d),
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the rule file watcher; hot reload is off");
                    return;
                }
            }
        }
        if let Some(debouncer) = watcher.as_mut() {
            match debouncer.watcher().watch(dir, RecursiveMode::NonRecursive) {
                Ok(()) => dirs.push(dir.to_path_buf()),
                Err(e) => {
                    tracing::error!(dir = %dir.display(), error = %e, "cannot watch rules directory; hot reload is off for it")
                }
            }
        }
    }

    fn on_events(&self, events: DebounceEventResult) {
        let events = match events {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, "rule file watcher error");
                return;
            }
        };
        for slot in self.slots() {
            if events.iter().any(|e| same_file(&e.path, &slot.file)) && slot.file.exists() {
                // The error is recorded in the slot and logged; the old version keeps serving.
                let _ = self.reload_slot(&slot);
            }
        }
    }
}

/// `path` with its directory made absolute and resolved, as slots keep their files.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = dir.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let dir = dir.canonicalize().unwrap_or(dir);
    match path.file_name() {
        Some(name) => dir.join(name),
        None => dir,
    }
}

fn same_file(event: &Path, file: &Path) -> bool {
    event == file || absolute(event) == file
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::engine::{EngineSettings, RuleLogLine};

    #[test]
    fn a_slot_keeps_its_rules_latest_log_lines() {
        let engine = Arc::new(
            RuleEngine::new(EngineSettings {
                pooling: false,
                ..EngineSettings::default()
            })
            .expect("engine"),
        );
        let registry = RuleRegistry::new(engine);
        let dir = tempfile::tempdir().expect("tempdir");
        // A missing file: the slot exists and says why it serves nothing.
        assert!(
            registry
                .register("c/a", &dir.path().join("none.wasm"))
                .is_err()
        );
        let slot = registry.slot("c/a").expect("slot");
        assert!(matches!(slot.current(), Err(CallError::NoRule { .. })));
        let line = |n: usize| RuleLogLine {
            level: "info",
            message: format!("line {n}"),
        };
        let lines: Vec<_> = (0..KEPT_LOGS + 5).map(line).collect();
        slot.record_logs("abc123", &lines);
        let kept = slot.recent_logs();
        assert_eq!(kept.len(), KEPT_LOGS);
        assert_eq!(kept[0].message, "line 5", "the oldest go first");
        assert_eq!(kept[KEPT_LOGS - 1].version, "abc123");
    }
}
