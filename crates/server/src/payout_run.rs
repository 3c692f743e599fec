//! Payout runs: the organiser pays the guests' payout requests back by
//! one SEPA credit transfer file.
//!
//! - **Made** ([`ServerStore::create_payout_run`]): takes the waiting
//!   requests, oldest first, up to a count and a sum, divides each band's
//!   payable rest by the ledger's rule
//!   ([`PayoutSettings::split`](tapster_ledger::payout_request::PayoutSettings::split))
//!   and **freezes** those wallets: blocked, so every till refuses them
//!   from the next feed on, and their requests can no longer be changed
//!   or taken by another run. Unsynced tills and a request window still
//!   open are warnings the organiser must accept.
//! - **Exported**: the `pain.001.001.09` file ([`tapster_sepa`]) and a CSV
//!   of the same rows. The file is made from what the run froze, so it
//!   can be downloaded again unchanged.
//! - **Done**: the bank has paid. Each band's transfer, fee and donation
//!   are booked as payout transactions (tagged [`TAG_TRANSFER`],
//!   [`TAG_FEE`], [`TAG_DONATION`]); the band stays blocked.
//! - **Revoked**: the wallets are as they were (a band its guest had
//!   blocked stays blocked) and the requests wait for a later run.

use tapster_ledger::model::{EntryKind, Tender};
use tapster_ledger::payout_request::{Donation, NotPaidOut, PayoutSettings, Unclaimed};
use tapster_ledger::{Cents, TokenId};

use tapster_print::csv::CsvStyle;

pub use tapster_api::payouts::{
    LeftOut, NewPayoutRun, PayoutRun, RunState, UnclaimedBalances, UnclaimedBand, UnclaimedSettled,
};

use crate::audit::{self, Audit};
use crate::db::{params, Connection, OptionalExtension};
use crate::error::ServerError;
use crate::manage::manual;
use crate::store::{insert_transaction, next_cursor, random_id, ServerStore};
use serde_json::json;
use tapster_api::audit::AuditAction;

/// The tag of the transaction that books a band's bank transfer.
pub const TAG_TRANSFER: &str = "sepa_transfer";
/// The tag of the transaction that books the fee kept from a transfer.
pub const TAG_FEE: &str = "payout_fee";
/// The tag of the transaction that books a band's donation.
pub const TAG_DONATION: &str = "donation";
/// The tags of unclaimed money booked after the request window closed.
pub const TAG_UNCLAIMED_RETAINED: &str = "unclaimed_retained";
pub const TAG_UNCLAIMED_DONATED: &str = "unclaimed_donated";

/// A file of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunFile {
    /// The `pain.001.001.09` credit transfers for the bank.
    Sepa,
    /// The same rows, and the donations, for the organiser's records.
    Csv(CsvStyle),
}

/// A request waiting for a run, with its band's wallet.
struct Waiting {
    token: TokenId,
    account_holder: String,
    iban: String,
    email: String,
    donation: Donation,
    wallet_id: String,
    balance: i64,
    promo_balance: i64,
    blocked: bool,
}

/// A band as a run froze it.
struct Item {
    position: i64,
    token: String,
    wallet_id: String,
    account_holder: String,
    iban: String,
    email: String,
    transfer: i64,
    fee: i64,
    donation: i64,
    was_blocked: bool,
}

impl Item {
    fn end_to_end_id(&self, run: &str) -> String {
        format!("{run}-{:05}", self.position)
    }
}

/// A run's own row.
struct RunRow {
    id: String,
    state: RunState,
    created_at: i64,
    execution_date: String,
    debtor_name: String,
    debtor_iban: String,
    remittance: String,
    warnings: Vec<String>,
    exported_at: Option<i64>,
    finished_at: Option<i64>,
}

