//! Seed 003 (walletapp devices and passes) as Tapster speaks it: devices
//! are the event's terminals, passes are QR codes redeemed at them. Every
//! answer but the scans is wrapped in `{"message": "Request successful",
//! "data": …}`.

use serde::{Deserialize, Serialize};
use tapster_ledger::model::Permission;
use tapster_ledger::passes::Benefit;
use utoipa::ToSchema;

/// The seed's envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Envelope<T> {
    pub message: String,
    pub data: T,
}

impl<T> Envelope<T> {
    pub fn ok(data: T) -> Self {
        Envelope {
            message: "Request successful".into(),
            data,
        }
    }
}

/// `{"message": …}` alone: archive and restore.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub message: String,
}

/// A location: a bar or booth.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LocationResource {
    pub identifier: String,
    pub address: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLocation {
    pub address: String,
}

/// A device (a till or scanner) as the seed shows it. `pin` is always
/// `null` in answers: PINs are kept only as hashes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceResource {
    pub name: String,
    pub identifier: String,
    pub external_device_id: Option<String>,
    pub add_multiplier: i64,
    pub subtract_multiplier: i64,
    pub pin: Option<String>,
    pub location: Option<LocationResource>,
    /// Tapster: the terminal's id in the PointOfSale API and its permission.
    pub terminal_id: String,
    #[schema(value_type = String, example = "debit")]
    pub permission: Permission,
    pub archived: bool,
}

/// `POST devices`: all of the seed's required fields; `permission` is
/// Tapster's (default `debit`).
#[derive(Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    pub name: String,
    pub location_id: String,
    pub external_device_id: String,
    pub pin: String,
    #[serde(default = "one")]
    pub add_multiplier: i64,
    #[serde(default = "one")]
    pub subtract_multiplier: i64,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "debit")]
    pub permission: Option<Permission>,
}

/// `PUT devices/{identifier}`: `pin` required (the seed's rule), the rest
/// changes only when given.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub location_id: Option<String>,
    #[serde(default)]
    pub external_device_id: Option<String>,
    pub pin: String,
    #[serde(default)]
    pub add_multiplier: Option<i64>,
    #[serde(default)]
    pub subtract_multiplier: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "debit")]
    pub permission: Option<Permission>,
}

impl std::fmt::Debug for NewDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewDevice")
            .field("name", &self.name)
            .field("external_device_id", &self.external_device_id)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for DeviceUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceUpdate")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn one() -> i64 {
    1
}

/// `POST devices/{identifier}/token` (Tapster): the device token, shown
/// this once (the seed's "key icon").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceToken {
    pub identifier: String,
    pub api_token: String,
}

/// `POST devices/scan`. `code` may also come as the query parameter the
/// seed names. `idempotency_key` (Tapster): a retry of the same scan with
/// the same key gets the first answer again instead of "already redeemed".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// A pass as a scan shows it (the seed's fields; `pass_type` is
/// `discount`, `voucher` or `allowance`). Tapster adds what it gives and
/// how often it may still be redeemed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PassInfo {
    pub pass_identifier: String,
    pub pass_type: String,
    pub pass_installed: bool,
    pub user_identifier: Option<String>,
    pub user_first_name: Option<String>,
    pub pass_title: String,
    pub pass_subtitle: String,
    pub reference: Option<String>,
    pub benefit: Benefit,
    pub redemptions_left: u32,
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
    pub blocked: bool,
    /// How often it can be redeemed in all (an allowance: per period).
    #[serde(default = "one_redemption")]
    pub max_redemptions: u32,
    /// An imported third-party code.
    #[serde(default)]
    pub external: bool,
}

fn one_redemption() -> u32 {
    1
}

impl PassInfo {
    /// The pass as the ledger's rules take it (a till prices a cart with
    /// it, and offline lets it go no more often than it allows).
    pub fn pass(&self) -> Result<tapster_ledger::passes::Pass, tapster_ledger::error::InputError> {
        Ok(tapster_ledger::passes::Pass {
            code: tapster_ledger::passes::PassCode::parse(&self.pass_identifier)?,
            benefit: self.benefit.clone(),
            title: self.pass_title.clone(),
            subtitle: self.pass_subtitle.clone(),
            valid_from: self.valid_from.map(tapster_ledger::Timestamp),
            valid_until: self.valid_until.map(tapster_ledger::Timestamp),
            max_redemptions: self.max_redemptions,
            blocked: self.blocked,
            reference: self.reference.clone(),
            external: self.external,
        })
    }
}

/// `{"message": "Pass already redeemed" | "Code already redeemed", "data": …}`
/// with status 409, and the other refusals (blocked, not yet or no longer
/// valid) with status 422 and their own message.
pub type PassRefused = Envelope<PassInfo>;

/// A 409 of a scan or a voucher: the pass is used up (`{"message", "data"}`
/// as the seed answers), or the idempotency key was used for another
/// request (the API's [`crate::ErrorBody`], `idempotency_conflict`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ScanConflict {
    UsedUp(Box<Envelope<PassInfo>>),
    Key(crate::ErrorBody),
}

/// `POST manage/passes`: a batch of new passes with random codes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassBatch {
    pub count: u32,
    pub title: String,
    #[serde(default)]
    pub subtitle: String,
    pub benefit: Benefit,
    #[serde(default)]
    pub valid_from: Option<i64>,
    #[serde(default)]
    pub valid_until: Option<i64>,
    #[serde(default)]
    pub max_redemptions: Option<u32>,
    /// A retry with the same key (a double tap, a lost answer) gets the
    /// batch made the first time instead of a second one; the key used
    /// for another batch is 409.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// A batch made: its id and its codes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PassBatch {
    pub batch: String,
    pub codes: Vec<String>,
}

