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
    /// Another's shift that whoever is logged in may close (a supervisor
    /// or manager: count the drawer, the Z report names them).
    pub closable: bool,
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
    /// The event's time zone (IANA, `Europe/Berlin`): reports label hours
    /// by it, whatever the till's own clock is set to.
    pub time_zone: String,
    pub language: Language,
    pub cashier: Option<Cashier>,
    pub shift: Option<ShiftInfo>,
    /// `None` outside demo mode.
    pub demo: Option<DemoInfo>,
    /// Ask for a confirmation (old and new balance) before a wristband pays.
    pub confirm_wallet_payments: bool,
    /// Full screen; the app closes only with a manager's PIN.
    pub kiosk: bool,
    /// A wristband reader types on the keyboard: keypads take touch only
    /// (its digits must not become a PIN or an amount).
    pub keyboard_reader: bool,
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
    /// The picture on the tile (a web address or an inline `data:` image).
    pub thumbnail_url: Option<String>,
    /// While on sale: the ribbon's colour and text across the tile.
    pub ribbon_colour: Option<String>,
    pub sale_text: Option<String>,
    pub on_sale: bool,
    /// Sold out at this till's bar.
    pub sold_out: bool,
}

/// An item running low or out at this till's bar, as the server last said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct StockWarning {
    pub item: String,
    pub name: String,
    pub unit: String,
    /// What is left, in the item's unit (`12.5`).
    pub on_hand: String,
    /// `low` or `out`.
    pub level: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Catalog {
    pub categories: Vec<Category>,
    /// In this terminal's grid order.
    pub products: Vec<Product>,
    /// The returnable cup, for deposit returns.
    pub cup: Option<Product>,
    pub stock_warnings: Vec<StockWarning>,
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
    /// What a pass takes off (negative): not a product.
    pub discount: bool,
    /// A tip: the staff's, not revenue.
    pub tip: bool,
}

/// A tip chosen on the till: an amount, or a share of the goods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TipChoice {
    Amount {
        #[ts(type = "number")]
        cents: i64,
    },
    /// 1000 is 10 %.
    Percent { basis_points: u32 },
}

/// A bill: one order paid step by step (wristbands, cash, card).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct BillView {
    pub id: String,
    /// `open`, `settled` or `cancelled`.
    pub status: String,
    pub lines: Vec<QuoteLine>,
    #[ts(type = "number")]
    pub total_cents: i64,
    #[ts(type = "number")]
    pub tip_cents: i64,
    #[ts(type = "number")]
    pub paid_cents: i64,
    #[ts(type = "number")]
    pub remaining_cents: i64,
    pub payments: Vec<BillPaymentView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct BillPaymentView {
    pub tender: Tender,
    pub token_masked: Option<String>,
    #[ts(type = "number")]
    pub amount_cents: i64,
    /// Cash handed over (the change is the difference).
    #[ts(type = "number | null")]
    pub tendered_cents: Option<i64>,
    #[ts(type = "number")]
    pub change_cents: i64,
    pub reference: Option<String>,
    /// Decided by this till's offline rules.
    pub offline: bool,
    pub cancelled: bool,
}

/// What one payment towards a bill did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct BillStep {
    pub bill: BillView,
    /// Cash to hand back for this payment.
    #[ts(type = "number")]
    pub change_cents: i64,
    /// When this payment covered the rest: the settled sale and its receipt.
    pub done: Option<Done>,
}

/// What a cart costs, priced by the ledger's rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Quote {
    pub lines: Vec<QuoteLine>,
    #[ts(type = "number")]
    pub total_cents: i64,
    #[ts(type = "number")]
    pub deposit_cents: i64,
    /// Why the pass asked for is not taken off (its product is not in the
    /// cart…): the cart is priced without it.
    pub pass_waits: Option<String>,
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
    /// How much of the balance is promo credit (vouchers): spent first,
    /// never paid out.
    #[ts(type = "number")]
    pub promo_cents: i64,
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
    /// Who closed it, when not its cashier.
    pub closed_by_name: Option<String>,
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
    /// The server presented another certificate than the pinned one (or
    /// one that does not validate): nothing is sent to it.
    Untrusted,
    /// The server refuses this till's requests for good (wrong address,
    /// a route it does not have): a setting to fix; selling goes on offline.
    Incompatible,
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
    /// Connected to the server over plain HTTP (a red "not encrypted").
    pub unencrypted: bool,
    /// Entries not yet confirmed by the server.
    #[ts(type = "number")]
    pub pending: i64,
    pub reader: ReaderState,
    pub reader_name: Option<String>,
    pub printer: PrinterState,
    #[ts(type = "number")]
    pub print_jobs_waiting: i64,
    /// Goes up when sync took in a changed catalogue: the grid reloads.
    #[ts(type = "number")]
    pub catalog_version: u64,
    /// What the cashier must be told and confirm, oldest first.
    pub notices: Vec<Notice>,
}

