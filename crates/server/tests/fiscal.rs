//! Fiscal signing through the real server over HTTPS: a till's ledger
//! commits a sale and asks the server to sign its receipt with the event's
//! device — the simulated one, and fiskaly's API through the suite's test
//! double (`tapster_fiscal::double`, named as such). Outages mid-shift and
//! the recovery, receipts asked for too late, tills that never asked, and
//! an event without a device, which signs nothing and changes nothing.

mod common;

use common::till::{live_terminal_ledger, pending_batch, pull, push, statuses, terminal_ledger};
use common::{admin, json, Fixture, Server};
use serde_json::{json, Value};
use tapster_api::fiscal::{SignReceipt, Signing};
use tapster_fiscal::double::{FiskalyDouble, API_KEY, API_SECRET, TSS_ID};
use tapster_fiscal::qr::{parse_qr, qr_text};
use tapster_fiscal::simulated::{verify, NOT_CERTIFIED};
use tapster_ledger::model::{Entry, EntryKind, Tender};
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{Authorisation, CancelRequest, CloseShiftRequest, SaleRequest};
use tapster_ledger::{demo, Cents, IdempotencyKey, Ledger, StaffId};

fn sell_cash(ledger: &Ledger, product: &str) -> Entry {
    ledger
        .sell(
            &SaleRequest {
                key: IdempotencyKey::random(),
                staff: StaffId::new("anna").unwrap(),
                cart: Cart::new().with(&demo::product(product), 1),
                tender: Tender::Cash,
                token: None,
                pass: None,
            },
            Authorisation::ThisLedger,
        )
        .unwrap()
        .entry
}

fn sign(
    server: &Server,
    fx: &Fixture,
    token: &str,
    entry: &Entry,
    cancelled: Option<EntryKind>,
) -> (u16, Value) {
    json(
        server
            .client()
            .post(server.url(&fx.event, "pos/fiscal/receipts"))
            .bearer_auth(token)
            .json(&SignReceipt {
                entry: entry.clone(),
                cancelled_kind: cancelled,
            })
            .send()
            .unwrap(),
    )
}

fn signed(body: &Value) -> Signing {
    serde_json::from_value(body["data"].clone()).unwrap()
}

fn set_up(server: &Server, fx: &Fixture, setup: Value) -> (u16, Value) {
    json(
        server
            .client()
            .put(server.url(&fx.event, "manage/fiscal"))
            .bearer_auth(&fx.admin_token)
            .json(&setup)
            .send()
            .unwrap(),
    )
}

fn status(server: &Server, fx: &Fixture) -> Value {
    let (code, body) = json(
        server
            .client()
            .get(server.url(&fx.event, "manage/fiscal"))
            .bearer_auth(&fx.admin_token)
            .send()
            .unwrap(),
    );
    assert_eq!(code, 200, "{body}");
    body["data"].clone()
}

fn catalog_signing(server: &Server, fx: &Fixture) -> Value {
    let (code, body) = server.get_json(&fx.event, "pos/catalog", &fx.bar_token);
    assert_eq!(code, 200, "{body}");
    body["data"]["settings"]["fiscal_signing"].clone()
}

#[test]
fn an_event_without_a_device_signs_nothing_and_changes_nothing() {
    let fx = Fixture::new(2);
    let server = Server::start(&fx.db);
    assert_eq!(catalog_signing(&server, &fx), "off");
    let fiscal = status(&server, &fx);
    assert_eq!(fiscal["scheme"], "off");
    assert_eq!(fiscal["outages"], json!([]));

    let ledger = live_terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    let sale = sell_cash(&ledger, "beer");
    let (code, body) = sign(&server, &fx, &fx.bar_token, &sale, None);
    assert_eq!(code, 409, "{body}");
    assert!(
        body["error_message"]
            .as_str()
            .unwrap()
            .contains("no fiscal device"),
        "{body}"
    );
    let (code, body) = push(&server, &fx, &fx.bar_token, &pending_batch(&ledger));
    assert_eq!((code, statuses(&body)), (200, vec!["created".to_string()]));
    assert_eq!(status(&server, &fx)["unsigned"], 0, "nothing to sign");

    // The settings form cannot switch signing on by itself.
    let (code, mut settings) = json(
        server
            .client()
            .get(server.url(&fx.event, "manage/settings"))
            .bearer_auth(&fx.admin_token)
            .send()
            .unwrap(),
    );
    assert_eq!(code, 200);
    settings["data"]["fiscal_signing"] = json!("certified");
    let (code, body) = json(
        server
            .client()
            .put(server.url(&fx.event, "manage/settings"))
            .bearer_auth(&fx.admin_token)
            .json(&settings["data"])
            .send()
            .unwrap(),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["fiscal_signing"], "off");
}

