//! Sync through real faults: the real server, a proxy that refuses, cuts
//! and breaks off, real terminal ledgers. Every scenario ends with exact
//! books: each entry applied once, balances equal to the sum of entries.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    entry_count, fast_config, rejected_count, syncer, terminal_ledger, wallet_deltas, Event, Fault,
    Proxy, Server,
};
use tapster_ledger::model::Tender;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::SaleRequest;
use tapster_ledger::{demo, IdempotencyKey, StaffId};
use tapster_sync::{Connection, SyncStatus};

const WALLETS: u32 = 50;
const BALANCE: i64 = 200_00;

fn sale(wristband: u32, product: &str) -> SaleRequest {
    SaleRequest {
        key: IdempotencyKey::random(),
        staff: StaffId::new("anna").unwrap(),
        cart: Cart::new().with(&demo::product(product), 1),
        tender: Tender::Wallet,
        token: Some(demo::wristband(wristband)),
        pass: None,
    }
}

async fn wait_for(
    status: &mut tokio::sync::watch::Receiver<SyncStatus>,
    within: Duration,
    what: impl Fn(&SyncStatus) -> bool,
) -> SyncStatus {
    let deadline = Instant::now() + within;
    loop {
        {
            let current = status.borrow_and_update().clone();
            if what(&current) {
                return current;
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "timed out; last status {:?}",
            status.borrow().clone()
        );
        let _ = tokio::time::timeout(left, status.changed()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_terminals_through_a_flaky_network_end_with_exact_books() {
    let event = Event::new(WALLETS, BALANCE);
    let server = Server::start(&event.db, 0.0);
    let proxy = Proxy::start(&server);
    let terminals: Vec<_> = ["t1", "t2", "t3"]
        .iter()
        .map(|name| event.terminal(name))
        .collect();
    let before = event.balances();

    // Each terminal syncs in the background and sells to the same wallets,
    // half the sales asked online first.
    let mut handles = Vec::new();
    let mut ledgers = Vec::new();
    for (id, token) in &terminals {
        let ledger = terminal_ledger(event.dir.path(), id);
        let syncer = syncer(&ledger, &proxy.url(), &event.id, token, fast_config());
        // A first clean round fills the offline balance cache.
        syncer.round(&mut |_| {}).await.unwrap();
        handles.push(tapster_sync::start(
            syncer.clone(),
            Arc::new(tapster_ledger::SystemClock),
        ));
        ledgers.push((ledger, syncer));
    }
    proxy.set(Fault::Random);
    let sellers: Vec<_> = ledgers
        .iter()
        .enumerate()
        .map(|(t, (_, syncer))| {
            let syncer = syncer.clone();
            tokio::spawn(async move {
                let mut sold = 0;
                for n in 0..40u32 {
                    let wristband = (n * 7 + t as u32 * 13) % WALLETS + 1;
                    let product = ["water", "bratwurst", "fries"][(n % 3) as usize];
                    if syncer
                        .authorise_sale(&sale(wristband, product), n % 2 == 0)
                        .await
                        .is_ok()
                    {
                        sold += 1;
                    }
                }
                sold
            })
        })
        .collect();
    let mut sold = 0;
    for seller in sellers {
        sold += seller.await.unwrap();
    }
    assert!(
        sold >= 100,
        "most sales go through, online or offline: {sold}"
    );

    // Heal, then wait until every terminal has delivered everything.
    proxy.set(Fault::Pass);
    for handle in &handles {
        handle.sync_now();
        let mut status = handle.status.clone();
        wait_for(&mut status, Duration::from_secs(60), |s| {
            s.pending == 0 && s.connection == Connection::Online
        })
        .await;
    }
    for handle in handles {
        handle.stop().await;
    }

    // Exact books: every entry once, balances equal the sum of all entries.
    let after = event.balances();
    let mut expected = before.clone();
    for (ledger, _) in &ledgers {
        assert_eq!(rejected_count(ledger), 0, "nothing refused");
        for (token, delta) in wallet_deltas(ledger) {
            *expected.get_mut(&token).unwrap() += delta;
        }
    }
    assert_eq!(
        after, expected,
        "the server's balances are the sum of all terminals' entries"
    );
    for ((id, _), (ledger, _)) in terminals.iter().zip(&ledgers) {
        // The demo seed has no entries on a terminal ledger: every entry is a sale.
        assert_eq!(
            event.transactions_of(id),
            entry_count(ledger),
            "terminal {id}: none missing, none twice"
        );
    }
    assert!(event.check());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_overdrafts_are_recorded_and_block_the_wallet_everywhere() {
    let event = Event::new(3, 10_00);
    let server = Server::start(&event.db, 0.0);
    let proxy = Proxy::start(&server);
    let (a_id, a_token) = event.terminal("a");
    let (b_id, b_token) = event.terminal("b");
    let a = terminal_ledger(event.dir.path(), &a_id);
    let b = terminal_ledger(event.dir.path(), &b_id);
    let sync_a = syncer(&a, &proxy.url(), &event.id, &a_token, fast_config());
    let sync_b = syncer(&b, &proxy.url(), &event.id, &b_token, fast_config());
    sync_a.round(&mut |_| {}).await.unwrap();
    sync_b.round(&mut |_| {}).await.unwrap();

    // The server goes away; both bars sell 9.00 to a wallet holding 10.00.
    proxy.set(Fault::Refuse);
    for syncer in [&sync_a, &sync_b] {
        syncer
            .authorise_sale(&sale(1, "bratwurst"), true)
            .await
            .unwrap(); // 4.50
        syncer
            .authorise_sale(&sale(1, "fries"), true)
            .await
            .unwrap(); // 4.00
    }
    assert!(
        sync_a.round(&mut |_| {}).await.is_err(),
        "the server is away"
    );

    proxy.set(Fault::Pass);
    let handle_a = tapster_sync::start(sync_a.clone(), Arc::new(tapster_ledger::SystemClock));
    let handle_b = tapster_sync::start(sync_b.clone(), Arc::new(tapster_ledger::SystemClock));
    for handle in [&handle_a, &handle_b] {
        let mut status = handle.status.clone();
        wait_for(&mut status, Duration::from_secs(30), |s| {
            s.pending == 0 && s.connection == Connection::Online
        })
        .await;
    }
    let balance = event.balances()[demo::wristband(1).as_str()];
    assert_eq!(
        balance,
        10_00 - 2 * 8_50,
        "both offline debits were accepted"
    );
    // Within a sync interval both terminals see the wallet blocked.
    tokio::time::sleep(Duration::from_millis(600)).await;
    for ledger in [&a, &b] {
        let wallet = ledger.wallet(&demo::wristband(1)).unwrap().unwrap();
        assert!(wallet.blocked, "blocked on every terminal");
        assert!(ledger
            .sell(
                &sale(1, "water"),
                tapster_ledger::store::Authorisation::ThisLedger
            )
            .is_err());
    }
    // The manager's conflict report lists it.
    let conflicts = server
        .client()
        .get(format!(
            "{}/api/v1/events/{}/manage/conflicts",
            server.base(),
            event.id
        ))
        .bearer_auth(&event.admin_token)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(
        conflicts["data"]["overdrawn_wallets"][0]["token_id"],
        demo::wristband(1).as_str()
    );
    handle_a.stop().await;
    handle_b.stop().await;
    assert!(event.check());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_waits_as_the_servers_retry_after_says() {
    let event = Event::new(2, BALANCE);
    // Half a request per second per endpoint: the second round is refused.
    let server = Server::start(&event.db, 0.5);
    let (id, token) = event.terminal("t1");
    let ledger = terminal_ledger(event.dir.path(), &id);
    let mut config = fast_config();
    config.interval = Duration::from_millis(10);
    let syncer = syncer(&ledger, &server.url(), &event.id, &token, config);
    let handle = tapster_sync::start(syncer, Arc::new(tapster_ledger::SystemClock));
    let mut status = handle.status.clone();
    let limited = wait_for(&mut status, Duration::from_secs(10), |s| {
        s.last_error
            .as_deref()
            .is_some_and(|e| e.contains("asks to wait"))
    })
    .await;
    let refused_at = Instant::now();
    assert_eq!(limited.connection, Connection::Degraded);
    let retry_after: u64 = limited
        .last_error
        .unwrap()
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap();
    assert!(retry_after >= 1);
    // The next round comes no sooner than the server said.
    wait_for(&mut status, Duration::from_secs(15), |s| {
        s.connection == Connection::Online
    })
    .await;
    assert!(
        refused_at.elapsed() >= Duration::from_secs(retry_after),
        "waited {:?}",
        refused_at.elapsed()
    );
    handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_stops_the_client_from_retrying() {
    let event = Event::new(1, BALANCE);
    let server = Server::start(&event.db, 0.0);
    let proxy = Proxy::start(&server);
    let (id, _) = event.terminal("t1");
    let ledger = terminal_ledger(event.dir.path(), &id);
    let syncer = syncer(
        &ledger,
        &proxy.url(),
        &event.id,
        "not-the-token",
        fast_config(),
    );
    let handle = tapster_sync::start(syncer, Arc::new(tapster_ledger::SystemClock));
    let mut status = handle.status.clone();
    let failed = wait_for(&mut status, Duration::from_secs(10), |s| {
        s.connection == Connection::AuthFailed
    })
    .await;
    assert!(failed.last_error.unwrap().contains("token"));
    let connections = proxy.connections.load(std::sync::atomic::Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        proxy.connections.load(std::sync::atomic::Ordering::Relaxed),
        connections,
        "no request after the server refused the token"
    );
    assert_eq!(handle.status.borrow().connection, Connection::AuthFailed);
    handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_whose_online_answer_was_lost_is_not_applied_twice() {
    let event = Event::new(2, BALANCE);
    let server = Server::start(&event.db, 0.0);
    let proxy = Proxy::start(&server);
    let (id, token) = event.terminal("t1");
    let ledger = terminal_ledger(event.dir.path(), &id);
    let syncer = syncer(&ledger, &proxy.url(), &event.id, &token, fast_config());
    syncer.round(&mut |_| {}).await.unwrap();
    // The server applies the online sale; its answer never arrives.
    proxy.set(Fault::CutAnswers);
    let recorded = syncer
        .authorise_sale(&sale(1, "water"), true)
        .await
        .unwrap();
    assert!(
        recorded.entry.offline,
        "decided offline after the lost answer"
    );
    proxy.set(Fault::Pass);
    syncer.round(&mut |_| {}).await.unwrap();
    assert_eq!(ledger.pending_count().unwrap(), 0);
    assert_eq!(rejected_count(&ledger), 0, "recognised as the same sale");
    assert_eq!(event.transactions_of(&id), 1, "applied once");
    assert_eq!(
        event.balances()[demo::wristband(1).as_str()],
        BALANCE - 4_50
    );
    // And the terminal's balance cache agrees.
    assert_eq!(
        ledger
            .wallet(&demo::wristband(1))
            .unwrap()
            .unwrap()
            .available
            .0,
        BALANCE - 4_50
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_by_the_server_is_final_and_nothing_is_recorded() {
    let event = Event::new(5, 3_00);
    let server = Server::start(&event.db, 0.0);
    let (id, token) = event.terminal("t1");
    let ledger = terminal_ledger(event.dir.path(), &id);
    let syncer = syncer(&ledger, &server.url(), &event.id, &token, fast_config());
    syncer.round(&mut |_| {}).await.unwrap();
    let error = syncer
        .authorise_sale(&sale(1, "spritz"), true)
        .await
        .unwrap_err();
    assert!(
        matches!(error, tapster_sync::SaleError::Refused { ref code, .. } if code == "insufficient_funds"),
        "{error:?}"
    );
    assert_eq!(entry_count(&ledger), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_undelivered_for_too_long_raises_the_stuck_alert_and_is_kept() {
    let event = Event::new(2, BALANCE);
    let server = Server::start(&event.db, 0.0);
    let proxy = Proxy::start(&server);
    let (id, token) = event.terminal("t1");
    let ledger = terminal_ledger(event.dir.path(), &id);
    let mut config = fast_config();
    config.stuck_after = Duration::from_secs(1);
    let syncer = syncer(&ledger, &proxy.url(), &event.id, &token, config);
    syncer.round(&mut |_| {}).await.unwrap();
    proxy.set(Fault::Refuse);
    syncer
        .authorise_sale(&sale(1, "water"), true)
        .await
        .unwrap();
    let handle = tapster_sync::start(syncer, Arc::new(tapster_ledger::SystemClock));
    let mut status = handle.status.clone();
    let stuck = wait_for(&mut status, Duration::from_secs(10), |s| s.stuck).await;
    assert_eq!(stuck.pending, 1);
    assert!(stuck.oldest_pending_secs.unwrap() >= 1);
    assert!(matches!(
        stuck.connection,
        Connection::Offline | Connection::Degraded
    ));
    // The network comes back: the entry is delivered and the alert clears.
    proxy.set(Fault::Pass);
    handle.sync_now();
    let cleared = wait_for(&mut status, Duration::from_secs(10), |s| {
        !s.stuck && s.pending == 0
    })
    .await;
    assert_eq!(cleared.connection, Connection::Online);
    handle.stop().await;
    assert_eq!(event.transactions_of(&id), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_the_terminal_could_not_record_is_never_sent_to_the_server() {
    let event = Event::new(2, BALANCE);
    let server = Server::start(&event.db, 0.0);
    let (id, token) = event.terminal("t1");
    let ledger = terminal_ledger(event.dir.path(), &id);
    let syncer = syncer(&ledger, &server.url(), &event.id, &token, fast_config());
    syncer.round(&mut |_| {}).await.unwrap();
    ledger
        .close_shift(&tapster_ledger::store::CloseShiftRequest {
            key: IdempotencyKey::random(),
            staff: StaffId::new("anna").unwrap(),
            counted: tapster_ledger::Cents(0),
        })
        .unwrap();
    let error = syncer
        .authorise_sale(&sale(1, "water"), true)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            tapster_sync::SaleError::Ledger(tapster_ledger::LedgerError::NoOpenShift)
        ),
        "{error:?}"
    );
    assert_eq!(event.transactions_of(&id), 0, "the server was not charged");
    assert_eq!(event.balances()[demo::wristband(1).as_str()], BALANCE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_approved_online_reach_the_servers_ledger_copy_and_can_be_cancelled() {
    let event = Event::new(2, BALANCE);
    let server = Server::start(&event.db, 0.0);
    let (id, token) = event.terminal("t1");
    let ledger = terminal_ledger(event.dir.path(), &id);
    let syncer = syncer(&ledger, &server.url(), &event.id, &token, fast_config());
    syncer.round(&mut |_| {}).await.unwrap();
    let online = syncer
        .authorise_sale(&sale(1, "bratwurst"), true)
        .await
        .unwrap();
    assert!(!online.entry.offline, "approved by the server");
    syncer
        .authorise_sale(&sale(2, "fries"), true)
        .await
        .unwrap();
    ledger
        .cancel(
            &tapster_ledger::store::CancelRequest {
                key: IdempotencyKey::random(),
                staff: StaffId::new("anna").unwrap(),
                entry: online.entry.id,
            },
            tapster_ledger::store::Authorisation::ThisLedger,
        )
        .unwrap_err(); // only the last sale may be cancelled by a cashier
    ledger
        .cancel(
            &tapster_ledger::store::CancelRequest {
                key: IdempotencyKey::random(),
                staff: StaffId::new("sue").unwrap(),
                entry: online.entry.id,
            },
            tapster_ledger::store::Authorisation::ThisLedger,
        )
        .unwrap();
    syncer.round(&mut |_| {}).await.unwrap();
    assert_eq!(
        rejected_count(&ledger),
        0,
        "the cancellation found its sale on the server"
    );
    assert_eq!(
        event.balances()[demo::wristband(1).as_str()],
        BALANCE,
        "refunded on the server"
    );
    assert_eq!(
        event.balances()[demo::wristband(2).as_str()],
        BALANCE - 4_00
    );
    let conn = rusqlite::Connection::open(&event.db).unwrap();
    let (last, problems): (i64, i64) = conn
        .query_row(
            "SELECT last_sequence, (SELECT COUNT(*) FROM terminal_problems) FROM terminals WHERE id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (last, problems),
        (entry_count(&ledger), 0),
        "the server follows the whole chain, without gaps"
    );
    assert_eq!(
        event.transactions_of(&id),
        3,
        "two sales and a cancellation, none twice"
    );
}

/// A server gone (nothing listens: no connection can be made) and back:
/// the till notices the moment its address takes connections again and
/// syncs then, not when its backoff, here ten minutes, runs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_till_syncs_the_moment_the_server_takes_connections_again() {
    let event = Event::new(2, BALANCE);
    let server = Server::start(&event.db, 0.0);
    let address = server.address.clone();
    let (id, token) = event.terminal("t1");
    let ledger = terminal_ledger(event.dir.path(), &id);
    let mut config = fast_config();
    config.backoff_base = Duration::from_secs(600);
    config.backoff_cap = Duration::from_secs(600);
    config.reconnect_probe = Duration::from_millis(500);
    let syncer = syncer(&ledger, &server.url(), &event.id, &token, config);
    let handle = tapster_sync::start(syncer, Arc::new(tapster_ledger::SystemClock));
    let mut status = handle.status.clone();
    wait_for(&mut status, Duration::from_secs(10), |s| {
        s.connection == Connection::Online
    })
    .await;

    server.kill();
    ledger
        .sell(
            &sale(1, "beer"),
            tapster_ledger::store::Authorisation::ThisLedger,
        )
        .unwrap();
    handle.sync_now();
    let failed = wait_for(&mut status, Duration::from_secs(10), |s| {
        s.failures_in_a_row > 0
    })
    .await;
    assert_eq!(failed.pending, 1, "{failed:?}");
    assert!(
        failed
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("cannot be reached")),
        "{failed:?}"
    );

    // Back on the same address, a while later.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _server = Server::start_on(&event.db, 0.0, &address);
    let back = Instant::now();
    let synced = wait_for(&mut status, Duration::from_secs(20), |s| {
        s.connection == Connection::Online && s.pending == 0
    })
    .await;
    assert_eq!(synced.failures_in_a_row, 0);
    assert!(back.elapsed() < Duration::from_secs(20));
    let band = demo::wristband(1).to_string();
    assert_eq!(
        event.balances().get(&band).copied(),
        Some(BALANCE - 7_00),
        "the sale (a beer and its cup) reached the server once"
    );
    handle.stop().await;
}
