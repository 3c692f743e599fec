//! The Winston-shaped integration API (seed 002) against the real server:
//! keys made and revoked by a manager, `Token <app>@<key>`, plain-text
//! 401s, bills with their lines, payments, VAT and status, and the
//! query's sort, limit, skip and filters.

mod common;

use common::till::{open_bill, pay_bill, pending_batch, pull, push, statuses, terminal_ledger};
use common::{json, Fixture, Server};
use serde_json::{json, Value};
use tapster_ledger::bills::Tip;
use tapster_ledger::model::Tender;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::CancelBillRequest;
use tapster_ledger::{demo, Cents, IdempotencyKey, StaffId};

fn manage(
    server: &Server,
    fx: &Fixture,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = server.url(&fx.event, &format!("manage/{path}"));
    let request = match method {
        "GET" => server.client().get(url),
        "POST" => server.client().post(url),
        "DELETE" => server.client().delete(url),
        _ => unreachable!(),
    }
    .bearer_auth(&fx.admin_token);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A key for `app`, as the manager makes it.
fn integration(server: &Server, fx: &Fixture, app: &str) -> String {
    let (status, body) = manage(
        server,
        fx,
        "POST",
        "integrations",
        Some(json!({"app": app})),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["app"], app);
    body["data"]["key"].as_str().unwrap().to_string()
}

/// `POST /api/v2/<collection>` with `Authorization`; the status, the
/// body as JSON (or as a string when it is plain text).
fn winston(server: &Server, collection: &str, auth: Option<&str>, query: &str) -> (u16, Value) {
    let mut request = server
        .client()
        .post(format!("{}/api/v2/{collection}", server.base))
        .header("content-type", "application/json")
        .body(query.to_string());
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    let plain = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap().starts_with("text/plain"));
    let text = response.text().unwrap();
    let body = if plain {
        Value::String(text)
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, body)
}

