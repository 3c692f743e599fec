//! Bills in the ledger: open (priced, stock taken), paid step by step (each
//! payment its own durable entry), settled by one entry when the payments
//! cover the total, or cancelled with every payment reversed. A till that
//! dies between two payments finds the bill open again with the payments
//! it took ([`Ledger::resume_bills`]).

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

use super::catalog::active_staff;
use super::entries::{decode_lines, encode_lines, load_entry};
use super::operations::{
    check_cups_back, context, debit_wallet, price_sale, request_hash, take_pass, Authorisation,
    CancelRequest, Draft, Recorded,
};
use super::shifts::open_shift;
use super::Ledger;
use crate::bills::{apply_payment, bill_line, payment_line, remaining, tip_total, BillStatus};
use crate::clock::Timestamp;
use crate::error::{LedgerError, Result};
use crate::ids::{BillId, EntryId, IdempotencyKey, ProductId, ShiftId, StaffId, TokenId};
use crate::model::{EntryKind, Line, Tender};
use crate::money::Cents;
use crate::passes::Pass;
use crate::postings::{book, Movement};
use crate::pricing::Cart;
use crate::rules::{check_role, check_terminal_permission, Action};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenBillRequest {
    pub key: IdempotencyKey,
    pub staff: StaffId,
    /// The order: goods, cups brought back, a tip.
    pub cart: Cart,
    /// A discount or allowance pass taken off the order, as the server
    /// described it when it was scanned: let go by this till (as an
    /// offline sale's), counted by the server when the bill's sale arrives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<Pass>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillPaymentRequest {
    pub key: IdempotencyKey,
    pub staff: StaffId,
    pub bill: BillId,
    pub tender: Tender,
    /// The wristband for a wallet payment.
    pub token: Option<TokenId>,
    /// What the payment offers: the amount for a wristband or a card (at
    /// most what is left), the cash handed over (change comes back).
    pub offered: Cents,
    /// A card terminal's receipt or transaction number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelBillRequest {
    pub key: IdempotencyKey,
    pub staff: StaffId,
    pub bill: BillId,
}

/// One payment of a bill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BillPayment {
    pub entry: EntryId,
    pub tender: Tender,
    pub token: Option<TokenId>,
    /// What it put towards the bill.
    pub amount: Cents,
    /// Cash handed over, when more than `amount` (the change is the rest).
    pub tendered: Option<Cents>,
    pub change: Cents,
    pub reference: Option<String>,
    pub offline: bool,
    /// The wristband's balance after it.
    pub balance_after: Option<Cents>,
    pub at: Timestamp,
    /// Reversed by the bill's cancellation.
    pub cancelled: bool,
}

/// A bill as the till shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Bill {
    pub id: BillId,
    pub staff: StaffId,
    pub shift: ShiftId,
    pub opened_at: Timestamp,
    /// The order, priced when the bill opened (tip last).
    pub lines: Vec<Line>,
    pub total: Cents,
    pub tip: Cents,
    pub status: BillStatus,
    pub payments: Vec<BillPayment>,
    /// What the payments (not cancelled) have put in.
    pub paid: Cents,
    pub remaining: Cents,
    /// The wristband whose cups the bill takes back.
    pub band: Option<TokenId>,
    /// The entry that settled it.
    pub settled_by: Option<EntryId>,
}

/// What a payment did: the payment, any change, and the entry that
/// settled the bill when it was the last one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaidBill {
    pub payment: Recorded,
    pub change: Cents,
    pub settled: Option<Recorded>,
    pub bill: Bill,
}

/// A bill row as stored.
struct BillRow {
    id: BillId,
    staff: StaffId,
    shift: ShiftId,
    opened_at: Timestamp,
    lines: Vec<Line>,
    stock: Vec<(ProductId, i64)>,
    total: Cents,
    status: BillStatus,
    band: Option<TokenId>,
    settle_key: IdempotencyKey,
    cancel_key: Option<IdempotencyKey>,
}

const BILL_COLUMNS: &str =
    "id, staff_id, shift_id, opened_at, lines, stock, total, status, band, settle_key, cancel_key";

