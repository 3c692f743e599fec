//! A festival night, simulated: the real server and 20 till processes
//! (16 bars selling by wristband, 4 top-up booths) for 5,000 wallets, each
//! till with its own ledger and its own line to the server, at bar rates,
//! while the line to five bars is cut for a quarter of the night. At the end every ledger
//! and the server agree to the cent.
//!
//! `TAPSTER_FESTIVAL_SECONDS` sets the length (default 30 s). The figures
//! it prints are in BENCHMARKS.md (run in release for those:
//! `cargo test --release -p tapster-e2e --test festival_night -- --nocapture`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tapster_e2e::binaries;
use tapster_e2e::server::{till_args, wallet_deltas_in, Event, Fault, Proxy, Server};

const BARS: usize = 16;
const BOOTHS: usize = 4;
const CUT: usize = 5;
const WALLETS: u32 = 5_000;
const BALANCE: i64 = 30_00;

fn sql_count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Entries of a ledger the server has not decided yet.
fn pending(ledger: &Path) -> i64 {
    sql_count(
        ledger,
        "SELECT COUNT(*) FROM entries e LEFT JOIN entry_sync s ON s.entry_sequence = e.sequence
         WHERE e.sequence > (SELECT decided_through FROM sync_progress WHERE id = 1)
           AND s.state IS NULL",
    )
}

/// The last entry of a ledger now.
fn last_sequence(ledger: &Path) -> i64 {
    sql_count(ledger, "SELECT COALESCE(MAX(sequence), 0) FROM entries")
}