impl ServerStore {
    /// Makes a run of the waiting requests and freezes their wallets.
    pub fn create_payout_run(
        &self,
        event: &str,
        asked: &NewPayoutRun,
    ) -> Result<PayoutRun, ServerError> {
        if asked.max_count == Some(0) {
            return Err(ServerError::invalid("max_count", "must be at least 1"));
        }
        if asked.max_cents.is_some_and(|c| !c.is_positive()) {
            return Err(ServerError::invalid("max_cents", "must be more than zero"));
        }
        let (event, asked, now) = (event.to_string(), asked.clone(), self.now().0);
        self.write(move |conn| {
            let event_settings = Self::ensure_event(conn, &event)?;
            if event_settings.currency != "EUR" {
                return Err(ServerError::invalid(
                    "currency",
                    "SEPA transfers are in euros: this event's currency is not EUR",
                ));
            }
            let zone = event_settings.zone();
            let today = jiff::Timestamp::from_millisecond(now)
                .map_err(|e| ServerError::Internal(e.to_string()))?
                .to_zoned(zone)
                .date();
            let execution_date = match &asked.execution_date {
                Some(text) => {
                    let date: jiff::civil::Date = text.parse().map_err(|_| {
                        ServerError::invalid("execution_date", "must be a date such as 2026-12-08")
                    })?;
                    if date < today {
                        return Err(ServerError::invalid(
                            "execution_date",
                            "must not be in the past",
                        ));
                    }
                    date
                }
                None => today.tomorrow().map_err(|e| ServerError::Internal(e.to_string()))?,
            };
            let settings = payout_settings_of(conn, &event)?;
            let debtor = settings.debtor.clone().ok_or_else(|| {
                ServerError::invalid(
                    "debtor",
                    "name the organiser's account in the payout settings before the first run",
                )
            })?;
            let warnings = run_warnings(conn, &event, &settings, now)?;
            if !warnings.is_empty() && !asked.accept_warnings {
                return Err(ServerError::Conflict(format!(
                    "{}. Run anyway with accept_warnings: true.",
                    warnings.join("; ")
                )));
            }
            let (items, left_out) = take_requests(conn, &event, &settings, &asked)?;
            if items.is_empty() {
                return Err(ServerError::Conflict(if left_out.is_empty() {
                    "no payout request is waiting".to_string()
                } else {
                    format!(
                        "none of the {} waiting payout requests can be paid now (nothing left, or below the minimum after the fee)",
                        left_out.len()
                    )
                }));
            }
            let id = format!("PR{}", random_id("").to_ascii_uppercase());
            let remittance = settings
                .remittance
                .clone()
                .unwrap_or_else(|| format!("{}: Rest vom Armband", event_settings.name));
            conn.execute(
                "INSERT INTO payout_runs (event_id, id, state, created_at, execution_date,
                     debtor_name, debtor_iban, remittance, warnings)
                 VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    event,
                    id,
                    now,
                    execution_date.to_string(),
                    debtor.name,
                    debtor.iban,
                    remittance,
                    serde_json::to_string(&warnings)
                        .map_err(|e| ServerError::Internal(e.to_string()))?
                ],
            )?;
            for item in &items {
                conn.execute(
                    "INSERT INTO payout_run_items (run_id, position, token_id, wallet_id,
                         account_holder, iban, email, transfer, fee, donation, was_blocked)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    params![
                        id,
                        item.position,
                        item.token,
                        item.wallet_id,
                        item.account_holder,
                        item.iban,
                        item.email,
                        item.transfer,
                        item.fee,
                        item.donation,
                        item.was_blocked
                    ],
                )?;
                conn.execute(
                    "UPDATE payout_requests SET run_id = ?3 WHERE event_id = ?1 AND token_id = ?2",
                    params![event, item.token, id],
                )?;
                // Frozen: the tills learn it from the wallet feed.
                let cursor = next_cursor(conn, &event)?;
                conn.execute(
                    "UPDATE wallets SET blocked = 1, cursor = ?2 WHERE id = ?1",
                    params![item.wallet_id, cursor],
                )?;
            }
            let mut run = run_view(conn, &event, &id)?;
            tracing::info!(
                event,
                run = %id,
                bands = run.bands,
                transfer_cents = run.transfer_cents,
                donation_cents = run.donation_cents,
                warnings = warnings.len(),
                "payout run made; its wallets are frozen"
            );
            run.left_out = left_out;
            let audit = Audit::new(AuditAction::PayoutRunCreated, json!({
                "bands": run.bands,
                "transfer_cents": run.transfer_cents,
                "donation_cents": run.donation_cents,
            }));
            audit::record(conn, &event, now, audit.subject(id.as_str()))?;
            Ok(run)
        })
    }

    /// The event's runs, newest first.
    pub fn payout_runs(&self, event: &str) -> Result<Vec<PayoutRun>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let ids = conn
            .prepare_cached(
                "SELECT id FROM payout_runs WHERE event_id = ?1 ORDER BY created_at DESC, id",
            )?
            .query_map(params![event], |r| r.get(0))?
            .collect::<crate::db::Result<Vec<String>>>()?;
        ids.iter().map(|id| run_view(&conn, event, id)).collect()
    }

    pub fn payout_run(&self, event: &str, run: &str) -> Result<PayoutRun, ServerError> {
        let conn = self.reader()?;
        run_view(&conn, event, run)
    }

    /// A run's file. The SEPA file moves a pending run to exported; it is
    /// made from what the run froze, so a second download is the same
    /// file (and the bank refuses its message id twice).
    pub fn payout_run_file(
        &self,
        event: &str,
        run: &str,
        file: RunFile,
    ) -> Result<String, ServerError> {
        let (event, run, now) = (event.to_string(), run.to_string(), self.now().0);
        self.write(move |conn| {
            let zone = Self::ensure_event(conn, &event)?.zone();
            let row = run_row(conn, &event, &run)?;
            let items = run_items(conn, &row.id)?;
            match file {
                RunFile::Csv(style) => Ok(csv_file(&row, &items, style)),
                RunFile::Sepa => {
                    if !row.state.freezes_wallets() {
                        return Err(ServerError::Conflict(format!(
                            "this run is {}: its SEPA file must not go to the bank",
                            row.state.as_str()
                        )));
                    }
                    let xml = sepa_file(&row, &items, &zone)?;
                    if row.state == RunState::Pending {
                        conn.execute(
                            "UPDATE payout_runs SET state = 'exported', exported_at = ?2 WHERE id = ?1",
                            params![row.id, now],
                        )?;
                        tracing::info!(event, run = %row.id, "payout run exported");
                    }
                    Ok(xml)
                }
            }
        })
    }

    /// The bank has paid: books every band's transfer, fee and donation.
    /// A run of donations only needs no file and may be done at once.
    pub fn finish_payout_run(&self, event: &str, run: &str) -> Result<PayoutRun, ServerError> {
        let (event, run, now) = (event.to_string(), run.to_string(), self.now());
        self.write(move |conn| {
            Self::ensure_event(conn, &event)?;
            let row = run_row(conn, &event, &run)?;
            let items = run_items(conn, &row.id)?;
            let has_transfers = items.iter().any(|i| i.transfer > 0);
            match row.state {
                RunState::Exported => {}
                RunState::Pending if !has_transfers => {}
                RunState::Pending => {
                    return Err(ServerError::Conflict(
                        "download this run's SEPA file and have the bank pay it first".into(),
                    ))
                }
                RunState::Done | RunState::Revoked => {
                    return Err(ServerError::Conflict(format!(
                        "this run is already {}",
                        row.state.as_str()
                    )))
                }
            }
            let mut overdrawn = 0;
            for item in &items {
                let e2e = item.end_to_end_id(&row.id);
                let transfer_text = format!("SEPA-Überweisung {e2e}");
                let other_text = format!("Auszahlungslauf {}", row.id);
                for (amount, tag, description) in [
                    (item.transfer, TAG_TRANSFER, transfer_text.as_str()),
                    (item.fee, TAG_FEE, other_text.as_str()),
                    (item.donation, TAG_DONATION, other_text.as_str()),
                ] {
                    if amount == 0 {
                        continue;
                    }
                    let mut booking = manual(
                        &event,
                        &item.wallet_id,
                        EntryKind::Payout,
                        Tender::Wallet,
                        Cents(-amount),
                        description,
                        now,
                    );
                    booking.tag = Some(tag);
                    insert_transaction(conn, &booking)?;
                }
                let balance: i64 = conn
                    .prepare_cached("SELECT balance FROM wallets WHERE id = ?1")?
                    .query_row([item.wallet_id.as_str()], |r| r.get(0))?;
                if balance < 0 {
                    overdrawn += 1;
                }
            }
            conn.execute(
                "UPDATE payout_runs SET state = 'done', finished_at = ?2 WHERE id = ?1",
                params![row.id, now.0],
            )?;
            if overdrawn > 0 {
                // Sales that reached the server after the freeze (an
                // offline till) were paid out as well: the shortfall shows
                // in those wallets.
                tracing::warn!(event, run = %row.id, overdrawn, "payout run done; some wallets are overdrawn");
            }
            tracing::info!(event, run = %row.id, bands = items.len(), "payout run done");
            let run = run_view(conn, &event, &row.id)?;
            let audit = Audit::new(AuditAction::PayoutRunFinished, json!({
                "bands": run.bands,
                "transfer_cents": run.transfer_cents,
                "donation_cents": run.donation_cents,
            }));
            audit::record(conn, &event, now.0, audit.subject(row.id.as_str()))?;
            Ok(run)
        })
    }

    /// Calls a run off: its wallets as they were, its requests waiting.
    pub fn revoke_payout_run(&self, event: &str, run: &str) -> Result<PayoutRun, ServerError> {
        let (event, run, now) = (event.to_string(), run.to_string(), self.now().0);
        self.write(move |conn| {
            Self::ensure_event(conn, &event)?;
            let row = run_row(conn, &event, &run)?;
            if !row.state.freezes_wallets() {
                return Err(ServerError::Conflict(format!(
                    "this run is already {}",
                    row.state.as_str()
                )));
            }
            for item in run_items(conn, &row.id)? {
                let cursor = next_cursor(conn, &event)?;
                conn.execute(
                    "UPDATE wallets SET blocked = ?2, cursor = ?3 WHERE id = ?1",
                    params![item.wallet_id, item.was_blocked, cursor],
                )?;
            }
            conn.execute(
                "UPDATE payout_requests SET run_id = NULL WHERE event_id = ?1 AND run_id = ?2",
                params![event, row.id],
            )?;
            conn.execute(
                "UPDATE payout_runs SET state = 'revoked', finished_at = ?2 WHERE id = ?1",
                params![row.id, now],
            )?;
            tracing::info!(event, run = %row.id, "payout run revoked; wallets unfrozen");
            let audit = Audit::new(AuditAction::PayoutRunRevoked, json!({}));
            audit::record(conn, &event, now, audit.subject(row.id.as_str()))?;
            run_view(conn, &event, &row.id)
        })
    }

    /// Bands with paid money left that no run is paying out.
    pub fn unclaimed_balances(&self, event: &str) -> Result<UnclaimedBalances, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let settings = payout_settings_of(&conn, event)?;
        let rows = unclaimed_wallets(&conn, event)?;
        let mut report = UnclaimedBalances {
            deadline_passed: settings
                .closes_at
                .is_some_and(|closes| self.now().0 >= closes),
            bands: 0,
            total_cents: 0,
            requested_bands: 0,
            rows: Vec::new(),
        };
        for wallet in rows {
            report.bands += 1;
            report.requested_bands += i64::from(wallet.requested);
            report.total_cents = report
                .total_cents
                .checked_add(wallet.payable.0)
                .ok_or(tapster_ledger::LedgerError::AmountOverflow)?;
            report.rows.push(UnclaimedBand {
                token_id: wallet.token,
                payable_cents: wallet.payable.0,
                requested: wallet.requested,
            });
        }
        Ok(report)
    }
}

