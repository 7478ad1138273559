//! Pairing two nodes for a remote connection: the inviter makes a one-time code; the acceptor
//! sends its own key, URL and certificate fingerprint to the inviter over TLS pinned by the
//! code, signed with its key; both then record the other as the connection's peer.

use std::time::Duration;

use super::PeerError;
use super::identity::Identity;
use super::invite::Invitation;
use super::protocol::{ACCEPT_PATH, Acceptance, PeerClient};
use crate::config::NodeConfig;
use crate::store::{Peer, Store, now_ms};

/// The node's identity, made on first use, from the config's data directory.
pub(crate) fn identity(config: &NodeConfig) -> Result<Identity, PeerError> {
    let data_dir = config.resolve_path(&config.node.data_dir);
    Identity::load_or_create(&Identity::dir_in(&data_dir))
}

/// The node's store, creating its data directory: pairing may come before the first start.
pub fn open_store(config: &NodeConfig) -> Result<Store, PeerError> {
    let data_dir = config.resolve_path(&config.node.data_dir);
    crate::private_fs::create_dir(&data_dir)
        .map_err(|e| PeerError::Other(format!("cannot create {}: {e}", data_dir.display())))?;
    Ok(Store::open(&data_dir.join("twinsync.db"))?)
}

fn remote_connection(config: &NodeConfig, connection: &str) -> Result<(), PeerError> {
    match config.connection(connection) {
        Some(c) if c.is_remote() => Ok(()),
        Some(_) => Err(PeerError::Other(format!(
            "connection {connection:?} is local (two sides on this node); only a remote connection (one side and `peer = \"<side>\"`) has a peer"
        ))),
        None => Err(PeerError::Other(format!(
            "there is no connection named {connection:?} in the config; add it with one [[connection.side]] and `peer = \"<the other node's side>\"`"
        ))),
    }
}

fn own_url(config: &NodeConfig) -> Result<String, PeerError> {
    config.peer_url().ok_or_else(|| {
        PeerError::Other(
            "node.peer_listen (or node.peer_url) must be set to pair with a peer".into(),
        )
    })
}

/// Makes a one-time invitation for `connection`, valid for `valid_for`; returns the code.
pub fn invite(
    config: &NodeConfig,
    store: &Store,
    connection: &str,
    valid_for: Duration,
) -> Result<String, PeerError> {
    remote_connection(config, connection)?;
    let url = own_url(config)?;
    let identity = identity(config)?;
    let expires_at = now_ms().saturating_add(valid_for.as_millis().min(i64::MAX as u128) as i64);
    let mut invitation = Invitation::new(&identity, &url, connection, expires_at)?;
    // A connection made in the page learns the acceptor's side from the acceptance.
    invitation.side = config
        .connection(connection)
        .filter(|c| c.awaiting_peer)
        .and_then(|c| c.sides.first())
        .map(|s| s.name.clone());
    store.add_invitation(&invitation.secret_hash(), connection, expires_at)?;
    tracing::info!(connection, expires_at, "invitation made");
    Ok(invitation.encode(&identity))
}

/// Accepts a code from the inviting node: refuses an expired or tampered one here, and the
/// inviter refuses a reused one. Records the inviter as the connection's peer.
pub async fn accept(config: &NodeConfig, store: &Store, code: &str) -> Result<Peer, PeerError> {
    let invitation = Invitation::decode(code)?;
    invitation.check_fresh(now_ms())?;
    remote_connection(config, &invitation.connection)?;
    accept_invitation(config, store, &invitation, None).await
}

/// Sends the acceptance of a decoded, fresh `invitation`, naming this node's `side` when the
/// inviter waits to learn it, and records the inviter as the connection's peer.
pub async fn accept_invitation(
    config: &NodeConfig,
    store: &Store,
    invitation: &Invitation,
    side: Option<&str>,
) -> Result<Peer, PeerError> {
    let identity = identity(config)?;
    let acceptance = Acceptance {
        connection: invitation.connection.clone(),
        secret: invitation.secret.clone(),
        url: own_url(config)?,
        public_key: identity.public_key().to_string(),
        cert_fingerprint: identity.cert_fingerprint(),
        side: side.map(str::to_string),
    };
    let client = PeerClient::new(
        &invitation.url,
        &invitation.cert_fingerprint,
        &invitation.public_key,
        Duration::from_secs(30),
    )?;
    let resp = client
        .post_json(&identity, ACCEPT_PATH, &acceptance)
        .await?;
    let status = resp.status();
    if !status.is_success() {
        let text = resp.text().await.unwrap_or_default();
        let reason = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or(text);
        return Err(PeerError::Transport {
            url: invitation.url.clone(),
            message: format!("the inviting node refused ({status}): {reason}"),
        });
    }
    let peer = Peer {
        connection: invitation.connection.clone(),
        url: invitation.url.clone(),
        public_key: invitation.public_key.clone(),
        cert_fingerprint: invitation.cert_fingerprint.clone(),
        state: "active".into(),
    };
    store.put_peer(&peer)?;
    tracing::info!(connection = %peer.connection, peer = %peer.url, "invitation accepted");
    Ok(peer)
}
