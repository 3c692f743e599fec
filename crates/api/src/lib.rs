//! # tapster-api
//!
//! The JSON shapes of the PointOfSale API exactly as seed 001 documents
//! them, and Tapster's extensions, shared by `tapster-server` and the sync
//! client. Amounts are integer cents; every entity travels in a `data` key.
//!
//! - [`Data`]: the `{"data": …}` wrapper.
//! - [`ErrorBody`]: `{"error_code", "error_message"}` (seed 000's convention).
//! - [`TerminalResource`], [`ProductResource`]: `GET pos/terminal`.
//! - [`WalletResource`], [`TransactionResource`], [`ApiTimestamp`]: wallets and their transactions.
//! - [`CreateTransaction`]: `POST pos/wallets/token/{token_id}/transactions`.
//! - [`CreatePayout`], [`PayoutApplied`]: `POST pos/wallets/token/{token_id}/payout`, a till's payout decided online.
//! - [`BatchRequest`], [`BatchResponse`]: offline terminals' ledgers, many entries at once.
//! - [`WalletFeed`]: wallets changed since a cursor, for terminals' offline balance cache.
//! - [`Heartbeat`]: a terminal's sign of life for the manager's fleet view.
//! - [`BandKeysResource`]: the event's band keys for its tills; [`SunTapResource`]: a verified SUN link.
//! - [`audit`]: the audit trail of staff actions, and its verification.
//! - [`backoffice`]: vendors, settlement, inventory and stock per location.
//! - [`fiscal`]: signing receipts with the event's TSE, its setup, outages.
//! - [`manage`]: the manager API's shapes, and staff sessions for it.
//! - [`payouts`]: payout runs, unclaimed balances, the guest pages' alarms.
//! - [`walletapp`]: seed 003's devices and passes.

pub mod audit;
pub mod backoffice;
pub mod fiscal;
pub mod manage;
pub mod payouts;
pub mod walletapp;
pub mod winston;

/// `GET pos/band-keys`: the event's master keys for genuine wristbands, for
/// a paired till (over the pinned TLS channel only). Key material: a till
/// keeps it in a file only its user reads, never in its ledger or a log.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BandKeysResource {
    pub current: BandKeyResource,
    pub previous: Option<BandKeyResource>,
}

/// One version of the master key: 32 hex digits.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BandKeyResource {
    pub version: u8,
    pub key: String,
}

impl std::fmt::Debug for BandKeysResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "BandKeysResource(version {}, <hidden>)",
            self.current.version
        )
    }
}

impl std::fmt::Debug for BandKeyResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BandKeyResource(version {}, <hidden>)", self.version)
    }
}

/// `GET guest/sun?e=…&c=…`: a band's SUN link (a guest's phone tapped it),
/// verified once, and the wallet it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SunTapResource {
    pub token_id: String,
    /// The band's read counter: goes up at every tap by a phone.
    pub counter: u32,
    pub key_version: u8,
    /// `null` when the band is not paired to a wallet.
    pub wallet: Option<WalletResource>,
}

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every entity is wrapped in a `data` key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Data<T> {
    pub data: T,
}

impl<T> Data<T> {
    pub fn new(data: T) -> Self {
        Data { data }
    }
}

/// A file's bytes as an answer's body (a PDF, a PNG): documentation only.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Binary(pub Vec<u8>);

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error_code: String,
    pub error_message: String,
}

/// What a terminal may do to wallets.
pub use tapster_ledger::model::Permission;

/// A product as a terminal sees it in `GET pos/terminal`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProductResource {
    pub id: ServerProductId,
    pub friendly_name: String,
    /// The price a guest pays now, in cents.
    pub price: i64,
}

/// A product's id as a PointOfSale server gives it: Tapster's are
/// strings (`"espresso"`); other servers of seed 001 use numbers. A till
/// sends it back exactly as it came.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ServerProductId {
    Number(i64),
    Text(String),
}

impl std::fmt::Display for ServerProductId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerProductId::Number(n) => write!(f, "{n}"),
            ServerProductId::Text(s) => f.write_str(s),
        }
    }
}