impl ServerStore {
    /// Books the paid money nobody asked for, once the request window has
    /// closed: retained by the organiser or donated, as the settings say.
    /// Each band is booked once (its paid money is then zero, so a second
    /// call finds nothing); it is not blocked, so its guest still signs in
    /// and sees why. Bands a run holds are left to the run.
    pub fn settle_unclaimed(&self, event: &str) -> Result<UnclaimedSettled, ServerError> {
        let (event, now) = (event.to_string(), self.now());
        self.write(move |conn| {
            Self::ensure_event(conn, &event)?;
            let settings = payout_settings_of(conn, &event)?;
            if settings.closes_at.is_none_or(|closes| now.0 < closes) {
                return Err(ServerError::Conflict(
                    "unclaimed money is booked only after the request window has closed (closes_at in the payout settings)".into(),
                ));
            }
            let (tag, rule, description) = match settings.unclaimed {
                Unclaimed::Retain => (TAG_UNCLAIMED_RETAINED, "retain", "Nicht abgeholt: einbehalten".to_string()),
                Unclaimed::Donate => (
                    TAG_UNCLAIMED_DONATED,
                    "donate",
                    format!(
                        "Nicht abgeholt: Spende an {}",
                        settings.donation_target.as_deref().unwrap_or("-")
                    ),
                ),
            };
            let wallets = unclaimed_wallets(conn, &event)?;
            let mut settled = UnclaimedSettled {
                rule: rule.to_string(),
                bands: 0,
                total_cents: 0,
            };
            for wallet in wallets {
                let payable = wallet.payable;
                let mut booking = manual(
                    &event,
                    &wallet.id,
                    EntryKind::Payout,
                    Tender::Wallet,
                    Cents(-payable.0),
                    &description,
                    now,
                );
                booking.tag = Some(tag);
                insert_transaction(conn, &booking)?;
                settled.bands += 1;
                settled.total_cents = settled
                    .total_cents
                    .checked_add(payable.0)
                    .ok_or(tapster_ledger::LedgerError::AmountOverflow)?;
            }
            tracing::info!(event, rule, bands = settled.bands, total_cents = settled.total_cents, "unclaimed money booked");
            let audit = Audit::new(AuditAction::UnclaimedSettled, json!({
                "rule": rule,
                "bands": settled.bands,
                "total_cents": settled.total_cents,
            }));
            audit::record(conn, &event, now.0, audit)?;
            Ok(settled)
        })
    }
}

