//! How a connection reaches its other side. A local connection hands replicas, twin keys and
//! copied item ids over in process (see `Pipeline::deliver` and `link`); a remote one queues
//! them for the peer node as replicas and acks, and fetches attachment bytes from the peer.
//! Remote acks are queued before this side records its own row: a crash in between re-does
//! the step (adopting what it made) and sends the same ack again, which is harmless. A peer's
//! ack is applied only for what this side sent it (`apply_ack`): acks name local issues, so a
//! peer trusted with any could otherwise take over issues it was never shown.

use super::envelope::Envelope;
use super::pipeline::{EventError, Pipeline};
use super::side::{Side, Spooled};
use crate::peer::link::PeerLinks;
use crate::peer::protocol::{AckMessage, ItemAck, valid_item_id};
use crate::store::{ItemKind, ItemMapping, Origin, SentKind, StoreError};

impl Pipeline {
    /// The peer links, if `connection` is remote.
    pub(super) fn peer_links(&self, connection: &str) -> Option<&PeerLinks> {
        self.peers.as_deref().filter(|p| p.is_remote(connection))
    }

    pub(super) fn deliver_to_peer(
        &self,
        peers: &PeerLinks,
        side: &Side,
        envelope: &Envelope,
    ) -> Result<(), EventError> {
        let offered: Vec<(String, u64)> = envelope
            .replica
            .attachments
            .iter()
            .map(|a| (a.id.clone(), a.size))
            .collect();
        let value = serde_json::to_value(envelope)
            .map_err(EventError::json("cannot encode the replica"))?;
        // Recorded before queued: the peer's ack for this issue and its items is checked
        // against it, and an ack can only come back after the replica left.
        let sent: Vec<(SentKind, &str)> = envelope
            .replica
            .comments
            .iter()
            .map(|c| (SentKind::Comment, c.id.as_str()))
            .chain(
                envelope
                    .replica
                    .attachments
                    .iter()
                    .map(|a| (SentKind::Attachment, a.id.as_str())),
            )
            .chain(
                envelope
                    .replica
                    .worklogs
                    .iter()
                    .map(|w| (SentKind::Worklog, w.id.as_str())),
            )
            .collect();
        self.store
            .record_peer_sent(&side.connection, &side.name, &envelope.origin_key, &sent)?;
        peers.queue_replica(&side.connection, value, &offered)?;
        crate::failpoint!("peer-replica-queued");
        Ok(())
    }

    /// This side made the twin of the peer's `origin_key`: the peer learns its key by ack,
    /// and which key it replaces when this side made the twin again.
    pub(super) fn link_with_peer(
        &self,
        peers: &PeerLinks,
        side: &Side,
        local_key: &str,
        origin_key: &str,
    ) -> Result<(), EventError> {
        let replaces = self
            .store
            .twin_by_remote(&side.connection, &side.name, origin_key)?
            .map(|t| t.local_key)
            .filter(|k| k != local_key);
        peers.queue_ack(&AckMessage {
            connection: side.connection.clone(),
            origin_key: origin_key.to_string(),
            twin_key: Some(local_key.to_string()),
            items: Vec::new(),
            replaces,
        })?;
        self.store
            .link_twin(&side.connection, &side.name, local_key, origin_key)?;
        Ok(())
    }

    /// This side copied one of the peer's items: the peer learns the copy's id by ack.
    pub(super) fn record_copy_with_peer(
        &self,
        peers: &PeerLinks,
        side: &Side,
        envelope: &Envelope,
        kind: ItemKind,
        key: &str,
        own: ItemMapping,
    ) -> Result<(), EventError> {
        peers.queue_ack(&AckMessage {
            connection: side.connection.clone(),
            origin_key: envelope.origin_key.clone(),
            twin_key: Some(key.to_string()),
            items: vec![ItemAck {
                kind: kind.as_str().to_string(),
                origin_id: own.remote_id.clone(),
                copy_id: own.local_id.clone(),
                removed: false,
            }],
            replaces: None,
        })?;
        self.store
            .put_item_mapping(&side.connection, &side.name, kind, key, &own)?;
        Ok(())
    }

    /// This side removed its copy of a peer's item (its own mapping is already gone).
    pub(super) fn forget_copy_with_peer(
        &self,
        peers: &PeerLinks,
        side: &Side,
        envelope: &Envelope,
        kind: ItemKind,
        origin_id: &str,
        copy_id: &str,
    ) -> Result<(), EventError> {
        peers.queue_ack(&AckMessage {
            connection: side.connection.clone(),
            origin_key: envelope.origin_key.clone(),
            twin_key: None,
            items: vec![ItemAck {
                kind: kind.as_str().to_string(),
                origin_id: origin_id.to_string(),
                copy_id: copy_id.to_string(),
                removed: true,
            }],
            replaces: None,
        })?;
        Ok(())
    }

    /// The bytes of an attachment the other side listed: from its Jira on this node, or
    /// streamed from the peer node.
    pub(super) async fn fetch_attachment(
        &self,
        side: &Side,
        remote_id: &str,
    ) -> Result<Spooled, EventError> {
        if let Some(peers) = self.peer_links(&side.connection) {
            // The id came from the peer's replica: it must not reach a path or a URL unchecked.
            if !valid_item_id(remote_id) {
                return Err(EventError::Permanent(format!(
                    "the peer's replica lists attachment id {remote_id:?}, which is not a plain \
                     id (letters, digits, - and _ only); it is not fetched"
                )));
            }
            let path = peers.spool_path(remote_id);
            // Removed on drop, whether the upload succeeds or not.
            let mut spooled = Spooled {
                path,
                mime_type: String::new(),
            };
            spooled.mime_type = peers
                .fetch_attachment(&side.connection, remote_id, &spooled.path)
                .await?;
            return Ok(spooled);
        }
        let other = self.side(&side.connection, &side.other).ok_or_else(|| {
            EventError::Permanent(format!(
                "connection {:?} has no side {:?}",
                side.connection, side.other
            ))
        })?;
        Ok(other.jira.download_attachment(remote_id).await?)
    }
}

