//! One terminal's sync with the server, step by step: push the outbox,
//! then pull the terminal's setup and the wallet feed; and the online
//! authorisation of a sale with its offline fallback.
//!
//! A round pulls the wallet feed only after its push got a decision for
//! every pending entry: an entry the server applied but whose answer was
//! lost would otherwise count twice, once in the server's balance and once
//! as pending here.

use std::sync::Arc;
use std::time::Duration;

use tapster_api::{
    capability, BatchEntry, BillPaymentBody, CreateTransaction, EntryStatus, Heartbeat,
};
use tapster_ledger::model::{Entry, SyncState, Tender, Terminal};
use tapster_ledger::store::{
    Authorisation, BillPaymentRequest, Intent, PaidBill, PayoutRequest, Recorded, SaleRequest,
    ServerApproval, WalletSnapshot,
};
use tapster_ledger::{
    Cents, Clock, EntryId, IdempotencyKey, Ledger, LedgerError, ProductId, TokenId,
};
use thiserror::Error;

use crate::client::{ApiError, Applied, ServerClient};

/// How a terminal syncs.
#[derive(Clone, Debug)]
pub struct SyncConfig {
    /// Between rounds when all is well (default 5 s).
    pub interval: Duration,
    /// How long a sale waits for the server before deciding offline (800 ms).
    pub authorise_deadline: Duration,
    /// An entry undelivered for this long raises the "sync stuck" alert (15 min).
    pub stuck_after: Duration,
    /// Entries per batch.
    pub batch_size: u32,
    /// Wallets per feed page.
    pub feed_page: u32,
    /// First retry delay and the cap of the exponential backoff (15 s: a
    /// bar whose network is back is not left waiting a minute).
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// While no connection to the server can be made, how often the till
    /// tries to open one (a TCP connect, nothing sent): the moment it
    /// succeeds (the network or the server is back) the till syncs, not
    /// only when the backoff runs out. Zero: never.
    pub reconnect_probe: Duration,
    pub app_version: String,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            interval: Duration::from_secs(5),
            authorise_deadline: Duration::from_millis(800),
            stuck_after: Duration::from_secs(15 * 60),
            batch_size: 500,
            feed_page: 1000,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(15),
            reconnect_probe: Duration::from_secs(1),
            app_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

#[derive(Debug, Error)]
pub enum SyncError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("the local ledger failed: {0}")]
    Ledger(#[from] LedgerError),
}

impl SyncError {
    /// A round's request refused for good (not an entry: those are
    /// decided one by one): asking again soon cannot help.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            SyncError::Api(ApiError::Refused { .. } | ApiError::Misconfigured(_))
        )
    }
}

/// How far a catch-up has come.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub sent: u64,
    pub total: u64,
}

/// What a push did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PushReport {
    pub acknowledged: u64,
    pub rejected: u64,
    /// Answers lost where the balance cannot tell (plain servers only).
    pub uncertain: u64,
    /// Entries the server cannot take, kept here (plain servers only).
    pub kept_locally: u64,
}

/// Why the server refused a sale it was asked to authorise online.
#[derive(Debug, Error)]
pub enum SaleError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The server's answer, in its words (not enough balance, blocked…).
    #[error("{message}")]
    Refused { code: String, message: String },
    /// The server did not answer in time and the offline rules refuse the
    /// sale: the server may have taken the payment. Try again with the
    /// same request (same idempotency key): a repeat is recognised.
    #[error("no answer from the server and not allowed offline ({reason}); try again")]
    OutcomeUnknown { reason: String },
}

pub struct Syncer {
    pub(crate) ledger: Arc<Ledger>,
    pub(crate) client: ServerClient,
    pub(crate) clock: Arc<dyn Clock>,
    pub config: SyncConfig,
    /// Whether the server offers seed 001 only (see [`crate::plain`]);
    /// `None` until it was asked.
    pub(crate) plain: std::sync::Mutex<Option<bool>>,
    /// The last cursor this till counted for a plain server.
    pub(crate) plain_cursor: std::sync::atomic::AtomicI64,
    /// The catalogue last taken in, so an unchanged one costs no writes.
    applied_catalog: std::sync::Mutex<Option<String>>,
    /// How many changed catalogues were taken in, so screens know to
    /// reload (a product sold out at this bar, a new price).
    catalog_changes: std::sync::atomic::AtomicU64,
    /// Debits interrupted (the till died while the server was asked) and
    /// settled since, for the cashier's screen ([`Syncer::take_interrupted`]).
    interrupted: std::sync::Mutex<Vec<InterruptedDebit>>,
}