/// A band with paid money that no open run holds.
struct UnclaimedWallet {
    id: String,
    token: TokenId,
    /// What a payout may give back (promo credit never).
    payable: Cents,
    /// Its guest asked for a payout.
    requested: bool,
}

/// The event's bands with paid money left that no pending or exported
/// run holds, by token.
fn unclaimed_wallets(conn: &Connection, event: &str) -> Result<Vec<UnclaimedWallet>, ServerError> {
    let rows = conn
        .prepare_cached(
            "SELECT w.id, w.token_id, w.balance, w.promo_balance,
                    EXISTS (SELECT 1 FROM payout_requests r
                            WHERE r.event_id = w.event_id AND r.token_id = w.token_id)
             FROM wallets w
             WHERE w.event_id = ?1 AND w.balance > 0
               AND NOT EXISTS (SELECT 1 FROM payout_run_items i
                               JOIN payout_runs p ON p.id = i.run_id
                               WHERE i.wallet_id = w.id AND p.state IN ('pending', 'exported'))
             ORDER BY w.token_id",
        )?
        .query_map(params![event], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })?
        .collect::<crate::db::Result<Vec<_>>>()?;
    let mut wallets = Vec::new();
    for (id, token, balance, promo, requested) in rows {
        let payable = tapster_ledger::promo::payable(Cents(balance), Cents(promo));
        if !payable.is_positive() {
            continue;
        }
        wallets.push(UnclaimedWallet {
            id,
            token: TokenId::parse(&token)
                .map_err(|e| ServerError::Internal(format!("a stored token id: {e}")))?,
            payable,
            requested,
        });
    }
    Ok(wallets)
}

