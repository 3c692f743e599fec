//! Appending entries (sequence, hash chain, lines, postings, sync state) and
//! reading them back.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::catalog::{parse_column, parse_optional};
use super::{Ledger, LedgerReader};
use crate::chain::{entry_hash, GENESIS_HASH};
use crate::clock::Timestamp;
use crate::error::{LedgerError, Result};
use crate::ids::EntryId;
use crate::model::{Entry, Line, SyncState};
use crate::money::{Cents, VatRate};
use crate::postings::{check_balanced, Account, Posting};

/// Where a ledger's chain ends: the next sequence number, the last hash,
/// and the last terminal time.
pub(super) struct ChainHead {
    pub next_sequence: i64,
    pub prev_hash: String,
    pub last_time: Timestamp,
}

pub(super) fn chain_head(conn: &Connection) -> Result<ChainHead> {
    let mut stmt = conn.prepare_cached(
        "SELECT sequence, hash, terminal_time FROM entries ORDER BY sequence DESC LIMIT 1",
    )?;
    let head = stmt
        .query_row([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })
        .optional()?;
    Ok(match head {
        Some((sequence, hash, time)) => ChainHead {
            next_sequence: sequence.checked_add(1).ok_or(LedgerError::AmountOverflow)?,
            prev_hash: hash,
            last_time: Timestamp(time),
        },
        None => ChainHead {
            next_sequence: 1,
            prev_hash: GENESIS_HASH.to_string(),
            last_time: Timestamp(i64::MIN),
        },
    })
}

/// Appends `entry` with its postings (rolling up the batch it completes)
/// and, when the server already decided it, its sync decision. Fills in `sequence`,
/// `prev_hash` and `hash`, and keeps terminal times from going backwards
/// (a clock set back must not reorder the ledger). Returns the entry as
/// stored.
pub(super) fn append(
    conn: &Connection,
    mut entry: Entry,
    postings: &[Posting],
    request_hash: &str,
    decision: Option<&SyncState>,
) -> Result<Entry> {
    check_balanced(postings)?;
    let head = chain_head(conn)?;
    entry.sequence = head.next_sequence;
    entry.prev_hash = head.prev_hash;
    entry.terminal_time = entry.terminal_time.max(head.last_time);
    entry.hash = entry_hash(&entry, postings);
    let wallet_delta = match &entry.token {
        Some(token) => {
            let wallet = Account::Wallet(token.clone());
            Cents::checked_sum(
                postings
                    .iter()
                    .filter(|p| p.account == wallet)
                    .map(|p| p.amount),
            )
            .ok_or(LedgerError::AmountOverflow)?
        }
        None => Cents::ZERO,
    };

    conn.prepare_cached(
        "INSERT INTO entries (sequence, id, terminal_id, idempotency_key, request_hash, kind, token_id,
             tender, amount, wallet_delta, staff_id, shift_id, terminal_time, reverses, offline,
             balance_after, lines, postings, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
    )?
    .execute(params![
        entry.sequence,
        entry.id.to_string(),
        entry.terminal.as_str(),
        entry.idempotency_key.as_str(),
        request_hash,
        entry.kind.as_str(),
        entry.token.as_ref().map(|t| t.as_str()),
        entry.tender.as_str(),
        entry.amount.0,
        wallet_delta.0,
        entry.staff.as_str(),
        entry.shift.map(|s| s.to_string()),
        entry.terminal_time.0,
        entry.reverses.map(|r| r.to_string()),
        entry.offline,
        entry.balance_after.map(|b| b.0),
        encode_lines(&entry.lines)?,
        encode_postings(postings)?,
        entry.prev_hash,
        entry.hash,
    ])?;

    roll_up_if_due(conn, entry.sequence)?;
    if let Some(decision) = decision {
        write_decision(conn, entry.sequence, decision)?;
    }
    Ok(entry)
}

/// Entries are rolled up in batches of this many: one transaction in so
/// many pays for the roll-up, the others write nothing for reports.
pub const ROLLUP_BATCH: i64 = 256;

