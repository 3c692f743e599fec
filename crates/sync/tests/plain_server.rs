//! A till that syncs with a server of seed 001's PointOfSale API only
//! (`common::pos_double`, a TEST DOUBLE of such third-party servers), and
//! the same scenarios against tapster-server itself: offline sales land
//! exactly once, lost answers never charge twice, what the API cannot take
//! is kept once and shown, a route the server does not have stops the till
//! with an alert instead of a loop, and the grid holds the server's
//! products.

mod common;
// Kept out of `common`, which the app's tests share (they have no axum).
#[path = "common/pos_double.rs"]
mod pos_double;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pos_double::{Faults, PosDouble, PRODUCTS, TOKEN};
use tapster_ledger::model::Tender;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{Authorisation, SaleRequest, TopUpRequest};
use tapster_ledger::{demo, Cents, IdempotencyKey, Ledger, ProductId, StaffId, SystemClock};
use tapster_sync::engine::Progress;
use tapster_sync::{ServerAddress, ServerClient, SyncConfig, Syncer};

const WRISTBANDS: u32 = 20;

fn wallets(balance: i64) -> Vec<(String, i64)> {
    (1..=WRISTBANDS)
        .map(|n| (demo::wristband(n).to_string(), balance))
        .collect()
}

fn plain_syncer(ledger: &Arc<Ledger>, url: &str) -> Syncer {
    let client = ServerClient::new(
        &ServerAddress::new(url, None),
        "unused-by-this-server",
        TOKEN,
        Duration::from_millis(1500),
    )
    .unwrap();
    Syncer::new(
        ledger.clone(),
        client,
        Arc::new(SystemClock),
        common::fast_config(),
    )
}

/// Offline sales of the server's products, `count` of them over the
/// wristbands in turn; returns their keys.
fn sell_offline(ledger: &Ledger, count: u32, prefix: &str) -> Vec<IdempotencyKey> {
    let pils = ProductId::new("17").unwrap();
    let water = ProductId::new("18").unwrap();
    (0..count)
        .map(|n| {
            let key = IdempotencyKey::new(format!("{prefix}-{n}")).unwrap();
            let cart = match n % 3 {
                0 => Cart::new().with(&pils, 1),
                1 => Cart::new().with(&water, 2),
                _ => Cart::new().with(&pils, 1).with(&water, 1),
            };
            ledger
                .sell(
                    &SaleRequest {
                        key: key.clone(),
                        staff: StaffId::new("anna").unwrap(),
                        cart,
                        tender: Tender::Wallet,
                        token: Some(demo::wristband(n % WRISTBANDS + 1)),
                        pass: None,
                    },
                    Authorisation::ThisLedger,
                )
                .unwrap();
            key
        })
        .collect()
}

/// One sale per wristband asked of the server online (a till learns a
/// band's balance when it is tapped; a plain server has no wallet feed).
/// An answer that does not come within the deadline is decided offline,
/// as at a bar. Returns the keys.
async fn sell_online_to_each_band(syncer: &Syncer, prefix: &str) -> Vec<IdempotencyKey> {
    let mut keys = Vec::new();
    for n in 1..=WRISTBANDS {
        let key = IdempotencyKey::new(format!("{prefix}-online-{n}")).unwrap();
        syncer
            .authorise_sale(
                &SaleRequest {
                    key: key.clone(),
                    staff: StaffId::new("anna").unwrap(),
                    cart: Cart::new().with(&ProductId::new("19").unwrap(), 1),
                    tender: Tender::Wallet,
                    token: Some(demo::wristband(n)),
                    pass: None,
                },
                true,
            )
            .await
            .unwrap();
        keys.push(key);
    }
    keys
}

fn top_up_offline(ledger: &Ledger, count: u32) {
    for n in 0..count {
        ledger
            .top_up(
                &TopUpRequest {
                    key: IdempotencyKey::new(format!("top-up-{n}")).unwrap(),
                    staff: StaffId::new("anna").unwrap(),
                    token: demo::wristband(n + 1),
                    amount: Cents(20_00),
                    tender: Tender::Cash,
                },
                Authorisation::ThisLedger,
            )
            .unwrap();
    }
}

