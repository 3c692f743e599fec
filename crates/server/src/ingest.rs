//! Offline terminals' ledgers: batch ingestion with per-entry decisions,
//! the sequence and hash-chain check, the wallet feed and heartbeats.
//!
//! A batch is one SQLite transaction (one durable commit for all its
//! entries). Each entry's decision is final for its idempotency key.
//! Offline-authorised debits are accepted even when they overdraw: the
//! drink was already served. The wallet then shows as blocked in the feed
//! until a top-up brings it back to zero or more.

use crate::db::{params, Connection, OptionalExtension};
use tapster_api::{
    BatchEntry, BatchResponse, ChainProblem, EntryResult, EntryStatus, FeedWallet, Heartbeat,
    WalletFeed,
};
use tapster_ledger::chain::entry_hash;
use tapster_ledger::model::{DepositCount, Entry, EntryKind};
use tapster_ledger::passes::discount_lines;
use tapster_ledger::postings::{book, check_balanced, Account, Movement};
use tapster_ledger::pricing::PricedCart;
use tapster_ledger::promo::payable;
use tapster_ledger::rules::check_terminal_permission;
use tapster_ledger::{Cents, LedgerError};

use crate::error::ServerError;
use crate::store::{
    add_deposits, insert_transaction, AuthenticatedTerminal, NewTransaction, Origin, ServerStore,
};

/// Where the terminal's chain stood before this entry, and the event's
/// feed cursor (handed out in order within the batch, stored once).
struct ChainState {
    last_sequence: i64,
    last_hash: String,
    cursor: i64,
}

impl ServerStore {
    /// Applies a batch of a terminal's ledger entries, in order.
    pub fn ingest_batch(
        &self,
        terminal: &AuthenticatedTerminal,
        entries: &[BatchEntry],
    ) -> Result<BatchResponse, ServerError> {
        if entries.len() > tapster_api::MAX_BATCH_ENTRIES {
            return Err(ServerError::invalid(
                "entries",
                format!("at most {} per batch", tapster_api::MAX_BATCH_ENTRIES),
            ));
        }
        let (terminal, entries, now) = (terminal.clone(), entries.to_vec(), self.now());
        let started = std::time::Instant::now();
        self.write(move |tx| {
        let terminal = &terminal;
        let event = terminal.event_id.as_str();
        Self::ensure_event(tx, event)?;
        let mut chain: ChainState = tx.query_row(
            "SELECT last_sequence, last_hash FROM terminals WHERE event_id = ?1 AND id = ?2",
            params![event, terminal.id],
            |r| {
                Ok(ChainState {
                    last_sequence: r.get(0)?,
                    last_hash: r.get(1)?,
                    cursor: 0,
                })
            },
        )?;
        chain.cursor = tx.query_row("SELECT cursor FROM events WHERE id = ?1", [event], |r| r.get(0))?;
        let mut results = Vec::with_capacity(entries.len());
        let mut problems = Vec::new();
        let mut goods = crate::backoffice::GoodsCache::default();
        for batch_entry in &entries {
            let result = ingest_one(tx, terminal, batch_entry, &mut chain, &mut problems, &mut goods, now.0)?;
            results.push(result);
        }
        tx.execute("UPDATE events SET cursor = ?2 WHERE id = ?1", params![event, chain.cursor])?;
        tx.execute(
            "UPDATE terminals SET last_sequence = ?3, last_hash = ?4, last_seen = ?5 WHERE event_id = ?1 AND id = ?2",
            params![event, terminal.id, chain.last_sequence, chain.last_hash, now.0],
        )?;
        for problem in &problems {
            tx.execute(
                "INSERT INTO terminal_problems (event_id, terminal_id, problem, sequence, detail, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![event, terminal.id, problem.problem, problem.sequence, problem.detail, now.0],
            )?;
        }
        let created = results
            .iter()
            .filter(|r| r.status == EntryStatus::Created)
            .count();
        tracing::info!(
            event,
            terminal = %terminal.id,
            entries = entries.len(),
            created,
            problems = problems.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "batch"
        );
        Ok(BatchResponse {
            results,
            last_sequence: chain.last_sequence,
            problems,
        })
        })
    }