#[test]
fn the_simulated_device_signs_sales_and_cancellations_once_and_counts_on_after_a_restart() {
    let fx = Fixture::new(2);
    let server = Server::start(&fx.db);
    let (code, body) = set_up(&server, &fx, json!({ "scheme": "simulated" }));
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["scheme"], "simulated");
    assert_eq!(body["data"]["health"]["certified"], false);
    assert_eq!(catalog_signing(&server, &fx), "simulated");

    let ledger = live_terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    let sale = sell_cash(&ledger, "beer");
    let (code, body) = sign(&server, &fx, &fx.bar_token, &sale, None);
    assert_eq!(code, 200, "{body}");
    let Signing::Signed(first) = signed(&body) else {
        panic!("{body}")
    };
    assert!(verify(&first), "the signature is over what was sold");
    assert!(first.tss_serial.starts_with(NOT_CERTIFIED) && !first.certified);
    assert_eq!(first.client_serial, "bar-1");
    let qr = parse_qr(&qr_text(&first)).unwrap();
    assert_eq!(qr.process_type, "Kassenbeleg-V1");
    // Beer at 19 %, its cup deposit at 0 %.
    assert_eq!(qr.process_data, "Beleg^5.00_0.00_0.00_0.00_2.00^7.00:Bar");

    // Asked again (a retry after a lost answer): the same signature.
    let (_, again) = sign(&server, &fx, &fx.bar_token, &sale, None);
    assert_eq!(signed(&again), Signing::Signed(first.clone()));
    // Another till cannot have this till's receipt signed.
    let (code, body) = sign(&server, &fx, &fx.topup_token, &sale, None);
    assert_eq!(code, 403, "{body}");

    let cancel = ledger
        .cancel(
            &CancelRequest {
                key: IdempotencyKey::random(),
                staff: StaffId::new("anna").unwrap(),
                entry: sale.id,
            },
            Authorisation::ThisLedger,
        )
        .unwrap()
        .entry;
    let (_, body) = sign(&server, &fx, &fx.bar_token, &cancel, Some(EntryKind::Sale));
    let Signing::Signed(storno) = signed(&body) else {
        panic!("{body}")
    };
    assert_eq!(
        storno.process_data, "Beleg^-5.00_0.00_0.00_0.00_-2.00^-7.00:Bar",
        "a cancellation is a receipt with the amounts negated"
    );
    assert_eq!((storno.number, storno.signature_counter), (2, 2));

    // A restart opens the same device, counting on.
    server.stop();
    let server = Server::start(&fx.db);
    let next = sell_cash(&ledger, "water");
    let (_, body) = sign(&server, &fx, &fx.bar_token, &next, None);
    let Signing::Signed(third) = signed(&body) else {
        panic!("{body}")
    };
    assert_eq!((third.number, third.signature_counter), (3, 3));
    assert_eq!(third.public_key, first.public_key);
    assert!(verify(&third));
    // Setting the simulated device up again keeps its key.
    set_up(&server, &fx, json!({ "scheme": "simulated" }));
    let (_, body) = sign(
        &server,
        &fx,
        &fx.bar_token,
        &sell_cash(&ledger, "beer"),
        None,
    );
    assert_eq!(signed(&body).signed().unwrap().public_key, first.public_key);

    let (code, body) = push(&server, &fx, &fx.bar_token, &pending_batch(&ledger));
    assert_eq!(code, 200, "{body}");
    let fiscal = status(&server, &fx);
    assert_eq!(
        (fiscal["signed"].as_i64(), fiscal["unsigned"].as_i64()),
        (Some(4), Some(0)),
        "{fiscal}"
    );
}