/// Entries up to `through` the server has not decided yet.
fn undecided_through(ledger: &Path, through: i64) -> i64 {
    sql_count(
        ledger,
        &format!(
            "SELECT COUNT(*) FROM entries e LEFT JOIN entry_sync s ON s.entry_sequence = e.sequence
             WHERE e.sequence <= {through}
               AND e.sequence > (SELECT decided_through FROM sync_progress WHERE id = 1)
               AND s.state IS NULL"
        ),
    )
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn a_festival_night_with_cut_lines_ends_with_every_ledger_and_the_server_agreeing() {
    let seconds: u64 = std::env::var("TAPSTER_FESTIVAL_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let event = Event::new(WALLETS, BALANCE);
    let server = Server::start(&event.db, 0.0);
    let url_of = |proxy: &Proxy| proxy.url();

    // Each till: its terminal, its line (a proxy that can be cut), its
    // ledger, which learns the balances in a first round.
    let mut tills = Vec::new();
    for n in 0..BARS + BOOTHS {
        let (id, token) = event.terminal(&format!("till-{n}"));
        let proxy = Proxy::start(&server);
        let ledger = event.dir.path().join(format!("{id}.sqlite"));
        let status = Command::new(binaries::till())
            .args(till_args(
                "run",
                &ledger,
                &id,
                &url_of(&proxy),
                &event.id,
                &token,
                &[],
            ))
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        tills.push((id, token, proxy, ledger));
    }

    let started = Instant::now();
    let mut drivers = Vec::new();
    for (n, (id, token, proxy, ledger)) in tills.iter().enumerate() {
        let booth = n >= BARS;
        let prefix = format!("n{n}");
        let wallets = WALLETS.to_string();
        let seconds_arg = seconds.to_string();
        let mut args = till_args(
            "drive",
            ledger,
            id,
            &url_of(proxy),
            &event.id,
            token,
            &[
                "--prefix",
                &prefix,
                "--wristbands",
                &wallets,
                "--random",
                "--seconds",
                &seconds_arg,
            ],
        );
        // A bar serves a guest every 0.3 s on average, a booth one every 1 s.
        args.extend(["--pace-ms".into(), if booth { "500" } else { "150" }.into()]);
        if booth {
            args.push("--top-ups".into());
        }
        let mut child = Command::new(binaries::till())
            .args(&args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<String>>()
        });
        drivers.push((child, lines, booth));
    }

    // A quarter of the way in, the line to five bars goes down; at half
    // time it comes back. How long until their backlog is on the server?
    std::thread::sleep(Duration::from_secs(seconds / 4));
    for (_, _, proxy, _) in &tills[..CUT] {
        proxy.set(Fault::Refuse);
    }
    std::thread::sleep(Duration::from_secs(seconds / 4));
    for (_, _, proxy, _) in &tills[..CUT] {
        proxy.set(Fault::Pass);
    }
    let restored = Instant::now();
    // The backlog: what the cut bars sold offline, up to now. Caught up
    // when all of it is decided by the server (the bars go on selling).
    let marks: Vec<i64> = tills[..CUT].iter().map(|t| last_sequence(&t.3)).collect();
    let backlog: i64 = tills[..CUT].iter().map(|t| pending(&t.3)).sum();
    let mut catch_up = None;
    while started.elapsed() < Duration::from_secs(seconds) {
        if tills[..CUT]
            .iter()
            .zip(&marks)
            .all(|(t, mark)| undecided_through(&t.3, *mark) == 0)
        {
            catch_up = Some(restored.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }

    let mut online = Vec::new();
    let mut offline = Vec::new();
    let (mut sales, mut top_ups, mut declined) = (0usize, 0usize, 0usize);
    for (mut child, lines, booth) in drivers {
        assert!(child.wait().unwrap().success(), "a till failed");
        for line in lines.join().unwrap() {
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            if value.get("declined").is_some() {
                declined += 1;
                continue;
            }
            assert!(value.get("confirmed").is_some(), "{line}");
            if booth {
                top_ups += 1;
                continue;
            }
            sales += 1;
            let micros = value["micros"].as_u64().unwrap();
            if value["offline"] == true {
                offline.push(micros);
            } else {
                online.push(micros);
            }
        }
    }
    let night = started.elapsed();

    // Last orders: every till pushes what it has left.
    for (id, token, proxy, ledger) in &tills {
        let status = Command::new(binaries::till())
            .args(till_args(
                "run",
                ledger,
                id,
                &url_of(proxy),
                &event.id,
                token,
                &["--until-synced"],
            ))
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "{id} could not finish its sync");
        assert_eq!(pending(ledger), 0, "{id}");
    }

    // Every ledger and the server agree to the cent: each wallet's balance
    // on the server is its start plus what every till's accepted entries
    // did to it; every till's accepted entries are on the server, once.
    let mut deltas = BTreeMap::new();
    let mut accepted = 0;
    for (id, _, _, ledger) in &tills {
        for (token, delta) in wallet_deltas_in(ledger) {
            *deltas.entry(token).or_default() += delta;
        }
        let in_ledger = sql_count(
            ledger,
            "SELECT COUNT(*) FROM entries e LEFT JOIN entry_sync s ON s.entry_sequence = e.sequence
             WHERE e.token_id IS NOT NULL AND (s.state IS NULL OR s.state <> 'rejected')",
        );
        assert_eq!(
            event.transactions_of(id),
            in_ledger,
            "{id}: ledger and server"
        );
        accepted += in_ledger;
    }
    let balances = event.balances();
    let mut differences = 0;
    for (token, balance) in &balances {
        let expected = BALANCE + deltas.get(token).copied().unwrap_or(0);
        if *balance != expected {
            differences += 1;
            eprintln!("{token}: server {balance}, tills {expected}");
        }
    }
    assert_eq!(
        differences, 0,
        "wallets where the server and the tills disagree"
    );
    assert!(event.check(), "tapster-server check is clean");
    assert!(
        sales > 0 && top_ups > 0 && !offline.is_empty(),
        "the night happened"
    );

    online.sort_unstable();
    offline.sort_unstable();
    eprintln!(
        "festival night: {seconds} s, {} tills ({BARS} bars, {BOOTHS} booths), {WALLETS} wallets\n\
         sales {sales} ({:.0}/s), top-ups {top_ups}, declined {declined}, entries on the server {accepted}\n\
         sale latency online  p50 {} µs, p99 {} µs ({} sales)\n\
         sale latency offline p50 {} µs, p99 {} µs ({} sales)\n\
         line cut to {CUT} bars for {} s: backlog {backlog} entries, on the server {:?} after the line came back\n\
         whole night {:?}",
        BARS + BOOTHS,
        sales as f64 / night.as_secs_f64(),
        percentile(&online, 0.5),
        percentile(&online, 0.99),
        online.len(),
        percentile(&offline, 0.5),
        percentile(&offline, 0.99),
        offline.len(),
        seconds / 4,
        catch_up,
        night,
    );
    assert!(catch_up.is_some(), "the cut bars caught up while selling");
}
