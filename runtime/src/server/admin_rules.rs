//! The admin API of a side's rule versions: publish a new version, list the history, roll
//! back to an earlier version in one call.
//!
//! Publishing checks the component as `/api/rules/try` checks a candidate (it must compile
//! and fit the contract; a refused one changes nothing), keeps a copy in the history
//! (`<data_dir>/rule-versions/<connection>/<side>/<version>-<sha8>.wasm`, 0600), writes it
//! onto the side's rule file (beside it, then renamed over it) and loads it at once, so the
//! node uses it without a restart and keeps using it after one. The first publish also keeps
//! the file the side had before as version 0 ("as it was"). A rollback publishes an earlier
//! version's bytes again, as a new version whose note says so.

use std::io::Write as _;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::error;
use crate::rules::LoadError;
use crate::store::{RuleVersion, StoreError, now_ms};
use crate::sync::node::Node;

/// The longest note a version may carry, in characters.
const MAX_NOTE_CHARS: usize = 1000;

/// Why a publish or rollback did not happen (or, for the last variants, did not finish).
#[derive(Debug, thiserror::Error)]
enum PublishError {
    #[error("connection {connection:?} has no side {side:?} on this node")]
    NoSide { connection: String, side: String },
    #[error("connection {connection:?} side {side:?} has no rule version {version}")]
    NoVersion {
        connection: String,
        side: String,
        version: i64,
    },
    #[error(
        "connection {connection:?} side {side:?}: the rule{} was refused and nothing changed: {source}",
        version.map(|v| format!(" (version {v})")).unwrap_or_default()
    )]
    Refused {
        connection: String,
        side: String,
        version: Option<i64>,
        source: Box<LoadError>,
    },
    #[error("connection {connection:?} side {side:?}: {what}: {source}")]
    Io {
        connection: String,
        side: String,
        what: String,
        source: std::io::Error,
    },
    #[error("connection {connection:?} side {side:?}: {0}", connection = .1, side = .2)]
    Store(Box<StoreError>, String, String),
    #[error("connection {connection:?} side {side:?}: {what}")]
    Other {
        connection: String,
        side: String,
        what: String,
    },
}

impl PublishError {
    fn response(&self) -> Response {
        let status = match self {
            PublishError::NoSide { .. } | PublishError::NoVersion { .. } => StatusCode::NOT_FOUND,
            PublishError::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        error(status, self.to_string())
    }
}

/// A side of a connection, as the routes name it.
struct Target<'a> {
    node: &'a Node,
    connection: &'a str,
    side: &'a str,
}