#[test]
fn fiskaly_outages_mid_shift_are_marked_and_the_manager_sees_their_windows() {
    let fx = Fixture::new(2);
    let server = Server::start(&fx.db);
    let double = FiskalyDouble::start();
    // fiskaly only over HTTPS (the double is on loopback).
    let (code, body) = set_up(
        &server,
        &fx,
        json!({ "scheme": "fiskaly", "fiskaly": {
            "base_url": "http://fiskaly.example.org/api/v2",
            "api_key": API_KEY, "api_secret": API_SECRET, "tss_id": TSS_ID } }),
    );
    assert_eq!(code, 400, "{body}");
    assert_eq!(status(&server, &fx)["scheme"], "off", "nothing stored");
    let (code, body) = set_up(
        &server,
        &fx,
        json!({ "scheme": "fiskaly", "fiskaly": {
            "base_url": double.base_url(),
            "api_key": API_KEY, "api_secret": API_SECRET, "tss_id": TSS_ID } }),
    );
    assert_eq!(code, 200, "{body}");
    assert!(
        !body.to_string().contains(API_SECRET),
        "the secret is never answered"
    );
    assert_eq!(body["data"]["health"]["reachable"], true, "{body}");
    assert_eq!(catalog_signing(&server, &fx), "certified");

    let ledger = live_terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    let mut answers = Vec::new();
    let first = sell_cash(&ledger, "beer");
    answers.push(signed(&sign(&server, &fx, &fx.bar_token, &first, None).1));
    double.set_down(true);
    for _ in 0..2 {
        let sale = sell_cash(&ledger, "water");
        answers.push(signed(&sign(&server, &fx, &fx.bar_token, &sale, None).1));
    }
    assert_eq!(status(&server, &fx)["health"]["reachable"], false);
    double.set_down(false);
    let recovered = sell_cash(&ledger, "beer");
    answers.push(signed(
        &sign(&server, &fx, &fx.bar_token, &recovered, None).1,
    ));
    // A sale whose till never asked (it was offline).
    sell_cash(&ledger, "water");

    let kinds: Vec<bool> = answers.iter().map(|a| a.signed().is_some()).collect();
    assert_eq!(kinds, vec![true, false, false, true]);
    let first = answers[0].signed().unwrap();
    assert!(first.certified);
    assert_eq!(first.public_key, double.public_key());
    assert_eq!(
        double.finished().len(),
        2,
        "only the signed ones reached fiskaly"
    );
    let Signing::Outage { reason } = &answers[1] else {
        unreachable!()
    };
    assert!(reason.contains("cannot be reached"), "{reason}");

    let (code, body) = push(&server, &fx, &fx.bar_token, &pending_batch(&ledger));
    assert_eq!(code, 200, "{body}");
    let fiscal = status(&server, &fx);
    assert_eq!(
        (fiscal["signed"].as_i64(), fiscal["unsigned"].as_i64()),
        (Some(2), Some(3)),
        "{fiscal}"
    );
    let windows = fiscal["outages"].as_array().unwrap();
    assert_eq!(windows.len(), 2, "{fiscal}");
    assert_eq!(windows[0]["transactions"], 2);
    assert_eq!(windows[0]["terminal_name"], "Bar 1");
    assert!(windows[0]["reason"]
        .as_str()
        .unwrap()
        .contains("cannot be reached"));
    assert_eq!(windows[1]["transactions"], 1);
    assert!(windows[1]["reason"].as_str().unwrap().contains("offline"));

    // A till that was offline for hours cannot have its old sales signed
    // now: a TSE signs at the time of the sale.
    let old_dir = fx.dir.path().join("old");
    std::fs::create_dir_all(&old_dir).unwrap();
    let old = terminal_ledger(&old_dir, "bar-1");
    let stale = sell_cash(&old, "beer");
    let (code, body) = sign(&server, &fx, &fx.bar_token, &stale, None);
    assert_eq!(code, 200, "{body}");
    let Signing::Outage { reason } = signed(&body) else {
        panic!("{body}")
    };
    assert!(reason.contains("after the sale"), "{reason}");
    assert_eq!(double.finished().len(), 2);
}

