//! Cashier shifts: opened with a float, closed with the counted cash. The
//! ledger computes the cash the drawer should hold from its postings; a
//! difference is booked as a cash-count adjustment, and each close gets the
//! terminal's next Z number.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use serde::{Deserialize, Serialize};

use super::catalog::{active_staff, parse_column};
use super::entries::{append, chain_head};
use super::operations::{previous_operation, record_operation, request_hash};
use super::reports::{sales_report, ReportFilter, SalesReport};
use super::{Ledger, LedgerReader};
use crate::clock::Timestamp;
use crate::error::{InputError, LedgerError, Result};
use crate::ids::{EntryId, IdempotencyKey, ShiftId, StaffId, TerminalId};
use crate::model::{Entry, EntryKind, Shift, ShiftClose, Tender};
use crate::money::Cents;
use crate::postings::{book, Account, Movement};
use crate::rules::{check_role, Action};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenShiftRequest {
    pub key: IdempotencyKey,
    pub staff: StaffId,
    /// Cash put into the drawer at the start.
    pub float: Cents,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseShiftRequest {
    pub key: IdempotencyKey,
    pub staff: StaffId,
    /// Cash counted in the drawer at the end.
    pub counted: Cents,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShiftOpened {
    pub shift: Shift,
    pub replayed: bool,
}

/// The Z report of a closed (or, as an X report, still open) shift.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ZReport {
    pub shift: Shift,
    pub staff_name: String,
    pub terminal_name: String,
    pub sales: SalesReport,
    pub float: Cents,
    /// Cash taken in minus cash paid out during the shift (before any
    /// cash-count adjustment).
    pub cash_movements: Cents,
    pub expected_cash: Cents,
    /// Tips taken in the shift (in the drawer when paid cash, owed to the
    /// staff either way).
    pub tips: Cents,
    /// `None` while the shift is open.
    pub counted_cash: Option<Cents>,
    /// Who closed it, when not its cashier (a supervisor or manager).
    pub closed_by_name: Option<String>,
    pub difference: Option<Cents>,
    pub replayed: bool,
}

const SHIFT_COLUMNS: &str = "id, terminal_id, staff_id, opened_at, float, closed_at, z_number,
     expected_cash, counted_cash, difference, first_sequence, last_sequence, closed_by";

fn shift_from_row(row: &Row<'_>) -> rusqlite::Result<Shift> {
    let closed_at: Option<i64> = row.get(5)?;
    Ok(Shift {
        id: parse_column(row, 0)?,
        terminal: parse_column(row, 1)?,
        staff: parse_column(row, 2)?,
        opened_at: Timestamp(row.get(3)?),
        float: Cents(row.get(4)?),
        closed: match closed_at {
            Some(at) => Some(ShiftClose {
                closed_at: Timestamp(at),
                z_number: row.get(6)?,
                expected_cash: Cents(row.get(7)?),
                counted_cash: Cents(row.get(8)?),
                difference: Cents(row.get(9)?),
                closed_by: row
                    .get::<_, Option<String>>(12)?
                    .and_then(|id| StaffId::new(id).ok()),
            }),
            None => None,
        },
    })
}

pub(super) fn open_shift(conn: &Connection, terminal: &TerminalId) -> Result<Option<Shift>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SHIFT_COLUMNS} FROM shifts WHERE terminal_id = ?1 AND closed_at IS NULL"
    ))?;
    Ok(stmt
        .query_row([terminal.as_str()], shift_from_row)
        .optional()?)
}

fn shift_by_id(conn: &Connection, id: &ShiftId) -> Result<Option<Shift>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {SHIFT_COLUMNS} FROM shifts WHERE id = ?1"))?;
    Ok(stmt
        .query_row([id.to_string()], shift_from_row)
        .optional()?)
}

/// The sequence range of a shift's entries (shifts never overlap on a
/// terminal); the end is open while the shift is.
pub(super) fn shift_sequences(conn: &Connection, shift: &ShiftId) -> Result<(i64, Option<i64>)> {
    conn.prepare_cached("SELECT first_sequence, last_sequence FROM shifts WHERE id = ?1")?
        .query_row([shift.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| LedgerError::InvalidInput(InputError::new("shift", "does not exist")))
}

/// The sum of an account's postings in a shift's entries (cash-count
/// adjustments left out).
fn shift_postings(conn: &Connection, shift: &ShiftId, account: &Account) -> Result<Cents> {
    let (first, last) = shift_sequences(conn, shift)?;
    let sum: i64 = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(p.value ->> 'm'), 0) FROM entries e
             JOIN json_each(e.postings) p
             WHERE e.sequence >= ?2 AND (?3 IS NULL OR e.sequence <= ?3)
               AND p.value ->> 'a' = ?1 AND e.kind <> 'adjustment'",
        )?
        .query_row(params![account.to_string(), first, last], |r| r.get(0))?;
    Ok(Cents(sum))
}

