//! The back office's shapes: vendors and their settlement, inventory items,
//! stock movements and counts per location (bar or booth), sold-out flags.
//! Quantities are integers in thousandths of the item's unit (30 l of beer
//! is 30000 for an item counted in `l`); money is integer cents.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A vendor: an independent business at the event, settled with at the end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VendorResource {
    pub id: String,
    pub name: String,
    /// The organiser's commission in basis points of the gross (1500 = 15 %).
    pub commission_bp: i64,
    /// A fixed fee per settlement, in cents.
    pub fixed_fee: i64,
    /// The locations (identifiers) the vendor runs.
    pub locations: Vec<String>,
    /// The products the vendor owns.
    pub products: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// `PUT manage/vendors/{vendor_id}`: creates or replaces a vendor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveVendor {
    pub name: String,
    #[serde(default)]
    pub commission_bp: i64,
    #[serde(default)]
    pub fixed_fee: i64,
    /// The locations the vendor runs (replaces the earlier list).
    #[serde(default)]
    pub locations: Vec<String>,
}

/// Something counted at the bars.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InventoryItemResource {
    pub id: String,
    pub name: String,
    pub unit: String,
    /// Tills are warned at or below this (thousandths of the unit).
    pub low_stock: i64,
    pub vendor_id: Option<String>,
    pub archived: bool,
    /// Stock over all locations (thousandths of the unit).
    pub on_hand: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// `PUT manage/inventory/items/{item_id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveInventoryItem {
    pub name: String,
    pub unit: String,
    #[serde(default)]
    pub low_stock: i64,
    #[serde(default)]
    pub vendor_id: Option<String>,
    #[serde(default)]
    pub archived: bool,
}

/// `POST manage/inventory/movements`: a delivery, transfer, waste or
/// correction, booked by hand. Quantities are positive (a correction's may
/// be negative); transfers name `from` and `to`, the others `location`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMovement {
    /// `delivery`, `transfer`, `waste` or `correction`.
    pub kind: String,
    pub item_id: String,
    #[serde(default)]
    pub location_id: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    pub quantity: i64,
    #[serde(default)]
    pub note: Option<String>,
}

/// One row of the inventory transaction report (seed 000).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InventoryTransaction {
    pub transaction_id: String,
    pub item_id: String,
    pub item_name: String,
    pub unit: String,
    pub location_id: String,
    pub location_name: String,
    /// `delivery`, `transfer_out`, `transfer_in`, `waste`, `correction`,
    /// `sale` or `count`.
    pub kind: String,
    /// Signed: what the location's stock moved by.
    pub quantity: i64,
    /// The sale or cancellation that served the goods.
    pub sale_transaction_id: Option<String>,
    pub actor: String,
    pub note: Option<String>,
    pub timestamp: String,
}

/// `POST manage/inventory/counts`: what was found at a location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCount {
    pub item_id: String,
    pub location_id: String,
    /// What was counted, thousandths of the unit.
    pub counted: i64,
    #[serde(default)]
    pub note: Option<String>,
}

/// One row of the inventory count report (seed 000).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InventoryCount {
    pub count_id: String,
    pub item_id: String,
    pub item_name: String,
    pub unit: String,
    pub location_id: String,
    pub location_name: String,
    /// What the books said before the count.
    pub expected: i64,
    pub counted: i64,
    /// `counted − expected`.
    pub difference: i64,
    pub actor: String,
    pub note: Option<String>,
    pub timestamp: String,
}

/// One item at one location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StockRow {
    pub item_id: String,
    pub item_name: String,
    pub unit: String,
    pub location_id: String,
    pub location_name: String,
    pub on_hand: i64,
    pub low_stock: i64,
    /// `ok`, `low` or `out`.
    pub level: String,
}

/// A product sold out at one location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SoldOutRow {
    pub location_id: String,
    pub product_id: String,
    pub since: String,
    pub actor: String,
}

/// `GET manage/inventory/stock`: live stock per location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StockOverview {
    pub rows: Vec<StockRow>,
    pub sold_out: Vec<SoldOutRow>,
    /// Every location of the event (bars and booths).
    pub locations: Vec<crate::walletapp::LocationResource>,
}

/// `PUT`/`DELETE manage/locations/{location_id}/sold-out/{product_id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SoldOutChanged {
    pub location_id: String,
    pub product_id: String,
    pub sold_out: bool,
}

/// VAT of one rate in a settlement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SettlementVat {
    /// Basis points (1900 = 19 %).
    pub rate_bp: u32,
    pub gross: i64,
    pub net: i64,
    pub vat: i64,
}

/// One goods line of a vendor's settlement, to check it line by line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SettlementLine {
    pub timestamp: String,
    pub transaction_id: String,
    pub terminal_id: Option<String>,
    pub product_id: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub vat_bp: u32,
    pub gross: i64,
    pub cancellation: bool,
}

/// `GET manage/vendors/{vendor_id}/settlement`: what a vendor is owed for
/// a period, from the lines attributed to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SettlementReport {
    pub vendor_id: String,
    pub vendor_name: String,
    pub currency: String,
    pub from: Option<String>,
    pub until: Option<String>,
    pub sales: i64,
    /// Cancellations and refunds (zero or negative).
    pub cancellations: i64,
    pub gross: i64,
    pub vat: Vec<SettlementVat>,
    pub commission_bp: i64,
    pub commission: i64,
    pub fixed_fee: i64,
    pub payable: i64,
    pub lines: Vec<SettlementLine>,
}

/// Seed 000's Menu Item: a product on a location's menu (a till there has
/// it on its grid), with its price there. A view of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MenuItem {
    pub item_id: String,
    pub name: String,
    pub category_id: String,
    /// What a guest pays now there, in cents.
    pub price: i64,
    pub vat_bp: u32,
    pub location_id: String,
    pub location_name: String,
    pub vendor_id: Option<String>,
    pub sold_out: bool,
    pub archived: bool,
}

/// Seed 000's Staff: Tapster's staff with role and PIN state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StaffRecord {
    pub staff_id: String,
    pub name: String,
    /// `cashier`, `supervisor` or `manager`.
    pub role: String,
    pub active: bool,
    /// Whether a PIN is set (PINs are kept only as hashes).
    pub pin_set: bool,
    /// Whether a badge (a staff wristband) is paired.
    pub badge: bool,
}

/// Seed 000's Vendor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VendorRecord {
    pub vendor_id: String,
    pub name: String,
    pub commission_bp: i64,
    pub fixed_fee: i64,
    pub locations: Vec<String>,
    pub products: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Seed 000's Inventory Item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InventoryItemRecord {
    pub item_id: String,
    pub name: String,
    pub unit: String,
    pub low_stock: i64,
    pub on_hand: i64,
    pub vendor_id: Option<String>,
    pub archived: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A page of a seed-000 list: the rows and where they stand in the whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Rows matching the filters, over all pages.
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
}

/// Seed 000's error body: `error_code` a number (0 for every error the
/// seed lists), `error_message` the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NumericErrorBody {
    pub error_code: i64,
    pub error_message: String,
}
