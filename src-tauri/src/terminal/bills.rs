//! Split bills at the till: the cart becomes a bill, paid step by step by
//! wristbands (each tapped), cash (change worked out) and card (the card
//! terminal's reference kept), until nothing is left; then the settled
//! sale's receipt lists every payment. The rules are the ledger's
//! (`bills`); a wristband's share asks the server first when connected,
//! as a sale does.

use tapster_ledger::bills::BillStatus;
use tapster_ledger::store::{
    Authorisation, Bill, BillPaymentRequest, CancelBillRequest, OpenBillRequest,
};
use tapster_ledger::{BillId, Cents, TokenId};
use tracing::Instrument;

use super::{key, lock, order, quote_line, tender_in, tender_out, token, Terminal};
use crate::error::{AppError, ErrorCode};
use crate::view;

fn bill_id(value: &str) -> Result<BillId, AppError> {
    value
        .parse()
        .map_err(|_| AppError::new(ErrorCode::BillClosed, "this bill does not exist"))
}

/// A bill as the split screen shows it.
pub(super) fn bill_view(bill: &Bill) -> view::BillView {
    view::BillView {
        id: bill.id.to_string(),
        status: bill.status.as_str().to_string(),
        lines: bill.lines.iter().map(quote_line).collect(),
        total_cents: bill.total.0,
        tip_cents: bill.tip.0,
        paid_cents: bill.paid.0,
        remaining_cents: bill.remaining.0,
        payments: bill
            .payments
            .iter()
            .map(|p| view::BillPaymentView {
                tender: tender_out(p.tender),
                token_masked: p.token.as_ref().map(TokenId::masked),
                amount_cents: p.amount.0,
                tendered_cents: p.tendered.map(|t| t.0),
                change_cents: p.change.0,
                reference: p.reference.clone(),
                offline: p.offline,
                cancelled: p.cancelled,
            })
            .collect(),
    }
}

impl Terminal {
    /// Turns the cart (cups brought back, a tip, a scanned pass) into an
    /// open bill: priced and its stock and pass held, nothing paid yet.
    pub fn open_bill(
        &self,
        items: &[view::CartItem],
        tip: Option<view::TipChoice>,
        pass: Option<&str>,
        idempotency_key: &str,
    ) -> Result<view::BillView, AppError> {
        let staff = self.staff()?;
        let bill = self.ledger.open_bill(&OpenBillRequest {
            key: key(idempotency_key)?,
            staff: staff.id,
            cart: order(items, tip)?,
            pass: pass.map(|code| self.scanned_pass(code)).transpose()?,
        })?;
        Ok(bill_view(&bill))
    }

    /// One payment towards a bill. `offered_cents`: for cash what was
    /// handed over; for a card the amount (default: the rest); for a
    /// wristband the amount (default: what it has, at most the rest).
    #[allow(clippy::too_many_arguments)]
    pub async fn pay_bill(
        &self,
        bill: &str,
        tender: view::Tender,
        token_id: Option<&str>,
        offered_cents: Option<i64>,
        reference: Option<&str>,
        idempotency_key: &str,
    ) -> Result<view::BillStep, AppError> {
        let staff = self.staff()?;
        let bill = bill_id(bill)?;
        let token = token_id.map(token).transpose()?;
        let remaining = self.ledger.bill(&bill)?.remaining;
        let offered = match (offered_cents, &token) {
            (Some(cents), _) => Cents(cents),
            (None, Some(band)) => {
                // What the band has, as this till knows it (the server
                // refuses what it does not have).
                let available = self
                    .reader()
                    .wallet(band)?
                    .map_or(Cents::ZERO, |wallet| wallet.available);
                if !available.is_positive() {
                    return Err(tapster_ledger::LedgerError::InsufficientFunds {
                        available,
                        required: remaining,
                        missing: remaining,
                    }
                    .into());
                }
                available.min(remaining)
            }
            (None, None) => remaining,
        };
        let request = BillPaymentRequest {
            key: key(idempotency_key)?,
            staff: staff.id,
            bill,
            tender: tender_in(tender),
            token,
            offered,
            reference: reference.map(str::to_string),
        };
        if let Some(band) = &request.token {
            self.take_band_tap(band)?;
        }
        let span = tracing::info_span!("bill_payment", key = %request.key, bill = %bill);
        let paid = match &self.syncer {
            Some(syncer) => {
                let online = *lock(&self.sync_online);
                syncer
                    .authorise_bill_payment(&request, online)
                    .instrument(span)
                    .await?
            }
            None => span.in_scope(|| self.ledger.pay_bill(&request, Authorisation::ThisLedger))?,
        };
        // Each payment is a transaction of its own (Anzahlungseinstellung).
        self.sign_or_log_async(&paid.payment.entry).await;
        let done = match &paid.settled {
            // The bill's sale moved no money itself: the guest paid its
            // total, in the payments.
            Some(settled) => Some(view::Done {
                amount_cents: -paid.bill.total.0,
                balance_after_cents: None,
                ..self.finish_async(&settled.entry).await?
            }),
            None => None,
        };
        Ok(view::BillStep {
            bill: bill_view(&paid.bill),
            change_cents: paid.change.0,
            done,
        })
    }

    /// Cancels a bill: every payment goes back (wristbands credited, cash
    /// out of the drawer), and a settled bill's sale is reversed.
    pub fn cancel_bill(
        &self,
        bill: &str,
        idempotency_key: &str,
    ) -> Result<view::BillView, AppError> {
        let staff = self.staff()?;
        let bill = self.ledger.cancel_bill(&CancelBillRequest {
            key: key(idempotency_key)?,
            staff: staff.id,
            bill: bill_id(bill)?,
        })?;
        self.sign_reversals_of(bill.id)?;
        Ok(bill_view(&bill))
    }

    /// Signs the reversals a cancelled bill left (each payment's, and its
    /// sale's when it was settled), when the event signs.
    pub(super) fn sign_reversals_of(&self, bill: tapster_ledger::BillId) -> Result<(), AppError> {
        let reversals: Vec<_> = self
            .reader()
            .recent_entries(None, 200)?
            .into_iter()
            .filter(|e| {
                e.kind == tapster_ledger::model::EntryKind::Cancel
                    && tapster_ledger::bills::bill_of(&e.lines) == Some(bill)
            })
            .collect();
        for entry in reversals.iter().rev() {
            self.sign_or_log(entry);
        }
        Ok(())
    }

    /// After a restart or a new login: the bill still open in this shift
    /// (the newest), so the split screen picks up where it was.
    pub fn resume_bill(&self) -> Result<Option<view::BillView>, AppError> {
        let staff = self.staff()?;
        let open = self.ledger.resume_bills(&staff.id)?;
        Ok(open
            .iter()
            .rev()
            .find(|bill| bill.status == BillStatus::Open)
            .map(bill_view))
    }
}
