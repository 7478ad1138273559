//! Peer nodes of remote connections: who the peer is (URL, key, pinned certificate), one-time
//! invitations, the nonces already seen (replay refusal), the outbox of deliveries waiting for
//! a peer, the attachment ids offered to each peer, and what this side sent to it (so acks
//! can be checked against it).

use rusqlite::{OptionalExtension, params};

use super::text_enum::text_enum;
use super::{Result, Store, now_ms};

/// The peer node of one remote connection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Peer {
    pub connection: String,
    /// Base URL of the peer's HTTPS endpoint.
    pub url: String,
    /// The peer's Ed25519 public key, hex.
    pub public_key: String,
    /// SHA-256 of the peer's TLS certificate (DER), hex: the only certificate accepted.
    pub(crate) cert_fingerprint: String,
    /// `active`, or `deleted` when either side deleted the connection.
    pub state: String,
}

/// What redeeming an invitation's secret found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Redeemed {
    /// The secret was valid and is now spent; the invitation was for this connection.
    Ok {
        connection: String,
    },
    Unknown,
    AlreadyUsed,
    Expired,
}

/// A delivery waiting for its peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutboxItem {
    pub(crate) id: i64,
    pub(crate) connection: String,
    pub(crate) path: String,
    pub(crate) body: String,
    pub(crate) attempts: i64,
}

impl Store {
    /// Records (or replaces) the peer of a connection.
    pub(crate) fn put_peer(&self, peer: &Peer) -> Result<()> {
        let now = now_ms();
        self.conn().execute(
            "INSERT INTO peers (connection, url, public_key, cert_fingerprint, state, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) \
             ON CONFLICT (connection) DO UPDATE SET url = ?2, public_key = ?3, cert_fingerprint = ?4, \
             state = ?5, updated_at = ?6",
            params![
                peer.connection,
                peer.url,
                peer.public_key,
                peer.cert_fingerprint,
                peer.state,
                now
            ],
        )?;
        Ok(())
    }

