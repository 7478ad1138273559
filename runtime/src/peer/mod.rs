//! Cross-company connections: the node's identity, invitation codes, and the signed
//! node-to-node protocol that carries replicas, acks and attachment bytes between peer nodes.

pub mod enroll;
pub(crate) mod identity;
pub(crate) mod invite;
pub(crate) mod link;
pub mod protocol;
pub mod sign;
pub mod tls;

pub use identity::Identity;
pub use invite::{Invitation, InviteError};

/// What can go wrong in the peer layer outside a refused request.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The node's peer identity cannot be made or read.
    #[error("peer identity: {0}")]
    Identity(String),
    /// The system's random source failed.
    #[error("random source failed")]
    Random,
    /// An invitation code is refused.
    #[error(transparent)]
    Invite(#[from] InviteError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A request to the peer failed.
    #[error("peer {url}: {message}")]
    Transport {
        /// The peer's URL.
        url: String,
        /// What failed, with its causes.
        message: String,
    },
    /// Anything else, as a message.
    #[error("{0}")]
    Other(String),
}

/// `N` bytes from the system's secure random source.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], PeerError> {
    let mut out = [0u8; N];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut out)
        .map_err(|_| PeerError::Random)?;
    Ok(out)
}
