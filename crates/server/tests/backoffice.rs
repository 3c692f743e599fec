//! The back office against the real server over HTTPS: stock per bar
//! booked by online and synced offline sales (and given back by their
//! cancellation), deliveries, transfers, counts, a product sold out at one
//! bar; vendors and their settlement as the sum of their lines; seed 000's
//! eight lists and seed 004's products in the seeds' shapes.

mod common;

use common::till::{pending_batch, pull, push, sell_offline, statuses, terminal_ledger};
use common::{json, Fixture, Server};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use tapster_ledger::model::{Product, SyncState};
use tapster_ledger::store::{Authorisation, CancelRequest};
use tapster_ledger::{demo, Ledger};
use tapster_ledger::{IdempotencyKey, ProductId, StaffId, Timestamp};

const GUEST: &str = "04D30000000001";

/// `METHOD /api/v1/events/{event}/{path}` with a token.
fn call(
    server: &Server,
    event: &str,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = server.url(event, path);
    let client = server.client();
    let request = match method {
        "GET" => client.get(url),
        "POST" => client.post(url),
        "PUT" => client.put(url),
        "PATCH" => client.patch(url),
        "DELETE" => client.delete(url),
        _ => unreachable!(),
    };
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    json(request.send().unwrap())
}

fn admin(server: &Server, fx: &Fixture, method: &str, path: &str, body: Option<Value>) -> Value {
    let (status, answer) = call(server, &fx.event, Some(&fx.admin_token), method, path, body);
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

/// A new location; returns its identifier.
fn location(server: &Server, fx: &Fixture, name: &str) -> String {
    let made = admin(
        server,
        fx,
        "POST",
        "locations",
        Some(json!({"address": name})),
    );
    made["data"]["identifier"].as_str().unwrap().to_string()
}

/// Puts the till `terminal_id` at a location (seed 003's device update).
fn place(server: &Server, fx: &Fixture, terminal_id: &str, location: &str) {
    let devices = admin(server, fx, "GET", "devices", None);
    let device = devices["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["terminal_id"] == terminal_id)
        .unwrap()["identifier"]
        .as_str()
        .unwrap()
        .to_string();
    admin(
        server,
        fx,
        "PUT",
        &format!("devices/{device}"),
        Some(json!({"location_id": location, "pin": "1234"})),
    );
}

fn online_sale(server: &Server, fx: &Fixture, token: &str, products: &[&str]) -> (u16, Value) {
    call(
        server,
        &fx.event,
        Some(&fx.bar_token),
        "POST",
        &format!("pos/wallets/token/{token}/transactions"),
        Some(json!({
            "products": products,
            "idempotency_key": IdempotencyKey::random().as_str(),
            "description": "test",
            "tag": "test",
        })),
    )
}

/// Stock of an item at a location, in thousandths of its unit.
fn on_hand(server: &Server, fx: &Fixture, item: &str, location: &str) -> i64 {
    let stock = admin(server, fx, "GET", "manage/inventory/stock", None);
    stock["data"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["item_id"] == item && r["location_id"] == location)
        .unwrap_or_else(|| panic!("no row for {item} at {location}: {stock}"))["on_hand"]
        .as_i64()
        .unwrap()
}

fn cancel_offline(ledger: &Ledger, entry: tapster_ledger::EntryId) {
    ledger
        .cancel(
            &CancelRequest {
                key: IdempotencyKey::random(),
                staff: StaffId::new("anna").unwrap(),
                entry,
            },
            Authorisation::ThisLedger,
        )
        .unwrap();
}

fn sync(server: &Server, fx: &Fixture, ledger: &Ledger) {
    let batch = pending_batch(ledger);
    if batch.is_empty() {
        return;
    }
    let (status, body) = push(server, fx, &fx.bar_token, &batch);
    assert_eq!(status, 200, "{body}");
    assert!(
        statuses(&body).iter().all(|s| s == "created"),
        "every entry is taken: {body}"
    );
    let decisions: Vec<_> = batch
        .iter()
        .zip(body["data"]["results"].as_array().unwrap())
        .map(|(sent, result)| {
            (
                sent.entry.id,
                SyncState::Acknowledged {
                    server_id: result["transaction_id"].as_str().unwrap().to_string(),
                    server_cursor: result["cursor"].as_i64().unwrap_or(0),
                    at: Timestamp(0),
                },
            )
        })
        .collect();
    ledger.record_sync_decisions(&decisions).unwrap();
}

#[test]
fn stock_follows_sales_deliveries_transfers_and_counts_per_bar() {
    let fx = Fixture::new(5);
    let server = Server::start(&fx.db);
    let main = location(&server, &fx, "Hauptbar");
    let beach = location(&server, &fx, "Strandbar");
    place(&server, &fx, "bar-1", &main);
    admin(
        &server,
        &fx,
        "PUT",
        "manage/inventory/items/beer-keg",
        Some(json!({"name": "Bierfass", "unit": "l", "low_stock": 20_000})),
    );
    admin(
        &server,
        &fx,
        "PUT",
        "manage/inventory/items/lemonade",
        Some(json!({"name": "Limonade", "unit": "l", "low_stock": 5_000})),
    );
    // A recipe through seed 004's partial update: the rest of the beer stays.
    let beer = admin(
        &server,
        &fx,
        "PUT",
        "products/beer",
        Some(json!({"consumes": [{"item": "beer-keg", "quantity": 500}]})),
    );
    assert_eq!(beer["data"]["title"], "Bier 0,5 l", "{beer}");
    assert_eq!(beer["data"]["price"], json!(5.0));
    // A radler takes from two items.
    admin(
        &server,
        &fx,
        "PUT",
        "products/radler",
        Some(json!({"consumes": [
        {"item": "beer-keg", "quantity": 250}, {"item": "lemonade", "quantity": 250}]})),
    );
    admin(
        &server,
        &fx,
        "POST",
        "manage/inventory/movements",
        Some(json!({
        "kind": "delivery", "item_id": "beer-keg", "location_id": main, "quantity": 50_000, "note": "Lieferung Fr"})),
    );
    admin(
        &server,
        &fx,
        "POST",
        "manage/inventory/movements",
        Some(json!({
        "kind": "delivery", "item_id": "lemonade", "location_id": main, "quantity": 5_400})),
    );
    assert_eq!(on_hand(&server, &fx, "beer-keg", &main), 50_000);

    // Online: a beer and a radler.
    let (status, body) = online_sale(&server, &fx, GUEST, &["beer", "radler"]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(on_hand(&server, &fx, "beer-keg", &main), 50_000 - 500 - 250);
    assert_eq!(on_hand(&server, &fx, "lemonade", &main), 5_400 - 250);

    // Offline at the same till: a beer and a radler, one more beer
    // cancelled; they reach the stock when the batch arrives.
    let ledger = terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    let (beer, radler) = (demo::product("beer"), demo::product("radler"));
    sell_offline(&ledger, 2, &[(&beer, 1), (&radler, 1)]).unwrap();
    let cancelled = sell_offline(&ledger, 3, &[(&beer, 1)]).unwrap();
    cancel_offline(&ledger, cancelled);
    assert_eq!(
        on_hand(&server, &fx, "beer-keg", &main),
        49_250,
        "not synced yet"
    );
    sync(&server, &fx, &ledger);
    assert_eq!(on_hand(&server, &fx, "beer-keg", &main), 49_250 - 500 - 250);
    assert_eq!(on_hand(&server, &fx, "lemonade", &main), 5_150 - 250);

    // A transfer moves stock between bars; a count sets what was found.
    let moved = admin(
        &server,
        &fx,
        "POST",
        "manage/inventory/movements",
        Some(json!({
        "kind": "transfer", "item_id": "beer-keg", "from": main, "to": beach, "quantity": 10_000})),
    );
    assert_eq!(moved["data"].as_array().unwrap().len(), 2, "{moved}");
    assert_eq!(on_hand(&server, &fx, "beer-keg", &main), 38_500);
    assert_eq!(on_hand(&server, &fx, "beer-keg", &beach), 10_000);
    let count = admin(
        &server,
        &fx,
        "POST",
        "manage/inventory/counts",
        Some(json!({
        "item_id": "beer-keg", "location_id": beach, "counted": 9_500, "note": "Schaum"})),
    );
    assert_eq!(count["data"]["expected"], 10_000);
    assert_eq!(count["data"]["counted"], 9_500);
    assert_eq!(count["data"]["difference"], -500);
    assert_eq!(on_hand(&server, &fx, "beer-keg", &beach), 9_500);

    // Bad input: a clear error, nothing booked.
    for (body, status) in [
        (
            json!({"kind": "delivery", "item_id": "beer-keg", "location_id": main, "quantity": -1}),
            400,
        ),
        (
            json!({"kind": "transfer", "item_id": "beer-keg", "from": main, "to": main, "quantity": 1}),
            400,
        ),
        (
            json!({"kind": "theft", "item_id": "beer-keg", "location_id": main, "quantity": 1}),
            400,
        ),
        (
            json!({"kind": "delivery", "item_id": "nothing", "location_id": main, "quantity": 1}),
            404,
        ),
        (
            json!({"kind": "delivery", "item_id": "beer-keg", "location_id": "nowhere", "quantity": 1}),
            404,
        ),
    ] {
        let (got, answer) = call(
            &server,
            &fx.event,
            Some(&fx.admin_token),
            "POST",
            "manage/inventory/movements",
            Some(body.clone()),
        );
        assert_eq!(got, status, "{body} → {answer}");
        assert!(answer["error_message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(on_hand(&server, &fx, "beer-keg", &main), 38_500);

    // The till at the main bar hears of the lemonade running low, and a
    // product sold out there is refused there (online) and marked in its
    // catalogue; the till's own ledger refuses it too.
    admin(
        &server,
        &fx,
        "PUT",
        &format!("manage/locations/{main}/sold-out/radler"),
        None,
    );
    let (status, catalog) = call(
        &server,
        &fx.event,
        Some(&fx.bar_token),
        "GET",
        "pos/catalog",
        None,
    );
    assert_eq!(status, 200);
    let warnings = catalog["data"]["stock_warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["item"], "lemonade");
    assert_eq!(warnings[0]["level"], "low");
    let radler_here = catalog["data"]["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "radler")
        .unwrap();
    assert_eq!(radler_here["sold_out"], true);
    let (status, refused) = online_sale(&server, &fx, GUEST, &["radler"]);
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error_code"], "sold_out");
    let (status, _) = online_sale(&server, &fx, &demo::wristband(4).to_string(), &["beer"]);
    assert_eq!(status, 200, "beer is still on sale");
    admin(
        &server,
        &fx,
        "DELETE",
        &format!("manage/locations/{main}/sold-out/radler"),
        None,
    );
    let (status, _) = online_sale(&server, &fx, &demo::wristband(5).to_string(), &["radler"]);
    assert_eq!(status, 200, "on sale again");

    // The inventory transaction report (seed 000) lists every movement,
    // filtered by kind and sorted by two keys.
    let (status, sales) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "GET",
        "backoffice/inventory_transactions?kind=sale&sort=item_id%3Aasc%2Cquantity%3Adesc",
        None,
    );
    assert_eq!(status, 200, "{sales}");
    let rows = sales["data"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["kind"] == "sale"));
    assert_eq!(sales["total"], rows.len());
    let keys: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["item_id"].as_str().unwrap().to_string(),
                r["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    assert_eq!(keys, sorted);
    assert!(
        keys.iter().any(|(_, q)| *q > 0),
        "the cancellation gave stock back"
    );
    let (status, counts) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "GET",
        "backoffice/inventory_counts",
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(counts["data"][0]["difference"], -500);
    assert_eq!(counts["data"][0]["location_name"], "Strandbar");
}

#[test]
fn vendor_settlement_is_the_sum_of_its_lines() {
    let fx = Fixture::new(40);
    let server = Server::start(&fx.db);
    admin(
        &server,
        &fx,
        "PUT",
        "manage/vendors/brewery",
        Some(json!({"name": "Brauerei"})),
    );
    admin(
        &server,
        &fx,
        "PUT",
        "products/beer",
        Some(json!({"vendor_id": "brewery"})),
    );
    let ledger = terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    let case = std::cell::Cell::new(0);
    let (offline, cancelled) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    let mut runner = TestRunner::new(Config {
        cases: 6,
        failure_persistence: None,
        ..Config::default()
    });
    // Each case: a vendor with its own stand and crêpe; water there is the
    // stand's (no vendor of its own), beer the brewery's. Random sales,
    // online and offline, some cancelled.
    let ops = proptest::collection::vec((0u8..3, 0i64..3, 0i64..3, any::<bool>()), 1..10);
    runner
        .run(&(ops, 0i64..3000, 0i64..2000), |(ops, rate_bp, fee)| {
            let n = case.get() + 1;
            case.set(n);
            let stand = location(&server, &fx, &format!("Stand {n}"));
            place(&server, &fx, "bar-1", &stand);
            let vendor = format!("crepes-{n}");
            admin(&server, &fx, "PUT", &format!("manage/vendors/{vendor}"), Some(json!({
                "name": format!("Crêpes {n}"), "commission_bp": rate_bp, "fixed_fee": fee, "locations": [stand]})));
            let crepe_id = format!("crepe-{n}");
            let made = admin(&server, &fx, "POST", "products", Some(json!({
                "identifier": crepe_id, "title": "Crêpe", "price": 6.5, "category_id": "food", "vat_bp": 700})));
            let crepe: Product = {
                let mut p = demo::products()
                    .into_iter()
                    .find(|p| p.id.as_str() == "bratwurst")
                    .unwrap();
                p.id = tapster_ledger::ProductId::new(crepe_id.as_str()).unwrap();
                p.name = "Crêpe".into();
                p.price = tapster_ledger::Cents(650);
                p
            };
            ledger.upsert_product(&crepe).unwrap();
            assert_eq!(made["data"]["price"], json!(6.5));
            let water = demo::product("water");
            let beer = demo::product("beer");
            let mut expected = 0i64;
            for (i, (how, crepes, waters, cancel)) in ops.iter().enumerate() {
                let beers = i64::from(i % 2 == 0);
                if crepes + waters + beers == 0 {
                    continue;
                }
                let wristband = 1 + ((n as usize * 8 + i) % 40) as u32;
                let vendor_gross = crepes * 650 + waters * 250;
                match how {
                    0 => {
                        let mut products = Vec::new();
                        products.extend(std::iter::repeat_n(crepe_id.as_str(), *crepes as usize));
                        products.extend(std::iter::repeat_n("water", *waters as usize));
                        products.extend(std::iter::repeat_n("beer", beers as usize));
                        let token = demo::wristband(wristband).to_string();
                        let (status, body) = online_sale(&server, &fx, &token, &products);
                        if status == 200 {
                            expected += vendor_gross;
                        } else {
                            prop_assert_eq!(body["error_code"].as_str(), Some("insufficient_funds"), "{} {}", status, body);
                        }
                    }
                    _ => {
                        pull(&server, &fx, &ledger);
                        let cart: Vec<(&ProductId, i64)> = [(&crepe.id, *crepes), (&water, *waters), (&beer, beers)]
                            .into_iter()
                            .filter(|(_, q)| *q > 0)
                            .collect();
                        let Ok(entry) = sell_offline(&ledger, wristband, &cart) else {
                            continue;
                        };
                        expected += vendor_gross;
                        offline.set(offline.get() + 1);
                        if *cancel {
                            cancelled.set(cancelled.get() + 1);
                            cancel_offline(&ledger, entry);
                            expected -= vendor_gross;
                        }
                        sync(&server, &fx, &ledger);
                    }
                }
            }
            let (status, report) = call(&server, &fx.event, Some(&fx.admin_token), "GET",
                &format!("manage/vendors/{vendor}/settlement"), None);
            prop_assert_eq!(status, 200);
            let r = &report["data"];
            let lines = r["lines"].as_array().unwrap();
            let line_sum: i64 = lines.iter().map(|l| l["gross"].as_i64().unwrap()).sum();
            prop_assert_eq!(r["gross"].as_i64().unwrap(), expected, "{}", report);
            prop_assert_eq!(line_sum, expected);
            prop_assert!(lines.iter().all(|l| l["product_id"] == crepe_id.as_str() || l["product_id"] == "water"));
            let commission = r["commission"].as_i64().unwrap();
            prop_assert!((commission * 10_000 - expected * rate_bp).abs() <= 5_000);
            prop_assert_eq!(r["payable"].as_i64().unwrap(), expected - commission - fee);
            let vat: i64 = r["vat"].as_array().unwrap().iter().map(|v| v["gross"].as_i64().unwrap()).sum();
            prop_assert_eq!(vat, expected);
            Ok(())
        })
        .unwrap();
    assert!(
        offline.get() > 0 && cancelled.get() > 0,
        "offline sales ({}) and cancellations ({}) were part of it",
        offline.get(),
        cancelled.get()
    );

    // The same settlement as CSV (every line, for the vendor to check)
    // and as PDF.
    let csv = server
        .client()
        .get(server.url(
            &fx.event,
            "manage/vendors/crepes-1/settlement.csv?language=en",
        ))
        .bearer_auth(&fx.admin_token)
        .send()
        .unwrap();
    assert_eq!(csv.status().as_u16(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = csv.text().unwrap();
    assert!(csv.contains("Settlement;Crêpes 1"), "{csv}");
    assert!(csv.contains("Payable"));
    let pdf = server
        .client()
        .get(server.url(&fx.event, "manage/vendors/crepes-1/settlement.pdf"))
        .bearer_auth(&fx.admin_token)
        .send()
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().unwrap().starts_with(b"%PDF"));
    // The brewery's beer was attributed to it wherever it was sold.
    let brewery = admin(
        &server,
        &fx,
        "GET",
        "manage/vendors/brewery/settlement",
        None,
    );
    assert!(brewery["data"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["product_id"] == "beer"));
    // Bad input: nothing saved.
    let (status, _) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "PUT",
        "manage/vendors/x",
        Some(json!({"name": "X", "commission_bp": 10_001})),
    );
    assert_eq!(status, 400);
    let (status, _) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "GET",
        "manage/vendors/x",
        None,
    );
    assert_eq!(status, 404);
    let (status, _) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "GET",
        "manage/vendors/brewery/settlement?from=yesterday",
        None,
    );
    assert_eq!(status, 400);
}

#[test]
fn seed_000_lists_speak_the_seed() {
    let fx = Fixture::new(2);
    let server = Server::start_limited(&fx.db, 5.0);
    let bar = location(&server, &fx, "Bar Nord");
    place(&server, &fx, "bar-1", &bar);
    let (status, menu) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "GET",
        &format!(
            "backoffice/menu_items?location_id={bar}&sort=name%3Adesc%2Citem_id%3Aasc&limit=5"
        ),
        None,
    );
    assert_eq!(status, 200, "{menu}");
    let rows = menu["data"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(menu["limit"], 5);
    assert!(menu["total"].as_u64().unwrap() > 5);
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(names, sorted, "name descending");
    for field in [
        "item_id",
        "name",
        "price",
        "location_id",
        "location_name",
        "sold_out",
    ] {
        assert!(rows[0].get(field).is_some(), "{field} in {}", rows[0]);
    }
    assert!(rows[0]["price"].is_i64(), "cents");
    assert_eq!(rows[0]["location_name"], "Bar Nord");

    let (status, staff) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "GET",
        "backoffice/staff?role=manager",
        None,
    );
    assert_eq!(status, 200);
    assert!(staff["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["role"] == "manager"));
    assert_eq!(staff["data"][0]["pin_set"], true);
    for object in [
        "vendors",
        "inventory_items",
        "inventory_transactions",
        "inventory_counts",
        "sales",
        "topups",
    ] {
        let (status, body) = call(
            &server,
            &fx.event,
            Some(&fx.admin_token),
            "GET",
            &format!("backoffice/{object}"),
            None,
        );
        assert_eq!(status, 200, "{object}: {body}");
        assert!(
            body["data"].is_array() && body["total"].is_u64(),
            "{object}: {body}"
        );
    }

    // Errors in the seed's shape: a number for error_code.
    let (status, refused) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "GET",
        "backoffice/menu_items?sort=colour%3Aasc",
        None,
    );
    assert_eq!(status, 400);
    assert_eq!(refused["error_code"], json!(0));
    assert!(refused["error_message"]
        .as_str()
        .unwrap()
        .contains("colour"));
    let (status, refused) = call(&server, &fx.event, None, "GET", "backoffice/staff", None);
    assert_eq!(status, 401);
    assert_eq!(
        refused,
        json!({"error_code": 0, "error_message": "A valid authorization was not present"})
    );
    let (status, refused) = call(
        &server,
        &fx.event,
        Some(&fx.bar_token),
        "GET",
        "backoffice/staff",
        None,
    );
    assert_eq!(status, 401, "a till's token is no manager's: {refused}");

    // Above an average of five requests a second per endpoint: 429, in
    // the seed's shape.
    let mut limited = None;
    for _ in 0..30 {
        let (status, body) = call(
            &server,
            &fx.event,
            Some(&fx.admin_token),
            "GET",
            "backoffice/vendors",
            None,
        );
        if status == 429 {
            limited = Some(body);
            break;
        }
    }
    let limited = limited.expect("the rate limit answers 429");
    assert_eq!(limited["error_code"], json!(0));
    assert!(limited["error_message"]
        .as_str()
        .unwrap()
        .starts_with("too many requests"));
}

#[test]
fn seed_004_products_speak_the_seed() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let (status, made) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "POST",
        "products",
        Some(json!({
        "title": "Crêpe Nutella", "subtitle": "frisch", "organization_id": fx.event,
        "description": "Mit Haselnusscreme", "thumbnail_url": "https://example.org/crepe.png",
        "show_title": true, "price": 12.50, "primary_color": "#ff00ff", "text_color": "#0000ff",
        "ribbon_color": "#ff0000", "show_subtitle": false, "points": 123, "use_stock": true,
        "use_start_and_end": true, "sale": true, "sale_text": "Happy Hour", "sale_price": 9.90,
        "sale_points": 12, "stock": 12, "start_date": "2026-08-01", "end_date": "2026-08-04",
        "category_id": "food", "vat_bp": 700})),
    );
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["message"], "Request successful");
    let p = &made["data"];
    assert_eq!(p["identifier"], "crepe-nutella");
    assert_eq!(p["price"], json!(12.5));
    assert_eq!(p["sale_price"], json!(9.9));
    assert_eq!(p["organization"]["identifier"], fx.event.as_str());
    assert_eq!(p["show_subtitle"], false);
    assert_eq!(p["ribbon_color"], "#FF0000");
    assert_eq!(p["start_date"], "2026-08-01T00:00:00.000000Z");
    for field in [
        "created_at",
        "updated_at",
        "thumbnail_url",
        "sale_text",
        "points",
        "sale_points",
        "use_stock",
        "use_start_and_end",
        "description",
    ] {
        assert!(!p[field].is_null(), "{field} in {p}");
    }
    // The price goes out as the decimal it is, never a float's digits.
    let raw = server
        .client()
        .get(server.url(&fx.event, "products/crepe-nutella"))
        .bearer_auth(&fx.admin_token)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(raw.contains("\"price\":12.50"), "{raw}");

    // A partial update keeps what was not sent.
    let (status, changed) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "PUT",
        "products/crepe-nutella",
        Some(json!({"price": 13, "sale": false})),
    );
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["data"]["price"], json!(13.0));
    assert_eq!(changed["data"]["title"], "Crêpe Nutella");
    assert_eq!(changed["data"]["sale_text"], "Happy Hour");
    assert_eq!(
        changed["data"]["thumbnail_url"],
        "https://example.org/crepe.png"
    );
    assert_eq!(changed["data"]["created_at"], p["created_at"]);

    // More than two decimals, a missing title, a bad colour: 400, nothing stored.
    for body in [
        json!({"title": "x", "price": 1.005}),
        json!({"price": 1}),
        json!({"title": "y", "ribbon_color": "red"}),
    ] {
        let (status, refused) = call(
            &server,
            &fx.event,
            Some(&fx.admin_token),
            "POST",
            "products",
            Some(body.clone()),
        );
        assert_eq!(status, 400, "{body} → {refused}");
    }
    let (status, _) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "PUT",
        "products/crepe-nutella",
        Some(json!({"price": 2.999})),
    );
    assert_eq!(status, 400);
    let (_, still) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "GET",
        "products/crepe-nutella",
        None,
    );
    assert_eq!(still["data"]["price"], json!(13.0));

    // Archive (DELETE) and restore (PATCH) as the seed answers them.
    let (status, archived) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "DELETE",
        "products/crepe-nutella",
        None,
    );
    assert_eq!(
        (status, archived["data"].clone()),
        (200, json!("Product archived"))
    );
    let (_, list) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "GET",
        "products",
        None,
    );
    let listed = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["identifier"] == "crepe-nutella")
        .unwrap();
    assert_eq!(listed["archived"], true);
    let (status, restored) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "PATCH",
        "products/crepe-nutella",
        None,
    );
    assert_eq!(
        (status, restored["data"].clone()),
        (200, json!("Product restored"))
    );

    // Abilities: a device token has none of products.*; no token, 401.
    let (status, _) = call(
        &server,
        &fx.event,
        Some(&fx.bar_token),
        "GET",
        "products",
        None,
    );
    assert_eq!(status, 403);
    let (status, _) = call(&server, &fx.event, None, "GET", "products", None);
    assert_eq!(status, 401);
    let (status, _) = call(
        &server,
        &fx.event,
        Some(&fx.admin_token),
        "GET",
        "products/nothing-here",
        None,
    );
    assert_eq!(status, 404);
}
