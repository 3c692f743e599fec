//! What a till trusts: the server's pinned certificate (and the next one
//! the server announced over that pinned channel), or ordinary validation
//! against the system's roots; and the failures, in words a cashier can
//! pass on.

use std::sync::{Arc, Mutex, RwLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use thiserror::Error;

use crate::fingerprint::Fingerprint;

/// The fingerprints a till accepts from its server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinState {
    /// From the setup code, or the last certificate the server switched to.
    pub current: Fingerprint,
    /// Announced by the server (over a connection that passed the pin)
    /// before it switches certificates.
    pub next: Option<Fingerprint>,
}

type PinListener = Box<dyn Fn(PinState) + Send + Sync>;

/// A till's pins, shared by all its connections to one server. When the
/// server presents the announced next certificate, that becomes the
/// current pin and the old one is dropped.
#[derive(Clone)]
pub struct Pins {
    state: Arc<RwLock<PinState>>,
    listener: Arc<Mutex<Option<PinListener>>>,
}

impl std::fmt::Debug for Pins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.state().fmt(f)
    }
}

impl Pins {
    pub fn new(current: Fingerprint, next: Option<Fingerprint>) -> Pins {
        Pins {
            state: Arc::new(RwLock::new(PinState {
                current,
                next: next.filter(|n| *n != current),
            })),
            listener: Arc::new(Mutex::new(None)),
        }
    }

    pub fn state(&self) -> PinState {
        *self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Called with the new pins after every change (to keep them across a
    /// restart).
    pub fn on_change(&self, listener: impl Fn(PinState) + Send + Sync + 'static) {
        *self.listener.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(listener));
    }

    /// The server announced `next` on a connection that passed the pin.
    pub fn learn_next(&self, next: Fingerprint) {
        self.change(|state| {
            if state.current == next || state.next == Some(next) {
                return false;
            }
            state.next = Some(next);
            true
        });
    }

    /// Whether a server presenting `presented` may be ours: the current
    /// pin or the announced next one.
    pub fn accepts(&self, presented: Fingerprint) -> bool {
        let state = self.state();
        state.current == presented || state.next == Some(presented)
    }

    /// A server proved (by a handshake signature) that it holds the key of
    /// `presented`: if that is the announced next certificate, it becomes
    /// the current pin and the old one is dropped.
    pub fn confirm(&self, presented: Fingerprint) {
        self.change(|state| {
            if state.next != Some(presented) {
                return false;
            }
            state.current = presented;
            state.next = None;
            true
        });
    }

    fn change(&self, change: impl FnOnce(&mut PinState) -> bool) {
        let changed = {
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            change(&mut state).then_some(*state)
        };
        if let Some(state) = changed {
            if let Some(listener) = &*self.listener.lock().unwrap_or_else(|e| e.into_inner()) {
                listener(state);
            }
        }
    }
}

/// How a till decides that it talks to its own server.
#[derive(Clone, Debug)]
pub enum Trust {
    /// The certificate whose fingerprint the setup code carried (or the
    /// next one the server announced): names and dates are not checked —
    /// the fingerprint says more — but the server must prove it holds the
    /// certificate's key in every handshake.
    Pinned(Pins),
    /// Ordinary validation: a certificate for the URL's host name, in date,
    /// from the system's certificate authorities or `extra_roots` (an
    /// event's own authority).
    Roots {
        extra_roots: Vec<CertificateDer<'static>>,
    },
}

/// Setting up TLS failed before any connection.
#[derive(Debug, Error)]
pub enum TlsSetupError {
    #[error("TLS cannot be set up: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("no trusted certificate authorities found on this machine (install ca-certificates, or pin the server's fingerprint)")]
    NoRoots,
}

/// The cryptography of every Tapster TLS endpoint: ring, which builds with
/// the C compiler alone. rustls 0.23.48 deprecates it for lacking a
/// post-quantum key exchange; moving to aws-lc-rs for X25519MLKEM768 is
/// its own change (a heavier build).
#[allow(deprecated)]
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A rustls client configuration for `trust` (HTTP/1.1, TLS 1.2 and 1.3).
pub fn client_config(trust: &Trust) -> Result<ClientConfig, TlsSetupError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let mut config = match trust {
        Trust::Pinned(pins) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                pins: pins.clone(),
                provider,
            }))
            .with_no_client_auth(),
        Trust::Roots { extra_roots } => {
            let mut roots = RootCertStore::empty();
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            roots.add_parsable_certificates(extra_roots.iter().cloned());
            if roots.is_empty() {
                return Err(TlsSetupError::NoRoots);
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The verifier that compares the presented certificate's fingerprint
/// with the pins, and checks the handshake's signatures with the
/// certificate's key as usual (so a copy of the certificate without its
/// key is worth nothing).
#[derive(Debug)]
struct PinnedVerifier {
    pins: Pins,
    provider: Arc<CryptoProvider>,
}

/// The certificate presented is not the pinned one.
#[derive(Debug, Error)]
#[error("the server presented certificate {presented}, which is not the pinned one")]
pub struct PinMismatch {
    pub presented: Fingerprint,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let presented = Fingerprint::of_der(end_entity);
        if self.pins.accepts(presented) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(PinMismatch { presented })),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let valid = rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )?;
        self.pins.confirm(Fingerprint::of_der(cert));
        Ok(valid)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let valid = rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )?;
        self.pins.confirm(Fingerprint::of_der(cert));
        Ok(valid)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Why a TLS connection to the server was refused, by what a person can
