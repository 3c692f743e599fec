//! Appending entries (sequence, hash chain, lines, postings, sync state) and
//! reading them back.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::catalog::{parse_column, parse_optional};
use super::{Ledger, LedgerReader};
use crate::chain::{entry_hash, GENESIS_HASH};
use crate::clock::Timestamp;
use crate::error::{LedgerError, Result};
use crate::ids::{EntryId, TerminalId};
use crate::model::{Entry, Line, SyncState};
use crate::money::{Cents, VatRate};
use crate::postings::{check_balanced, Posting};

/// The next sequence number and the previous hash of a terminal's chain.
pub(super) fn chain_head(conn: &Connection, terminal: &TerminalId) -> Result<(i64, String)> {
    let mut stmt = conn.prepare_cached(
        "SELECT sequence, hash FROM entries WHERE terminal_id = ?1 ORDER BY sequence DESC LIMIT 1",
    )?;
    let head = stmt
        .query_row([terminal.as_str()], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))
        .optional()?;
    Ok(match head {
        Some((sequence, hash)) => (sequence.checked_add(1).ok_or(LedgerError::AmountOverflow)?, hash),
        None => (1, GENESIS_HASH.to_string()),
    })
}

/// Appends `entry` (whose `sequence`, `prev_hash` and `hash` are filled in
/// here) with its postings and sync state. Returns the entry as stored.
pub(super) fn append(
    conn: &Connection,
    mut entry: Entry,
    postings: &[Posting],
    sync: &SyncState,
    now: Timestamp,
) -> Result<Entry> {
    check_balanced(postings)?;
    let (sequence, prev_hash) = chain_head(conn, &entry.terminal)?;
    entry.sequence = sequence;
    entry.prev_hash = prev_hash;
    entry.hash = entry_hash(&entry, postings);

    conn.prepare_cached(
        "INSERT INTO entries (id, terminal_id, sequence, idempotency_key, kind, token_id, tender,
             amount, staff_id, shift_id, terminal_time, reverses, offline, balance_after, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        entry.id.to_string(),
        entry.terminal.as_str(),
        entry.sequence,
        entry.idempotency_key.as_str(),
        entry.kind.as_str(),
        entry.token.as_ref().map(|t| t.as_str()),
        entry.tender.as_str(),
        entry.amount.0,
        entry.staff.as_str(),
        entry.shift.map(|s| s.to_string()),
        entry.terminal_time.0,
        entry.reverses.map(|r| r.to_string()),
        entry.offline,
        entry.balance_after.map(|b| b.0),
        entry.prev_hash,
        entry.hash,
    ])?;
    let rowid = conn.last_insert_rowid();

    let mut insert_line = conn.prepare_cached(
        "INSERT INTO entry_lines (entry_rowid, line_no, product_id, name, category_id, quantity,
             unit_price, vat_bp, deposit)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for (line_no, line) in entry.lines.iter().enumerate() {
        insert_line.execute(params![
            rowid,
            line_no as i64,
            line.product.as_str(),
            line.name,
            line.category.as_str(),
            line.quantity,
            line.unit_price.0,
            line.vat_rate.0,
            line.deposit,
        ])?;
    }
    let mut insert_posting = conn.prepare_cached(
        "INSERT INTO postings (entry_rowid, posting_no, account, amount) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (posting_no, posting) in postings.iter().enumerate() {
        insert_posting.execute(params![rowid, posting_no as i64, posting.account.to_string(), posting.amount.0])?;
    }
    write_sync_state(conn, rowid, sync, now)?;
    Ok(entry)
}

pub(super) fn write_sync_state(conn: &Connection, rowid: i64, sync: &SyncState, now: Timestamp) -> Result<()> {
    let (state, server_id, cursor, reason, at) = match sync {
        SyncState::Pending => ("pending", None, None, None, now),
        SyncState::Acknowledged {
            server_id,
            server_cursor,
            at,
        } => ("acknowledged", Some(server_id.as_str()), Some(*server_cursor), None, *at),
        SyncState::Rejected { reason, at } => ("rejected", None, None, Some(reason.as_str()), *at),
    };
    conn.prepare_cached(
        "INSERT INTO entry_sync (entry_rowid, state, server_id, server_cursor, reason, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (entry_rowid) DO UPDATE SET state = excluded.state, server_id = excluded.server_id,
             server_cursor = excluded.server_cursor, reason = excluded.reason,
             updated_at = excluded.updated_at",
    )?
    .execute(params![rowid, state, server_id, cursor, reason, at.0])?;
    Ok(())
}

pub(super) const ENTRY_COLUMNS: &str = "e.rowid_, e.id, e.terminal_id, e.sequence, e.idempotency_key,
     e.kind, e.token_id, e.tender, e.amount, e.staff_id, e.shift_id, e.terminal_time, e.reverses,
     e.offline, e.balance_after, e.prev_hash, e.hash";

