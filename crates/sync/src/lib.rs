//! # tapster-sync
//!
//! Keeps a terminal's ledger and tapster-server in agreement, whatever the
//! network does: every entry is committed locally first and delivered
//! exactly once under its idempotency key; the server's decision about an
//! entry is final; the wallet feed keeps the offline balance cache fresh.
//!
//! - [`client`]: the server's API over pinned HTTPS, errors sorted by what to do.
//! - [`engine`]: a sync round (push the outbox, then pull), and online
//!   authorisation of a sale with its offline fallback.
//! - [`fiscal`]: a receipt signed by the event's TSE through the server,
//!   or an outage when no answer comes in time.
//! - [`task`]: the background loop, its backoff and its status.
//! - [`manager`]: the manager API with a staff session, for manager screens.
//! - [`passes`]: a scanned pass looked up, a voucher redeemed onto a wristband.
//! - [`plain`]: a server that offers seed 001 only: its catalogue, and no
//!   double charge when it ignores idempotency keys.
//! - [`probe`]: what a server offers, before a till is pointed at it.

pub mod client;
pub mod engine;
pub mod fiscal;
pub mod manager;
pub mod passes;
pub mod plain;
pub mod probe;
pub mod task;

pub use client::{ApiError, Applied, Reply, ServerAddress, ServerClient, Transport};
pub use engine::{InterruptedDebit, SaleError, SyncConfig, SyncError, Syncer};
pub use manager::{ManagerSession, SummaryFilter};
pub use probe::{probe, ProbeReport};
pub use tapster_tls::{Fingerprint, PinState, Pins, TlsFailure, Trust};
pub use task::{start, Connection, SyncHandle, SyncStatus};