impl Target<'_> {
    fn store_err(&self) -> impl FnOnce(StoreError) -> PublishError + '_ {
        move |e| PublishError::Store(Box::new(e), self.connection.into(), self.side.into())
    }

    fn io_err(&self, what: String) -> impl FnOnce(std::io::Error) -> PublishError + '_ {
        move |source| PublishError::Io {
            connection: self.connection.into(),
            side: self.side.into(),
            what,
            source,
        }
    }

    fn side(&self) -> Result<Arc<crate::sync::side::Side>, PublishError> {
        self.node
            .pipeline
            .side(self.connection, self.side)
            .ok_or_else(|| PublishError::NoSide {
                connection: self.connection.into(),
                side: self.side.into(),
            })
    }

    fn data_dir(&self) -> PathBuf {
        self.node
            .config
            .resolve_path(&self.node.config.node.data_dir)
    }

    /// The side's history directory, relative to the data directory.
    fn history_dir(&self) -> PathBuf {
        PathBuf::from("rule-versions")
            .join(crate::setup::file_safe(self.connection))
            .join(crate::setup::file_safe(self.side))
    }

    /// Keeps a copy of `bytes` as `version` in the history; returns its path relative to
    /// the data directory.
    fn keep(&self, version: i64, sha256: &str, bytes: &[u8]) -> Result<String, PublishError> {
        let rel = self
            .history_dir()
            .join(format!("{version}-{}.wasm", &sha256[..8]));
        let path = self.data_dir().join(&rel);
        let dir = path.parent().unwrap_or(FsPath::new("."));
        crate::private_fs::create_dir(dir)
            .map_err(self.io_err(format!("creating {}", dir.display())))?;
        write_via_rename(&path, bytes)
            .map_err(self.io_err(format!("keeping version {version} in {}", path.display())))?;
        Ok(rel.to_string_lossy().into_owned())
    }

    /// Checks `bytes`, keeps them as a new version, writes them onto the side's rule file and
    /// loads them now. Returns the new version's number and hash.
    async fn publish(
        &self,
        bytes: Bytes,
        note: String,
        from: Option<i64>,
    ) -> Result<(i64, String), PublishError> {
        // One publish at a time: version numbers and the rule file stay in step.
        static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _turn = ONE_AT_A_TIME.lock().await;
        let side = self.side()?;
        let slot = side.slot.clone();
        // Checked as a tried candidate is: it compiles and fits the contract. Its compiled
        // code lands in the compile cache, so loading it into the slot below is quick.
        let registry = self.node.registry.clone();
        let candidate = bytes.clone();
        let checked = tokio::task::spawn_blocking(move || {
            registry
                .engine()
                .load_candidate("candidate.wasm", &candidate)
                .map(|_| ())
        })
        .await
        .map_err(|e| PublishError::Other {
            connection: self.connection.into(),
            side: self.side.into(),
            what: format!("checking the rule aborted: {e}"),
        })?;
        checked.map_err(|source| PublishError::Refused {
            connection: self.connection.into(),
            side: self.side.into(),
            version: from,
            source: Box::new(source),
        })?;

        let store = &self.node.store;
        let history = store
            .rule_versions(self.connection, self.side)
            .map_err(self.store_err())?;
        let previous = std::fs::read(slot.file()).ok();
        if history.is_empty()
            && let Some(old) = &previous
        {
            // The first publish keeps what the side ran before, so it can come back.
            let sha256 = hex::encode(Sha256::digest(old));
            let file = self.keep(0, &sha256, old)?;
            let at = std::fs::metadata(slot.file())
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or_else(now_ms, |d| d.as_millis() as i64);
            store
                .add_rule_version(&RuleVersion {
                    connection: self.connection.into(),
                    side: self.side.into(),
                    version: 0,
                    sha256,
                    size: old.len() as i64,
                    note: "as it was".into(),
                    file,
                    uploaded_at: at,
                    published_at: Some(at),
                })
                .map_err(self.store_err())?;
        }
        let version = store
            .next_rule_version(self.connection, self.side)
            .map_err(self.store_err())?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let file = self.keep(version, &sha256, &bytes)?;
        store
            .add_rule_version(&RuleVersion {
                connection: self.connection.into(),
                side: self.side.into(),
                version,
                sha256: sha256.clone(),
                size: bytes.len() as i64,
                note,
                file,
                uploaded_at: now_ms(),
                published_at: None,
            })
            .map_err(self.store_err())?;

        write_via_rename(slot.file(), &bytes)
            .map_err(self.io_err(format!("writing the rule file {}", slot.file().display())))?;
        let registry = self.node.registry.clone();
        let reload_slot = slot.clone();
        let reloaded = tokio::task::spawn_blocking(move || registry.reload_slot(&reload_slot))
            .await
            .map_err(|e| PublishError::Other {
                connection: self.connection.into(),
                side: self.side.into(),
                what: format!("loading the rule aborted: {e}"),
            })?;
        if let Err(source) = reloaded {
            // It loaded as a candidate a moment ago; put the old file back all the same.
            if let Some(old) = &previous {
                let _ = write_via_rename(slot.file(), old);
            }
            return Err(PublishError::Refused {
                connection: self.connection.into(),
                side: self.side.into(),
                version: Some(version),
                source: Box::new(source),
            });
        }
        store
            .publish_rule_version(self.connection, self.side, version)
            .map_err(self.store_err())?;
        tracing::info!(
            connection = self.connection,
            side = self.side,
            version,
            sha256 = %&sha256[..12],
            "rule version published"
        );
        Ok((version, sha256))
    }
}