fn bill_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<BillRow>> {
    let id: String = row.get(0)?;
    let staff: String = row.get(1)?;
    let shift: String = row.get(2)?;
    let lines: String = row.get(4)?;
    let stock: String = row.get(5)?;
    let status: String = row.get(7)?;
    let band: Option<String> = row.get(8)?;
    let settle_key: String = row.get(9)?;
    let cancel_key: Option<String> = row.get(10)?;
    let opened_at = Timestamp(row.get(3)?);
    let total = Cents(row.get(6)?);
    Ok((|| {
        Ok(BillRow {
            id: id.parse()?,
            staff: StaffId::new(&staff)?,
            shift: shift.parse()?,
            opened_at,
            lines: decode_lines(&lines)?,
            stock: serde_json::from_str(&stock)
                .map_err(|e| LedgerError::Corrupt(format!("bill stock: {e}")))?,
            total,
            status: BillStatus::parse(&status)?,
            band: band.map(|b| TokenId::parse(&b)).transpose()?,
            settle_key: IdempotencyKey::new(settle_key)?,
            cancel_key: cancel_key.map(IdempotencyKey::new).transpose()?,
        })
    })())
}

fn bill_row(conn: &Connection, id: &BillId) -> Result<BillRow> {
    conn.prepare_cached(&format!("SELECT {BILL_COLUMNS} FROM bills WHERE id = ?1"))?
        .query_row([id.to_string()], bill_from_row)
        .optional()?
        .ok_or(LedgerError::UnknownBill(*id))?
}

/// The payments of a bill, in order, with what their entries say.
fn payments(conn: &Connection, bill: &BillId) -> Result<Vec<BillPayment>> {
    let rows: Vec<(String, Option<i64>, Option<String>)> = conn
        .prepare_cached(
            "SELECT p.idempotency_key, p.tendered, p.reference FROM bill_payments p
             JOIN entries e ON e.idempotency_key = p.idempotency_key
             WHERE p.bill_id = ?1 ORDER BY p.position",
        )?
        .query_map([bill.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut found = Vec::with_capacity(rows.len());
    for (key, tendered, reference) in rows {
        let id: String = conn
            .prepare_cached("SELECT id FROM entries WHERE idempotency_key = ?1")?
            .query_row([&key], |r| r.get(0))?;
        let id: EntryId = id.parse()?;
        let (_, entry) = load_entry(conn, &id)?.ok_or(LedgerError::UnknownEntry(id))?;
        let cancelled: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM entries WHERE reverses = ?1)")?
            .query_row([id.to_string()], |r| r.get(0))?;
        let amount = entry
            .amount
            .checked_neg()
            .ok_or(LedgerError::AmountOverflow)?;
        let tendered = tendered.map(Cents);
        found.push(BillPayment {
            entry: entry.id,
            tender: entry.tender,
            token: entry.token,
            amount,
            change: tendered
                .and_then(|t| t.checked_sub(amount))
                .unwrap_or(Cents::ZERO),
            tendered,
            reference,
            offline: entry.offline,
            balance_after: entry.balance_after,
            at: entry.terminal_time,
            cancelled,
        });
    }
    Ok(found)
}

fn entry_by_key(conn: &Connection, key: &IdempotencyKey) -> Result<Option<EntryId>> {
    let id: Option<String> = conn
        .prepare_cached("SELECT id FROM entries WHERE idempotency_key = ?1")?
        .query_row([key.as_str()], |r| r.get(0))
        .optional()?;
    id.map(|id| id.parse().map_err(LedgerError::from))
        .transpose()
}

fn load_bill(conn: &Connection, id: &BillId) -> Result<Bill> {
    let row = bill_row(conn, id)?;
    let payments = payments(conn, id)?;
    let live: Vec<Cents> = payments
        .iter()
        .filter(|p| !p.cancelled)
        .map(|p| p.amount)
        .collect();
    let paid = Cents::checked_sum(live.iter().copied()).ok_or(LedgerError::AmountOverflow)?;
    Ok(Bill {
        id: row.id,
        staff: row.staff,
        shift: row.shift,
        opened_at: row.opened_at,
        tip: tip_total(&row.lines),
        remaining: remaining(row.total, &live)?,
        lines: row.lines,
        total: row.total,
        status: row.status,
        payments,
        paid,
        band: row.band,
        settled_by: entry_by_key(conn, &row.settle_key)?,
    })
}

/// A cashier cancels their own bill of the open shift; a supervisor any
/// (the reversals check the rest).
fn check_bill_canceller(
    conn: &Connection,
    terminal: &crate::ids::TerminalId,
    request: &CancelBillRequest,
    row: &BillRow,
) -> Result<()> {
    let staff = active_staff(conn, &request.staff)?;
    let shift = open_shift(conn, terminal)?.ok_or(LedgerError::NoOpenShift)?;
    if staff.role < Action::CancelAnyEntry.minimum_role()
        && (row.staff != staff.id || row.shift != shift.id)
    {
        return Err(LedgerError::NotYourLastSale);
    }
    Ok(())
}

/// A card terminal's reference as a payment keeps it: trimmed, at most
/// 40 characters.
fn checked_reference(request: &BillPaymentRequest) -> Result<Option<&str>> {
    let reference = request
        .reference
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reference.is_some_and(|r| r.chars().count() > 40) {
        return Err(
            crate::error::InputError::new("reference", "must be at most 40 characters").into(),
        );
    }
    Ok(reference)
}

/// A key derived from `base` for an entry a bill operation makes (its
/// settlement, a reversal): the same every time, so a retry replays it.
fn derived_key(base: &IdempotencyKey, suffix: &str) -> Result<IdempotencyKey> {
    let base = base.as_str();
    let base = &base[..base.len().min(IdempotencyKey::MAX_LEN - suffix.len() - 1)];
    Ok(IdempotencyKey::new(format!("{base}.{suffix}"))?)
}

fn settle_key(open: &IdempotencyKey) -> Result<IdempotencyKey> {
    derived_key(open, "settle")
}

fn is_reversed(conn: &Connection, entry: &EntryId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM entries WHERE reverses = ?1)")?
        .query_row([entry.to_string()], |r| r.get(0))?)
}

