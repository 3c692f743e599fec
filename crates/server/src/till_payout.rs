//! A connected till's payout, decided here (`POST pos/wallets/token/{token}/payout`):
//! the band's whole paid balance (promo credit stays), once per
//! idempotency key, with the till's cashier in the audit trail. The till
//! books the amount the server paid out; its batch later brings the entry
//! under the same key, which the server recognises as this payout.

use tapster_api::audit::AuditAction;
use tapster_api::{CreatePayout, PayoutApplied};
use tapster_ledger::model::{EntryKind, Tender};
use tapster_ledger::rules::check_terminal_permission;
use tapster_ledger::{IdempotencyKey, LedgerError, TokenId};

use crate::audit::{Actor, Audit};
use crate::db::{params, OptionalExtension};
use crate::error::ServerError;
use crate::store::{
    insert_transaction, lock_key, request_hash, Applied, AuthenticatedTerminal, NewTransaction,
    ServerStore,
};

/// A payout under this key before: its request hash, stored answer,
/// transaction id, cursor and amount.
type Earlier = (Option<String>, Option<String>, String, i64, i64);

/// A payout's answer, with what a till keeping a ledger needs beside it.
pub struct PayoutOutcome {
    pub applied: Applied,
    pub answer: PayoutApplied,
    pub transaction_id: String,
    pub cursor: i64,
}

impl ServerStore {
    pub fn till_payout(
        &self,
        terminal: &AuthenticatedTerminal,
        token: &TokenId,
        request: &CreatePayout,
    ) -> Result<PayoutOutcome, ServerError> {
        let key = IdempotencyKey::new(request.idempotency_key.as_str())
            .map_err(|e| ServerError::invalid("idempotency_key", e.reason))?;
        let tender: Tender = request
            .tender
            .parse()
            .map_err(|_| ServerError::invalid("tender", "must be cash or card"))?;
        if tender == Tender::Wallet {
            return Err(ServerError::invalid("tender", "must be cash or card"));
        }
        let staff = tapster_ledger::StaffId::new(request.staff_id.as_str())
            .map_err(|e| ServerError::invalid("staff_id", e.reason))?;
        let hash = request_hash(&("payout", token.as_str(), tender.as_str(), staff.as_str()))?;
        let (terminal, token, now) = (terminal.clone(), token.clone(), self.now());
        self.write(move |tx| {
            let event = terminal.event_id.as_str();
            lock_key(tx, event, key.as_str())?;
            let earlier: Option<Earlier> = tx
                .query_row(
                    "SELECT request_hash, response, id, cursor, amount FROM transactions
                     WHERE event_id = ?1 AND idempotency_key = ?2",
                    params![event, key.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?;
            if let Some((stored, response, transaction_id, cursor, amount)) = earlier {
                if stored.as_deref() != Some(hash.as_str()) {
                    return Err(ServerError::IdempotencyConflict(key.to_string()));
                }
                let wallet = serde_json::from_str(
                    &response.ok_or_else(|| ServerError::Internal("no stored response".into()))?,
                )
                .map_err(|e| ServerError::Internal(e.to_string()))?;
                return Ok(PayoutOutcome {
                    applied: Applied::Replayed,
                    answer: PayoutApplied {
                        amount: -amount,
                        wallet,
                    },
                    transaction_id,
                    cursor,
                });
            }
            Self::ensure_event(tx, event)?;
            let (wallet, paid) = Self::payable_wallet(tx, event, &token)?;
            let amount = paid.checked_neg().ok_or(LedgerError::AmountOverflow)?;
            check_terminal_permission(terminal.permission, EntryKind::Payout, amount)?;
            // A blocked band (reported lost) is not paid out to whoever
            // holds it, as a till refuses it offline.
            wallet.authorize_debit(&token, paid, now)?;
            let mut after = wallet.clone();
            after.balance = after
                .balance
                .checked_add(amount.0)
                .ok_or(LedgerError::AmountOverflow)?;
            let response = serde_json::to_string(&after.resource())
                .map_err(|e| ServerError::Internal(e.to_string()))?;
            let (transaction_id, cursor) = insert_transaction(
                tx,
                &NewTransaction {
                    event,
                    wallet_id: Some(&wallet.id),
                    terminal_id: Some(&terminal.id),
                    kind: EntryKind::Payout,
                    tender,
                    amount,
                    description: Some("Auszahlung"),
                    tag: None,
                    lines: "[]",
                    now,
                    key: Some(key.as_str()),
                    request_hash: Some(&hash),
                    response: Some(&response),
                    origin: None,
                    cursor: None,
                    voucher: false,
                },
            )?;
            let cashier = Actor::Staff {
                id: staff.to_string(),
                terminal: Some(terminal.id.clone()),
            };
            let audit = Audit::new(
                AuditAction::Payout,
                serde_json::json!({ "amount": paid.0, "tender": tender.as_str(), "online": true }),
            )
            .wallet(token.as_str())
            .subject(transaction_id.as_str());
            crate::audit::record_as(tx, event, now.0, &cashier, audit)?;
            tracing::info!(event, terminal = %terminal.id, amount = paid.0, "payout decided online");
            Ok(PayoutOutcome {
                applied: Applied::Created,
                answer: PayoutApplied {
                    amount: paid.0,
                    wallet: after.resource(),
                },
                transaction_id,
                cursor,
            })
        })
    }
}