/// Refuses a change to a wallet that a pending or exported payout run
/// holds frozen: unblocking it, moving or paying out its balance.
pub(crate) fn refuse_if_frozen(
    conn: &Connection,
    event: &str,
    token: &str,
) -> Result<(), ServerError> {
    let run: Option<String> = conn
        .prepare_cached(
            "SELECT p.id FROM payout_run_items i JOIN payout_runs p ON p.id = i.run_id
             WHERE p.event_id = ?1 AND i.token_id = ?2 AND p.state IN ('pending', 'exported')",
        )?
        .query_row(params![event, token], |r| r.get(0))
        .optional()?;
    match run {
        Some(run) => Err(ServerError::Conflict(format!(
            "payout run {run} holds this wristband's balance: revoke the run first"
        ))),
        None => Ok(()),
    }
}

/// A band blocked (lost) while a run holds it frozen: revoking the run
/// must leave it blocked.
pub(crate) fn keep_blocked(conn: &Connection, event: &str, token: &str) -> Result<(), ServerError> {
    conn.execute(
        "UPDATE payout_run_items SET was_blocked = 1
         WHERE token_id = ?2 AND run_id IN (
             SELECT id FROM payout_runs WHERE event_id = ?1 AND state IN ('pending', 'exported'))",
        params![event, token],
    )?;
    Ok(())
}

