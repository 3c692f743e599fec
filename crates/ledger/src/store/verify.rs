//! Checks over a whole ledger: the hash chain (finds edited or removed
//! rows) and the accounting invariants (postings balance, rollups agree).

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;

use super::entries::{entry_from_row, load_lines, load_postings, ENTRY_COLUMNS};
use super::{Ledger, LedgerReader};
use crate::chain::{entry_hash, ChainProblem, GENESIS_HASH};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "violation", rename_all = "snake_case")]
pub enum InvariantViolation {
    /// An entry's postings do not sum to zero.
    Unbalanced { entry: String, sum: i64 },
    /// An entry's wallet postings differ from its amount.
    WalletMismatch { entry: String },
    /// The rollups disagree with the entries they summarise.
    RollupMismatch { table: String },
    /// A product's stock is negative.
    NegativeStock { product: String },
    /// A settled or cancelled bill still holds payments in open bills.
    BillUnbalanced { bill: String, open: i64 },
}

pub(super) fn verify_chain(conn: &Connection) -> Result<Vec<ChainProblem>> {
    let mut problems = Vec::new();
    let mut stmt = conn.prepare(&format!(
        "SELECT {ENTRY_COLUMNS} FROM entries e ORDER BY e.terminal_id, e.sequence"
    ))?;
    let mut rows = stmt.query([])?;
    let mut previous: Option<(String, i64, String)> = None;
    while let Some(row) = rows.next()? {
        let (rowid, mut entry) = entry_from_row(row)?;
        entry.lines = load_lines(conn, rowid)?;
        let postings = load_postings(conn, rowid)?;
        let terminal = entry.terminal.to_string();
        let (expected_sequence, expected_prev) = match &previous {
            Some((t, sequence, hash)) if *t == terminal => (sequence + 1, hash.clone()),
            _ => (1, GENESIS_HASH.to_string()),
        };
        if entry.sequence != expected_sequence {
            problems.push(ChainProblem::Gap {
                terminal: terminal.clone(),
                expected: expected_sequence,
                found: entry.sequence,
            });
        } else if entry.prev_hash != expected_prev {
            problems.push(ChainProblem::BrokenLink {
                terminal: terminal.clone(),
                sequence: entry.sequence,
            });
        }
        if entry_hash(&entry, &postings) != entry.hash {
            problems.push(ChainProblem::ContentChanged {
                terminal: terminal.clone(),
                sequence: entry.sequence,
            });
        }
        previous = Some((terminal, entry.sequence, entry.hash));
    }
    Ok(problems)
}

pub(super) fn check_invariants(conn: &Connection) -> Result<Vec<InvariantViolation>> {
    let mut violations = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT e.id, SUM(p.value ->> 'm') FROM entries e JOIN json_each(e.postings) p
         GROUP BY e.sequence HAVING SUM(p.value ->> 'm') <> 0",
    )?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (entry, sum) = row?;
        violations.push(InvariantViolation::Unbalanced { entry, sum });
    }
    // wallet_delta is the sum of the entry's wallet postings, and a
    // wallet-tender entry moves its wallet by exactly its amount.
    let mut stmt = conn.prepare(
        "SELECT e.id FROM entries e
         WHERE e.wallet_delta <> (SELECT COALESCE(SUM(p.value ->> 'm'), 0) FROM json_each(e.postings) p
                                  WHERE p.value ->> 'a' = 'wallet:' || e.token_id)
            OR (e.tender = 'wallet' AND e.wallet_delta <> e.amount)",
    )?;
    for row in stmt.query_map([], |r| r.get::<_, String>(0))? {
        violations.push(InvariantViolation::WalletMismatch { entry: row? });
    }
    for (table, rollup, raw) in [
        (
            "rollup (lines)",
            "SELECT bucket, terminal_id, staff_id, kind, subject_kind, product_id, SUM(quantity), SUM(gross) FROM rollup WHERE product_id <> '' GROUP BY 1, 2, 3, 4, 5, 6",
            "SELECT bucket, terminal_id, staff_id, kind, subject_kind, product_id, SUM(quantity), SUM(gross) FROM line_facts WHERE entry_sequence <= (SELECT rolled_through FROM rollup_progress) GROUP BY 1, 2, 3, 4, 5, 6",
        ),
        (
            "rollup (entries)",
            "SELECT bucket, terminal_id, staff_id, kind, subject_kind, tender, SUM(entries), SUM(amount) FROM rollup WHERE product_id = '' GROUP BY 1, 2, 3, 4, 5, 6",
            "SELECT bucket, terminal_id, staff_id, kind, subject_kind, tender, COUNT(*), SUM(amount) FROM entry_facts WHERE entry_sequence <= (SELECT rolled_through FROM rollup_progress) GROUP BY 1, 2, 3, 4, 5, 6",
        ),
    ] {
        if grouped(conn, rollup)? != grouped(conn, raw)? {
            violations.push(InvariantViolation::RollupMismatch { table: table.to_string() });
        }
    }
    let mut stmt = conn.prepare("SELECT id FROM products WHERE stock < 0")?;
    for row in stmt.query_map([], |r| r.get::<_, String>(0))? {
        violations.push(InvariantViolation::NegativeStock { product: row? });
    }
    // A bill's entries carry its id in their lines; once it is settled or
    // cancelled they leave open bills where they found it.
    let mut stmt = conn.prepare(
        "SELECT b.id, COALESCE(SUM(p.value ->> 'm'), 0) FROM bills b
         JOIN entries e ON instr(e.lines, b.id) > 0
         JOIN json_each(e.postings) p ON p.value ->> 'a' = 'open_bills'
         WHERE b.status <> 'open'
         GROUP BY b.id HAVING SUM(p.value ->> 'm') <> 0",
    )?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (bill, open) = row?;
        violations.push(InvariantViolation::BillUnbalanced { bill, open });
    }
    Ok(violations)
}

type GroupKey = (i64, String, String, String, String, String);

fn grouped(conn: &Connection, sql: &str) -> Result<BTreeMap<GroupKey, (i64, i64)>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            (
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ),
            (r.get(6)?, r.get(7)?),
        ))
    })?;
    let mut map = BTreeMap::new();
    for row in rows {
        let (key, value) = row?;
        map.insert(key, value);
    }
    Ok(map)
}

impl Ledger {
    /// Walks every terminal's hash chain; an empty list means intact.
    pub fn verify_chain(&self) -> Result<Vec<ChainProblem>> {
        verify_chain(&self.lock())
    }

    pub fn check_invariants(&self) -> Result<Vec<InvariantViolation>> {
        check_invariants(&self.lock())
    }
}

impl LedgerReader {
    pub fn verify_chain(&self) -> Result<Vec<ChainProblem>> {
        verify_chain(&self.conn)
    }

    pub fn check_invariants(&self) -> Result<Vec<InvariantViolation>> {
        check_invariants(&self.conn)
    }
}
