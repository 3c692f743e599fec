//! # tapster-nfc
//!
//! NFC wristbands and staff badges on PC/SC readers, as a stream of
//! events the app consumes.
//!
//! - [`pcsc_reader`]: readers through pcscd: hotplug, status-change waits,
//!   the UID by GET DATA, recovery from every failure.
//! - [`debounce`]: one tap, one event.
//! - [`card`]: the card type from the ATR.
//! - [`simulated`]: a reader driven by code, for demo mode and tests.
//! - [`wedge`]: keyboard-wedge readers' typed UIDs, and what a 2D
//!   barcode scanner in keyboard mode typed (a pass or a wristband).
//! - [`ntag424`]: genuine wristbands — NTAG 424 DNA authentication with
//!   per-band keys (AN10922), the tap check, encoding, SUN links. (A UID
//!   alone is no proof: phones read it, "magic" cards copy it; SECURITY.md
//!   says what is protected when.)
//! - [`event`]: the events.

pub mod card;
pub mod debounce;
pub mod event;
pub mod ntag424;
pub mod pcsc_reader;
pub mod simulated;
pub mod wedge;

pub use card::CardType;
pub use event::NfcEvent;
pub use pcsc_reader::{watch, ReaderMode, SharedKeyring, SharedMode, WatchConfig, Watcher};
pub use simulated::SimulatedReader;
pub use wedge::{parse_scan, parse_wedge, Scanned, WedgeFormat};
