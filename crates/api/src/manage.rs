//! The manager API's shapes (`/api/v1/events/{event_id}/manage/…`): the
//! fleet view, staff, wallets, report summaries and conflicts; shared by
//! `tapster-server` and the till's manager screens.

use serde::{Deserialize, Serialize};
use tapster_ledger::model::{Permission, Role};
use tapster_ledger::VatRate;
use utoipa::ToSchema;

/// A terminal as a manager sees it in the fleet view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TerminalStatus {
    pub id: String,
    pub friendly_name: String,
    #[schema(value_type = String, example = "debit")]
    pub permission: Permission,
    pub layout: Vec<String>,
    pub archived: bool,
    pub last_seen: Option<i64>,
    pub app_version: Option<String>,
    pub pending: Option<i64>,
    pub last_sequence: i64,
}

/// A terminal with its new token, shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TerminalCreated {
    pub id: String,
    pub api_token: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTerminal {
    pub friendly_name: String,
    #[schema(value_type = String, example = "debit")]
    pub permission: Permission,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminalUpdate {
    pub friendly_name: String,
    #[schema(value_type = String, example = "debit")]
    pub permission: Permission,
    pub layout: Vec<String>,
}

/// A staff member to add or change. `pin` must be given for a new member;
/// left out, an existing member keeps theirs.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaffMember {
    pub id: String,
    pub name: String,
    #[schema(value_type = String, example = "cashier")]
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    #[serde(default = "active_by_default")]
    pub active: bool,
    /// A new member, made by a form that names them by a creation key:
    /// the same create again (its answer lost) is answered as made; another
    /// member under the id is `409`. Without it, a save changes the member
    /// (a PIN given again clears a lockout and ends their sessions).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create: bool,
}

fn active_by_default() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StaffMember {
    pub id: String,
    pub name: String,
    #[schema(value_type = String, example = "cashier")]
    pub role: Role,
    pub active: bool,
    /// The member's badge (a staff wristband that logs them in), masked
    /// as receipts show bands: `••••E5F6`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub badge_masked: Option<String>,
}

/// `PUT manage/staff/{id}/badge`: the wristband that logs the member in
/// with a tap, or `null` to take it away.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffBadge {
    #[schema(example = "04A1B2C3D4E5F6")]
    pub badge: Option<String>,
}

/// `PUT manage/category-order`: every category's id once, first to last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryOrder {
    pub order: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairWallet {
    pub token_id: String,
    #[serde(default)]
    pub balance: i64,
    #[serde(default)]
    pub paired_user: Option<String>,
}

/// One line of a sale, as seed 000's sales report records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SalesRecord {
    pub terminal_timestamp: String,
    pub line_item_id: String,
    pub purchase_id: String,
    pub item_id: String,
    pub item_name: String,
    /// Negative for cancelled lines.
    pub quantity: i64,
    pub item_price: i64,
    pub staff_id: Option<String>,
    pub staff_name: Option<String>,
    pub terminal_id: Option<String>,
    pub terminal_name: Option<String>,
}

/// A top-up, as seed 000's top-ups report records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TopUpRecord {
    pub terminal_timestamp: String,
    pub topup_id: String,
    pub amount: i64,
    pub tender: String,
    pub staff_id: Option<String>,
    pub staff_name: Option<String>,
    pub terminal_id: Option<String>,
    pub terminal_name: Option<String>,
}

/// Sums of a time range, for the summary endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    pub revenue: i64,
    /// Sales less cancelled sales.
    #[serde(default)]
    pub sales_count: i64,
    pub by_product: Vec<SummaryRow>,
    pub by_category: Vec<SummaryRow>,
    pub by_vat_rate: Vec<VatSummary>,
    pub by_hour: Vec<SummaryRow>,
    pub by_terminal: Vec<SummaryRow>,
    pub by_cashier: Vec<SummaryRow>,
    pub top_ups_by_tender: Vec<SummaryRow>,
    /// By the location (bar or booth, seed 003) the terminal stands at
    /// now: the location's address, `""` for terminals at none.
    #[serde(default)]
    pub by_location: Vec<SummaryRow>,
    /// Promo credit from vouchers, apart from the guests' money.
    #[serde(default)]
    pub promo: PromoSummary,
    /// Tips in cents (net of cancellations): the staff's, not revenue.
    #[serde(default)]
    pub tips: i64,
}

/// Promo credit (vouchers) in the period: credited, spent on sales (part
/// of `revenue`: goods paid with it), and still on wallets now (never
/// paid out; a liability only in kind).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PromoSummary {
    pub vouchers_redeemed: i64,
    pub credited: i64,
    /// Net of cancellations that gave promo credit back.
    pub spent: i64,
    /// On all wallets now, whatever the period.
    pub outstanding: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SummaryRow {
    pub key: String,
    /// Items sold (less cancelled ones).
    pub quantity: i64,
    pub amount: i64,
    /// Sales (entries) in this group.
    #[serde(default)]
    pub sales: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VatSummary {
    #[schema(value_type = u32)]
    pub rate: VatRate,
    pub gross: i64,
    pub net: i64,
    pub vat: i64,
}

/// What offline selling left for a manager to look at.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Conflicts {
    pub overdrawn_wallets: Vec<OverdrawnWallet>,
    pub rejected_entries: Vec<RejectedEntry>,
    pub terminal_problems: Vec<TerminalProblem>,
    /// Passes that offline tills let go more often than they allow: the
    /// first use to reach the server counted, these did not.
    #[serde(default)]
    pub pass_conflicts: Vec<PassConflict>,
}

/// A pass used at an offline till after it was used up elsewhere: the
/// sale stands (the guest was served), `value` is what the pass took off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PassConflict {
    pub code: String,
    pub pass_title: String,
    pub terminal_id: String,
    pub idempotency_key: String,
    pub transaction_id: String,
    /// Cents the pass took off the sale.
    pub value: i64,
    pub reason: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OverdrawnWallet {
    pub token_id: String,
    pub wallet_id: String,
    pub balance: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RejectedEntry {
    pub terminal_id: String,
    pub idempotency_key: String,
    pub reason: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TerminalProblem {
    pub terminal_id: String,
    pub problem: String,
    pub sequence: i64,
    pub detail: String,
}

/// A staff member's PIN, checked by the server, for a session on the
/// manager API that allows what their role allows
/// (`POST pos/staff-sessions`, with the terminal's token).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffSessionRequest {
    pub staff_id: String,
    pub pin: String,
}

/// The session: its bearer token for the manager API, shown this once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StaffSession {
    pub token: String,
    pub staff_id: String,
    #[schema(value_type = String, example = "manager")]
    pub role: Role,
    /// Milliseconds since the Unix epoch.
    pub expires_at: i64,
}

// PINs and session tokens never reach a log through `Debug`.

impl std::fmt::Debug for NewStaffMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewStaffMember")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("pin", &self.pin.as_ref().map(|_| "…"))
            .field("active", &self.active)
            .field("create", &self.create)
            .finish()
    }
}

impl std::fmt::Debug for StaffSessionRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffSessionRequest")
            .field("staff_id", &self.staff_id)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for StaffSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffSession")
            .field("staff_id", &self.staff_id)
            .field("role", &self.role)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}