/// Cash taken in minus paid out: minus the sum of the drawer's postings
/// (before any cash-count adjustment).
fn cash_movements(conn: &Connection, shift: &ShiftId) -> Result<Cents> {
    shift_postings(conn, shift, &Account::CashDrawer(*shift))?
        .checked_neg()
        .ok_or(LedgerError::AmountOverflow)
}

/// Tips booked in a shift: the sum of its tip account's postings.
fn tips(conn: &Connection, shift: &ShiftId) -> Result<Cents> {
    shift_postings(conn, shift, &Account::Tips(*shift))
}

fn z_report(conn: &Connection, shift: Shift, replayed: bool) -> Result<ZReport> {
    let movements = cash_movements(conn, &shift.id)?;
    let tips = tips(conn, &shift.id)?;
    let expected = shift
        .float
        .checked_add(movements)
        .ok_or(LedgerError::AmountOverflow)?;
    let staff_name: String = conn.query_row(
        "SELECT name FROM staff WHERE id = ?1",
        [shift.staff.as_str()],
        |r| r.get(0),
    )?;
    let terminal_name: String = conn.query_row(
        "SELECT friendly_name FROM terminals WHERE id = ?1",
        [shift.terminal.as_str()],
        |r| r.get(0),
    )?;
    let sales = sales_report(
        conn,
        &ReportFilter {
            shift: Some(shift.id),
            ..ReportFilter::default()
        },
    )?;
    let closed_by_name = match shift.closed.as_ref().and_then(|c| c.closed_by.as_ref()) {
        Some(closer) if *closer != shift.staff => conn
            .query_row(
                "SELECT name FROM staff WHERE id = ?1",
                [closer.as_str()],
                |r| r.get(0),
            )
            .optional()?,
        _ => None,
    };
    Ok(ZReport {
        closed_by_name,
        staff_name,
        terminal_name,
        sales,
        float: shift.float,
        cash_movements: movements,
        expected_cash: expected,
        tips,
        counted_cash: shift.closed.as_ref().map(|c| c.counted_cash),
        difference: shift.closed.as_ref().map(|c| c.difference),
        shift,
        replayed,
    })
}

