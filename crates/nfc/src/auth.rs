//! What reading only the UID does not protect against, and where card
//! authentication plugs in.
//!
//! Tapster identifies a wristband by its UID. UIDs are not secret: they
//! are sent in the clear before any authentication, and "magic" cards
//! and phone apps can present any UID. Someone who reads a guest's
//! wristband (or a receipt, which is why receipts mask it) can make a
//! clone that pays from the same wallet. The defences today are outside
//! the card: wallets can be blocked and their balance moved to a new
//! wristband, offline debits are capped per wallet and terminal, and the
//! server's feed shows each wallet's movements.
//!
//! Cards that can prove they are genuine — MIFARE Ultralight AES,
//! MIFARE DESFire EV2/EV3, NTAG 424 DNA — hold a key the reader must
//! challenge. With per-card keys diversified from a master key (AN10922),
//! a cloned UID alone no longer pays. That check belongs behind
//! [`CardAuthenticator`], run after the UID is read and before a tap is
//! reported; the key material lives in a secure element or the server,
//! never in this crate.

use tapster_ledger::TokenId;

/// Proves a card is genuine after its UID was read. The default accepts
/// every card (UID-only identification, as described above).
pub trait CardAuthenticator: Send {
    /// `transmit` sends an APDU to the card and returns its answer.
    fn authenticate(
        &mut self,
        uid: &TokenId,
        transmit: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>,
    ) -> bool;
}

/// UID only: every card is taken at its word.
pub struct UidOnly;

impl CardAuthenticator for UidOnly {
    fn authenticate(
        &mut self,
        _uid: &TokenId,
        _transmit: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>,
    ) -> bool {
        true
    }
}
