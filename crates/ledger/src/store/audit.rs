//! The till's own audit trail: who did what here to money or its rules,
//! append-only and chained record by record with the discipline of the
//! entries (`chain::audit_hash`). Shift closes, cancellations, payouts and
//! corrections are recorded in the transaction that makes them; a
//! standalone till's catalogue, staff and settings changes by the app right
//! after they are saved. Shift closes go on to the event's server, which
//! learns of everything else through its own routes and the synced entries.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::{Ledger, LedgerReader};
use crate::chain::{audit_hash, AuditContent, GENESIS_HASH};
use crate::clock::Timestamp;
use crate::error::{LedgerError, Result};
use crate::ids::{StaffId, TerminalId};

/// The names of what a till records, as the server's audit trail names
/// them (`tapster_api::audit::AuditAction`; a test there keeps them equal).
pub mod actions {
    pub const SHIFT_CLOSED: &str = "shift_closed";
    pub const CANCELLATION: &str = "cancellation";
    pub const PAYOUT: &str = "payout";
    pub const CORRECTION: &str = "correction";
    pub const PRODUCT_CREATED: &str = "product_created";
    pub const PRODUCT_CHANGED: &str = "product_changed";
    pub const PRODUCT_ARCHIVED: &str = "product_archived";
    pub const PRODUCT_RESTORED: &str = "product_restored";
    pub const CATEGORY_SAVED: &str = "category_saved";
    pub const CATEGORY_REMOVED: &str = "category_removed";
    pub const CATEGORIES_REORDERED: &str = "categories_reordered";
    pub const STAFF_CREATED: &str = "staff_created";
    pub const STAFF_CHANGED: &str = "staff_changed";
    pub const SETTINGS_CHANGED: &str = "settings_changed";
    pub const WALLET_BLOCKED: &str = "wallet_blocked";
    pub const WALLET_UNBLOCKED: &str = "wallet_unblocked";

    pub const ALL: &[&str] = &[
        SHIFT_CLOSED,
        CANCELLATION,
        PAYOUT,
        CORRECTION,
        PRODUCT_CREATED,
        PRODUCT_CHANGED,
        PRODUCT_ARCHIVED,
        PRODUCT_RESTORED,
        CATEGORY_SAVED,
        CATEGORY_REMOVED,
        CATEGORIES_REORDERED,
        STAFF_CREATED,
        STAFF_CHANGED,
        SETTINGS_CHANGED,
        WALLET_BLOCKED,
        WALLET_UNBLOCKED,
    ];
}

/// The fields that differ between two versions of a thing, as
/// `{"field": [before, after]}`: what a price change record shows.
pub fn changed_fields<T: serde::Serialize>(before: &T, after: &T) -> serde_json::Value {
    let (before, after) = match (serde_json::to_value(before), serde_json::to_value(after)) {
        (Ok(serde_json::Value::Object(before)), Ok(serde_json::Value::Object(after))) => {
            (before, after)
        }
        _ => return serde_json::Value::Null,
    };
    let mut changed = serde_json::Map::new();
    for (field, new) in &after {
        let old = before
            .get(field)
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        if &old != new {
            changed.insert(field.clone(), serde_json::json!([old, new]));
        }
    }
    for (field, old) in &before {
        if !after.contains_key(field) {
            changed.insert(field.clone(), serde_json::json!([old, null]));
        }
    }
    serde_json::Value::Object(changed)
}

/// What is to be recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct TillAudit {
    pub action: &'static str,
    pub wallet: Option<String>,
    pub subject: Option<String>,
    pub detail: serde_json::Value,
}

impl TillAudit {
    pub fn new(action: &'static str, detail: serde_json::Value) -> TillAudit {
        TillAudit {
            action,
            wallet: None,
            subject: None,
            detail,
        }
    }

    pub fn subject(mut self, subject: impl Into<String>) -> TillAudit {
        self.subject = Some(subject.into());
        self
    }

    pub fn wallet(mut self, wallet: impl Into<String>) -> TillAudit {
        self.wallet = Some(wallet.into());
        self
    }
}

/// One record of the till's trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TillAuditRecord {
    pub seq: i64,
    pub at: Timestamp,
    pub terminal: TerminalId,
    pub staff: StaffId,
    /// The staff member's name as the ledger has it now.
    pub staff_name: Option<String>,
    pub action: String,
    pub wallet: Option<String>,
    pub subject: Option<String>,
    /// The action's figures as stored JSON text.
    pub detail: String,
    pub hash: String,
}

/// Which records to read: all of them when empty, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TillAuditFilter {
    pub staff: Option<StaffId>,
    pub action: Option<String>,
    pub wallet: Option<String>,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub limit: Option<u32>,
}

/// What a check of the chain found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TillAuditCheck {
    pub records: i64,
    /// The first record whose hash or link does not hold.
    pub first_broken: Option<i64>,
}

