//! The outgoing half of the peer transport: deliveries (replicas, acks) go into a durable
//! outbox first and a sender per remote connection drains it in order, retrying with backoff
//! while the peer is down; attachment bytes are fetched from the peer on demand, capped.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

use super::PeerError;
use super::identity::Identity;
use super::protocol::{
    ACK_PATH, ATTACHMENT_PATH, AckMessage, PeerClient, REPLICA_PATH, ReplicaMessage, valid_item_id,
};
use crate::stop::Stop;
use crate::store::{Peer, Store, now_ms};
use crate::text::percent_encode;

/// Timeout of one peer request (attachments included).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A response header as text, or `or` when it is missing or not text.
fn header(resp: &reqwest::Response, name: &str, or: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(or)
        .to_string()
}

/// Backoff while a peer is down: 250 ms, 500 ms ... capped at 30 s.
fn backoff_ms(attempts: i64) -> i64 {
    (250_i64 << attempts.clamp(0, 7)).min(30_000)
}

/// This node's links to its peers, one per remote connection.
pub(crate) struct PeerLinks {
    pub(crate) identity: Arc<Identity>,
    store: Arc<Store>,
    /// The paired remote connections; the node's setup changes it while running.
    remote: std::sync::RwLock<BTreeSet<String>>,
    /// Wakes the sender supervisor when `remote` changes.
    remote_changed: Notify,
    max_attachment_bytes: u64,
    /// Where fetched attachment bytes are spooled (private to the node).
    spool: PathBuf,
    /// Wakes the senders when something is queued.
    pub(crate) wake: Notify,
    /// One HTTPS client per connection, kept while its peer's URL and certificate stay the
    /// same, so deliveries reuse their TLS connection.
    clients: Mutex<HashMap<String, (Peer, Arc<PeerClient>)>>,
}

impl std::fmt::Debug for PeerLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerLinks")
            .field("identity", &self.identity)
            .field("remote", &self.remote)
            .finish()
    }
}

/// A delivery refused or not possible, for the caller to classify.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    /// The peer is unreachable or failed: try again later.
    #[error("{0}")]
    Transient(String),
    /// The peer refused, or the attachment is over the cap: an admin must look.
    #[error("{0}")]
    Refused(String),
}

