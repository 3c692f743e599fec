//! Several `tapster-server` processes on one PostgreSQL database: the money
//! rules hold in the database, not in one process's memory. Runs on a
//! cluster of its own when the suite runs on SQLite.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};

use common::{admin, psql, Fixture, OwnCluster, Server};
use serde_json::{json, Value};

const WRISTBANDS: [&str; 4] = [
    "04D30000000001",
    "04D30000000002",
    "04D30000000003",
    "04D30000000004",
];
const CLIENTS: usize = 20;
const DEBITS_PER_CLIENT: usize = 12;

/// A debit request's answer: status and body, or `None` when the server
/// could not be reached (killed).
fn debit(
    server: &Server,
    event: &str,
    token: &str,
    wristband: &str,
    key: &str,
) -> Option<(u16, Value)> {
    let response = server
        .client()
        .post(server.url(
            event,
            &format!("pos/wallets/token/{wristband}/transactions"),
        ))
        .bearer_auth(token)
        .json(&json!({"products": ["cola", "water"], "idempotency_key": key}))
        .send()
        .ok()?;
    Some(common::json(response))
}

fn balances(server: &Server, fx: &Fixture) -> BTreeMap<&'static str, i64> {
    WRISTBANDS
        .iter()
        .map(|band| {
            let (status, body) = common::json(
                server
                    .client()
                    .get(server.url(&fx.event, &format!("pos/wallets/token/{band}")))
                    .bearer_auth(&fx.bar_token)
                    .send()
                    .unwrap(),
            );
            assert_eq!(status, 200, "{body}");
            (*band, body["data"]["balance"].as_i64().unwrap())
        })
        .collect()
}

/// What the clients saw: each key's final answer.
type Answers = Arc<Mutex<BTreeMap<String, u16>>>;

/// Requests that found their server gone and went to the other one.
static FELL_OVER: AtomicUsize = AtomicUsize::new(0);

/// `CLIENTS` threads racing debits on the same wristbands, client `i`
/// through server `i % 2`; every other request is sent again with the same
/// key to the other process. A server that cannot be reached is retried
/// on the other one with the same key, as a till behind a load balancer.
fn race(
    servers: &[Arc<Server>; 2],
    fx: &Arc<Fixture>,
    round: &str,
    answers: &Answers,
) -> Vec<std::thread::JoinHandle<()>> {
    let barrier = Arc::new(Barrier::new(CLIENTS));
    (0..CLIENTS)
        .map(|client| {
            let (servers, fx, barrier, answers) = (
                servers.clone(),
                fx.clone(),
                barrier.clone(),
                answers.clone(),
            );
            let round = round.to_string();
            std::thread::spawn(move || {
                barrier.wait();
                for n in 0..DEBITS_PER_CLIENT {
                    let key = format!("{round}-{client}-{n}");
                    let band = WRISTBANDS[(client + n) % WRISTBANDS.len()];
                    let first = &servers[client % 2];
                    let other = &servers[(client + 1) % 2];
                    let answer = debit(first, &fx.event, &fx.bar_token, band, &key)
                        .or_else(|| {
                            FELL_OVER.fetch_add(1, Ordering::Relaxed);
                            debit(other, &fx.event, &fx.bar_token, band, &key)
                        })
                        .expect("one of the two servers answers");
                    let status = answer.0;
                    if n % 2 == 0 {
                        if let Some((again, body)) =
                            debit(other, &fx.event, &fx.bar_token, band, &key)
                        {
                            // The same decision from the other process.
                            match status {
                                200 | 202 => assert_eq!(again, 202, "{key}: {body}"),
                                refused => assert_eq!(again, refused, "{key}: {body}"),
                            }
                        }
                    }
                    assert!(
                        matches!(status, 200 | 202 | 402),
                        "{key}: {status} {}",
                        answer.1
                    );
                    answers.lock().unwrap().insert(key, status);
                }
            })
        })
        .collect()
}

