//! # tapster-server
//!
//! The event's source of truth that terminals sync with: the PointOfSale
//! API of seed 001 over HTTPS, backed by SQLite (embedded, the default) or
//! PostgreSQL (several server processes on one database).
//!
//! - [`store`]: the books (events, terminals, catalogue, wallets, transactions).
//! - [`bands`]: the event's master keys for genuine wristbands, SUN links.
//! - [`manage`]: the manager's catalogue, terminals, staff, wallets, reports, conflicts.
//! - [`ingest`]: offline terminals' batches, the wallet feed, heartbeats.
//! - [`till_payout`]: a connected till's payout, decided online.
//! - [`http`]: the terminals' routes, thin over the store.
//! - [`admin`]: the manager's routes.
//! - [`audit`]: the audit trail of staff actions, chained and append-only.
//! - [`backoffice`]: vendors and their settlement, stock per location;
//!   [`stock_admin`]: the manager's routes for them; [`wristcoin`]: seed
//!   000's eight objects as read-only lists; [`shop_products`]: seed 004's
//!   products.
//! - [`devices`], [`passes`], [`walletapp`]: seed 003 — devices (the
//!   event's terminals with the seed's fields), locations, QR passes
//!   made, imported, scanned and redeemed once; [`vouchers`]: a voucher
//!   redeemed at a till as promo credit on the wallet.
//! - [`background`]: low-priority threads, so guests never slow the bars.
//! - [`guest`], [`portal`]: the guest pages — the code on a wristband, a
//!   guest's balance and history, blocking a lost band, a payout request.
//! - [`mail`]: receipts to guests through the organiser's mail relay.
//! - [`fiscal`]: the event's fiscal device (Germany's TSE): tills' receipts
//!   signed, outages seen by the manager.
//! - [`payout_run`]: the organiser pays the requests by a SEPA file:
//!   wallets frozen, exported, booked as done, or revoked.
//! - [`db`]: one SQL interface over SQLite and PostgreSQL.
//! - `writer`: one writer thread with group commit, and read connections.
//! - [`transfer`]: a SQLite database copied to PostgreSQL, verified.
//! - [`transport`]: HTTPS (own or operator certificate, reloaded), plain HTTP
//!   only when asked for, the redirect listener, setup codes.
//! - [`limit`]: rate limiting per token and endpoint (429 with `Retry-After`).
//! - [`openapi`]: the OpenAPI document, generated from the handlers.
//! - [`error`]: what can go wrong, with its HTTP status and `error_code`.

pub mod admin;
pub mod audit;
pub mod background;
pub mod backoffice;
pub mod bands;
pub mod db;
pub mod devices;
pub mod error;
pub mod fiscal;
pub mod guest;
pub mod http;
pub mod ingest;
pub mod limit;
pub mod mail;
pub mod manage;
pub mod openapi;
pub mod passes;
pub mod payout_run;
pub mod portal;
pub mod shop_products;
pub mod stock_admin;
pub mod store;
pub mod till_payout;
pub mod transfer;
pub mod transport;
pub mod vouchers;
pub mod walletapp;
pub mod winston;
pub mod wristcoin;
mod writer;