/// An entry row without its lines (filled in by [`load_lines`]).
pub(super) fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<(i64, Entry)> {
    Ok((
        row.get(0)?,
        Entry {
            id: parse_column(row, 1)?,
            terminal: parse_column(row, 2)?,
            sequence: row.get(3)?,
            idempotency_key: parse_column(row, 4)?,
            kind: parse_column(row, 5)?,
            token: parse_optional(row, 6)?,
            tender: parse_column(row, 7)?,
            amount: Cents(row.get(8)?),
            lines: Vec::new(),
            staff: parse_column(row, 9)?,
            shift: parse_optional(row, 10)?,
            terminal_time: Timestamp(row.get(11)?),
            reverses: parse_optional(row, 12)?,
            offline: row.get(13)?,
            balance_after: row.get::<_, Option<i64>>(14)?.map(Cents),
            prev_hash: row.get(15)?,
            hash: row.get(16)?,
        },
    ))
}

pub(super) fn load_lines(conn: &Connection, rowid: i64) -> Result<Vec<Line>> {
    let mut stmt = conn.prepare_cached(
        "SELECT product_id, name, category_id, quantity, unit_price, vat_bp, deposit
         FROM entry_lines WHERE entry_rowid = ?1 ORDER BY line_no",
    )?;
    let rows = stmt.query_map([rowid], |row| {
        Ok(Line {
            product: parse_column(row, 0)?,
            name: row.get(1)?,
            category: parse_column(row, 2)?,
            quantity: row.get(3)?,
            unit_price: Cents(row.get(4)?),
            vat_rate: VatRate(row.get(5)?),
            deposit: row.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn load_postings(conn: &Connection, rowid: i64) -> Result<Vec<Posting>> {
    let mut stmt =
        conn.prepare_cached("SELECT account, amount FROM postings WHERE entry_rowid = ?1 ORDER BY posting_no")?;
    let rows = stmt.query_map([rowid], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))?;
    rows.map(|row| {
        let (account, amount) = row?;
        Ok(Posting {
            account: account.parse()?,
            amount: Cents(amount),
        })
    })
    .collect()
}

/// An entry with its lines, found by id; also its row id.
pub(super) fn load_entry(conn: &Connection, id: &EntryId) -> Result<Option<(i64, Entry)>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {ENTRY_COLUMNS} FROM entries e WHERE e.id = ?1"))?;
    let found = stmt.query_row([id.to_string()], entry_from_row).optional()?;
    match found {
        Some((rowid, mut entry)) => {
            entry.lines = load_lines(conn, rowid)?;
            Ok(Some((rowid, entry)))
        }
        None => Ok(None),
    }
}

pub(super) fn load_sync_state(conn: &Connection, rowid: i64) -> Result<SyncState> {
    let mut stmt = conn.prepare_cached(
        "SELECT state, server_id, server_cursor, reason, updated_at FROM entry_sync WHERE entry_rowid = ?1",
    )?;
    let (state, server_id, cursor, reason, at): (String, Option<String>, Option<i64>, Option<String>, i64) =
        stmt.query_row([rowid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
    let at = Timestamp(at);
    Ok(match (state.as_str(), server_id, cursor, reason) {
        ("pending", ..) => SyncState::Pending,
        ("acknowledged", Some(server_id), Some(server_cursor), _) => SyncState::Acknowledged {
            server_id,
            server_cursor,
            at,
        },
        ("rejected", _, _, Some(reason)) => SyncState::Rejected { reason, at },
        _ => return Err(LedgerError::Corrupt(format!("sync state '{state}' is incomplete"))),
    })
}

impl Ledger {
    pub fn entry(&self, id: &EntryId) -> Result<Option<Entry>> {
        Ok(load_entry(&self.lock(), id)?.map(|(_, entry)| entry))
    }
}

impl LedgerReader {
    pub fn entry(&self, id: &EntryId) -> Result<Option<Entry>> {
        Ok(load_entry(&self.conn, id)?.map(|(_, entry)| entry))
    }

    pub fn postings(&self, id: &EntryId) -> Result<Vec<Posting>> {
        let (rowid, _) = load_entry(&self.conn, id)?.ok_or(LedgerError::UnknownEntry(*id))?;
        load_postings(&self.conn, rowid)
    }

    pub fn sync_state(&self, id: &EntryId) -> Result<SyncState> {
        let (rowid, _) = load_entry(&self.conn, id)?.ok_or(LedgerError::UnknownEntry(*id))?;
        load_sync_state(&self.conn, rowid)
    }

    /// The latest entries, newest first, optionally of one wallet.
    pub fn recent_entries(&self, token: Option<&crate::ids::TokenId>, limit: u32) -> Result<Vec<Entry>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries e
             WHERE ?1 IS NULL OR e.token_id = ?1 ORDER BY e.rowid_ DESC LIMIT ?2"
        ))?;
        let rows = stmt
            .query_map(params![token.map(|t| t.as_str()), limit], entry_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(rowid, mut entry)| {
                entry.lines = load_lines(&self.conn, rowid)?;
                Ok(entry)
            })
            .collect()
    }
}