fn payout_settings_of(conn: &Connection, event: &str) -> Result<PayoutSettings, ServerError> {
    crate::guest::payout_settings_of(conn, event)
}

/// What the organiser must accept before a run: tills with unsent sales,
/// and guests who may still change their requests.
fn run_warnings(
    conn: &Connection,
    event: &str,
    settings: &PayoutSettings,
    now: i64,
) -> Result<Vec<String>, ServerError> {
    let mut warnings = Vec::new();
    let unsynced: Vec<String> = crate::store::unsynced_tills(conn, event)?
        .into_iter()
        .map(|(name, pending)| format!("{name} ({pending})"))
        .collect();
    if !unsynced.is_empty() {
        warnings.push(format!("tills with unsent sales: {}", unsynced.join(", ")));
    }
    if settings.closes_at.is_none_or(|closes| now < closes) {
        warnings.push("the request window is still open".to_string());
    }
    Ok(warnings)
}

/// The waiting requests a run takes, in order, and those it leaves out.
fn take_requests(
    conn: &Connection,
    event: &str,
    settings: &PayoutSettings,
    asked: &NewPayoutRun,
) -> Result<(Vec<Item>, Vec<LeftOut>), ServerError> {
    let waiting = conn
        .prepare_cached(
            "SELECT r.token_id, r.account_holder, r.iban, r.email, r.donation,
                    w.id, w.balance, w.promo_balance, w.blocked
             FROM payout_requests r
             JOIN wallets w ON w.event_id = r.event_id AND w.token_id = r.token_id
             WHERE r.event_id = ?1 AND r.run_id IS NULL
             ORDER BY r.updated_at, r.token_id",
        )?
        .query_map(params![event], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, bool>(8)?,
            ))
        })?
        .collect::<crate::db::Result<Vec<_>>>()?
        .into_iter()
        .map(
            |(token, account_holder, iban, email, donation, wallet_id, balance, promo, blocked)| {
                Ok(Waiting {
                    token: TokenId::parse(&token)
                        .map_err(|e| ServerError::Internal(format!("a stored token id: {e}")))?,
                    account_holder,
                    iban,
                    email,
                    donation: serde_json::from_str(&donation)
                        .map_err(|e| ServerError::Internal(e.to_string()))?,
                    wallet_id,
                    balance,
                    promo_balance: promo,
                    blocked,
                })
            },
        )
        .collect::<Result<Vec<_>, ServerError>>()?;
    let max_count = asked.max_count.map_or(usize::MAX, |n| n as usize);
    let mut transferred = Cents::ZERO;
    let (mut items, mut left_out) = (Vec::new(), Vec::new());
    for request in waiting {
        let leave = |reason: &str| LeftOut {
            token_id: request.token.clone(),
            reason: reason.to_string(),
        };
        let payable =
            tapster_ledger::promo::payable(Cents(request.balance), Cents(request.promo_balance));
        let split = match settings.split(payable, request.donation) {
            Ok(split) => split,
            Err(NotPaidOut::Nothing) => {
                left_out.push(leave("nothing"));
                continue;
            }
            Err(NotPaidOut::BelowMinimum { .. }) => {
                left_out.push(leave("below_minimum"));
                continue;
            }
        };
        let after = transferred
            .checked_add(split.transfer)
            .ok_or(tapster_ledger::LedgerError::AmountOverflow)?;
        if items.len() >= max_count || asked.max_cents.is_some_and(|max| after > max) {
            left_out.push(leave("limit"));
            continue;
        }
        transferred = after;
        items.push(Item {
            position: items.len() as i64 + 1,
            token: request.token.to_string(),
            wallet_id: request.wallet_id,
            account_holder: request.account_holder,
            iban: request.iban,
            email: request.email,
            transfer: split.transfer.0,
            fee: split.fee.0,
            donation: split.donation.0,
            was_blocked: request.blocked,
        });
    }
    Ok((items, left_out))
}

