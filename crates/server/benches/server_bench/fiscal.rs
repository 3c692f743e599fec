//! What signing costs a till (`TAPSTER_BENCH=fiscal`): with the event's
//! simulated TSE, one till asks the server to sign each receipt right
//! after its sale, as a cashier's till does, one after another on a
//! kept-alive HTTPS connection. Next to it in the same run, alternating:
//! the same till's online debit (the sale's own round trip) and its
//! cheapest request (`GET pos/terminal`). The figure: how much longer a
//! receipt takes with signing on, as a share of the sale's own wait. No
//! target in issue 23; fiskaly's cloud adds its own round trips on top.

use std::time::{Duration, Instant};

use serde_json::json;
use tapster_api::fiscal::SignReceipt;
use tapster_ledger::model::{EventMode, Tender};
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{Authorisation, OpenShiftRequest, SaleRequest};
use tapster_ledger::{demo, Cents, IdempotencyKey, Ledger, LedgerOptions, StaffId, TerminalId};

use super::{admin, bench_event, percentile, Server, WALLETS};

/// Requests per phase; two rounds of each.
const REQUESTS: usize = 400;

pub fn main() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-bench-fiscal");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("server.sqlite");
    let d = db.to_str().unwrap();
    let (event, token) = bench_event(d, "2500000");
    let admin_token = admin(&["admin-token", "--db", d, "--event", &event])["admin_token"]
        .as_str()
        .unwrap()
        .to_string();
    let server = Server::start(d, true, &dir);
    let client = server.client(true);
    let base = server.base(&event);
    let response = client
        .put(format!("{base}/manage/fiscal"))
        .bearer_auth(&admin_token)
        .json(&json!({ "scheme": "simulated" }))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let ledger = till_ledger(&dir);

    let timed = |send: &mut dyn FnMut(usize)| -> Vec<Duration> {
        let mut took: Vec<Duration> = (0..REQUESTS)
            .map(|n| {
                let sent = Instant::now();
                send(n);
                sent.elapsed()
            })
            .collect();
        took.sort();
        took
    };
    let (mut gets, mut debits, mut signs) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..2 {
        gets.extend(timed(&mut |_| {
            let response = client
                .get(format!("{base}/pos/terminal"))
                .bearer_auth(&token)
                .send()
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            let _ = response.bytes().unwrap();
        }));
        debits.extend(timed(&mut |n| {
            let band = demo::wristband(n as u32 % WALLETS + 1);
            let response = client
                .post(format!("{base}/pos/wallets/token/{band}/transactions"))
                .bearer_auth(&token)
                .json(&json!({"products": ["water"], "idempotency_key": format!("fiscal-{round}-{n}")}))
                .send()
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            let _ = response.bytes().unwrap();
        }));
        // Fresh receipts: a TSE signs at the time of the sale.
        let entries: Vec<_> = (0..REQUESTS).map(|_| sell(&ledger)).collect();
        signs.extend(timed(&mut |n| {
            let response = client
                .post(format!("{base}/pos/fiscal/receipts"))
                .bearer_auth(&token)
                .json(&SignReceipt {
                    entry: entries[n].clone(),
                    cancelled_kind: None,
                })
                .send()
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            let body: serde_json::Value = response.json().unwrap();
            assert_eq!(body["data"]["state"], "signed", "{body}");
        }));
    }
    for list in [&mut gets, &mut debits, &mut signs] {
        list.sort();
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("== signing a receipt, one till, {REQUESTS} requests per phase, two rounds");
    for (label, list) in [
        ("GET pos/terminal", &gets),
        ("online debit", &debits),
        ("sign a receipt", &signs),
    ] {
        println!(
            "  {label}: p50 {:.2} ms, p99 {:.2} ms",
            ms(percentile(list, 0.5)),
            ms(percentile(list, 0.99))
        );
    }
    println!(
        "signing a receipt takes {:.2}x an online debit at p50 ({:.2}x at p99), {:.2}x the cheapest request",
        ms(percentile(&signs, 0.5)) / ms(percentile(&debits, 0.5)),
        ms(percentile(&signs, 0.99)) / ms(percentile(&debits, 0.99)),
        ms(percentile(&signs, 0.5)) / ms(percentile(&gets, 0.5)),
    );
}

/// The till `bar-1`'s ledger on the system's clock, a shift open.
fn till_ledger(dir: &std::path::Path) -> Ledger {
    let ledger = Ledger::open(
        dir.join("bar-1.sqlite"),
        LedgerOptions::new(TerminalId::new("bar-1").unwrap()).with_pin_cost(PinHashCost::Fast),
    )
    .unwrap();
    demo::seed(&ledger, 0).unwrap();
    let mut settings = ledger.settings().unwrap();
    settings.mode = EventMode::Connected;
    ledger.update_settings(&settings).unwrap();
    ledger
        .open_shift(&OpenShiftRequest {
            key: IdempotencyKey::random(),
            staff: StaffId::new("anna").unwrap(),
            float: Cents(0),
        })
        .unwrap();
    ledger
}

fn sell(ledger: &Ledger) -> tapster_ledger::model::Entry {
    ledger
        .sell(
            &SaleRequest {
                key: IdempotencyKey::random(),
                staff: StaffId::new("anna").unwrap(),
                cart: Cart::new().with(&demo::product("fries"), 1),
                tender: Tender::Cash,
                token: None,
                pass: None,
            },
            Authorisation::ThisLedger,
        )
        .unwrap()
        .entry
}
