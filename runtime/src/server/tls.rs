//! TLS on the public listener from certificate files (`[node.tls]`, PEM).
//!
//! The files are read at start, and read again at a handshake after either one changed on
//! disk, so a renewed certificate (e.g. from an ACME client) serves without a restart. A
//! renewal that does not load (half written, key and certificate not matching) is logged
//! and the certificate that was serving keeps serving.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::config::TlsFiles;

#[derive(Debug, thiserror::Error)]
pub(crate) enum TlsFilesError {
    #[error("node.tls.cert {path}: {reason}")]
    Cert { path: PathBuf, reason: String },
    #[error("node.tls.key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("node.tls: the key in {key} does not fit the certificate in {cert}: {reason}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("TLS: {0}")]
    Config(String),
}

/// A TLS server config for the public listener from `files` (paths relative to `base_dir`).
pub(crate) fn server_config(
    files: &TlsFiles,
    base_dir: &Path,
) -> Result<Arc<rustls::ServerConfig>, TlsFilesError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let resolver = FileResolver::new(
        base_dir.join(&files.cert),
        base_dir.join(&files.key),
        provider.clone(),
    )?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsFilesError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    // The listener speaks HTTP/1.1 only (axum's http1 feature).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Loads a certificate chain and its key, checking that they belong together.
fn load(cert: &Path, key: &Path, provider: &CryptoProvider) -> Result<CertifiedKey, TlsFilesError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsFilesError::Cert {
            path: cert.to_path_buf(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsFilesError::Cert {
            path: cert.to_path_buf(),
            reason: "no CERTIFICATE block in the file".into(),
        });
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsFilesError::Key {
        path: key.to_path_buf(),
        reason: e.to_string(),
    })?;
    CertifiedKey::from_der(chain, private, provider).map_err(|e| TlsFilesError::Mismatch {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
        reason: e.to_string(),
    })
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// What was loaded, and the files' modification times when it was.
#[derive(Debug)]
struct Loaded {
    key: Arc<CertifiedKey>,
    stamps: (Option<SystemTime>, Option<SystemTime>),
}

/// Serves the certificate from the files, reloading it when they change.
#[derive(Debug)]
struct FileResolver {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    loaded: Mutex<Loaded>,
}

impl FileResolver {
    fn new(
        cert: PathBuf,
        key: PathBuf,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, TlsFilesError> {
        let stamps = (modified(&cert), modified(&key));
        let loaded = Arc::new(load(&cert, &key, &provider)?);
        Ok(FileResolver {
            cert,
            key,
            provider,
            loaded: Mutex::new(Loaded {
                key: loaded,
                stamps,
            }),
        })
    }
}

impl ResolvesServerCert for FileResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let stamps = (modified(&self.cert), modified(&self.key));
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if stamps != loaded.stamps {
            // Recorded either way: a bad renewal is reported once, not at every handshake.
            loaded.stamps = stamps;
            match load(&self.cert, &self.key, &self.provider) {
                Ok(key) => {
                    tracing::info!(cert = %self.cert.display(), "public listener: reloaded the TLS certificate");
                    loaded.key = Arc::new(key);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "public listener: the changed TLS files do not load; the previous certificate keeps serving")
                }
            }
        }
        Some(loaded.key.clone())
    }
}