/// Something the cashier must see and confirm: a wristband sale the till
/// was asking the server about when it died, settled at the restart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Notice {
    /// Confirmed with `dismiss_notice`.
    pub id: String,
    /// `interrupted_sale_recorded` (the server took the money: the sale is
    /// now in this till's books) or `interrupted_sale_not_applied` (nothing
    /// was debited: sell again if the guest still wants it); for a payout
    /// `interrupted_payout_recorded` (the server paid it out: hand the
    /// guest the amount) or `interrupted_payout_not_applied`.
    pub kind: String,
    pub token_masked: String,
    #[ts(type = "number | null")]
    pub amount_cents: Option<i64>,
    /// The entry's number on this till, when recorded.
    #[ts(type = "number | null")]
    pub entry_sequence: Option<i64>,
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
        /// The guest may choose a tip here (the display sends
        /// `customer-tip` with a `TipChoice`, or null for none).
        #[serde(default)]
        offer_tip: bool,
        /// The tip on the cart now, in basis points when it is a share.
        #[serde(default)]
        tip_basis_points: Option<u32>,
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
    /// The certificate to pin, `sha256:…` (empty: validated against the
    /// system's roots).
    pub fingerprint: String,
}

// ---- Manager screens ------------------------------------------------------

/// Where a report's figures come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReportSource {
    /// This till's own ledger.
    Till,
    /// The whole event, from the server (connected tills only).
    Event,
}

/// A report's filter as the report screen sets it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReportQuery {
    pub source: ReportSource,
    /// Milliseconds since the Unix epoch; `null`: from the start.
    #[ts(type = "number | null")]
    pub from_ms: Option<i64>,
    /// Exclusive; `null`: until now.
    #[ts(type = "number | null")]
    pub until_ms: Option<i64>,
    pub terminal: Option<String>,
    pub cashier: Option<String>,
}

/// One row of a report table: a product, category, cashier, tender…
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ReportRow {
    pub key: String,
    pub label: String,
    #[ts(type = "number")]
    pub count: i64,
    #[ts(type = "number")]
    pub amount_cents: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct VatLine {
    /// e.g. `19 %`.
    pub rate: String,
    #[ts(type = "number")]
    pub gross_cents: i64,
    #[ts(type = "number")]
    pub net_cents: i64,
    #[ts(type = "number")]
    pub vat_cents: i64,
}

/// Revenue in one hour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct HourBar {
    #[ts(type = "number")]
    pub start_ms: i64,
    #[ts(type = "number")]
    pub count: i64,
    #[ts(type = "number")]
    pub amount_cents: i64,
}

/// Something to filter by: a terminal or a cashier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Choice {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Report {
    pub query: ReportQuery,
    #[ts(type = "number")]
    pub generated_at_ms: i64,
    #[ts(type = "number")]
    pub sales_count: i64,
    #[ts(type = "number")]
    pub revenue_cents: i64,
    #[ts(type = "number | null")]
    pub revenue_net_cents: Option<i64>,
    #[ts(type = "number | null")]
    pub vat_cents: Option<i64>,
    pub by_product: Vec<ReportRow>,
    pub by_category: Vec<ReportRow>,
    pub by_vat_rate: Vec<VatLine>,
    pub by_hour: Vec<HourBar>,
    pub by_cashier: Vec<ReportRow>,
    pub by_terminal: Vec<ReportRow>,
    pub sales_by_tender: Vec<ReportRow>,
    pub top_ups_by_tender: Vec<ReportRow>,
    pub cancellations: Vec<ReportRow>,
    /// Cups issued, returned, wallets paid out (count and amount).
    pub deposits_issued: ReportRow,
    pub deposits_returned: ReportRow,
    pub payouts: ReportRow,
    /// Promo credit (vouchers): credited, and spent on sales (event report).
    pub vouchers_credited: ReportRow,
    pub promo_spent: ReportRow,
    /// What the filter can be set to.
    pub terminals: Vec<Choice>,
    pub cashiers: Vec<Choice>,
    /// The event report is available (connected with manager access).
    pub event_available: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Pdf,
    Csv,
    /// A SEPA credit transfer file (payout runs only).
    Xml,
    /// The tax auditors' DSFinV-K export.
    Zip,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Exported {
    pub path: String,
    #[ts(type = "number")]
    pub bytes: i64,
}