/// Appends a record inside the caller's transaction, chained to the last.
pub(super) fn record(
    conn: &Connection,
    terminal: &TerminalId,
    at: Timestamp,
    staff: &StaffId,
    audit: &TillAudit,
) -> Result<i64> {
    let last: Option<(i64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let detail = serde_json::to_string(&audit.detail)
        .map_err(|e| LedgerError::Corrupt(format!("audit detail: {e}")))?;
    let hash = audit_hash(
        &prev_hash,
        &content(
            terminal.as_str(),
            seq,
            at.0,
            staff.as_str(),
            audit.action,
            audit.wallet.as_deref(),
            audit.subject.as_deref(),
            &detail,
        ),
    );
    conn.prepare_cached(
        "INSERT INTO audit_log (seq, at, terminal_id, staff_id, action, wallet, subject, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        seq,
        at.0,
        terminal.as_str(),
        staff.as_str(),
        audit.action,
        audit.wallet,
        audit.subject,
        detail,
        prev_hash,
        hash
    ])?;
    Ok(seq)
}

#[allow(clippy::too_many_arguments)]
fn content<'a>(
    terminal: &'a str,
    seq: i64,
    at: i64,
    staff: &'a str,
    action: &'a str,
    wallet: Option<&'a str>,
    subject: Option<&'a str>,
    detail: &'a str,
) -> AuditContent<'a> {
    AuditContent {
        event: terminal,
        seq,
        at,
        actor_kind: "staff",
        actor_id: Some(staff),
        terminal: Some(terminal),
        action,
        wallet,
        subject,
        detail,
    }
}

const COLUMNS: &str = "a.seq, a.at, a.terminal_id, a.staff_id, s.name, a.action, a.wallet, a.subject, a.detail, a.hash";

fn record_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TillAuditRecord> {
    Ok(TillAuditRecord {
        seq: row.get(0)?,
        at: Timestamp(row.get(1)?),
        terminal: super::catalog::parse_column(row, 2)?,
        staff: super::catalog::parse_column(row, 3)?,
        staff_name: row.get(4)?,
        action: row.get(5)?,
        wallet: row.get(6)?,
        subject: row.get(7)?,
        detail: row.get(8)?,
        hash: row.get(9)?,
    })
}

impl Ledger {
    /// Records what `staff` did on this till, as its own write.
    pub fn record_audit(&self, staff: &StaffId, audit: &TillAudit) -> Result<i64> {
        let conn = self.lock();
        record(
            &conn,
            &self.options.terminal,
            self.options.clock.now(),
            staff,
            audit,
        )
    }

    /// The server has this till's shift closes up to record `seq`.
    pub fn mark_audit_delivered(&self, seq: i64) -> Result<()> {
        self.lock().execute(
            "INSERT INTO audit_delivered (id, seq) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET seq = MAX(seq, excluded.seq)",
            [seq],
        )?;
        Ok(())
    }

    /// The shift closes the server does not have yet, oldest first.
    pub fn undelivered_shift_closes(&self, limit: u32) -> Result<Vec<TillAuditRecord>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM audit_log a LEFT JOIN staff s ON s.id = a.staff_id
             WHERE a.action = ?1 AND a.seq > COALESCE((SELECT seq FROM audit_delivered WHERE id = 1), 0)
             ORDER BY a.seq LIMIT ?2"
        ))?;
        let rows = stmt.query_map(
            params![actions::SHIFT_CLOSED, i64::from(limit)],
            record_from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl LedgerReader {
    /// Records as `filter` asks, newest first.
    pub fn audit_records(&self, filter: &TillAuditFilter) -> Result<Vec<TillAuditRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM audit_log a LEFT JOIN staff s ON s.id = a.staff_id
             WHERE (?1 IS NULL OR a.staff_id = ?1) AND (?2 IS NULL OR a.action = ?2)
               AND (?3 IS NULL OR a.wallet = ?3) AND (?4 IS NULL OR a.at >= ?4)
               AND (?5 IS NULL OR a.at <= ?5)
             ORDER BY a.seq DESC LIMIT ?6"
        ))?;
        let rows = stmt.query_map(
            params![
                filter.staff.as_ref().map(StaffId::as_str),
                filter.action,
                filter.wallet,
                filter.from.map(|t| t.0),
                filter.until.map(|t| t.0),
                filter.limit.map(i64::from).unwrap_or(-1),
            ],
            record_from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Recomputes every record's hash and link.
    pub fn verify_audit(&self) -> Result<TillAuditCheck> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, terminal_id, staff_id, action, wallet, subject, detail, prev_hash, hash
             FROM audit_log ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        let (mut records, mut expected_prev, mut first_broken) =
            (0_i64, GENESIS_HASH.to_string(), None);
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let (terminal, staff, action): (String, String, String) =
                (row.get(2)?, row.get(3)?, row.get(4)?);
            let (wallet, subject): (Option<String>, Option<String>) = (row.get(5)?, row.get(6)?);
            let (detail, prev_hash, hash): (String, String, String) =
                (row.get(7)?, row.get(8)?, row.get(9)?);
            let recomputed = audit_hash(
                &prev_hash,
                &content(
                    &terminal,
                    seq,
                    row.get(1)?,
                    &staff,
                    &action,
                    wallet.as_deref(),
                    subject.as_deref(),
                    &detail,
                ),
            );
            records += 1;
            if first_broken.is_none()
                && (seq != records || prev_hash != expected_prev || recomputed != hash)
            {
                first_broken = Some(seq);
            }
            expected_prev = hash;
        }
        Ok(TillAuditCheck {
            records,
            first_broken,
        })
    }
}