/// Writes `bytes` to `path` whole: to a private file beside it, then renamed over it, so a
/// watcher or a crash never sees half a component.
fn write_via_rename(path: &FsPath, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(FsPath::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "rule".into(), |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = crate::private_fs::create_file(&temp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// `GET /api/connections/{name}/sides/{side}/rule/versions`: the side's history, newest
/// first; `current` marks the version serving now.
pub(super) async fn versions(
    State(node): State<Arc<Node>>,
    Path((connection, side)): Path<(String, String)>,
) -> Response {
    let target = Target {
        node: &node,
        connection: &connection,
        side: &side,
    };
    let rt = match target.side() {
        Ok(rt) => rt,
        Err(e) => return e.response(),
    };
    let list = match node.store.rule_versions(&connection, &side) {
        Ok(list) => list,
        Err(e) => {
            return PublishError::Store(Box::new(e), connection.clone(), side.clone()).response();
        }
    };
    let serving = rt.slot.current().ok().map(|r| r.id().hash.clone());
    let current = list
        .iter()
        .filter(|v| v.published_at.is_some() && Some(&v.sha256) == serving.as_ref())
        .max_by_key(|v| (v.published_at, v.version))
        .map(|v| v.version);
    let versions: Vec<_> = list
        .iter()
        .map(|v| {
            json!({
                "version": v.version,
                "sha256": v.sha256,
                "size": v.size,
                "note": v.note,
                "uploaded_at": v.uploaded_at,
                "published_at": v.published_at,
                "current": Some(v.version) == current,
            })
        })
        .collect();
    axum::Json(json!({ "connection": connection, "side": side, "versions": versions }))
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct PublishQuery {
    note: Option<String>,
}

/// `POST /api/connections/{name}/sides/{side}/rule`: the body (`application/wasm`) becomes
/// the side's rule now; 201 with its version number and hash.
pub(super) async fn publish(
    State(node): State<Arc<Node>>,
    Path((connection, side)): Path<(String, String)>,
    Query(q): Query<PublishQuery>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let target = Target {
        node: &node,
        connection: &connection,
        side: &side,
    };
    if let Err(e) = target.side() {
        return e.response();
    }
    // A browser cannot send this type cross-site without a preflight, which the node refuses.
    let wasm = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/wasm"));
    if !wasm {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "connection {connection:?} side {side:?}: send the rule with Content-Type: \
                 application/wasm"
            ),
        );
    }
    if body.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "connection {connection:?} side {side:?}: send the rule's .wasm file as the \
                 request body"
            ),
        );
    }
    let note = q.note.unwrap_or_default();
    if note.chars().count() > MAX_NOTE_CHARS {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "connection {connection:?} side {side:?}: the note is longer than \
                 {MAX_NOTE_CHARS} characters"
            ),
        );
    }
    match target.publish(body, note, None).await {
        Ok((version, sha256)) => (
            StatusCode::CREATED,
            axum::Json(json!({ "version": version, "sha256": sha256 })),
        )
            .into_response(),
        Err(e) => e.response(),
    }
}

#[derive(Deserialize)]
struct RollbackBody {
    version: i64,
}

/// `POST /api/connections/{name}/sides/{side}/rule/rollback` with `{"version": N}`: version
/// N's bytes are published again, as a new version noted "rollback to vN".
pub(super) async fn rollback(
    State(node): State<Arc<Node>>,
    Path((connection, side)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let target = Target {
        node: &node,
        connection: &connection,
        side: &side,
    };
    if let Err(e) = target.side() {
        return e.response();
    }
    // As for a publish: a type a browser cannot send cross-site without a preflight.
    let json_body = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json_body {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "connection {connection:?} side {side:?}: send {{\"version\": N}} with \
                 Content-Type: application/json"
            ),
        );
    }
    let Ok(RollbackBody { version: to }) = serde_json::from_slice(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "connection {connection:?} side {side:?}: send the version to roll back to as \
                 JSON, {{\"version\": N}}"
            ),
        );
    };
    let kept = match node.store.rule_version(&connection, &side, to) {
        Ok(Some(kept)) => kept,
        Ok(None) => {
            return PublishError::NoVersion {
                connection,
                side,
                version: to,
            }
            .response();
        }
        Err(e) => return PublishError::Store(Box::new(e), connection, side).response(),
    };
    let path = target.data_dir().join(&kept.file);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) if hex::encode(Sha256::digest(&bytes)) == kept.sha256 => bytes,
        Ok(_) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "connection {connection:?} side {side:?}: the kept copy of version {to} \
                     ({}) has changed since it was kept; not published",
                    path.display()
                ),
            );
        }
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "connection {connection:?} side {side:?}: cannot read the kept copy of \
                     version {to} ({}): {e}",
                    path.display()
                ),
            );
        }
    };
    match target
        .publish(Bytes::from(bytes), format!("rollback to v{to}"), Some(to))
        .await
    {
        Ok((version, sha256)) => axum::Json(json!({
            "version": version,
            "sha256": sha256,
            "rolled_back_to": to,
        }))
        .into_response(),
        Err(e) => e.response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_single_safe_path_parts() {
        assert_eq!(crate::setup::file_safe("acme-globex"), "acme-globex");
        assert_eq!(crate::setup::file_safe("a/b"), "a_b");
        assert_eq!(crate::setup::file_safe(".."), "_..");
        assert_eq!(crate::setup::file_safe(""), "_");
    }

    #[test]
    fn a_file_is_replaced_whole_and_privately() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rule.wasm");
        std::fs::write(&path, b"old").expect("old");
        write_via_rename(&path, b"new").expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }
}