/// Whether a wristband's payment towards `bill` (other than `except`) was
/// sent to the server without its answer recorded: the server may have
/// taken it, so the bill takes no other payment and is not cancelled
/// until the answer is in.
fn payment_pending(
    conn: &Connection,
    bill: &BillId,
    except: Option<&IdempotencyKey>,
) -> Result<bool> {
    let bodies: Vec<String> = conn
        .prepare_cached("SELECT request FROM sale_intents")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(bodies.iter().any(|body| {
        matches!(
            serde_json::from_str::<super::Intent>(body),
            Ok(super::Intent::BillPayment { bill_payment })
                if bill_payment.bill == *bill && Some(&bill_payment.key) != except
        )
    }))
}

impl Ledger {
    /// Opens a bill for an order: priced (cups back netted, tip added) and
    /// its stock taken now, so what the guest is paying for stays theirs.
    /// Nothing is paid yet.
    pub fn open_bill(&self, request: &OpenBillRequest) -> Result<Bill> {
        let _span = tracing::info_span!("bill_open", key = %request.key).entered();
        let hash = request_hash("bill_open", request)?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let previous: Option<(String, String)> = tx
            .prepare_cached("SELECT id, request_hash FROM bills WHERE idempotency_key = ?1")?
            .query_row([request.key.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((id, stored)) = previous {
            if stored != hash {
                return Err(LedgerError::IdempotencyConflict(request.key.clone()));
            }
            return load_bill(&tx, &id.parse()?);
        }
        let ctx = context(&tx, self, &request.staff)?;
        check_role(ctx.staff.role, Action::Sell)?;
        let shift = ctx.require_shift()?.id;
        check_terminal_permission(ctx.permission, EntryKind::Sale, Cents(-1))?;
        let priced = price_sale(&tx, &request.cart, request.pass.as_ref(), ctx.now)?;
        let settle_key = settle_key(&request.key)?;
        if let Some(pass) = &request.pass {
            // Held from now, under the key of the sale that will carry it.
            take_pass(&tx, &ctx, pass, &priced.lines, &settle_key, true)?;
        }
        if !priced.total.is_positive() {
            return Err(crate::error::InputError::new(
                "bill",
                "has nothing to pay; sell it as one sale",
            )
            .into());
        }
        for (product_id, quantity) in &priced.stock_needed {
            tx.prepare_cached(
                "UPDATE products SET stock = stock - ?2 WHERE id = ?1 AND use_stock = 1",
            )?
            .execute(params![product_id.as_str(), quantity])?;
        }
        let id = BillId(self.options.ids.new_id(ctx.now));
        tx.prepare_cached(
            "INSERT INTO bills (id, idempotency_key, request_hash, staff_id, shift_id, opened_at,
                                lines, stock, total, status, settle_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'open', ?10)",
        )?
        .execute(params![
            id.to_string(),
            request.key.as_str(),
            hash,
            ctx.staff.id.as_str(),
            shift.to_string(),
            ctx.now.0,
            encode_lines(&priced.lines)?,
            serde_json::to_string(&priced.stock_needed)
                .map_err(|e| LedgerError::Corrupt(e.to_string()))?,
            priced.total.0,
            settle_key.as_str(),
        ])?;
        let bill = load_bill(&tx, &id)?;
        tx.commit()?;
        tracing::info!(bill = %id, total = %bill.total, "bill opened");
        Ok(bill)
    }

    /// Takes one payment towards an open bill: its own entry, durable
    /// before this returns. The payment that covers the rest also settles
    /// the bill (its order booked to revenue, deposits and tips).
    pub fn pay_bill(
        &self,
        request: &BillPaymentRequest,
        authorisation: Authorisation,
    ) -> Result<PaidBill> {
        let _span = tracing::info_span!("bill_payment", key = %request.key, bill = %request.bill, tender = %request.tender).entered();
        let mut change = Cents::ZERO;
        let payment = self.run_operation(
            "bill_payment",
            &request.key,
            request,
            &request.staff,
            &authorisation,
            |tx, ctx| {
                check_role(ctx.staff.role, Action::Sell)?;
                let shift = ctx.require_shift()?;
                check_terminal_permission(ctx.permission, EntryKind::Sale, Cents(-1))?;
                match (request.tender, &request.token) {
                    (Tender::Wallet, Some(_)) | (Tender::Cash | Tender::Card, None) => {}
                    _ => return Err(LedgerError::TenderMismatch),
                }
                let bill = load_bill(tx, &request.bill)?;
                if bill.status != BillStatus::Open {
                    return Err(LedgerError::BillNotOpen {
                        status: bill.status.as_str(),
                    });
                }
                if payment_pending(tx, &bill.id, Some(&request.key))? {
                    return Err(LedgerError::BillPaymentPending);
                }
                let applied = apply_payment(bill.remaining, request.tender, request.offered)?;
                change = applied.change;
                let (offline, balance_after) = match &request.token {
                    Some(token) => {
                        // The first wristband to pay brings the cups back.
                        if bill.band.is_none() {
                            if matches!(authorisation, Authorisation::ThisLedger) {
                                check_cups_back(tx, token, &bill.lines)?;
                            }
                            tx.prepare_cached("UPDATE bills SET band = ?2 WHERE id = ?1")?
                                .execute(params![bill.id.to_string(), token.as_str()])?;
                        }
                        debit_wallet(tx, ctx, token, applied.amount, &authorisation)?
                    }
                    None => (false, None),
                };
                let position: i64 = tx
                    .prepare_cached(
                        "SELECT COALESCE(MAX(position), 0) + 1 FROM bill_payments WHERE bill_id = ?1",
                    )?
                    .query_row([bill.id.to_string()], |r| r.get(0))?;
                let reference = checked_reference(request)?;
                tx.prepare_cached(
                    "INSERT INTO bill_payments (idempotency_key, bill_id, position, tendered, reference)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    request.key.as_str(),
                    bill.id.to_string(),
                    position,
                    (request.tender == Tender::Cash).then_some(request.offered.0),
                    reference,
                ])?;
                let lines = vec![payment_line(bill.id, applied.amount, reference)];
                let amount = applied
                    .amount
                    .checked_neg()
                    .ok_or(LedgerError::AmountOverflow)?;
                let postings = book(&Movement {
                    kind: EntryKind::Sale,
                    tender: request.tender,
                    token: request.token.as_ref(),
                    shift: Some(shift.id),
                    amount,
                    lines: &lines,
                })?;
                Ok(Draft {
                    kind: EntryKind::Sale,
                    token: request.token.clone(),
                    tender: request.tender,
                    amount,
                    lines,
                    postings,
                    shift: Some(shift.id),
                    reverses: None,
                    offline,
                    balance_after,
                    stock: Vec::new(),
                })
            },
        )?;
        if payment.replayed {
            let tendered: Option<i64> = self
                .lock()
                .prepare_cached("SELECT tendered FROM bill_payments WHERE idempotency_key = ?1")?
                .query_row([request.key.as_str()], |r| r.get(0))?;
            change = tendered
                .map(Cents)
                .and_then(|t| t.checked_add(payment.entry.amount))
                .unwrap_or(Cents::ZERO);
        }
        crate::failpoint!("ledger::bill::paid");
        let settled = self.settle_if_covered(&request.bill, &request.staff)?;
        let bill = self.bill(&request.bill)?;
        Ok(PaidBill {
            payment,
            change,
            settled,
            bill,
        })
    }