/// Redemptions counted by pass type, location and device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RedemptionRow {
    pub pass_type: String,
    pub location: Option<String>,
    pub terminal_id: String,
    pub redemptions: i64,
}

/// `POST manage/passes/import`: third parties' codes as CSV (a header row
/// with `code`, optional `reference` and `first_name`), all giving what
/// the other fields say (`count` is not used).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportPasses {
    pub title: String,
    #[serde(default)]
    pub subtitle: String,
    pub benefit: Benefit,
    #[serde(default)]
    pub valid_from: Option<i64>,
    #[serde(default)]
    pub valid_until: Option<i64>,
    #[serde(default)]
    pub max_redemptions: Option<u32>,
    pub csv: String,
}

/// A pass in the manager's list: what a scan shows, and its batch and
/// redemptions so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ManagedPass {
    #[serde(flatten)]
    pub info: PassInfo,
    pub batch: String,
    pub redeemed: u32,
}

/// `POST pos/wallets/token/{token_id}/vouchers`: a till redeems a voucher
/// pass onto a wristband's wallet as promo credit. A retry with the same
/// key gets the first answer (202); the key used for another request is 409.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemVoucher {
    pub code: String,
    pub idempotency_key: String,
}

/// A voucher credited: the wallet after it (as the wallet feed shows it,
/// so the till takes it as confirmed), what was credited, and the pass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VoucherRedeemed {
    pub wallet: crate::FeedWallet,
    /// Cents of promo credit added.
    pub credited: i64,
    pub transaction_id: String,
    pub pass: PassInfo,
}

/// An amount in the currency as a JSON number (`12.50`), as seed 004 sends
/// prices: read exactly to cents from the number's text (more than two
/// decimals is refused), written back with two decimals. Never a float.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[schema(value_type = f64, example = 12.5)]
pub struct Decimal(pub tapster_ledger::Cents);

impl Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let cents = self.0 .0;
        let sign = if cents < 0 { "-" } else { "" };
        let abs = cents.unsigned_abs();
        let text = format!("{sign}{}.{:02}", abs / 100, abs % 100);
        serde_json::value::RawValue::from_string(text)
            .map_err(serde::ser::Error::custom)?
            .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <Box<serde_json::value::RawValue>>::deserialize(deserializer)?;
        let text = raw.get().trim();
        if !text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            return Err(serde::de::Error::custom(format!(
                "a price is a number like 12.50, not {text}"
            )));
        }
        tapster_ledger::Cents::parse_decimal(text)
            .map(Decimal)
            .map_err(|e| serde::de::Error::custom(format!("{}: {}", e.field, e.reason)))
    }
}

/// `{"identifier", "name"}`: the event, as seed 004's organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Organization {
    pub identifier: String,
    pub name: String,
}

/// A product as seed 004 shows it, with Tapster's own fields after the
/// seed's (category, VAT, vendor, recipe, deposit).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShopProduct {
    pub identifier: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub description: Option<String>,
    pub organization: Organization,
    pub price: Decimal,
    pub points: i64,
    pub show_title: bool,
    pub show_subtitle: bool,
    pub primary_color: String,
    pub text_color: String,
    pub ribbon_color: Option<String>,
    pub thumbnail_url: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub use_start_and_end: bool,
    pub sale: bool,
    pub sale_points: Option<i64>,
    pub sale_price: Option<Decimal>,
    pub sale_text: Option<String>,
    pub stock: i64,
    pub use_stock: bool,
    pub archived: bool,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub category_id: String,
    /// Basis points (1900 = 19 %).
    pub vat_bp: u32,
    pub vendor_id: Option<String>,
    pub deposit_product: Option<String>,
    pub returnable: bool,
    pub consumes: Vec<tapster_ledger::inventory::Consumption>,
}

fn present<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `POST products` (every field but `title` optional, defaults as a new
/// product has them) and `PUT products/{identifier}` (partial: a field not
/// sent is kept; `null` clears what may be empty). Dates are `2026-08-01`
/// or the API's timestamps.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductChanges {
    /// Tapster: the id to give a new product (default: from the title).
    #[serde(default)]
    pub identifier: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub subtitle: Option<Option<String>>,
    /// Must be the event's id when sent.
    #[serde(default)]
    pub organization_id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub thumbnail_url: Option<Option<String>>,
    #[serde(default)]
    pub show_title: Option<bool>,
    #[serde(default)]
    pub show_subtitle: Option<bool>,
    #[serde(default)]
    pub price: Option<Decimal>,
    #[serde(default)]
    pub points: Option<i64>,
    #[serde(default)]
    pub use_stock: Option<bool>,
    #[serde(default)]
    pub stock: Option<i64>,
    #[serde(default)]
    pub use_start_and_end: Option<bool>,
    #[serde(default)]
    pub sale: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub sale_price: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub sale_points: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub sale_text: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub start_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub end_date: Option<Option<String>>,
    #[serde(default)]
    pub primary_color: Option<String>,
    #[serde(default)]
    pub text_color: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub ribbon_color: Option<Option<String>>,
    /// Tapster: the category (default: the first one).
    #[serde(default)]
    pub category_id: Option<String>,
    /// Tapster: VAT in basis points (default 1900).
    #[serde(default)]
    pub vat_bp: Option<u32>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub vendor_id: Option<Option<String>>,
    #[serde(default)]
    pub consumes: Option<Vec<tapster_ledger::inventory::Consumption>>,
}
