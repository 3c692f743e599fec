//! The payouts' shapes in the manager API (`manage/payout-runs`,
//! `manage/payouts/unclaimed`, `manage/guest-security`): shared by
//! `tapster-server` and the till's manager screens. The settings are the
//! ledger's [`tapster_ledger::payout_request::PayoutSettings`].

use serde::{Deserialize, Serialize};
use tapster_ledger::{Cents, TokenId};
use utoipa::ToSchema;

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Wallets frozen; the file not yet downloaded.
    Pending,
    /// The SEPA file was downloaded: upload it to the bank.
    Exported,
    /// The bank paid; booked in the ledger.
    Done,
    /// Called off; the wallets are as they were.
    Revoked,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Pending => "pending",
            RunState::Exported => "exported",
            RunState::Done => "done",
            RunState::Revoked => "revoked",
        }
    }

    pub fn parse(text: &str) -> Option<RunState> {
        Some(match text {
            "pending" => RunState::Pending,
            "exported" => RunState::Exported,
            "done" => RunState::Done,
            "revoked" => RunState::Revoked,
            _ => return None,
        })
    }

    /// Its wallets are frozen: tills refuse them, the requests are fixed.
    pub fn freezes_wallets(self) -> bool {
        matches!(self, RunState::Pending | RunState::Exported)
    }
}

/// What the organiser asks of a new run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayoutRun {
    /// Take at most this many bands.
    #[serde(default)]
    pub max_count: Option<u32>,
    /// Transfer at most this much in total (cents).
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub max_cents: Option<Cents>,
    /// The day the bank is asked to pay (`YYYY-MM-DD`); default the next
    /// day in the event's time zone.
    #[serde(default)]
    pub execution_date: Option<String>,
    /// Run even though tills have unsent sales or guests can still change
    /// their requests.
    #[serde(default)]
    pub accept_warnings: bool,
}

/// A run as the manager sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PayoutRun {
    pub id: String,
    pub state: RunState,
    /// In the event's time zone.
    pub created_at: String,
    pub execution_date: String,
    /// Bands taken.
    pub bands: i64,
    /// Bank transfers among them (the others give everything away).
    pub transfers: i64,
    pub transfer_cents: i64,
    pub fee_cents: i64,
    pub donation_cents: i64,
    /// What leaves the wallets: transfers, fees and donations.
    pub total_cents: i64,
    /// What the organiser was warned of and ran anyway.
    pub warnings: Vec<String>,
    pub exported_at: Option<String>,
    pub finished_at: Option<String>,
    /// When made: the waiting requests this run left out, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
}

/// A request a run did not take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LeftOut {
    #[schema(value_type = String)]
    pub token_id: TokenId,
    /// `nothing`, `below_minimum`, or `limit` (the run's count or sum was
    /// reached: it waits for the next run).
    pub reason: String,
}

/// Bands with money left that no run is paying out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UnclaimedBalances {
    /// The request window's end has passed (`closes_at` in the settings).
    pub deadline_passed: bool,
    pub bands: i64,
    /// Paid money only: promo credit is never paid out.
    pub total_cents: i64,
    /// Of those, bands whose guest asked for a payout that no run has
    /// taken yet (or that a run left out, below the minimum).
    pub requested_bands: i64,
    pub rows: Vec<UnclaimedBand>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UnclaimedBand {
    #[schema(value_type = String)]
    pub token_id: TokenId,
    pub payable_cents: i64,
    pub requested: bool,
}

/// The guest pages' wrong codes as the manager sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GuestSecurity {
    /// Wrong codes an hour, from all addresses, before an alarm.
    pub budget_per_hour: i64,
    /// Wrong codes so far this hour.
    pub this_hour: i64,
    /// Hours past the budget, newest first (the last 50).
    pub alarms: Vec<GuestAlarm>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GuestAlarm {
    /// The hour's start, in the event's time zone.
    pub hour: String,
    pub failures: i64,
    /// When the budget ran out, in the event's time zone.
    pub alarmed_at: String,
}

/// Unclaimed paid money booked after the request window closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UnclaimedSettled {
    /// `retain` or `donate`, as the settings said.
    pub rule: String,
    pub bands: i64,
    pub total_cents: i64,
}

/// `POST manage/guest-codes`: the wristbands to make codes for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestCodesRequest {
    /// The wristbands to make codes for (1 to 10,000); a band's earlier
    /// code stops working.
    pub token_ids: Vec<String>,
}

/// The codes to print on the wristbands, shown only in this answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GuestCodes {
    pub codes: Vec<IssuedCode>,
}

/// A band's code, as made for printing.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssuedCode {
    pub token_id: String,
    /// As printed: `7QK2-M9XD-4HNB`. Shown only now; the server keeps a
    /// keyed hash.
    pub code: String,
}

impl std::fmt::Debug for IssuedCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The code opens the band's page: never in a log.
        f.debug_struct("IssuedCode")
            .field("token_id", &self.token_id)
            .finish_non_exhaustive()
    }
}
