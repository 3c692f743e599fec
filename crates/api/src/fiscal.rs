//! Fiscal signing's shapes (Germany's TSE, see `tapster-fiscal`): a till
//! asks the server to sign a receipt (`POST pos/fiscal/receipts`), the
//! manager sets the device up and watches its outages (`manage/fiscal`)
//! and takes the tax auditors' export (`manage/fiscal/dsfinvk.zip`).

use serde::{Deserialize, Serialize};
use tapster_ledger::model::{Entry, EntryKind};
use utoipa::ToSchema;

pub use tapster_fiscal::dsfinvk::Business;
pub use tapster_fiscal::{Health, Signed, Signing};

/// `POST pos/fiscal/receipts`: the entry the till just committed, to be
/// signed for its receipt. The answer is a [`Signing`]: a signature, or an
/// outage with its reason (the sale stands either way).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignReceipt {
    /// The entry exactly as the till's ledger stores it.
    pub entry: Entry,
    /// For a cancellation: the kind of the entry it cancels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_kind: Option<EntryKind>,
}

/// The device an event signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FiscalScheme {
    /// Nothing is signed (events outside Germany).
    Off,
    /// A simulated device: for demos; every receipt says it is not
    /// certified.
    Simulated,
    /// fiskaly SIGN DE, a certified cloud TSE.
    Fiskaly,
}

/// fiskaly's access, write-only: no answer ever carries the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FiskalyAccess {
    /// `https://kassensichv.fiskaly.com/api/v2` unless told otherwise.
    #[serde(default)]
    pub base_url: Option<String>,
    pub api_key: String,
    pub api_secret: String,
    pub tss_id: String,
}

impl std::fmt::Debug for FiskalyAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FiskalyAccess")
            .field("base_url", &self.base_url)
            .field("tss_id", &self.tss_id)
            .finish_non_exhaustive()
    }
}

/// `PUT manage/fiscal`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FiscalSetup {
    pub scheme: FiscalScheme,
    /// Needed for `fiskaly`.
    #[serde(default)]
    pub fiskaly: Option<FiskalyAccess>,
    /// Who runs the tills, for the DSFinV-K export; kept when not given.
    #[serde(default)]
    pub business: Option<Business>,
}

/// A stretch of a till's transactions that were not signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutageWindow {
    pub terminal_id: String,
    pub terminal_name: String,
    /// The first and last unsigned transaction's time, ms since the epoch.
    pub from: i64,
    pub to: i64,
    pub transactions: i64,
    /// Why the first of them was not signed.
    pub reason: String,
}

/// `GET manage/fiscal`: the device, whether it can sign now, and the
/// outages since it was set up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FiscalStatus {
    pub scheme: FiscalScheme,
    /// Since when the device signs, ms since the epoch.
    pub since: Option<i64>,
    pub health: Option<Health>,
    /// Till transactions signed, and not signed, since then.
    pub signed: i64,
    pub unsigned: i64,
    pub outages: Vec<OutageWindow>,
    /// Who runs the tills, for the DSFinV-K export.
    pub business: Business,
}