/// Why a peer's ack was not applied.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AckError {
    /// The ack names an issue, twin or item this side never sent: nothing of it is applied.
    #[error("ack refused: {0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an accepted item ack does to this side's mappings.
enum ItemStep {
    Put(ItemKind, ItemMapping),
    Forget(ItemKind, String),
}

/// Applies a peer's ack to this side's rows: the twin's key on the peer, and the ids of the
/// copies it made of (or removed for) this side's items. Only an ack for an issue this side
/// sent (so one of its project), whose twin is unlinked or linked to the same key (or names
/// that key as the one it replaces), and only for items this side sent, is applied;
/// otherwise nothing of it is.
pub(crate) fn apply_ack(
    store: &crate::store::Store,
    side: &Side,
    ack: &AckMessage,
) -> Result<(), AckError> {
    let refused = |m: String| Err(AckError::Refused(m));
    let (conn, name, key) = (&side.connection, &side.name, &ack.origin_key);
    // What this side sent was read through `JiraSide`, inside the side's project; a key's
    // prefix alone would refuse a renamed project's old keys.
    let twin = store.twin_by_local(conn, name, key)?;
    let sent = store.was_sent_to_peer(conn, name, key, SentKind::Issue, "")?;
    let Some(twin) = twin.filter(|_| sent) else {
        return refused(format!("this side never sent {key} to the peer"));
    };
    let mut link = None;
    if let Some(twin_key) = &ack.twin_key {
        if !valid_item_id(twin_key) {
            return refused(format!("{twin_key:?} is not an issue key"));
        }
        match &twin.remote_key {
            Some(known) if known == twin_key => {}
            // The peer made the twin again (its issue was deleted) and names the old key: it
            // moves a twin this side already shares with it, nothing more.
            Some(known) if ack.replaces.as_deref() == Some(known.as_str()) => {
                if let Some(other) = store.twin_by_remote(conn, name, twin_key)? {
                    return refused(format!(
                        "{twin_key} is already the twin of {}",
                        other.local_key
                    ));
                }
                link = Some(twin_key);
            }
            Some(known) => {
                return refused(format!(
                    "{key} is already the twin of {known}, not of {twin_key}"
                ));
            }
            None => {
                if let Some(other) = store.twin_by_remote(conn, name, twin_key)? {
                    return refused(format!(
                        "{twin_key} is already the twin of {}",
                        other.local_key
                    ));
                }
                link = Some(twin_key);
            }
        }
    }
    // Every item is checked before anything is written: a refused ack changes nothing.
    let mut steps = Vec::with_capacity(ack.items.len());
    for item in &ack.items {
        steps.push(check_item(store, side, key, item)?);
    }
    if let Some(twin_key) = link {
        store.link_twin(conn, name, key, twin_key)?;
    }
    for step in steps.into_iter().flatten() {
        match step {
            ItemStep::Forget(kind, copy_id) => {
                store.delete_item_mapping(conn, name, kind, key, &copy_id)?
            }
            ItemStep::Put(kind, mapping) => {
                store.put_item_mapping(conn, name, kind, key, &mapping)?
            }
        }
    }
    Ok(())
}

/// Checks one item ack against what this side sent; `None` when it has nothing left to do
/// (a removal acked again).
fn check_item(
    store: &crate::store::Store,
    side: &Side,
    key: &str,
    item: &ItemAck,
) -> Result<Option<ItemStep>, AckError> {
    let (kind, sent_kind) = match item.kind.as_str() {
        "comment" => (ItemKind::Comment, SentKind::Comment),
        "attachment" => (ItemKind::Attachment, SentKind::Attachment),
        "worklog" => (ItemKind::Worklog, SentKind::Worklog),
        other => return Err(AckError::Refused(format!("unknown item kind {other:?}"))),
    };
    let (origin_id, copy_id) = (&item.origin_id, &item.copy_id);
    if !valid_item_id(origin_id) || !valid_item_id(copy_id) {
        return Err(AckError::Refused(format!(
            "{} ids {origin_id:?} / {copy_id:?} are not plain ids",
            item.kind
        )));
    }
    if !store.was_sent_to_peer(&side.connection, &side.name, key, sent_kind, origin_id)? {
        return Err(AckError::Refused(format!(
            "this side never sent {} {origin_id} of {key} to the peer",
            item.kind
        )));
    }
    let known = store
        .item_mappings(&side.connection, &side.name, kind, key)?
        .into_iter()
        .find(|m| &m.remote_id == copy_id);
    if let Some(m) = &known
        && (&m.local_id != origin_id || m.origin != Origin::Local)
    {
        return Err(AckError::Refused(format!(
            "the peer's {} {copy_id} is already paired with {} here",
            item.kind, m.local_id
        )));
    }
    Ok(if item.removed {
        known.map(|_| ItemStep::Forget(kind, copy_id.clone()))
    } else {
        Some(ItemStep::Put(
            kind,
            ItemMapping {
                remote_id: copy_id.clone(),
                local_id: origin_id.clone(),
                origin: Origin::Local,
                content_hash: None,
            },
        ))
    })
}
