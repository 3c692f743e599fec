//! # tapster-band
//!
//! What makes a wristband genuine, without a reader: the event's master
//! keys and each band's keys diversified from them, the NTAG 424 DNA's
//! cryptography, and the SUN links a band makes for a guest's phone. Used
//! by the tills' reader (`tapster-nfc`) and by `tapster-server`.
//!
//! - [`crypto`]: AES-128, CBC, CMAC (RustCrypto), AN10922 diversification,
//!   EV2 session keys and secure messaging, SUN link decryption and MAC.
//! - [`keys`]: `BandKeys` (one version of the master key), `Keyring`
//!   (current and previous version), SUN link verification.
//! - [`keyfile`]: a keyring on disk, readable by its owner only.

pub mod crypto;
pub mod keyfile;
pub mod keys;

pub use keys::{BandKeys, Keyring};