    /// The peer node paired with a remote connection, if paired.
    pub fn peer(&self, connection: &str) -> Result<Option<Peer>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT connection, url, public_key, cert_fingerprint, state FROM peers WHERE connection = ?1",
                [connection],
                peer_row,
            )
            .optional()?)
    }

    /// The connections whose peer signs with this key.
    pub(crate) fn peers_by_key(&self, public_key: &str) -> Result<Vec<Peer>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT connection, url, public_key, cert_fingerprint, state FROM peers \
             WHERE public_key = ?1 ORDER BY connection",
        )?;
        let rows = stmt.query_map([public_key], peer_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub(crate) fn set_peer_state(&self, connection: &str, state: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE peers SET state = ?2, updated_at = ?3 WHERE connection = ?1",
            params![connection, state, now_ms()],
        )?;
        Ok(())
    }

    /// Records a new invitation by the hash of its secret.
    pub(crate) fn add_invitation(
        &self,
        secret_hash: &str,
        connection: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO invitations (secret_hash, connection, expires_at, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![secret_hash, connection, expires_at, now_ms()],
        )?;
        Ok(())
    }

    /// What redeeming the secret would find now, without spending it: the peer API checks
    /// the secret before a signature may spend a nonce.
    pub(crate) fn peek_invitation(&self, secret_hash: &str, now: i64) -> Result<Redeemed> {
        let row: Option<(String, i64, Option<i64>)> = self
            .conn()
            .query_row(
                "SELECT connection, expires_at, used_at FROM invitations WHERE secret_hash = ?1",
                [secret_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(match row {
            None => Redeemed::Unknown,
            Some((_, _, Some(_))) => Redeemed::AlreadyUsed,
            Some((_, expires, None)) if expires <= now => Redeemed::Expired,
            Some((connection, _, None)) => Redeemed::Ok { connection },
        })
    }

    /// Spends an invitation's secret: it works once, and only before it expires.
    pub(crate) fn redeem_invitation(&self, secret_hash: &str, now: i64) -> Result<Redeemed> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let row: Option<(String, i64, Option<i64>)> = tx
            .query_row(
                "SELECT connection, expires_at, used_at FROM invitations WHERE secret_hash = ?1",
                [secret_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let outcome = match row {
            None => Redeemed::Unknown,
            Some((_, _, Some(_))) => Redeemed::AlreadyUsed,
            Some((_, expires, None)) if expires <= now => Redeemed::Expired,
            Some((connection, _, None)) => {
                tx.execute(
                    "UPDATE invitations SET used_at = ?2 WHERE secret_hash = ?1",
                    params![secret_hash, now],
                )?;
                Redeemed::Ok { connection }
            }
        };
        tx.commit()?;
        Ok(outcome)
    }

    /// Remembers a nonce; false if this key already used it (a replay). Nonces older than
    /// `forget_before` are dropped: timestamps that old are refused before the nonce is looked at.
    pub(crate) fn remember_nonce(
        &self,
        public_key: &str,
        nonce: &str,
        forget_before: i64,
    ) -> Result<bool> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM peer_nonces WHERE seen_at < ?1",
            [forget_before],
        )?;
        let n = conn.execute(
            "INSERT OR IGNORE INTO peer_nonces (public_key, nonce, seen_at) VALUES (?1, ?2, ?3)",
            params![public_key, nonce, now_ms()],
        )?;
        Ok(n == 1)
    }

    /// Queues a delivery for a connection's peer.
    pub fn push_outbox(&self, connection: &str, path: &str, body: &str) -> Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO peer_outbox (connection, path, body, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![connection, path, body, now_ms()],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// The oldest delivery of a connection, if it is due: deliveries go out in order.
    pub(crate) fn next_outbox(&self, connection: &str, now: i64) -> Result<Option<OutboxItem>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, connection, path, body, attempts, not_before FROM peer_outbox \
                 WHERE connection = ?1 ORDER BY id LIMIT 1",
                [connection],
                |r| {
                    Ok((
                        OutboxItem {
                            id: r.get(0)?,
                            connection: r.get(1)?,
                            path: r.get(2)?,
                            body: r.get(3)?,
                            attempts: r.get(4)?,
                        },
                        r.get::<_, i64>(5)?,
                    ))
                },
            )
            .optional()?
            .filter(|(_, not_before)| *not_before <= now)
            .map(|(item, _)| item))
    }

    /// How many messages wait to be sent to the connection's peer.
    pub fn outbox_len(&self, connection: &str) -> Result<i64> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM peer_outbox WHERE connection = ?1",
            [connection],
            |r| r.get(0),
        )?)
    }

    pub(crate) fn outbox_delivered(&self, id: i64) -> Result<()> {
        self.conn()
            .execute("DELETE FROM peer_outbox WHERE id = ?1", [id])?;
        Ok(())
    }

    pub(crate) fn outbox_retry_later(&self, id: i64, delay_ms: i64, error: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE peer_outbox SET attempts = attempts + 1, not_before = ?2, last_error = ?3 WHERE id = ?1",
            params![id, now_ms() + delay_ms, error],
        )?;
        Ok(())
    }

    /// Records that a replica sent to this connection's peer listed an attachment.
    pub(crate) fn offer_attachment(
        &self,
        connection: &str,
        attachment_id: &str,
        size: u64,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO peer_offered (connection, attachment_id, size, offered_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (connection, attachment_id) DO UPDATE SET size = ?3",
            params![connection, attachment_id, size as i64, now_ms()],
        )?;
        Ok(())
    }

    /// The listed size of an attachment offered to this connection's peer, if it was offered.
    pub(crate) fn offered_attachment(
        &self,
        connection: &str,
        attachment_id: &str,
    ) -> Result<Option<u64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT size FROM peer_offered WHERE connection = ?1 AND attachment_id = ?2",
                params![connection, attachment_id],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(|s| s.max(0) as u64))
    }
}

/// What this side sent to a peer, to check an ack against: the issue, or one of its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SentKind {
    Issue,
    Comment,
    Attachment,
    Worklog,
}

text_enum!(SentKind in "peer_sent.kind" {
    Issue => "issue",
    Comment => "comment",
    Attachment => "attachment",
    Worklog => "worklog",
});

