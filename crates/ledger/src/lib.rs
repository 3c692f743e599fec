//! # tapster-ledger
//!
//! The business rules of Tapster and the terminal's local SQLite ledger.
//! The server and the app call these; they never repeat them.
//!
//! - [`money`]: `Cents` and VAT rates, checked arithmetic only.
//! - [`ids`]: wristband token ids and the other identifiers as types.
//! - [`clock`]: injected time and id generation.
//! - [`model`]: settings, catalogue, terminals, staff, wallets, entries, shifts.
//! - [`pricing`]: what a cart costs (sale prices, deposits, stock, windows).
//! - [`rules`]: funds, offline limits, permissions, roles, cancellations.
//! - [`passes`]: QR passes — discounts, vouchers, allowances: redeemable
//!   when, and what they take off a cart.
//! - [`bills`]: split payments, tips and change: what covers a bill.
//! - [`inventory`]: stock per bar: what a product consumes, movements, counts.
//! - [`settlement`]: what each vendor is owed, from the lines of the entries.
//! - [`promo`]: promo credit from vouchers — spent first, never paid out.
//! - [`postings`]: double entry: every entry as postings that sum to zero.
//! - [`chain`]: the per-terminal hash chain that makes tampering visible.
//! - [`pin`]: staff PINs hashed with Argon2id.
//! - [`guest_code`]: the code on a wristband that opens the guest pages.
//! - [`payout_request`]: a guest's request to get the rest paid out.
//! - [`store`]: the SQLite ledger that runs all of the above in transactions.
//! - [`error`]: what can go wrong, in words a cashier can act on.
//! - [`demo`]: the demo bar used by demo mode, the server's `demo` command and tests.

pub mod bills;
pub mod chain;
pub mod clock;
pub mod demo;
pub mod error;
#[doc(hidden)]
pub mod failpoints;
pub mod guest_code;
pub mod ids;
pub mod inventory;
pub mod model;
pub mod money;
pub mod passes;
pub mod payout_request;
pub mod pin;
pub mod postings;
pub mod pricing;
pub mod promo;
pub mod rules;
pub mod settlement;
pub mod store;

pub use clock::{
    local_hour_start, Clock, IdGenerator, ManualClock, SequentialIds, SystemClock, Timestamp,
    UuidV7Ids,
};
pub use error::{LedgerError, Result};
pub use ids::{
    BillId, CategoryId, EntryId, IdempotencyKey, ItemId, ProductId, ShiftId, StaffId, TerminalId,
    TokenId, VendorId,
};
pub use money::{Cents, VatRate};
pub use store::{Ledger, LedgerOptions, LedgerReader};
