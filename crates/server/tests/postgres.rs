//! Several `tapster-server` processes on one PostgreSQL database: the money
//! rules hold in the database, not in one process's memory. Runs on a
//! cluster of its own when the suite runs on SQLite.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};

use common::till::{feed, pending_batch, pull, push, sell, statuses, terminal_ledger};
use common::{admin, psql, Fixture, OwnCluster, Server, BIN};
use serde_json::{json, Value};

const WRISTBANDS: [&str; 4] = [
    "04D30000000001",
    "04D30000000002",
    "04D30000000003",
    "04D30000000004",
];
const CLIENTS: usize = 20;
/// Each wristband's balance: enough for about two thirds of the race's
/// debits (10.00 each), so most are applied and the last run dry.
const RACE_BALANCE: i64 = 400_00;
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
                    let send = |to: &Server, fallback: &Server| {
                        debit(to, &fx.event, &fx.bar_token, band, &key).or_else(|| {
                            FELL_OVER.fetch_add(1, Ordering::Relaxed);
                            debit(fallback, &fx.event, &fx.bar_token, band, &key)
                        })
                    };
                    let (answer, twins) = if n % 4 == 2 {
                        // The same request four times at once, two to each
                        // process.
                        let together = Barrier::new(4);
                        std::thread::scope(|s| {
                            let twins: Vec<_> = [other, first, other]
                                .into_iter()
                                .map(|to| {
                                    let together = &together;
                                    let fallback = if std::ptr::eq(to, first) {
                                        other
                                    } else {
                                        first
                                    };
                                    s.spawn(move || {
                                        together.wait();
                                        send(to, fallback)
                                    })
                                })
                                .collect();
                            together.wait();
                            let answer = send(first, other);
                            (
                                answer,
                                twins.into_iter().map(|t| t.join().unwrap()).collect(),
                            )
                        })
                    } else {
                        (send(first, other), Vec::new())
                    };
                    let answer = answer.expect("one of the two servers answers");
                    let status = answer.0;
                    if !twins.is_empty() {
                        // One applies it and the others answer with its
                        // result, or all refuse it alike.
                        let mut all: Vec<u16> = twins.iter().flatten().map(|(s, _)| *s).collect();
                        all.push(status);
                        all.sort();
                        let applied = all.iter().filter(|s| **s == 200).count();
                        assert!(
                            (applied == 1 && all.iter().all(|s| matches!(s, 200 | 202)))
                                || all.iter().all(|s| *s == 402),
                            "{key}: {all:?}"
                        );
                    } else if n % 4 == 0 {
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
        "SELECT idempotency_key, amount FROM transactions
         WHERE kind = 'sale' AND idempotency_key IS NOT NULL AND offline = 0",
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

/// A fresh database on the suite's cluster (or one of its own, kept
/// running while the first value lives) with `wallets` demo wristbands
/// of `balance` cents each.
fn funded_event(wallets: u32, balance: i64) -> (Option<OwnCluster>, Arc<Fixture>) {
    let (own, host, port) = OwnCluster::or_suites();
    let dir = tempfile::tempdir().unwrap();
    let db = common::postgres_database(&host, &port);
    (
        own,
        Arc::new(Fixture::funded(dir, db, wallets, Some(balance))),
    )
}

#[test]
fn two_server_processes_on_one_database_never_overdraw_or_double_book() {
    let (_own, fx) = funded_event(WRISTBANDS.len() as u32, RACE_BALANCE);
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
    let fx = Arc::new(Fixture::funded(
        dir,
        db,
        WRISTBANDS.len() as u32,
        Some(RACE_BALANCE),
    ));
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

#[test]
fn a_sqlite_database_moves_to_postgres_with_its_books_keys_and_chains() {
    let (_own, host, port) = OwnCluster::or_suites();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir
        .path()
        .join("server.sqlite")
        .to_str()
        .unwrap()
        .to_string();
    let fx = Fixture::on(dir, sqlite, WRISTBANDS.len() as u32);
    let server = Server::start(&fx.db);
    let (status, _) = debit(
        &server,
        &fx.event,
        &fx.bar_token,
        WRISTBANDS[0],
        "before-the-move",
    )
    .unwrap();
    assert_eq!(status, 200);
    // A till's offline sales: its hash chain on the server.
    let ledger = terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    sell(&ledger, 2, &[("water", 1)]);
    sell(&ledger, 3, &[("cola", 2)]);
    let (status, body) = push(&server, &fx, &fx.bar_token, &pending_batch(&ledger));
    assert_eq!(
        (status, statuses(&body)),
        (200, vec!["created".to_string(); 2]),
        "{body}"
    );
    let before = balances(&server, &fx);
    drop(server);

    let target = common::postgres_database(&host, &port);
    let from = format!("sqlite:{}", fx.db);
    let moved = admin(&["migrate", "--from", &from, "--to", &target]);
    assert_eq!(moved["verified"], true, "{moved}");
    assert_eq!(
        moved["copied"]["transactions"],
        psql(&target, "SELECT COUNT(*) FROM transactions")
            .trim()
            .parse::<i64>()
            .unwrap()
    );
    // Into a database that already holds events: refused, nothing changed.
    let again = std::process::Command::new(BIN)
        .args(["migrate", "--from", &from, "--to", &target])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds events"));

    // The same event on PostgreSQL: the same balances, a key's answer
    // replayed, and the till's chain goes on where it was.
    let server = Server::start(&target);
    assert_eq!(balances(&server, &fx), before);
    let (status, _) = debit(
        &server,
        &fx.event,
        &fx.bar_token,
        WRISTBANDS[0],
        "before-the-move",
    )
    .unwrap();
    assert_eq!(status, 202, "the key's first answer, from the copy");
    // The till never took in the first answers: it sends those two again,
    // which the copy knows, with a new sale that extends their chain.
    sell(&ledger, 2, &[("water", 1)]);
    let (status, body) = push(&server, &fx, &fx.bar_token, &pending_batch(&ledger));
    assert_eq!(
        (status, statuses(&body)),
        (
            200,
            vec!["exists".into(), "exists".into(), "created".into()]
        ),
        "{body}"
    );
    let (status, _) = debit(
        &server,
        &fx.event,
        &fx.bar_token,
        WRISTBANDS[1],
        "after-the-move",
    )
    .unwrap();
    assert_eq!(status, 200, "new rows take new numbers");
    assert_eq!(admin(&["check", "--db", &target])["ok"], true);
}

#[test]
fn the_wallet_feed_skips_nothing_that_commits_late_across_processes() {
    const BANDS: u32 = 40;
    let (_own, fx) = funded_event(BANDS, 500_00);
    let servers = [
        Arc::new(Server::start(&fx.db)),
        Arc::new(Server::start(&fx.db)),
    ];
    let start = feed(&servers[0], &fx, 0, 5000)["next_cursor"]
        .as_i64()
        .unwrap();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // A till following the feed while debits commit through both processes.
    let follower = {
        let (server, fx, done) = (servers[1].clone(), fx.clone(), done.clone());
        std::thread::spawn(move || {
            let mut seen: BTreeMap<String, i64> = BTreeMap::new();
            let mut since = start;
            let mut last_round = false;
            loop {
                let page = feed(&server, &fx, since, 50);
                for wallet in page["wallets"].as_array().unwrap() {
                    seen.insert(
                        wallet["token_id"].as_str().unwrap().to_string(),
                        wallet["balance"].as_i64().unwrap(),
                    );
                }
                since = page["next_cursor"].as_i64().unwrap();
                if last_round && !page["more"].as_bool().unwrap() {
                    return seen;
                }
                last_round = done.load(Ordering::Relaxed);
            }
        })
    };
    let writers: Vec<_> = (0..8usize)
        .map(|client| {
            let (server, fx) = (servers[client % 2].clone(), fx.clone());
            std::thread::spawn(move || {
                for n in 0..30u32 {
                    let band = tapster_ledger::demo::wristband((client as u32 * 7 + n) % BANDS + 1);
                    let (status, body) = debit(
                        &server,
                        &fx.event,
                        &fx.bar_token,
                        band.as_str(),
                        &format!("feed-{client}-{n}"),
                    )
                    .unwrap();
                    assert_eq!(status, 200, "{body}");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let seen = follower.join().unwrap();
    // Every wallet's last change reached the follower: its view is the
    // final one, wallet by wallet.
    let final_view: BTreeMap<String, i64> = feed(&servers[0], &fx, start, 5000)["wallets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["token_id"].as_str().unwrap().to_string(),
                w["balance"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        final_view.len(),
        BANDS as usize,
        "every wristband was debited"
    );
    assert_eq!(seen, final_view);
}

/// A certificate authority of the test's own and a certificate it issued
/// for `names`: (CA PEM, certificate PEM, key PEM).
fn authority_and_certificate(names: &[&str]) -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Database test CA");
    let ca_certificate = ca.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    let certificate = params
        .signed_by(&key, &rcgen::Issuer::from_params(&ca, &ca_key))
        .unwrap();
    (ca_certificate.pem(), certificate.pem(), key.serialize_pem())
}

/// Server options, one argument of `scripts/postgres.sh reconfigure`.
const SERVER_OPTIONS_FOR_TLS: &str = "-c ssl=on -c listen_addresses='127.0.0.1'";

#[test]
fn over_tcp_the_server_reaches_postgresql_only_over_validated_tls() {
    let own = OwnCluster::start();
    let data = std::path::Path::new(&own.host).join("data");
    let (ca, certificate, key) = authority_and_certificate(&["localhost", "127.0.0.1"]);
    std::fs::write(data.join("server.crt"), certificate).unwrap();
    std::fs::write(data.join("server.key"), key).unwrap();
    for file in ["server.crt", "server.key"] {
        let path = data.join(file);
        let status = std::process::Command::new("chown")
            .arg("postgres")
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let status = std::process::Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/postgres.sh"
    ))
    .args(["reconfigure", &own.host, &port, SERVER_OPTIONS_FOR_TLS])
    .status()
    .unwrap();
    assert!(status.success());
    let name = "tls_check";
    psql(
        &format!(
            "postgres://postgres@/postgres?host={}&port={port}",
            own.host
        ),
        &format!("CREATE DATABASE {name}"),
    );
    let dir = tempfile::tempdir().unwrap();
    let our_ca = dir.path().join("ca.pem");
    std::fs::write(&our_ca, ca).unwrap();
    let url = format!(
        "postgres://postgres@127.0.0.1:{port}/{name}?sslmode=require&sslrootcert={}",
        our_ca.display()
    );
    let event = admin(&["event", "create", "--db", &url, "--name", "Over TLS"]);
    assert!(event["event_id"].as_str().is_some());
    // A server on it: every connection it holds is encrypted.
    let tls_dir = dir.path().join("tls");
    let mut server = std::process::Command::new(BIN)
        .args([
            "serve",
            "--db",
            &url,
            "--listen",
            "127.0.0.1:0",
            "--tls-dir",
        ])
        .arg(&tls_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(line.contains("listening"), "{line}");
    let seen = psql(
        &format!("postgres://postgres@/postgres?host={}&port={port}", own.host),
        &format!(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a
             JOIN pg_stat_ssl s USING (pid) WHERE a.datname = '{name}' AND a.client_addr IS NOT NULL"
        ),
    );
    let _ = server.kill();
    let _ = server.wait();
    let (connections, encrypted) = seen.trim().split_once('|').unwrap();
    assert!(connections.parse::<u32>().unwrap() >= 1, "{seen}");
    assert_eq!(connections, encrypted, "every connection over TLS: {seen}");

    // A certificate from an authority the server does not trust: refused,
    // and no unencrypted fallback.
    let (other_ca, _, _) = authority_and_certificate(&["localhost"]);
    let wrong_ca = dir.path().join("other-ca.pem");
    std::fs::write(&wrong_ca, other_ca).unwrap();
    for sslmode in ["require", "prefer"] {
        let refused = std::process::Command::new(BIN)
            .args(["event", "create", "--name", "No", "--db"])
            .arg(format!(
                "postgres://postgres@127.0.0.1:{port}/{name}?sslmode={sslmode}&sslrootcert={}",
                wrong_ca.display()
            ))
            .output()
            .unwrap();
        assert!(!refused.status.success(), "sslmode={sslmode}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains("certificate") || stderr.contains("UnknownIssuer"),
            "{stderr}"
        );
    }
}

#[test]
fn batches_of_two_tills_through_two_processes_interleave_with_online_debits() {
    let (_own, fx) = funded_event(8, RACE_BALANCE);
    let second = admin(&[
        "terminal",
        "create",
        "--db",
        &fx.db,
        "--event",
        &fx.event,
        "--name",
        "Bar 2",
        "--permission",
        "debit",
    ]);
    let tokens = [
        fx.bar_token.clone(),
        second["api_token"].as_str().unwrap().to_string(),
    ];
    let servers = [
        Arc::new(Server::start(&fx.db)),
        Arc::new(Server::start(&fx.db)),
    ];
    let before = balances(&servers[0], &fx);
    let answers: Answers = Arc::default();
    let racers = race(&servers, &fx, "mixed", &answers);
    // Two tills sell offline to wristbands 5 to 8 and push what they sold,
    // five sales a batch, till i through process i, while the race runs.
    let tills: Vec<_> = ["bar-1", "bar-2"]
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            let (server, fx, token) = (servers[i].clone(), fx.clone(), tokens[i].clone());
            std::thread::spawn(move || {
                let dir = tempfile::tempdir().unwrap();
                let ledger = terminal_ledger(dir.path(), id);
                pull(&server, &fx, &ledger);
                let mut sent = 0;
                let mut last = None;
                for round in 0..4u32 {
                    for n in 0..5u32 {
                        sell(&ledger, 5 + (round + n) % 4, &[("water", 1)]);
                    }
                    let pending = pending_batch(&ledger);
                    let (status, body) = push(&server, &fx, &token, &pending[sent..]);
                    assert_eq!(status, 200, "{body}");
                    assert!(statuses(&body).iter().all(|s| s == "created"), "{body}");
                    sent = pending.len();
                    last = pending
                        .last()
                        .map(|e| (e.entry.sequence, e.entry.hash.clone()));
                }
                (id, last.unwrap())
            })
        })
        .collect();
    for racer in racers {
        racer.join().unwrap();
    }
    let heads: Vec<_> = tills.into_iter().map(|t| t.join().unwrap()).collect();
    let after = balances(&servers[1], &fx);
    assert_books_agree(&fx, &answers, &before, &after);
    // Every till's chain reached the server whole: its head is the till's
    // last entry, and no gap or broken link was noted.
    for (id, (sequence, hash)) in heads {
        let head = psql(
            &fx.db,
            &format!("SELECT last_sequence, last_hash FROM terminals WHERE id = '{id}'"),
        );
        assert_eq!(head.trim(), format!("{sequence}|{hash}"), "{id}");
    }
    assert_eq!(
        psql(&fx.db, "SELECT COUNT(*) FROM terminal_problems").trim(),
        "0"
    );
}

#[test]
fn a_wrong_database_address_or_migrate_source_is_a_clear_error_that_writes_nothing() {
    let (_own, host, port) = OwnCluster::or_suites();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(BIN).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // Not a URL PostgreSQL understands, and a database that is not there.
    let bad_port = format!("postgres://postgres:hunter2@/postgres?host={host}&port=notaport");
    let said = run(&["event", "create", "--db", &bad_port, "--name", "X"]);
    assert!(said.contains("cannot open"), "{said}");
    assert!(!said.contains("hunter2"), "the password stays out: {said}");
    let missing = format!("postgres://postgres@/no_such_db?host={host}&port={port}");
    let said = run(&["event", "create", "--db", &missing, "--name", "X"]);
    assert!(said.contains("no_such_db"), "{said}");
    // migrate: only from SQLite, only from a file that exists, only into PostgreSQL.
    let target = common::postgres_database(&host, &port);
    let said = run(&["migrate", "--from", &target, "--to", &target]);
    assert!(said.contains("--from is a SQLite database"), "{said}");
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("absent.sqlite");
    let said = run(&[
        "migrate",
        "--from",
        absent.to_str().unwrap(),
        "--to",
        &target,
    ]);
    assert!(said.contains("absent.sqlite"), "{said}");
    assert!(!absent.exists(), "no SQLite file made for a missing source");
    let other = dir.path().join("other.sqlite");
    let said = run(&[
        "migrate",
        "--from",
        other.to_str().unwrap(),
        "--to",
        other.to_str().unwrap(),
    ]);
    assert!(said.contains("postgres://"), "{said}");
    assert!(!other.exists(), "no SQLite file made for a wrong target");
    // Nothing was written to the target.
    assert_eq!(psql(&target, "SELECT COUNT(*) FROM events").trim(), "0");
}