impl Store {
    /// Records, in one transaction, that this side sent `local_key` and the listed items.
    pub(crate) fn record_peer_sent(
        &self,
        connection: &str,
        side: &str,
        local_key: &str,
        items: &[(SentKind, &str)],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare(
                "INSERT OR IGNORE INTO peer_sent (connection, side, local_key, kind, item_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            stmt.execute(params![
                connection,
                side,
                local_key,
                SentKind::Issue.as_str(),
                ""
            ])?;
            for (kind, id) in items {
                stmt.execute(params![connection, side, local_key, kind.as_str(), id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Whether this side ever sent `local_key` (`id` empty) or that item of it to the peer.
    pub(crate) fn was_sent_to_peer(
        &self,
        connection: &str,
        side: &str,
        local_key: &str,
        kind: SentKind,
        id: &str,
    ) -> Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM peer_sent WHERE connection = ?1 AND side = ?2 AND local_key = ?3 \
                 AND kind = ?4 AND item_id = ?5",
                params![connection, side, local_key, kind.as_str(), id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}

fn peer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Peer> {
    Ok(Peer {
        connection: r.get(0)?,
        url: r.get(1)?,
        public_key: r.get(2)?,
        cert_fingerprint: r.get(3)?,
        state: r.get(4)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_sent_is_known_and_an_upgrade_fills_it_from_the_last_replica_sent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let s = Store::open(&path).unwrap();
        s.record_peer_sent("c", "a", "SUP-1", &[(SentKind::Comment, "10")])
            .unwrap();
        assert!(
            s.was_sent_to_peer("c", "a", "SUP-1", SentKind::Issue, "")
                .unwrap()
        );
        assert!(
            s.was_sent_to_peer("c", "a", "SUP-1", SentKind::Comment, "10")
                .unwrap()
        );
        assert!(
            !s.was_sent_to_peer("c", "a", "SUP-1", SentKind::Attachment, "10")
                .unwrap()
        );
        assert!(
            !s.was_sent_to_peer("c", "a", "SUP-2", SentKind::Issue, "")
                .unwrap()
        );
        // A store from before migration 9, with twins already sent: the backfill knows them.
        s.ensure_twin("c", "a", "SUP-2").unwrap();
        s.ensure_twin("c", "a", "SUP-3").unwrap();
        let replica = r#"{"replica":{"comments":[{"id":"20"}],"attachments":[{"id":"30"}]}}"#;
        for (key, replica) in [("SUP-2", replica), ("SUP-3", "not json")] {
            let sent = crate::store::SentRecord {
                hash: "h",
                replica,
                left: Some((1, "t", true)),
                registers: None,
            };
            s.record_sent("c", "a", key, &sent).unwrap();
        }
        // Back to version 8: the later migrations run again on open.
        s.conn()
            .execute_batch(
                "DROP TABLE peer_sent; ALTER TABLE twins DROP COLUMN registers; \
                 ALTER TABLE item_map DROP COLUMN deleted_at; DROP TABLE setup; \
                 DROP TABLE triggers; DROP TABLE rule_versions; DROP TABLE visual_mappings; \
                 ALTER TABLE twins DROP COLUMN connected_at; \
                 DROP TABLE twin_ends; \
                 PRAGMA user_version = 8;",
            )
            .unwrap();
        drop(s);
        let s = Store::open(&path).unwrap();
        assert!(
            s.was_sent_to_peer("c", "a", "SUP-2", SentKind::Issue, "")
                .unwrap()
        );
        assert!(
            s.was_sent_to_peer("c", "a", "SUP-2", SentKind::Comment, "20")
                .unwrap()
        );
        assert!(
            s.was_sent_to_peer("c", "a", "SUP-2", SentKind::Attachment, "30")
                .unwrap()
        );
        assert!(
            s.was_sent_to_peer("c", "a", "SUP-3", SentKind::Issue, "")
                .unwrap()
        );
        assert!(
            !s.was_sent_to_peer("c", "a", "SUP-1", SentKind::Issue, "")
                .unwrap()
        );
    }

    #[test]
    fn an_invitation_works_once_and_not_after_expiry() {
        let s = Store::in_memory().unwrap();
        s.add_invitation("h1", "acme-globex", 1_000).unwrap();
        s.add_invitation("h2", "acme-globex", 1_000).unwrap();
        assert_eq!(s.redeem_invitation("nope", 10).unwrap(), Redeemed::Unknown);
        assert_eq!(
            s.redeem_invitation("h1", 10).unwrap(),
            Redeemed::Ok {
                connection: "acme-globex".into()
            }
        );
        assert_eq!(
            s.redeem_invitation("h1", 10).unwrap(),
            Redeemed::AlreadyUsed
        );
        assert_eq!(s.redeem_invitation("h2", 1_000).unwrap(), Redeemed::Expired);
    }

    #[test]
    fn a_nonce_is_accepted_once_per_key() {
        let s = Store::in_memory().unwrap();
        assert!(s.remember_nonce("k1", "n1", 0).unwrap());
        assert!(!s.remember_nonce("k1", "n1", 0).unwrap());
        assert!(s.remember_nonce("k2", "n1", 0).unwrap());
    }

    #[test]
    fn the_outbox_hands_out_the_oldest_due_item_first() {
        let s = Store::in_memory().unwrap();
        let a = s.push_outbox("c", "/peer/v1/replica", "1").unwrap();
        s.push_outbox("c", "/peer/v1/replica", "2").unwrap();
        assert_eq!(s.next_outbox("c", now_ms()).unwrap().unwrap().id, a);
        s.outbox_retry_later(a, 60_000, "down").unwrap();
        // The head is not due: nothing behind it jumps the queue.
        assert!(s.next_outbox("c", now_ms()).unwrap().is_none());
        s.outbox_delivered(a).unwrap();
        assert_eq!(s.next_outbox("c", now_ms()).unwrap().unwrap().body, "2");
        assert_eq!(s.outbox_len("c").unwrap(), 1);
    }
}