    /// Wallets changed after `since`, in cursor order, at most `limit`.
    pub fn wallet_feed(
        &self,
        event: &str,
        since: i64,
        limit: u32,
    ) -> Result<WalletFeed, ServerError> {
        let limit = limit.clamp(1, 5000);
        let reader = self.reader()?;
        // One snapshot for the page: wallets and their cups as of one moment.
        let conn = reader.unchecked_transaction()?;
        Self::ensure_event(&conn, event)?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, token_id, balance, blocked, cursor, promo_balance FROM wallets
             WHERE event_id = ?1 AND cursor > ?2 ORDER BY cursor LIMIT ?3",
        )?;
        let rows: Vec<(String, String, i64, bool, i64, i64)> = stmt
            .query_map(params![event, since, i64::from(limit) + 1], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect::<crate::db::Result<_>>()?;
        let more = rows.len() > limit as usize;
        let mut wallets = Vec::with_capacity(rows.len().min(limit as usize));
        for (wallet_id, token_id, balance, blocked, cursor, promo_balance) in
            rows.into_iter().take(limit as usize)
        {
            wallets.push(feed_wallet(
                &conn,
                wallet_id,
                token_id,
                balance,
                promo_balance,
                blocked,
                cursor,
            )?);
        }
        let next_cursor = wallets.last().map_or(since, |w| w.cursor);
        Ok(WalletFeed {
            wallets,
            next_cursor,
            more,
        })
    }

    pub fn heartbeat(
        &self,
        terminal: &AuthenticatedTerminal,
        beat: &Heartbeat,
    ) -> Result<(), ServerError> {
        if beat.app_version.is_empty() || beat.app_version.len() > 40 || beat.pending < 0 {
            return Err(ServerError::invalid(
                "heartbeat",
                "app_version 1-40 characters, pending not negative",
            ));
        }
        let (terminal, beat, now) = (terminal.clone(), beat.clone(), self.now());
        self.write(move |conn| {
            conn.execute(
                "UPDATE terminals SET last_seen = ?3, app_version = ?4, pending = ?5 WHERE event_id = ?1 AND id = ?2",
                params![terminal.event_id, terminal.id, now.0, beat.app_version, beat.pending],
            )?;
            Ok(())
        })
    }
}

/// A wallet as the feed shows it to tills: an overdrawn wallet is blocked
/// for debits until it is topped up.
pub(crate) fn feed_wallet(
    conn: &Connection,
    wallet_id: String,
    token_id: String,
    balance: i64,
    promo_balance: i64,
    blocked: bool,
    cursor: i64,
) -> Result<FeedWallet, ServerError> {
    Ok(FeedWallet {
        deposits: deposits(conn, &wallet_id)?,
        token_id,
        wallet_id,
        balance,
        promo_balance,
        blocked: blocked || balance < 0,
        cursor,
    })
}

fn deposits(conn: &Connection, wallet_id: &str) -> Result<Vec<DepositCount>, ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT product_id, count FROM wallet_deposits WHERE wallet_id = ?1 AND count <> 0 ORDER BY product_id",
    )?;
    let rows = stmt.query_map([wallet_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (product, count) = row?;
        if let Ok(product) = product.parse() {
            out.push(DepositCount { product, count });
        }
    }
    Ok(out)
}

fn result(key: &str, status: EntryStatus) -> EntryResult {
    EntryResult {
        idempotency_key: key.to_string(),
        status,
        transaction_id: None,
        cursor: None,
        balance: None,
        reason: None,
    }
}