/// A product as the catalogue editor shows and saves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProductForm {
    /// `null` for a new product.
    pub id: Option<String>,
    /// A new product's key, made once when its form opens: saving it again
    /// (an answer lost, a second tap) names the same product, never a
    /// second one.
    #[serde(default)]
    pub creation_key: Option<String>,
    pub name: String,
    pub subtitle: Option<String>,
    pub category: String,
    #[ts(type = "number")]
    pub price_cents: i64,
    /// In basis points: 1900 is 19 %.
    pub vat_basis_points: u32,
    pub background: String,
    pub text_colour: String,
    #[ts(type = "number | null")]
    pub sale_price_cents: Option<i64>,
    pub on_sale: bool,
    pub use_stock: bool,
    #[ts(type = "number")]
    pub stock: i64,
    #[ts(type = "number | null")]
    pub available_from_ms: Option<i64>,
    #[ts(type = "number | null")]
    pub available_until_ms: Option<i64>,
    pub deposit_product: Option<String>,
    pub returnable: bool,
    pub archived: bool,
    /// The tile's picture: an `https://` address or an inline `data:image/…`.
    pub thumbnail_url: Option<String>,
    /// The ribbon across the tile while on sale, and its text.
    pub ribbon_colour: Option<String>,
    pub sale_text: Option<String>,
    pub description: Option<String>,
}

/// The catalogue editor's view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct CatalogueAdmin {
    pub categories: Vec<Category>,
    /// Every product, archived ones last.
    pub products: Vec<ProductForm>,
    /// This till's grid, in order.
    pub layout: Vec<String>,
    /// VAT rates in use, in basis points, for the picker.
    pub vat_rates: Vec<u32>,
    /// Edits go to the server (connected) or this till's ledger.
    pub edits_go_to_server: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct StaffMember {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub badge_masked: Option<String>,
    pub active: bool,
}

/// A staff member as the staff screen saves them. `pin`: a new PIN (must
/// be set for a new member), `null` keeps the old one.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StaffForm {
    pub id: Option<String>,
    /// A new member's key, made once when the form opens: saving again
    /// (an answer lost) names the same member, never a second one.
    #[serde(default)]
    pub creation_key: Option<String>,
    pub name: String,
    pub role: Role,
    pub pin: Option<String>,
    pub active: bool,
}

/// A terminal of the event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct TerminalInfo {
    pub id: String,
    pub name: String,
    pub permission: String,
    /// This till.
    pub this_till: bool,
    #[ts(type = "number | null")]
    pub last_seen_ms: Option<i64>,
    pub version: Option<String>,
    #[ts(type = "number | null")]
    pub pending: Option<i64>,
    pub archived: bool,
}

/// An entry the server refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct RejectedLine {
    pub terminal: String,
    /// This till's receipt number, when it is one of ours.
    #[ts(type = "number | null")]
    pub receipt_number: Option<i64>,
    pub kind: String,
    #[ts(type = "number | null")]
    pub amount_cents: Option<i64>,
    pub reason: String,
    #[ts(type = "number")]
    pub at_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct OverdrawnLine {
    pub token_masked: String,
    #[ts(type = "number")]
    pub balance_cents: i64,
}