fn run_row(conn: &Connection, event: &str, run: &str) -> Result<RunRow, ServerError> {
    let row = conn
        .prepare_cached(
            "SELECT id, state, created_at, execution_date, debtor_name, debtor_iban, remittance,
                    warnings, exported_at, finished_at
             FROM payout_runs WHERE event_id = ?1 AND id = ?2",
        )?
        .query_row(params![event, run], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<i64>>(8)?,
                r.get::<_, Option<i64>>(9)?,
            ))
        })
        .optional()?
        .ok_or_else(|| ServerError::NotFound(format!("payout run '{run}'")))?;
    let (
        id,
        state,
        created_at,
        execution_date,
        debtor_name,
        debtor_iban,
        remittance,
        warnings,
        exported_at,
        finished_at,
    ) = row;
    Ok(RunRow {
        id,
        state: RunState::parse(&state)
            .ok_or_else(|| ServerError::Internal(format!("unknown run state '{state}'")))?,
        created_at,
        execution_date,
        debtor_name,
        debtor_iban,
        remittance,
        warnings: serde_json::from_str(&warnings)
            .map_err(|e| ServerError::Internal(e.to_string()))?,
        exported_at,
        finished_at,
    })
}

fn run_items(conn: &Connection, run: &str) -> Result<Vec<Item>, ServerError> {
    Ok(conn
        .prepare_cached(
            "SELECT position, token_id, wallet_id, account_holder, iban, email, transfer, fee,
                    donation, was_blocked
             FROM payout_run_items WHERE run_id = ?1 ORDER BY position",
        )?
        .query_map(params![run], |r| {
            Ok(Item {
                position: r.get(0)?,
                token: r.get(1)?,
                wallet_id: r.get(2)?,
                account_holder: r.get(3)?,
                iban: r.get(4)?,
                email: r.get(5)?,
                transfer: r.get(6)?,
                fee: r.get(7)?,
                donation: r.get(8)?,
                was_blocked: r.get(9)?,
            })
        })?
        .collect::<crate::db::Result<Vec<_>>>()?)
}

