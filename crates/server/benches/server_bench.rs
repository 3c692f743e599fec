//! Server benchmarks over real HTTPS on loopback (the server's own
//! certificate, pinned as a till pins it), each next to its baseline
//! measured in the same run.
//!
//! `cargo bench -p tapster-server --bench server_bench`
//!
//! 1. Online debits: N concurrent keep-alive clients `POST …/transactions`
//!    (one product each, unique idempotency keys) for a fixed time, over
//!    HTTPS and over plain HTTP (`--insecure-http`), alternating
//!    HTTPS, HTTP, HTTPS, HTTP on the same database; the ratio HTTPS/HTTP.
//! 2. The cost of a new connection: sequential requests each on a fresh
//!    connection (TCP + TLS handshake) against the same on one kept-alive
//!    connection, HTTPS and plain HTTP.
//! 3. Batch ingestion: 10,000 offline entries from a real terminal ledger
//!    in batches of 1,000 over HTTPS, next to 10,000 of a second terminal
//!    over plain HTTP (half of each in turn).
//!
//! Baseline for 1: single-row `INSERT` + `COMMIT` with `synchronous=FULL`
//! on a file in the same folder, one after another.
//!
//! `TAPSTER_BENCH=postgres cargo bench -p tapster-server --bench server_bench`
//! measures PostgreSQL instead (see the `postgres` module): online debits
//! and batches with one and two server processes on one database, next to
//! `pgbench` running the debit's own SQL on the same cluster and to the
//! same load on SQLite.
//!
//! `TAPSTER_BENCH=guest …` measures the guest pages beside the bars (see
//! the `guest` module); `TAPSTER_BENCH=fiscal …` what signing a receipt
//! costs a till (see the `fiscal` module).

#[path = "server_bench/fiscal.rs"]
mod fiscal;
#[path = "server_bench/guest.rs"]
mod guest;
#[path = "server_bench/postgres.rs"]
mod postgres;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
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
use tapster_tls::{client_config, Fingerprint, Pins, Trust};

const BIN: &str = env!("CARGO_BIN_EXE_tapster-server");
const CLIENTS: usize = 16;
const RUN_FOR: Duration = Duration::from_secs(5);
const WALLETS: u32 = 5000;
const BATCH_ENTRIES: usize = 10_000;
const HANDSHAKES: usize = 200;

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

/// A running `tapster-server` on the bench's database; SIGTERM on drop.
struct Server {
    child: Child,
    address: String,
    fingerprint: Option<Fingerprint>,
}