/// Sync status and what needs a manager's attention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct SyncOverview {
    pub connectivity: Connectivity,
    #[ts(type = "number")]
    pub pending: i64,
    #[ts(type = "number | null")]
    pub oldest_pending_ms: Option<i64>,
    pub rejected: Vec<RejectedLine>,
    /// Wallet sales sent to a plain PointOfSale server whose answer was
    /// lost and whose outcome its balances cannot tell; never sent again.
    pub uncertain: Vec<RejectedLine>,
    /// Their total, as seen from the guests (debits negative).
    #[ts(type = "number")]
    pub uncertain_total_cents: i64,
    /// Entries the server cannot take (top-ups, cash sales to a plain
    /// PointOfSale server), kept in this till's books.
    pub kept_locally: Vec<RejectedLine>,
    #[ts(type = "number")]
    pub kept_locally_total_cents: i64,
    pub overdrawn: Vec<OverdrawnLine>,
    /// `false`: only this till's own figures (standalone, or no manager
    /// access to the server).
    pub from_server: bool,
    /// Offline sales this till decided and the server has not yet counted.
    #[ts(type = "number")]
    pub offline_exposure_cents: i64,
    /// Bands this till refused as not genuine, newest first.
    pub refused_bands: Vec<RefusedBand>,
    /// The event takes bands by their UID alone: a permanent warning.
    pub uid_only: bool,
}

/// What kind of pass a batch makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PassKind {
    /// Promo credit on the wristband (`amount_cents`).
    Voucher,
    /// `percent` off the goods.
    PercentOff,
    /// `amount_cents` off the goods.
    AmountOff,
    /// One unit of `products[0]` free.
    FreeProduct,
    /// `allowance_count` of `products` free per `allowance_per`.
    Allowance,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AllowancePer {
    Day,
    Event,
}

/// A new batch of passes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PassBatchForm {
    #[ts(type = "number")]
    pub count: i64,
    pub title: String,
    pub subtitle: String,
    pub kind: PassKind,
    #[ts(type = "number")]
    pub amount_cents: i64,
    #[ts(type = "number")]
    pub percent: i64,
    #[ts(type = "number")]
    pub allowance_count: i64,
    pub allowance_per: AllowancePer,
    pub products: Vec<String>,
    #[ts(type = "number | null")]
    pub valid_from_ms: Option<i64>,
    #[ts(type = "number | null")]
    pub valid_until_ms: Option<i64>,
    #[ts(type = "number")]
    pub max_redemptions: i64,
}

/// A batch of passes as the manager's list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct PassBatchLine {
    pub batch: String,
    pub title: String,
    pub subtitle: String,
    pub pass_type: String,
    /// What each pass gives, in words.
    pub gives: String,
    #[ts(type = "number")]
    pub count: i64,
    #[ts(type = "number")]
    pub redeemed: i64,
    /// Codes of blocked passes.
    pub blocked: Vec<String>,
    #[ts(type = "number | null")]
    pub valid_from_ms: Option<i64>,
    #[ts(type = "number | null")]
    pub valid_until_ms: Option<i64>,
}

/// What a line typed by a scanner in keyboard mode was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ScannedLine {
    /// A pass's code, to look up.
    pub pass_code: Option<String>,
    /// A wristband's UID, delivered as a tap.
    pub wristband: bool,
}

/// A pass scanned at the till: what it is and what it does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ScannedPass {
    pub code: String,
    pub code_masked: String,
    pub title: String,
    pub subtitle: String,
    /// `voucher`, `discount` or `allowance`.
    pub pass_type: String,
    /// What it gives, in the till's language ("5,00 € Guthaben").
    pub gives: String,
    #[ts(type = "number")]
    pub redemptions_left: i64,
    /// A voucher: credited to a wristband as promo credit.
    pub creditable: bool,
    /// A discount or allowance: taken off a cart.
    pub applicable: bool,
}

/// A voucher credited to a wristband.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct VoucherCredited {
    pub title: String,
    pub token_masked: String,
    #[ts(type = "number")]
    pub credited_cents: i64,
    #[ts(type = "number")]
    pub balance_cents: i64,
    #[ts(type = "number")]
    pub promo_cents: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct PassesView {
    /// Newest first.
    pub batches: Vec<PassBatchLine>,
}