fn ingest_one(
    tx: &Connection,
    terminal: &AuthenticatedTerminal,
    batch_entry: &BatchEntry,
    chain: &mut ChainState,
    problems: &mut Vec<ChainProblem>,
    goods: &mut crate::backoffice::GoodsCache,
    now: i64,
) -> Result<EntryResult, ServerError> {
    let entry = &batch_entry.entry;
    let event = terminal.event_id.as_str();
    let key = entry.idempotency_key.as_str();
    // The entry's content hash, recomputed here, fingerprints the request:
    // it covers every field and posting (and the chain link).
    let hash = entry_hash(entry, &batch_entry.postings);

    // A key already decided: the same decision again. One look-up covers
    // both applied and rejected keys.
    let earlier: Option<Earlier> = tx
        .prepare_cached(
            "SELECT 0, t.id, t.cursor, t.request_hash, t.entry_id, t.wallet_id, t.amount, NULL FROM transactions t
             WHERE t.event_id = ?1 AND t.idempotency_key = ?2
             UNION ALL
             SELECT 1, NULL, NULL, r.request_hash, NULL, NULL, NULL, r.reason FROM rejected_entries r
             WHERE r.event_id = ?1 AND r.idempotency_key = ?2
             LIMIT 1",
        )?
        .query_row(params![event, key], |r| {
            Ok(Earlier {
                rejected: r.get(0)?,
                transaction_id: r.get(1)?,
                cursor: r.get(2)?,
                request_hash: r.get(3)?,
                entry_id: r.get(4)?,
                wallet_id: r.get(5)?,
                amount: r.get(6)?,
                reason: r.get(7)?,
            })
        })
        .optional()?;
    if let Some(earlier) = earlier {
        if earlier.rejected {
            let same = earlier.request_hash.as_deref() == Some(hash.as_str());
            let mut r = result(
                key,
                if same {
                    EntryStatus::Rejected
                } else {
                    EntryStatus::Conflict
                },
            );
            r.reason = earlier.reason;
            return Ok(r);
        }
        // Applied online first (the terminal then fell back to offline under
        // the same key): the same sale when wristband and amount agree.
        let same = match &earlier.entry_id {
            Some(_) => earlier.request_hash.as_deref() == Some(hash.as_str()),
            None => {
                let token: Option<String> = match &earlier.wallet_id {
                    Some(wallet) => tx
                        .prepare_cached("SELECT token_id FROM wallets WHERE id = ?1")?
                        .query_row([wallet], |r| r.get(0))
                        .optional()?,
                    None => None,
                };
                let amount = earlier.amount.unwrap_or(i64::MIN);
                token.as_deref() == entry.token.as_ref().map(|t| t.as_str())
                    && amount == wallet_delta(batch_entry)?.0
            }
        };
        if same && earlier.entry_id.is_none() {
            // Applied online first: now the server learns the entry itself,
            // for cancellations and the terminal's chain.
            if let Some(transaction) = &earlier.transaction_id {
                tx.prepare_cached(
                    "INSERT INTO transaction_entries (event_id, entry_id, transaction_id) VALUES (?1, ?2, ?3)
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![event, entry.id.to_string(), transaction])?;
            }
            if hash == entry.hash {
                follow_chain(entry, chain, problems);
            }
        }
        let mut r = result(
            key,
            if same {
                EntryStatus::Exists
            } else {
                EntryStatus::Conflict
            },
        );
        r.transaction_id = earlier.transaction_id;
        r.cursor = earlier.cursor;
        if !same {
            r.reason = Some("this idempotency key was used for different content".into());
        }
        return Ok(r);
    }

    match decide(tx, terminal, batch_entry, &hash, chain, problems, now)? {
        Decision::Reject(reason) => {
            tx.prepare_cached(
                "INSERT INTO rejected_entries (event_id, idempotency_key, terminal_id, request_hash, reason, entry, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                event,
                key,
                terminal.id,
                hash,
                reason,
                serde_json::to_string(batch_entry).map_err(|e| ServerError::Internal(e.to_string()))?,
                now
            ])?;
            tracing::warn!(event, terminal = %terminal.id, sequence = entry.sequence, %reason, "entry rejected");
            let mut r = result(key, EntryStatus::Rejected);
            r.reason = Some(reason);
            Ok(r)
        }
        Decision::Apply { wallet, pass } => {
            let delta = wallet_delta(batch_entry)?;
            let lines = serde_json::to_string(&entry.lines)
                .map_err(|e| ServerError::Internal(e.to_string()))?;
            let (id, cursor) = insert_transaction(
                tx,
                &NewTransaction {
                    event,
                    wallet_id: wallet.as_ref().map(|(id, _)| id.as_str()),
                    terminal_id: Some(&terminal.id),
                    kind: entry.kind,
                    tender: entry.tender,
                    amount: if wallet.is_some() {
                        delta
                    } else {
                        entry.amount
                    },
                    description: None,
                    tag: None,
                    lines: &lines,
                    now: tapster_ledger::Timestamp(now),
                    key: Some(key),
                    request_hash: Some(&hash),
                    response: None,
                    origin: Some(Origin {
                        entry_id: entry.id.to_string(),
                        sequence: entry.sequence,
                        terminal_time: entry.terminal_time.0,
                        staff_id: entry.staff.as_str(),
                        offline: entry.offline,
                        reverses: entry.reverses.map(|r| r.to_string()),
                    }),
                    cursor: Some(if wallet.is_some() {
                        chain.cursor += 1;
                        chain.cursor
                    } else {
                        chain.cursor
                    }),
                    voucher: false,
                },
            )?;
            if let Some(pass) = &pass {
                record_pass_use(tx, terminal, key, &id, pass, now)?;
            }
            if let Some(action) = crate::audit::till_action(entry.kind) {
                let cashier = crate::audit::Actor::Staff {
                    id: entry.staff.to_string(),
                    terminal: Some(terminal.id.clone()),
                };
                let mut audit = crate::audit::Audit::new(
                    action,
                    serde_json::json!({
                        "amount": entry.amount.0,
                        "tender": entry.tender.as_str(),
                        "entry_id": entry.id.to_string(),
                        "reverses": entry.reverses.map(|r| r.to_string()),
                        "terminal_time": entry.terminal_time.0,
                        "offline": entry.offline,
                    }),
                )
                .subject(id.as_str());
                if let Some(token) = &entry.token {
                    audit = audit.wallet(token.as_str());
                }
                crate::audit::record_as(tx, event, now, &cashier, audit)?;
            }
            if let Some(original) = &entry.reverses {
                release_pass(tx, event, &original.to_string())?;
            }
            // Stock follows what was served: sold units out, cancelled or
            // returned ones back in.
            for line in &entry.lines {
                crate::store::adjust_stock(
                    tx,
                    event,
                    &line.product,
                    line.quantity.saturating_neg(),
                    now,
                )?;
            }
            // Vendors and bar stock, at the till's own time of the sale.
            crate::backoffice::book_goods(
                tx,
                event,
                &terminal.id,
                &id,
                entry.kind,
                &entry.lines,
                goods,
                entry.terminal_time.0,
            )?;
            let mut balance = None;
            if let Some((wallet_id, before)) = &wallet {
                if entry.tender == tapster_ledger::model::Tender::Wallet {
                    add_deposits(tx, wallet_id, &entry.lines)?;
                }
                balance = Some(before + delta.0);
            }
            let mut r = result(key, EntryStatus::Created);
            r.transaction_id = Some(id);
            r.cursor = Some(cursor);
            r.balance = balance;
            Ok(r)
        }
    }
}