    /// Checks a payment as [`Ledger::pay_bill`] would, except a wristband's
    /// funds, and writes nothing: what it would put towards the bill (for
    /// asking the server only about payments this till can record).
    pub fn check_bill_payment(
        &self,
        request: &BillPaymentRequest,
    ) -> Result<crate::bills::Applied> {
        let hash = request_hash("bill_payment", request)?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        if let Some(previous) =
            super::operations::previous_operation(&tx, &request.key, "bill_payment", &hash)?
        {
            // Paid before under this key: what it put in.
            let id = previous
                .entry
                .ok_or_else(|| LedgerError::Corrupt("operation without entry".into()))?;
            let (_, entry) = load_entry(&tx, &id)?.ok_or(LedgerError::UnknownEntry(id))?;
            return Ok(crate::bills::Applied {
                amount: entry
                    .amount
                    .checked_neg()
                    .ok_or(LedgerError::AmountOverflow)?,
                change: Cents::ZERO,
            });
        }
        // The same checks as `pay_bill` makes, in the same order.
        let ctx = context(&tx, self, &request.staff)?;
        check_role(ctx.staff.role, Action::Sell)?;
        ctx.require_shift()?;
        check_terminal_permission(ctx.permission, EntryKind::Sale, Cents(-1))?;
        match (request.tender, &request.token) {
            (Tender::Wallet, Some(_)) | (Tender::Cash | Tender::Card, None) => {}
            _ => return Err(LedgerError::TenderMismatch),
        }
        let bill = load_bill(&tx, &request.bill)?;
        if bill.status != BillStatus::Open {
            return Err(LedgerError::BillNotOpen {
                status: bill.status.as_str(),
            });
        }
        if payment_pending(&tx, &bill.id, Some(&request.key))? {
            return Err(LedgerError::BillPaymentPending);
        }
        let applied = apply_payment(bill.remaining, request.tender, request.offered)?;
        if let (Some(token), None) = (&request.token, &bill.band) {
            check_cups_back(&tx, token, &bill.lines)?;
        }
        checked_reference(request)?;
        Ok(applied)
    }