/// Rolls up the entries after the last roll-up through `through`.
pub(super) fn roll_up(conn: &Connection, through: i64) -> Result<()> {
    let rolled: i64 = conn
        .prepare_cached("SELECT rolled_through FROM rollup_progress WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    if through <= rolled {
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO rollup (bucket, terminal_id, staff_id, kind, subject_kind, tender, product_id,
             category_id, vat_bp, deposit, entries, amount, quantity, gross)
         SELECT bucket, terminal_id, staff_id, kind, subject_kind, tender, '', '', 0, 0, COUNT(*), SUM(amount), 0, 0
         FROM entry_facts WHERE entry_sequence > ?1 AND entry_sequence <= ?2
         GROUP BY bucket, terminal_id, staff_id, kind, subject_kind, tender
         ON CONFLICT DO UPDATE SET entries = entries + excluded.entries, amount = amount + excluded.amount",
    )?
    .execute([rolled, through])?;
    conn.prepare_cached(
        "INSERT INTO rollup (bucket, terminal_id, staff_id, kind, subject_kind, tender, product_id,
             category_id, vat_bp, deposit, entries, amount, quantity, gross)
         SELECT bucket, terminal_id, staff_id, kind, subject_kind, tender, product_id, category_id, vat_bp,
                deposit, 0, 0, SUM(quantity), SUM(gross)
         FROM line_facts WHERE entry_sequence > ?1 AND entry_sequence <= ?2
         GROUP BY bucket, terminal_id, staff_id, kind, subject_kind, tender, product_id, category_id, vat_bp, deposit
         ON CONFLICT DO UPDATE SET quantity = quantity + excluded.quantity, gross = gross + excluded.gross",
    )?
    .execute([rolled, through])?;
    conn.prepare_cached("UPDATE rollup_progress SET rolled_through = ?1 WHERE id = 1")?
        .execute([through])?;
    Ok(())
}

fn roll_up_if_due(conn: &Connection, last_sequence: i64) -> Result<()> {
    if last_sequence.rem_euclid(ROLLUP_BATCH) == 0 {
        roll_up(conn, last_sequence)?;
    }
    Ok(())
}

/// Records the server's decision about entry `sequence` and moves the
/// outbox's start past every entry that now has one.
pub(super) fn write_decision(conn: &Connection, sequence: i64, decision: &SyncState) -> Result<()> {
    let (state, server_id, cursor, reason, at) = match decision {
        SyncState::Pending => {
            return Err(LedgerError::Corrupt(
                "an entry cannot go back to pending".into(),
            ))
        }
        SyncState::Acknowledged {
            server_id,
            server_cursor,
            at,
        } => (
            "acknowledged",
            Some(server_id.as_str()),
            Some(*server_cursor),
            None,
            *at,
        ),
        SyncState::Rejected { reason, at } => ("rejected", None, None, Some(reason.as_str()), *at),
        SyncState::Uncertain { reason, at } => {
            ("uncertain", None, None, Some(reason.as_str()), *at)
        }
        SyncState::KeptLocally { reason, at } => {
            ("kept_locally", None, None, Some(reason.as_str()), *at)
        }
    };
    conn.prepare_cached(
        "INSERT INTO entry_sync (entry_sequence, state, server_id, server_cursor, reason, decided_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![sequence, state, server_id, cursor, reason, at.0])?;
    let mut through: i64 = conn
        .prepare_cached("SELECT decided_through FROM sync_progress WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    let mut decided = conn.prepare_cached(
        "SELECT entry_sequence FROM entry_sync WHERE entry_sequence > ?1 ORDER BY entry_sequence",
    )?;
    let mut rows = decided.query([through])?;
    while let Some(row) = rows.next()? {
        let next: i64 = row.get(0)?;
        if next != through + 1 {
            break;
        }
        through = next;
    }
    conn.prepare_cached("UPDATE sync_progress SET decided_through = ?1 WHERE id = 1")?
        .execute([through])?;
    Ok(())
}

pub(super) const ENTRY_COLUMNS: &str =
    "e.sequence, e.id, e.terminal_id, e.sequence, e.idempotency_key,
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

/// A line as stored in `entries.lines` (short keys: the column is JSON).
#[derive(Serialize, Deserialize)]
struct StoredLine {
    p: String,
    n: String,
    c: String,
    q: i64,
    u: i64,
    v: u32,
    d: u8,
    /// The pass of a discount line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    /// 1 on a tip line.
    #[serde(default, skip_serializing_if = "is_zero")]
    t: u8,
    /// The bill of a bill line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    b: Option<String>,
}

fn is_zero(value: &u8) -> bool {
    *value == 0
}

/// A posting as stored in `entries.postings`.
#[derive(Serialize, Deserialize)]
struct StoredPosting {
    a: String,
    m: i64,
}

pub(super) fn encode_lines(lines: &[Line]) -> Result<String> {
    let stored: Vec<StoredLine> = lines
        .iter()
        .map(|l| StoredLine {
            p: l.product.to_string(),
            n: l.name.clone(),
            c: l.category.to_string(),
            q: l.quantity,
            u: l.unit_price.0,
            v: l.vat_rate.0,
            d: u8::from(l.deposit),
            x: l.pass.as_ref().map(|code| code.to_string()),
            t: u8::from(l.tip),
            b: l.bill.map(|bill| bill.to_string()),
        })
        .collect();
    serde_json::to_string(&stored).map_err(|e| LedgerError::Corrupt(e.to_string()))
}

pub(super) fn decode_lines(json: &str) -> Result<Vec<Line>> {
    let stored: Vec<StoredLine> = serde_json::from_str(json)
        .map_err(|e| LedgerError::Corrupt(format!("entry lines: {e}")))?;
    stored
        .into_iter()
        .map(|l| {
            Ok(Line {
                product: l.p.parse()?,
                name: l.n,
                category: l.c.parse()?,
                quantity: l.q,
                unit_price: Cents(l.u),
                vat_rate: VatRate(l.v),
                deposit: l.d != 0,
                pass: l.x.map(crate::passes::PassCode::try_from).transpose()?,
                tip: l.t != 0,
                bill: l.b.map(|bill| bill.parse()).transpose()?,
            })
        })
        .collect()
}

fn encode_postings(postings: &[Posting]) -> Result<String> {
    let stored: Vec<StoredPosting> = postings
        .iter()
        .map(|p| StoredPosting {
            a: p.account.to_string(),
            m: p.amount.0,
        })
        .collect();
    serde_json::to_string(&stored).map_err(|e| LedgerError::Corrupt(e.to_string()))
}

pub(super) fn load_lines(conn: &Connection, sequence: i64) -> Result<Vec<Line>> {
    let json: String = conn
        .prepare_cached("SELECT lines FROM entries WHERE sequence = ?1")?
        .query_row([sequence], |r| r.get(0))?;
    decode_lines(&json)
}

pub(super) fn load_postings(conn: &Connection, sequence: i64) -> Result<Vec<Posting>> {
    let json: String = conn
        .prepare_cached("SELECT postings FROM entries WHERE sequence = ?1")?
        .query_row([sequence], |r| r.get(0))?;
    let stored: Vec<StoredPosting> = serde_json::from_str(&json)
        .map_err(|e| LedgerError::Corrupt(format!("entry postings: {e}")))?;
    stored
        .into_iter()
        .map(|p| {
            Ok(Posting {
                account: p.a.parse()?,
                amount: Cents(p.m),
            })
        })
        .collect()
}

/// An entry with its lines, found by id; also its row id.
pub(super) fn load_entry(conn: &Connection, id: &EntryId) -> Result<Option<(i64, Entry)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENTRY_COLUMNS} FROM entries e WHERE e.id = ?1"
    ))?;
    let found = stmt
        .query_row([id.to_string()], entry_from_row)
        .optional()?;
    match found {
        Some((rowid, mut entry)) => {
            entry.lines = load_lines(conn, rowid)?;
            Ok(Some((rowid, entry)))
        }
        None => Ok(None),
    }
}

