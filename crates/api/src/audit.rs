//! The audit trail's shapes (`manage/audit`): who did what, outside a
//! plain sale, that moved money or changed what money means.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What was done. The manager view and the CSV show these names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    SettingsChanged,
    CategorySaved,
    CategoryRemoved,
    CategoriesReordered,
    ProductCreated,
    ProductChanged,
    ProductArchived,
    ProductRestored,
    TerminalCreated,
    TerminalChanged,
    TerminalArchived,
    TerminalRestored,
    TerminalTokenRolled,
    StaffCreated,
    StaffChanged,
    WalletPaired,
    WalletBlocked,
    WalletUnblocked,
    BalanceMoved,
    Payout,
    Cancellation,
    Correction,
    ShiftClosed,
    FiscalDeviceChanged,
    PayoutSettingsChanged,
    PayoutRunCreated,
    PayoutRunFinished,
    PayoutRunRevoked,
    UnclaimedSettled,
    BandKeysRotated,
    IntegrationCreated,
    IntegrationRevoked,
    PassesCreated,
    PassesImported,
    PassBlocked,
    PassUnblocked,
}

impl AuditAction {
    pub const ALL: &'static [AuditAction] = &[
        AuditAction::SettingsChanged,
        AuditAction::CategorySaved,
        AuditAction::CategoryRemoved,
        AuditAction::CategoriesReordered,
        AuditAction::ProductCreated,
        AuditAction::ProductChanged,
        AuditAction::ProductArchived,
        AuditAction::ProductRestored,
        AuditAction::TerminalCreated,
        AuditAction::TerminalChanged,
        AuditAction::TerminalArchived,
        AuditAction::TerminalRestored,
        AuditAction::TerminalTokenRolled,
        AuditAction::StaffCreated,
        AuditAction::StaffChanged,
        AuditAction::WalletPaired,
        AuditAction::WalletBlocked,
        AuditAction::WalletUnblocked,
        AuditAction::BalanceMoved,
        AuditAction::Payout,
        AuditAction::Cancellation,
        AuditAction::Correction,
        AuditAction::ShiftClosed,
        AuditAction::FiscalDeviceChanged,
        AuditAction::PayoutSettingsChanged,
        AuditAction::PayoutRunCreated,
        AuditAction::PayoutRunFinished,
        AuditAction::PayoutRunRevoked,
        AuditAction::UnclaimedSettled,
        AuditAction::BandKeysRotated,
        AuditAction::IntegrationCreated,
        AuditAction::IntegrationRevoked,
        AuditAction::PassesCreated,
        AuditAction::PassesImported,
        AuditAction::PassBlocked,
        AuditAction::PassUnblocked,
    ];

    /// The stored and wire name, `snake_case`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SettingsChanged => "settings_changed",
            AuditAction::CategorySaved => "category_saved",
            AuditAction::CategoryRemoved => "category_removed",
            AuditAction::CategoriesReordered => "categories_reordered",
            AuditAction::ProductCreated => "product_created",
            AuditAction::ProductChanged => "product_changed",
            AuditAction::ProductArchived => "product_archived",
            AuditAction::ProductRestored => "product_restored",
            AuditAction::TerminalCreated => "terminal_created",
            AuditAction::TerminalChanged => "terminal_changed",
            AuditAction::TerminalArchived => "terminal_archived",
            AuditAction::TerminalRestored => "terminal_restored",
            AuditAction::TerminalTokenRolled => "terminal_token_rolled",
            AuditAction::StaffCreated => "staff_created",
            AuditAction::StaffChanged => "staff_changed",
            AuditAction::WalletPaired => "wallet_paired",
            AuditAction::WalletBlocked => "wallet_blocked",
            AuditAction::WalletUnblocked => "wallet_unblocked",
            AuditAction::BalanceMoved => "balance_moved",
            AuditAction::Payout => "payout",
            AuditAction::Cancellation => "cancellation",
            AuditAction::Correction => "correction",
            AuditAction::ShiftClosed => "shift_closed",
            AuditAction::FiscalDeviceChanged => "fiscal_device_changed",
            AuditAction::PayoutSettingsChanged => "payout_settings_changed",
            AuditAction::PayoutRunCreated => "payout_run_created",
            AuditAction::PayoutRunFinished => "payout_run_finished",
            AuditAction::PayoutRunRevoked => "payout_run_revoked",
            AuditAction::UnclaimedSettled => "unclaimed_settled",
            AuditAction::BandKeysRotated => "band_keys_rotated",
            AuditAction::IntegrationCreated => "integration_created",
            AuditAction::IntegrationRevoked => "integration_revoked",
            AuditAction::PassesCreated => "passes_created",
            AuditAction::PassesImported => "passes_imported",
            AuditAction::PassBlocked => "pass_blocked",
            AuditAction::PassUnblocked => "pass_unblocked",
        }
    }

    pub fn parse(name: &str) -> Option<AuditAction> {
        AuditAction::ALL
            .iter()
            .copied()
            .find(|action| action.as_str() == name)
    }
}