/// What an idempotency key was used for before: an applied transaction
/// (with its amount; no entry id when it came online) or a rejection
/// (with its reason).
struct Earlier {
    rejected: bool,
    transaction_id: Option<String>,
    cursor: Option<i64>,
    request_hash: Option<String>,
    entry_id: Option<String>,
    wallet_id: Option<String>,
    amount: Option<i64>,
    reason: Option<String>,
}

/// Moves the terminal's chain on to `entry`, noting a gap or a broken
/// link. Entries at or before the chain's end change nothing.
fn follow_chain(
    entry: &tapster_ledger::model::Entry,
    chain: &mut ChainState,
    problems: &mut Vec<ChainProblem>,
) {
    if entry.sequence <= chain.last_sequence {
        return;
    }
    if entry.sequence > chain.last_sequence + 1 {
        problems.push(ChainProblem {
            problem: "gap".into(),
            sequence: entry.sequence,
            detail: format!(
                "entries {} to {} are missing",
                chain.last_sequence + 1,
                entry.sequence - 1
            ),
        });
    } else if entry.prev_hash != chain.last_hash {
        problems.push(ChainProblem {
            problem: "broken_chain".into(),
            sequence: entry.sequence,
            detail: "the entry does not continue the terminal's hash chain".into(),
        });
    }
    chain.last_sequence = entry.sequence;
    chain.last_hash = entry.hash.clone();
}

