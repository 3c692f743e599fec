//! A terminal's own ledger against the real server: sells offline, pushes
//! its pending entries in batches, pulls the wallet feed.

use std::sync::Arc;

use serde_json::Value;
use tapster_api::{BatchEntry, BatchRequest};
use tapster_ledger::model::{EventMode, Tender};
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{Authorisation, OpenShiftRequest, SaleRequest, WalletSnapshot};
use tapster_ledger::{
    demo, Cents, IdempotencyKey, Ledger, LedgerOptions, ManualClock, ProductId, StaffId,
    TerminalId, Timestamp, TokenId,
};

use super::{json, Fixture, Server};

/// A terminal's own ledger, connected mode, a shift open for Anna; its
/// clock stands in July 2026.
pub fn terminal_ledger(dir: &std::path::Path, id: &str) -> Ledger {
    terminal_ledger_on(
        dir,
        id,
        Arc::new(ManualClock::new(Timestamp(1_784_311_200_000))),
    )
}

/// As [`terminal_ledger`], on `clock` (which the test moves on).
pub fn terminal_ledger_on(dir: &std::path::Path, id: &str, clock: Arc<ManualClock>) -> Ledger {
    ledger_with(
        dir,
        id,
        LedgerOptions::new(TerminalId::new(id).unwrap()).with_clock(clock),
    )
}

/// As [`terminal_ledger`], on the system's clock.
pub fn live_terminal_ledger(dir: &std::path::Path, id: &str) -> Ledger {
    ledger_with(dir, id, LedgerOptions::new(TerminalId::new(id).unwrap()))
}

fn ledger_with(dir: &std::path::Path, id: &str, options: LedgerOptions) -> Ledger {
    let ledger = Ledger::open(
        dir.join(format!("{id}.sqlite")),
        options.with_pin_cost(PinHashCost::Fast),
    )
    .unwrap();
    demo::seed(&ledger, 0).unwrap();
    let mut settings = ledger.settings().unwrap();
    settings.mode = EventMode::Connected;
    ledger.update_settings(&settings).unwrap();
    ledger
        .open_shift(&OpenShiftRequest {
            key: IdempotencyKey::random(),
            staff: StaffId::new("anna").unwrap(),
            float: Cents(0),
        })
        .unwrap();
    ledger
}

pub fn feed(server: &Server, fx: &Fixture, since: i64, limit: u32) -> Value {
    let (status, body) = json(
        server
            .client()
            .get(format!(
                "{}?since={since}&limit={limit}",
                server.url(&fx.event, "pos/wallets")
            ))
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

/// Pulls the whole feed into the terminal's ledger.
pub fn pull(server: &Server, fx: &Fixture, ledger: &Ledger) {
    let data = feed(server, fx, 0, 5000);
    for wallet in data["wallets"].as_array().unwrap() {
        let snapshot = WalletSnapshot {
            token: TokenId::parse(wallet["token_id"].as_str().unwrap()).unwrap(),
            wallet_id: wallet["wallet_id"].as_str().unwrap().into(),
            balance: Cents(wallet["balance"].as_i64().unwrap()),
            promo: Cents::ZERO,
            blocked: wallet["blocked"].as_bool().unwrap(),
            cursor: wallet["cursor"].as_i64().unwrap(),
            deposits: serde_json::from_value(wallet["deposits"].clone()).unwrap(),
        };
        ledger
            .apply_wallet_snapshot(&snapshot, Timestamp(1_784_311_200_000))
            .unwrap();
    }
}

pub fn pending_batch(ledger: &Ledger) -> Vec<BatchEntry> {
    let reader = ledger.reader().unwrap();
    ledger
        .pending_entries(1000)
        .unwrap()
        .into_iter()
        .map(|entry| BatchEntry {
            postings: reader.postings(&entry.id).unwrap(),
            entry,
        })
        .collect()
}

pub fn push(server: &Server, fx: &Fixture, token: &str, entries: &[BatchEntry]) -> (u16, Value) {
    json(
        server
            .client()
            .post(server.url(&fx.event, "pos/transactions/batch"))
            .bearer_auth(token)
            .json(&BatchRequest {
                entries: entries.to_vec(),
            })
            .send()
            .unwrap(),
    )
}

pub fn statuses(body: &Value) -> Vec<String> {
    body["data"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect()
}

/// Anna opens a bill for `cart` at the till.
pub fn open_bill(
    ledger: &Ledger,
    cart: tapster_ledger::pricing::Cart,
) -> tapster_ledger::store::Bill {
    ledger
        .open_bill(&tapster_ledger::store::OpenBillRequest {
            key: IdempotencyKey::random(),
            staff: StaffId::new("anna").unwrap(),
            cart,
            pass: None,
        })
        .unwrap()
}

/// One payment towards a bill, decided by the till (offline).
pub fn pay_bill(
    ledger: &Ledger,
    bill: &tapster_ledger::store::Bill,
    tender: tapster_ledger::model::Tender,
    token: Option<TokenId>,
    cents: i64,
    reference: Option<&str>,
) {
    ledger
        .pay_bill(
            &tapster_ledger::store::BillPaymentRequest {
                key: IdempotencyKey::random(),
                staff: StaffId::new("anna").unwrap(),
                bill: bill.id,
                tender,
                token,
                offered: Cents(cents),
                reference: reference.map(str::to_string),
            },
            tapster_ledger::store::Authorisation::ThisLedger,
        )
        .unwrap();
}

/// Anna sells `products` (demo product, quantity) to demo wristband
/// `wristband`, offline.
pub fn sell(ledger: &Ledger, wristband: u32, products: &[(&str, i64)]) {
    let ids: Vec<(ProductId, i64)> = products
        .iter()
        .map(|(p, q)| (demo::product(p), *q))
        .collect();
    let products: Vec<(&ProductId, i64)> = ids.iter().map(|(p, q)| (p, *q)).collect();
    sell_offline(ledger, wristband, &products).unwrap();
}

/// Anna sells `products` to demo wristband `wristband`, offline: the
/// entry's id, or the ledger's refusal.
pub fn sell_offline(
    ledger: &Ledger,
    wristband: u32,
    products: &[(&ProductId, i64)],
) -> tapster_ledger::Result<tapster_ledger::EntryId> {
    let cart = products.iter().fold(Cart::new(), |c, (p, q)| c.with(p, *q));
    ledger
        .sell(
            &SaleRequest {
                key: IdempotencyKey::random(),
                staff: StaffId::new("anna").unwrap(),
                cart,
                tender: Tender::Wallet,
                token: Some(demo::wristband(wristband)),
                pass: None,
            },
            Authorisation::ThisLedger,
        )
        .map(|recorded| recorded.entry.id)
}