/// Who did it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// The event's admin token.
    Admin,
    /// A staff member: a manager session opened on a till, or a cashier's
    /// entry synced from one.
    Staff,
    /// A guest on their own pages (blocking their lost band).
    Guest,
    /// The server's own command line or background work.
    Console,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Admin => "admin",
            ActorKind::Staff => "staff",
            ActorKind::Guest => "guest",
            ActorKind::Console => "console",
        }
    }

    pub fn parse(name: &str) -> Option<ActorKind> {
        [
            ActorKind::Admin,
            ActorKind::Staff,
            ActorKind::Guest,
            ActorKind::Console,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == name)
    }
}

/// One record of the trail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditRecord {
    /// The record's place in the event's chain, from 1.
    pub seq: i64,
    /// Milliseconds since the Unix epoch (the server's clock).
    pub at: i64,
    pub actor_kind: ActorKind,
    /// The staff member's id (or the guest's band); none for the admin
    /// token and the console.
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    /// The terminal the staff member acted on.
    pub terminal_id: Option<String>,
    pub terminal_name: Option<String>,
    pub action: AuditAction,
    /// The wristband (token id) it concerned.
    pub wallet: Option<String>,
    /// What else it concerned: a product, terminal, staff member, run…
    pub subject: Option<String>,
    /// The action's figures and fields, by name; a change shows as
    /// `"field": [before, after]`.
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub detail: serde_json::Value,
    pub hash: String,
}

/// The audit trail's CSV columns, for an accountant (time in UTC).
pub const CSV_HEADER: [&str; 12] = [
    "seq",
    "time_utc",
    "actor_kind",
    "actor_id",
    "actor_name",
    "terminal_id",
    "terminal_name",
    "action",
    "wallet",
    "subject",
    "detail",
    "hash",
];

impl AuditRecord {
    /// The record as a line of the CSV ([`CSV_HEADER`]'s columns).
    pub fn csv_row(&self) -> [String; 12] {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        [
            self.seq.to_string(),
            crate::api_timestamp(self.at).raw,
            self.actor_kind.as_str().to_string(),
            text(&self.actor_id),
            text(&self.actor_name),
            text(&self.terminal_id),
            text(&self.terminal_name),
            self.action.as_str().to_string(),
            text(&self.wallet),
            text(&self.subject),
            self.detail.to_string(),
            self.hash.clone(),
        ]
    }
}

/// Which records a manager asks for (`manage/audit?…`); all of them when
/// empty, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// A staff member's id (or a guest's band).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff: Option<String>,
    /// An action's name, e.g. `payout`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// A wristband's token id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wallet: Option<String>,
    /// Milliseconds since the Unix epoch, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    /// Only records after this `seq`: the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    /// At most this many (1,000 unless asked; 10,000 at most).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Whether the event's trail is whole: every record chained to the one
/// before it, nothing edited, removed or reordered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditVerification {
    pub intact: bool,
    pub records: i64,
    /// The first record whose hash or chain link is wrong.
    pub first_broken: Option<i64>,
}

/// One shift closed on a till, as its own trail recorded it: who closed
/// whose drawer with what in it. `POST pos/audit/shift-closes` hands the
/// server what it does not have yet (Tapster's extension).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TillShiftClose {
    /// The record's place in the till's own trail.
    pub seq: i64,
    /// The till's clock, milliseconds since the Unix epoch.
    pub at: i64,
    /// Who closed it.
    pub staff_id: String,
    pub shift_id: String,
    /// `cashier`, `z_number`, `float`, `expected_cash`, `counted_cash`,
    /// `difference` (cents).
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub detail: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TillShiftCloses {
    pub closes: Vec<TillShiftClose>,
}

/// How many of them were new to the trail (the others it already had).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShiftClosesTaken {
    pub recorded: i64,
}

#[cfg(test)]
mod tests {
    use super::AuditAction;

    #[test]
    fn every_action_a_till_records_is_one_the_server_knows() {
        for name in tapster_ledger::store::audit::actions::ALL {
            assert!(AuditAction::parse(name).is_some(), "{name}");
        }
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(*action));
        }
    }
}
