//! What the UI receives and sends: plain serialisable values whose
//! TypeScript declarations are generated from here (`ui/src/lib/bindings.ts`,
//! checked by the `bindings_are_current` test).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Cashier,
    Supervisor,
    Manager,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Tender {
    Wallet,
    Cash,
    Card,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    De,
    En,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Cashier {
    pub id: String,
    pub name: String,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ShiftInfo {
    pub id: String,
    pub cashier_name: String,
    /// Milliseconds since the Unix epoch.
    #[ts(type = "number")]
    pub opened_at: i64,
    #[ts(type = "number")]
    pub float_cents: i64,
    /// The open shift belongs to whoever is logged in.
    pub mine: bool,
}

/// In demo mode the login screen shows who can log in, and the simulated
/// reader offers wristbands to tap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct DemoInfo {
    pub staff: Vec<DemoStaff>,
    pub wristbands: Vec<DemoWristband>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct DemoStaff {
    pub name: String,
    pub role: Role,
    pub pin: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct DemoWristband {
    pub token: String,
    pub label: String,
}

/// Everything the UI needs to know about where it runs and who is there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Session {
    pub event_name: String,
    pub terminal_name: String,
    pub currency: String,
    pub language: Language,
    pub cashier: Option<Cashier>,
    pub shift: Option<ShiftInfo>,
    /// `None` outside demo mode.
    pub demo: Option<DemoInfo>,
    /// Ask for a confirmation (old and new balance) before a wristband pays.
    pub confirm_wallet_payments: bool,
    /// Full screen; the app closes only with a manager's PIN.
    pub kiosk: bool,
    /// First start of a till: show the setup screen.
    pub needs_setup: bool,
    /// Lock after this many seconds without a touch.
    #[ts(type = "number")]
    pub lock_after_secs: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Category {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub subtitle: Option<String>,
    pub category: String,
    #[ts(type = "number")]
    pub price_cents: i64,
    /// The cup deposit added with each unit, if any.
    #[ts(type = "number | null")]
    pub deposit_cents: Option<i64>,
    pub background: String,
    pub text_colour: String,
    /// Units left when the product counts stock.
    #[ts(type = "number | null")]
    pub stock: Option<i64>,
    pub available: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Catalog {
    pub categories: Vec<Category>,
    /// In this terminal's grid order.
    pub products: Vec<Product>,
    /// The returnable cup, for deposit returns.
    pub cup: Option<Product>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CartItem {
    pub product: String,
    #[ts(type = "number")]
    pub quantity: i64,
}

/// A priced line (deposits are lines of their own).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct QuoteLine {
    pub product: String,
    pub name: String,
    #[ts(type = "number")]
    pub quantity: i64,
    #[ts(type = "number")]
    pub unit_cents: i64,
    #[ts(type = "number")]
    pub total_cents: i64,
    pub deposit: bool,
}

/// What a cart costs, priced by the ledger's rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Quote {
    pub lines: Vec<QuoteLine>,
    #[ts(type = "number")]
    pub total_cents: i64,
    #[ts(type = "number")]
    pub deposit_cents: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Receipt {
    /// The receipt as text, for the on-screen preview.
    pub text: String,
    /// Sent to a printer's queue (false: no printer, shown on screen only).
    pub queued: bool,
}

/// The outcome of an operation that moved money.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Done {
    pub entry_id: String,
    #[ts(type = "number")]
    pub receipt_number: i64,
    pub kind: String,
    pub tender: Tender,
    /// Seen from the guest: negative for what they paid.
    #[ts(type = "number")]
    pub amount_cents: i64,
    pub token_masked: Option<String>,
    #[ts(type = "number | null")]
    pub balance_after_cents: Option<i64>,
    /// Decided by this terminal's offline rules (the server confirms later).
    pub offline: bool,
    pub receipt: Receipt,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct RecentEntry {
    pub kind: String,
    #[ts(type = "number")]
    pub amount_cents: i64,
    #[ts(type = "number")]
    pub at: i64,
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct DepositHeld {
    pub name: String,
    #[ts(type = "number")]
    pub count: i64,
}

/// A wristband's wallet as this terminal knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Wallet {
    pub token: String,
    pub token_masked: String,
    pub known: bool,
    pub blocked: bool,
    #[ts(type = "number")]
    pub balance_cents: i64,
    pub deposits: Vec<DepositHeld>,
    pub recent: Vec<RecentEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ShiftClosed {
    #[ts(type = "number")]
    pub z_number: i64,
    #[ts(type = "number")]
    pub expected_cents: i64,
    #[ts(type = "number")]
    pub counted_cents: i64,
    #[ts(type = "number")]
    pub difference_cents: i64,
    pub receipt: Receipt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Connectivity {
    /// No server: this terminal's ledger is the truth.
    Standalone,
    Starting,
    Online,
    Degraded,
    Offline,
    AuthFailed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReaderState {
    Ready,
    NoReader,
    ServiceDown,
    Simulated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PrinterState {
    /// Receipts are shown on screen only.
    None,
    Ok,
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    NotReady,
    Offline,
    Unknown,
}

/// The status bar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Status {
    pub connectivity: Connectivity,
    /// Entries not yet confirmed by the server.
    #[ts(type = "number")]
    pub pending: i64,
    pub reader: ReaderState,
    pub reader_name: Option<String>,
    pub printer: PrinterState,
    #[ts(type = "number")]
    pub print_jobs_waiting: i64,
}

/// A wristband (or staff badge) on the reader.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Tap {
    pub token: String,
    pub token_masked: String,
    /// Microseconds since the Unix epoch when the tap reached the app, for
    /// the tap-to-screen measurement.
    #[ts(type = "number")]
    pub at_micros: i64,
}

/// What the customer display (a second window facing the guest) shows;
/// the cashier's window sends it as the `customer-view` event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CustomerView {
    /// Nothing to pay: the event's name.
    Idle { event_name: String },
    /// The cart as the cashier builds it.
    Cart {
        lines: Vec<CustomerLine>,
        #[ts(type = "number")]
        total_cents: i64,
        currency: String,
    },
    /// Paid (or topped up, credited): the amount and the balance after.
    Done {
        #[ts(type = "number")]
        amount_cents: i64,
        #[ts(type = "number | null")]
        balance_after_cents: Option<i64>,
        currency: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CustomerLine {
    pub name: String,
    #[ts(type = "number")]
    pub quantity: i64,
    #[ts(type = "number")]
    pub total_cents: i64,
}

/// What the server says about a terminal token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ServerCheck {
    pub terminal_id: String,
    pub terminal_name: String,
}

/// A server connection as the setup screen edits it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ServerFields {
    pub url: String,
    pub event: String,
    pub token: String,
}
