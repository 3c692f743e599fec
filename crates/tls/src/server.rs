//! The server's side: the certificate it presents — its own, generated on
//! first start and kept next to its database, or an operator's from a
//! real CA — reloaded when the files change, the next certificate it
//! announces to pinned tills, and the listener that serves HTTPS.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::client::provider;
use crate::fingerprint::Fingerprint;

/// What can go wrong with the server's certificate and key.
#[derive(Debug, Error)]
pub enum CertificateError {
    #[error("cannot read or write {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
    #[error("{path} holds no PEM private key: {reason}")]
    NoKey { path: PathBuf, reason: String },
    #[error("the private key does not belong to the certificate ({cert}); nothing was changed")]
    KeyMismatch { cert: PathBuf },
    #[error("the certificate cannot be used: {0}")]
    Unusable(String),
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("no next certificate has been prepared (tapster-server tls rotate)")]
    NoNextCertificate,
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> CertificateError + '_ {
    move |source| CertificateError::File {
        path: path.to_path_buf(),
        source,
    }
}

/// The server's own certificate files, in a folder next to its database
/// (`<db>.tls/`, mode 0700): `cert.pem`, `key.pem` (0600), and while a
/// rotation is announced `next-cert.pem`, `next-key.pem` (0600).
#[derive(Clone, Debug)]
pub struct OwnCertificate {
    pub dir: PathBuf,
}

/// A certificate and key in PEM, and the certificate's fingerprint.
pub struct GeneratedCertificate {
    pub cert_pem: String,
    pub key_pem: String,
    pub fingerprint: Fingerprint,
}

impl std::fmt::Debug for GeneratedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedCertificate")
            .field("fingerprint", &self.fingerprint)
            .field("key_pem", &"<hidden>")
            .finish()
    }
}

/// A self-signed ECDSA P-256 certificate for `names` (host names and IP
/// addresses, as subject alternative names), valid from an hour ago for
/// `days`.
pub fn generate(names: &[String], days: i64) -> Result<GeneratedCertificate, CertificateError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(names.to_vec())?;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(days);
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "tapster-server");
    let cert = params.self_signed(&key)?;
    Ok(GeneratedCertificate {
        fingerprint: Fingerprint::of_der(cert.der()),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// The names a certificate for `listen` is made out to: the address it
/// listens on (when it is not 0.0.0.0 or ::), localhost, this machine's
/// host name, and `extra`. Tills that pin the fingerprint do not check
/// names; browsers and unpinned clients do.
pub fn names_for(listen: SocketAddr, extra: &[String]) -> Vec<String> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if !listen.ip().is_unspecified() {
        names.push(listen.ip().to_string());
    }
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim();
        if !host.is_empty() {
            names.push(host.to_string());
        }
    }
    names.extend(extra.iter().cloned());
    let mut seen = std::collections::HashSet::new();
    names.retain(|name| seen.insert(name.clone()));
    names
}

/// How long a generated certificate is valid: it is pinned by fingerprint,
/// so its dates matter only to unpinned clients.
pub const GENERATED_VALID_DAYS: i64 = 5 * 365;

impl OwnCertificate {
    /// The folder next to the database file `db`.
    pub fn next_to(db: &Path) -> OwnCertificate {
        let mut dir = db.as_os_str().to_owned();
        dir.push(".tls");
        OwnCertificate {
            dir: PathBuf::from(dir),
        }
    }

