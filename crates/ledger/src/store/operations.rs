//! The money operations: sale, top-up, deposit return, cancellation, payout
//! and adjustment. Each runs in one transaction: it commits whole, with its
//! entry, postings, stock change and idempotency record, or writes nothing.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::catalog::{active_staff, product};
use super::entries::{append, load_entry, load_postings, load_sync_state, write_decision};
use super::shifts::open_shift;
use super::wallets::{
    ensure_wallet, outstanding_deposits, position, promo_estimate, terminal_offline_exposure,
    wallet_row, WalletRow,
};
use super::Ledger;
use crate::clock::Timestamp;
use crate::error::{InputError, LedgerError, Result};
use crate::ids::{EntryId, IdempotencyKey, ProductId, ShiftId, StaffId, TerminalId, TokenId};
use crate::model::{
    Entry, EntryKind, EventMode, EventSettings, Line, Permission, Shift, Staff, SyncState, Tender,
};
use crate::money::Cents;
use crate::passes::{apply_pass, Pass};
use crate::postings::{book, reverse, Account, Movement, Posting};
use crate::pricing::{price_cart, Cart, PricedCart, MAX_LINE_QUANTITY};
use crate::promo::{payable, promo_after, PromoMove};
use crate::rules::{
    authorize_debit, check_cancel, check_deposit_return, check_max_balance, check_offline_pass,
    check_role, check_terminal_permission, Action, Authority, CancelTarget,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleRequest {
    pub key: IdempotencyKey,
    pub staff: StaffId,
    pub cart: Cart,
    pub tender: Tender,
    /// The wristband for wallet tender; `None` for cash and card.
    pub token: Option<TokenId>,
    /// A discount or allowance pass taken off the cart, as the server
    /// described it when it was scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<Pass>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopUpRequest {
    pub key: IdempotencyKey,
    pub staff: StaffId,
    pub token: TokenId,
    pub amount: Cents,
    /// Cash or card.
    pub tender: Tender,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositReturnRequest {
    pub key: IdempotencyKey,
    pub staff: StaffId,
    /// The wristband to credit (wallet tender), or `None` to pay cash.
    pub token: Option<TokenId>,
    pub product: ProductId,
    pub quantity: i64,
    pub tender: Tender,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelRequest {
    pub key: IdempotencyKey,
    pub staff: StaffId,
    pub entry: EntryId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutRequest {
    pub key: IdempotencyKey,
    pub staff: StaffId,
    pub token: TokenId,
    /// Cash, or card for a refund to the guest's card.
    pub tender: Tender,
}

/// A manager's correction of a wallet against the offline shortfall
/// account, e.g. writing off an overdraft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentRequest {
    pub key: IdempotencyKey,
    pub staff: StaffId,
    pub token: TokenId,
    pub amount: Cents,
}

/// Who approved an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authorisation {
    /// This ledger decides: exactly when standalone, under the offline
    /// limits when connected.
    ThisLedger,
    /// The server already applied it (online path): recorded as acknowledged
    /// and the server's balance becomes the confirmed one.
    Server(ServerApproval),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerApproval {
    pub server_id: String,
    pub server_cursor: i64,
    pub balance_after: Cents,
    /// The wallet's promo credit after it, when the server says (a plain
    /// PointOfSale server does not: the ledger's rule then moves the last
    /// confirmed figure).
    pub promo_after: Option<Cents>,
    pub at: Timestamp,
    /// What the server moved, when the server, not this terminal, decided
    /// the amount: a payout pays what the server holds, which this
    /// terminal's cached balance may not know.
    pub debited: Option<Cents>,
}

impl ServerApproval {
    fn acknowledgement(&self) -> SyncState {
        SyncState::Acknowledged {
            server_id: self.server_id.clone(),
            server_cursor: self.server_cursor,
            at: self.at,
        }
    }
}

/// An operation's entry as stored; `replayed` when the idempotency key had
/// already been used for this very request and nothing new was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub entry: Entry,
    pub replayed: bool,
}

/// What an operation decided, before it becomes an entry.
pub(super) struct Draft {
    pub kind: EntryKind,
    pub token: Option<TokenId>,
    pub tender: Tender,
    pub amount: Cents,
    pub lines: Vec<Line>,
    pub postings: Vec<Posting>,
    pub shift: Option<ShiftId>,
    pub reverses: Option<EntryId>,
    pub offline: bool,
    pub balance_after: Option<Cents>,
    /// Stock changes per product (negative when sold).
    pub stock: Vec<(ProductId, i64)>,
}

/// The facts every operation starts from.
pub(super) struct Context {
    pub now: Timestamp,
    pub settings: EventSettings,
    pub terminal: TerminalId,
    pub permission: Permission,
    pub staff: Staff,
    pub shift: Option<Shift>,
}

impl Context {
    /// The terminal's open shift, which a cashier must own.
    pub(super) fn require_shift(&self) -> Result<&Shift> {
        let shift = self.shift.as_ref().ok_or(LedgerError::NoOpenShift)?;
        if shift.staff != self.staff.id
            && check_role(self.staff.role, Action::CloseOthersShift).is_err()
        {
            return Err(LedgerError::ShiftOfAnotherCashier);
        }
        Ok(shift)
    }

    fn authority(&self) -> Authority {
        match self.settings.mode {
            EventMode::Standalone => Authority::Ledger,
            EventMode::Connected => Authority::Offline,
        }
    }
}

pub(super) fn request_hash(operation: &str, request: &impl Serialize) -> Result<String> {
    let body = serde_json::to_vec(request).map_err(|e| LedgerError::Corrupt(e.to_string()))?;
    let mut hasher = Sha256::new();
    hasher.update(operation.as_bytes());
    hasher.update(b"\n");
    hasher.update(&body);
    Ok(hex::encode(hasher.finalize()))
}

/// What an idempotency key was used for before.
pub(super) struct Previous {
    pub entry: Option<EntryId>,
    pub shift: Option<ShiftId>,
}

/// The earlier operation under `key`: `Ok(Some(..))` when it was this very
/// request, an error when it was a different one. Entries carry their own
/// key and request hash; shift operations are in `operations`.
pub(super) fn previous_operation(
    conn: &Connection,
    key: &IdempotencyKey,
    operation: &str,
    hash: &str,
) -> Result<Option<Previous>> {
    let recorded: Option<(String, String, Option<String>, Option<String>)> = conn
        .prepare_cached(
            "SELECT operation, request_hash, entry_id, shift_id FROM operations WHERE idempotency_key = ?1",
        )?
        .query_row([key.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    if let Some((op, stored, entry, shift)) = recorded {
        if op != operation || stored != hash {
            return Err(LedgerError::IdempotencyConflict(key.clone()));
        }
        return Ok(Some(Previous {
            entry: entry.map(|e| e.parse()).transpose()?,
            shift: shift.map(|s| s.parse()).transpose()?,
        }));
    }
    let entry: Option<(String, String)> = conn
        .prepare_cached("SELECT id, request_hash FROM entries WHERE idempotency_key = ?1")?
        .query_row([key.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match entry {
        Some((id, stored)) if stored == hash => Ok(Some(Previous {
            entry: Some(id.parse()?),
            shift: None,
        })),
        Some(_) => Err(LedgerError::IdempotencyConflict(key.clone())),
        None => Ok(None),
    }
}

pub(super) fn record_operation(
    conn: &Connection,
    key: &IdempotencyKey,
    operation: &str,
    hash: &str,
    entry: Option<&EntryId>,
    shift: Option<&ShiftId>,
    now: Timestamp,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO operations (idempotency_key, operation, request_hash, entry_id, shift_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        key.as_str(),
        operation,
        hash,
        entry.map(|e| e.to_string()),
        shift.map(|s| s.to_string()),
        now.0
    ])?;
    Ok(())
}

pub(super) fn context(tx: &Transaction<'_>, ledger: &Ledger, staff: &StaffId) -> Result<Context> {
    let now = ledger.options.clock.now();
    let (settings, permission) = ledger.rules(tx)?;
    Ok(Context {
        now,
        settings,
        staff: active_staff(tx, staff)?,
        shift: open_shift(tx, &ledger.options.terminal)?,
        terminal: ledger.options.terminal.clone(),
        permission,
    })
}

impl Ledger {
    /// Runs one money operation: replays it if `key` was seen with the same
    /// request, refuses a different request under the same key, and
    /// otherwise writes the entry `decide` drafts, all in one transaction.
    pub(super) fn run_operation(
        &self,
        operation: &'static str,
        key: &IdempotencyKey,
        request: &impl Serialize,
        staff: &StaffId,
        authorisation: &Authorisation,
        decide: impl FnOnce(&Transaction<'_>, &Context) -> Result<Draft>,
    ) -> Result<Recorded> {
        let hash = request_hash(operation, request)?;
        crate::failpoint!("ledger::operation::begin");
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(previous) = previous_operation(&tx, key, operation, &hash)? {
            let entry_id = previous
                .entry
                .ok_or_else(|| LedgerError::Corrupt("operation without entry".into()))?;
            let (sequence, entry) =
                load_entry(&tx, &entry_id)?.ok_or(LedgerError::UnknownEntry(entry_id))?;
            // Recorded offline first, then the server's approval of the same
            // key arrived: the server has applied it, so it is acknowledged.
            if let Authorisation::Server(approval) = authorisation {
                if load_sync_state(&tx, sequence)? == SyncState::Pending {
                    write_decision(&tx, sequence, &approval.acknowledgement())?;
                    confirm_balance(&tx, &entry, approval)?;
                    tx.commit()?;
                }
            }
            tracing::info!(operation, entry = %entry.id, "replayed by idempotency key");
            return Ok(Recorded {
                entry,
                replayed: true,
            });
        }
        let ctx = context(&tx, self, staff)?;
        let draft = decide(&tx, &ctx)?;
        crate::failpoint!("ledger::operation::decided");

        for (product_id, delta) in &draft.stock {
            tx.prepare_cached(
                "UPDATE products SET stock = stock + ?2 WHERE id = ?1 AND use_stock = 1",
            )?
            .execute(params![product_id.as_str(), delta])?;
        }
        let (decision, approval) = match authorisation {
            Authorisation::ThisLedger => (None, None),
            Authorisation::Server(approval) => (Some(approval.acknowledgement()), Some(approval)),
        };
        let entry = Entry {
            id: EntryId(self.options.ids.new_id(ctx.now)),
            terminal: ctx.terminal.clone(),
            sequence: 0,
            idempotency_key: key.clone(),
            kind: draft.kind,
            token: draft.token,
            tender: draft.tender,
            amount: draft.amount,
            lines: draft.lines,
            staff: ctx.staff.id.clone(),
            shift: draft.shift,
            terminal_time: ctx.now,
            reverses: draft.reverses,
            offline: draft.offline,
            balance_after: draft.balance_after,
            prev_hash: String::new(),
            hash: String::new(),
        };
        let entry = append(&tx, entry, &draft.postings, &hash, decision.as_ref())?;
        if let Some(audit) = audit_of(&entry) {
            super::audit::record(&tx, &entry.terminal, ctx.now, &entry.staff, &audit)?;
        }
        // A sale waiting for the server's answer is settled by its entry, in
        // the same transaction (no extra durable write per sale).
        tx.prepare_cached("DELETE FROM sale_intents WHERE idempotency_key = ?1")?
            .execute([key.as_str()])?;
        crate::failpoint!("ledger::operation::appended");
        if let Some(approval) = approval {
            confirm_balance(&tx, &entry, approval)?;
        }
        crate::failpoint!("ledger::operation::before_commit");
        tx.commit()?;
        // Committed, but the caller never hears of it (a crash right here).
        crate::failpoint!("ledger::operation::after_commit");
        tracing::info!(
            operation,
            entry = %entry.id,
            sequence = entry.sequence,
            amount = %entry.amount,
            offline = entry.offline,
            "recorded"
        );
        Ok(Recorded {
            entry,
            replayed: false,
        })
    }

    /// Sells a cart. Wallet tender debits the wristband after the funds
    /// check (and, connected but offline, the offline limits); cash and
    /// card sales need no wristband.
    pub fn sell(&self, request: &SaleRequest, authorisation: Authorisation) -> Result<Recorded> {
        let _span =
            tracing::info_span!("sale", key = %request.key, tender = %request.tender).entered();
        self.run_operation(
            "sale",
            &request.key,
            request,
            &request.staff,
            &authorisation,
            |tx, ctx| {
                check_role(ctx.staff.role, Action::Sell)?;
                let shift = ctx.require_shift()?;
                check_terminal_permission(ctx.permission, EntryKind::Sale, Cents(-1))?;
                check_tender(request.tender, request.token.as_ref())?;
                let priced = price_sale(tx, &request.cart, request.pass.as_ref(), ctx.now)?;
                if let (Some(token), Authorisation::ThisLedger) = (&request.token, &authorisation) {
                    check_cups_back(tx, token, &priced.lines)?;
                }
                if let Some(pass) = &request.pass {
                    take_pass(
                        tx,
                        ctx,
                        pass,
                        &priced.lines,
                        &request.key,
                        matches!(authorisation, Authorisation::ThisLedger),
                    )?;
                }
                let amount = priced
                    .total
                    .checked_neg()
                    .ok_or(LedgerError::AmountOverflow)?;
                let (offline, balance_after) = match &request.token {
                    Some(token) => debit_wallet(tx, ctx, token, priced.total, &authorisation)?,
                    None => (false, None),
                };
                let postings = book(&Movement {
                    kind: EntryKind::Sale,
                    tender: request.tender,
                    token: request.token.as_ref(),
                    shift: Some(shift.id),
                    amount,
                    lines: &priced.lines,
                })?;
                Ok(Draft {
                    kind: EntryKind::Sale,
                    token: request.token.clone(),
                    tender: request.tender,
                    amount,
                    lines: priced.lines,
                    postings,
                    shift: Some(shift.id),
                    reverses: None,
                    offline,
                    balance_after,
                    stock: priced
                        .stock_needed
                        .into_iter()
                        .map(|(p, q)| (p, -q))
                        .collect(),
                })
            },
        )
    }

    /// Checks a sale as [`Ledger::sell`] would, except the wallet's funds,
    /// and writes nothing: the role, the open shift, the terminal's
    /// permission, tender and wristband, prices, availability and stock.
    /// Returns what the cart costs. For asking the server only about sales
    /// this terminal could record.
    pub fn check_sale(&self, request: &SaleRequest) -> Result<Cents> {
        Ok(self.check_sale_priced(request)?.total)
    }

    /// [`Ledger::check_sale`] with the priced lines (what the tip comes
    /// to, for a server that takes it in cents).
    pub fn check_sale_priced(&self, request: &SaleRequest) -> Result<PricedCart> {
        let hash = request_hash("sale", request)?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        if let Some(previous) = previous_operation(&tx, &request.key, "sale", &hash)? {
            let id = previous
                .entry
                .ok_or_else(|| LedgerError::Corrupt("operation without entry".into()))?;
            let (_, entry) = load_entry(&tx, &id)?.ok_or(LedgerError::UnknownEntry(id))?;
            return Ok(PricedCart {
                total: entry
                    .amount
                    .checked_neg()
                    .ok_or(LedgerError::AmountOverflow)?,
                lines: entry.lines,
                stock_needed: Vec::new(),
            });
        }
        let ctx = context(&tx, self, &request.staff)?;
        check_role(ctx.staff.role, Action::Sell)?;
        ctx.require_shift()?;
        check_terminal_permission(ctx.permission, EntryKind::Sale, Cents(-1))?;
        check_tender(request.tender, request.token.as_ref())?;
        let priced = price_sale(&tx, &request.cart, request.pass.as_ref(), ctx.now)?;
        if let Some(token) = &request.token {
            check_cups_back(&tx, token, &priced.lines)?;
        }
        Ok(priced)
    }

    /// Whether [`Ledger::payout`] could record `request` (role, shift,
    /// terminal, tender, a wallet this till knows), without deciding its
    /// amount: checked before the server is asked to pay it out, so that
    /// what the server pays this till can always book.
    pub fn check_payout(&self, request: &PayoutRequest) -> Result<()> {
        let hash = request_hash("payout", request)?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        if previous_operation(&tx, &request.key, "payout", &hash)?.is_some() {
            return Ok(());
        }
        let ctx = context(&tx, self, &request.staff)?;
        check_role(ctx.staff.role, Action::PayOut)?;
        ctx.require_shift()?;
        check_terminal_permission(ctx.permission, EntryKind::Payout, Cents(-1))?;
        if request.tender == Tender::Wallet {
            return Err(LedgerError::TenderMismatch);
        }
        Ok(())
    }

    /// Credits a wristband against cash or card, up to the event's maximum
    /// balance. A wristband never seen before gets a wallet.
    pub fn top_up(&self, request: &TopUpRequest, authorisation: Authorisation) -> Result<Recorded> {
        let _span = tracing::info_span!("top_up", key = %request.key).entered();
        self.run_operation(
            "top_up",
            &request.key,
            request,
            &request.staff,
            &authorisation,
            |tx, ctx| {
                check_role(ctx.staff.role, Action::TopUp)?;
                let shift = ctx.require_shift()?;
                check_terminal_permission(ctx.permission, EntryKind::TopUp, request.amount)?;
                if !request.amount.is_positive() {
                    return Err(InputError::new("amount", "must be more than zero").into());
                }
                if request.tender == Tender::Wallet {
                    return Err(LedgerError::TenderMismatch);
                }
                let row = opened_wallet(tx, ctx, &request.token)?;
                let available = position(tx, &request.token, &row, false)?.available;
                check_max_balance(available, request.amount, ctx.settings.max_wallet_balance)?;
                let postings = book(&Movement {
                    kind: EntryKind::TopUp,
                    tender: request.tender,
                    token: Some(&request.token),
                    shift: Some(shift.id),
                    amount: request.amount,
                    lines: &[],
                })?;
                Ok(Draft {
                    kind: EntryKind::TopUp,
                    token: Some(request.token.clone()),
                    tender: request.tender,
                    amount: request.amount,
                    lines: Vec::new(),
                    postings,
                    shift: Some(shift.id),
                    reverses: None,
                    offline: false,
                    balance_after: Some(balance_after(&authorisation, available, request.amount)?),
                    stock: Vec::new(),
                })
            },
        )
    }

    /// Takes back returnable cups: credits the wristband (never more cups
    /// than it has outstanding), or pays cash without a wristband.
    pub fn return_deposit(
        &self,
        request: &DepositReturnRequest,
        authorisation: Authorisation,
    ) -> Result<Recorded> {
        let _span = tracing::info_span!("deposit_return", key = %request.key).entered();
        self.run_operation(
            "deposit_return",
            &request.key,
            request,
            &request.staff,
            &authorisation,
            |tx, ctx| {
                check_role(ctx.staff.role, Action::ReturnDeposit)?;
                let shift = ctx.require_shift()?;
                check_terminal_permission(ctx.permission, EntryKind::DepositReturn, Cents(1))?;
                match (request.tender, &request.token) {
                    (Tender::Wallet, Some(_)) | (Tender::Cash, None) => {}
                    _ => return Err(LedgerError::TenderMismatch),
                }
                if !(1..=MAX_LINE_QUANTITY).contains(&request.quantity) {
                    return Err(LedgerError::InvalidQuantity {
                        product: request.product.clone(),
                        quantity: request.quantity,
                        max: MAX_LINE_QUANTITY,
                    });
                }
                let cup = product(tx, &request.product)?
                    .ok_or_else(|| LedgerError::UnknownProduct(request.product.clone()))?;
                if !cup.returnable {
                    return Err(LedgerError::NotReturnable { name: cup.name });
                }
                let amount = cup
                    .effective_price()
                    .checked_mul(request.quantity)
                    .ok_or(LedgerError::AmountOverflow)?;
                let line = Line {
                    product: cup.id.clone(),
                    name: cup.name.clone(),
                    category: cup.category.clone(),
                    quantity: -request.quantity,
                    unit_price: cup.effective_price(),
                    vat_rate: crate::money::VatRate(0),
                    deposit: true,
                    pass: None,
                    tip: false,
                    bill: None,
                };
                let balance = match &request.token {
                    Some(token) => {
                        let row = known_wallet(tx, token)?;
                        let outstanding =
                            outstanding_deposits(tx, token, row.deposits_cursor, Some(&cup.id))?
                                .first()
                                .map_or(0, |d| d.count);
                        check_deposit_return(&cup.name, outstanding, request.quantity)?;
                        let available = position(tx, token, &row, false)?.available;
                        Some(balance_after(&authorisation, available, amount)?)
                    }
                    None => None,
                };
                let lines = vec![line];
                let postings = book(&Movement {
                    kind: EntryKind::DepositReturn,
                    tender: request.tender,
                    token: request.token.as_ref(),
                    shift: Some(shift.id),
                    amount,
                    lines: &lines,
                })?;
                Ok(Draft {
                    kind: EntryKind::DepositReturn,
                    token: request.token.clone(),
                    tender: request.tender,
                    amount,
                    lines,
                    postings,
                    shift: Some(shift.id),
                    reverses: None,
                    offline: false,
                    balance_after: balance,
                    stock: vec![(cup.id, request.quantity)],
                })
            },
        )
    }

    /// Reverses an entry with a new entry (nothing is edited or deleted).
    /// A cashier may cancel only the last sale of their own open shift.
    /// A sale that is part of a bill is cancelled with its bill
    /// ([`Ledger::cancel_bill`]), never alone.
    pub fn cancel(
        &self,
        request: &CancelRequest,
        authorisation: Authorisation,
    ) -> Result<Recorded> {
        self.cancel_entry(request, authorisation, None)
    }

    /// Cancels one entry; `within_bill` when a bill's cancellation reverses
    /// its entries (for a cashier, the bill as a whole must be their last
    /// sale: its own later entries do not count).
    pub(super) fn cancel_entry(
        &self,
        request: &CancelRequest,
        authorisation: Authorisation,
        within_bill: Option<crate::ids::BillId>,
    ) -> Result<Recorded> {
        let _span =
            tracing::info_span!("cancel", key = %request.key, entry = %request.entry).entered();
        self.run_operation(
            "cancel",
            &request.key,
            request,
            &request.staff,
            &authorisation,
            |tx, ctx| cancel_draft(tx, ctx, request, within_bill, &authorisation),
        )
    }

    /// Checks a cancellation as [`Ledger::cancel_entry`] would and writes
    /// nothing: a bill is decided cancelled only when all its reversals
    /// will go through.
    pub(super) fn check_cancel_entry(
        &self,
        request: &CancelRequest,
        within_bill: Option<crate::ids::BillId>,
    ) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ctx = context(&tx, self, &request.staff)?;
        cancel_draft(&tx, &ctx, request, within_bill, &Authorisation::ThisLedger)?;
        // Dropped: rolled back.
        Ok(())
    }

    /// Pays out a wristband's whole remaining balance and zeroes it.
    pub fn payout(
        &self,
        request: &PayoutRequest,
        authorisation: Authorisation,
    ) -> Result<Recorded> {
        let _span = tracing::info_span!("payout", key = %request.key).entered();
        self.run_operation(
            "payout",
            &request.key,
            request,
            &request.staff,
            &authorisation,
            |tx, ctx| {
                check_role(ctx.staff.role, Action::PayOut)?;
                let shift = ctx.require_shift()?;
                check_terminal_permission(ctx.permission, EntryKind::Payout, Cents(-1))?;
                if request.tender == Tender::Wallet {
                    return Err(LedgerError::TenderMismatch);
                }
                // The server decided it (a connected till's payout): what it
                // paid, whether this till knew the wallet or not. Otherwise
                // what this terminal knows is there (with a plain server's
                // approval too, which reports the balance after). Promo
                // credit stays on the wallet: it is never paid out.
                let payout = match &authorisation {
                    Authorisation::Server(ServerApproval {
                        debited: Some(debited),
                        ..
                    }) => *debited,
                    _ => {
                        let row = known_wallet(tx, &request.token)?;
                        let available = position(tx, &request.token, &row, false)?.available;
                        payable(available, promo_estimate(tx, &request.token, &row)?)
                    }
                };
                if !payout.is_positive() {
                    return Err(LedgerError::NothingToPayOut);
                }
                let (offline, balance) =
                    debit_wallet(tx, ctx, &request.token, payout, &authorisation)?;
                let amount = payout.checked_neg().ok_or(LedgerError::AmountOverflow)?;
                let postings = book(&Movement {
                    kind: EntryKind::Payout,
                    tender: request.tender,
                    token: Some(&request.token),
                    shift: Some(shift.id),
                    amount,
                    lines: &[],
                })?;
                Ok(Draft {
                    kind: EntryKind::Payout,
                    token: Some(request.token.clone()),
                    tender: request.tender,
                    amount,
                    lines: Vec::new(),
                    postings,
                    shift: Some(shift.id),
                    reverses: None,
                    offline,
                    balance_after: balance,
                    stock: Vec::new(),
                })
            },
        )
    }

    /// A manager's correction of a wallet, booked against the offline
    /// shortfall account (e.g. writing off an overdraft). It may not take
    /// a wallet below zero.
    pub fn adjust(
        &self,
        request: &AdjustmentRequest,
        authorisation: Authorisation,
    ) -> Result<Recorded> {
        let _span = tracing::info_span!("adjustment", key = %request.key).entered();
        self.run_operation(
            "adjustment",
            &request.key,
            request,
            &request.staff,
            &authorisation,
            |tx, ctx| {
                check_role(ctx.staff.role, Action::Adjust)?;
                check_terminal_permission(ctx.permission, EntryKind::Adjustment, request.amount)?;
                if request.amount == Cents::ZERO {
                    return Err(InputError::new("amount", "must not be zero").into());
                }
                // Taking money off a wallet is a debit like any other: funds,
                // a blocked wallet and, offline, the offline limits apply.
                let (offline, after) = if request.amount.is_negative() {
                    let debit = request
                        .amount
                        .checked_neg()
                        .ok_or(LedgerError::AmountOverflow)?;
                    debit_wallet(tx, ctx, &request.token, debit, &authorisation)?
                } else {
                    let row = opened_wallet(tx, ctx, &request.token)?;
                    let available = position(tx, &request.token, &row, false)?.available;
                    (
                        false,
                        Some(balance_after(&authorisation, available, request.amount)?),
                    )
                };
                let postings = book(&Movement {
                    kind: EntryKind::Adjustment,
                    tender: Tender::Wallet,
                    token: Some(&request.token),
                    shift: None,
                    amount: request.amount,
                    lines: &[],
                })?;
                Ok(Draft {
                    kind: EntryKind::Adjustment,
                    token: Some(request.token.clone()),
                    tender: Tender::Wallet,
                    amount: request.amount,
                    lines: Vec::new(),
                    postings,
                    shift: ctx.shift.as_ref().map(|s| s.id),
                    reverses: None,
                    offline,
                    balance_after: after,
                    stock: Vec::new(),
                })
            },
        )
    }
}

/// The till's audit record of an entry that moves money outside a plain
/// sale: a cancellation, a payout, a manager's correction.
fn audit_of(entry: &Entry) -> Option<super::audit::TillAudit> {
    use super::audit::{actions, TillAudit};
    let action = match entry.kind {
        EntryKind::Cancel => actions::CANCELLATION,
        EntryKind::Payout => actions::PAYOUT,
        EntryKind::Adjustment => actions::CORRECTION,
        _ => return None,
    };
    let mut detail = serde_json::json!({
        "amount": entry.amount.0,
        "tender": entry.tender.as_str(),
        "offline": entry.offline,
    });
    if let Some(reversed) = &entry.reverses {
        detail["reverses"] = serde_json::json!(reversed.to_string());
    }
    let audit = TillAudit::new(action, detail).subject(entry.id.to_string());
    Some(match &entry.token {
        Some(token) => audit.wallet(token.to_string()),
        None => audit,
    })
}

/// The reversal of `request.entry`, decided: who may cancel it, what it
/// gives back (cups only if still out, stock, the pass), and the wallet.
fn cancel_draft(
    tx: &Transaction<'_>,
    ctx: &Context,
    request: &CancelRequest,
    within_bill: Option<crate::ids::BillId>,
    authorisation: &Authorisation,
) -> Result<Draft> {
    let (target_rowid, target) =
        load_entry(tx, &request.entry)?.ok_or(LedgerError::UnknownEntry(request.entry))?;
    if let Some(bill) = crate::bills::bill_of(&target.lines) {
        if within_bill != Some(bill) {
            return Err(LedgerError::PartOfBill { bill });
        }
    }
    let shift = ctx.require_shift()?;
    let already_cancelled: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM entries WHERE reverses = ?1)")?
        .query_row([target.id.to_string()], |r| r.get(0))?;
    // A bill's own entries (its id is in their lines) are not
    // later sales of the bill.
    let later_sale: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM entries
         WHERE shift_id = ?1 AND kind = 'sale' AND staff_id = ?2 AND sequence > ?3
           AND (?4 IS NULL OR instr(lines, ?4) = 0))",
        )?
        .query_row(
            params![
                shift.id.to_string(),
                ctx.staff.id.as_str(),
                target_rowid,
                within_bill.map(|bill| bill.to_string())
            ],
            |r| r.get(0),
        )?;
    check_cancel(
        &ctx.staff.id,
        ctx.staff.role,
        &CancelTarget {
            kind: target.kind,
            staff: target.staff.clone(),
            already_cancelled,
            rejected_by_server: matches!(
                load_sync_state(tx, target_rowid)?,
                SyncState::Rejected { .. }
            ),
            is_actors_last_sale_in_open_shift: target.kind == EntryKind::Sale
                && target.shift == Some(shift.id)
                && !later_sale,
        },
    )?;
    check_terminal_permission(ctx.permission, target.kind, target.amount)?;
    let amount = target
        .amount
        .checked_neg()
        .ok_or(LedgerError::AmountOverflow)?;
    let lines: Vec<Line> = target
        .lines
        .iter()
        .map(|line| Line {
            quantity: -line.quantity,
            ..line.clone()
        })
        .collect();
    // Cash of a cancellation leaves or enters today's drawer.
    let postings: Vec<Posting> = reverse(&load_postings(tx, target_rowid)?)?
        .into_iter()
        .map(|posting| match posting.account {
            Account::CashDrawer(_) => Posting {
                account: Account::CashDrawer(shift.id),
                amount: posting.amount,
            },
            _ => posting,
        })
        .collect();
    // Per product: cups the reversal takes back from the guest, and
    // what it does to stock (a cancelled sale gives its units back,
    // a cancelled deposit return takes its cups out again).
    let mut cups_back: BTreeMap<ProductId, (String, i64)> = BTreeMap::new();
    let mut stock_change: BTreeMap<ProductId, i64> = BTreeMap::new();
    for line in &lines {
        if line.deposit && line.quantity < 0 {
            let cups = cups_back
                .entry(line.product.clone())
                .or_insert((line.name.clone(), 0));
            cups.1 = cups
                .1
                .checked_sub(line.quantity)
                .ok_or(LedgerError::AmountOverflow)?;
        }
        let change = stock_change.entry(line.product.clone()).or_default();
        *change = change
            .checked_sub(line.quantity)
            .ok_or(LedgerError::AmountOverflow)?;
    }
    // Cups already returned for money cannot be refunded twice.
    if let (Some(token), Tender::Wallet) = (&target.token, target.tender) {
        let row = known_wallet(tx, token)?;
        for (product_id, (name, count)) in &cups_back {
            let outstanding =
                outstanding_deposits(tx, token, row.deposits_cursor, Some(product_id))?
                    .first()
                    .map_or(0, |d| d.count);
            check_deposit_return(name, outstanding, *count)?;
        }
    }
    let mut stock = Vec::new();
    for (product_id, change) in stock_change {
        let Some(item) = product(tx, &product_id)? else {
            continue;
        };
        if !item.use_stock {
            continue;
        }
        if item.stock.checked_add(change).is_none_or(|after| after < 0) {
            return Err(LedgerError::OutOfStock {
                name: item.name,
                available: item.stock,
                requested: change.saturating_neg(),
            });
        }
        stock.push((item.id, change));
    }
    // A cancelled sale gives its pass's use back.
    if target.lines.iter().any(|line| line.pass.is_some()) {
        tx.prepare_cached("DELETE FROM pass_uses WHERE idempotency_key = ?1")?
            .execute([target.idempotency_key.as_str()])?;
    }
    // What the reversal does to the wristband, whatever the tender:
    // cancelling a cash top-up takes the money off the wallet.
    let wallet_change = match &target.token {
        Some(token) => Cents::checked_sum(
            postings
                .iter()
                .filter(|p: &&Posting| p.account == Account::Wallet(token.clone()))
                .map(|p| p.amount),
        )
        .ok_or(LedgerError::AmountOverflow)?,
        None => Cents::ZERO,
    };
    let (offline, balance) = match &target.token {
        Some(token) if wallet_change.is_negative() => {
            let debit = wallet_change
                .checked_neg()
                .ok_or(LedgerError::AmountOverflow)?;
            debit_wallet(tx, ctx, token, debit, authorisation)?
        }
        Some(token) => {
            let row = known_wallet(tx, token)?;
            let available = position(tx, token, &row, false)?.available;
            (
                false,
                Some(balance_after(authorisation, available, wallet_change)?),
            )
        }
        None => (false, None),
    };
    Ok(Draft {
        kind: EntryKind::Cancel,
        token: target.token.clone(),
        tender: target.tender,
        amount,
        lines,
        postings,
        shift: Some(shift.id),
        reverses: Some(target.id),
        offline,
        balance_after: balance,
        stock,
    })
}

/// The wallet of a wristband this ledger knows, or `UnknownWallet`.
fn known_wallet(tx: &Connection, token: &TokenId) -> Result<WalletRow> {
    wallet_row(tx, token)?.ok_or_else(|| LedgerError::UnknownWallet {
        token: token.clone(),
    })
}

/// The wallet of a wristband, opened if this terminal has not seen it (a
/// new wallet is known to be empty only when the event is standalone).
fn opened_wallet(tx: &Transaction<'_>, ctx: &Context, token: &TokenId) -> Result<WalletRow> {
    let is_badge: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM staff WHERE badge = ?1)")?
        .query_row([token.as_str()], |r| r.get(0))?;
    crate::rules::check_not_a_badge(is_badge)?;
    ensure_wallet(
        tx,
        token,
        ctx.settings.mode == EventMode::Standalone,
        ctx.now,
    )?;
    known_wallet(tx, token)
}

/// Wallet tender goes with a wristband; cash and card without.
/// What a sale costs: the cart by the ledger's pricing, less its pass.
/// What a sale costs: its cart priced, any pass taken off, the tip added.
pub(super) fn price_sale(
    tx: &Connection,
    cart: &Cart,
    pass: Option<&Pass>,
    now: Timestamp,
) -> Result<PricedCart> {
    let priced = price_cart(cart, |id| product(tx, id), now)?;
    let priced = match pass {
        Some(pass) => apply_pass(priced, pass).map_err(LedgerError::PassNotApplicable)?,
        None => priced,
    };
    crate::bills::add_tip(priced, cart.tip)
}

/// Lets a pass go with a sale (or a bill) under `key`: decided by this
/// ledger, no more often than the pass allows as far as this till knows,
/// and, connected, within the offline pass cap; the server decided
/// already when it approved the sale. A cancellation gives the use back.
pub(super) fn take_pass(
    tx: &Connection,
    ctx: &Context,
    pass: &Pass,
    lines: &[Line],
    key: &IdempotencyKey,
    by_this_ledger: bool,
) -> Result<()> {
    if by_this_ledger {
        let used = super::passes::uses_known_here(tx, pass, ctx.now)?;
        pass.check_redeemable(ctx.now, used)
            .map_err(LedgerError::PassRefused)?;
        if ctx.authority() == Authority::Offline {
            let value = Cents::checked_sum(
                lines
                    .iter()
                    .filter(|line| line.pass.is_some())
                    .filter_map(|line| line.total()?.checked_neg()),
            )
            .ok_or(LedgerError::AmountOverflow)?;
            check_offline_pass(
                &ctx.settings.offline,
                super::passes::offline_pass_exposure(tx)?,
                value,
            )?;
        }
    }
    tx.prepare_cached("INSERT INTO pass_uses (code, idempotency_key, at) VALUES (?1, ?2, ?3)")?
        .execute(params![pass.code.as_str(), key.as_str(), ctx.now.0])?;
    Ok(())
}

/// Cups a wristband brings back must be cups it has outstanding (as a
/// deposit return); cups brought back without a wristband are paid in cash
/// and bounded by nothing this till knows.
pub(super) fn check_cups_back(tx: &Connection, token: &TokenId, lines: &[Line]) -> Result<()> {
    let cups = crate::pricing::cups_returned(lines);
    if cups.is_empty() {
        return Ok(());
    }
    let row = known_wallet(tx, token)?;
    for (cup, name, count) in cups {
        let outstanding = outstanding_deposits(tx, token, row.deposits_cursor, Some(&cup))?
            .first()
            .map_or(0, |d| d.count);
        check_deposit_return(&name, outstanding, count)?;
    }
    Ok(())
}

fn check_tender(tender: Tender, token: Option<&TokenId>) -> Result<()> {
    match (tender, token) {
        (Tender::Wallet, Some(_)) | (Tender::Cash | Tender::Card, None) => Ok(()),
        _ => Err(LedgerError::TenderMismatch),
    }
}

/// Authorises a debit of `amount` (positive) from the wallet: by this
/// ledger's rules, or as already approved by the server. Returns whether it
/// was authorised offline and the balance after.
pub(super) fn debit_wallet(
    tx: &Transaction<'_>,
    ctx: &Context,
    token: &TokenId,
    amount: Cents,
    authorisation: &Authorisation,
) -> Result<(bool, Option<Cents>)> {
    let debit = amount.checked_neg().ok_or(LedgerError::AmountOverflow)?;
    match authorisation {
        Authorisation::Server(approval) => {
            ensure_wallet(tx, token, false, ctx.now)?;
            Ok((false, Some(approval.balance_after)))
        }
        Authorisation::ThisLedger => {
            let authority = ctx.authority();
            let Some(row) = wallet_row(tx, token)? else {
                return Err(match authority {
                    Authority::Ledger => LedgerError::UnknownWallet {
                        token: token.clone(),
                    },
                    Authority::Offline => {
                        LedgerError::OfflineLimit(crate::error::OfflineLimit::BalanceUnknown)
                    }
                });
            };
            let wallet = position(tx, token, &row, authority == Authority::Offline)?;
            let exposure = match authority {
                Authority::Offline => terminal_offline_exposure(tx)?,
                Authority::Ledger => Cents::ZERO,
            };
            authorize_debit(
                &wallet,
                amount,
                authority,
                &ctx.settings.offline,
                exposure,
                ctx.now,
            )?;
            let after = wallet
                .available
                .checked_add(debit)
                .ok_or(LedgerError::AmountOverflow)?;
            Ok((authority == Authority::Offline, Some(after)))
        }
    }
}

fn balance_after(authorisation: &Authorisation, available: Cents, change: Cents) -> Result<Cents> {
    match authorisation {
        Authorisation::Server(approval) => Ok(approval.balance_after),
        Authorisation::ThisLedger => available
            .checked_add(change)
            .ok_or(LedgerError::AmountOverflow),
    }
}

/// Makes the server's balance after an approved operation the confirmed one.
fn confirm_balance(conn: &Connection, entry: &Entry, approval: &ServerApproval) -> Result<()> {
    let Some(token) = &entry.token else {
        return Ok(());
    };
    let promo = match approval.promo_after {
        Some(promo) => promo,
        None => {
            let before = wallet_row(conn, token)?.map_or(0, |row| row.confirmed_promo);
            promo_after(
                PromoMove::Ordinary(entry.kind),
                entry.amount,
                Cents(before),
                approval.balance_after,
            )?
        }
    };
    conn.prepare_cached(
        "UPDATE wallets SET confirmed_balance = ?2, confirmed_cursor = ?3, confirmed_at = ?4,
             confirmed_promo = ?5
         WHERE token_id = ?1 AND (confirmed_cursor IS NULL OR confirmed_cursor < ?3)",
    )?
    .execute(params![
        token.as_str(),
        approval.balance_after.0,
        approval.server_cursor,
        approval.at.0,
        promo.0.max(0)
    ])?;
    Ok(())
}
