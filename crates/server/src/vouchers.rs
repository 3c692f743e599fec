//! Vouchers redeemed at a till: the pass is used up and its value lands on
//! the wristband's wallet as promo credit (spent first, never paid out —
//! the ledger's [`tapster_ledger::promo`] rule, applied by
//! [`crate::store::insert_transaction`]). Pass and credit happen in one
//! write, so a voucher is either redeemed and credited or neither, and of
//! any number of tills redeeming one code at once exactly as many win as
//! the pass allows.

use crate::db::{params, OptionalExtension};
use tapster_api::walletapp::VoucherRedeemed;
use tapster_ledger::model::{EntryKind, Tender};
use tapster_ledger::passes::{Benefit, PassCode};
use tapster_ledger::rules::check_max_balance;
use tapster_ledger::{IdempotencyKey, LedgerError, TokenId};

use crate::error::ServerError;
use crate::ingest::feed_wallet;
use crate::passes::{load, record_redemption, Refused};
use crate::store::{
    insert_transaction, request_hash, AuthenticatedTerminal, NewTransaction, ServerStore,
};

/// What became of a voucher.
#[derive(Debug)]
pub enum VoucherOutcome {
    /// Credited now, or earlier under the same key (`replayed`).
    Credited {
        answer: Box<VoucherRedeemed>,
        replayed: bool,
    },
    /// Used up, blocked, expired or not valid yet: nothing was credited.
    Refused(Refused),
}

impl ServerStore {
    /// Redeems the voucher `code` onto the wallet of `token` at a till.
    pub fn redeem_voucher(
        &self,
        terminal: &AuthenticatedTerminal,
        token: &TokenId,
        code: &PassCode,
        key: &IdempotencyKey,
    ) -> Result<VoucherOutcome, ServerError> {
        let hash = request_hash(&("voucher", token.as_str(), code.as_str()))?;
        let (terminal, token, code, key, now) = (
            terminal.clone(),
            token.clone(),
            code.clone(),
            key.clone(),
            self.clock.now(),
        );
        let outcome = self.write(move |tx| {
            let event = terminal.event_id.as_str();
            let earlier: Option<(Option<String>, Option<String>)> = tx
                .prepare_cached(
                    "SELECT t.request_hash, r.answer FROM transactions t
                     LEFT JOIN pass_redemptions r ON r.transaction_id = t.id
                     WHERE t.event_id = ?1 AND t.idempotency_key = ?2",
                )?
                .query_row(params![event, key.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((stored_hash, response)) = earlier {
                if stored_hash.as_deref() != Some(hash.as_str()) {
                    return Err(ServerError::IdempotencyConflict(key.to_string()));
                }
                let answer: Box<VoucherRedeemed> = response
                    .and_then(|r| serde_json::from_str(&r).ok())
                    .ok_or_else(|| ServerError::Internal("no stored voucher answer".into()))?;
                return Ok(VoucherOutcome::Credited {
                    answer,
                    replayed: true,
                });
            }
            let settings = Self::ensure_event(tx, event)?;
            let stored = load(tx, event, code.as_str(), now)?
                .ok_or_else(|| ServerError::NotFound("this pass".into()))?;
            let Benefit::Voucher { value } = stored.pass.benefit else {
                return Err(ServerError::invalid(
                    "code",
                    "this pass is a discount or an allowance: it applies to a sale, it is not credited to a wallet",
                ));
            };
            if let Err(refusal) = stored.pass.check_redeemable(now, stored.counted) {
                return Ok(VoucherOutcome::Refused(Refused {
                    refusal,
                    pass: Box::new(stored),
                }));
            }
            let wallet = Self::wallet_row(tx, event, &token)?.ok_or_else(|| {
                ServerError::NotFound("a wallet for this wristband (top it up first)".into())
            })?;
            if wallet.blocked {
                return Err(LedgerError::WalletBlocked { token }.into());
            }
            check_max_balance(
                tapster_ledger::Cents(wallet.balance),
                value,
                settings.max_wallet_balance,
            )?;
            // The answer is stored with the transaction, so it needs the
            // transaction's id and cursor first: book, then store it.
            let description = format!("Gutschein / Voucher: {}", stored.pass.title);
            let (transaction_id, cursor) = insert_transaction(
                tx,
                &NewTransaction {
                    event,
                    wallet_id: Some(&wallet.id),
                    terminal_id: Some(&terminal.id),
                    kind: EntryKind::Adjustment,
                    tender: Tender::Wallet,
                    amount: value,
                    description: Some(&description),
                    tag: Some("voucher"),
                    lines: "[]",
                    now,
                    key: Some(key.as_str()),
                    request_hash: Some(&hash),
                    response: None,
                    origin: None,
                    cursor: None,
                    voucher: true,
                },
            )?;
            record_redemption(
                tx,
                event,
                code.as_str(),
                &terminal.id,
                Some(key.as_str()),
                Some(&transaction_id),
                now,
            )?;
            let after = Self::wallet_row(tx, event, &token)?
                .ok_or_else(|| ServerError::Internal("wallet vanished".into()))?;
            let redeemed = load(tx, event, code.as_str(), now)?
                .ok_or_else(|| ServerError::Internal("pass vanished".into()))?;
            let answer = VoucherRedeemed {
                wallet: feed_wallet(
                    tx,
                    after.id,
                    after.token_id,
                    after.balance,
                    after.promo_balance,
                    after.blocked,
                    cursor,
                )?,
                credited: value.0,
                transaction_id,
                pass: redeemed.info(),
            };
            Self::store_answer(tx, event, &answer)?;
            Ok(VoucherOutcome::Credited {
                answer: Box::new(answer),
                replayed: false,
            })
        })?;
        if let VoucherOutcome::Credited {
            answer,
            replayed: false,
        } = &outcome
        {
            tracing::info!(wallet = %answer.wallet.wallet_id, credited = answer.credited, "voucher credited");
        }
        Ok(outcome)
    }

    /// Transactions are append-only, so the answer a retry gets is kept in
    /// the redemption's row rather than the transaction's.
    fn store_answer(
        tx: &crate::db::Connection,
        event: &str,
        answer: &VoucherRedeemed,
    ) -> Result<(), ServerError> {
        let json =
            serde_json::to_string(answer).map_err(|e| ServerError::Internal(e.to_string()))?;
        tx.execute(
            "UPDATE pass_redemptions SET answer = ?3 WHERE event_id = ?1 AND transaction_id = ?2",
            params![event, answer.transaction_id, json],
        )?;
        Ok(())
    }
}
