//! The store's schema as numbered migrations, applied in order and recorded in `PRAGMA user_version`.

/// Each entry moves the schema from version `i` to `i + 1`; never edit one that has shipped.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: connections, twins, id mappings, the event queue.
    r#"
    CREATE TABLE connections (
        name        TEXT PRIMARY KEY,
        state       TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'deleted')),
        updated_at  INTEGER NOT NULL
    );

    -- One row per side of a twin: a local connection has two, a remote one has one per node.
    CREATE TABLE twins (
        connection      TEXT NOT NULL,
        side            TEXT NOT NULL,
        local_key       TEXT NOT NULL,
        remote_key      TEXT,
        sent_hash       TEXT,
        sent_replica    TEXT,
        applied_hash    TEXT,
        applied_replica TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        PRIMARY KEY (connection, side, local_key)
    );
    CREATE UNIQUE INDEX twins_by_remote ON twins (connection, side, remote_key)
        WHERE remote_key IS NOT NULL;

    -- A twin being created: written before the Jira call, so a crash can find what it made.
    CREATE TABLE creations (
        connection  TEXT NOT NULL,
        side        TEXT NOT NULL,
        remote_key  TEXT NOT NULL,
        started_at  INTEGER NOT NULL,
        PRIMARY KEY (connection, side, remote_key)
    );

    -- origin 'remote': we created the local item as a copy; 'local': ours, the other side holds the copy.
    CREATE TABLE item_map (
        connection  TEXT NOT NULL,
        side        TEXT NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('comment', 'attachment')),
        local_key   TEXT NOT NULL,
        remote_id   TEXT NOT NULL,
        local_id    TEXT NOT NULL,
        origin      TEXT NOT NULL CHECK (origin IN ('local', 'remote')),
        content_hash TEXT,
        PRIMARY KEY (connection, side, kind, local_key, remote_id)
    );
    CREATE INDEX item_map_by_local ON item_map (connection, side, kind, local_key, local_id);

    CREATE TABLE events (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        connection  TEXT NOT NULL,
        side        TEXT NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('outgoing', 'incoming')),
        queue_key   TEXT NOT NULL,
        cause       TEXT NOT NULL,
        payload     TEXT,
        state       TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'running', 'failed', 'done', 'skipped')),
        attempts    INTEGER NOT NULL DEFAULT 0,
        not_before  INTEGER NOT NULL DEFAULT 0,
        last_error  TEXT,
        rule_version TEXT,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    CREATE INDEX events_open ON events (state, not_before, id);
    CREATE INDEX events_by_issue ON events (connection, side, queue_key, id);
    "#,
    // 2: detection watermarks and bulk runs.
    r#"
    CREATE TABLE watermarks (
        connection  TEXT NOT NULL,
        side        TEXT NOT NULL,
        source      TEXT NOT NULL,
        value       TEXT NOT NULL,
        PRIMARY KEY (connection, side, source)
    );

    CREATE TABLE bulk_runs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        connection  TEXT NOT NULL,
        side        TEXT NOT NULL,
        jql         TEXT NOT NULL,
        cursor      TEXT,
        queued      INTEGER NOT NULL DEFAULT 0,
        total       INTEGER,
        state       TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done')),
        started_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    "#,
    // 3: what each side has seen of the other, to detect concurrent edits.
    r#"
    ALTER TABLE twins ADD COLUMN sent_seq INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE twins ADD COLUMN sent_updated TEXT;
    ALTER TABLE twins ADD COLUMN applied_seq INTEGER NOT NULL DEFAULT 0;
    "#,
    // 4: the next pending event in id order without sorting the whole backlog.
    r#"
    CREATE INDEX events_pending ON events (state, id);
    "#,
    // 5: peer nodes of remote connections, invitations, seen nonces, the outbox and what was
    // offered to each peer.
    r#"
    CREATE TABLE peers (
        connection       TEXT PRIMARY KEY,
        url              TEXT NOT NULL,
        public_key       TEXT NOT NULL,
        cert_fingerprint TEXT NOT NULL,
        state            TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'deleted')),
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL
    );
    CREATE INDEX peers_by_key ON peers (public_key);

    -- Only a hash of the one-time secret is kept: the store never holds a usable code.
    CREATE TABLE invitations (
        secret_hash TEXT PRIMARY KEY,
        connection  TEXT NOT NULL,
        expires_at  INTEGER NOT NULL,
        used_at     INTEGER,
        created_at  INTEGER NOT NULL
    );

    CREATE TABLE peer_nonces (
        public_key TEXT NOT NULL,
        nonce      TEXT NOT NULL,
        seen_at    INTEGER NOT NULL,
        PRIMARY KEY (public_key, nonce)
    );
    CREATE INDEX peer_nonces_by_age ON peer_nonces (seen_at);

    CREATE TABLE peer_outbox (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        connection  TEXT NOT NULL,
        path        TEXT NOT NULL,
        body        TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        not_before  INTEGER NOT NULL DEFAULT 0,
        last_error  TEXT,
        created_at  INTEGER NOT NULL
    );
    CREATE INDEX peer_outbox_by_connection ON peer_outbox (connection, id);

    CREATE TABLE peer_offered (
        connection    TEXT NOT NULL,
        attachment_id TEXT NOT NULL,
        size          INTEGER NOT NULL,
        offered_at    INTEGER NOT NULL,
        PRIMARY KEY (connection, attachment_id)
    );
    "#,
    // 6: the last send that changed fields (not only comments or attachments), to tell a
    // concurrent field edit from a concurrent comment.
    r#"
    ALTER TABLE twins ADD COLUMN sent_fields_seq INTEGER NOT NULL DEFAULT 0;
    "#,
    // 7: what the admin page asks every two seconds: a connection's last finished event,
    // and a side's twins most recently synced first, without scanning the tables.
    r#"
    CREATE INDEX events_by_state_time ON events (connection, state, updated_at);
    CREATE INDEX twins_by_time ON twins (connection, side, updated_at);
    "#,
    // 8: the local issue's `updated` when the node last looked at it and had nothing to send
    // (or had just written it itself), so the poller can pass over issues it already knows.
    r#"
    ALTER TABLE twins ADD COLUMN seen_updated TEXT;
    "#,
    // 9: what this side sent to a peer (the issue itself, its comments and attachments), so
    // an ack is accepted only for an issue and items this side really sent. Filled from the
    // last replica each twin sent, so acks already on their way still land.
    r#"
    CREATE TABLE peer_sent (
        connection TEXT NOT NULL,
        side       TEXT NOT NULL,
        local_key  TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('issue', 'comment', 'attachment')),
        item_id    TEXT NOT NULL,
        PRIMARY KEY (connection, side, local_key, kind, item_id)
    );
    INSERT OR IGNORE INTO peer_sent (connection, side, local_key, kind, item_id)
        SELECT connection, side, local_key, 'issue', '' FROM twins WHERE sent_seq > 0;
    INSERT OR IGNORE INTO peer_sent (connection, side, local_key, kind, item_id)
        SELECT t.connection, t.side, t.local_key, 'comment', json_extract(c.value, '$.id')
        FROM twins t, json_each(CASE WHEN json_valid(t.sent_replica) THEN t.sent_replica ELSE '{}' END, '$.replica.comments') c
        WHERE json_extract(c.value, '$.id') IS NOT NULL;
    INSERT OR IGNORE INTO peer_sent (connection, side, local_key, kind, item_id)
        SELECT t.connection, t.side, t.local_key, 'attachment', json_extract(a.value, '$.id')
        FROM twins t, json_each(CASE WHEN json_valid(t.sent_replica) THEN t.sent_replica ELSE '{}' END, '$.replica.attachments') a
        WHERE json_extract(a.value, '$.id') IS NOT NULL;
    "#,
    // 10: per-field versions (the registers of each twin side, JSON), and tombstones: a
    // deleted item's mapping stays, marked, so an older state crossing the deletion cannot
    // bring the item back.
    r#"
    ALTER TABLE twins ADD COLUMN registers TEXT;
    ALTER TABLE item_map ADD COLUMN deleted_at INTEGER;
    "#,
    // 11: the node's configuration as data: Jira instances and connections (their sides,
    // rules and settings) as JSON bodies, whether the TOML or the admin page made them, and
    // the triggers, each with its id.
    r#"
    CREATE TABLE setup (
        kind        TEXT NOT NULL CHECK (kind IN ('instance', 'connection')),
        name        TEXT NOT NULL,
        body        TEXT NOT NULL,
        origin      TEXT NOT NULL CHECK (origin IN ('config', 'page')),
        config_hash TEXT,
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (kind, name)
    );
    CREATE TABLE triggers (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        connection  TEXT NOT NULL,
        side        TEXT NOT NULL,
        jql         TEXT NOT NULL,
        note        TEXT NOT NULL DEFAULT '',
        active      INTEGER NOT NULL DEFAULT 1,
        origin      TEXT NOT NULL CHECK (origin IN ('config', 'page')),
        config_hash TEXT,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    CREATE INDEX triggers_by_side ON triggers (connection, side);
    "#,
    // 12: each side's rule versions as an admin published them, for history and rollback
    // (`IF NOT EXISTS`: the upgrade tests rewind `user_version` and run later migrations again).
    r#"
    CREATE TABLE IF NOT EXISTS rule_versions (
        connection   TEXT NOT NULL,
        side         TEXT NOT NULL,
        version      INTEGER NOT NULL,
        sha256       TEXT NOT NULL,
        size         INTEGER NOT NULL,
        note         TEXT NOT NULL DEFAULT '',
        file         TEXT NOT NULL,
        uploaded_at  INTEGER NOT NULL,
        published_at INTEGER,
        PRIMARY KEY (connection, side, version)
    );
    "#,
    // 13: a Visual-mode connection's mapping as the admin page edits it: the draft being
    // edited and the document last published (whose compiled keys are the sides' config).
    r#"
    CREATE TABLE visual_mappings (
        connection  TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('draft', 'published')),
        document    TEXT NOT NULL,
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (connection, state)
    );
    "#,
    // 14: twins linked by `twinsync connect` (two issues that existed before): until their
    // first sync each side's fields get versions from its own issue, so the newer edit wins.
    r#"
    ALTER TABLE twins ADD COLUMN connected_at INTEGER;
    "#,
    // 15: worklogs are mapped items like comments and attachments (item_map), and a peer's
    // ack of one is checked against what this side sent (peer_sent). SQLite cannot widen a
    // CHECK in place, so both tables are rebuilt with their rows.
    r#"
    CREATE TABLE item_map_14 (
        connection  TEXT NOT NULL,
        side        TEXT NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('comment', 'attachment', 'worklog')),
        local_key   TEXT NOT NULL,
        remote_id   TEXT NOT NULL,
        local_id    TEXT NOT NULL,
        origin      TEXT NOT NULL CHECK (origin IN ('local', 'remote')),
        content_hash TEXT,
        deleted_at  INTEGER,
        PRIMARY KEY (connection, side, kind, local_key, remote_id)
    );
    INSERT INTO item_map_14 (connection, side, kind, local_key, remote_id, local_id, origin, content_hash, deleted_at)
        SELECT connection, side, kind, local_key, remote_id, local_id, origin, content_hash, deleted_at FROM item_map;
    DROP TABLE item_map;
    ALTER TABLE item_map_14 RENAME TO item_map;
    CREATE INDEX item_map_by_local ON item_map (connection, side, kind, local_key, local_id);
    CREATE TABLE peer_sent_14 (
        connection TEXT NOT NULL,
        side       TEXT NOT NULL,
        local_key  TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('issue', 'comment', 'attachment', 'worklog')),
        item_id    TEXT NOT NULL,
        PRIMARY KEY (connection, side, local_key, kind, item_id)
    );
    INSERT INTO peer_sent_14 (connection, side, local_key, kind, item_id)
        SELECT connection, side, local_key, kind, item_id FROM peer_sent;
    DROP TABLE peer_sent;
    ALTER TABLE peer_sent_14 RENAME TO peer_sent;
    -- A twin that ended because one half was deleted: the other half is unlinked (or gone),
    -- and a trigger must not put it under sync again as if it were new.
    CREATE TABLE twin_ends (
        connection TEXT NOT NULL,
        side       TEXT NOT NULL,
        local_key  TEXT NOT NULL,
        remote_key TEXT NOT NULL,
        how        TEXT NOT NULL CHECK (how IN ('deleted', 'unlinked')),
        ended_at   INTEGER NOT NULL,
        PRIMARY KEY (connection, side, local_key)
    );
    "#,
];