    pub fn cert_path(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    pub fn key_path(&self) -> PathBuf {
        self.dir.join("key.pem")
    }

    pub fn next_cert_path(&self) -> PathBuf {
        self.dir.join("next-cert.pem")
    }

    pub fn next_key_path(&self) -> PathBuf {
        self.dir.join("next-key.pem")
    }

    pub fn exists(&self) -> bool {
        self.cert_path().exists() && self.key_path().exists()
    }

    /// The certificate, generated for `names` if there is none yet.
    /// Returns its fingerprint and whether it was made now.
    pub fn ensure(&self, names: &[String]) -> Result<(Fingerprint, bool), CertificateError> {
        if self.exists() {
            return Ok((fingerprint_of_file(&self.cert_path())?, false));
        }
        let made = generate(names, GENERATED_VALID_DAYS)?;
        self.write_pair(&self.cert_path(), &self.key_path(), &made)?;
        Ok((made.fingerprint, true))
    }

    /// Makes the next certificate (or keeps the one already made) for the
    /// server to announce; returns its fingerprint.
    pub fn prepare_next(&self, names: &[String]) -> Result<Fingerprint, CertificateError> {
        if self.next_cert_path().exists() && self.next_key_path().exists() {
            return fingerprint_of_file(&self.next_cert_path());
        }
        let made = generate(names, GENERATED_VALID_DAYS)?;
        self.write_pair(&self.next_cert_path(), &self.next_key_path(), &made)?;
        Ok(made.fingerprint)
    }

    /// The next certificate becomes the one served (a running server picks
    /// it up within seconds, or at SIGHUP).
    pub fn promote_next(&self) -> Result<Fingerprint, CertificateError> {
        if !(self.next_cert_path().exists() && self.next_key_path().exists()) {
            return Err(CertificateError::NoNextCertificate);
        }
        let fingerprint = fingerprint_of_file(&self.next_cert_path())?;
        // Key first: a reload between the two renames finds a key that
        // does not match the certificate, keeps what it serves and tries
        // again at the next look.
        std::fs::rename(self.next_key_path(), self.key_path())
            .map_err(file_error(&self.key_path()))?;
        std::fs::rename(self.next_cert_path(), self.cert_path())
            .map_err(file_error(&self.cert_path()))?;
        Ok(fingerprint)
    }

    fn write_pair(
        &self,
        cert: &Path,
        key: &Path,
        made: &GeneratedCertificate,
    ) -> Result<(), CertificateError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(file_error(&self.dir))?;
        write_file(key, made.key_pem.as_bytes(), 0o600)?;
        write_file(cert, made.cert_pem.as_bytes(), 0o644)
    }

    pub fn source(&self) -> CertificateSource {
        CertificateSource {
            cert: self.cert_path(),
            key: self.key_path(),
            next_cert: Some(self.next_cert_path()),
            generated: true,
        }
    }
}

