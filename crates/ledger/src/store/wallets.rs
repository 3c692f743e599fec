//! What this terminal knows about a wallet: the server's last confirmed
//! balance plus this terminal's entries the server has not yet counted.
//!
//! An entry counts on top of the confirmed balance while it is pending, or
//! acknowledged at a server cursor later than the confirmed one. Rejected
//! entries never count: the server refused them.

use rusqlite::{params, Connection, OptionalExtension};

use super::{Ledger, LedgerReader};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::{ProductId, TokenId};
use crate::model::{DepositCount, EntryKind, WalletView};
use crate::money::Cents;
use crate::promo::{promo_after, PromoMove};
use crate::rules::WalletPosition;

/// The SQL condition (over `s`, an `entry_sync` row left-joined to the
/// entry, and `?2`, the confirmed cursor) for an entry not yet included in
/// the confirmed balance: pending, acknowledged after that cursor, or one
/// the server never confirmed but this till keeps (uncertain, kept locally).
const COUNTED: &str = "(s.state IS NULL OR s.state IN ('uncertain', 'kept_locally')
    OR (s.state = 'acknowledged' AND (?2 IS NULL OR s.server_cursor > ?2)))";

pub(super) struct WalletRow {
    pub wallet_id: Option<String>,
    pub blocked: bool,
    pub confirmed_balance: Option<i64>,
    pub confirmed_cursor: Option<i64>,
    pub confirmed_at: Option<i64>,
    pub deposits_cursor: Option<i64>,
    pub confirmed_promo: i64,
}

pub(super) fn wallet_row(conn: &Connection, token: &TokenId) -> Result<Option<WalletRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT wallet_id, blocked, confirmed_balance, confirmed_cursor, confirmed_at, deposits_cursor,
                confirmed_promo
         FROM wallets WHERE token_id = ?1",
    )?;
    Ok(stmt
        .query_row([token.as_str()], |row| {
            Ok(WalletRow {
                wallet_id: row.get(0)?,
                blocked: row.get(1)?,
                confirmed_balance: row.get(2)?,
                confirmed_cursor: row.get(3)?,
                confirmed_at: row.get(4)?,
                deposits_cursor: row.get(5)?,
                confirmed_promo: row.get(6)?,
            })
        })
        .optional()?)
}

/// Creates the wallet row if this terminal has never seen the wristband.
/// `known_empty`: the wallet is new to the whole event (standalone), so its
/// balance is known to be zero.
pub(super) fn ensure_wallet(
    conn: &Connection,
    token: &TokenId,
    known_empty: bool,
    now: Timestamp,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO wallets (token_id, blocked, confirmed_balance, confirmed_at)
         VALUES (?1, 0, CASE WHEN ?2 THEN 0 END, CASE WHEN ?2 THEN ?3 END)
         ON CONFLICT (token_id) DO NOTHING",
    )?
    .execute(params![token.as_str(), known_empty, now.0])?;
    Ok(())
}

fn unconfirmed_sum(conn: &Connection, token: &TokenId, cursor: Option<i64>) -> Result<i64> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT COALESCE(SUM(e.wallet_delta), 0) FROM entries e
         LEFT JOIN entry_sync s ON s.entry_sequence = e.sequence
         WHERE e.token_id = ?1 AND {COUNTED}"
    ))?;
    Ok(stmt.query_row(params![token.as_str(), cursor], |r| r.get(0))?)
}

/// This wallet's unacknowledged offline debits on this terminal (positive).
fn wallet_offline_exposure(conn: &Connection, token: &TokenId) -> Result<i64> {
    let mut stmt = conn.prepare_cached(
        "SELECT COALESCE(-SUM(e.amount), 0) FROM entries e
         LEFT JOIN entry_sync s ON s.entry_sequence = e.sequence
         WHERE e.token_id = ?1 AND (s.state IS NULL OR s.state = 'uncertain')
           AND e.offline = 1 AND e.amount < 0",
    )?;
    Ok(stmt.query_row([token.as_str()], |r| r.get(0))?)
}

/// All wallets' unacknowledged offline debits on this terminal (positive).
pub(super) fn terminal_offline_exposure(conn: &Connection) -> Result<Cents> {
    let mut stmt = conn.prepare_cached(
        "SELECT COALESCE(-SUM(e.amount), 0) FROM entries e
         LEFT JOIN entry_sync s ON s.entry_sequence = e.sequence
         WHERE e.sequence > (SELECT decided_through FROM sync_progress WHERE id = 1)
           AND s.state IS NULL AND e.offline = 1 AND e.amount < 0 AND e.token_id IS NOT NULL",
    )?;
    Ok(Cents(stmt.query_row([], |r| r.get(0))?))
}

/// The wallet's position. `with_offline_exposure` only when offline limits
/// apply: it costs a scan of the wallet's entries.
pub(super) fn position(
    conn: &Connection,
    token: &TokenId,
    row: &WalletRow,
    with_offline_exposure: bool,
) -> Result<WalletPosition> {
    let unconfirmed = unconfirmed_sum(conn, token, row.confirmed_cursor)?;
    let available = row
        .confirmed_balance
        .unwrap_or(0)
        .checked_add(unconfirmed)
        .ok_or(crate::error::LedgerError::AmountOverflow)?;
    Ok(WalletPosition {
        token: token.clone(),
        blocked: row.blocked,
        balance_known: row.confirmed_balance.is_some(),
        confirmed_at: row.confirmed_at.map(Timestamp),
        available: Cents(available),
        offline_exposure: if with_offline_exposure {
            Cents(wallet_offline_exposure(conn, token)?)
        } else {
            Cents::ZERO
        },
    })
}