/// state, server id, server cursor, reason, decided at
type DecisionRow = (String, Option<String>, Option<i64>, Option<String>, i64);

pub(super) fn load_sync_state(conn: &Connection, sequence: i64) -> Result<SyncState> {
    let mut stmt = conn.prepare_cached(
        "SELECT state, server_id, server_cursor, reason, decided_at FROM entry_sync WHERE entry_sequence = ?1",
    )?;
    let found: Option<DecisionRow> = stmt
        .query_row([sequence], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let Some((state, server_id, cursor, reason, at)) = found else {
        return Ok(SyncState::Pending);
    };
    let at = Timestamp(at);
    Ok(match (state.as_str(), server_id, cursor, reason) {
        ("acknowledged", Some(server_id), Some(server_cursor), _) => SyncState::Acknowledged {
            server_id,
            server_cursor,
            at,
        },
        ("rejected", _, _, Some(reason)) => SyncState::Rejected { reason, at },
        ("uncertain", _, _, Some(reason)) => SyncState::Uncertain { reason, at },
        ("kept_locally", _, _, Some(reason)) => SyncState::KeptLocally { reason, at },
        _ => {
            return Err(LedgerError::Corrupt(format!(
                "sync state '{state}' is incomplete"
            )))
        }
    })
}

impl Ledger {
    /// Rolls up every entry not rolled up yet. Reports are exact either
    /// way; this only moves their work to now (e.g. after a bulk import).
    pub fn roll_up_now(&self) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let last = chain_head(&tx)?.next_sequence - 1;
        roll_up(&tx, last)?;
        tx.commit()?;
        Ok(())
    }

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

    /// The entries the server refused, newest first, with its reasons.
    pub fn rejected_entries(&self, limit: u32) -> Result<Vec<(Entry, String, Timestamp)>> {
        self.entries_decided_as("rejected", limit)
    }

    /// Wallet sales whose answer from a plain server was lost and whose
    /// outcome is not known, newest first, with what is known.
    pub fn uncertain_entries(&self, limit: u32) -> Result<Vec<(Entry, String, Timestamp)>> {
        self.entries_decided_as("uncertain", limit)
    }

    /// Entries the server cannot take, kept in this till's books, newest first.
    pub fn kept_locally_entries(&self, limit: u32) -> Result<Vec<(Entry, String, Timestamp)>> {
        self.entries_decided_as("kept_locally", limit)
    }

    /// How many entries are uncertain and kept locally, and what the kept
    /// ones add up to (signed, as seen from the guests).
    pub fn sync_attention(&self) -> Result<SyncAttention> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(s.state = 'uncertain'), 0),
                    COALESCE(SUM(CASE WHEN s.state = 'uncertain' THEN e.amount END), 0),
                    COALESCE(SUM(s.state = 'kept_locally'), 0),
                    COALESCE(SUM(CASE WHEN s.state = 'kept_locally' THEN e.amount END), 0),
                    COALESCE(SUM(s.state = 'rejected'), 0)
             FROM entry_sync s JOIN entries e ON e.sequence = s.entry_sequence
             WHERE s.state <> 'acknowledged'",
            [],
            |r| {
                Ok(SyncAttention {
                    uncertain: r.get(0)?,
                    uncertain_amount: Cents(r.get(1)?),
                    kept_locally: r.get(2)?,
                    kept_locally_amount: Cents(r.get(3)?),
                    rejected: r.get(4)?,
                })
            },
        )?)
    }

    fn entries_decided_as(
        &self,
        state: &str,
        limit: u32,
    ) -> Result<Vec<(Entry, String, Timestamp)>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS}, s.reason, s.decided_at FROM entries e
             JOIN entry_sync s ON s.entry_sequence = e.sequence AND s.state = ?2
             ORDER BY e.sequence DESC LIMIT ?1"
        ))?;
        let columns = stmt.column_count();
        let rows = stmt
            .query_map(params![limit, state], |row| {
                let (rowid, entry) = entry_from_row(row)?;
                let reason: Option<String> = row.get(columns - 2)?;
                let at: i64 = row.get(columns - 1)?;
                Ok((rowid, entry, reason.unwrap_or_default(), Timestamp(at)))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(rowid, mut entry, reason, at)| {
                entry.lines = load_lines(&self.conn, rowid)?;
                Ok((entry, reason, at))
            })
            .collect()
    }

    /// The latest entries, newest first, optionally of one wallet.
    pub fn recent_entries(
        &self,
        token: Option<&crate::ids::TokenId>,
        limit: u32,
    ) -> Result<Vec<Entry>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries e
             WHERE ?1 IS NULL OR e.token_id = ?1 ORDER BY e.sequence DESC LIMIT ?2"
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