enum Decision {
    Reject(String),
    /// Apply, to this wallet (id, balance before) if the entry has one,
    /// with the pass its sale took off.
    Apply {
        wallet: Option<(String, i64)>,
        pass: Option<PassUse>,
    },
}

/// A pass an offline sale took off: what it took, and why it may not
/// count (used up elsewhere first, blocked…) — a conflict, not a refusal:
/// the guest was served.
struct PassUse {
    code: String,
    value: i64,
    refusal: Option<String>,
}

/// The pass on a sale's discount lines, checked against the pass as the
/// server keeps it: the lines must take off exactly what the ledger's
/// rule gives for the sale's goods (`Err` is the reason to reject).
fn pass_use(
    tx: &Connection,
    event: &str,
    entry: &Entry,
    now: i64,
) -> Result<Result<Option<PassUse>, String>, ServerError> {
    if entry.reverses.is_some() {
        // A cancellation mirrors its sale's lines; it gives the pass back.
        return Ok(Ok(None));
    }
    let mut codes: Vec<_> = entry.lines.iter().filter_map(|l| l.pass.as_ref()).collect();
    codes.dedup();
    let Some(code) = codes.first() else {
        return Ok(Ok(None));
    };
    if codes.len() > 1 || entry.kind != EntryKind::Sale {
        return Ok(Err("a pass is taken off a sale, one pass per sale".into()));
    }
    let Some(stored) =
        crate::passes::load(tx, event, code.as_str(), tapster_ledger::Timestamp(now))?
    else {
        return Ok(Err(format!(
            "pass {} is not known to the server",
            code.masked()
        )));
    };
    let goods = PricedCart {
        lines: entry
            .lines
            .iter()
            .filter(|l| l.pass.is_none())
            .cloned()
            .collect(),
        total: Cents::ZERO,
        stock_needed: Vec::new(),
    };
    let given: Vec<(u32, Option<Cents>)> = entry
        .lines
        .iter()
        .filter(|l| l.pass.is_some())
        .map(|l| (l.vat_rate.0, l.total()))
        .collect();
    let expected: Option<Vec<(u32, Option<Cents>)>> = discount_lines(&stored.pass, &goods)
        .ok()
        .map(|lines| lines.iter().map(|l| (l.vat_rate.0, l.total())).collect());
    if expected.as_ref() != Some(&given) {
        return Ok(Err(format!(
            "the discount does not match what pass {} gives",
            code.masked()
        )));
    }
    let value = given
        .iter()
        .map(|(_, total)| total.map_or(0, |t| t.0))
        .sum::<i64>()
        .saturating_neg();
    Ok(Ok(Some(PassUse {
        code: code.to_string(),
        value,
        refusal: stored
            .pass
            .check_redeemable(entry.terminal_time, stored.counted)
            .err()
            .map(|refusal| refusal.to_string()),
    })))
}