/// The files of a DSFinV-K ZIP, by name.
fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, String> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            (file.name().to_string(), text)
        })
        .collect()
}

/// Data rows of a CSV (without its header).
fn rows(files: &std::collections::BTreeMap<String, String>, name: &str) -> Vec<Vec<String>> {
    files[name]
        .lines()
        .skip(1)
        .map(|line| line.split(';').map(String::from).collect())
        .collect()
}

#[test]
fn the_dsfinvk_export_carries_every_receipt_with_its_signature_or_outage() {
    let fx = Fixture::new(2);
    let server = Server::start(&fx.db);
    let (code, body) = set_up(
        &server,
        &fx,
        json!({ "scheme": "simulated", "business": { "name": "Sommerfest GmbH",
            "street": "Mainkai 1", "postcode": "97070", "city": "Würzburg",
            "country": "Deutschland", "tax_number": "257/123/45678", "vat_id": "" } }),
    );
    assert_eq!(code, 400, "{body}");
    assert!(body["error_message"]
        .as_str()
        .unwrap()
        .contains("business.country"));
    let untouched = status(&server, &fx);
    assert_eq!(untouched["scheme"], "off", "nothing stored: {untouched}");
    assert_eq!(
        untouched["business"]["name"], "",
        "nothing stored: {untouched}"
    );
    let (code, body) = set_up(
        &server,
        &fx,
        json!({ "scheme": "simulated", "business": { "name": "Sommerfest GmbH",
            "street": "Mainkai 1", "postcode": "97070", "city": "Würzburg",
            "country": "DEU", "tax_number": "257/123/45678", "vat_id": "" } }),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["business"]["city"], "Würzburg");

    let ledger = live_terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    let first = sell_cash(&ledger, "beer");
    let second = sell_cash(&ledger, "water");
    sign(&server, &fx, &fx.bar_token, &first, None);
    sign(&server, &fx, &fx.bar_token, &second, None);
    let cancel = ledger
        .cancel(
            &CancelRequest {
                key: IdempotencyKey::random(),
                staff: StaffId::new("anna").unwrap(),
                entry: second.id,
            },
            Authorisation::ThisLedger,
        )
        .unwrap()
        .entry;
    sign(&server, &fx, &fx.bar_token, &cancel, Some(EntryKind::Sale));
    let never_asked = sell_cash(&ledger, "beer");
    // The count at close is 0.50 short: a transaction of its own, signed.
    ledger
        .close_shift(&CloseShiftRequest {
            key: IdempotencyKey::random(),
            staff: StaffId::new("anna").unwrap(),
            counted: Cents(13_50),
        })
        .unwrap();
    let difference = ledger
        .reader()
        .unwrap()
        .recent_entries(None, 1)
        .unwrap()
        .remove(0);
    assert_eq!(difference.kind, EntryKind::Adjustment);
    let (code, body) = sign(&server, &fx, &fx.bar_token, &difference, None);
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        signed(&body).signed().unwrap().process_data,
        "Beleg^0.00_0.00_0.00_0.00_-0.50^-0.50:Bar"
    );
    let (code, _) = push(&server, &fx, &fx.bar_token, &pending_batch(&ledger));
    assert_eq!(code, 200);

    let response = server
        .client()
        .get(server.url(&fx.event, "manage/fiscal/dsfinvk.zip"))
        .bearer_auth(&fx.admin_token)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let files = unzip(&response.bytes().unwrap());
    assert_eq!(files.len(), 22, "{:?}", files.keys());
    let heads = rows(&files, "transactions.csv");
    assert_eq!(heads.len(), 5);
    // BON_ID, BON_NR: the till's entry and receipt number.
    assert_eq!(heads[0][3], first.id.to_string());
    assert_eq!(heads[0][4], first.sequence.to_string());
    assert_eq!(heads[0][13], "7,00", "UMS_BRUTTO");
    assert_eq!(heads[2][8], "1", "the cancellation is a Storno");
    assert_eq!(heads[2][13], "-4,50");
    let tse = rows(&files, "transactions_tse.csv");
    let signatures: Vec<bool> = tse.iter().map(|r| !r[10].is_empty()).collect();
    assert_eq!(signatures, vec![true, true, true, false, true]);
    assert_eq!(tse[3][3], never_asked.id.to_string());
    assert!(tse[3][11].starts_with("TSE-Ausfall"), "{:?}", tse[3]);
    let closing = &rows(&files, "cashpointclosing.csv")[0];
    assert_eq!(closing[7], "Sommerfest GmbH");
    assert_eq!(closing[11], "DEU");
    assert_eq!(
        closing[14], "13,50",
        "Z_SE_ZAHLUNGEN: 7.00 + 4.50 - 4.50 + 7.00 - 0.50"
    );
    assert!(files["lines.csv"].contains(";DifferenzSollIst;"));
    assert_eq!(rows(&files, "references.csv")[0][10], second.id.to_string());

    // The same export from the command line.
    let out = fx.dir.path().join("dsfinvk.zip");
    admin(&[
        "export",
        "dsfinvk",
        "--db",
        &fx.db,
        "--event",
        &fx.event,
        "--out",
        out.to_str().unwrap(),
    ]);
    let again = unzip(&std::fs::read(&out).unwrap());
    assert_eq!(again["transactions.csv"], files["transactions.csv"]);
    // Business days outside the tills' are empty; a wrong date is refused.
    admin(&[
        "export",
        "dsfinvk",
        "--db",
        &fx.db,
        "--event",
        &fx.event,
        "--from",
        "2020-01-01",
        "--to",
        "2020-01-02",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(rows(&unzip(&std::fs::read(&out).unwrap()), "transactions.csv").is_empty());
    let (code, body) = json(
        server
            .client()
            .get(format!(
                "{}?from=2026-13-01",
                server.url(&fx.event, "manage/fiscal/dsfinvk.zip")
            ))
            .bearer_auth(&fx.admin_token)
            .send()
            .unwrap(),
    );
    assert_eq!(code, 400, "{body}");
}

/// A cloud TSE that takes connections and never answers (the line to it
/// is down): the first receipt waits out the timeout and is an outage;
/// the next ones are outages at once, the device not asked again for a
/// while, so a till's receipts do not each wait the same timeout.
#[test]
fn a_tse_that_does_not_answer_is_not_asked_again_for_a_while() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = silent.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let (code, body) = set_up(
        &server,
        &fx,
        json!({ "scheme": "fiskaly", "fiskaly": {
            "base_url": format!("http://{address}/api/v2"),
            "api_key": API_KEY, "api_secret": API_SECRET, "tss_id": TSS_ID } }),
    );
    assert_eq!(code, 200, "{body}");
    let ledger = live_terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);

    let (_, first) = sign(
        &server,
        &fx,
        &fx.bar_token,
        &sell_cash(&ledger, "beer"),
        None,
    );
    let Signing::Outage { reason } = signed(&first) else {
        panic!("{first}")
    };
    assert!(reason.contains("cannot be reached"), "{reason}");
    let asked = connections.load(Ordering::SeqCst);
    assert!(asked >= 1);

    let (_, second) = sign(
        &server,
        &fx,
        &fx.bar_token,
        &sell_cash(&ledger, "water"),
        None,
    );
    let Signing::Outage { reason } = signed(&second) else {
        panic!("{second}")
    };
    assert!(reason.starts_with("not asked"), "{reason}");
    // The manager sees it down, without waiting for it either.
    assert_eq!(status(&server, &fx)["health"]["reachable"], false);
    assert_eq!(
        connections.load(Ordering::SeqCst),
        asked,
        "the resting device was not asked"
    );
}
