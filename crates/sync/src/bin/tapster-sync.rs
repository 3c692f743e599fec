//! `tapster-sync`: a terminal's ledger and its sync, from the command line.
//! For operators (sync a ledger file now) and for crash tests.
//!
//! ```text
//! tapster-sync sell --db LEDGER --terminal ID --count N [--wristbands M] [--standalone] [--cash]
//! tapster-sync verify --db LEDGER --terminal ID
//! tapster-sync run  --db LEDGER --terminal ID --server URL [--fingerprint FP] --event ID --token TOKEN [--batch N] [--until-synced]
//! tapster-sync probe URL --token TOKEN [--event ID] [--fingerprint FP]
//! tapster-sync drive --db LEDGER --terminal ID --server URL [--fingerprint FP] --event ID --token TOKEN --prefix P [--count N] [--wristbands M] [--pace-ms N] [--seconds S] [--top-ups] [--random]
//! ```
//! `--fingerprint sha256:…` pins the server's certificate (the `fp` of a
//! setup code); without it an `https://` server must have a certificate
//! the system's roots validate.
//! `drive` is a till selling as fast as it can with the background sync
//! running: each sale asks the server first (offline by the ledger's
//! limits when it does not answer) and prints `{"confirmed": KEY}` once it
//! is committed — what a guest would have been told. Crash tests kill it.
//! `probe` tells what a server offers: the API root it was reached at,
//! whether it speaks only seed 001's PointOfSale API or also Tapster's
//! extensions, its terminal and products, and how long it took to answer.
//! A URL with a path is taken as the API root (`http://host/pos-api/`);
//! a bare one (`https://10.0.0.2:8443`) as a Tapster server and its event.
//! `run --until-synced` stops (exit 1) on an error that asking again cannot
//! fix, and otherwise backs off up to a minute between rounds.
//! Each prints one JSON line per step on stdout.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tapster_ledger::model::{EventMode, Tender};
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{OpenShiftRequest, SaleRequest};
use tapster_ledger::{
    demo, Cents, IdempotencyKey, Ledger, LedgerOptions, StaffId, SystemClock, TerminalId,
};
use tapster_sync::{Fingerprint, ServerAddress, ServerClient, SyncConfig, Syncer};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn server_address(args: &[String]) -> ServerAddress {
    let fingerprint = arg(args, "--fingerprint").map(|f| {
        f.parse::<Fingerprint>().unwrap_or_else(|e| {
            eprintln!("--fingerprint: {e}");
            std::process::exit(2)
        })
    });
    ServerAddress::new(&required(args, "--server"), fingerprint)
}

fn required(args: &[String], name: &str) -> String {
    arg(args, name).unwrap_or_else(|| {
        eprintln!("missing {name}");
        std::process::exit(2)
    })
}