/// The Payouts tab: the organiser's settings for payouts asked for on the
/// guest pages, the runs that pay them, what nobody claimed, and the
/// guest pages' wrong-code alarms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct PayoutsView {
    pub settings: PayoutSettingsForm,
    /// Newest first.
    pub runs: Vec<PayoutRunLine>,
    #[ts(type = "number")]
    pub unclaimed_bands: i64,
    #[ts(type = "number")]
    pub unclaimed_cents: i64,
    /// Of those, bands whose guest asked for a payout that no run has
    /// taken yet (or that a run left out, below the minimum).
    #[ts(type = "number")]
    pub unclaimed_requested: i64,
    /// The request window's end has passed.
    pub deadline_passed: bool,
    #[ts(type = "number")]
    pub wrong_codes_this_hour: i64,
    #[ts(type = "number")]
    pub wrong_code_budget: i64,
    /// Hours past the budget, newest first: `hour · count`.
    pub alarms: Vec<String>,
}

/// The organiser's payout settings as the form edits them; empty texts
/// are "not set".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PayoutSettingsForm {
    pub debtor_name: String,
    pub debtor_iban: String,
    pub donation_target: String,
    pub remittance: String,
    pub page_text: String,
    #[ts(type = "number")]
    pub fee_cents: i64,
    #[ts(type = "number")]
    pub minimum_cents: i64,
    /// Requests close then; `null`: open until a run takes them.
    #[ts(type = "number | null")]
    pub closes_at_ms: Option<i64>,
    /// Country codes whose accounts are paid, e.g. `DE AT`.
    pub countries: String,
    /// Paid money nobody asked for once requests closed: `retain` or
    /// `donate`.
    pub unclaimed: String,
}

/// A payout run as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct PayoutRunLine {
    pub id: String,
    /// `pending`, `exported`, `done` or `revoked`.
    pub state: String,
    pub created_at: String,
    pub execution_date: String,
    #[ts(type = "number")]
    pub bands: i64,
    #[ts(type = "number")]
    pub transfers: i64,
    #[ts(type = "number")]
    pub transfer_cents: i64,
    #[ts(type = "number")]
    pub fee_cents: i64,
    #[ts(type = "number")]
    pub donation_cents: i64,
    #[ts(type = "number")]
    pub total_cents: i64,
    pub warnings: Vec<String>,
}

/// A new payout run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewPayoutRunForm {
    #[ts(type = "number | null")]
    pub max_count: Option<i64>,
    #[ts(type = "number | null")]
    pub max_cents: Option<i64>,
    /// `YYYY-MM-DD`; `null`: the next day.
    pub execution_date: Option<String>,
    /// Run although tills have unsent sales or requests are still open.
    pub accept_warnings: bool,
}

/// The encoding station (a manager personalising wristbands).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct EncodingStation {
    /// The reader encodes every band put on it (not taps).
    pub active: bool,
    /// The band key version bands get; `null`: this till has no band keys.
    pub key_version: Option<u8>,
    /// The guest page bands get a SUN link to, if any.
    pub link: Option<String>,
    #[ts(type = "number")]
    pub encoded: i64,
    #[ts(type = "number")]
    pub failed: i64,
    /// Newest first (the last 50).
    pub bands: Vec<EncodedBand>,
}

/// A band put on the encoding station.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct EncodedBand {
    pub token_masked: Option<String>,
    /// The key version it had (0: blank) and has now; `null` on failure.
    pub from_version: Option<u8>,
    pub key_version: Option<u8>,
    pub link: bool,
    /// Why it was not encoded (put it on again).
    pub error: Option<String>,
    #[ts(type = "number")]
    pub at_ms: i64,
}

/// A band refused as not genuine (a clone, a blank band).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct RefusedBand {
    pub terminal: String,
    /// The full UID, to block the wallet a clone copies.
    pub token: String,
    pub token_masked: String,
    pub reason: String,
    #[ts(type = "number")]
    pub at_ms: i64,
}

