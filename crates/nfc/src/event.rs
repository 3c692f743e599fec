//! What the reader side tells the app: one JSON-ready event each.

use serde::Serialize;

use crate::card::CardType;
use crate::ntag424::{BandCheck, Encoded};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum NfcEvent {
    /// A wristband or badge was put on the reader (once per placing).
    Tap {
        /// The UID as the ledger's token id: uppercase hex.
        token_id: String,
        card: CardType,
        reader: String,
        /// From pcscd reporting the card to this event, in microseconds
        /// (the genuineness check included).
        latency_micros: u64,
        /// Whether the band proved it is a genuine band of this event.
        band: BandCheck,
    },
    ReaderAdded {
        reader: String,
    },
    ReaderRemoved {
        reader: String,
    },
    /// A card was there but could not be read (taken away too early, not
    /// a supported card); the reader keeps working.
    ReadFailed {
        reader: String,
        error: String,
    },
    /// The encoding station personalised a band.
    Encoded {
        reader: String,
        #[serde(flatten)]
        encoded: Encoded,
    },
    /// The encoding station could not personalise a band (taken away too
    /// early, not an NTAG 424 DNA, keys of an unknown version…); put it on
    /// again.
    EncodeFailed {
        reader: String,
        token_id: Option<String>,
        error: String,
    },
    /// pcscd is not running: no reader can work until it is back.
    ServiceUnavailable,
    ServiceAvailable,
}