/// Writes `contents` to `path` through a temporary file created with
/// `mode` (never briefly readable by others), synced before the rename.
pub fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), CertificateError> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".new");
    let temporary = PathBuf::from(temporary);
    let _ = std::fs::remove_file(&temporary);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temporary)
        .map_err(file_error(&temporary))?;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(file_error(&temporary))?;
    file.write_all(contents).map_err(file_error(&temporary))?;
    file.sync_all().map_err(file_error(&temporary))?;
    std::fs::rename(&temporary, path).map_err(file_error(path))
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, CertificateError> {
    let bytes = std::fs::read(path).map_err(file_error(path))?;
    let chain: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .filter_map(Result::ok)
        .collect();
    if chain.is_empty() {
        return Err(CertificateError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(chain)
}

/// The fingerprint of the first certificate in a PEM file.
pub fn fingerprint_of_file(path: &Path) -> Result<Fingerprint, CertificateError> {
    Ok(Fingerprint::of_der(&read_chain(path)?[0]))
}

/// Where the served certificate comes from.
#[derive(Clone, Debug)]
pub struct CertificateSource {
    /// PEM: the certificate, then its chain.
    pub cert: PathBuf,
    /// PEM: its private key.
    pub key: PathBuf,
    /// PEM: the certificate to announce to pinned tills before switching.
    pub next_cert: Option<PathBuf>,
    /// The server's own certificate (tills pin it) rather than an
    /// operator's from a CA (tills validate it).
    pub generated: bool,
}

struct Loaded {
    key: Arc<CertifiedKey>,
    fingerprint: Fingerprint,
    next: Option<Fingerprint>,
}

/// The certificate a server presents, reloaded from its files when they
/// change: connections already open keep theirs, new handshakes get the
/// new one.
pub struct ServedCertificate {
    source: CertificateSource,
    loaded: RwLock<Loaded>,
    stamps: Mutex<Vec<Option<SystemTime>>>,
}

impl std::fmt::Debug for ServedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServedCertificate")
            .field("cert", &self.source.cert)
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

fn load(source: &CertificateSource) -> Result<Loaded, CertificateError> {
    let chain = read_chain(&source.cert)?;
    let key_bytes = std::fs::read(&source.key).map_err(file_error(&source.key))?;
    let key_der =
        PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| CertificateError::NoKey {
            path: source.key.clone(),
            reason: e.to_string(),
        })?;
    let signing_key = provider()
        .key_provider
        .load_private_key(key_der)
        .map_err(|e| CertificateError::Unusable(e.to_string()))?;
    let fingerprint = Fingerprint::of_der(&chain[0]);
    let key = CertifiedKey::new(chain, signing_key);
    key.keys_match()
        .map_err(|_| CertificateError::KeyMismatch {
            cert: source.cert.clone(),
        })?;
    let next = match &source.next_cert {
        Some(path) if path.exists() => Some(fingerprint_of_file(path)?),
        _ => None,
    }
    .filter(|next| *next != fingerprint);
    Ok(Loaded {
        key: Arc::new(key),
        fingerprint,
        next,
    })
}

fn stamps(source: &CertificateSource) -> Vec<Option<SystemTime>> {
    [
        Some(&source.cert),
        Some(&source.key),
        source.next_cert.as_ref(),
    ]
    .into_iter()
    .map(|path| {
        path.and_then(|p| std::fs::metadata(p).ok())
            .and_then(|m| m.modified().ok())
    })
    .collect()
}

impl ServedCertificate {
    pub fn load(source: CertificateSource) -> Result<Arc<ServedCertificate>, CertificateError> {
        let loaded = load(&source)?;
        Ok(Arc::new(ServedCertificate {
            stamps: Mutex::new(stamps(&source)),
            source,
            loaded: RwLock::new(loaded),
        }))
    }

    pub fn fingerprint(&self) -> Fingerprint {
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .fingerprint
    }

    /// The certificate announced to pinned tills, if a switch is prepared.
    pub fn next_fingerprint(&self) -> Option<Fingerprint> {
        self.loaded.read().unwrap_or_else(|e| e.into_inner()).next
    }

    pub fn is_generated(&self) -> bool {
        self.source.generated
    }

    /// Reads the files again. On an error what is served stays as it was.
    /// Returns whether the served or announced certificate changed.
    pub fn reload(&self) -> Result<bool, CertificateError> {
        let fresh_stamps = stamps(&self.source);
        let fresh = load(&self.source)?;
        *self.stamps.lock().unwrap_or_else(|e| e.into_inner()) = fresh_stamps;
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        let changed = loaded.fingerprint != fresh.fingerprint || loaded.next != fresh.next;
        *loaded = fresh;
        Ok(changed)
    }

    /// Reloads when a file's modification time changed since the last load.
    pub fn reload_if_changed(&self) -> Result<bool, CertificateError> {
        let now = stamps(&self.source);
        if *self.stamps.lock().unwrap_or_else(|e| e.into_inner()) == now {
            return Ok(false);
        }
        self.reload()
    }

    /// The rustls configuration that serves this certificate (HTTP/1.1).
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<ServerConfig>, CertificateError> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| CertificateError::Unusable(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Resolver(self.clone())));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

#[derive(Debug)]
struct Resolver(Arc<ServedCertificate>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.0
                .loaded
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .key
                .clone(),
        )
    }
}

