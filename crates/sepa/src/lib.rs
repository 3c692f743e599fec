//! # tapster-sepa
//!
//! The bank's side of a payout run: what the organiser uploads to their
//! bank to pay the guests' rests back.
//!
//! - [`epc`]: text in the EPC's basic Latin character set, transliterated
//!   (Müller → Mueller) and cut to a field's length.
//! - [`pain001`]: a SEPA credit transfer initiation, ISO 20022
//!   `pain.001.001.09` (the version German banks require from November
//!   2026), with its control sums and unique ids.

pub mod epc;
pub mod pain001;
#[doc(hidden)]
pub mod testing;

pub use pain001::{credit_transfer_file, CreditTransfers, Debtor, SepaError, Transfer};