/// What needs a manager's eye after syncing with a plain PointOfSale server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SyncAttention {
    /// Wallet sales whose outcome on the server is not known.
    pub uncertain: i64,
    /// Their total, signed as seen from the guests (debits negative).
    pub uncertain_amount: Cents,
    /// Entries the server cannot take (top-ups), kept in this till's books.
    pub kept_locally: i64,
    pub kept_locally_amount: Cents,
    /// Entries the server refused.
    pub rejected: i64,
}

impl Ledger {
    /// Keeps what the fiscal device answered for an entry's receipt (a
    /// signature or an outage, as the server's JSON), once: a second
    /// answer for the same entry is ignored, so a reprint never differs
    /// from the first receipt.
    pub fn keep_fiscal_receipt(&self, id: &EntryId, signing_json: &str) -> Result<()> {
        let now = self.options.clock.now();
        let conn = self.lock();
        conn.prepare_cached(
            "INSERT INTO fiscal_receipts (entry_id, signing, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (entry_id) DO NOTHING",
        )?
        .execute(params![id.to_string(), signing_json, now.0])?;
        Ok(())
    }
}

impl LedgerReader {
    /// What the fiscal device answered for an entry's receipt, if it was
    /// asked.
    pub fn fiscal_receipt(&self, id: &EntryId) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT signing FROM fiscal_receipts WHERE entry_id = ?1")?
            .query_row([id.to_string()], |row| row.get(0))
            .optional()?)
    }
}
