//! Server benchmarks over real HTTP on loopback, each next to the raw
//! SQLite commit baseline measured in the same run.
//!
//! `cargo bench -p tapster-server --bench server_bench`
//!
//! 1. Online debits: N concurrent clients `POST …/transactions` (one
//!    product each, unique idempotency keys) for a fixed time.
//! 2. Batch ingestion: 10,000 offline entries from a real terminal ledger,
//!    sent in batches of 1,000.
//!
//! Baseline: single-row `INSERT` + `COMMIT` with `synchronous=FULL` on a
//! file in the same folder, one after another.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tapster_api::{BatchEntry, BatchRequest};
use tapster_ledger::model::{EventMode, Tender};
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{Authorisation, OpenShiftRequest, SaleRequest, WalletSnapshot};
use tapster_ledger::{demo, Cents, IdempotencyKey, Ledger, LedgerOptions, StaffId, TerminalId};

const BIN: &str = env!("CARGO_BIN_EXE_tapster-server");
const CLIENTS: usize = 16;
const RUN_FOR: Duration = Duration::from_secs(5);
const WALLETS: u32 = 5000;
const BATCH_ENTRIES: usize = 10_000;

fn admin(args: &[&str]) -> Value {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn baseline(dir: &Path) -> f64 {
    let path = dir.join("baseline.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        .unwrap();
    let n = 3000;
    let started = Instant::now();
    for _ in 0..n {
        conn.execute_batch(
            "BEGIN; INSERT INTO t (payload) VALUES ('a transaction-sized row of text'); COMMIT;",
        )
        .unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-bench");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("server.sqlite");
    let d = db.to_str().unwrap();
    let event = admin(&["event", "create", "--db", d, "--name", "Bench"])["event_id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = admin(&[
        "terminal",
        "create",
        "--db",
        d,
        "--event",
        &event,
        "--name",
        "Bar 1",
        "--permission",
        "all",
    ])["api_token"]
        .as_str()
        .unwrap()
        .to_string();
    admin(&[
        "demo",
        "--db",
        d,
        "--event",
        &event,
        "--wallets",
        &WALLETS.to_string(),
        "--wallet-balance",
        "25000",
    ]);

    let mut server = Command::new(BIN)
        // The rate limit (5/s per token) is off: this measures capacity.
        .args([
            "serve",
            "--db",
            d,
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
        ])
        .env(
            "RUST_LOG",
            std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("server.log")).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = serde_json::from_str::<Value>(&line).unwrap()["listening"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("http://{address}/api/v1/events/{event}");

    let before = baseline(&dir);
    println!(
        "== online debits, {CLIENTS} concurrent clients for {} s",
        RUN_FOR.as_secs()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|worker| {
            let (stop, base, token) = (stop.clone(), base.clone(), token.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                let mut latencies = Vec::new();
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let wristband = demo::wristband((worker as u32 + n * CLIENTS as u32) % WALLETS + 1);
                    n += 1;
                    let sent = Instant::now();
                    let response = client
                        .post(format!("{base}/pos/wallets/token/{wristband}/transactions"))
                        .bearer_auth(&token)
                        .json(&json!({"products": ["water"], "idempotency_key": format!("w{worker}-{n}")}))
                        .send()
                        .unwrap();
                    assert_eq!(response.status().as_u16(), 200);
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    std::thread::sleep(RUN_FOR);
    stop.store(true, Ordering::Relaxed);
    let mut latencies: Vec<Duration> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let rate = latencies.len() as f64 / elapsed;
    let after = baseline(&dir);
    let base_rate = (before + after) / 2.0;
    println!(
        "debits: {} in {elapsed:.1} s = {rate:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "baseline: serial single-row commits {before:.0}/s before, {after:.0}/s after; debits are {:.2}x the baseline (target: at least 5,000/s)",
        rate / base_rate
    );

    // Batch ingestion: a terminal's ledger with offline sales.
    let ledger = Ledger::open(
        dir.join("terminal.sqlite"),
        LedgerOptions::new(TerminalId::new("bar-1").unwrap()).with_pin_cost(PinHashCost::Fast),
    )
    .unwrap();
    demo::seed(&ledger, 0).unwrap();
    let mut settings = ledger.settings().unwrap();
    settings.mode = EventMode::Connected;
    settings.offline.terminal_cap = Cents(100_000_000_00);
    ledger.update_settings(&settings).unwrap();
    let anna = StaffId::new("anna").unwrap();
    ledger
        .open_shift(&OpenShiftRequest {
            key: IdempotencyKey::random(),
            staff: anna.clone(),
            float: Cents(0),
        })
        .unwrap();
    for n in 1..=WALLETS {
        ledger
            .apply_wallet_snapshot(
                &WalletSnapshot {
                    token: demo::wristband(n),
                    wallet_id: "w".into(),
                    balance: Cents(1_000_00),
                    blocked: false,
                    cursor: 0,
                    deposits: vec![],
                },
                tapster_ledger::Clock::now(&tapster_ledger::SystemClock),
            )
            .unwrap();
    }
    let cart = Cart::new().with(&demo::product("fries"), 1);
    for n in 0..BATCH_ENTRIES {
        ledger
            .sell(
                &SaleRequest {
                    key: IdempotencyKey::random(),
                    staff: anna.clone(),
                    cart: cart.clone(),
                    tender: Tender::Wallet,
                    token: Some(demo::wristband(n as u32 % WALLETS + 1)),
                },
                Authorisation::ThisLedger,
            )
            .unwrap();
    }
    let reader = ledger.reader().unwrap();
    let entries: Vec<BatchEntry> = ledger
        .pending_entries(BATCH_ENTRIES as u32)
        .unwrap()
        .into_iter()
        .map(|entry| BatchEntry {
            postings: reader.postings(&entry.id).unwrap(),
            entry,
        })
        .collect();
    let bodies: Vec<Vec<u8>> = entries
        .chunks(1000)
        .map(|chunk| {
            serde_json::to_vec(&BatchRequest {
                entries: chunk.to_vec(),
            })
            .unwrap()
        })
        .collect();
    let client = reqwest::blocking::Client::new();
    let started = Instant::now();
    let mut batch_latencies = Vec::new();
    for body in bodies {
        let sent = Instant::now();
        let response = client
            .post(format!("{base}/pos/transactions/batch"))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let decided: tapster_api::Data<tapster_api::BatchResponse> = response.json().unwrap();
        assert!(decided
            .data
            .results
            .iter()
            .all(|r| r.status == tapster_api::EntryStatus::Created));
        batch_latencies.push(sent.elapsed());
    }
    batch_latencies.sort();
    let elapsed = started.elapsed().as_secs_f64();
    println!("== batch ingestion");
    println!(
        "{BATCH_ENTRIES} entries in batches of 1000: {elapsed:.2} s = {:.0} entries/s (target: at least 20,000/s); \
         per batch p50 {:.1} ms, max {:.1} ms",
        BATCH_ENTRIES as f64 / elapsed,
        percentile(&batch_latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&batch_latencies, 1.0).as_secs_f64() * 1e3
    );
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    let check = admin(&["check", "--db", d]);
    assert_eq!(check["ok"], true);
}
