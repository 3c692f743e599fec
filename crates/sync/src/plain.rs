//! Syncing with a plain PointOfSale server: one that offers seed 001 and
//! nothing else (terminal, wallet by token, debit by products), and may
//! ignore idempotency keys.
//!
//! - The till sells the server's catalogue: the products of
//!   `GET pos/terminal`, under ids the server knows.
//! - A debit is written down with the wallet's balance read just before it
//!   is sent. If the answer is lost, the balance afterwards tells whether
//!   the server booked it; where it cannot (other tills moved it), the sale
//!   is *uncertain* and never sent again.
//! - What the API cannot take (top-ups, cash sales, tips, passes, cups) is
//!   kept in this till's books, once, for a manager to see.

use tapster_api::{PosTransaction, ServerProductId, TerminalResource, WalletResource};
use tapster_ledger::model::{Category, Entry, EntryKind, Product, SyncState, Tender};
use tapster_ledger::store::{PlainDelivery, PlainDeliveryState};
use tapster_ledger::{
    CategoryId, Cents, EntryId, IdempotencyKey, LedgerError, ProductId, TokenId, VatRate,
};

use crate::client::ApiError;
use crate::engine::{SyncError, Syncer};

/// The category the server's products are filed under (seed 001 has none).
pub const SERVER_CATEGORY: &str = "server";

/// Seed 001 carries no VAT: a product new to this till gets the standard
/// rate; a manager's change here is kept at the next sync.
pub const DEFAULT_VAT: VatRate = VatRate(1900);

/// The tag every debit carries (seed 001: for classifying them later).
pub const SALE_TAG: &str = "tapster-sale";

/// What the wallet's balance after a lost answer says about the debit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The balance moved by exactly the debit: the server booked it.
    Booked,
    /// The balance did not move: nothing was booked; sending again is safe.
    NotBooked,
    /// The balance moved otherwise: other tills were at work; the outcome
    /// cannot be told from here.
    Undecidable,
}

/// Reads a lost answer from the wallet's balance before and now, and the
/// debit's signed amount. A debit of zero moves nothing either way: booked.
pub fn judge(before: Cents, now: Cents, amount: Cents) -> Verdict {
    if before.checked_add(amount) == Some(now) {
        Verdict::Booked
    } else if now == before {
        Verdict::NotBooked
    } else {
        Verdict::Undecidable
    }
}

/// A debit sent to a plain server, as it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// The server booked it, leaving the wallet at `balance_after` as of
    /// `cursor` (see [`Syncer::next_plain_cursor`]).
    Booked { balance_after: Cents, cursor: i64 },
    /// Its answer was lost and the balance cannot tell: never sent again.
    Uncertain { reason: String },
}

/// Why an entry cannot go to a plain server (it is kept locally).
fn not_transferable(entry: &Entry) -> Option<&'static str> {
    let extension = entry
        .lines
        .iter()
        .any(|l| l.tip || l.bill.is_some() || l.pass.is_some() || l.deposit);
    match (entry.kind, entry.tender, &entry.token) {
        (EntryKind::Sale, Tender::Wallet, Some(_)) if extension => Some(
            "a sale with a tip, pass, cup deposit or bill payment: this server takes products only",
        ),
        (EntryKind::Sale, Tender::Wallet, Some(_)) => None,
        (EntryKind::Sale, _, _) => Some("paid in cash or by card: this server keeps wallets only"),
        (EntryKind::TopUp, _, _) => {
            Some("a top-up: this server's API has no credit; book it on the server by hand")
        }
        (EntryKind::Cancel, _, _) => {
            Some("a cancellation: this server's API has no credit; book it on the server by hand")
        }
        _ => Some("this server's API has no way to take this entry"),
    }
}