impl Ledger {
    /// Opens a shift on this terminal for `staff` with a cash float.
    pub fn open_shift(&self, request: &OpenShiftRequest) -> Result<ShiftOpened> {
        let hash = request_hash("open_shift", request)?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(previous) = previous_operation(&tx, &request.key, "open_shift", &hash)? {
            let id = previous
                .shift
                .ok_or_else(|| LedgerError::Corrupt("operation without shift".into()))?;
            let shift = shift_by_id(&tx, &id)?
                .ok_or_else(|| LedgerError::Corrupt("shift vanished".into()))?;
            return Ok(ShiftOpened {
                shift,
                replayed: true,
            });
        }
        let staff = active_staff(&tx, &request.staff)?;
        check_role(staff.role, Action::Sell)?;
        if request.float.is_negative() {
            return Err(InputError::new("float", "must not be negative").into());
        }
        if open_shift(&tx, &self.options.terminal)?.is_some() {
            return Err(LedgerError::ShiftAlreadyOpen);
        }
        let now = self.options.clock.now();
        let shift = Shift {
            id: ShiftId(self.options.ids.new_id(now)),
            terminal: self.options.terminal.clone(),
            staff: staff.id,
            opened_at: now,
            float: request.float,
            closed: None,
        };
        tx.execute(
            "INSERT INTO shifts (id, terminal_id, staff_id, opened_at, float, first_sequence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                shift.id.to_string(),
                shift.terminal.as_str(),
                shift.staff.as_str(),
                now.0,
                shift.float.0,
                chain_head(&tx)?.next_sequence
            ],
        )?;
        record_operation(
            &tx,
            &request.key,
            "open_shift",
            &hash,
            None,
            Some(&shift.id),
            now,
        )?;
        tx.commit()?;
        tracing::info!(shift = %shift.id, staff = %shift.staff, "shift opened");
        Ok(ShiftOpened {
            shift,
            replayed: false,
        })
    }

    /// Closes this terminal's open shift with the counted cash and returns
    /// its Z report. The owner or a supervisor may close it.
    pub fn close_shift(&self, request: &CloseShiftRequest) -> Result<ZReport> {
        let hash = request_hash("close_shift", request)?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(previous) = previous_operation(&tx, &request.key, "close_shift", &hash)? {
            let id = previous
                .shift
                .ok_or_else(|| LedgerError::Corrupt("operation without shift".into()))?;
            let shift = shift_by_id(&tx, &id)?
                .ok_or_else(|| LedgerError::Corrupt("shift vanished".into()))?;
            return z_report(&tx, shift, true);
        }
        let staff = active_staff(&tx, &request.staff)?;
        let shift = open_shift(&tx, &self.options.terminal)?.ok_or(LedgerError::NoOpenShift)?;
        if shift.staff != staff.id {
            check_role(staff.role, Action::CloseOthersShift)
                .map_err(|_| LedgerError::ShiftOfAnotherCashier)?;
        }
        if request.counted.is_negative() {
            return Err(InputError::new("counted cash", "must not be negative").into());
        }
        // An open bill holds payments and stock: it is finished or
        // cancelled in its shift, never left behind.
        let open_bills: i64 = tx
            .prepare_cached("SELECT COUNT(*) FROM bills WHERE shift_id = ?1 AND status = 'open'")?
            .query_row([shift.id.to_string()], |r| r.get(0))?;
        if open_bills > 0 {
            return Err(LedgerError::BillsOpen { count: open_bills });
        }
        let now = self.options.clock.now();
        let expected = shift
            .float
            .checked_add(cash_movements(&tx, &shift.id)?)
            .ok_or(LedgerError::AmountOverflow)?;
        let difference = request
            .counted
            .checked_sub(expected)
            .ok_or(LedgerError::AmountOverflow)?;
        let mut entry_id = None;
        if difference != Cents::ZERO {
            let postings = book(&Movement {
                kind: EntryKind::Adjustment,
                tender: Tender::Cash,
                token: None,
                shift: Some(shift.id),
                amount: difference,
                lines: &[],
            })?;
            let entry = append(
                &tx,
                Entry {
                    id: EntryId(self.options.ids.new_id(now)),
                    terminal: self.options.terminal.clone(),
                    sequence: 0,
                    idempotency_key: request.key.clone(),
                    kind: EntryKind::Adjustment,
                    token: None,
                    tender: Tender::Cash,
                    amount: difference,
                    lines: Vec::new(),
                    staff: staff.id.clone(),
                    shift: Some(shift.id),
                    terminal_time: now,
                    reverses: None,
                    offline: false,
                    balance_after: None,
                    prev_hash: String::new(),
                    hash: String::new(),
                },
                &postings,
                &hash,
                None,
            )?;
            entry_id = Some(entry.id);
        }
        let z_number: i64 = tx.query_row(
            "SELECT COALESCE(MAX(z_number), 0) + 1 FROM shifts WHERE terminal_id = ?1",
            [self.options.terminal.as_str()],
            |r| r.get(0),
        )?;
        tx.execute(
            "UPDATE shifts SET closed_at = ?2, z_number = ?3, expected_cash = ?4, counted_cash = ?5,
                 difference = ?6, last_sequence = ?7, closed_by = ?8
             WHERE id = ?1",
            params![
                shift.id.to_string(),
                now.0,
                z_number,
                expected.0,
                request.counted.0,
                difference.0,
                chain_head(&tx)?.next_sequence - 1,
                staff.id.as_str()
            ],
        )?;
        // Who closed whose drawer with what in it: on the till's trail and,
        // synced, on the event's.
        let audit = super::audit::TillAudit::new(
            super::audit::actions::SHIFT_CLOSED,
            serde_json::json!({
                "cashier": shift.staff.as_str(),
                "z_number": z_number,
                "float": shift.float.0,
                "expected_cash": expected.0,
                "counted_cash": request.counted.0,
                "difference": difference.0,
            }),
        )
        .subject(shift.id.to_string());
        super::audit::record(&tx, &self.options.terminal, now, &staff.id, &audit)?;
        record_operation(
            &tx,
            &request.key,
            "close_shift",
            &hash,
            entry_id.as_ref(),
            Some(&shift.id),
            now,
        )?;
        let closed = shift_by_id(&tx, &shift.id)?
            .ok_or_else(|| LedgerError::Corrupt("shift vanished".into()))?;
        let report = z_report(&tx, closed, false)?;
        tx.commit()?;
        tracing::info!(shift = %shift.id, z_number, difference = %difference, closed_by = %staff.id, "shift closed");
        Ok(report)
    }

    /// This terminal's open shift, if any.
    pub fn current_shift(&self) -> Result<Option<Shift>> {
        open_shift(&self.lock(), &self.options.terminal)
    }
}

impl LedgerReader {
    /// The Z report of a closed shift, or the X report of an open one.
    pub fn shift_report(&self, id: &ShiftId) -> Result<ZReport> {
        let snapshot = self.conn.unchecked_transaction()?;
        let shift = shift_by_id(&snapshot, id)?
            .ok_or_else(|| LedgerError::InvalidInput(InputError::new("shift", "does not exist")))?;
        z_report(&snapshot, shift, false)
    }

    pub fn shifts(&self) -> Result<Vec<Shift>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SHIFT_COLUMNS} FROM shifts ORDER BY opened_at DESC"
        ))?;
        let rows = stmt.query_map([], shift_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