/// How long a client has for its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// TLS over a TCP listener, for `axum::serve`: handshakes run on their own
/// tasks (a slow or silent client holds up no other), and a plain-HTTP
/// request gets a plain 400 that says to use HTTPS.
pub struct TlsListener {
    incoming: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let (sender, incoming) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                if sender.is_closed() {
                    return;
                }
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::debug!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let (acceptor, sender) = (acceptor.clone(), sender.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(acceptor, stream)).await
                    {
                        Ok(Ok(Some(tls))) => {
                            let _ = sender.send((tls, peer)).await;
                        }
                        Ok(Ok(None)) => {}
                        Ok(Err(error)) => {
                            tracing::debug!(%peer, %error, "TLS handshake failed")
                        }
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { incoming, local })
    }
}

/// A TLS record starts with 0x16 (handshake); anything else on this port is
/// most likely plain HTTP.
async fn handshake(
    acceptor: TlsAcceptor,
    stream: TcpStream,
) -> std::io::Result<Option<TlsStream<TcpStream>>> {
    let _ = stream.set_nodelay(true);
    let mut first = [0u8; 1];
    if stream.peek(&mut first).await? == 0 {
        return Ok(None);
    }
    if first[0] != 0x16 {
        answer_plain_request(stream).await;
        return Ok(None);
    }
    acceptor.accept(stream).await.map(Some)
}

async fn answer_plain_request(mut stream: TcpStream) {
    // Read the request first, so closing does not reset the connection
    // before the client has read the answer.
    let mut request = [0u8; 8192];
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut request)).await;
    let body = "This port speaks HTTPS only: use https://\n";
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(answer.as_bytes()).await;
    let _ = stream.shutdown().await;
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.incoming.recv().await {
            Some(accepted) => accepted,
            // The accepting task ended: nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_certificate_is_made_once_with_a_private_key_only_its_owner_reads() {
        let dir = tempfile::tempdir().unwrap();
        let own = OwnCertificate::next_to(&dir.path().join("event.sqlite"));
        let names = names_for("127.0.0.1:8443".parse().unwrap(), &["pos.example".into()]);
        let (fingerprint, made) = own.ensure(&names).unwrap();
        assert!(made);
        assert_eq!(own.ensure(&names).unwrap(), (fingerprint, false));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&own.key_path()), 0o600);
        assert_eq!(mode(&own.dir), 0o700);
        assert_eq!(own.dir, dir.path().join("event.sqlite.tls"));
        let served = ServedCertificate::load(own.source()).unwrap();
        assert_eq!(served.fingerprint(), fingerprint);
        assert_eq!(served.next_fingerprint(), None);
    }

    #[test]
    fn rotation_announces_then_switches_and_a_mismatched_key_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let own = OwnCertificate::next_to(&dir.path().join("event.sqlite"));
        let (first, _) = own.ensure(&["localhost".into()]).unwrap();
        let served = ServedCertificate::load(own.source()).unwrap();
        let next = own.prepare_next(&["localhost".into()]).unwrap();
        assert_eq!(own.prepare_next(&["localhost".into()]).unwrap(), next);
        assert!(served.reload().unwrap());
        assert_eq!(served.fingerprint(), first);
        assert_eq!(served.next_fingerprint(), Some(next));
        // Half a promotion: the new key beside the old certificate.
        std::fs::copy(own.next_key_path(), own.key_path()).unwrap();
        assert!(matches!(
            served.reload(),
            Err(CertificateError::KeyMismatch { .. })
        ));
        assert_eq!(served.fingerprint(), first, "still serving the old one");
        assert_eq!(own.promote_next().unwrap(), next);
        assert!(served.reload().unwrap());
        assert_eq!(served.fingerprint(), next);
        assert_eq!(served.next_fingerprint(), None);
        assert!(matches!(
            own.promote_next(),
            Err(CertificateError::NoNextCertificate)
        ));
    }
}