    /// Books the order of a bill whose payments cover it: one entry with
    /// the order's lines and a negative bill line (it moves no money of its
    /// own), under the bill's settle key, so doing it twice does it once.
    fn settle_if_covered(&self, id: &BillId, staff: &StaffId) -> Result<Option<Recorded>> {
        let (row, bill) = {
            let conn = self.lock();
            (bill_row(&conn, id)?, load_bill(&conn, id)?)
        };
        if row.status == BillStatus::Cancelled || bill.remaining != Cents::ZERO {
            return Ok(None);
        }
        let first_tender = bill
            .payments
            .iter()
            .find(|p| !p.cancelled)
            .map_or(Tender::Cash, |p| p.tender);
        // The guest's side of the entry is the band that brought the cups
        // back (its deposits move), else the first payment's drawer or card.
        let tender = match (&row.band, first_tender) {
            (Some(_), _) => Tender::Wallet,
            (None, Tender::Wallet) => Tender::Cash,
            (None, tender) => tender,
        };
        let settle = SettleBill {
            bill: row.id,
            total: row.total,
        };
        let recorded = self.run_operation(
            "bill_settle",
            &row.settle_key,
            &settle,
            staff,
            &Authorisation::ThisLedger,
            |tx, ctx| {
                // Decided again inside the write: a cancellation may have
                // come in between.
                let now = load_bill(tx, &row.id)?;
                if now.status != BillStatus::Open || now.remaining != Cents::ZERO {
                    return Err(LedgerError::BillNotOpen {
                        status: now.status.as_str(),
                    });
                }
                tx.prepare_cached(
                    "UPDATE bills SET status = 'settled', closed_at = ?2 WHERE id = ?1",
                )?
                .execute(params![row.id.to_string(), ctx.now.0])?;
                let shift = ctx.require_shift()?;
                let mut lines = row.lines.clone();
                lines.push(bill_line(
                    row.id,
                    row.total.checked_neg().ok_or(LedgerError::AmountOverflow)?,
                ));
                let postings = book(&Movement {
                    kind: EntryKind::Sale,
                    tender,
                    token: row.band.as_ref(),
                    shift: Some(shift.id),
                    amount: Cents::ZERO,
                    lines: &lines,
                })?;
                Ok(Draft {
                    kind: EntryKind::Sale,
                    token: row.band.clone(),
                    tender,
                    amount: Cents::ZERO,
                    lines,
                    postings,
                    shift: Some(shift.id),
                    reverses: None,
                    offline: false,
                    balance_after: None,
                    stock: Vec::new(),
                })
            },
        );
        let recorded = match recorded {
            Ok(recorded) => recorded,
            // Cancelled meanwhile: nothing to settle.
            Err(LedgerError::BillNotOpen { .. }) => return Ok(None),
            Err(error) => return Err(error),
        };
        // Settled before this kept its status (a replay decides nothing).
        self.lock()
            .prepare_cached(
                "UPDATE bills SET status = 'settled', closed_at = ?2 WHERE id = ?1 AND status = 'open'",
            )?
            .execute(params![row.id.to_string(), recorded.entry.terminal_time.0])?;
        tracing::info!(bill = %row.id, entry = %recorded.entry.id, "bill settled");
        Ok(Some(recorded))
    }