#[test]
fn keys_are_made_and_revoked_by_a_manager_and_wrong_ones_get_a_plain_401() {
    let fx = Fixture::new(2);
    let server = Server::start(&fx.db);
    let key = integration(&server, &fx, "api_test");
    let auth = format!("Token api_test@{key}");
    // Documented in the OpenAPI document with its plain-text refusals.
    let openapi: Value = server
        .client()
        .get(format!("{}/api/v1/openapi.json", server.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    for collection in ["bills", "payments", "products", "users"] {
        let route = &openapi["paths"][format!("/api/v2/{collection}")]["post"];
        assert!(
            route["responses"]["401"]["content"]["text/plain"].is_object(),
            "{route}"
        );
    }
    let (status, users) = winston(&server, "users", Some(&auth), "{}");
    assert_eq!(status, 200, "{users}");
    let users = users.as_array().unwrap();
    assert!(users
        .iter()
        .any(|u| u["name"] == "Anna" && u["role"] == "cashier"));
    assert!(users
        .iter()
        .all(|u| u.get("pin_hash").is_none() && u.get("pin").is_none()));

    for (header, why) in [
        (
            None,
            "Unauthorized: missing Authorization: Token <app name>@<api key>",
        ),
        (
            Some(format!("Bearer {key}")),
            "Unauthorized: invalid authorization scheme, expected Token",
        ),
        (
            Some(format!("Token {key}")),
            "Unauthorized: invalid token value, expected <app name>@<api key>",
        ),
        (
            Some("Token api_test@not-the-key".to_string()),
            "Unauthorized: invalid api key",
        ),
        (
            Some(format!("Token other_app@{key}")),
            "Unauthorized: the api key is not for this app",
        ),
    ] {
        let (status, body) = winston(&server, "bills", header.as_deref(), "{}");
        assert_eq!(status, 401);
        assert_eq!(body, Value::String(why.into()));
    }
    // Another event's admin cannot make keys here; the list shows no keys.
    let (status, _) = json(
        server
            .client()
            .post(server.url(&fx.event, "manage/integrations"))
            .bearer_auth(&fx.other_admin_token)
            .json(&json!({"app": "intruder"}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 401);
    let (status, list) = manage(&server, &fx, "GET", "integrations", None);
    assert_eq!(status, 200);
    assert!(list["data"][0].get("key").is_none(), "{list}");
    let (status, _) = manage(
        &server,
        &fx,
        "POST",
        "integrations",
        Some(json!({"app": "Bad App!"})),
    );
    assert_eq!(status, 400);

    // A new key for the app revokes the old one; revoking ends the new.
    let newer = integration(&server, &fx, "api_test");
    assert_eq!(winston(&server, "users", Some(&auth), "{}").0, 401);
    let newer_auth = format!("Token api_test@{newer}");
    assert_eq!(winston(&server, "users", Some(&newer_auth), "{}").0, 200);
    assert_eq!(
        manage(&server, &fx, "DELETE", "integrations/api_test", None).0,
        204
    );
    assert_eq!(winston(&server, "users", Some(&newer_auth), "{}").0, 401);
    assert_eq!(
        manage(&server, &fx, "DELETE", "integrations/api_test", None).0,
        404
    );
}

#[test]
fn bills_come_with_lines_payments_vat_and_status_sorted_and_paged() {
    let fx = Fixture::new(5);
    let server = Server::start(&fx.db);
    let auth = format!("Token books@{}", integration(&server, &fx, "books"));
    // A beer paid at once online: a bill with one wallet payment.
    let (status, body) = json(
        server
            .client()
            .post(server.url(
                &fx.event,
                &format!("pos/wallets/token/{}/transactions", demo::wristband(1)),
            ))
            .bearer_auth(&fx.bar_token)
            .json(&json!({"products": ["beer"], "tip_cents": 50}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    // A split bill at an offline till: two bratwurst, a band and a card.
    let ledger = terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    let bill = open_bill(
        &ledger,
        Cart::new()
            .with(&demo::product("bratwurst"), 2)
            .with_tip(Tip::Amount(Cents(1_00))),
    );
    assert_eq!(bill.total, Cents(10_00));
    pay_bill(
        &ledger,
        &bill,
        Tender::Wallet,
        Some(demo::wristband(2)),
        6_00,
        None,
    );
    pay_bill(&ledger, &bill, Tender::Card, None, 4_00, Some("4711"));
    // And a bill cancelled after its first payment.
    let cancelled = open_bill(&ledger, Cart::new().with(&demo::product("water"), 1));
    pay_bill(&ledger, &cancelled, Tender::Cash, None, 1_00, None);
    ledger
        .cancel_bill(&CancelBillRequest {
            key: IdempotencyKey::random(),
            staff: StaffId::new("anna").unwrap(),
            bill: cancelled.id,
        })
        .unwrap();
    let batch = pending_batch(&ledger);
    let (status, body) = push(&server, &fx, &fx.bar_token, &batch);
    assert_eq!(status, 200);
    assert!(statuses(&body).iter().all(|s| s == "created"), "{body}");

    let (status, bills) = winston(
        &server,
        "bills",
        Some(&auth),
        r#"{"sort": {"createdAt": 1}}"#,
    );
    assert_eq!(status, 200, "{bills}");
    let bills = bills.as_array().unwrap();
    assert_eq!(bills.len(), 3, "{bills:?}");
    let split = bills
        .iter()
        .find(|b| b["id"] == bill.id.to_string())
        .unwrap();
    assert_eq!(split["status"], "settled");
    assert_eq!(split["total"], 10_00);
    assert_eq!(split["tip"], 1_00);
    assert_eq!(split["paid"], 10_00);
    let kinds: Vec<&str> = split["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["product", "tip"]);
    assert_eq!(split["vat"][0]["rate"], 700);
    assert_eq!(split["vat"][0]["gross"], 9_00);
    let payments = split["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 2);
    assert_eq!(payments[0]["method"], "wallet");
    assert_eq!(payments[0]["wristband"], "••••0002");
    assert_eq!(payments[1]["method"], "card");
    assert_eq!(payments[1]["reference"], "4711");
    assert_eq!(split["terminal"]["id"], "bar-1");
    assert_eq!(split["user"]["name"], "Anna");
    let gone = bills
        .iter()
        .find(|b| b["id"] == cancelled.id.to_string())
        .unwrap();
    assert_eq!(gone["status"], "cancelled");
    assert_eq!(gone["paid"], 0);
    assert_eq!(gone["payments"][0]["cancelled"], true);
    let online = bills
        .iter()
        .find(|b| b["id"] != bill.id.to_string() && b["id"] != cancelled.id.to_string())
        .unwrap();
    assert_eq!(online["total"], 7_50);
    assert_eq!(online["payments"][0]["amount"], 7_50);

    // Sort, skip, limit and filters.
    let (_, by_total) = winston(
        &server,
        "bills",
        Some(&auth),
        r#"{"sort": {"total": -1}, "skip": 1, "limit": 1}"#,
    );
    assert_eq!(by_total.as_array().unwrap().len(), 1);
    assert_eq!(by_total[0]["total"], 7_50, "the second dearest");
    let (_, settled) = winston(
        &server,
        "bills",
        Some(&auth),
        r#"{"filter": {"status": "settled", "terminal": "bar-1"}}"#,
    );
    assert_eq!(
        settled.as_array().unwrap().len(),
        2,
        "the cancelled one is not"
    );
    let (_, elsewhere) = winston(
        &server,
        "bills",
        Some(&auth),
        r#"{"filter": {"terminal": "bar-2"}}"#,
    );
    assert!(elsewhere.as_array().unwrap().is_empty());
    let (_, future) = winston(
        &server,
        "bills",
        Some(&auth),
        r#"{"filter": {"from": "2099-01-01T00:00:00Z"}}"#,
    );
    assert!(future.as_array().unwrap().is_empty());
    let (_, cards) = winston(
        &server,
        "payments",
        Some(&auth),
        r#"{"filter": {"method": "card"}}"#,
    );
    assert_eq!(cards.as_array().unwrap().len(), 1);
    assert_eq!(cards[0]["bill"], bill.id.to_string());
    let (_, products) = winston(
        &server,
        "products",
        Some(&auth),
        r#"{"sort": {"price": -1}, "limit": 2}"#,
    );
    let products = products.as_array().unwrap();
    assert_eq!(products.len(), 2);
    assert!(products[0]["price"].as_i64() >= products[1]["price"].as_i64());

    for (query, why) in [
        (r#"{"sort": {"colour": 1}}"#, "cannot sort by 'colour'"),
        (r#"{"sort": {"total": 2}}"#, "must be 1 or -1"),
        (r#"{"limit": 0}"#, "limit must be 1 to 1000"),
        (r#"{"filter": {"status": "lost"}}"#, "status must be one of"),
        (r#"{"filter": {"from": "yesterday"}}"#, "from must be like"),
        ("[1, 2", "the query is not valid"),
    ] {
        let (status, body) = winston(&server, "bills", Some(&auth), query);
        assert_eq!(status, 400, "{query}");
        let text = body.as_str().unwrap();
        assert!(
            text.starts_with("Bad Request: ") && text.contains(why),
            "{query}: {text}"
        );
    }
}
