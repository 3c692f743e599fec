//! # tapster-tls
//!
//! Money on the wire travels encrypted: tills talk TLS to `tapster-server`
//! and pin its certificate by the fingerprint their setup code carried.
//!
//! - [`fingerprint`]: a certificate's SHA-256 fingerprint (`sha256:…`).
//! - [`client`]: what a till trusts — its pins (with the next certificate
//!   the server announced), or the system's roots — as a rustls client
//!   configuration, and the failures in words a cashier can pass on.
//! - [`server`] (feature `server`): the server's own certificate, generated
//!   once next to its database, or an operator's; reloaded when the files
//!   change; the listener `axum::serve` serves HTTPS through.

pub mod client;
pub mod fingerprint;
#[cfg(feature = "server")]
pub mod server;

pub use client::{classify, client_config, PinState, Pins, TlsFailure, TlsSetupError, Trust};
pub use fingerprint::{Fingerprint, MalformedFingerprint};
pub use rustls::pki_types::CertificateDer;

/// The response header by which the server announces, to tills that
/// reached it through their pin, the certificate it will switch to next.
pub const NEXT_CERTIFICATE_HEADER: &str = "tapster-next-certificate";
