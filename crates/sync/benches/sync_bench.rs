//! Catch-up after a long outage: 10,000 offline entries of one terminal
//! reconciled with the server on loopback (HTTPS, pinned) by the sync engine, next to the
//! server's own batch ingestion rate measured in the same run (the same
//! kind of entries from a second terminal, posted straight to the batch
//! endpoint, no sync logic around it).
//!
//! `cargo bench -p tapster-sync --bench sync_bench`

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tapster_api::{BatchEntry, BatchRequest};
use tapster_ledger::model::{EventMode, Tender};
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{Authorisation, OpenShiftRequest, SaleRequest};
use tapster_ledger::{
    demo, Cents, IdempotencyKey, Ledger, LedgerOptions, StaffId, SystemClock, TerminalId,
};
use tapster_sync::{ServerAddress, ServerClient, SyncConfig, Syncer};

const ENTRIES: u32 = 10_000;
const WALLETS: u32 = 2_000;

fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let binary = dir.join("tapster-server");
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--release",
                "-p",
                "tapster-server",
                "--bin",
                "tapster-server",
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }
    binary
}

fn admin(args: &[&str]) -> Value {
    let out = Command::new(server_binary()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A terminal ledger that has pulled the feed and then sold offline.
async fn ledger_with_backlog(
    dir: &Path,
    id: &str,
    server: &ServerAddress,
    event: &str,
    token: &str,
) -> (Arc<Ledger>, Syncer) {
    let ledger = Ledger::open(
        dir.join(format!("{id}.sqlite")),
        LedgerOptions::new(TerminalId::new(id).unwrap()).with_pin_cost(PinHashCost::Fast),
    )
    .unwrap();
    demo::seed(&ledger, 0).unwrap();
    let mut settings = ledger.settings().unwrap();
    settings.mode = EventMode::Connected;
    ledger.update_settings(&settings).unwrap();
    let anna = StaffId::new("anna").unwrap();
    ledger
        .open_shift(&OpenShiftRequest {
            key: IdempotencyKey::random(),
            staff: anna.clone(),
            float: Cents(0),
        })
        .unwrap();
    let ledger = Arc::new(ledger);
    let client = ServerClient::new(server, event, token, Duration::from_secs(30)).unwrap();
    let config = SyncConfig {
        batch_size: 1000,
        ..SyncConfig::default()
    };
    let syncer = Syncer::new(ledger.clone(), client, Arc::new(SystemClock), config);
    syncer.round(&mut |_| {}).await.unwrap();
    let cart = Cart::new().with(&demo::product("fries"), 1);
    for n in 0..ENTRIES {
        let request = SaleRequest {
            key: IdempotencyKey::random(),
            staff: anna.clone(),
            cart: cart.clone(),
            tender: Tender::Wallet,
            token: Some(demo::wristband(n % WALLETS + 1)),
            pass: None,
        };
        ledger.sell(&request, Authorisation::ThisLedger).unwrap();
    }
    (ledger, syncer)
}

#[tokio::main]
async fn main() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sync-bench");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("server.sqlite");
    let d = db.to_str().unwrap();
    let event = admin(&["event", "create", "--db", d, "--name", "Bench"])["event_id"]
        .as_str()
        .unwrap()
        .to_string();
    let catch_up = admin(&[
        "terminal",
        "create",
        "--db",
        d,
        "--event",
        &event,
        "--name",
        "catchup",
        "--permission",
        "all",
    ]);
    let direct = admin(&[
        "terminal",
        "create",
        "--db",
        d,
        "--event",
        &event,
        "--name",
        "direct",
        "--permission",
        "all",
    ]);
    admin(&[
        "demo",
        "--db",
        d,
        "--event",
        &event,
        "--wallets",
        &WALLETS.to_string(),
        "--wallet-balance",
        "100000",
    ]);
    let mut server = Command::new(server_binary())
        .args([
            "serve",
            "--db",
            d,
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let listening = serde_json::from_str::<Value>(&line).unwrap();
    let url = format!("https://{}", listening["listening"].as_str().unwrap());
    // Over HTTPS, the server's own certificate pinned, as a till does.
    let address = ServerAddress::new(
        &url,
        Some(listening["fingerprint"].as_str().unwrap().parse().unwrap()),
    );

    // The server's settings rule the terminals: room for a long outage.
    let http = address.http_client(Duration::from_secs(30)).unwrap();
    let settings_url = format!("{url}/api/v1/events/{event}/manage/settings");
    let admin_token = admin(&["admin-token", "--db", d, "--event", &event])["admin_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut settings: Value = http
        .get(&settings_url)
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    settings["data"]["offline"]["terminal_cap"] = 1_000_000_00i64.into();
    settings["data"]["offline"]["wallet_cap"] = 1_000_000_00i64.into();
    assert!(http
        .put(&settings_url)
        .bearer_auth(&admin_token)
        .json(&settings["data"])
        .send()
        .await
        .unwrap()
        .status()
        .is_success());

    let (ledger, syncer) = ledger_with_backlog(
        &dir,
        "catchup",
        &address,
        &event,
        catch_up["api_token"].as_str().unwrap(),
    )
    .await;
    let (direct_ledger, _) = ledger_with_backlog(
        &dir,
        "direct",
        &address,
        &event,
        direct["api_token"].as_str().unwrap(),
    )
    .await;

    // The server's own rate: prebuilt batches posted straight.
    let bodies: Vec<Vec<u8>> = direct_ledger
        .pending_with_postings(ENTRIES)
        .unwrap()
        .chunks(1000)
        .map(|chunk| {
            let entries = chunk
                .iter()
                .map(|(entry, postings)| BatchEntry {
                    entry: entry.clone(),
                    postings: postings.clone(),
                })
                .collect();
            serde_json::to_vec(&BatchRequest { entries }).unwrap()
        })
        .collect();
    let started = Instant::now();
    for body in bodies {
        let response = http
            .post(format!(
                "{url}/api/v1/events/{event}/pos/transactions/batch"
            ))
            .bearer_auth(direct["api_token"].as_str().unwrap())
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let _ = response.bytes().await.unwrap();
    }
    let direct_secs = started.elapsed().as_secs_f64();

    // Catch-up through the sync engine: push, record every decision, pull.
    let started = Instant::now();
    let report = syncer.round(&mut |_| {}).await.unwrap();
    let catch_up_secs = started.elapsed().as_secs_f64();
    assert_eq!(report.acknowledged, u64::from(ENTRIES));
    assert_eq!(ledger.pending_count().unwrap(), 0);

    println!("== catch-up of {ENTRIES} offline entries, batches of 1000, loopback");
    println!(
        "sync engine (push + record decisions + pull): {catch_up_secs:.2} s = {:.0} entries/s (target: under 5 s)",
        f64::from(ENTRIES) / catch_up_secs
    );
    println!(
        "server's own batch ingestion, same run: {direct_secs:.2} s = {:.0} entries/s",
        f64::from(ENTRIES) / direct_secs
    );
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    assert_eq!(admin(&["check", "--db", d])["ok"], true);
}