/// The settings screen. Device settings live in `tapster.toml`; receipt
/// texts and offline limits are the event's (the server's when connected).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SettingsForm {
    pub language: Language,
    /// A printer URI (`tcp://host:9100`, `file:///dev/usb/lp0`…) or `null`.
    pub printer: Option<String>,
    /// `58` or `80` (mm).
    pub paper_mm: u32,
    /// A PC/SC reader name prefix, or `null` for the first reader.
    pub reader: Option<String>,
    #[ts(type = "number")]
    pub lock_after_secs: i64,
    pub confirm_wallet_payments: bool,
    pub receipt_header: String,
    pub receipt_footer: String,
    /// Offline: the largest single debit.
    #[ts(type = "number")]
    pub offline_per_sale_cents: i64,
    /// Offline: unconfirmed debits per wallet on this till.
    #[ts(type = "number")]
    pub offline_wallet_cap_cents: i64,
    /// Offline: unconfirmed debits of all wallets on this till.
    #[ts(type = "number")]
    pub offline_terminal_cap_cents: i64,
    /// Offline: what passes took off carts on this till, unconfirmed.
    #[ts(type = "number")]
    pub offline_pass_cap_cents: i64,
    /// The event requires genuine bands (NTAG 424 DNA) to pay and be
    /// topped up; `false`: UID only (legacy hardware, clones pay too).
    pub genuine_bands_required: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct SettingsView {
    pub form: SettingsForm,
    /// PC/SC readers seen now.
    pub readers: Vec<String>,
    /// Receipt texts and offline limits are the server's (read-only here).
    pub event_settings_from_server: bool,
    /// Where the settings file is.
    pub config_file: String,
    /// Fields of the form the command line or environment fixes: saving
    /// them in the file changes nothing while the app is started so.
    pub pinned: Vec<String>,
}

/// After saving: some settings apply only after a restart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct SettingsSaved {
    pub view: SettingsView,
    pub restart_needed: bool,
}

/// Without the PIN: a form may end up in a log line.
impl std::fmt::Debug for StaffForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffForm")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("pin", &self.pin.as_ref().map(|_| "…"))
            .field("active", &self.active)
            .finish()
    }
}

