//! The node's durable state in SQLite (WAL): connections, twins, id mappings, the event queue,
//! watermarks and bulk runs.
//!
//! Everything the sync pipeline needs goes through the methods of [`Store`], a
//! narrow interface (queue, twins, mappings, connection state) that a PostgreSQL
//! backend could implement without touching `sync`. One connection behind a
//! mutex: SQLite has one writer anyway, and every call is a short statement.

mod connections;
mod items;
mod peers;
mod queue;
mod rule_versions;
mod schema;
mod setup;
mod text_enum;
mod twins;
mod visual;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::Connection;

pub use connections::{BulkRun, ConnectionState};
pub use items::{ItemKind, ItemMapping, Origin};
pub(crate) use peers::{Peer, Redeemed, SentKind};
pub use queue::{Event, EventKind, EventState, NewEvent, QueueStats};
pub use rule_versions::RuleVersion;
pub use setup::{NewTrigger, SetupKind, SetupOrigin, SetupRow, Trigger, TriggerEdit};
pub use twins::{SentRecord, Twin};
pub use visual::MappingState;

/// Why the store failed: it cannot be opened or made private, is from a newer node, or a query failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be opened.
    #[error("store {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's reason.
        source: rusqlite::Error,
    },
    /// The database file cannot be made readable by the node's user alone.
    #[error("store {path}: cannot make it private to the node's user: {source}")]
    Private {
        /// The database file.
        path: PathBuf,
        /// Why changing its permissions failed.
        source: std::io::Error,
    },
    /// The database was written by a newer node.
    #[error(
        "store {path} has schema version {found}, newer than this node knows ({known}); \
         upgrade twinsync"
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: usize,
        /// The newest schema version this node knows.
        known: usize,
    },
    /// A query failed.
    #[error("store: {0}")]
    Sql(#[from] rusqlite::Error),
    /// No sync event has this id.
    #[error("store: no event {0}")]
    NoEvent(i64),
    /// A retry asked for an event that has not failed.
    #[error("store: event {id} is {state}, not failed: nothing to retry")]
    NotRetryable {
        /// The event.
        id: i64,
        /// The state it is in.
        state: String,
    },
}

pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The node's SQLite store: queue, twins, item mappings, connections, peers; safe to share between threads.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

/// Milliseconds since the Unix epoch, the store's clock.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Store {
    /// Opens (creating if needed) the store and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        // The file exists 0600 before SQLite opens it, so its WAL and shm files get 0600 too.
        let private = |source| StoreError::Private {
            path: path.to_path_buf(),
            source,
        };
        crate::private_fs::touch_file(path).map_err(private)?;
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            crate::private_fs::tighten_if_present(Path::new(&side)).map_err(private)?;
        }
        let conn = Connection::open(path).map_err(open_err)?;
        // WAL: readers never block the writer; NORMAL sync is durable across process crashes.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        let store = Store {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// An in-memory store, for unit tests.
    pub fn in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: PathBuf::from(":memory:"),
            source,
        })?;
        let store = Store {
            conn: Mutex::new(conn),
            path: PathBuf::from(":memory:"),
        };
        store.migrate()?;
        Ok(store)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (statements are atomic).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn migrate(&self) -> Result<()> {
        let mut conn = self.conn();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let version = usize::try_from(version).unwrap_or(0);
        if version > schema::MIGRATIONS.len() {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                known: schema::MIGRATIONS.len(),
            });
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
            tracing::info!(store = %self.path.display(), version = i + 1, "store migrated");
        }
        Ok(())
    }

    /// Events that were running go back to pending, and how many did: at node start (after
    /// a crash) and at the end of a stop that ran out of time. Delivery is at-least-once and
    /// applying is idempotent, so a re-run is safe. Only the node calls this, with no worker left.
    pub fn recover(&self) -> Result<usize> {
        let n = self.conn().execute(
            "UPDATE events SET state = 'pending', updated_at = ?1 WHERE state = 'running'",
            [now_ms()],
        )?;
        Ok(n)
    }
}