    /// Cancels a bill: every payment is reversed (wristbands credited back,
    /// cash out of the drawer) and, if it was settled, its order too; an
    /// open bill's stock goes back. Decided first, then reversed entry by
    /// entry under keys derived from `request.key`: a till that dies in
    /// between finishes it on [`Ledger::resume_bills`] or a retry.
    pub fn cancel_bill(&self, request: &CancelBillRequest) -> Result<Bill> {
        let _span =
            tracing::info_span!("bill_cancel", key = %request.key, bill = %request.bill).entered();
        let row = bill_row(&self.lock(), &request.bill)?;
        match (&row.cancel_key, row.status) {
            (Some(key), BillStatus::Cancelled) if key == &request.key => {}
            (Some(_), BillStatus::Cancelled) => {
                return Err(LedgerError::BillNotOpen {
                    status: BillStatus::Cancelled.as_str(),
                })
            }
            _ => self.decide_cancelled(request, &row)?,
        }
        self.finish_cancelled_bill(&request.bill, &request.staff)?;
        self.bill(&request.bill)
    }

    /// Decides a bill cancelled — only once every reversal it needs is
    /// known to go through (each checked as it will be made), so a bill
    /// is never marked cancelled with money left standing.
    fn decide_cancelled(&self, request: &CancelBillRequest, row: &BillRow) -> Result<()> {
        {
            let conn = self.lock();
            if payment_pending(&conn, &row.id, None)? {
                return Err(LedgerError::BillPaymentPending);
            }
            check_bill_canceller(&conn, &self.options.terminal, request, row)?;
        }
        let bill = self.bill(&row.id)?;
        for (key, entry) in self.reversals(&bill, &request.key)? {
            self.check_cancel_entry(
                &CancelRequest {
                    key,
                    staff: request.staff.clone(),
                    entry,
                },
                Some(row.id),
            )?;
        }
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now_row = bill_row(&tx, &row.id)?;
        if now_row.status != row.status || load_bill(&tx, &row.id)?.paid != bill.paid {
            // A payment or the settlement came in between: decide again.
            return Err(LedgerError::StorageBusy);
        }
        check_bill_canceller(&tx, &self.options.terminal, request, row)?;
        let now = self.options.clock.now();
        tx.prepare_cached(
            "UPDATE bills SET status = 'cancelled', cancel_key = ?2, closed_at = ?3 WHERE id = ?1",
        )?
        .execute(params![row.id.to_string(), request.key.as_str(), now.0])?;
        // An open bill's order was never booked: its stock and its pass go
        // back here; a settled one's with its reversal.
        if row.status == BillStatus::Open {
            tx.prepare_cached("DELETE FROM pass_uses WHERE idempotency_key = ?1")?
                .execute([row.settle_key.as_str()])?;
            for (product_id, quantity) in &row.stock {
                tx.prepare_cached(
                    "UPDATE products SET stock = stock + ?2 WHERE id = ?1 AND use_stock = 1",
                )?
                .execute(params![product_id.as_str(), quantity])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// What a cancellation of `bill` still has to reverse, each under its
    /// own key derived from the cancellation's: the settling entry, then
    /// the payments by their place in the bill.
    fn reversals(
        &self,
        bill: &Bill,
        cancel: &IdempotencyKey,
    ) -> Result<Vec<(IdempotencyKey, EntryId)>> {
        let conn = self.lock();
        let mut out = Vec::new();
        if let Some(settled) = bill.settled_by {
            if !is_reversed(&conn, &settled)? {
                out.push((derived_key(cancel, "rs")?, settled));
            }
        }
        for (n, payment) in bill.payments.iter().enumerate() {
            if !payment.cancelled {
                out.push((derived_key(cancel, &format!("r{n}"))?, payment.entry));
            }
        }
        Ok(out)
    }

    /// Reverses what a cancelled bill still has standing.
    fn finish_cancelled_bill(&self, id: &BillId, staff: &StaffId) -> Result<()> {
        let row = bill_row(&self.lock(), id)?;
        let Some(cancel_key) = &row.cancel_key else {
            return Ok(());
        };
        let bill = self.bill(id)?;
        for (key, entry) in self.reversals(&bill, cancel_key)? {
            self.cancel_entry(
                &CancelRequest {
                    key,
                    staff: staff.clone(),
                    entry,
                },
                Authorisation::ThisLedger,
                Some(row.id),
            )?;
        }
        Ok(())
    }

    /// After a restart: settles bills whose payments cover them, finishes
    /// cancellations that were cut short, and returns the bills still open
    /// in the current shift (the till reopens the newest).
    pub fn resume_bills(&self, staff: &StaffId) -> Result<Vec<Bill>> {
        let pending: Vec<(String, String)> = self
            .lock()
            .prepare_cached(
                "SELECT b.id, b.status FROM bills b
                 WHERE b.status = 'open'
                    OR (b.status = 'cancelled' AND EXISTS (
                        SELECT 1 FROM bill_payments p JOIN entries e ON e.idempotency_key = p.idempotency_key
                        WHERE p.bill_id = b.id AND NOT EXISTS (SELECT 1 FROM entries r WHERE r.reverses = e.id)))
                 ORDER BY b.opened_at",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let shift = self.current_shift()?.map(|s| s.id);
        let mut open = Vec::new();
        for (id, status) in pending {
            let id: BillId = id.parse()?;
            // One bill that cannot be finished (say, a reversal a cashier
            // may not make) holds up no other.
            let finished = if status == "cancelled" {
                self.finish_cancelled_bill(&id, staff).map(|()| true)
            } else {
                self.settle_if_covered(&id, staff)
                    .map(|settled| settled.is_some())
            };
            match finished {
                Ok(true) => {}
                Ok(false) => {
                    let bill = self.bill(&id)?;
                    if Some(bill.shift) == shift {
                        open.push(bill);
                    }
                }
                Err(error) => {
                    tracing::warn!(bill = %id, %error, "a bill could not be finished on resume");
                }
            }
        }
        Ok(open)
    }

    /// A bill with its payments.
    pub fn bill(&self, id: &BillId) -> Result<Bill> {
        load_bill(&self.lock(), id)
    }

    /// The bill an entry belongs to (a payment or the settling entry).
    pub fn bill_of_entry(&self, entry: &EntryId) -> Result<Option<Bill>> {
        let conn = self.lock();
        let Some((_, entry)) = load_entry(&conn, entry)? else {
            return Ok(None);
        };
        match crate::bills::bill_of(&entry.lines) {
            Some(id) => Ok(Some(load_bill(&conn, &id)?)),
            None => Ok(None),
        }
    }
}

impl super::LedgerReader {
    /// The bill an entry belongs to (a payment or the settling entry).
    pub fn bill_of_entry(&self, entry: &EntryId) -> Result<Option<Bill>> {
        let Some((_, entry)) = load_entry(&self.conn, entry)? else {
            return Ok(None);
        };
        match crate::bills::bill_of(&entry.lines) {
            Some(id) => Ok(Some(load_bill(&self.conn, &id)?)),
            None => Ok(None),
        }
    }
}

/// The request a bill's settling entry is recorded under.
#[derive(Serialize)]
struct SettleBill {
    bill: BillId,
    total: Cents,
}