impl PeerLinks {
    pub(crate) fn new(
        identity: Arc<Identity>,
        store: Arc<Store>,
        remote: BTreeSet<String>,
        max_attachment_bytes: u64,
        spool: PathBuf,
    ) -> Self {
        PeerLinks {
            identity,
            store,
            remote: std::sync::RwLock::new(remote),
            remote_changed: Notify::new(),
            max_attachment_bytes,
            spool,
            wake: Notify::new(),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `connection` reaches its other side through a peer node.
    pub(crate) fn is_remote(&self, connection: &str) -> bool {
        self.remote
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(connection)
    }

    /// The remote connections, by name.
    pub(crate) fn connections(&self) -> Vec<String> {
        self.remote
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Replaces the set of remote connections (a change of setup); senders follow.
    pub(crate) fn set_remote(&self, remote: BTreeSet<String>) {
        let mut current = self.remote.write().unwrap_or_else(|p| p.into_inner());
        if *current != remote {
            *current = remote;
            drop(current);
            self.remote_changed.notify_waiters();
            self.wake.notify_waiters();
        }
    }

    /// Keeps one sender running per remote connection until `stop`, starting one for each
    /// connection paired later and ending those whose connection is gone.
    pub(crate) async fn run_senders(self: Arc<Self>, mut stop: Stop) {
        let mut running: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
        while !stop.is_stopped() {
            let changed = self.remote_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let wanted = self.connections();
            running.retain(|name, task| {
                let keep = wanted.contains(name) && !task.is_finished();
                if !keep {
                    task.abort();
                }
                keep
            });
            for name in wanted {
                if let std::collections::hash_map::Entry::Vacant(slot) = running.entry(name) {
                    tracing::info!(connection = %slot.key(), "peer sender started");
                    let task =
                        tokio::spawn(self.clone().run_sender(slot.key().clone(), stop.clone()));
                    slot.insert(task);
                }
            }
            tokio::select! {
                _ = changed => {}
                _ = stop.stopped() => {}
            }
        }
        // Each sender sees the stop too and ends after the delivery in hand.
        for (_, task) in running {
            let _ = task.await;
        }
    }

    /// A fresh spool file name for an attachment fetched from the peer; `id` must be a plain
    /// id (`protocol::valid_item_id`), anything else is replaced.
    pub(crate) fn spool_path(&self, id: &str) -> PathBuf {
        let id = if valid_item_id(id) { id } else { "invalid" };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        self.spool.join(format!("peer-{id}-{nanos}.part"))
    }

    /// Queues a replica for the peer, after recording which attachments it offers.
    pub(crate) fn queue_replica(
        &self,
        connection: &str,
        envelope: serde_json::Value,
        attachments: &[(String, u64)],
    ) -> Result<(), PeerError> {
        // Offered before queued: a crash in between offers bytes nobody asked for, never the reverse.
        for (id, size) in attachments {
            self.store.offer_attachment(connection, id, *size)?;
        }
        let body = serde_json::to_string(&ReplicaMessage {
            connection: connection.to_string(),
            envelope,
        })
        .map_err(|e| PeerError::Other(e.to_string()))?;
        self.store.push_outbox(connection, REPLICA_PATH, &body)?;
        self.wake.notify_waiters();
        Ok(())
    }

    pub(crate) fn queue_ack(&self, ack: &AckMessage) -> Result<(), PeerError> {
        let body = serde_json::to_string(ack).map_err(|e| PeerError::Other(e.to_string()))?;
        self.store.push_outbox(&ack.connection, ACK_PATH, &body)?;
        self.wake.notify_waiters();
        Ok(())
    }

    fn peer(&self, connection: &str) -> Result<Peer, FetchError> {
        match self.store.peer(connection) {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(FetchError::Transient(format!(
                "connection {connection:?} has no peer yet (invite and accept it first)"
            ))),
            Err(e) => Err(FetchError::Transient(e.to_string())),
        }
    }

    fn client(&self, peer: &Peer) -> Result<Arc<PeerClient>, FetchError> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((known, client)) = clients.get(&peer.connection)
            && known.url == peer.url
            && known.cert_fingerprint == peer.cert_fingerprint
            && known.public_key == peer.public_key
        {
            return Ok(client.clone());
        }
        let client = Arc::new(
            PeerClient::new(
                &peer.url,
                &peer.cert_fingerprint,
                &peer.public_key,
                REQUEST_TIMEOUT,
            )
            .map_err(|e| FetchError::Transient(e.to_string()))?,
        );
        clients.insert(peer.connection.clone(), (peer.clone(), client.clone()));
        Ok(client)
    }

    /// Streams an attachment the peer offered into `dest`, refusing more than the cap;
    /// returns its MIME type.
    pub(crate) async fn fetch_attachment(
        &self,
        connection: &str,
        id: &str,
        dest: &Path,
    ) -> Result<String, FetchError> {
        if !valid_item_id(id) {
            return Err(FetchError::Refused(format!(
                "attachment id {id:?} is not a plain id; it is not fetched"
            )));
        }
        let peer = self.peer(connection)?;
        let client = self.client(&peer)?;
        let path = format!(
            "{ATTACHMENT_PATH}/{id}?connection={}",
            percent_encode(connection)
        );
        let mut resp = client
            .send(&self.identity, reqwest::Method::GET, &path, Vec::new())
            .await
            .map_err(|e| FetchError::Transient(e.to_string()))?;
        let status = resp.status();
        if status.is_redirection() {
            // Followed, it could point at plain http or this node's own admin API.
            let to = header(&resp, "location", "");
            tracing::warn!(connection, peer = %peer.url, status = status.as_u16(), location = %to,
                "peer answered an attachment fetch with a redirect; not followed");
            return Err(FetchError::Refused(format!(
                "peer {} answered {status} (to {to:?}) for attachment {id}; peer links follow no redirect",
                peer.url
            )));
        }
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            let msg = format!("peer answered {status} for attachment {id}: {text}");
            return Err(if status.is_server_error() {
                FetchError::Transient(msg)
            } else {
                FetchError::Refused(msg)
            });
        }
        let mime = header(&resp, "content-type", "application/octet-stream");
        let io = |e: std::io::Error| FetchError::Transient(format!("{}: {e}", dest.display()));
        let mut file = crate::private_fs::create_file_async(dest)
            .await
            .map_err(io)?;
        let mut total = 0u64;
        loop {
            let chunk = resp
                .chunk()
                .await
                .map_err(|e| FetchError::Transient(format!("attachment {id}: {e}")))?;
            let Some(chunk) = chunk else { break };
            total += chunk.len() as u64;
            if total > self.max_attachment_bytes {
                drop(file);
                let _ = tokio::fs::remove_file(dest).await;
                return Err(FetchError::Refused(format!(
                    "attachment {id} is over the {} byte cap of a peer link",
                    self.max_attachment_bytes
                )));
            }
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
        Ok(mime)
    }

    /// Drains the outbox of one connection in order until `stop`; run one per remote connection.
    pub(crate) async fn run_sender(self: Arc<Self>, connection: String, mut stop: Stop) {
        // A delivery under way finishes; the outbox keeps the rest for the next start.
        while !stop.is_stopped() {
            // Registered before looking at the outbox, so a delivery queued meanwhile wakes it.
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let wait = match self.send_next(&connection).await {
                Ok(true) => continue,
                Ok(false) => Duration::from_millis(500),
                Err(e) => {
                    tracing::error!(connection = %connection, error = %e, "cannot read the peer outbox");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                _ = tokio::time::timeout(wait, notified) => {}
                _ = stop.stopped() => {}
            }
        }
    }

    /// Sends the head of the outbox if it is due; true if it was delivered.
    async fn send_next(&self, connection: &str) -> Result<bool, PeerError> {
        let Some(item) = self.store.next_outbox(connection, now_ms())? else {
            return Ok(false);
        };
        let outcome = match self.peer(connection) {
            Err(e) => Err((e.to_string(), false)),
            Ok(peer) if peer.state == "deleted" => Err((
                "the connection is deleted on the peer; deliveries wait".to_string(),
                false,
            )),
            Ok(peer) => match self.client(&peer) {
                Err(e) => Err((e.to_string(), false)),
                Ok(client) => {
                    let sent = client
                        .send(
                            &self.identity,
                            reqwest::Method::POST,
                            &item.path,
                            item.body.clone().into_bytes(),
                        )
                        .await;
                    match sent {
                        Ok(resp) if resp.status().is_success() => {
                            crate::failpoint!("peer-message-sent");
                            Ok(())
                        }
                        Ok(resp) if resp.status() == reqwest::StatusCode::GONE => {
                            let _ = self.store.set_peer_state(connection, "deleted");
                            Err((
                                "the peer deleted the connection; deliveries wait".to_string(),
                                true,
                            ))
                        }
                        Ok(resp) if resp.status().is_redirection() => {
                            let to = header(&resp, "location", "");
                            Err((
                                format!(
                                    "peer {} answered {} (to {to:?}); peer links follow no redirect",
                                    peer.url,
                                    resp.status()
                                ),
                                false,
                            ))
                        }
                        Ok(resp) => {
                            let status = resp.status();
                            let text = resp.text().await.unwrap_or_default();
                            if status == reqwest::StatusCode::FORBIDDEN
                                && item.path == ACK_PATH
                                && text.contains("ack refused")
                            {
                                // The peer checked the ack against what it sent and will
                                // refuse it again: kept, it would hold up every later delivery.
                                tracing::error!(connection, peer = %peer.url, answer = %text,
                                    "the peer refused an ack; dropped from the outbox");
                                Ok(())
                            } else {
                                Err((
                                    format!("peer {} answered {status}: {text}", peer.url),
                                    false,
                                ))
                            }
                        }
                        Err(e) => Err((e.to_string(), false)),
                    }
                }
            },
        };
        match outcome {
            Ok(()) => {
                self.store.outbox_delivered(item.id)?;
                if item.attempts > 0 {
                    tracing::info!(
                        connection,
                        attempts = item.attempts,
                        "peer reachable again; delivery resumed"
                    );
                }
                Ok(true)
            }
            Err((message, gone)) => {
                let delay = if gone {
                    60_000
                } else {
                    backoff_ms(item.attempts)
                };
                if item.attempts == 0 || item.attempts % 10 == 9 {
                    tracing::warn!(connection, error = %message, retry_in_ms = delay,
                        queued = self.store.outbox_len(connection).unwrap_or(0),
                        "peer delivery failed; it stays in the outbox");
                }
                self.store.outbox_retry_later(item.id, delay, &message)?;
                Ok(false)
            }
        }
    }
}