/// `POST pos/wallets/token/{token_id}/transactions` exactly as seed 001
/// spells it, for servers that offer nothing beyond it: the products by
/// the server's own ids, a description and a tag as strings (such servers
/// refuse `null`), and the idempotency key (which they may ignore).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosTransaction {
    pub products: Vec<ServerProductId>,
    pub description: String,
    pub tag: String,
    pub idempotency_key: String,
}

/// Extensions a server offers beyond seed 001, so clients can tell a
/// Tapster server from a plain PointOfSale API server.
pub mod capability {
    /// The idempotency key is also taken from `Idempotency-Key`.
    pub const IDEMPOTENCY_HEADER: &str = "idempotency_header";
    /// `POST pos/transactions/batch`.
    pub const TRANSACTIONS_BATCH: &str = "transactions_batch";
    /// `GET pos/wallets?since=`.
    pub const WALLET_FEED: &str = "wallet_feed";
    /// `POST pos/terminal/heartbeat`.
    pub const HEARTBEAT: &str = "heartbeat";
    /// `GET pos/catalog`.
    pub const CATALOG: &str = "catalog";
    /// `GET pos/passes?since=`: discount and allowance passes for
    /// offline tills, by code digest.
    pub const PASS_FEED: &str = "pass_feed";
    /// `POST pos/audit/shift-closes`: a till's shift closes for the
    /// event's audit trail.
    pub const SHIFT_CLOSES: &str = "shift_closes";
}

/// `GET pos/terminal`. `api_token` appears only right after the token was
/// made (creating the terminal or rolling its token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TerminalResource {
    pub id: String,
    pub friendly_name: String,
    #[schema(value_type = String, example = "debit")]
    pub permission: Permission,
    pub products: Vec<ProductResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_token: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
}

/// A terminal as it appears inside a transaction (no products, no token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TerminalRef {
    pub id: String,
    pub friendly_name: String,
    #[schema(value_type = String, example = "debit")]
    pub permission: Permission,
}

/// A moment as seed 001 shows it: ISO 8601 UTC with microseconds, and
/// `DD.MM.YYYY hh:mm` for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiTimestamp {
    pub raw: String,
    pub readable: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransactionResource {
    pub id: String,
    /// Cents; credits positive, debits negative.
    pub amount: i64,
    pub description: Option<String>,
    pub tag: Option<String>,
    pub terminal: Option<TerminalRef>,
    pub timestamp: ApiTimestamp,
}

/// A wallet. `transactions` only when a wallet is fetched with its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WalletResource {
    pub id: String,
    pub token_id: String,
    pub created_at: String,
    pub balance: i64,
    pub paired_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transactions: Option<Vec<TransactionResource>>,
}

/// `POST pos/wallets/token/{token_id}/transactions`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTransaction {
    /// Product ids; repeats count as more units.
    pub products: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// Tapster's extension: the code of a discount or allowance pass to
    /// take off the products, redeemed in the same write as the debit
    /// (409 when it is used up, 422 when blocked, out of its window or
    /// not for these products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<String>,
    /// Tapster's extension: returnable cups the guest brings back with the
    /// order, by product id (repeats count): their deposit nets against
    /// it, at most the cups the wallet has out (422 otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returns: Vec<String>,
    /// Tapster's extension: a tip on top, in cents (at most 100.00),
    /// booked as the till's shift's tip, not revenue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tip_cents: Option<i64>,
    /// Tapster's extension: instead of products, a payment of `amount`
    /// cents towards a bill the till keeps open (split payments); the till
    /// books the bill's goods when its payments cover it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill: Option<BillPaymentBody>,
}

/// A wallet's payment towards a till's open bill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BillPaymentBody {
    /// The bill's id (a UUID the till made).
    pub bill_id: String,
    /// Cents, more than zero.
    pub amount: i64,
}

/// `POST pos/wallets/token/{token_id}/payout` (Tapster's extension): a
/// connected till pays out a wristband's whole paid balance (promo credit
/// stays), decided by the server, as online debits are. The answer is
/// [`PayoutApplied`] with the transaction's id and cursor in the headers of
/// `…/transactions`; the same key again gets the same answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePayout {
    /// `cash` or `card` (a refund to the guest's card).
    pub tender: String,
    /// Who pays it out at the till (the audit trail names them).
    pub staff_id: String,
    pub idempotency_key: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PayoutApplied {
    /// What the guest gets, in cents (positive).
    pub amount: i64,
    /// The wallet after it.
    pub wallet: WalletResource,
}

