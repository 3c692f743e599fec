//! A sync round fails where it hurts most — the server has taken a batch,
//! and recording its answer fails as storage does — and the next round
//! still delivers every entry exactly once. A sale whose local write fails
//! after the server approved it is recorded by the next round. Needs the
//! `failpoints` feature (`cargo test -p tapster-sync --features failpoints`).
#![cfg(feature = "failpoints")]

mod common;

use common::{fast_config, syncer, terminal_ledger, Event, Server};
use tapster_ledger::model::Tender;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{Authorisation, SaleRequest};
use tapster_ledger::{demo, IdempotencyKey, StaffId};

fn sale(wristband: u32) -> SaleRequest {
    SaleRequest {
        key: IdempotencyKey::random(),
        staff: StaffId::new("anna").unwrap(),
        cart: Cart::new().with(&demo::product("fries"), 1),
        tender: Tender::Wallet,
        token: Some(demo::wristband(wristband)),
        pass: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_that_fails_after_the_server_took_the_batch_doubles_nothing() {
    let scenario = fail::FailScenario::setup();
    let event = Event::new(10, 100_00);
    let server = Server::start(&event.db, 0.0);
    let (id, token) = event.terminal("t1");
    let ledger = terminal_ledger(event.dir.path(), &id);
    let url = server.url();
    let syncer = syncer(&ledger, &url, &event.id, &token, fast_config());
    syncer.round(&mut |_| {}).await.unwrap();
    for n in 0..30 {
        ledger
            .sell(&sale(n % 10 + 1), Authorisation::ThisLedger)
            .unwrap();
    }
    for action in ["full", "busy", "io"] {
        fail::cfg("sync::batch::answered", &format!("return({action})")).unwrap();
        assert!(syncer.round(&mut |_| {}).await.is_err(), "{action}");
        fail::remove("sync::batch::answered");
        assert_eq!(ledger.pending_count().unwrap(), 30, "the answer was lost");
    }
    syncer.round(&mut |_| {}).await.unwrap();
    assert_eq!(ledger.pending_count().unwrap(), 0);
    assert_eq!(event.transactions_of(&id), 30, "every sale once");

    // Online: the server approves, the till's write fails (disk full). The
    // guest is told it failed; the next round records what the server did.
    fail::cfg("ledger::operation::before_commit", "return(full)").unwrap();
    let approved_elsewhere = sale(1);
    assert!(syncer
        .authorise_sale(&approved_elsewhere, true)
        .await
        .is_err());
    fail::remove("ledger::operation::before_commit");
    assert_eq!(event.transactions_of(&id), 31, "the server applied it");
    syncer.round(&mut |_| {}).await.unwrap();
    let recorded = ledger.sale_intents().unwrap();
    assert!(recorded.is_empty(), "the interrupted sale was settled");
    // The cashier's screen is told: which band, how much, its entry.
    let settled = syncer.take_interrupted();
    assert_eq!(settled.len(), 1, "{settled:?}");
    assert_eq!(settled[0].key, approved_elsewhere.key);
    assert_eq!(settled[0].token, demo::wristband(1));
    assert_eq!(settled[0].amount, Some(tapster_ledger::Cents(4_00)));
    assert!(settled[0].recorded_as.is_some());
    assert!(syncer.take_interrupted().is_empty(), "told once");
    let balances = event.balances();
    let deltas = common::wallet_deltas(&ledger);
    assert_eq!(
        deltas.values().sum::<i64>(),
        -(31 * 4_00),
        "the till's books hold all 31 sales"
    );
    assert_eq!(balances.values().sum::<i64>(), 10 * 100_00 - 31 * 4_00);
    assert!(event.check());
    scenario.teardown();
}