/// How much of the wallet's available balance is promo credit: the
/// server's confirmed figure with [`promo_after`] folded over this
/// terminal's entries the server has not counted yet. A cancellation is
/// taken to give back promo credit up to its whole amount (its sale's share
/// may be on the server only): the estimate errs towards paying out less.
pub(super) fn promo_estimate(conn: &Connection, token: &TokenId, row: &WalletRow) -> Result<Cents> {
    if row.confirmed_promo == 0 {
        return Ok(Cents::ZERO);
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT e.kind, e.wallet_delta FROM entries e
         LEFT JOIN entry_sync s ON s.entry_sequence = e.sequence
         WHERE e.token_id = ?1 AND {COUNTED} ORDER BY e.sequence"
    ))?;
    let rows = stmt.query_map(params![token.as_str(), row.confirmed_cursor], |r| {
        Ok((
            super::catalog::parse_column::<EntryKind>(r, 0)?,
            Cents(r.get(1)?),
        ))
    })?;
    let (mut balance, mut promo) = (
        Cents(row.confirmed_balance.unwrap_or(0)),
        Cents(row.confirmed_promo),
    );
    for movement in rows {
        let (kind, delta) = movement?;
        balance = balance
            .checked_add(delta)
            .ok_or(crate::error::LedgerError::AmountOverflow)?;
        let movement = match kind {
            EntryKind::Cancel => PromoMove::Reversal { promo_used: delta },
            kind => PromoMove::Ordinary(kind),
        };
        promo = promo_after(movement, delta, promo, balance)?;
    }
    Ok(promo)
}

/// Outstanding deposits of `product` (or of all products) for the wallet.
pub(super) fn outstanding_deposits(
    conn: &Connection,
    token: &TokenId,
    cursor: Option<i64>,
    product: Option<&ProductId>,
) -> Result<Vec<DepositCount>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT product_id, SUM(count) FROM (
             SELECT product_id, count FROM wallet_deposit_snapshots WHERE token_id = ?1
             UNION ALL
             SELECT l.value ->> 'p' AS product_id, l.value ->> 'q' AS count FROM entries e
             LEFT JOIN entry_sync s ON s.entry_sequence = e.sequence
             JOIN json_each(e.lines) l
             WHERE e.token_id = ?1 AND e.tender = 'wallet' AND l.value ->> 'd' = 1 AND {COUNTED}
         )
         WHERE ?3 IS NULL OR product_id = ?3
         GROUP BY product_id HAVING SUM(count) <> 0 ORDER BY product_id"
    ))?;
    let rows = stmt.query_map(
        params![token.as_str(), cursor, product.map(|p| p.as_str())],
        |row| {
            Ok(DepositCount {
                product: super::catalog::parse_column(row, 0)?,
                count: row.get(1)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn wallet_view(conn: &Connection, token: &TokenId) -> Result<Option<WalletView>> {
    let Some(row) = wallet_row(conn, token)? else {
        return Ok(None);
    };
    let position = position(conn, token, &row, true)?;
    let promo = promo_estimate(conn, token, &row)?;
    Ok(Some(WalletView {
        token: token.clone(),
        wallet_id: row.wallet_id,
        blocked: row.blocked,
        confirmed_balance: row.confirmed_balance.map(Cents),
        confirmed_at: row.confirmed_at.map(Timestamp),
        confirmed_cursor: row.confirmed_cursor,
        available: position.available,
        promo,
        unacknowledged_offline_debits: position.offline_exposure,
        deposits: outstanding_deposits(conn, token, row.deposits_cursor, None)?,
    }))
}

impl Ledger {
    pub fn wallet(&self, token: &TokenId) -> Result<Option<WalletView>> {
        wallet_view(&self.lock(), token)
    }

    /// Blocks or unblocks a wallet on this terminal (a manager's decision,
    /// or the server's via sync).
    pub fn set_wallet_blocked(&self, token: &TokenId, blocked: bool) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        ensure_wallet(&tx, token, false, self.options.clock.now())?;
        tx.execute(
            "UPDATE wallets SET blocked = ?2 WHERE token_id = ?1",
            params![token.as_str(), blocked],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The sum of all unacknowledged offline debits on this terminal.
    pub fn offline_exposure(&self) -> Result<Cents> {
        terminal_offline_exposure(&self.lock())
    }
}

impl LedgerReader {
    pub fn wallet(&self, token: &TokenId) -> Result<Option<WalletView>> {
        wallet_view(&self.conn, token)
    }

    /// Every wallet's token this ledger knows, in order.
    pub fn wallet_tokens(&self) -> Result<Vec<TokenId>> {
        let mut stmt = self
            .conn
            .prepare("SELECT token_id FROM wallets ORDER BY token_id")?;
        let rows = stmt.query_map([], |row| super::catalog::parse_column::<TokenId>(row, 0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