/// The manager's stock screen: live stock per bar, items, vendors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct StockView {
    pub locations: Vec<StockLocation>,
    pub items: Vec<InventoryItemView>,
    /// Every active item at every location.
    pub rows: Vec<StockRowView>,
    pub sold_out: Vec<SoldOutView>,
    pub vendors: Vec<VendorView>,
    /// Products to mark sold out.
    pub products: Vec<ProductName>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ProductName {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct StockLocation {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct InventoryItemView {
    pub id: String,
    pub name: String,
    pub unit: String,
    /// Decimal in the unit (`20`, `0.5`).
    pub low_stock: String,
    pub on_hand: String,
    pub vendor_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct StockRowView {
    pub item_id: String,
    pub item_name: String,
    pub unit: String,
    pub location_id: String,
    pub location_name: String,
    pub on_hand: String,
    pub low_stock: String,
    /// `ok`, `low` or `out`.
    pub level: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct SoldOutView {
    pub location_id: String,
    pub product_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct VendorView {
    pub id: String,
    pub name: String,
    /// Basis points: 1500 is 15 %.
    #[ts(type = "number")]
    pub commission_bp: i64,
    #[ts(type = "number")]
    pub fixed_fee_cents: i64,
    pub locations: Vec<String>,
}

/// A delivery, transfer, waste or correction as the stock screen enters
/// it. Quantities are decimals in the item's unit as typed (`30`, `0,5`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS)]
pub struct MovementForm {
    /// `delivery`, `transfer`, `waste` or `correction`.
    pub kind: String,
    pub item_id: String,
    /// The location (for a transfer: where it goes from).
    pub location_id: String,
    /// Where a transfer goes to.
    pub to_location_id: Option<String>,
    pub quantity: String,
    pub note: Option<String>,
}

/// A physical count at a bar.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS)]
pub struct CountForm {
    pub item_id: String,
    pub location_id: String,
    pub counted: String,
    pub note: Option<String>,
}

/// A new or changed inventory item.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS)]
pub struct InventoryItemForm {
    /// `null`: a new item (its id from the name).
    pub id: Option<String>,
    pub name: String,
    pub unit: String,
    pub low_stock: String,
}

/// A new or changed vendor.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS)]
pub struct VendorForm {
    pub id: Option<String>,
    pub name: String,
    #[ts(type = "number")]
    pub commission_bp: i64,
    #[ts(type = "number")]
    pub fixed_fee_cents: i64,
    pub locations: Vec<String>,
}

/// The Fiscal tab (Germany's TSE): the device the server signs with,
/// whether it can sign now, the outages per till, and the business's
/// details for the tax auditors' export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct FiscalView {
    /// `off`, `simulated` or `fiskaly`.
    pub scheme: String,
    pub certified: bool,
    /// Whether the device answered just now (none when signing is off).
    pub reachable: Option<bool>,
    /// What is wrong with it, in words to act on; empty when healthy.
    pub health_message: String,
    pub tss_serial: String,
    #[ts(type = "number | null")]
    pub since_ms: Option<i64>,
    #[ts(type = "number")]
    pub signed: i64,
    #[ts(type = "number")]
    pub unsigned: i64,
    pub outages: Vec<OutageLine>,
    pub business: BusinessForm,
}

/// A till that refuses to start, as its window shows it: its ledger fails
/// the hash-chain check (changed outside Tapster).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct StartupFailure {
    /// The ledger file, to hand to whoever investigates (not to delete).
    pub ledger_path: String,
    pub terminal: String,
    #[ts(type = "number")]
    pub problems: i64,
    /// `gap` (entries missing), `broken_link` or `content_changed` (edited).
    pub first_kind: String,
    /// The entry where the chain first breaks.
    #[ts(type = "number")]
    pub first_sequence: i64,
}

/// The Audit tab's filter: empty fields filter nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, TS)]
pub struct AuditForm {
    /// A staff member's id.
    pub staff: String,
    /// An action's name (`payout`, `product_changed`…).
    pub action: String,
    /// A wristband's token id.
    pub wallet: String,
    #[ts(type = "number | null")]
    pub from_ms: Option<i64>,
    #[ts(type = "number | null")]
    pub until_ms: Option<i64>,
}

/// The audit trail as the tab shows it, newest first, with the chain's
/// check over the whole trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct AuditView {
    pub intact: bool,
    #[ts(type = "number | null")]
    pub first_broken: Option<i64>,
    /// Records in the whole trail.
    #[ts(type = "number")]
    pub total: i64,
    pub rows: Vec<AuditRow>,
    /// Only the newest records are shown; the export has them all.
    pub limited: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct AuditRow {
    #[ts(type = "number")]
    pub seq: i64,
    #[ts(type = "number")]
    pub at_ms: i64,
    /// `admin`, `staff`, `guest` or `console`.
    pub actor_kind: String,
    /// The staff member's name (or id, or the guest's band).
    pub actor: String,
    pub terminal: String,
    pub action: String,
    pub wallet: String,
    pub subject: String,
    /// The action's figures as JSON text: `{"price":[450,500]}`.
    pub detail: String,
}

/// A stretch of a till's receipts that were not signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct OutageLine {
    pub till: String,
    #[ts(type = "number")]
    pub from_ms: i64,
    #[ts(type = "number")]
    pub to_ms: i64,
    #[ts(type = "number")]
    pub receipts: i64,
    pub reason: String,
}

/// Who runs the tills, as the DSFinV-K export names them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BusinessForm {
    pub name: String,
    pub street: String,
    pub postcode: String,
    pub city: String,
    /// ISO 3166 alpha-3: `DEU`.
    pub country: String,
    pub tax_number: String,
    pub vat_id: String,
}

/// The Fiscal tab's form. fiskaly's secret is never shown again: to change
/// the device, enter its access anew. `Debug` hides the access.
#[derive(Clone, PartialEq, Eq, Deserialize, TS)]
pub struct FiscalForm {
    /// `off`, `simulated` or `fiskaly`.
    pub scheme: String,
    pub fiskaly_api_key: String,
    pub fiskaly_api_secret: String,
    pub fiskaly_tss_id: String,
    /// Empty: fiskaly's production address.
    pub fiskaly_base_url: String,
    pub business: BusinessForm,
}

impl std::fmt::Debug for FiscalForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FiscalForm")
            .field("scheme", &self.scheme)
            .field("fiskaly_base_url", &self.fiskaly_base_url)
            .field("business", &self.business)
            .finish_non_exhaustive()
    }
}