/// Response header of `POST …/transactions`: the transaction's id.
pub const TRANSACTION_ID_HEADER: &str = "x-tapster-transaction-id";
/// Response header of `POST …/transactions`: the wallet feed's cursor at
/// which the transaction was applied.
pub const CURSOR_HEADER: &str = "x-tapster-cursor";
/// Response header of `POST …/transactions`: how much of the wallet's
/// balance after it is promo credit (vouchers), in cents.
pub const PROMO_HEADER: &str = "x-tapster-promo-balance";

/// One entry of a terminal's ledger, as the ledger stores it, with its
/// postings: the server recomputes its hash and checks the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchEntry {
    /// The entry exactly as the terminal's ledger stores it.
    pub entry: tapster_ledger::model::Entry,
    /// Its postings: `{"account": "wallet:04A1…", "amount": -450}`.
    pub postings: Vec<tapster_ledger::postings::Posting>,
}

/// `POST pos/transactions/batch`: entries in the terminal's sequence order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub entries: Vec<BatchEntry>,
}

/// The most entries one batch may carry.
pub const MAX_BATCH_ENTRIES: usize = 1000;

/// What the server decided about one entry. `Created` and `Exists` are both
/// success for a client; `Conflict` and `Rejected` are final for the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    Created,
    Exists,
    Conflict,
    Rejected,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EntryResult {
    pub idempotency_key: String,
    pub status: EntryStatus,
    pub transaction_id: Option<String>,
    /// The wallet feed's cursor at which the entry was applied.
    pub cursor: Option<i64>,
    /// The wallet's balance right after the entry, for wallet entries.
    pub balance: Option<i64>,
    pub reason: Option<String>,
}

/// A problem with the terminal's sequence or hash chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChainProblem {
    /// `gap`, `repeat`, `broken_chain` or `tampered`.
    pub problem: String,
    pub sequence: i64,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchResponse {
    pub results: Vec<EntryResult>,
    /// The highest sequence of this terminal the server holds.
    pub last_sequence: i64,
    pub problems: Vec<ChainProblem>,
}

/// A wallet in the feed: what a terminal needs to decide offline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FeedWallet {
    pub token_id: String,
    pub wallet_id: String,
    pub balance: i64,
    /// How much of `balance` is promo credit from vouchers: spent first,
    /// never paid out.
    #[serde(default)]
    pub promo_balance: i64,
    /// Blocked by a manager, or overdrawn: no debits until topped up.
    pub blocked: bool,
    pub cursor: i64,
    /// Outstanding cups: `{"product": "cup", "count": 2}`.
    pub deposits: Vec<tapster_ledger::model::DepositCount>,
}

/// `GET pos/wallets?since={cursor}&limit={n}`, in cursor order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WalletFeed {
    pub wallets: Vec<FeedWallet>,
    /// Ask again with `since` = this.
    pub next_cursor: i64,
    /// More changes are waiting beyond this page.
    pub more: bool,
}

/// `GET pos/passes?since={version}&limit={n}`: the discount and allowance
/// passes changed after `since`, in version order, each by the digest of
/// its code (tills never receive the codes themselves).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PassFeed {
    pub passes: Vec<tapster_ledger::passes::KnownPass>,
    /// Ask again with `since` = this.
    pub next_version: i64,
    /// More changes are waiting beyond this page.
    pub more: bool,
}

/// A staff member as a terminal needs them to log in offline: the PIN
/// only as its Argon2id hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogStaff {
    pub id: String,
    pub name: String,
    #[schema(value_type = String, example = "cashier")]
    pub role: tapster_ledger::model::Role,
    pub pin_hash: String,
    /// The PIN's tag under the catalogue's `pin_lookup_key`, so a till
    /// finds whose PIN was typed without trying every hash. Absent for a
    /// member whose PIN was set before the event had a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub pin_tag: Option<String>,
    pub badge: Option<String>,
    pub active: bool,
}