/// Opens the ledger; a new one gets the demo bar in connected mode and an
/// open shift. The server's catalogue and settings replace the demo's at
/// the first sync.
fn open(args: &[String]) -> Ledger {
    let db = PathBuf::from(required(args, "--db"));
    let fresh = !db.exists();
    let terminal = TerminalId::new(required(args, "--terminal")).expect("terminal id");
    let ledger = Ledger::open(
        &db,
        LedgerOptions::new(terminal).with_pin_cost(PinHashCost::Fast),
    )
    .expect("open ledger");
    if fresh && args.iter().any(|a| a == "--standalone") {
        // A till of its own: the demo bar with 50 funded wristbands.
        demo::seed(&ledger, 50).expect("seed");
    } else if fresh {
        demo::seed(&ledger, 0).expect("seed");
        let mut settings = ledger.settings().expect("settings");
        settings.mode = EventMode::Connected;
        ledger.update_settings(&settings).expect("settings");
    }
    if ledger.current_shift().expect("shift").is_none() {
        ledger
            .open_shift(&OpenShiftRequest {
                key: IdempotencyKey::random(),
                staff: StaffId::new("anna").unwrap(),
                float: Cents(0),
            })
            .expect("open shift");
    }
    ledger
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("sell") => {
            let ledger = open(&args);
            let count: u32 = required(&args, "--count").parse().expect("count");
            let wristbands: u32 =
                arg(&args, "--wristbands").map_or(50, |w| w.parse().expect("wristbands"));
            let cart = Cart::new().with(&demo::product("fries"), 1);
            for n in 0..count {
                // `--cash`: cash sales, which no balance limits.
                let cash = args.iter().any(|a| a == "--cash");
                let request = SaleRequest {
                    key: IdempotencyKey::random(),
                    staff: StaffId::new("anna").unwrap(),
                    cart: cart.clone(),
                    tender: if cash { Tender::Cash } else { Tender::Wallet },
                    token: (!cash).then(|| demo::wristband(n % wristbands + 1)),
                    pass: None,
                };
                if let Err(error) =
                    ledger.sell(&request, tapster_ledger::store::Authorisation::ThisLedger)
                {
                    println!(
                        "{}",
                        serde_json::json!({"sold": n, "error": error.to_string(), "code": error.code()})
                    );
                    std::process::exit(1);
                }
            }
            println!(
                "{}",
                serde_json::json!({"sold": count, "pending": ledger.pending_count().unwrap()})
            );
        }
        Some("run") => {
            let ledger = Arc::new(open(&args));
            let client = ServerClient::new(
                &server_address(&args),
                &required(&args, "--event"),
                &required(&args, "--token"),
                Duration::from_secs(10),
            )
            .expect("client");
            let mut config = SyncConfig::default();
            if let Some(batch) = arg(&args, "--batch") {
                config.batch_size = batch.parse().expect("batch");
            }
            let syncer = Syncer::new(ledger.clone(), client, Arc::new(SystemClock), config);
            let mut failures = 0u32;
            loop {
                let mut progress = |p: tapster_sync::engine::Progress| {
                    println!("{}", serde_json::json!({"sent": p.sent, "total": p.total}));
                };
                match syncer.round(&mut progress).await {
                    Ok(report) => {
                        failures = 0;
                        let pending = ledger.pending_count().unwrap();
                        println!(
                            "{}",
                            serde_json::json!({
                                "acknowledged": report.acknowledged,
                                "rejected": report.rejected,
                                "uncertain": report.uncertain,
                                "kept_locally": report.kept_locally,
                                "pending": pending,
                            })
                        );
                        if pending == 0 || !args.iter().any(|a| a == "--until-synced") {
                            return;
                        }
                    }
                    Err(error) => {
                        println!(
                            "{}",
                            serde_json::json!({"error": error.to_string(), "permanent": error.is_permanent()})
                        );
                        if error.is_permanent() || !args.iter().any(|a| a == "--until-synced") {
                            std::process::exit(1);
                        }
                        failures += 1;
                        let wait = tapster_sync::task::backoff(
                            failures,
                            Duration::from_millis(200),
                            Duration::from_secs(60),
                            rand::random(),
                        );
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        }
        Some("verify") => {
            // The hash chain and the books, as the ledger checks them.
            let ledger = open(&args);
            let reader = ledger.reader().expect("reader");
            let chain = reader.verify_chain().expect("chain");
            let invariants = reader.check_invariants().expect("invariants");
            let sales = reader
                .sales_report(&Default::default())
                .expect("report")
                .sales_count;
            println!(
                "{}",
                serde_json::json!({"chain_problems": chain.len(), "invariant_violations": invariants.len(), "sales": sales})
            );
        }
        Some("drive") => {
            let ledger = Arc::new(open(&args));
            let client = ServerClient::new(
                &server_address(&args),
                &required(&args, "--event"),
                &required(&args, "--token"),
                Duration::from_secs(5),
            )
            .expect("client");
            // A till at a bar retries a lost line within seconds.
            let config = SyncConfig {
                interval: Duration::from_millis(200),
                authorise_deadline: Duration::from_millis(800),
                backoff_cap: Duration::from_secs(5),
                ..SyncConfig::default()
            };
            let syncer = Arc::new(Syncer::new(
                ledger.clone(),
                client,
                Arc::new(SystemClock),
                config,
            ));
            let _sync = tapster_sync::start(syncer.clone(), Arc::new(SystemClock));
            let prefix = required(&args, "--prefix");
            let count: u64 = arg(&args, "--count").map_or(u64::MAX, |c| c.parse().expect("count"));
            let wristbands: u32 =
                arg(&args, "--wristbands").map_or(50, |w| w.parse().expect("wristbands"));
            // `--pace-ms N`: a bar's rhythm, 0 to 2N ms between guests;
            // `--seconds S`: stop after S seconds; `--top-ups`: a top-up
            // booth (20.00 cash) instead of a bar; `--random`: any
            // wristband, in a order seeded by the prefix, instead of in turn.
            let pace: u64 = arg(&args, "--pace-ms").map_or(0, |p| p.parse().expect("pace"));
            let until = arg(&args, "--seconds").map(|s| {
                std::time::Instant::now() + Duration::from_secs(s.parse().expect("seconds"))
            });
            let top_ups = args.iter().any(|a| a == "--top-ups");
            let random = args.iter().any(|a| a == "--random");
            let mut rng = {
                use rand::SeedableRng;
                let seed = prefix.bytes().fold(0xcbf29ce484222325u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
                });
                rand::rngs::StdRng::seed_from_u64(seed)
            };
            // A restarted driver goes on with the wristband after the last
            // sale it made, so the wristbands are used in turn.
            let offset = ledger
                .reader()
                .and_then(|r| r.sales_report(&Default::default()))
                .map_or(0, |report| report.sales_count.max(0) as u64);
            let cart = Cart::new().with(&demo::product("fries"), 1);
            let mut n = 0u64;
            while n < count && until.is_none_or(|u| std::time::Instant::now() < u) {
                use rand::Rng;
                if pace > 0 {
                    tokio::time::sleep(Duration::from_millis(rng.gen_range(0..=2 * pace))).await;
                }
                let wristband = if random {
                    rng.gen_range(1..=wristbands)
                } else {
                    ((offset + n) % u64::from(wristbands)) as u32 + 1
                };
                let key = IdempotencyKey::new(format!("{prefix}-{n}")).expect("key");
                let started = std::time::Instant::now();
                let outcome = if top_ups {
                    ledger
                        .top_up(
                            &tapster_ledger::store::TopUpRequest {
                                key: key.clone(),
                                staff: StaffId::new("anna").unwrap(),
                                token: demo::wristband(wristband),
                                amount: Cents(20_00),
                                tender: Tender::Cash,
                            },
                            tapster_ledger::store::Authorisation::ThisLedger,
                        )
                        .map_err(|e| e.to_string())
                } else {
                    let request = SaleRequest {
                        key: key.clone(),
                        staff: StaffId::new("anna").unwrap(),
                        cart: cart.clone(),
                        tender: Tender::Wallet,
                        token: Some(demo::wristband(wristband)),
                        pass: None,
                    };
                    syncer
                        .authorise_sale(&request, true)
                        .await
                        .map_err(|e| e.to_string())
                };
                let micros = started.elapsed().as_micros() as u64;
                match outcome {
                    Ok(recorded) => println!(
                        "{}",
                        serde_json::json!({"confirmed": key.to_string(), "offline": recorded.entry.offline, "micros": micros})
                    ),
                    // A refusal (not enough balance, an offline limit) is a
                    // guest turned away, not a failure of the till.
                    Err(error) if !top_ups && until.is_some() => println!(
                        "{}",
                        serde_json::json!({"declined": key.to_string(), "error": error, "micros": micros})
                    ),
                    Err(error) => {
                        println!(
                            "{}",
                            serde_json::json!({"refused": key.to_string(), "error": error})
                        );
                        std::process::exit(1);
                    }
                }
                n += 1;
            }
        }
        Some("probe") => {
            let url = args.get(2).filter(|a| !a.starts_with("--")).cloned().unwrap_or_else(|| {
                eprintln!("usage: tapster-sync probe URL --token TOKEN [--event ID] [--fingerprint FP]");
                std::process::exit(2)
            });
            let fingerprint = arg(&args, "--fingerprint").map(|f| {
                f.parse::<Fingerprint>().unwrap_or_else(|e| {
                    eprintln!("--fingerprint: {e}");
                    std::process::exit(2)
                })
            });
            let client = ServerClient::new(
                &ServerAddress::new(&url, fingerprint),
                &arg(&args, "--event").unwrap_or_else(|| "-".into()),
                &required(&args, "--token"),
                Duration::from_secs(10),
            )
            .unwrap_or_else(|e| {
                println!("{}", serde_json::json!({"error": e.to_string()}));
                std::process::exit(1)
            });
            let report = tapster_sync::probe(&client).await;
            println!("{}", serde_json::to_string_pretty(&report).expect("json"));
            if report.error.is_some() {
                std::process::exit(1);
            }
        }
        _ => {
            eprintln!("usage: tapster-sync sell|run|drive|probe …");
            std::process::exit(2);
        }
    }
}