impl Server {
    /// Over HTTPS (its own certificate) or, not `secure`, plain HTTP.
    fn start(db: &str, secure: bool, dir: &Path) -> Server {
        let tls_dir = dir.join("server.tls");
        let mut args = vec![
            "serve",
            "--db",
            db,
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
            "--tls-dir",
            tls_dir.to_str().unwrap(),
        ];
        if !secure {
            args.push("--insecure-http");
        }
        let mut child = Command::new(BIN)
            // The rate limit (5/s per token) is off: this measures capacity.
            .args(&args)
            .env(
                "RUST_LOG",
                std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join("server.log"))
                    .unwrap(),
            )
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let listening = serde_json::from_str::<Value>(&line).unwrap();
        Server {
            child,
            address: listening["listening"].as_str().unwrap().to_string(),
            fingerprint: listening["fingerprint"]
                .as_str()
                .map(|f| f.parse().unwrap()),
        }
    }

    fn base(&self, event: &str) -> String {
        format!("{}/api/v1/events/{event}", self.origin())
    }

    fn origin(&self) -> String {
        let scheme = if self.fingerprint.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.address)
    }

    /// A phone's browser: pinned like a till (the bench's own trust), and
    /// shown redirects rather than following them.
    fn page_client(&self) -> reqwest::blocking::Client {
        let tls = client_config(&Trust::Pinned(Pins::new(
            self.fingerprint.expect("HTTPS"),
            None,
        )))
        .unwrap();
        reqwest::blocking::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// A till's client (pinned when HTTPS); `keep_alive: false` opens a
    /// new connection for every request.
    fn client(&self, keep_alive: bool) -> reqwest::blocking::Client {
        let mut builder = reqwest::blocking::Client::builder().tcp_nodelay(true);
        if let Some(fingerprint) = self.fingerprint {
            let tls = client_config(&Trust::Pinned(Pins::new(fingerprint, None))).unwrap();
            builder = builder.use_preconfigured_tls(tls);
        }
        if !keep_alive {
            builder = builder.pool_max_idle_per_host(0);
        }
        builder.build().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// `CLIENTS` keep-alive clients debiting for `RUN_FOR`: the rate per
/// second and every latency, sorted.
fn debits(server: &Server, event: &str, token: &str, phase: &str) -> (f64, Vec<Duration>) {
    debits_through(&[server], event, token, phase)
}

/// As [`debits`], client `i` through server `i % servers.len()`.
fn debits_through(
    servers: &[&Server],
    event: &str,
    token: &str,
    phase: &str,
) -> (f64, Vec<Duration>) {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|worker| {
            let server = servers[worker % servers.len()];
            let base = server.base(event);
            let (stop, token) = (stop.clone(), token.to_string());
            let client = server.client(true);
            let phase = phase.to_string();
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let wristband = demo::wristband((worker as u32 + n * CLIENTS as u32) % WALLETS + 1);
                    n += 1;
                    let sent = Instant::now();
                    let response = client
                        .post(format!("{base}/pos/wallets/token/{wristband}/transactions"))
                        .bearer_auth(&token)
                        .json(&json!({"products": ["water"], "idempotency_key": format!("{phase}-w{worker}-{n}")}))
                        .send()
                        .unwrap();
                    assert_eq!(response.status().as_u16(), 200);
                    let _ = response.bytes().unwrap();
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
    (latencies.len() as f64 / elapsed, latencies)
}

/// A terminal ledger with `BATCH_ENTRIES` offline sales, as batch bodies
/// of 1,000 entries.
fn batch_bodies(dir: &Path, terminal: &str) -> Vec<Vec<u8>> {
    let ledger = Ledger::open(
        dir.join(format!("{terminal}.sqlite")),
        LedgerOptions::new(TerminalId::new(terminal).unwrap()).with_pin_cost(PinHashCost::Fast),
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
                    promo: Cents::ZERO,
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
                    pass: None,
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
    entries
        .chunks(1000)
        .map(|chunk| {
            serde_json::to_vec(&BatchRequest {
                entries: chunk.to_vec(),
            })
            .unwrap()
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// An event on the database `d` with terminal `Bar 1` (all permissions)
/// and the demo's `WALLETS` wristbands holding `balance` cents each: the
/// event and the terminal's token.
fn bench_event(d: &str, balance: &str) -> (String, String) {
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
        balance,
    ]);
    (event, token)
}

fn main() {
    match std::env::var("TAPSTER_BENCH").as_deref() {
        Ok("postgres") => return postgres::main(),
        Ok("guest") => return guest::main(),
        Ok("fiscal") => return fiscal::main(),
        _ => {}
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-bench");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("server.sqlite");
    let d = db.to_str().unwrap();
    let (event, token) = bench_event(d, "25000");

    let before = baseline(&dir);
    println!(
        "== online debits, {CLIENTS} concurrent keep-alive clients, {} s per phase",
        RUN_FOR.as_secs()
    );
    let mut https_rates = Vec::new();
    let mut http_rates = Vec::new();
    let mut https_latencies = Vec::new();
    for round in 0..2 {
        for secure in [true, false] {
            let server = Server::start(d, secure, &dir);
            let (rate, latencies) = debits(&server, &event, &token, &format!("r{round}{secure}"));
            println!(
                "  {}: {rate:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
                if secure { "HTTPS" } else { "HTTP " },
                percentile(&latencies, 0.5).as_secs_f64() * 1e3,
                percentile(&latencies, 0.99).as_secs_f64() * 1e3
            );
            if secure {
                https_rates.push(rate);
                https_latencies.extend(latencies);
            } else {
                http_rates.push(rate);
            }
        }
    }
    let after = baseline(&dir);
    let base_rate = (before + after) / 2.0;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (https_rate, http_rate) = (mean(&https_rates), mean(&http_rates));
    https_latencies.sort();
    println!(
        "debits over HTTPS {https_rate:.0}/s (p50 {:.2} ms, p99 {:.2} ms), over HTTP {http_rate:.0}/s: HTTPS is {:.2}x HTTP (target: at least 0.85x)",
        percentile(&https_latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&https_latencies, 0.99).as_secs_f64() * 1e3,
        https_rate / http_rate
    );
    println!(
        "baseline: serial single-row commits {before:.0}/s before, {after:.0}/s after; HTTPS debits are {:.2}x the baseline (target: at least 5,000/s)",
        https_rate / base_rate
    );

    println!("== a new connection's cost, {HANDSHAKES} sequential requests each way");
    for secure in [true, false] {
        let server = Server::start(d, secure, &dir);
        let url = format!("{}/pos/terminal", server.base(&event));
        let kept = server.client(true);
        let time = |client: &reqwest::blocking::Client| {
            let mut took = Vec::new();
            for _ in 0..HANDSHAKES {
                let sent = Instant::now();
                let response = client.get(&url).bearer_auth(&token).send().unwrap();
                assert_eq!(response.status().as_u16(), 200);
                let _ = response.bytes().unwrap();
                took.push(sent.elapsed());
            }
            took.sort();
            percentile(&took, 0.5)
        };
        time(&kept);
        let reused = time(&kept);
        let fresh = time(&server.client(false));
        println!(
            "  {}: new connection p50 {:.2} ms, kept-alive p50 {:.2} ms: a new connection costs {:.2} ms",
            if secure { "HTTPS" } else { "HTTP " },
            fresh.as_secs_f64() * 1e3,
            reused.as_secs_f64() * 1e3,
            (fresh.as_secs_f64() - reused.as_secs_f64()) * 1e3
        );
    }

    // Batch ingestion: two terminals' ledgers with offline sales, one sent
    // over HTTPS and one over plain HTTP, half of each in turn.
    let second = admin(&[
        "terminal",
        "create",
        "--db",
        d,
        "--event",
        &event,
        "--name",
        "Bar 2",
        "--permission",
        "all",
    ]);
    let second_token = second["api_token"].as_str().unwrap().to_string();
    let over_https = batch_bodies(&dir, "bar-1");
    let over_http = batch_bodies(&dir, second["id"].as_str().unwrap());
    let half = over_https.len() / 2;
    let mut took = [Duration::ZERO, Duration::ZERO];
    let mut batch_latencies = [Vec::new(), Vec::new()];
    for part in [0..half, half..over_https.len()] {
        for (secure, bodies, token) in [
            (true, &over_https, &token),
            (false, &over_http, &second_token),
        ] {
            let server = Server::start(d, secure, &dir);
            let client = server.client(true);
            let url = format!("{}/pos/transactions/batch", server.base(&event));
            let started = Instant::now();
            for body in &bodies[part.clone()] {
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(token)
                    .header("Content-Type", "application/json")
                    .body(body.clone())
                    .send()
                    .unwrap();
                assert_eq!(response.status().as_u16(), 200);
                let decided: tapster_api::Data<tapster_api::BatchResponse> =
                    response.json().unwrap();
                assert!(decided
                    .data
                    .results
                    .iter()
                    .all(|r| r.status == tapster_api::EntryStatus::Created));
                batch_latencies[usize::from(!secure)].push(sent.elapsed());
            }
            took[usize::from(!secure)] += started.elapsed();
        }
    }
    println!(
        "== batch ingestion, {BATCH_ENTRIES} entries of a real terminal ledger in batches of 1000"
    );
    let mut rates = [0.0; 2];
    for (i, label) in ["HTTPS", "HTTP "].iter().enumerate() {
        batch_latencies[i].sort();
        rates[i] = BATCH_ENTRIES as f64 / took[i].as_secs_f64();
        println!(
            "  {label}: {:.2} s = {:.0} entries/s; per batch p50 {:.1} ms, max {:.1} ms",
            took[i].as_secs_f64(),
            rates[i],
            percentile(&batch_latencies[i], 0.5).as_secs_f64() * 1e3,
            percentile(&batch_latencies[i], 1.0).as_secs_f64() * 1e3
        );
    }
    println!(
        "batch ingestion over HTTPS is {:.2}x HTTP (target: at least 20,000 entries/s)",
        rates[0] / rates[1]
    );
    let check = admin(&["check", "--db", d]);
    assert_eq!(check["ok"], true);
}