/// do about it.
#[derive(Clone, Debug, PartialEq, Eq, Error, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TlsFailure {
    /// Another certificate than the pinned one: a man in the middle, or a
    /// server set up anew.
    #[error("the server's identity changed: ask the manager for a new setup code")]
    IdentityChanged { presented: String },
    #[error("the server's certificate is not made out for this address: check the server address")]
    WrongName,
    #[error("the server's certificate has expired or is not valid yet: check the server's certificate and this till's clock")]
    Expired,
    #[error("the server's certificate is not signed by an authority this till trusts: use a setup code with the server's fingerprint")]
    UnknownIssuer,
    #[error("the server's certificate was refused: {reason}")]
    BadCertificate { reason: String },
    #[error("the server does not speak HTTPS on this port: check the address (https:// or a plain-HTTP server)")]
    NotTls,
    #[error("the encrypted connection failed: {reason}")]
    Handshake { reason: String },
}

/// The TLS failure behind an error from an HTTP client (reqwest, hyper,
/// tokio-rustls), if there is one.
pub fn classify(error: &(dyn std::error::Error + 'static)) -> Option<TlsFailure> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(rustls_error) = as_rustls(error) {
            return Some(from_rustls(rustls_error));
        }
        current = error.source();
    }
    None
}

/// `io::Error` hides the error it wraps from `source()` (and the HTTP
/// stack wraps io errors in io errors): look inside.
fn as_rustls<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current: &'a (dyn std::error::Error + 'static) = error;
    loop {
        if let Some(found) = current.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        current = current.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

fn from_rustls(error: &rustls::Error) -> TlsFailure {
    use rustls::Error as E;
    match error {
        E::InvalidCertificate(certificate) => match certificate {
            CertificateError::Other(other) => match other.0.downcast_ref::<PinMismatch>() {
                Some(mismatch) => TlsFailure::IdentityChanged {
                    presented: mismatch.presented.to_string(),
                },
                None => TlsFailure::BadCertificate {
                    reason: other.to_string(),
                },
            },
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsFailure::WrongName
            }
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => TlsFailure::Expired,
            CertificateError::UnknownIssuer => TlsFailure::UnknownIssuer,
            other => TlsFailure::BadCertificate {
                reason: format!("{other:?}"),
            },
        },
        E::InvalidMessage(_) => TlsFailure::NotTls,
        other => TlsFailure::Handshake {
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(byte: u8) -> Fingerprint {
        Fingerprint::of_der(&[byte])
    }

    #[test]
    fn the_announced_next_certificate_replaces_the_pin_on_first_sight() {
        let pins = Pins::new(fp(1), None);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        pins.on_change(move |state| record.lock().unwrap().push(state));
        assert!(pins.accepts(fp(1)));
        assert!(!pins.accepts(fp(2)), "not announced yet");
        pins.confirm(fp(2));
        assert!(
            !pins.accepts(fp(2)),
            "a key proven for an unannounced certificate changes nothing"
        );
        pins.learn_next(fp(2));
        pins.learn_next(fp(2));
        assert!(
            pins.accepts(fp(1)),
            "the old one still works until the switch"
        );
        assert!(pins.accepts(fp(2)));
        pins.confirm(fp(2));
        assert!(!pins.accepts(fp(1)), "after the switch the old one is gone");
        assert!(pins.accepts(fp(2)));
        assert!(!pins.accepts(fp(3)));
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                PinState {
                    current: fp(1),
                    next: Some(fp(2))
                },
                PinState {
                    current: fp(2),
                    next: None
                }
            ],
            "one notice per change"
        );
    }

    #[test]
    fn failures_found_behind_io_errors() {
        let mismatch = rustls::Error::InvalidCertificate(CertificateError::Other(
            rustls::OtherError(Arc::new(PinMismatch { presented: fp(9) })),
        ));
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, mismatch);
        assert_eq!(
            classify(&io),
            Some(TlsFailure::IdentityChanged {
                presented: fp(9).to_string()
            })
        );
        let expired = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::Expired),
        );
        assert_eq!(classify(&expired), Some(TlsFailure::Expired));
        let nested = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
        ));
        assert_eq!(classify(&nested), Some(TlsFailure::NotTls));
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(classify(&plain), None);
    }
}