/// No overdraft, no double debit, balances equal the sums of their
/// transactions, and every accepted key booked exactly once.
fn assert_books_agree(
    fx: &Fixture,
    answers: &Answers,
    before: &BTreeMap<&str, i64>,
    after: &BTreeMap<&str, i64>,
) {
    for (band, balance) in after {
        assert!(*balance >= 0, "{band} overdrawn: {balance}");
    }
    let check = admin(&["check", "--db", &fx.db]);
    assert_eq!(check["ok"], true, "{check}");
    let doubled = psql(
        &fx.db,
        "SELECT idempotency_key FROM transactions WHERE idempotency_key IS NOT NULL
         GROUP BY event_id, terminal_id, idempotency_key HAVING COUNT(*) > 1",
    );
    assert_eq!(doubled.trim(), "", "keys booked twice");
    let answers = answers.lock().unwrap();
    let accepted: Vec<&String> = answers
        .iter()
        .filter(|(_, status)| matches!(status, 200 | 202))
        .map(|(key, _)| key)
        .collect();
    let booked: BTreeMap<String, i64> = psql(
        &fx.db,
        "SELECT idempotency_key, amount FROM transactions WHERE kind = 'sale' AND idempotency_key IS NOT NULL",
    )
    .lines()
    .map(|line| {
        let (key, amount) = line.split_once('|').unwrap();
        (key.to_string(), amount.parse().unwrap())
    })
    .collect();
    let accepted_keys: Vec<&String> = accepted.clone();
    let booked_keys: Vec<&String> = booked.keys().collect();
    assert_eq!(
        booked_keys, accepted_keys,
        "what was booked is what clients were told"
    );
    let spent: i64 = before.values().sum::<i64>() - after.values().sum::<i64>();
    assert_eq!(
        spent,
        -booked.values().sum::<i64>(),
        "the balances moved by the bookings"
    );
    assert!(
        answers.values().any(|s| *s == 402),
        "the race ran the wallets dry (else it proves no overdraft)"
    );
}

#[test]
fn two_server_processes_on_one_database_never_overdraw_or_double_book() {
    let (_own, host, port) = OwnCluster::or_suites();
    let dir = tempfile::tempdir().unwrap();
    let db = common::postgres_database(&host, &port);
    let fx = Arc::new(Fixture::on(dir, db, WRISTBANDS.len() as u32));
    let servers = [
        Arc::new(Server::start(&fx.db)),
        Arc::new(Server::start(&fx.db)),
    ];
    let before = balances(&servers[0], &fx);
    let answers: Answers = Arc::default();
    for handle in race(&servers, &fx, "race", &answers) {
        handle.join().unwrap();
    }
    let after = balances(&servers[1], &fx);
    assert_books_agree(&fx, &answers, &before, &after);
}

#[test]
fn a_killed_process_and_a_restarted_database_lose_nothing_and_double_nothing() {
    // A cluster of its own: it is restarted below.
    let own = OwnCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let db = common::postgres_database(&own.host, &own.port);
    let fx = Arc::new(Fixture::on(dir, db, WRISTBANDS.len() as u32));
    let survivor = Arc::new(Server::start(&fx.db));
    let victim = Arc::new(Server::start(&fx.db));
    let before = balances(&survivor, &fx);
    let answers: Answers = Arc::default();
    let handles = race(&[survivor.clone(), victim.clone()], &fx, "kill", &answers);
    // Mid-race: SIGKILL one process; its clients carry on at the other.
    std::thread::sleep(std::time::Duration::from_millis(300));
    victim.kill_now();
    for handle in handles {
        handle.join().unwrap();
    }
    assert!(
        FELL_OVER.load(Ordering::Relaxed) > 0,
        "the process was killed mid-race"
    );
    let after = balances(&survivor, &fx);
    assert_books_agree(&fx, &answers, &before, &after);

    // The database restarted under load: clients see errors worth retrying
    // (never a wrong answer), then the same server carries on.
    OwnCluster::restart(&own.host);
    let mut recovered = false;
    for attempt in 0..50 {
        match debit(
            &survivor,
            &fx.event,
            &fx.topup_token,
            WRISTBANDS[0],
            "after-restart",
        ) {
            Some((status, _)) if status == 503 || status == 500 => {
                std::thread::sleep(std::time::Duration::from_millis(100 * (attempt + 1)));
            }
            Some((status, body)) => {
                // The credit terminal may not debit: a clear refusal, from
                // a server that reads the database again.
                assert_eq!(status, 403, "{body}");
                recovered = true;
                break;
            }
            None => panic!("the server died with its database"),
        }
    }
    assert!(
        recovered,
        "the server did not recover after PostgreSQL restarted"
    );
    let (status, _) = debit(
        &survivor,
        &fx.event,
        &fx.bar_token,
        WRISTBANDS[1],
        "after-restart-2",
    )
    .unwrap();
    assert!(matches!(status, 200 | 402), "{status}");
}
