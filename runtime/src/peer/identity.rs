//! The node's identity towards peers: a long-term Ed25519 key pair that signs every peer
//! request, and a self-signed TLS certificate that peers pin by fingerprint. Both are made
//! once, into the data directory, in files only the node's user can read.

use std::path::{Path, PathBuf};

use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sha2::{Digest, Sha256};

use super::PeerError;

const KEY_FILE: &str = "identity.pk8";
const CERT_FILE: &str = "tls-cert.der";
const TLS_KEY_FILE: &str = "tls-key.pk8";

/// The node's keys; `Debug` shows only the public parts.
pub struct Identity {
    signing: Ed25519KeyPair,
    public_key: String,
    cert_der: Vec<u8>,
    tls_key_der: Vec<u8>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("public_key", &self.public_key)
            .field("cert_fingerprint", &self.cert_fingerprint())
            .field("keys", &"<redacted>")
            .finish()
    }
}

impl Identity {
    /// Loads the identity kept in `dir`, making it first if there is none.
    pub fn load_or_create(dir: &Path) -> Result<Identity, PeerError> {
        let io = |path: &Path, e: std::io::Error| {
            PeerError::Identity(format!("{}: {e}", path.display()))
        };
        crate::private_fs::create_dir(dir).map_err(|e| io(dir, e))?;
        let key_path = dir.join(KEY_FILE);
        let (cert_path, tls_key_path) = (dir.join(CERT_FILE), dir.join(TLS_KEY_FILE));
        if !key_path.exists() {
            let rng = SystemRandom::new();
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| PeerError::Identity("cannot generate an Ed25519 key".into()))?;
            write_private(&key_path, pkcs8.as_ref()).map_err(|e| io(&key_path, e))?;
            tracing::info!(file = %key_path.display(), "made the node's peer signing key");
        }
        if !cert_path.exists() || !tls_key_path.exists() {
            let made = rcgen::generate_simple_self_signed(vec!["twinsync-node".to_string()])
                .map_err(|e| PeerError::Identity(format!("cannot make a TLS certificate: {e}")))?;
            write_private(&tls_key_path, &made.signing_key.serialize_der())
                .map_err(|e| io(&tls_key_path, e))?;
            write_private(&cert_path, made.cert.der()).map_err(|e| io(&cert_path, e))?;
            tracing::info!(file = %cert_path.display(), "made the node's self-signed TLS certificate");
        }
        let pkcs8 = std::fs::read(&key_path).map_err(|e| io(&key_path, e))?;
        let signing = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|e| {
            PeerError::Identity(format!("{}: not an Ed25519 key: {e}", key_path.display()))
        })?;
        let public_key = hex::encode(signing.public_key().as_ref());
        Ok(Identity {
            signing,
            public_key,
            cert_der: std::fs::read(&cert_path).map_err(|e| io(&cert_path, e))?,
            tls_key_der: std::fs::read(&tls_key_path).map_err(|e| io(&tls_key_path, e))?,
        })
    }

    /// Where a node keeps its identity inside its data directory.
    pub fn dir_in(data_dir: &Path) -> PathBuf {
        data_dir.join("peer")
    }

    /// The public key, hex: what peers know this node by.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signing.sign(message).as_ref().to_vec()
    }

    /// SHA-256 of the TLS certificate, hex: what an invitation pins.
    pub fn cert_fingerprint(&self) -> String {
        fingerprint(&self.cert_der)
    }

    pub(crate) fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    pub(crate) fn tls_key_der(&self) -> &[u8] {
        &self.tls_key_der
    }
}

/// SHA-256 of a certificate's DER, hex.
pub(crate) fn fingerprint(cert_der: &[u8]) -> String {
    hex::encode(Sha256::digest(cert_der))
}

/// Whether `signature` is `public_key`'s (hex) over `message`.
pub(crate) fn verify(public_key: &str, message: &[u8], signature: &[u8]) -> bool {
    let Ok(key) = hex::decode(public_key) else {
        return false;
    };
    UnparsedPublicKey::new(&ED25519, key)
        .verify(message, signature)
        .is_ok()
}

/// Writes a file only the node's user can read (0600), never widening an existing one.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_then_loaded_with_private_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = Identity::load_or_create(dir.path()).unwrap();
        let b = Identity::load_or_create(dir.path()).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        assert_eq!(a.cert_fingerprint(), b.cert_fingerprint());
        let sig = a.sign(b"hello");
        assert!(verify(b.public_key(), b"hello", &sig));
        assert!(!verify(b.public_key(), b"hellO", &sig));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in [KEY_FILE, TLS_KEY_FILE, CERT_FILE] {
                let mode = std::fs::metadata(dir.path().join(f))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{f}");
            }
        }
        let debug = format!("{a:?}");
        assert!(debug.contains("<redacted>") && debug.contains(a.public_key()));
    }
}