/// A sale's products and their names as the server lists them: each of
/// the server's ids once per unit, and a description like `2× Pils, Wasser`.
fn describe(items: &[(String, i64)]) -> String {
    let text = items
        .iter()
        .map(|(name, quantity)| match quantity {
            1 => name.clone(),
            n => format!("{n}× {name}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut text: String = text.chars().take(200).collect();
    if text.is_empty() {
        text = "Tapster".into();
    }
    text
}

impl Syncer {
    /// A plain server has no wallet feed and no cursors: this till counts
    /// its own, strictly rising with the clock (milliseconds), so that a
    /// balance read later is always newer than one read before, and a
    /// debit acknowledged at a cursor counts on top of balances read
    /// before it and not of those read after.
    pub(crate) fn next_plain_cursor(&self) -> i64 {
        use std::sync::atomic::Ordering;
        let now = self.clock.now().0;
        let mut last = self.plain_cursor.load(Ordering::Relaxed);
        loop {
            let next = now.max(last + 1);
            match self.plain_cursor.compare_exchange(
                last,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    /// Takes in a wallet's balance read from a plain server as of `cursor`
    /// (the offline rules need a recent one).
    fn note_plain_balance(&self, wallet: &WalletResource, cursor: i64) -> Result<(), SyncError> {
        let Ok(token) = TokenId::parse(&wallet.token_id) else {
            return Ok(());
        };
        self.ledger.apply_wallet_snapshot(
            &tapster_ledger::store::WalletSnapshot {
                token,
                wallet_id: wallet.id.clone(),
                balance: Cents(wallet.balance),
                promo: Cents::ZERO,
                blocked: false,
                cursor,
                deposits: Vec::new(),
            },
            self.clock.now(),
        )?;
        Ok(())
    }

    /// Whether the server offers seed 001 only (no batch endpoint): asked
    /// once, then known from every round's `GET pos/terminal`.
    pub(crate) async fn is_plain(&self) -> Result<bool, ApiError> {
        if let Some(plain) = *self.plain.lock().unwrap_or_else(|p| p.into_inner()) {
            return Ok(plain);
        }
        let terminal = self.client.terminal().await?;
        Ok(self.learn_dialect(&terminal))
    }

    /// Learns from the terminal whether the server is plain.
    pub(crate) fn learn_dialect(&self, terminal: &TerminalResource) -> bool {
        let plain = !terminal
            .capabilities
            .iter()
            .any(|c| c == tapster_api::capability::TRANSACTIONS_BATCH);
        *self.plain.lock().unwrap_or_else(|p| p.into_inner()) = Some(plain);
        plain
    }

    /// Takes in a plain server's catalogue: its products with their ids,
    /// names and prices, on this till's grid in its order; products it does
    /// not list are archived here. A product the till knew keeps its VAT,
    /// colours and other local settings.
    pub(crate) fn take_in_plain_catalog(
        &self,
        terminal: &TerminalResource,
    ) -> Result<(), SyncError> {
        let category = CategoryId::new(SERVER_CATEGORY).map_err(LedgerError::from)?;
        let reader = self.ledger.reader()?;
        if !reader.categories()?.iter().any(|c| c.id == category) {
            self.ledger.upsert_category(&Category {
                id: category.clone(),
                name: "Kasse / Till".into(),
                position: 0,
            })?;
        }
        let mut refs = Vec::new();
        let mut layout = Vec::new();
        let mut changed = false;
        for offered in &terminal.products {
            let id = local_product_id(&offered.id);
            let name: String = offered
                .friendly_name
                .chars()
                .take(Product::MAX_NAME_LEN)
                .collect();
            let known = self.ledger.product(&id)?;
            let mut product = known.clone().unwrap_or_else(|| {
                Product::new(
                    id.clone(),
                    &name,
                    category.clone(),
                    Cents(offered.price),
                    DEFAULT_VAT,
                )
            });
            product.name = name;
            product.price = Cents(offered.price);
            product.on_sale = false;
            product.archived = false;
            if known.as_ref() != Some(&product) {
                self.ledger.upsert_product(&product)?;
                changed = true;
            }
            refs.push((
                id.clone(),
                serde_json::to_string(&offered.id).map_err(|e| ApiError::Garbled(e.to_string()))?,
            ));
            layout.push(id);
        }
        for product in reader.products(false)? {
            if !layout.contains(&product.id) {
                let mut archived = product;
                archived.archived = true;
                self.ledger.upsert_product(&archived)?;
                changed = true;
            }
        }
        let changed = self.apply_terminal(terminal, layout)? || changed;
        // Written when something changed (or never was): not every round.
        let refs_missing = match refs.first() {
            Some((id, _)) => self.ledger.server_product_ref(id)?.is_none(),
            None => false,
        };
        if changed || refs_missing {
            self.ledger.replace_server_product_refs(&refs)?;
        }
        if changed {
            // The grid reloads: a new price, a product gone.
            self.note_catalog_change();
            tracing::info!(
                products = terminal.products.len(),
                "the server's catalogue taken in"
            );
        }
        Ok(())
    }

    /// The server's id of a product of this till.
    fn server_id(&self, product: &ProductId) -> Result<ServerProductId, SyncError> {
        Ok(match self.ledger.server_product_ref(product)? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| LedgerError::Corrupt(format!("server product id: {e}")))?,
            None => ServerProductId::Text(product.to_string()),
        })
    }

    /// Seed 001's debit for `items` (product and units), under `key`.
    pub(crate) fn pos_transaction(
        &self,
        key: &IdempotencyKey,
        items: &[(ProductId, i64)],
    ) -> Result<PosTransaction, SyncError> {
        let mut products = Vec::new();
        let mut names = Vec::new();
        for (product, quantity) in items {
            let id = self.server_id(product)?;
            for _ in 0..*quantity {
                products.push(id.clone());
            }
            let name = self
                .ledger
                .product(product)?
                .map_or_else(|| product.to_string(), |p| p.name);
            names.push((name, *quantity));
        }
        Ok(PosTransaction {
            products,
            description: describe(&names),
            tag: SALE_TAG.into(),
            idempotency_key: key.to_string(),
        })
    }

    /// Sends a debit of `amount` (negative) to a plain server so that it is
    /// booked at most once whatever happens to the answers: a debit whose
    /// answer was lost earlier is judged by the wallet's balance first.
    /// A refusal is `Err(ApiError::Refused)`; a lost answer is another
    /// `Err`, and the debit is judged on the next try.
    pub(crate) async fn deliver_plain(
        &self,
        token: &TokenId,
        amount: Cents,
        body: &PosTransaction,
    ) -> Result<Delivered, SyncError> {
        let key = IdempotencyKey::new(body.idempotency_key.clone()).map_err(LedgerError::from)?;
        let earlier = self.ledger.plain_delivery(&key)?;
        if let Some(PlainDelivery {
            state:
                PlainDeliveryState::Booked {
                    balance_after,
                    cursor,
                },
            ..
        }) = earlier
        {
            return Ok(Delivered::Booked {
                balance_after,
                cursor,
            });
        }
        let wallet = self.client.wallet(token.as_str()).await?;
        let read_at = self.next_plain_cursor();
        self.note_plain_balance(&wallet, read_at)?;
        let now = Cents(wallet.balance);
        if let Some(sent) = &earlier {
            match judge(sent.balance_before, now, sent.amount) {
                Verdict::Booked => {
                    self.ledger
                        .record_plain_delivery_booked(&key, now, read_at)?;
                    tracing::info!(%key, "a lost answer: the balance shows the debit was booked");
                    return Ok(Delivered::Booked {
                        balance_after: now,
                        cursor: read_at,
                    });
                }
                Verdict::NotBooked => {
                    tracing::info!(%key, "a lost answer: the balance shows nothing was booked; sending again");
                }
                Verdict::Undecidable => {
                    let reason = format!(
                        "the answer was lost; the wallet's balance was {} before, is {} now, and this sale is {}: other tills moved it, so whether it was booked cannot be told",
                        sent.balance_before, now, amount
                    );
                    tracing::error!(%key, "a debit's outcome on the server is uncertain");
                    return Ok(Delivered::Uncertain { reason });
                }
            }
        }
        self.ledger.record_plain_delivery_sent(&PlainDelivery {
            key: key.clone(),
            token: token.clone(),
            amount,
            balance_before: now,
            state: PlainDeliveryState::Sent,
            sent_at: self.clock.now(),
        })?;
        match self.client.pos_transaction(token.as_str(), body).await {
            Ok(wallet) => {
                let cursor = self.next_plain_cursor();
                let after = Cents(wallet.balance);
                self.ledger
                    .record_plain_delivery_booked(&key, after, cursor)?;
                self.note_plain_balance(&wallet, cursor)?;
                Ok(Delivered::Booked {
                    balance_after: after,
                    cursor,
                })
            }
            Err(error @ ApiError::Refused { .. }) => {
                self.ledger.forget_plain_delivery(&key)?;
                Err(error.into())
            }
            Err(error) if error.nothing_sent() => {
                self.ledger.forget_plain_delivery(&key)?;
                Err(error.into())
            }
            // Lost on the way: judged by the balance next time.
            Err(error) => Err(error.into()),
        }
    }

    /// Sends the outbox to a plain server one wallet sale at a time; keeps
    /// what it cannot take. Returns the decisions and the last sequence
    /// handled; stops early (keeping what was decided) when the server
    /// cannot be reached.
    pub(crate) async fn push_plain(
        &self,
        outbox: Vec<(Entry, Vec<tapster_ledger::postings::Posting>, SyncState)>,
    ) -> Result<(Vec<(EntryId, SyncState)>, Option<i64>), SyncError> {
        let mut decisions = Vec::new();
        let mut through = None;
        for (entry, _, state) in outbox {
            if state != SyncState::Pending {
                // Approved online already: the server has it.
                through = Some(entry.sequence);
                continue;
            }
            let at = self.clock.now();
            let decision = match (not_transferable(&entry), &entry.token) {
                (Some(reason), _) => SyncState::KeptLocally {
                    reason: reason.into(),
                    at,
                },
                (None, None) => unreachable!("a wallet sale has a token"),
                (None, Some(token)) => {
                    let items: Vec<(ProductId, i64)> = entry
                        .lines
                        .iter()
                        .filter(|l| l.is_goods() && l.quantity > 0)
                        .map(|l| (l.product.clone(), l.quantity))
                        .collect();
                    let body = self.pos_transaction(&entry.idempotency_key, &items)?;
                    match self.deliver_plain(token, entry.amount, &body).await {
                        Ok(Delivered::Booked { cursor, .. }) => SyncState::Acknowledged {
                            server_id: format!("plain:{}", entry.idempotency_key),
                            server_cursor: cursor,
                            at,
                        },
                        Ok(Delivered::Uncertain { reason }) => SyncState::Uncertain { reason, at },
                        Err(SyncError::Api(ApiError::Refused { message, .. })) => {
                            tracing::warn!(entry = %entry.id, %message, "the server refused an entry");
                            SyncState::Rejected {
                                reason: message,
                                at,
                            }
                        }
                        Err(error) if through.is_some() || !decisions.is_empty() => {
                            tracing::info!(%error, "push stopped; the rest goes next round");
                            return Ok((decisions, through));
                        }
                        Err(error) => return Err(error),
                    }
                }
            };
            decisions.push((entry.id, decision));
            through = Some(entry.sequence);
        }
        Ok((decisions, through))
    }

    /// A wallet debit asked online of a plain server, answered as
    /// tapster-server would answer it.
    pub(crate) async fn authorise_plain(
        &self,
        token: &TokenId,
        amount: Cents,
        body: &tapster_api::CreateTransaction,
    ) -> Result<crate::client::Applied, ApiError> {
        if body.pass.is_some()
            || !body.returns.is_empty()
            || body.tip_cents.is_some()
            || body.bill.is_some()
        {
            return Err(ApiError::NotOffered(
                "this server takes products only (no tip, pass, cups or bill)".into(),
            ));
        }
        let key = body
            .idempotency_key
            .as_deref()
            .and_then(|k| IdempotencyKey::new(k).ok())
            .ok_or_else(|| ApiError::Misconfigured("a debit needs its key".into()))?;
        let mut items: Vec<(ProductId, i64)> = Vec::new();
        for product in &body.products {
            let id = ProductId::new(product.as_str())
                .map_err(|e| ApiError::Misconfigured(e.to_string()))?;
            match items.iter_mut().find(|(p, _)| *p == id) {
                Some((_, quantity)) => *quantity += 1,
                None => items.push((id, 1)),
            }
        }
        let request = self
            .pos_transaction(&key, &items)
            .map_err(|e| ApiError::Misconfigured(e.to_string()))?;
        match self.deliver_plain(token, amount, &request).await {
            Ok(Delivered::Booked {
                balance_after,
                cursor,
            }) => Ok(crate::client::Applied {
                wallet: WalletResource {
                    id: String::new(),
                    token_id: token.to_string(),
                    created_at: String::new(),
                    balance: balance_after.0,
                    paired_user: None,
                    transactions: None,
                },
                transaction_id: Some(format!("plain:{key}")),
                cursor: Some(cursor),
                promo: None,
            }),
            Ok(Delivered::Uncertain { reason }) => Err(ApiError::Unreachable(reason)),
            Err(SyncError::Api(error)) => Err(error),
            Err(SyncError::Ledger(error)) => Err(ApiError::Misconfigured(error.to_string())),
        }
    }
}

/// This till's id for a product of the server: the server's own when
/// Tapster accepts it as it stands (`espresso`, `17`), else one made from
/// it (`Café Crème` → `cafe-creme-…` with a short digest, so two ids never
/// meet).
pub fn local_product_id(server: &ServerProductId) -> ProductId {
    let text = server.to_string();
    if let Ok(id) = ProductId::new(text.clone()) {
        return id;
    }
    // FNV-1a: stable across builds and machines, which is all this needs.
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let digest = format!("{:08x}", hash >> 32);
    let base = tapster_ledger::ids::slug(&text, 40);
    let id = if base.is_empty() {
        format!("pos-{digest}")
    } else {
        format!("{base}-{digest}")
    };
    ProductId::new(id).expect("a slug with a hex digest is a product id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_balance_tells_booked_from_not_booked_and_nothing_else() {
        assert_eq!(judge(Cents(1000), Cents(550), Cents(-450)), Verdict::Booked);
        assert_eq!(
            judge(Cents(1000), Cents(1000), Cents(-450)),
            Verdict::NotBooked
        );
        // Another till took 3.00 meanwhile: booked or not, nobody can say.
        assert_eq!(
            judge(Cents(1000), Cents(250), Cents(-450)),
            Verdict::Undecidable
        );
        assert_eq!(
            judge(Cents(1000), Cents(700), Cents(-450)),
            Verdict::Undecidable
        );
        assert_eq!(judge(Cents(1000), Cents(1000), Cents(0)), Verdict::Booked);
        assert_eq!(
            judge(Cents(i64::MIN), Cents(0), Cents(-1)),
            Verdict::Undecidable
        );
    }

    #[test]
    fn server_ids_become_till_ids_that_never_meet() {
        assert_eq!(
            local_product_id(&ServerProductId::Number(17)).as_str(),
            "17"
        );
        assert_eq!(
            local_product_id(&ServerProductId::Text("espresso".into())).as_str(),
            "espresso"
        );
        let creme = local_product_id(&ServerProductId::Text("Café Crème".into()));
        assert!(creme.as_str().starts_with("cafe-creme-"), "{creme}");
        let other = local_product_id(&ServerProductId::Text("café crème".into()));
        assert_ne!(creme, other);
        assert!(local_product_id(&ServerProductId::Text("★".into()))
            .as_str()
            .starts_with("pos-"));
    }

    #[test]
    fn a_description_names_the_goods_within_200_characters() {
        assert_eq!(
            describe(&[("Pils".into(), 2), ("Wasser".into(), 1)]),
            "2× Pils, Wasser"
        );
        assert_eq!(describe(&[]), "Tapster");
        assert_eq!(describe(&[("x".repeat(300), 1)]).chars().count(), 200);
    }
}
