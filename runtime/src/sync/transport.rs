//! How a connection reaches its other side. A local connection hands replicas, twin keys and
//! copied item ids over in process (see `Pipeline::deliver` and `link`); a remote one queues
//! them for the peer node as replicas and acks, and fetches attachment bytes from the peer.
//! Remote acks are queued before this side records its own row: a crash in between re-does
//! the step (adopting what it made) and sends the same ack again, which is harmless.

use super::envelope::Envelope;
use super::pipeline::{EventError, Pipeline};
use super::side::{Side, Spooled};
use crate::peer::link::{FetchError, PeerLinks};
use crate::peer::protocol::{AckMessage, ItemAck};
use crate::store::{ItemKind, ItemMapping};

impl From<crate::peer::PeerError> for EventError {
    fn from(e: crate::peer::PeerError) -> Self {
        match e {
            crate::peer::PeerError::Store(s) => EventError::Store(s),
            other => EventError::Transient(other.to_string()),
        }
    }
}

impl From<FetchError> for EventError {
    fn from(e: FetchError) -> Self {
        match e {
            FetchError::Transient(m) => EventError::Transient(m),
            FetchError::Refused(m) => EventError::Permanent(m),
        }
    }
}

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
            .map_err(|e| EventError::Permanent(format!("cannot encode the replica: {e}")))?;
        peers.queue_replica(&side.connection, value, &offered)?;
        Ok(())
    }

    /// This side made the twin of the peer's `origin_key`: the peer learns its key by ack.
    pub(super) fn link_with_peer(
        &self,
        peers: &PeerLinks,
        side: &Side,
        local_key: &str,
        origin_key: &str,
    ) -> Result<(), EventError> {
        peers.queue_ack(&AckMessage {
            connection: side.connection.clone(),
            origin_key: origin_key.to_string(),
            twin_key: Some(local_key.to_string()),
            items: Vec::new(),
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
                kind: kind_name(kind).to_string(),
                origin_id: own.remote_id.clone(),
                copy_id: own.local_id.clone(),
                removed: false,
            }],
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
                kind: kind_name(kind).to_string(),
                origin_id: origin_id.to_string(),
                copy_id: copy_id.to_string(),
                removed: true,
            }],
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

/// Applies a peer's ack to this side's rows: the twin's key on the peer, and the ids of the
/// copies it made of (or removed for) this side's items.
pub fn apply_ack(
    store: &crate::store::Store,
    side: &Side,
    ack: &AckMessage,
) -> Result<(), crate::store::StoreError> {
    if let Some(twin_key) = &ack.twin_key {
        store.link_twin(&side.connection, &side.name, &ack.origin_key, twin_key)?;
    }
    for item in &ack.items {
        let kind = match item.kind.as_str() {
            "comment" => ItemKind::Comment,
            "attachment" => ItemKind::Attachment,
            _ => continue,
        };
        if item.removed {
            store.delete_item_mapping(
                &side.connection,
                &side.name,
                kind,
                &ack.origin_key,
                &item.copy_id,
            )?;
        } else {
            store.put_item_mapping(
                &side.connection,
                &side.name,
                kind,
                &ack.origin_key,
                &ItemMapping {
                    remote_id: item.copy_id.clone(),
                    local_id: item.origin_id.clone(),
                    origin: crate::store::Origin::Local,
                    content_hash: None,
                },
            )?;
        }
    }
    Ok(())
}

fn kind_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Comment => "comment",
        ItemKind::Attachment => "attachment",
    }
}