/// `GET pos/catalog`: what a terminal needs to sell and to decide offline:
/// the event settings (offline limits, maximum balance), categories, the
/// full products and the staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Catalog {
    pub settings: tapster_ledger::model::EventSettings,
    pub categories: Vec<tapster_ledger::model::Category>,
    pub products: Vec<tapster_ledger::model::Product>,
    pub staff: Vec<CatalogStaff>,
    /// The event's secret key for the staff's PIN tags (`v1.p.<hex>`), for
    /// the event's tills only; absent until the event's first PIN is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^v1\\.[pf]\\.[0-9a-f]{64}$")]
    pub pin_lookup_key: Option<tapster_ledger::pin::PinLookupKey>,
    /// Items running low or out at the asking till's location.
    #[serde(default)]
    pub stock_warnings: Vec<tapster_ledger::inventory::StockWarning>,
}

/// `POST pos/terminal/heartbeat`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    pub app_version: String,
    pub pending: i64,
}

/// Seed 001's timestamps with the readable one in the event's time zone:
/// `2021-10-31T20:45:20.000000Z` and, in Europe/Berlin, `31.10.2021 21:45`.
/// The seed's own example shows `08:45` for 20:45 UTC, a 12-hour clock
/// without am/pm; people at a bar read the 24-hour one unambiguously.
pub fn api_timestamp_in(millis: i64, zone: &jiff::tz::TimeZone) -> ApiTimestamp {
    let utc = api_timestamp(millis);
    let readable = jiff::Timestamp::from_millisecond(millis)
        .map(|t| {
            t.to_zoned(zone.clone())
                .strftime("%d.%m.%Y %H:%M")
                .to_string()
        })
        .unwrap_or(utc.readable);
    ApiTimestamp {
        raw: utc.raw,
        readable,
    }
}

/// Seed 001's timestamps in UTC: `2021-10-31T20:45:20.000000Z` and `31.10.2021 20:45`.
pub fn api_timestamp(millis: i64) -> ApiTimestamp {
    let (year, month, day, hour, minute, second) = civil_from_millis(millis);
    let micros = millis.rem_euclid(1000) * 1000;
    ApiTimestamp {
        raw: format!(
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{micros:06}Z"
        ),
        readable: format!("{day:02}.{month:02}.{year:04} {hour:02}:{minute:02}"),
    }
}

/// Splits Unix milliseconds into UTC calendar fields (Howard Hinnant's
/// days-from-civil algorithm, run backwards).
fn civil_from_millis(millis: i64) -> (i64, i64, i64, i64, i64, i64) {
    let secs = millis.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_look_like_seed_001() {
        // 2021-10-31T20:45:20Z
        let t = api_timestamp(1_635_713_120_000);
        assert_eq!(t.raw, "2021-10-31T20:45:20.000000Z");
        assert_eq!(t.readable, "31.10.2021 20:45");
        assert_eq!(api_timestamp(0).raw, "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            api_timestamp(951_782_400_123).raw,
            "2000-02-29T00:00:00.123000Z"
        );
    }

    #[test]
    fn wallet_shape_matches_the_document() {
        let wallet = WalletResource {
            id: "wal_K6lIeaZ9H3UZPqxm".into(),
            token_id: "04A1B2C3".into(),
            created_at: "2021-10-31T20:44:11.000000Z".into(),
            balance: 150,
            paired_user: None,
            transactions: None,
        };
        let json = serde_json::to_value(Data::new(wallet)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"data": {"id": "wal_K6lIeaZ9H3UZPqxm", "token_id": "04A1B2C3",
                "created_at": "2021-10-31T20:44:11.000000Z", "balance": 150, "paired_user": null}})
        );
    }

    #[test]
    fn transaction_requests_refuse_unknown_fields() {
        let ok: CreateTransaction = serde_json::from_str(
            r#"{"products": ["espresso", "espresso", "cappuccino"], "description": "Your coffee order in H building", "tag": "coffee", "idempotency_key": "0QwKc2c9jUIxPyaHEjYQ"}"#,
        )
        .unwrap();
        assert_eq!(ok.products.len(), 3);
        assert!(
            serde_json::from_str::<CreateTransaction>(r#"{"products": [], "amount": 5}"#).is_err()
        );
    }
}