/// Rounds until nothing is pending (lost answers fail a round; the next
/// one goes on), with every progress report.
async fn sync_until_settled(syncer: &Syncer, rounds: usize) -> Vec<Progress> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    for _ in 0..rounds {
        let log = seen.clone();
        let result = syncer
            .round(&mut move |p| log.lock().unwrap().push(p))
            .await;
        if result.is_ok() && syncer.ledger().pending_count().unwrap() == 0 {
            break;
        }
    }
    assert_eq!(
        syncer.ledger().pending_count().unwrap(),
        0,
        "settled within {rounds} rounds"
    );
    let seen = seen.lock().unwrap().clone();
    seen
}

/// The ledger's sales per wristband (negative), as the server must have them.
fn sold_per_wallet(ledger: &Ledger) -> std::collections::BTreeMap<String, i64> {
    let conn = rusqlite::Connection::open(ledger.path()).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT e.token_id, SUM(e.amount) FROM entries e
             JOIN entry_sync s ON s.entry_sequence = e.sequence AND s.state = 'acknowledged'
             WHERE e.kind = 'sale' GROUP BY e.token_id",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_sales_land_exactly_once_on_a_plain_server_that_loses_answers() {
    let double = PosDouble::start(
        "/festival/pos-api",
        &wallets(100_00),
        Faults {
            lose_answer_every: 10,
            lose_request_every: 7,
            answer_delay: Duration::from_secs(4),
            other_till_on_lost_answer: 0,
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::terminal_ledger(dir.path(), "bar-west");
    let syncer = plain_syncer(&ledger, &double.url());

    // What it offers, as `tapster-sync probe` reports it.
    let report = tapster_sync::probe(syncer.client()).await;
    assert_eq!(report.error, None);
    assert_eq!(report.dialect, Some("point_of_sale"));
    assert_eq!(report.product_ids, "numbers");
    assert!(report.trailing_slash, "learned from its redirect");
    assert!(!report.honours_idempotency_keys);
    assert_eq!(
        report.api_root,
        format!("http://{}/festival/pos-api", double.address)
    );

    // The first round takes in the server's catalogue: its ids, names and
    // prices on the grid, the demo's products archived.
    sync_until_settled(&syncer, 3).await;
    let till = ledger.terminal().unwrap();
    let grid: Vec<&str> = till.layout.iter().map(ProductId::as_str).collect();
    assert_eq!(grid, ["17", "18", "19"]);
    let reader = ledger.reader().unwrap();
    for (id, name, price) in PRODUCTS {
        let product = reader
            .product(&ProductId::new(id.to_string()).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(
            (product.name.as_str(), product.price),
            (*name, Cents(*price))
        );
    }
    assert!(
        reader.products(false).unwrap().len() == PRODUCTS.len(),
        "only the server's products are on sale"
    );

    // Every band is tapped once online, then the line goes: 45 sales and
    // 3 top-ups offline; then the line comes back.
    let mut keys = sell_online_to_each_band(&syncer, "bar-west").await;
    keys.extend(sell_offline(&ledger, 45, "bar-west"));
    top_up_offline(&ledger, 3);
    let progress = sync_until_settled(&syncer, 40).await;

    assert_eq!(double.double_charges(), 0, "no key booked twice");
    let booked = double.booked_keys();
    println!(
        "plain server: {} sales, {} answers lost after booking, {} requests lost, {} bookings, 0 double",
        keys.len(),
        double.lost_answers(),
        double.lost_requests(),
        booked.len()
    );
    for key in &keys {
        assert_eq!(
            booked.iter().filter(|k| *k == key.as_str()).count(),
            1,
            "{key} booked exactly once"
        );
    }
    // The server's balances are what the till sold, to the cent.
    for (token, sold) in sold_per_wallet(&ledger) {
        assert_eq!(double.balance(&token), 100_00 + sold, "{token}");
    }
    let attention = ledger.reader().unwrap().sync_attention().unwrap();
    assert_eq!(attention.uncertain, 0, "nobody else moved the balances");
    assert_eq!(attention.kept_locally, 3, "the top-ups, once");
    assert_eq!(attention.kept_locally_amount, Cents(60_00));
    assert_eq!(attention.rejected, 0);
    assert_eq!(double.credits_attempted(), 0);
    // Progress never counts past its total.
    assert!(progress.iter().all(|p| p.sent <= p.total), "{progress:?}");

    // Another round sends nothing again.
    let requests = double.requests();
    sync_until_settled(&syncer, 1).await;
    assert_eq!(double.booked_keys().len(), booked.len());
    assert_eq!(
        ledger.reader().unwrap().sync_attention().unwrap(),
        attention,
        "kept-locally entries are counted once, never retried"
    );
    assert!(double.requests() - requests <= 2, "one terminal read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_while_other_tills_move_the_balance_is_uncertain_never_charged_twice() {
    let double = PosDouble::start(
        "/pos",
        &wallets(100_00),
        Faults {
            lose_answer_every: 4,
            lose_request_every: 0,
            answer_delay: Duration::from_secs(4),
            other_till_on_lost_answer: 1_00,
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::terminal_ledger(dir.path(), "bar-east");
    let syncer = plain_syncer(&ledger, &double.url());
    sync_until_settled(&syncer, 3).await;

    // A band the server does not know: its refusal is the answer, clear
    // and final, and nothing is written or booked.
    let entries = common::entry_count(&ledger);
    let refused = syncer
        .authorise_sale(
            &SaleRequest {
                key: IdempotencyKey::new("bar-east-unknown-band").unwrap(),
                staff: StaffId::new("anna").unwrap(),
                cart: Cart::new().with(&ProductId::new("18").unwrap(), 1),
                tender: Tender::Wallet,
                token: Some(demo::wristband(WRISTBANDS + 1)),
                pass: None,
            },
            true,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, tapster_sync::SaleError::Refused { message, .. } if message.contains("not paired")),
        "{refused:?}"
    );
    assert_eq!(common::entry_count(&ledger), entries);
    assert!(ledger
        .plain_delivery(&IdempotencyKey::new("bar-east-unknown-band").unwrap())
        .unwrap()
        .is_none());
    assert!(double.booked_keys().is_empty());

    let mut keys = sell_online_to_each_band(&syncer, "bar-east").await;
    keys.extend(sell_offline(&ledger, 12, "bar-east"));

    // Each time an answer is lost, another till sells to the same band
    // before this one can look (the double does it).
    sync_until_settled(&syncer, 30).await;
    let seen_lost = double.lost_answers();
    assert!(seen_lost >= 2, "answers were lost: {seen_lost}");
    println!(
        "other tills at work: {} sales, {seen_lost} answers lost, {} double",
        keys.len(),
        double.double_charges()
    );

    assert_eq!(double.double_charges(), 0);
    let reader = ledger.reader().unwrap();
    let uncertain = reader.uncertain_entries(100).unwrap();
    assert_eq!(
        uncertain.len(),
        seen_lost,
        "every sale whose answer was lost is listed as uncertain"
    );
    for (entry, reason, _) in &uncertain {
        assert!(reason.contains("other tills"), "{reason}");
        assert_eq!(
            double
                .booked_keys()
                .iter()
                .filter(|k| *k == entry.idempotency_key.as_str())
                .count(),
            1,
            "booked once (the answer was lost after booking)"
        );
    }
    let attention = reader.sync_attention().unwrap();
    assert_eq!(attention.uncertain as usize, seen_lost);
    assert!(attention.uncertain_amount.0 < 0);
    // Every other sale was acknowledged and booked exactly once.
    let booked = double.booked_keys();
    for key in &keys {
        assert_eq!(booked.iter().filter(|k| *k == key.as_str()).count(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_the_server_does_not_have_stops_the_till_with_an_alert_not_a_loop() {
    let double = PosDouble::start("/festival/pos-api", &wallets(10_00), Faults::none()).await;
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::terminal_ledger(dir.path(), "bar-north");
    let wrong = format!("http://{}/festival/api/", double.address);
    let syncer = Arc::new(plain_syncer(&ledger, &wrong));

    let error = syncer.round(&mut |_| {}).await.unwrap_err();
    assert!(error.is_permanent(), "{error}");

    let config = SyncConfig {
        backoff_cap: Duration::from_secs(30),
        ..common::fast_config()
    };
    let syncer = Arc::new(Syncer::new(
        ledger.clone(),
        ServerClient::new(
            &ServerAddress::new(&wrong, None),
            "-",
            TOKEN,
            Duration::from_secs(2),
        )
        .unwrap(),
        Arc::new(SystemClock),
        config,
    ));
    let before = double.requests();
    let handle = tapster_sync::start(syncer, Arc::new(SystemClock));
    let mut status = handle.status.clone();
    let alerted = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            status.changed().await.unwrap();
            if status.borrow().connection == tapster_sync::Connection::Incompatible {
                return status.borrow().clone();
            }
        }
    })
    .await
    .expect("the till says the server refuses it");
    assert!(alerted.last_error.is_some());
    // Sales asking to sync now do not make it ask again.
    for _ in 0..20 {
        handle.sync_now();
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        double.requests() - before <= 2,
        "asked {} times: no retry loop",
        double.requests() - before
    );
    handle.stop().await;

    // The command line stops as well, with an exit code, instead of
    // retrying forever.
    let db = dir.path().join("cli.sqlite");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tapster-sync"))
        .args([
            "run",
            "--db",
            db.to_str().unwrap(),
            "--terminal",
            "cli",
            "--server",
            &wrong,
            "--event",
            "-",
            "--token",
            TOKEN,
            "--until-synced",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("\"permanent\":true"), "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "one try: {stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_scenarios_against_tapster_server() {
    let event = common::Event::new(WRISTBANDS, 100_00);
    let server = common::Server::start(&event.db, 0.0);
    let proxy = common::Proxy::start(&server);
    let (terminal, token) = event.terminal("Bar Süd");
    let dir = tempfile::tempdir().unwrap();
    let ledger = common::terminal_ledger(dir.path(), &terminal);
    let syncer = common::syncer(
        &ledger,
        &proxy.url(),
        &event.id,
        &token,
        common::fast_config(),
    );

    let report = tapster_sync::probe(syncer.client()).await;
    assert_eq!(report.dialect, Some("tapster"));
    assert!(report.honours_idempotency_keys);
    assert_eq!(report.product_ids, "strings");

    // The grid: the server's catalogue and this terminal's layout.
    sync_until_settled(&syncer, 3).await;
    let layout = ledger.terminal().unwrap().layout;
    assert!(!layout.is_empty());
    let reader = ledger.reader().unwrap();
    assert!(layout
        .iter()
        .all(|id| reader.product(id).unwrap().is_some()));

    // Offline sales and top-ups, then a line that loses answers at random.
    let fries = demo::product("fries");
    for n in 0..40u32 {
        ledger
            .sell(
                &SaleRequest {
                    key: IdempotencyKey::new(format!("south-{n}")).unwrap(),
                    staff: StaffId::new("anna").unwrap(),
                    cart: Cart::new().with(&fries, 1),
                    tender: Tender::Wallet,
                    token: Some(demo::wristband(n % WRISTBANDS + 1)),
                    pass: None,
                },
                Authorisation::ThisLedger,
            )
            .unwrap();
    }
    top_up_offline(&ledger, 3);
    proxy.set(common::Fault::Random);
    for _ in 0..10 {
        let _ = syncer.round(&mut |_| {}).await;
    }
    proxy.set(common::Fault::Pass);
    let progress = sync_until_settled(&syncer, 10).await;
    assert!(progress.iter().all(|p| p.sent <= p.total), "{progress:?}");

    // Exactly once: the server has every entry once, top-ups included
    // (it takes them), and nothing is kept locally.
    assert_eq!(event.transactions_of(&terminal), 43);
    let attention = ledger.reader().unwrap().sync_attention().unwrap();
    assert_eq!((attention.kept_locally, attention.uncertain), (0, 0));
    let balances = event.balances();
    for (token, delta) in common::wallet_deltas(&ledger) {
        assert_eq!(balances[&token], 100_00 + delta, "{token}");
    }
    assert!(event.check());

    // A path the server does not have: a permanent refusal, no loop.
    let wrong = common::syncer(
        &ledger,
        &format!(
            "https://{}/not/the/api/#{}",
            server.address, server.fingerprint
        ),
        &event.id,
        &token,
        common::fast_config(),
    );
    let error = wrong.round(&mut |_| {}).await.unwrap_err();
    assert!(error.is_permanent(), "{error}");
}
