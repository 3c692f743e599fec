//! What the sync task needs from the ledger: the outbox of pending entries,
//! recording the server's decision about each, and the server's wallet
//! balances. The server's decision about an entry is final.

use rusqlite::{params, Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};

use super::entries::{
    entry_from_row, load_lines, load_postings, load_sync_state, write_decision, ENTRY_COLUMNS,
};
use super::wallets::ensure_wallet;
use super::Ledger;
use crate::clock::Timestamp;
use crate::error::{LedgerError, Result};
use crate::ids::{EntryId, IdempotencyKey, TokenId};
use crate::model::{DepositCount, Entry, SyncState};
use crate::money::Cents;
use crate::postings::Posting;

/// A wallet as the server reports it in its feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletSnapshot {
    pub token: TokenId,
    pub wallet_id: String,
    pub balance: Cents,
    /// How much of `balance` is promo credit (zero from servers without vouchers).
    pub promo: Cents,
    pub blocked: bool,
    /// The server's feed cursor this balance is valid at.
    pub cursor: i64,
    pub deposits: Vec<DepositCount>,
}

impl Ledger {
    /// Pending entries in sequence order, oldest first.
    pub fn pending_entries(&self, limit: u32) -> Result<Vec<Entry>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries e
             LEFT JOIN entry_sync s ON s.entry_sequence = e.sequence
             WHERE e.sequence > (SELECT decided_through FROM sync_progress WHERE id = 1)
               AND s.state IS NULL
             ORDER BY e.sequence LIMIT ?1"
        ))?;
        let rows = stmt
            .query_map([limit], entry_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(rowid, mut entry)| {
                entry.lines = load_lines(&conn, rowid)?;
                Ok(entry)
            })
            .collect()
    }

    /// Records a band refused as not genuine (for the manager's security
    /// view); the newest 10,000 are kept.
    pub fn record_band_refusal(&self, token: &TokenId, reason: &str, at: Timestamp) -> Result<()> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO band_refusals (at, terminal_id, token_id, reason) VALUES (?1, ?2, ?3, ?4)",
            params![at.0, self.terminal_id().as_str(), token.as_str(), reason],
        )?;
        conn.execute(
            "DELETE FROM band_refusals WHERE id <= (SELECT MAX(id) FROM band_refusals) - 10000",
            [],
        )?;
        Ok(())
    }

    /// The bands refused as not genuine, newest first.
    pub fn band_refusals(&self, limit: u32) -> Result<Vec<BandRefusal>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT at, terminal_id, token_id, reason FROM band_refusals ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok(BandRefusal {
                at: Timestamp(r.get(0)?),
                terminal: r.get(1)?,
                token: r.get(2)?,
                reason: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn pending_count(&self) -> Result<i64> {
        Ok(self.lock().query_row(
            "SELECT COUNT(*) FROM entries e
             LEFT JOIN entry_sync s ON s.entry_sequence = e.sequence
             WHERE e.sequence > (SELECT decided_through FROM sync_progress WHERE id = 1)
               AND s.state IS NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// Pending entries with their postings (what the server's batch
    /// endpoint takes), in sequence order.
    pub fn pending_with_postings(&self, limit: u32) -> Result<Vec<(Entry, Vec<Posting>)>> {
        let entries = self.pending_entries(limit)?;
        let conn = self.lock();
        entries
            .into_iter()
            .map(|entry| {
                let postings = load_postings(&conn, entry.sequence)?;
                Ok((entry, postings))
            })
            .collect()
    }

    /// The next entries the server has not received in a batch yet, in
    /// sequence order, with their postings and current sync state (some
    /// may already be acknowledged: approved online).
    pub fn outbox(&self, limit: u32) -> Result<Vec<(Entry, Vec<Posting>, SyncState)>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries e
             WHERE e.sequence > (SELECT pushed_through FROM sync_progress WHERE id = 1)
             ORDER BY e.sequence LIMIT ?1"
        ))?;
        let rows = stmt
            .query_map([limit], entry_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(sequence, mut entry)| {
                entry.lines = load_lines(&conn, sequence)?;
                let postings = load_postings(&conn, sequence)?;
                let state = load_sync_state(&conn, sequence)?;
                Ok((entry, postings, state))
            })
            .collect()
    }

    /// Records the server's decisions about a batch and that the server has
    /// received every entry up to `through`, in one transaction. Entries
    /// already decided keep their decision.
    pub fn record_batch(&self, decisions: &[(EntryId, SyncState)], through: i64) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (id, decision) in decisions {
            let sequence: i64 = tx.query_row(
                "SELECT sequence FROM entries WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )?;
            if load_sync_state(&tx, sequence)? == SyncState::Pending {
                write_decision(&tx, sequence, decision)?;
            }
        }
        tx.execute(
            "UPDATE sync_progress SET pushed_through = MAX(pushed_through, ?1) WHERE id = 1",
            [through],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// How many entries the server has not received in a batch yet.
    pub fn outbox_count(&self) -> Result<i64> {
        Ok(self.lock().query_row(
            "SELECT COUNT(*) FROM entries WHERE sequence > (SELECT pushed_through FROM sync_progress WHERE id = 1)",
            [],
            |r| r.get(0),
        )?)
    }

    /// When the oldest pending entry was made, if any is pending.
    pub fn oldest_pending_time(&self) -> Result<Option<Timestamp>> {
        Ok(self
            .lock()
            .query_row(
                "SELECT MIN(e.terminal_time) FROM entries e
                 LEFT JOIN entry_sync s ON s.entry_sequence = e.sequence
                 WHERE e.sequence > (SELECT decided_through FROM sync_progress WHERE id = 1)
                   AND s.state IS NULL",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )?
            .map(Timestamp))
    }

    /// Records many decisions in one transaction (see
    /// [`Ledger::record_sync_decision`] for the rules of each).
    pub fn record_sync_decisions(&self, decisions: &[(EntryId, SyncState)]) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (id, decision) in decisions {
            decide(&tx, id, decision)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// How far this terminal has read the server's wallet feed.
    pub fn feed_cursor(&self) -> Result<i64> {
        Ok(self.lock().query_row(
            "SELECT feed_cursor FROM sync_progress WHERE id = 1",
            [],
            |r| r.get(0),
        )?)
    }

    /// Takes in one page of the server's wallet feed and moves the feed
    /// cursor, in one transaction.
    pub fn apply_wallet_feed(
        &self,
        snapshots: &[WalletSnapshot],
        next_cursor: i64,
        at: Timestamp,
    ) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for snapshot in snapshots {
            apply_snapshot(&tx, snapshot, at)?;
        }
        tx.execute(
            "UPDATE sync_progress SET feed_cursor = MAX(feed_cursor, ?1) WHERE id = 1",
            [next_cursor],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records the server's decision about a pending entry. A decision
    /// already recorded is kept: the same one again is a no-op, a
    /// different one is refused.
    pub fn record_sync_decision(&self, id: &EntryId, decision: &SyncState) -> Result<()> {
        self.record_sync_decisions(&[(*id, decision.clone())])
    }

    /// Takes in the server's view of a wallet, unless this ledger already
    /// holds a newer one.
    pub fn apply_wallet_snapshot(&self, snapshot: &WalletSnapshot, at: Timestamp) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        apply_snapshot(&tx, snapshot, at)?;
        tx.commit()?;
        Ok(())
    }
}

/// A decision already recorded is kept: the same one again is a no-op, a
/// different one is refused.
fn decide(tx: &Connection, id: &EntryId, decision: &SyncState) -> Result<()> {
    let sequence: i64 = tx
        .query_row(
            "SELECT sequence FROM entries WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => LedgerError::UnknownEntry(*id),
            other => other.into(),
        })?;
    let current = load_sync_state(tx, sequence)?;
    match (&current, decision) {
        (SyncState::Pending, _) => write_decision(tx, sequence, decision)?,
        (existing, new) if same_decision(existing, new) => {}
        _ => {
            return Err(LedgerError::Corrupt(format!(
                "entry {id} already has a different sync decision"
            )))
        }
    }
    Ok(())
}

/// Takes in the server's view of a wallet, unless this ledger already
/// holds a newer one.
fn apply_snapshot(tx: &Connection, snapshot: &WalletSnapshot, at: Timestamp) -> Result<()> {
    ensure_wallet(tx, &snapshot.token, false, at)?;
    let changed = tx.execute(
        "UPDATE wallets SET wallet_id = ?2, confirmed_balance = ?3, blocked = ?4,
             confirmed_cursor = ?5, confirmed_at = ?6, deposits_cursor = ?5, confirmed_promo = ?7
         WHERE token_id = ?1 AND (confirmed_cursor IS NULL OR confirmed_cursor <= ?5)",
        params![
            snapshot.token.as_str(),
            snapshot.wallet_id,
            snapshot.balance.0,
            snapshot.blocked,
            snapshot.cursor,
            at.0,
            snapshot.promo.0.max(0)
        ],
    )?;
    if changed > 0 {
        tx.execute(
            "DELETE FROM wallet_deposit_snapshots WHERE token_id = ?1",
            [snapshot.token.as_str()],
        )?;
        for deposit in &snapshot.deposits {
            tx.execute(
                "INSERT INTO wallet_deposit_snapshots (token_id, product_id, count) VALUES (?1, ?2, ?3)",
                params![snapshot.token.as_str(), deposit.product.as_str(), deposit.count],
            )?;
        }
    }
    Ok(())
}

fn same_decision(a: &SyncState, b: &SyncState) -> bool {
    match (a, b) {
        (
            SyncState::Acknowledged {
                server_id: x,
                server_cursor: cx,
                ..
            },
            SyncState::Acknowledged {
                server_id: y,
                server_cursor: cy,
                ..
            },
        ) => x == y && cx == cy,
        (SyncState::Rejected { reason: x, .. }, SyncState::Rejected { reason: y, .. })
        | (SyncState::Uncertain { reason: x, .. }, SyncState::Uncertain { reason: y, .. })
        | (SyncState::KeptLocally { reason: x, .. }, SyncState::KeptLocally { reason: y, .. }) => {
            x == y
        }
        _ => false,
    }
}

impl Ledger {
    /// Writes down a wristband sale about to be sent to the server for
    /// authorisation (durably, before it is sent).
    pub fn record_sale_intent(&self, request: &crate::store::SaleRequest) -> Result<()> {
        self.record_intent(&Intent::Sale(request.clone()))
    }

    /// A wristband's payment towards a bill sent to the server, written
    /// first, as a sale's (see [`Ledger::record_sale_intent`]).
    pub fn record_intent(&self, intent: &Intent) -> Result<()> {
        let body = serde_json::to_string(intent)
            .map_err(|e| crate::error::LedgerError::Corrupt(format!("sale intent: {e}")))?;
        self.lock().execute(
            "INSERT OR IGNORE INTO sale_intents (idempotency_key, request, created_at)
             VALUES (?1, ?2, ?3)",
            rusqlite::params![intent.key().as_str(), body, self.options.clock.now().0],
        )?;
        Ok(())
    }

    /// Debits sent for authorisation whose answer was never recorded,
    /// oldest first.
    pub fn sale_intents(&self) -> Result<Vec<Intent>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT request FROM sale_intents ORDER BY created_at, idempotency_key",
        )?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.iter()
            .map(|body| {
                serde_json::from_str(body)
                    .map_err(|e| crate::error::LedgerError::Corrupt(format!("sale intent: {e}")))
            })
            .collect()
    }

    /// The sale's answer is recorded (or there is none to wait for).
    pub fn forget_sale_intent(&self, key: &IdempotencyKey) -> Result<()> {
        self.lock().execute(
            "DELETE FROM sale_intents WHERE idempotency_key = ?1",
            [key.as_str()],
        )?;
        Ok(())
    }
}

/// A wallet debit sent to a plain PointOfSale server (one that does not
/// honour idempotency keys), written down before it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlainDelivery {
    pub key: IdempotencyKey,
    pub token: TokenId,
    /// Signed, as seen from the guest (a debit is negative).
    pub amount: Cents,
    /// The wallet's balance on the server just before it was sent.
    pub balance_before: Cents,
    pub state: PlainDeliveryState,
    pub sent_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlainDeliveryState {
    /// Sent; no answer recorded yet.
    Sent,
    /// The server booked it (answered, or its balance showed it), leaving
    /// the wallet at this balance as of this cursor (the till's own count
    /// for a server without a wallet feed).
    Booked { balance_after: Cents, cursor: i64 },
}

impl Ledger {
    /// The server's own id of a product taken from a plain server (JSON:
    /// a number or a string), if it differs from the product's id.
    pub fn server_product_ref(&self, product: &crate::ids::ProductId) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .lock()
            .prepare_cached("SELECT server_ref FROM server_product_refs WHERE product_id = ?1")?
            .query_row([product.as_str()], |r| r.get(0))
            .optional()?)
    }

    /// Replaces the server ids of products taken from a plain server.
    pub fn replace_server_product_refs(
        &self,
        refs: &[(crate::ids::ProductId, String)],
    ) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM server_product_refs", [])?;
        for (product, server_ref) in refs {
            tx.execute(
                "INSERT INTO server_product_refs (product_id, server_ref) VALUES (?1, ?2)",
                params![product.as_str(), server_ref],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// What is known of a debit sent to a plain server under `key`.
    pub fn plain_delivery(&self, key: &IdempotencyKey) -> Result<Option<PlainDelivery>> {
        use rusqlite::OptionalExtension;
        let conn = self.lock();
        let row = conn
            .prepare_cached(
                "SELECT token_id, amount, balance_before, state, balance_after, sent_at, booked_cursor
                 FROM plain_deliveries WHERE idempotency_key = ?1",
            )?
            .query_row([key.as_str()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                ))
            })
            .optional()?;
        let Some((token, amount, before, state, after, sent_at, cursor)) = row else {
            return Ok(None);
        };
        let state = match (state.as_str(), after, cursor) {
            ("booked", Some(after), Some(cursor)) => PlainDeliveryState::Booked {
                balance_after: Cents(after),
                cursor,
            },
            ("sent", _, _) => PlainDeliveryState::Sent,
            _ => {
                return Err(LedgerError::Corrupt(format!(
                    "plain delivery {key} is in state '{state}' without its balance"
                )))
            }
        };
        Ok(Some(PlainDelivery {
            key: key.clone(),
            token: TokenId::parse(&token)
                .map_err(|e| LedgerError::Corrupt(format!("plain delivery {key}: {e}")))?,
            amount: Cents(amount),
            balance_before: Cents(before),
            state,
            sent_at: Timestamp(sent_at),
        }))
    }

    /// Writes down (durably) that a debit is about to be sent to a plain
    /// server, with the wallet's balance just read; replaces an earlier
    /// try that the balance showed was not booked.
    pub fn record_plain_delivery_sent(&self, delivery: &PlainDelivery) -> Result<()> {
        self.lock().execute(
            "INSERT INTO plain_deliveries
                 (idempotency_key, token_id, amount, balance_before, state, balance_after, sent_at)
             VALUES (?1, ?2, ?3, ?4, 'sent', NULL, ?5)
             ON CONFLICT (idempotency_key) DO UPDATE SET balance_before = excluded.balance_before,
                 sent_at = excluded.sent_at
             WHERE state = 'sent'",
            params![
                delivery.key.as_str(),
                delivery.token.as_str(),
                delivery.amount.0,
                delivery.balance_before.0,
                delivery.sent_at.0
            ],
        )?;
        Ok(())
    }

    /// The plain server booked the debit under `key`, leaving the wallet
    /// at `balance_after` as of `cursor`.
    pub fn record_plain_delivery_booked(
        &self,
        key: &IdempotencyKey,
        balance_after: Cents,
        cursor: i64,
    ) -> Result<()> {
        self.lock().execute(
            "UPDATE plain_deliveries SET state = 'booked', balance_after = ?2, booked_cursor = ?3
             WHERE idempotency_key = ?1",
            params![key.as_str(), balance_after.0, cursor],
        )?;
        Ok(())
    }

    /// The plain server refused the debit, or it was never sent: nothing
    /// was booked.
    pub fn forget_plain_delivery(&self, key: &IdempotencyKey) -> Result<()> {
        self.lock().execute(
            "DELETE FROM plain_deliveries WHERE idempotency_key = ?1 AND state = 'sent'",
            [key.as_str()],
        )?;
        Ok(())
    }
}

/// A band refused as not genuine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BandRefusal {
    pub at: Timestamp,
    pub terminal: String,
    /// The full UID: a manager blocks a cloned wallet by it.
    pub token: String,
    pub reason: String,
}

/// A wristband debit sent to the server whose answer must be recorded:
/// a sale, or a payment towards a bill. Stored as JSON; rows written
/// before bills are plain sales.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Intent {
    BillPayment {
        bill_payment: crate::store::BillPaymentRequest,
    },
    /// A payout the server is asked to decide (a connected till's).
    Payout {
        payout: crate::store::PayoutRequest,
    },
    Sale(crate::store::SaleRequest),
}

impl Intent {
    pub fn key(&self) -> &IdempotencyKey {
        match self {
            Intent::BillPayment { bill_payment } => &bill_payment.key,
            Intent::Payout { payout } => &payout.key,
            Intent::Sale(sale) => &sale.key,
        }
    }
}