/// A wristband debit the till sent to the server and then died before it
/// recorded the answer, settled at a restart: the cashier is told which
/// band, how much, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterruptedDebit {
    pub key: IdempotencyKey,
    pub token: TokenId,
    /// What the guest was to pay (none: the amount is not known here).
    pub amount: Option<Cents>,
    /// Recorded now as the server applied it, with the entry's number; or
    /// the server never applied it (nothing was debited).
    pub recorded_as: Option<i64>,
    /// A payout (the guest is owed the cash), not a sale.
    pub payout: bool,
}

impl Syncer {
    pub fn new(
        ledger: Arc<Ledger>,
        client: ServerClient,
        clock: Arc<dyn Clock>,
        config: SyncConfig,
    ) -> Self {
        Syncer {
            ledger,
            client,
            clock,
            config,
            applied_catalog: std::sync::Mutex::new(None),
            catalog_changes: std::sync::atomic::AtomicU64::new(0),
            plain: std::sync::Mutex::new(None),
            plain_cursor: std::sync::atomic::AtomicI64::new(0),
            interrupted: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The interrupted debits settled since the last call, oldest first.
    pub fn take_interrupted(&self) -> Vec<InterruptedDebit> {
        std::mem::take(&mut *self.interrupted.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn note_interrupted(&self, settled: InterruptedDebit) {
        self.interrupted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(settled);
    }

    /// A changed catalogue was taken in: screens reload.
    pub(crate) fn note_catalog_change(&self) {
        self.catalog_changes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Changed catalogues taken in since this syncer started.
    pub fn catalog_changes(&self) -> u64 {
        self.catalog_changes
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// The server, with this terminal's token.
    pub fn client(&self) -> &ServerClient {
        &self.client
    }

    /// One round: push everything pending, then (only when that fully
    /// succeeded) pull the terminal and the wallet feed, then a heartbeat.
    pub async fn round(
        &self,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<PushReport, SyncError> {
        let terminal = self.client.terminal().await?;
        let plain = self.learn_dialect(&terminal);
        if plain {
            // Its catalogue first: sales made before the first round carry
            // the server's ids from then on.
            self.take_in_plain_catalog(&terminal)?;
        }
        self.resolve_sale_intents().await?;
        let report = self.push(!plain, progress).await?;
        if terminal
            .capabilities
            .iter()
            .any(|c| c == capability::CATALOG)
        {
            self.pull_catalog().await?;
        }
        if !plain {
            self.pull_terminal(&terminal)?;
        }
        if terminal
            .capabilities
            .iter()
            .any(|c| c == capability::WALLET_FEED)
        {
            self.pull_feed().await?;
        }
        if terminal
            .capabilities
            .iter()
            .any(|c| c == capability::PASS_FEED)
        {
            self.pull_passes().await?;
        }
        if terminal
            .capabilities
            .iter()
            .any(|c| c == capability::SHIFT_CLOSES)
        {
            self.deliver_shift_closes().await?;
        }
        if terminal
            .capabilities
            .iter()
            .any(|c| c == capability::HEARTBEAT)
        {
            let beat = Heartbeat {
                app_version: self.config.app_version.clone(),
                pending: self.ledger.pending_count()?,
            };
            self.client.heartbeat(&beat).await?;
        }
        Ok(report)
    }

    /// Sends pending entries until none is left: in batches when the
    /// server takes them, else one seed-001 transaction per sale.
    pub async fn push(
        &self,
        batches: bool,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<PushReport, SyncError> {
        let total = u64::try_from(self.ledger.outbox_count()?).unwrap_or(0);
        let mut done = Progress { sent: 0, total };
        let mut report = PushReport::default();
        loop {
            // Everything the server has not received yet, also entries it
            // approved online: it keeps a copy of the ledger and its chain.
            let outbox = self.ledger.outbox(self.config.batch_size)?;
            let Some(last) = outbox.last().map(|(entry, _, _)| entry.sequence) else {
                return Ok(report);
            };
            let undecided: Vec<EntryId> = outbox
                .iter()
                .filter(|(_, _, state)| *state == SyncState::Pending)
                .map(|(entry, _, _)| entry.id)
                .collect();
            // Each entry counts once, also when a push stops part way (the
            // next pass starts after the last one handled).
            let (decisions, through, handled) = if batches {
                let count = outbox.len() as u64;
                let entries = outbox
                    .into_iter()
                    .map(|(entry, postings, _)| (entry, postings))
                    .collect();
                (self.push_batch(entries).await?, last, count)
            } else {
                let sequences: Vec<i64> = outbox.iter().map(|(e, _, _)| e.sequence).collect();
                let (decisions, through) = self.push_plain(outbox).await?;
                let Some(through) = through else {
                    return Ok(report);
                };
                let handled = sequences.iter().filter(|s| **s <= through).count() as u64;
                (decisions, through, handled)
            };
            count_decisions(&mut report, &undecided, &decisions);
            // The server has the batch; recording its answer fails here
            // in the failpoint tests (the next round must not double it).
            tapster_ledger::failpoint!("sync::batch::answered");
            // Entries already decided (approved online) keep their decision.
            self.ledger.record_batch(&decisions, through)?;
            done.sent += handled;
            done.total = done.total.max(done.sent);
            progress(done);
        }
    }

    async fn push_batch(
        &self,
        pending: Vec<(Entry, Vec<tapster_ledger::postings::Posting>)>,
    ) -> Result<Vec<(EntryId, SyncState)>, SyncError> {
        let keys: Vec<(EntryId, String)> = pending
            .iter()
            .map(|(entry, _)| (entry.id, entry.idempotency_key.to_string()))
            .collect();
        let entries = pending
            .into_iter()
            .map(|(entry, postings)| BatchEntry { entry, postings })
            .collect();
        let response = self.client.batch(entries).await?;
        let now = self.clock.now();
        let mut decisions = Vec::with_capacity(keys.len());
        for (id, key) in keys {
            let Some(result) = response.results.iter().find(|r| r.idempotency_key == key) else {
                return Err(ApiError::Garbled(format!("no decision for entry {key}")).into());
            };
            let decision = match result.status {
                EntryStatus::Created | EntryStatus::Exists => SyncState::Acknowledged {
                    server_id: result.transaction_id.clone().unwrap_or_default(),
                    server_cursor: result.cursor.unwrap_or(0),
                    at: now,
                },
                EntryStatus::Conflict | EntryStatus::Rejected => SyncState::Rejected {
                    reason: result
                        .reason
                        .clone()
                        .unwrap_or_else(|| "refused by the server".into()),
                    at: now,
                },
            };
            if let SyncState::Rejected { reason, .. } = &decision {
                tracing::warn!(entry = %id, %reason, "the server refused an entry");
            }
            decisions.push((id, decision));
        }
        for problem in &response.problems {
            tracing::warn!(problem = %problem.problem, sequence = problem.sequence, detail = %problem.detail, "the server found a chain problem");
        }
        Ok(decisions)
    }

    /// Hands the server the shift closes of this till's own audit trail
    /// that it does not have yet, and notes how far it has them.
    pub async fn deliver_shift_closes(&self) -> Result<(), SyncError> {
        loop {
            let waiting = self.ledger.undelivered_shift_closes(50)?;
            let Some(last) = waiting.last().map(|r| r.seq) else {
                return Ok(());
            };
            let closes = waiting
                .into_iter()
                .map(|record| {
                    let detail = serde_json::from_str(&record.detail)
                        .map_err(|e| LedgerError::Corrupt(format!("audit detail: {e}")))?;
                    Ok(tapster_api::audit::TillShiftClose {
                        seq: record.seq,
                        at: record.at.0,
                        staff_id: record.staff.to_string(),
                        shift_id: record.subject.unwrap_or_default(),
                        detail,
                    })
                })
                .collect::<Result<Vec<_>, LedgerError>>()?;
            let count = closes.len();
            match self
                .client
                .shift_closes(tapster_api::audit::TillShiftCloses { closes })
                .await
            {
                Ok(taken) => tracing::info!(
                    sent = count,
                    recorded = taken.recorded,
                    "shift closes delivered"
                ),
                // Refused as they are: sending them again would stop every
                // round here. They stay in this till's own trail.
                Err(ApiError::Refused {
                    status,
                    code,
                    message,
                }) => tracing::error!(
                    status,
                    %code,
                    %message,
                    sent = count,
                    "the server refused these shift closes: they stay in this till's own trail only"
                ),
                Err(error) => return Err(error.into()),
            }
            self.ledger.mark_audit_delivered(last)?;
        }
    }

    /// Settings, categories, products and staff as the server has them.
    /// Only a changed catalogue is written.
    pub async fn pull_catalog(&self) -> Result<(), SyncError> {
        let catalog = self.client.catalog().await?;
        let fingerprint =
            serde_json::to_string(&catalog).map_err(|e| ApiError::Garbled(e.to_string()))?;
        let mut applied = self
            .applied_catalog
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if applied.as_deref() == Some(fingerprint.as_str()) {
            return Ok(());
        }
        if self.ledger.settings()? != catalog.settings {
            self.ledger.update_settings(&catalog.settings)?;
        }
        for category in &catalog.categories {
            self.ledger.upsert_category(category)?;
        }
        // Cups first: drinks refer to them.
        let mut products = catalog.products.clone();
        products.sort_by_key(|p| !p.returnable);
        for product in &products {
            if self.ledger.product(&product.id)?.as_ref() != Some(product) {
                self.ledger.upsert_product(product)?;
            }
        }
        // Categories the server removed go once their products have moved.
        let kept: Vec<_> = catalog.categories.iter().map(|c| &c.id).collect();
        for category in self.ledger.reader()?.categories()? {
            if kept.contains(&&category.id) {
                continue;
            }
            match self.ledger.remove_category(&category.id) {
                Ok(()) => tracing::info!(category = %category.id, "category removed by the server"),
                // A product the server does not know still files it here.
                Err(LedgerError::CategoryNotEmpty { products, .. }) => {
                    tracing::warn!(category = %category.id, products, "the server removed a category this till still uses: kept")
                }
                Err(error) => return Err(error.into()),
            }
        }
        // Tags count only with the key they were made with.
        if let Some(key) = &catalog.pin_lookup_key {
            self.ledger.adopt_pin_lookup_key(key)?;
        }
        for member in &catalog.staff {
            let pin_tag = match (&catalog.pin_lookup_key, &member.pin_tag) {
                (Some(_), Some(tag)) => {
                    Some(tapster_ledger::pin::PinTag::parse(tag).map_err(LedgerError::from)?)
                }
                _ => None,
            };
            let staff = tapster_ledger::model::Staff {
                id: tapster_ledger::StaffId::new(member.id.as_str()).map_err(LedgerError::from)?,
                name: member.name.clone(),
                role: member.role,
                badge: member.badge.as_deref().and_then(|b| TokenId::parse(b).ok()),
                active: member.active,
            };
            self.ledger
                .upsert_staff_hashed(&staff, &member.pin_hash, pin_tag.as_ref())?;
        }
        self.ledger
            .replace_stock_warnings(&catalog.stock_warnings)?;
        *applied = Some(fingerprint);
        self.catalog_changes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(
            products = products.len(),
            staff = catalog.staff.len(),
            "catalogue taken in"
        );
        Ok(())
    }

    /// The terminal's name and permission as the server has them.
    fn pull_terminal(&self, resource: &tapster_api::TerminalResource) -> Result<(), SyncError> {
        let layout: Vec<ProductId> = resource
            .products
            .iter()
            .filter_map(|p| ProductId::new(p.id.to_string()).ok())
            .filter(|id| self.ledger.product(id).ok().flatten().is_some())
            .collect();
        self.apply_terminal(resource, layout)?;
        Ok(())
    }

    /// The terminal's name, permission and grid as the server has them;
    /// whether anything changed.
    pub(crate) fn apply_terminal(
        &self,
        resource: &tapster_api::TerminalResource,
        layout: Vec<ProductId>,
    ) -> Result<bool, SyncError> {
        let mut terminal: Terminal = self.ledger.terminal()?;
        if terminal.friendly_name == resource.friendly_name
            && terminal.permission == resource.permission
            && terminal.layout == layout
        {
            return Ok(false);
        }
        terminal.friendly_name = resource.friendly_name.clone();
        terminal.permission = resource.permission;
        terminal.layout = layout;
        self.ledger.upsert_terminal(&terminal)?;
        Ok(true)
    }

    /// Every wallet change since the ledger's feed cursor.
    pub async fn pull_feed(&self) -> Result<u64, SyncError> {
        let mut since = self.ledger.feed_cursor()?;
        let mut taken = 0;
        loop {
            let page = self
                .client
                .wallet_feed(since, self.config.feed_page)
                .await?;
            let snapshots: Vec<WalletSnapshot> = page
                .wallets
                .iter()
                .filter_map(|w| {
                    Some(WalletSnapshot {
                        token: TokenId::parse(&w.token_id).ok()?,
                        wallet_id: w.wallet_id.clone(),
                        balance: tapster_ledger::Cents(w.balance),
                        promo: tapster_ledger::Cents(w.promo_balance),
                        blocked: w.blocked,
                        cursor: w.cursor,
                        deposits: w.deposits.clone(),
                    })
                })
                .collect();
            taken += snapshots.len() as u64;
            self.ledger
                .apply_wallet_feed(&snapshots, page.next_cursor, self.clock.now())?;
            since = page.next_cursor;
            if !page.more {
                return Ok(taken);
            }
        }
    }

    /// Every pass change since the ledger's pass-feed version.
    pub async fn pull_passes(&self) -> Result<u64, SyncError> {
        let mut since = self.ledger.pass_feed_version()?;
        let mut taken = 0;
        loop {
            let page = self.client.pass_feed(since, self.config.feed_page).await?;
            taken += page.passes.len() as u64;
            self.ledger.apply_pass_feed(&page.passes)?;
            if !page.more || page.next_version <= since {
                return Ok(taken);
            }
            since = page.next_version;
        }
    }

    /// Sells with the server's approval when it answers within the
    /// deadline; otherwise by the ledger's offline rules, under the same
    /// idempotency key either way. A refusal by the server is final.
    pub async fn authorise_sale(
        &self,
        request: &SaleRequest,
        try_online: bool,
    ) -> Result<Recorded, SaleError> {
        // What this terminal could not record is never sent to the server.
        let priced = self.ledger.check_sale_priced(request)?;
        let online = match (&request.token, request.tender) {
            (Some(token), Tender::Wallet) if try_online => Some((
                token,
                online_request(request, &priced.lines),
                Intent::Sale(request.clone()),
                priced.total.checked_neg(),
            )),
            _ => None,
        };
        self.authorise(
            &request.key,
            online,
            |authorisation| self.ledger.sell(request, authorisation),
            |recorded| recorded.replayed,
        )
        .await
    }

    /// Pays out a wristband: decided by the server when it answers in
    /// time (it holds the balance; a band paid out at one till cannot be
    /// paid out again at another), else by this ledger's offline limits. A
    /// refusal by the server is final.
    pub async fn authorise_payout(
        &self,
        request: &PayoutRequest,
        try_online: bool,
    ) -> Result<Recorded, SaleError> {
        // What this terminal could not record is never sent to the server.
        self.ledger.check_payout(request)?;
        // A server that cannot be asked what it offers is decided offline.
        let plain = self.is_plain().await.unwrap_or(true);
        if !try_online || plain {
            return Ok(self.ledger.payout(request, Authorisation::ThisLedger)?);
        }
        let intent = Intent::Payout {
            payout: request.clone(),
        };
        // Written down first: if this terminal dies after the server paid
        // out, the next round books it and tells the cashier.
        self.ledger.record_intent(&intent)?;
        let asked = tokio::time::timeout(
            self.config.authorise_deadline,
            self.client
                .payout(request.token.as_str(), &payout_body(request)),
        )
        .await;
        let approval = match asked {
            Ok(Ok((applied, amount))) => payout_approval(applied, amount, self.clock.now()),
            Ok(Err(ApiError::Refused { code, message, .. })) => {
                if code != IDEMPOTENCY_CONFLICT {
                    self.ledger.forget_sale_intent(&request.key)?;
                }
                return Err(SaleError::Refused { code, message });
            }
            Ok(Err(error)) => {
                tracing::info!(%error, "online payout failed; deciding offline");
                if error.nothing_sent() {
                    self.ledger.forget_sale_intent(&request.key)?;
                }
                return self.payout_offline(request);
            }
            Err(_) => {
                tracing::info!("online payout timed out; deciding offline");
                return self.payout_offline(request);
            }
        };
        let recorded = self.ledger.payout(request, approval)?;
        if recorded.replayed {
            self.ledger.forget_sale_intent(&request.key)?;
        }
        Ok(recorded)
    }

    /// The server did not answer: this ledger's offline limits decide.
    /// Refused offline after asking, the server may have paid it out: the
    /// intent finds out later.
    fn payout_offline(&self, request: &PayoutRequest) -> Result<Recorded, SaleError> {
        self.ledger
            .payout(request, Authorisation::ThisLedger)
            .map_err(|error| SaleError::OutcomeUnknown {
                reason: error.to_string(),
            })
    }

    /// Takes a payment towards a bill: a wristband's with the server's
    /// approval when it answers in time, else by the offline rules (as a
    /// sale); cash and card by the ledger alone.
    pub async fn authorise_bill_payment(
        &self,
        request: &BillPaymentRequest,
        try_online: bool,
    ) -> Result<PaidBill, SaleError> {
        // What this terminal could not record is never sent to the server.
        self.ledger.check_bill_payment(request)?;
        let online = match (&request.token, request.tender) {
            (Some(token), Tender::Wallet) if try_online => Some((
                token,
                bill_payment_request(request),
                Intent::BillPayment {
                    bill_payment: request.clone(),
                },
                request.offered.checked_neg(),
            )),
            _ => None,
        };
        self.authorise(
            &request.key,
            online,
            |authorisation| self.ledger.pay_bill(request, authorisation),
            |paid| paid.payment.replayed,
        )
        .await
    }

    /// Asks the server to apply a wristband debit (`online`: the band, the
    /// request, the intent written before asking) and records it as the
    /// server approved it; without an answer, records it by this ledger's
    /// offline rules. A refusal by the server is final.
    async fn authorise<T>(
        &self,
        key: &tapster_ledger::IdempotencyKey,
        online: Option<(
            &TokenId,
            CreateTransaction,
            Intent,
            Option<tapster_ledger::Cents>,
        )>,
        record: impl Fn(Authorisation) -> Result<T, LedgerError>,
        replayed: impl Fn(&T) -> bool,
    ) -> Result<T, SaleError> {
        let mut asked = false;
        let approved = match online {
            Some((token, body, intent, amount)) => {
                asked = true;
                // Written down first: if this terminal dies after the server
                // applied the debit, the next round records it (see
                // `resolve_sale_intents`).
                self.ledger.record_intent(&intent)?;
                match tokio::time::timeout(
                    self.config.authorise_deadline,
                    self.debit_online(token, amount, &body),
                )
                .await
                {
                    Ok(Ok(applied)) => Some(applied),
                    Ok(Err(ApiError::Refused { code, message, .. })) => {
                        // Refused: the server applied nothing — unless it
                        // knows the key for another request (an earlier
                        // try of this one may have been applied).
                        if code != IDEMPOTENCY_CONFLICT {
                            self.ledger.forget_sale_intent(key)?;
                        }
                        return Err(SaleError::Refused { code, message });
                    }
                    Ok(Err(error)) => {
                        tracing::info!(%error, "online authorisation failed; deciding offline");
                        if error.nothing_sent() {
                            // The server never saw it: no outcome to learn.
                            self.ledger.forget_sale_intent(key)?;
                            asked = false;
                        }
                        None
                    }
                    Err(_) => {
                        tracing::info!("online authorisation timed out; deciding offline");
                        None
                    }
                }
            }
            None => None,
        };
        let authorisation = match approved {
            Some(applied) => server_approval(applied, self.clock.now()),
            None => Authorisation::ThisLedger,
        };
        let offline = matches!(authorisation, Authorisation::ThisLedger);
        match record(authorisation) {
            // Recorded under its key, which settled its intent in the same
            // transaction; a replay (recorded before) settles it here.
            Ok(recorded) => {
                if asked && replayed(&recorded) {
                    self.ledger.forget_sale_intent(key)?;
                }
                Ok(recorded)
            }
            // Asked the server without an answer, and refused offline: the
            // server may have applied it (its intent finds out later).
            Err(error) if asked && offline => Err(SaleError::OutcomeUnknown {
                reason: error.to_string(),
            }),
            Err(error) => Err(error.into()),
        }
    }
}

impl Syncer {
    /// Sales this terminal sent for authorisation whose answer it never
    /// recorded (it died in between): asked again under the same key, the
    /// server answers with what it did — applied (recorded here now, as the
    /// server approved it) or refused (nothing to record). Returns how many
    /// were settled; an unreachable server leaves them for the next round.
    pub async fn resolve_sale_intents(&self) -> Result<usize, SyncError> {
        let mut settled = 0;
        for intent in self.ledger.sale_intents()? {
            let key = intent.key().clone();
            if let Intent::Payout { payout } = &intent {
                match self
                    .client
                    .payout(payout.token.as_str(), &payout_body(payout))
                    .await
                {
                    Ok((applied, amount)) => {
                        let approval = payout_approval(applied, amount, self.clock.now());
                        match self.ledger.payout(payout, approval) {
                            Ok(recorded) => {
                                tracing::info!(%key, "interrupted payout recorded as the server paid it");
                                self.note_interrupted(InterruptedDebit {
                                    key: key.clone(),
                                    token: payout.token.clone(),
                                    amount: Some(Cents(amount)),
                                    recorded_as: Some(recorded.entry.sequence),
                                    payout: true,
                                });
                            }
                            Err(error) => {
                                tracing::error!(%key, %error, "a payout the server made cannot be recorded");
                                continue;
                            }
                        }
                    }
                    Err(ApiError::Refused { code, .. }) if code == IDEMPOTENCY_CONFLICT => {
                        tracing::error!(%key, "the server knows this payout's key for another request");
                        continue;
                    }
                    Err(ApiError::Refused { code, .. }) => {
                        tracing::info!(%key, %code, "interrupted payout was not made by the server");
                        self.note_interrupted(InterruptedDebit {
                            key: key.clone(),
                            token: payout.token.clone(),
                            amount: None,
                            recorded_as: None,
                            payout: true,
                        });
                    }
                    Err(ApiError::NotOffered(reason)) => {
                        tracing::info!(%key, %reason, "interrupted payout cannot go to this server");
                    }
                    Err(error) => return Err(error.into()),
                }
                self.ledger.forget_sale_intent(&key)?;
                settled += 1;
                continue;
            }
            let (token, body, amount) = match &intent {
                Intent::Sale(request) => match &request.token {
                    // Priced as when it was sent (a replay prices from
                    // the recorded entry). A tip needs the prices: without
                    // them the question waits (a tip of 0 is another request).
                    Some(token) => match self.ledger.check_sale_priced(request) {
                        Ok(priced) => (
                            token.clone(),
                            online_request(request, &priced.lines),
                            priced.total.checked_neg(),
                        ),
                        Err(_) if request.cart.tip.is_none() => {
                            (token.clone(), online_request(request, &[]), None)
                        }
                        Err(error) => {
                            tracing::warn!(%key, %error, "an interrupted sale with a tip cannot be priced; asked again later");
                            continue;
                        }
                    },
                    None => {
                        self.ledger.forget_sale_intent(&key)?;
                        continue;
                    }
                },
                Intent::BillPayment { bill_payment } => match &bill_payment.token {
                    Some(token) => (
                        token.clone(),
                        bill_payment_request(bill_payment),
                        bill_payment.offered.checked_neg(),
                    ),
                    None => {
                        self.ledger.forget_sale_intent(&key)?;
                        continue;
                    }
                },
                // Settled above.
                Intent::Payout { .. } => continue,
            };
            match self.debit_online(&token, amount, &body).await {
                Ok(applied) => {
                    let approval = server_approval(applied, self.clock.now());
                    let recorded = match &intent {
                        Intent::Sale(request) => self
                            .ledger
                            .sell(request, approval)
                            .map(|r| r.entry.sequence),
                        Intent::BillPayment { bill_payment } => self
                            .ledger
                            .pay_bill(bill_payment, approval)
                            .map(|r| r.payment.entry.sequence),
                        Intent::Payout { payout } => self
                            .ledger
                            .payout(payout, approval)
                            .map(|r| r.entry.sequence),
                    };
                    // Recorded now, or already (the answer did arrive).
                    // One that cannot be recorded keeps its intent (the
                    // wallet and this ledger disagree: it is logged every
                    // round) and holds up no other and no sync round.
                    let sequence = match recorded {
                        Ok(sequence) => sequence,
                        Err(error) => {
                            tracing::error!(%key, %error, "a debit the server applied cannot be recorded");
                            continue;
                        }
                    };
                    tracing::info!(%key, sequence, "interrupted debit recorded as the server applied it");
                    self.note_interrupted(InterruptedDebit {
                        key: key.clone(),
                        token: token.clone(),
                        amount: amount.map(|a| a.checked_neg().unwrap_or(a)),
                        recorded_as: Some(sequence),
                        payout: false,
                    });
                }
                Err(ApiError::Refused { code, .. }) if code == IDEMPOTENCY_CONFLICT => {
                    // The server has this key for another request: what it
                    // applied is not known from here.
                    tracing::error!(%key, "the server knows this debit's key for another request");
                    continue;
                }
                Err(ApiError::Refused { code, .. }) => {
                    tracing::info!(%key, %code, "interrupted debit was not applied by the server");
                    self.note_interrupted(InterruptedDebit {
                        key: key.clone(),
                        token: token.clone(),
                        amount: amount.map(|a| a.checked_neg().unwrap_or(a)),
                        recorded_as: None,
                        payout: false,
                    });
                }
                Err(ApiError::NotOffered(reason)) => {
                    tracing::info!(%key, %reason, "interrupted debit cannot go to this server; its entry says what became of it");
                }
                Err(error) => return Err(error.into()),
            }
            self.ledger.forget_sale_intent(&key)?;
            settled += 1;
        }
        Ok(settled)
    }
}

/// Counts the decisions about entries that were still undecided.
fn count_decisions(
    report: &mut PushReport,
    undecided: &[EntryId],
    decisions: &[(EntryId, SyncState)],
) {
    for (id, decision) in decisions {
        if !undecided.contains(id) {
            continue;
        }
        match decision {
            SyncState::Rejected { .. } => report.rejected += 1,
            SyncState::Uncertain { .. } => report.uncertain += 1,
            SyncState::KeptLocally { .. } => report.kept_locally += 1,
            _ => report.acknowledged += 1,
        }
    }
}

impl Syncer {
    /// A wallet debit asked of the server online: under its key on a
    /// Tapster server; guarded by the wallet's balance on a plain one
    /// (`amount`: the debit, negative; needed there).
    async fn debit_online(
        &self,
        token: &TokenId,
        amount: Option<tapster_ledger::Cents>,
        body: &CreateTransaction,
    ) -> Result<Applied, ApiError> {
        if !self.is_plain().await? {
            return self.client.transaction(token.as_str(), body).await;
        }
        let amount = amount.ok_or_else(|| {
            ApiError::NotOffered(
                "a debit that cannot be priced here is not sent to this server".into(),
            )
        })?;
        self.authorise_plain(token, amount, body).await
    }
}

/// The server's code for a key it knows for another request.
const IDEMPOTENCY_CONFLICT: &str = "idempotency_conflict";

/// A wristband sale as seed 001's debit by product ids, under its key.
fn online_request(
    request: &SaleRequest,
    priced: &[tapster_ledger::model::Line],
) -> CreateTransaction {
    CreateTransaction {
        products: request
            .cart
            .lines
            .iter()
            .flat_map(|l| {
                std::iter::repeat_n(
                    l.product.to_string(),
                    usize::try_from(l.quantity).unwrap_or(0),
                )
            })
            .collect(),
        description: None,
        tag: None,
        idempotency_key: Some(request.key.to_string()),
        pass: request.pass.as_ref().map(|pass| pass.code.to_string()),
        returns: returned_cups(&request.cart.returns),
        tip_cents: request
            .cart
            .tip
            .map(|_| tapster_ledger::bills::tip_total(priced).0),
        bill: None,
    }
}

/// A wristband's share of a bill as Tapster's extension of seed 001's
/// transaction, under its key (a band pays exactly what it offers).
fn bill_payment_request(request: &BillPaymentRequest) -> CreateTransaction {
    CreateTransaction {
        idempotency_key: Some(request.key.to_string()),
        bill: Some(BillPaymentBody {
            bill_id: request.bill.to_string(),
            amount: request.offered.0,
        }),
        ..CreateTransaction::default()
    }
}

/// Cups brought back, as seed 001 lists products: each id once per unit.
fn returned_cups(returns: &[tapster_ledger::pricing::CartLine]) -> Vec<String> {
    returns
        .iter()
        .flat_map(|l| {
            std::iter::repeat_n(
                l.product.to_string(),
                usize::try_from(l.quantity).unwrap_or(0),
            )
        })
        .collect()
}

/// A payout as the server is asked to make it.
fn payout_body(request: &PayoutRequest) -> tapster_api::CreatePayout {
    tapster_api::CreatePayout {
        tender: request.tender.as_str().to_string(),
        staff_id: request.staff.to_string(),
        idempotency_key: request.key.to_string(),
    }
}

/// The server's payout: the amount it paid out is what the ledger books.
fn payout_approval(applied: Applied, amount: i64, now: tapster_ledger::Timestamp) -> Authorisation {
    match server_approval(applied, now) {
        Authorisation::Server(approval) => Authorisation::Server(ServerApproval {
            debited: Some(Cents(amount)),
            ..approval
        }),
        other => other,
    }
}

/// What the server's answer to an online sale authorises the ledger to record.
fn server_approval(applied: Applied, now: tapster_ledger::Timestamp) -> Authorisation {
    Authorisation::Server(ServerApproval {
        server_id: applied.transaction_id.unwrap_or_else(|| "online".into()),
        server_cursor: applied.cursor.unwrap_or(0),
        balance_after: tapster_ledger::Cents(applied.wallet.balance),
        promo_after: applied.promo.map(tapster_ledger::Cents),
        at: now,
        debited: None,
    })
}