fn run_view(conn: &Connection, event: &str, run: &str) -> Result<PayoutRun, ServerError> {
    let zone = ServerStore::ensure_event(conn, event)?.zone();
    let row = run_row(conn, event, run)?;
    let (bands, transfers, transfer, fee, donation): (i64, i64, i64, i64, i64) = conn
        .prepare_cached(
            "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN transfer > 0 THEN 1 ELSE 0 END), 0) AS BIGINT),
                    CAST(COALESCE(SUM(transfer), 0) AS BIGINT), CAST(COALESCE(SUM(fee), 0) AS BIGINT),
                    CAST(COALESCE(SUM(donation), 0) AS BIGINT)
             FROM payout_run_items WHERE run_id = ?1",
        )?
        .query_row(params![row.id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
    let readable = |millis: i64| tapster_api::api_timestamp_in(millis, &zone).readable;
    Ok(PayoutRun {
        state: row.state,
        created_at: readable(row.created_at),
        execution_date: row.execution_date,
        bands,
        transfers,
        transfer_cents: transfer,
        fee_cents: fee,
        donation_cents: donation,
        total_cents: Cents::checked_sum([Cents(transfer), Cents(fee), Cents(donation)])
            .ok_or(tapster_ledger::LedgerError::AmountOverflow)?
            .0,
        warnings: row.warnings,
        exported_at: row.exported_at.map(readable),
        finished_at: row.finished_at.map(readable),
        left_out: Vec::new(),
        id: row.id,
    })
}

fn sepa_file(
    row: &RunRow,
    items: &[Item],
    zone: &jiff::tz::TimeZone,
) -> Result<String, ServerError> {
    let ids: Vec<String> = items.iter().map(|i| i.end_to_end_id(&row.id)).collect();
    let transfers: Vec<tapster_sepa::Transfer<'_>> = items
        .iter()
        .zip(&ids)
        .filter(|(item, _)| item.transfer > 0)
        .map(|(item, id)| tapster_sepa::Transfer {
            end_to_end_id: id,
            creditor_name: &item.account_holder,
            creditor_iban: &item.iban,
            amount: Cents(item.transfer),
            remittance: &row.remittance,
        })
        .collect();
    if transfers.is_empty() {
        return Err(ServerError::Conflict(
            "this run gives everything to the cause: it has no transfers for the bank".into(),
        ));
    }
    let message_id = format!("TAPSTER-{}", row.id);
    let payment_id = format!("{message_id}-1");
    let created_at = jiff::Timestamp::from_millisecond(row.created_at)
        .map_err(|e| ServerError::Internal(e.to_string()))?
        .to_zoned(zone.clone())
        .datetime();
    let execution_date: jiff::civil::Date = row
        .execution_date
        .parse()
        .map_err(|e: jiff::Error| ServerError::Internal(e.to_string()))?;
    tapster_sepa::credit_transfer_file(&tapster_sepa::CreditTransfers {
        message_id: &message_id,
        payment_id: &payment_id,
        created_at,
        execution_date,
        debtor: tapster_sepa::Debtor {
            name: &row.debtor_name,
            iban: &row.debtor_iban,
        },
        transfers: &transfers,
    })
    .map_err(|e| ServerError::Conflict(format!("the SEPA file cannot be made: {e}")))
}

/// Every band of the run: its transfer (with the id the bank shows), fee
/// and donation, in the organiser's spreadsheet `style`.
fn csv_file(row: &RunRow, items: &[Item], style: CsvStyle) -> String {
    let mut rows = vec![[
        "end_to_end_id",
        "token_id",
        "account_holder",
        "iban",
        "email",
        "transfer",
        "fee",
        "donation",
    ]
    .map(String::from)
    .to_vec()];
    for item in items {
        let e2e = if item.transfer > 0 {
            item.end_to_end_id(&row.id)
        } else {
            String::new()
        };
        rows.push(vec![
            e2e,
            item.token.clone(),
            item.account_holder.clone(),
            item.iban.clone(),
            item.email.clone(),
            style.amount(Cents(item.transfer)),
            style.amount(Cents(item.fee)),
            style.amount(Cents(item.donation)),
        ]);
    }
    tapster_print::csv::table(style, &rows)
}