/// Counts a pass an applied sale took off, or notes it as a conflict.
fn record_pass_use(
    tx: &Connection,
    terminal: &AuthenticatedTerminal,
    key: &str,
    transaction_id: &str,
    pass: &PassUse,
    now: i64,
) -> Result<(), ServerError> {
    let event = terminal.event_id.as_str();
    match &pass.refusal {
        None => crate::passes::record_redemption(
            tx,
            event,
            &pass.code,
            &terminal.id,
            Some(key),
            Some(transaction_id),
            tapster_ledger::Timestamp(now),
        ),
        Some(reason) => {
            tracing::warn!(event, terminal = %terminal.id, value = pass.value, %reason, "pass conflict");
            tx.prepare_cached(
                "INSERT INTO pass_conflicts (event_id, code, terminal_id, idempotency_key, transaction_id, value, reason, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![event, pass.code, terminal.id, key, transaction_id, pass.value, reason, now])?;
            Ok(())
        }
    }
}

/// A cancelled sale gives its pass's redemption back (and a conflict it
/// caused is void).
fn release_pass(tx: &Connection, event: &str, original_entry: &str) -> Result<(), ServerError> {
    let original: Option<String> = tx
        .prepare_cached(
            "SELECT id FROM transactions WHERE event_id = ?1
               AND (entry_id = ?2 OR id = (SELECT transaction_id FROM transaction_entries WHERE event_id = ?1 AND entry_id = ?2))",
        )?
        .query_row(params![event, original_entry], |r| r.get(0))
        .optional()?;
    if let Some(original) = original {
        let released: Vec<String> = tx
            .prepare_cached(
                "DELETE FROM pass_redemptions WHERE event_id = ?1 AND transaction_id = ?2 RETURNING code",
            )?
            .query_map(params![event, original], |r| r.get(0))?
            .collect::<crate::db::Result<_>>()?;
        for code in released {
            crate::passes::bump(tx, event, &code)?;
        }
        tx.prepare_cached(
            "DELETE FROM pass_conflicts WHERE event_id = ?1 AND transaction_id = ?2",
        )?
        .execute(params![event, original])?;
    }
    Ok(())
}

/// The entry's effect on its wallet: the sum of its wallet postings.
fn wallet_delta(batch_entry: &BatchEntry) -> Result<Cents, ServerError> {
    let Some(token) = &batch_entry.entry.token else {
        return Ok(Cents::ZERO);
    };
    let account = Account::Wallet(token.clone());
    Cents::checked_sum(
        batch_entry
            .postings
            .iter()
            .filter(|p| p.account == account)
            .map(|p| p.amount),
    )
    .ok_or_else(|| ServerError::invalid("postings", "amounts overflow"))
}

/// Checks an entry new to the server: its hash, its place in the chain,
/// its bookkeeping, the terminal's permission and the wallet.
fn decide(
    tx: &Connection,
    terminal: &AuthenticatedTerminal,
    batch_entry: &BatchEntry,
    content_hash: &str,
    chain: &mut ChainState,
    problems: &mut Vec<ChainProblem>,
    now: i64,
) -> Result<Decision, ServerError> {
    let entry = &batch_entry.entry;
    let event = terminal.event_id.as_str();
    if entry.terminal.as_str() != terminal.id {
        return Ok(Decision::Reject(format!(
            "the entry belongs to terminal '{}'",
            entry.terminal
        )));
    }
    if content_hash != entry.hash {
        problems.push(ChainProblem {
            problem: "tampered".into(),
            sequence: entry.sequence,
            detail: "the entry's content does not match its hash".into(),
        });
        return Ok(Decision::Reject(
            "the entry's content does not match its hash (edited on the terminal?)".into(),
        ));
    }
    // Sequence and chain.
    if entry.sequence <= chain.last_sequence {
        problems.push(ChainProblem {
            problem: "repeat".into(),
            sequence: entry.sequence,
            detail: format!(
                "sequence {} was already received with another key",
                entry.sequence
            ),
        });
        return Ok(Decision::Reject(format!(
            "sequence {} was already used by another entry",
            entry.sequence
        )));
    }
    follow_chain(entry, chain, problems);

    // Bookkeeping and permission, by the ledger's rules. The postings are
    // what moves money, so they must be exactly what the entry books.
    if check_balanced(&batch_entry.postings).is_err() {
        return Ok(Decision::Reject(
            "the entry's postings do not sum to zero".into(),
        ));
    }
    let own_wallet = entry.token.as_ref().map(|t| Account::Wallet(t.clone()));
    if batch_entry
        .postings
        .iter()
        .any(|p| matches!(p.account, Account::Wallet(_)) && Some(&p.account) != own_wallet.as_ref())
    {
        return Ok(Decision::Reject(
            "the postings move another wristband's wallet".into(),
        ));
    }
    let (kind, amount) = match entry.reverses {
        Some(original) => {
            let found: Option<(String, i64, Option<String>, Option<String>)> = tx
                .prepare_cached(
                    "SELECT t.kind, t.amount, t.terminal_id, w.token_id FROM transactions t
                     LEFT JOIN wallets w ON w.id = t.wallet_id
                     WHERE t.event_id = ?1
                       AND (t.entry_id = ?2 OR t.id = (SELECT transaction_id FROM transaction_entries WHERE entry_id = ?2))",
                )?
                .query_row(params![event, original.to_string()], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            let Some((original_kind, original_amount, original_terminal, original_token)) = found
            else {
                return Ok(Decision::Reject(
                    "the cancelled entry is not known to the server".into(),
                ));
            };
            let already: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM transactions WHERE event_id = ?1 AND reverses = ?2)")?
                .query_row(params![event, original.to_string()], |r| r.get(0))?;
            let mirrors = entry.kind == EntryKind::Cancel
                && Some(entry.amount.0) == original_amount.checked_neg()
                && original_terminal.as_deref() == Some(terminal.id.as_str())
                && original_token.as_deref() == entry.token.as_ref().map(|t| t.as_str());
            if already {
                return Ok(Decision::Reject("this entry was already cancelled".into()));
            }
            if !mirrors {
                return Ok(Decision::Reject(
                    "the cancellation does not mirror the entry it cancels".into(),
                ));
            }
            if entry.token.is_some() && wallet_delta(batch_entry)? != entry.amount {
                return Ok(Decision::Reject(
                    "the cancellation's postings do not match its amount".into(),
                ));
            }
            (
                original_kind
                    .parse::<EntryKind>()
                    .map_err(|e| ServerError::Internal(e.to_string()))?,
                Cents(original_amount),
            )
        }
        None => {
            let sign_ok = match entry.kind {
                EntryKind::Sale => !entry.amount.is_positive(),
                EntryKind::TopUp | EntryKind::DepositReturn => entry.amount.is_positive(),
                EntryKind::Payout => entry.amount.is_negative(),
                EntryKind::Adjustment => true,
                EntryKind::Cancel => false,
            };
            let booked = book(&Movement {
                kind: entry.kind,
                tender: entry.tender,
                token: entry.token.as_ref(),
                shift: entry.shift,
                amount: entry.amount,
                lines: &entry.lines,
            });
            let same = booked.is_ok_and(|mut expected| {
                let mut given = batch_entry.postings.clone();
                expected.sort_by(|a, b| a.account.cmp(&b.account).then(a.amount.cmp(&b.amount)));
                given.sort_by(|a, b| a.account.cmp(&b.account).then(a.amount.cmp(&b.amount)));
                expected == given
            });
            if !sign_ok || !same {
                return Ok(Decision::Reject(
                    "the entry's postings do not match what it books".into(),
                ));
            }
            (entry.kind, entry.amount)
        }
    };
    if let Err(error) = check_terminal_permission(terminal.permission, kind, amount) {
        return Ok(Decision::Reject(error.to_string()));
    }
    let pass = match pass_use(tx, event, entry, now)? {
        Ok(pass) => pass,
        Err(reason) => return Ok(Decision::Reject(reason)),
    };
    let Some(token) = &entry.token else {
        return Ok(Decision::Apply { wallet: None, pass });
    };
    let Some(wallet) = ServerStore::wallet_row(tx, event, token)? else {
        return Ok(Decision::Reject(
            "this wristband is not paired to a wallet".into(),
        ));
    };
    let delta = wallet_delta(batch_entry)?;
    if delta.is_negative() && !entry.offline {
        let needed = delta.checked_neg().ok_or(LedgerError::AmountOverflow)?;
        if let Err(refusal) = wallet.authorize_debit(token, needed, entry.terminal_time) {
            return Ok(Decision::Reject(refusal.to_string()));
        }
        let payable = payable(Cents(wallet.balance), Cents(wallet.promo_balance));
        if entry.kind == EntryKind::Payout && needed > payable {
            return Ok(Decision::Reject(format!(
                "a payout hands out paid money only: {payable} of this balance may be paid out, the rest is promo credit"
            )));
        }
    }
    Ok(Decision::Apply {
        wallet: Some((wallet.id, wallet.balance)),
        pass,
    })
}
