//! # tapster-fiscal
//!
//! Fiscal signing for events in Germany (KassenSichV, AO §146a): every
//! till transaction is signed by a certified technical security device
//! (TSE), its signature data goes on the receipt, and the tax auditor gets
//! a DSFinV-K export. Behind one interface ([`Tse`]) so that other
//! countries' schemes (Austria's RKSV) can plug in; an event without a
//! fiscal scheme signs nothing and works as before.
//!
//! - [`cases`]: the ledger's entries as DSFinV-K business cases, one
//!   table.
//! - [`process`]: what a TSE signs of a receipt (`Kassenbeleg-V1`'s
//!   process data: gross per VAT rate, payments cash and non-cash).
//! - [`tse`]: the interface — start, finish, health — and what a signature
//!   gives back; [`tse::sign_or_outage`]: selling never waits for a TSE.
//! - [`qr`]: the receipt's QR code text (`V0;…`).
//! - [`dsfinvk`]: the tax auditors' export (DSFinV-K 2.3): 20 CSV files,
//!   `index.xml` and the GDPdU DTD (`src/gdpdu-01-09-2004.dtd`, the tax
//!   administration's published text, as opencore/gdpdu-java ships it).
//! - [`fiskaly`]: a cloud TSE, fiskaly SIGN DE (API v2).
//! - [`simulated`]: a TSE for demos and events outside Germany; every
//!   signature says it is not certified.
//! - `double` (feature `test-double`): a local stand-in for fiskaly's API
//!   that the tests run against. It is a test double, named as such.
//!
//! ## Design
//!
//! **Where signing happens: on the server.** A till asks the server, which
//! holds the TSE credentials and signs with one TSE client per till (the
//! till's id is the client's serial number, as DSFinV-K's cash register).
//! - Tills at a festival reach the event's server on the site network;
//!   many have no route to the Internet, which a cloud TSE needs.
//! - The credentials stay in one place, with the server's other secrets,
//!   not on dozens of tills that get lost or stolen.
//! - A connected till already talks to the server for every wallet sale.
//!
//! **The flow.** The till commits the entry to its ledger first (a sale
//! is never lost to a signing problem), then asks the server to sign it
//! (`POST pos/fiscal/receipts` with the entry) and waits at most 5 s; the
//! answer — a signature or an outage — is kept in the till's ledger for
//! the receipt and its reprints, and by the server once per entry (a
//! retry gets the same answer, never a second signature). The server
//! computes the process data itself from the entry ([`cases`] is the one
//! place the rule lives) and refuses to sign an entry more than two
//! minutes after its till's time. Signing on the till's side runs on a
//! thread of its own (`tapster_sync::fiscal`), so the sale's path needs
//! no runtime of a particular kind.
//!
//! Signing is a second request after the sale rather than a header on the
//! online debit's answer: cash and card sales, top-ups and cancellations
//! never go to the server online (they reach it in batches), and one
//! request for every kind of receipt is simpler than two paths.
//!
//! Alternatives weighed:
//! - *Each till signs directly with the cloud TSE*: needs Internet at
//!   every till and the credentials on each. An offline till cannot sign
//!   either way.
//! - *A hardware TSE (USB/microSD) per till*: signs offline, but costs a
//!   device per till, a driver per vendor, and devices fail in the heat
//!   and dust of a field. Possible later behind the same [`Tse`] trait.
//! - *Signing later, when an offline till syncs*: not allowed — a TSE
//!   signs at the time of the transaction; a signature made hours later
//!   with a later time would misstate when the sale happened.
//!
//! **When the TSE cannot be reached** (the cloud, the network to it, or an
//! offline till): selling never stops. The transaction is recorded
//! without a signature and marked as a TSE outage
//! ([`tse::Signing::Outage`]): the receipt says "TSE ausgefallen", the
//! DSFinV-K export fills the fields for a failed TSE, and the manager sees
//! the outage windows. This is what the tax administration's application
//! decree (AEAO zu §146a, 1.9–1.10) asks of a failed TSE: keep selling,
//! record the failure, fix it without undue delay.
//!
//! **One transaction per receipt, started and finished at its end.** The
//! sale is put together on the till, and the TSE transaction is started
//! and finished in one go when it is paid (fiskaly's revisions ACTIVE →
//! FINISHED). Orders held open over time (bills) sign each payment.
//! A cancellation is a receipt of its own with the amounts negated
//! (`Beleg`, DSFinV-K's `BON_STORNO`), a count's difference at close one
//! with `DifferenzSollIst`.
//!
//! **Not yet:** the TSE's certificate in the export (fiskaly has it; the
//! server does not fetch it yet), the opening float as `Anfangsbestand`
//! (shifts are the tills'), cash in and out (Tapster has no such entry),
//! Austria's RKSV (the [`Tse`] trait is where it would plug in).

pub mod cases;
#[cfg(feature = "test-double")]
pub mod double;
pub mod dsfinvk;
pub mod fiskaly;
pub mod process;
pub mod qr;
pub mod simulated;
pub mod tse;

pub use cases::{BusinessCase, FiscalLine, VatKey};
pub use process::{PaymentKind, ProcessData};
pub use tse::{sign_or_outage, Health, Signed, Signing, Tse, TseError};
