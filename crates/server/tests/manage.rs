//! The manager API against the real server: catalogue, terminals, staff,
//! wallets, reports. Every call needs the event's admin token.

mod common;

use common::{json, Fixture, Server};
use serde_json::{json, Value};

struct Admin<'a> {
    server: &'a Server,
    fx: &'a Fixture,
}

impl Admin<'_> {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = self.server.url(&self.fx.event, &format!("manage/{path}"));
        let request = match method {
            "GET" => self.server.client().get(url),
            "POST" => self.server.client().post(url),
            "PUT" => self.server.client().put(url),
            "PATCH" => self.server.client().patch(url),
            "DELETE" => self.server.client().delete(url),
            _ => unreachable!(),
        }
        .bearer_auth(&self.fx.admin_token);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        json(request.send().unwrap())
    }
}

fn pos(
    server: &Server,
    fx: &Fixture,
    token: &str,
    wristband: &str,
    products: Value,
) -> (u16, Value) {
    json(
        server
            .client()
            .post(server.url(
                &fx.event,
                &format!("pos/wallets/token/{wristband}/transactions"),
            ))
            .bearer_auth(token)
            .json(&json!({ "products": products }))
            .send()
            .unwrap(),
    )
}

#[test]
fn only_the_events_admin_token_gets_in() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let url = server.url(&fx.event, "manage/products");
    for token in [
        None,
        Some(fx.bar_token.as_str()),
        Some(fx.other_admin_token.as_str()),
        Some("nonsense"),
    ] {
        let request = server.client().get(&url);
        let request = match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        };
        let (status, body) = json(request.send().unwrap());
        assert_eq!(
            (status, body["error_code"].as_str()),
            (401, Some("unauthenticated")),
            "{token:?}"
        );
    }
}

#[test]
fn products_are_created_updated_archived_and_restored() {
    let fx = Fixture::new(2);
    let server = Server::start(&fx.db);
    let admin = Admin {
        server: &server,
        fx: &fx,
    };
    let (status, body) = admin.call("GET", "products", None);
    assert_eq!(status, 200);
    assert_eq!(body["data"].as_array().unwrap().len(), 9);

    let mut mate = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "cola")
        .unwrap()
        .clone();
    mate["id"] = json!("mate");
    mate["name"] = json!("Club-Mate");
    mate["price"] = json!(400);
    let (status, created) = admin.call("POST", "products", Some(mate.clone()));
    assert_eq!(status, 201, "{created}");
    // The same create again is answered as made; another product under
    // the id is a conflict.
    let (status, _) = admin.call("POST", "products", Some(mate.clone()));
    assert_eq!(status, 201);
    let mut other = mate.clone();
    other["name"] = json!("Mate");
    let (status, body) = admin.call("POST", "products", Some(other));
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("conflict"))
    );
    let mut bad = mate.clone();
    bad["price"] = json!(-5);
    let (status, body) = admin.call("PUT", "products/mate", Some(bad));
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("invalid_parameters")),
        "{body}"
    );
    let mut bad = mate.clone();
    bad["category"] = json!("nope");
    assert_eq!(admin.call("PUT", "products/mate", Some(bad)).0, 400);
    mate["on_sale"] = json!(true);
    mate["sale_price"] = json!(300);
    let (status, updated) = admin.call("PUT", "products/mate", Some(mate.clone()));
    assert_eq!((status, &updated["data"]["sale_price"]), (200, &json!(300)));
    assert_eq!(
        admin.call("PUT", "products/wine", Some(mate.clone())).0,
        400,
        "id differs from the path"
    );

    // Archived products cannot be sold, restored ones can.
    let (status, archived) = admin.call("DELETE", "products/beer", None);
    assert_eq!((status, &archived["data"]["archived"]), (200, &json!(true)));
    let (status, body) = pos(
        &server,
        &fx,
        &fx.bar_token,
        "04D30000000001",
        json!(["beer"]),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("product_archived"))
    );
    let (_, terminal) = json(
        server
            .client()
            .get(server.url(&fx.event, "pos/terminal"))
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap(),
    );
    assert!(!terminal["data"]["products"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == "beer"));
    let (_, visible) = admin.call("GET", "products", None);
    assert!(!visible["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == "beer"));
    let (_, all) = admin.call("GET", "products?archived=true", None);
    assert!(all["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == "beer"));
    assert_eq!(admin.call("PATCH", "products/beer", None).0, 200);
    assert_eq!(
        pos(
            &server,
            &fx,
            &fx.bar_token,
            "04D30000000001",
            json!(["beer"])
        )
        .0,
        200
    );
    assert_eq!(admin.call("DELETE", "products/absinth", None).0, 404);
}

#[test]
fn terminals_are_created_rolled_archived_and_restored() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let admin = Admin {
        server: &server,
        fx: &fx,
    };
    let (status, created) = admin.call(
        "POST",
        "terminals",
        Some(json!({"friendly_name": "Bar Süd", "permission": "debit"})),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(id, "bar-sud");
    let token = created["data"]["api_token"].as_str().unwrap().to_string();
    let terminal_get = |token: &str| {
        json(
            server
                .client()
                .get(server.url(&fx.event, "pos/terminal"))
                .bearer_auth(token)
                .send()
                .unwrap(),
        )
        .0
    };
    assert_eq!(terminal_get(&token), 200);

    let (_, list) = admin.call("GET", "terminals", None);
    let listed = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .unwrap()
        .clone();
    assert!(
        listed.get("api_token").is_none() && listed.get("token_hash").is_none(),
        "tokens are never listed"
    );
    assert_eq!(listed["last_sequence"], 0);

    let (status, rolled) = admin.call("POST", &format!("terminals/{id}/token"), None);
    assert_eq!(status, 200);
    let new_token = rolled["data"]["api_token"].as_str().unwrap().to_string();
    assert_eq!(
        terminal_get(&token),
        401,
        "the old token stops working at once"
    );
    assert_eq!(terminal_get(&new_token), 200);

    let (status, updated) = admin.call(
        "PUT",
        &format!("terminals/{id}"),
        Some(
            json!({"friendly_name": "Bar Süd 2", "permission": "all", "layout": ["beer", "water"]}),
        ),
    );
    assert_eq!(status, 200, "{updated}");
    let (_, seen) = json(
        server
            .client()
            .get(server.url(&fx.event, "pos/terminal"))
            .bearer_auth(&new_token)
            .send()
            .unwrap(),
    );
    assert_eq!(seen["data"]["permission"], "all");
    assert_eq!(seen["data"]["products"].as_array().unwrap().len(), 2);
    let (status, _) = admin.call(
        "PUT",
        &format!("terminals/{id}"),
        Some(json!({"friendly_name": "X", "permission": "all", "layout": ["nope"]})),
    );
    assert_eq!(status, 400);

    assert_eq!(
        admin.call("DELETE", &format!("terminals/{id}"), None).0,
        200
    );
    assert_eq!(
        terminal_get(&new_token),
        401,
        "an archived terminal is locked out"
    );
    assert_eq!(admin.call("PATCH", &format!("terminals/{id}"), None).0, 200);
    assert_eq!(terminal_get(&new_token), 200);
    assert_eq!(admin.call("DELETE", "terminals/ghost", None).0, 404);
}

#[test]
fn staff_pins_are_hashed_and_validated() {
    let fx = Fixture::new(0);
    let server = Server::start(&fx.db);
    let admin = Admin {
        server: &server,
        fx: &fx,
    };
    let (status, body) = admin.call(
        "POST",
        "staff",
        Some(json!({"id": "lena", "name": "Lena", "role": "cashier", "pin": "2468"})),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body["data"].get("pin").is_none());
    let (_, list) = admin.call("GET", "staff", None);
    assert!(list["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == "lena"));
    assert!(!list.to_string().contains("2468") && !list.to_string().contains("argon2"));
    let (status, _) = admin.call(
        "POST",
        "staff",
        Some(json!({"id": "lena", "name": "Lena", "role": "cashier", "pin": "12"})),
    );
    assert_eq!(status, 400);
    let (status, _) = admin.call(
        "POST",
        "staff",
        Some(json!({"id": "Lena!", "name": "Lena", "role": "cashier", "pin": "1234"})),
    );
    assert_eq!(status, 400);
    let (status, _) = admin.call(
        "POST",
        "staff",
        Some(json!({"id": "x", "name": "X", "role": "king", "pin": "1234"})),
    );
    assert_eq!(status, 400);
}

#[test]
fn wallets_are_paired_blocked_moved_and_paid_out() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let admin = Admin {
        server: &server,
        fx: &fx,
    };
    let (status, wallet) = admin.call(
        "POST",
        "wallets",
        Some(json!({"token_id": "04aabbccddeeff", "balance": 3000})),
    );
    assert_eq!(status, 201, "{wallet}");
    assert_eq!(wallet["data"]["balance"], 3000);
    assert_eq!(
        admin
            .call(
                "POST",
                "wallets",
                Some(json!({"token_id": "04AABBCCDDEEFF"}))
            )
            .0,
        409
    );
    assert_eq!(
        admin
            .call("POST", "wallets", Some(json!({"token_id": "zz"})))
            .0,
        400
    );
    // The event's maximum balance (250.00 in the demo) holds for pairing too.
    let (status, refused) = admin.call(
        "POST",
        "wallets",
        Some(json!({"token_id": "04AABBCCDDEE01", "balance": 250_01})),
    );
    assert_eq!(
        (status, refused["error_code"].as_str()),
        (400, Some("max_balance_exceeded")),
        "{refused}"
    );
    let (status, _) = json(
        server
            .client()
            .get(server.url(&fx.event, "pos/wallets/token/04AABBCCDDEE01"))
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 404, "no wallet was written");

    assert_eq!(
        admin
            .call("POST", "wallets/token/04AABBCCDDEEFF/block", None)
            .0,
        204
    );
    let (status, body) = pos(
        &server,
        &fx,
        &fx.bar_token,
        "04AABBCCDDEEFF",
        json!(["water"]),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (402, Some("wallet_blocked"))
    );
    assert_eq!(
        admin
            .call("DELETE", "wallets/token/04AABBCCDDEEFF/block", None)
            .0,
        204
    );
    assert_eq!(
        pos(
            &server,
            &fx,
            &fx.bar_token,
            "04AABBCCDDEEFF",
            json!(["water"])
        )
        .0,
        200
    );

    // Lost wristband: balance and cups move, the old one is blocked.
    let (status, moved) = admin.call(
        "POST",
        "wallets/token/04AABBCCDDEEFF/move",
        Some(json!({"to_token_id": "04112233445566"})),
    );
    assert_eq!(
        (status, &moved["data"]["balance"]),
        (200, &json!(3000 - 450)),
        "{moved}"
    );
    let (_, old) = admin.call("GET", "wallets/token/04AABBCCDDEEFF", None);
    assert_eq!(old["data"]["balance"], 0);
    assert!(old["data"]["transactions"].as_array().unwrap().len() >= 3);
    let (status, _) = pos(
        &server,
        &fx,
        &fx.bar_token,
        "04AABBCCDDEEFF",
        json!(["water"]),
    );
    assert_eq!(status, 402);
    let (_, new) = admin.call("GET", "wallets/token/04112233445566", None);
    assert_eq!(new["data"]["balance"], 2550);

    let (status, paid) = admin.call("POST", "wallets/token/04112233445566/payout", None);
    assert_eq!((status, &paid["data"]["amount"]), (200, &json!(2550)));
    let (status, body) = admin.call("POST", "wallets/token/04112233445566/payout", None);
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("nothing_to_pay_out"))
    );
    let check = std::process::Command::new(common::BIN)
        .args(["check", "--db", fx.db.as_str()])
        .output()
        .unwrap();
    assert!(check.status.success());
}

#[test]
fn reports_follow_seed_000_records_and_add_up() {
    let fx = Fixture::new(3);
    let server = Server::start(&fx.db);
    let admin = Admin {
        server: &server,
        fx: &fx,
    };
    assert_eq!(
        pos(
            &server,
            &fx,
            &fx.bar_token,
            "04D30000000001",
            json!(["beer", "beer"])
        )
        .0,
        200
    );
    assert_eq!(
        pos(
            &server,
            &fx,
            &fx.bar_token,
            "04D30000000002",
            json!(["bratwurst", "water"])
        )
        .0,
        200
    );

    let (status, sales) = admin.call(
        "GET",
        "reports/sales?sort=terminal_timestamp:desc&limit=10",
        None,
    );
    assert_eq!(status, 200, "{sales}");
    let records = sales["data"].as_array().unwrap();
    assert_eq!(records.len(), 3, "deposit lines are not sales: {records:?}");
    let beer = records.iter().find(|r| r["item_id"] == "beer").unwrap();
    assert_eq!(
        (beer["quantity"].as_i64(), beer["item_price"].as_i64()),
        (Some(2), Some(500))
    );
    assert_eq!(beer["terminal_id"], "bar-1");
    assert_eq!(beer["terminal_name"], "Bar 1");
    for field in [
        "terminal_timestamp",
        "line_item_id",
        "purchase_id",
        "item_name",
        "staff_id",
        "staff_name",
    ] {
        assert!(beer.get(field).is_some(), "{field}");
    }
    let times: Vec<&str> = records
        .iter()
        .map(|r| r["terminal_timestamp"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "sorted descending");
    let (_, limited) = admin.call("GET", "reports/sales?limit=1", None);
    assert_eq!(limited["data"].as_array().unwrap().len(), 1);
    let (_, none) = admin.call(
        "GET",
        "reports/sales?terminal_timestamp=lte:2000-01-01T00:00:00Z",
        None,
    );
    assert!(none["data"].as_array().unwrap().is_empty());
    assert_eq!(admin.call("GET", "reports/sales?sort=price", None).0, 400);

    let (status, topups) = admin.call("GET", "reports/topups", None);
    assert_eq!(status, 200);
    assert_eq!(
        topups["data"].as_array().unwrap().len(),
        3,
        "the demo funding"
    );
    assert_eq!(topups["data"][0]["tender"], "cash");

    let (status, summary) = admin.call("GET", "reports/summary", None);
    assert_eq!(status, 200);
    let data = &summary["data"];
    assert_eq!(data["revenue"], 2 * 500 + 450 + 250);
    assert_eq!(data["sales_count"], 2, "two purchases");
    let vat_sum: i64 = data["by_vat_rate"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["net"].as_i64().unwrap() + r["vat"].as_i64().unwrap())
        .sum();
    assert_eq!(vat_sum, data["revenue"].as_i64().unwrap());
    assert_eq!(data["by_terminal"][0]["key"], "bar-1");
    // Per product, whatever position a product has in its sale.
    let by_product: Vec<(String, i64, i64)> = data["by_product"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                r["quantity"].as_i64().unwrap(),
                r["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_product,
        vec![
            ("beer".to_string(), 2, 1000),
            ("bratwurst".to_string(), 1, 450),
            ("water".to_string(), 1, 250)
        ]
    );
    // By location (seed 003): the till stands at "Bar Nord" now.
    assert_eq!(data["by_location"][0]["key"], "", "no location yet");
    let location = server
        .client()
        .post(server.url(&fx.event, "locations"))
        .bearer_auth(&fx.admin_token)
        .json(&json!({"address": "Bar Nord"}))
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    let devices = server
        .client()
        .get(server.url(&fx.event, "devices"))
        .bearer_auth(&fx.admin_token)
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    let bar = devices["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["terminal_id"] == "bar-1")
        .unwrap();
    let moved = server
        .client()
        .put(server.url(
            &fx.event,
            &format!("devices/{}", bar["identifier"].as_str().unwrap()),
        ))
        .bearer_auth(&fx.admin_token)
        .json(&json!({"pin": "1234", "location_id": location["data"]["identifier"]}))
        .send()
        .unwrap();
    assert_eq!(moved.status().as_u16(), 200);
    let (_, summary) = admin.call("GET", "reports/summary", None);
    let by_location = summary["data"]["by_location"].as_array().unwrap();
    assert_eq!(by_location.len(), 1, "{by_location:?}");
    assert_eq!(by_location[0]["key"], "Bar Nord");
    assert_eq!(by_location[0]["amount"], data["revenue"]);
    assert_eq!(by_location[0]["sales"], 2);
    assert_eq!(
        data["top_ups_by_tender"][0]["amount"],
        20_00 + 30_00 + 40_00
    );
}

/// A staff session from a till: terminal token + the staff member's PIN.
fn staff_session(server: &Server, fx: &Fixture, staff: &str, pin: &str) -> (u16, Value) {
    json(
        server
            .client()
            .post(server.url(&fx.event, "pos/staff-sessions"))
            .bearer_auth(&fx.bar_token)
            .json(&json!({ "staff_id": staff, "pin": pin }))
            .send()
            .unwrap(),
    )
}

fn get_with(server: &Server, fx: &Fixture, token: &str, path: &str) -> u16 {
    json(
        server
            .client()
            .get(server.url(&fx.event, &format!("manage/{path}")))
            .bearer_auth(token)
            .send()
            .unwrap(),
    )
    .0
}

#[test]
fn staff_sessions_allow_what_the_role_allows_and_wrong_pins_lock() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    // Only a terminal's token may ask; the admin token is no terminal.
    let (status, _) = json(
        server
            .client()
            .post(server.url(&fx.event, "pos/staff-sessions"))
            .bearer_auth(&fx.admin_token)
            .json(&json!({ "staff_id": "max", "pin": "4444" }))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 401);

    let (status, body) = staff_session(&server, &fx, "sue", "3333");
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["role"], "supervisor");
    let sue = body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(get_with(&server, &fx, &sue, "reports/summary"), 200);
    assert_eq!(get_with(&server, &fx, &sue, "conflicts"), 200);
    assert_eq!(get_with(&server, &fx, &sue, "terminals"), 200);
    assert_eq!(get_with(&server, &fx, &sue, "staff"), 403, "managers only");
    assert_eq!(get_with(&server, &fx, &sue, "settings"), 403);
    let (status, body) = json(
        server
            .client()
            .get(server.url(&fx.event, "manage/products"))
            .bearer_auth(&sue)
            .send()
            .unwrap(),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (403, Some("role_not_permitted"))
    );
    // The session is for this event only.
    let other = server
        .client()
        .get(server.url(&fx.other_event, "manage/reports/summary"))
        .bearer_auth(&sue)
        .send()
        .unwrap();
    assert_eq!(other.status().as_u16(), 401);

    let (status, body) = staff_session(&server, &fx, "anna", "1111");
    assert_eq!(status, 201, "{body}");
    let anna = body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(
        get_with(&server, &fx, &anna, "reports/summary"),
        403,
        "a cashier"
    );

    let (status, body) = staff_session(&server, &fx, "max", "4444");
    assert_eq!(status, 201, "{body}");
    let max = body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(get_with(&server, &fx, &max, "staff"), 200);
    // A role changed on the server counts at once, and a deactivated
    // member's sessions end.
    let admin = Admin {
        server: &server,
        fx: &fx,
    };
    let (status, body) = admin.call(
        "POST",
        "staff",
        Some(json!({"id": "sue", "name": "Sue", "role": "cashier"})),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(get_with(&server, &fx, &sue, "reports/summary"), 403);
    let deactivate_max = json!({"id": "max", "name": "Max", "role": "manager", "active": false});
    let (status, body) = admin.call("POST", "staff", Some(deactivate_max.clone()));
    assert_eq!(status, 400, "the last manager stays: {body}");
    assert_eq!(get_with(&server, &fx, &max, "staff"), 200);
    admin.call(
        "POST",
        "staff",
        Some(json!({"id": "lena", "name": "Lena", "role": "manager", "pin": "8642"})),
    );
    let (status, body) = admin.call("POST", "staff", Some(deactivate_max));
    assert_eq!(status, 200, "{body}");
    assert_eq!(get_with(&server, &fx, &max, "staff"), 401);
    let (status, _) = staff_session(&server, &fx, "max", "4444");
    assert_eq!(status, 403, "inactive");
    let (status, _) = admin.call(
        "POST",
        "staff",
        Some(json!({"id": "new", "name": "New", "role": "cashier"})),
    );
    assert_eq!(status, 400, "a new member needs a PIN");

    // Wrong PINs count and lock, as on a till; no PIN is checked while locked.
    let mut last = Value::Null;
    for _ in 0..10 {
        let (status, body) = staff_session(&server, &fx, "anna", "9999");
        assert_eq!(status, 403);
        let locked = body["error_code"] == "login_locked";
        last = body;
        if locked {
            break;
        }
    }
    assert_eq!(last["error_code"], "login_locked", "{last}");
    let (status, body) = staff_session(&server, &fx, "anna", "1111");
    assert_eq!(
        (status, body["error_code"].as_str()),
        (403, Some("login_locked"))
    );
    let (status, _) = staff_session(&server, &fx, "nobody", "1111");
    assert_eq!(status, 404);
}

#[test]
fn staff_sessions_end_with_a_new_pin_or_the_tills_token_and_pins_stay_unique() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let admin = Admin {
        server: &server,
        fx: &fx,
    };
    let (_, body) = staff_session(&server, &fx, "max", "4444");
    let max = body["data"]["token"].as_str().unwrap().to_string();
    // A PIN alone logs in on a till: another member's PIN is refused.
    let (status, body) = admin.call(
        "POST",
        "staff",
        Some(json!({"id": "lena", "name": "Lena", "role": "cashier", "pin": "4444"})),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("pin_in_use")),
        "{body}"
    );
    // The same holds when a member with a taken PIN is made active again
    // (the database's unique index on PIN tags decides, race or not).
    let lena = |pin: Option<&str>, active: bool| {
        let mut member = json!({"id": "lena", "name": "Lena", "role": "cashier", "active": active});
        if let Some(pin) = pin {
            member["pin"] = json!(pin);
        }
        admin.call("POST", "staff", Some(member))
    };
    assert_eq!(lena(Some("8642"), false).0, 200);
    let (status, body) = admin.call(
        "POST",
        "staff",
        Some(json!({"id": "tom", "name": "Tom", "role": "cashier", "pin": "8642"})),
    );
    assert_eq!(status, 200, "an inactive member's PIN is free: {body}");
    let (status, body) = lena(None, true);
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("pin_in_use")),
        "{body}"
    );
    assert_eq!(lena(Some("8643"), true).0, 200);
    // Tills get the event's PIN lookup key and every member's tag with
    // the catalogue, so a PIN alone finds its member by one lookup.
    let (status, body) = server.get_json(&fx.event, "pos/catalog", &fx.bar_token);
    assert_eq!(status, 200, "{body}");
    let key = tapster_ledger::pin::PinLookupKey::parse(
        body["data"]["pin_lookup_key"].as_str().expect("a key"),
    )
    .unwrap();
    let staff = body["data"]["staff"].as_array().unwrap();
    let tag_of = |id: &str| {
        staff.iter().find(|m| m["id"] == id).unwrap()["pin_tag"]
            .as_str()
            .unwrap_or_else(|| panic!("{id} has no tag"))
            .to_string()
    };
    for (id, pin) in [
        ("lena", "8643"),
        ("tom", "8642"),
        ("max", "4444"),
        ("anna", "1111"),
    ] {
        let expected = key
            .tag(&tapster_ledger::pin::Pin::new(pin).unwrap())
            .unwrap();
        assert_eq!(tag_of(id), expected.as_str(), "{id}");
    }
    // No PIN in the catalogue: no field holds one (a PIN's digits may
    // turn up inside a random hex tag or id by chance; that is no leak).
    fn holds_pin(value: &Value, pin: &str) -> bool {
        match value {
            Value::String(text) => text == pin,
            Value::Array(items) => items.iter().any(|v| holds_pin(v, pin)),
            Value::Object(fields) => fields
                .iter()
                .any(|(name, v)| name == "pin" || holds_pin(v, pin)),
            _ => false,
        }
    }
    assert!(!holds_pin(&body, "8643"), "{body}");
    // A starting credit on a new wristband is a manager's decision.
    let (_, body) = staff_session(&server, &fx, "sue", "3333");
    let sue = body["data"]["token"].as_str().unwrap().to_string();
    let pair = |token: &str, balance: i64| {
        json(
            server
                .client()
                .post(server.url(&fx.event, "manage/wallets"))
                .bearer_auth(token)
                .json(&json!({"token_id": "04D3BBBBBBBB01", "balance": balance}))
                .send()
                .unwrap(),
        )
        .0
    };
    assert_eq!(pair(&sue, 50_00), 403);
    // Max's session ends when his PIN is reset…
    assert_eq!(get_with(&server, &fx, &max, "staff"), 200);
    admin.call(
        "POST",
        "staff",
        Some(json!({"id": "max", "name": "Max", "role": "manager", "pin": "4455"})),
    );
    assert_eq!(get_with(&server, &fx, &max, "staff"), 401);
    // …and a session ends when the till's token is rolled (a lost till).
    let (_, body) = staff_session(&server, &fx, "max", "4455");
    let max = body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(get_with(&server, &fx, &max, "staff"), 200);
    let (status, _) = admin.call("POST", "terminals/bar-1/token", None);
    assert_eq!(status, 200);
    assert_eq!(get_with(&server, &fx, &max, "staff"), 401);
}

#[test]
fn parallel_wrong_pins_cannot_get_past_the_lockout() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..8 {
                    let (status, _) = staff_session(&server, &fx, "max", "9999");
                    assert_eq!(status, 403);
                }
            });
        }
    });
    let (status, body) = staff_session(&server, &fx, "max", "4444");
    assert_eq!(
        (status, body["error_code"].as_str()),
        (403, Some("login_locked")),
        "32 wrong PINs in parallel leave the member locked: {body}"
    );
}

/// A till that lost the answer to a product's creation sends the same
/// request again: the product is made once and the retry answered as made;
/// other content under the same id is a conflict.
#[test]
fn creating_the_same_product_again_makes_it_once() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let admin = Admin {
        server: &server,
        fx: &fx,
    };
    let (_, products) = admin.call("GET", "products", None);
    let mut spezi = products["data"][0].clone();
    spezi["id"] = json!("spezi-3fa91c");
    spezi["name"] = json!("Spezi");
    let (first, made) = admin.call("POST", "products", Some(spezi.clone()));
    assert_eq!(first, 201, "{made}");
    let (again, answer) = admin.call("POST", "products", Some(spezi.clone()));
    assert_eq!((again, &answer["data"]), (201, &made["data"]));
    let (_, products) = admin.call("GET", "products", None);
    let named: Vec<_> = products["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "Spezi")
        .collect();
    assert_eq!(named.len(), 1);
    let (_, audit) = admin.call("GET", "audit?action=product_created", None);
    assert_eq!(audit["data"].as_array().unwrap().len(), 1, "{audit}");

    let mut other = spezi.clone();
    other["price"] = json!(9_99);
    let (status, body) = admin.call("POST", "products", Some(other));
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
}

/// Hour buckets follow the event's wall clock: in a zone half an hour off
/// UTC (India), a sale at 23:30 and one at 00:10 local are in two hours,
/// 23:00 and 00:00 local, on the server and in the till's own report alike.
#[test]
fn report_hours_are_the_events_local_hours_even_half_an_hour_off_utc() {
    use std::sync::Arc;
    use tapster_ledger::store::{Authorisation, ReportFilter, SaleRequest};
    use tapster_ledger::{demo, IdempotencyKey, ManualClock, StaffId, Timestamp};

    let fx = Fixture::new(2);
    let server = Server::start(&fx.db);
    let admin = Admin {
        server: &server,
        fx: &fx,
    };
    let (_, settings) = admin.call("GET", "settings", None);
    let mut settings = settings["data"].clone();
    settings["time_zone"] = json!("Asia/Kolkata");
    let (status, body) = admin.call("PUT", "settings", Some(settings));
    assert_eq!(status, 200, "{body}");

    // 2026-07-17 18:00Z is 23:30 in Kolkata.
    let clock = Arc::new(ManualClock::new(Timestamp(1_784_311_200_000)));
    let ledger = common::till::terminal_ledger_on(fx.dir.path(), "bar-1", clock.clone());
    let mut local = ledger.settings().unwrap();
    local.time_zone = "Asia/Kolkata".into();
    ledger.update_settings(&local).unwrap();
    let cash_sale = || SaleRequest {
        key: IdempotencyKey::random(),
        staff: StaffId::new("anna").unwrap(),
        cart: tapster_ledger::pricing::Cart::new().with(&demo::product("water"), 1),
        tender: tapster_ledger::model::Tender::Cash,
        token: None,
        pass: None,
    };
    ledger
        .sell(&cash_sale(), Authorisation::ThisLedger)
        .unwrap();
    clock.advance_secs(40 * 60);
    ledger
        .sell(&cash_sale(), Authorisation::ThisLedger)
        .unwrap();
    let batch = common::till::pending_batch(&ledger);
    let (status, body) = common::till::push(&server, &fx, &fx.bar_token, &batch);
    assert_eq!(status, 200, "{body}");

    let (_, summary) = admin.call("GET", "reports/summary", None);
    let hours: Vec<(String, i64)> = summary["data"]["by_hour"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["key"].as_str().unwrap().to_string(),
                h["sales"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        hours,
        [
            ("2026-07-17T17:30:00Z".to_string(), 1),
            ("2026-07-17T18:30:00Z".to_string(), 1)
        ],
        "23:00 and 00:00 in Kolkata"
    );
    let own = ledger
        .reader()
        .unwrap()
        .sales_report(&ReportFilter::default())
        .unwrap();
    let starts: Vec<i64> = own.by_hour.iter().map(|h| h.hour_start.0).collect();
    let at = |text: &str| text.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    assert_eq!(
        starts,
        [at("2026-07-17T17:30:00Z"), at("2026-07-17T18:30:00Z")]
    );
}

/// A till's payout decided here: the band's paid balance once per key (the
/// same key answers the same), nothing for a band already paid out, never
/// for a blocked band, only for a terminal allowed to pay out.
#[test]
fn a_tills_payout_is_decided_once_and_never_for_a_blocked_band() {
    let fx = Fixture::new(3);
    let server = Server::start(&fx.db);
    let admin = Admin {
        server: &server,
        fx: &fx,
    };
    let band = |n: u32| tapster_ledger::demo::wristband(n).to_string();
    let payout = |token: &str, band: &str, key: &str| {
        json(
            server
                .client()
                .post(server.url(&fx.event, &format!("pos/wallets/token/{band}/payout")))
                .bearer_auth(token)
                .json(&json!({"tender": "cash", "staff_id": "max", "idempotency_key": key}))
                .send()
                .unwrap(),
        )
    };
    let (_, before) = admin.call("GET", &format!("wallets/token/{}", band(1)), None);
    let balance = before["data"]["balance"].as_i64().unwrap();
    assert!(balance > 0);

    // The debit-only bar may not pay out; the cash desk may.
    let (status, _) = payout(&fx.bar_token, &band(1), "p-1");
    assert_eq!(status, 403);
    let (status, paid) = payout(&fx.topup_token, &band(1), "p-1");
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["data"]["amount"], balance);
    assert_eq!(paid["data"]["wallet"]["balance"], 0);
    let (status, again) = payout(&fx.topup_token, &band(1), "p-1");
    assert_eq!((status, &again["data"]), (202, &paid["data"]));
    let (status, body) = payout(&fx.topup_token, &band(1), "p-2");
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("nothing_to_pay_out"))
    );
    // The same key for another request is a conflict; bad input is refused
    // before anything is written.
    let (status, body) = json(
        server
            .client()
            .post(server.url(&fx.event, &format!("pos/wallets/token/{}/payout", band(1))))
            .bearer_auth(&fx.topup_token)
            .json(&json!({"tender": "card", "staff_id": "max", "idempotency_key": "p-1"}))
            .send()
            .unwrap(),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("idempotency_conflict")),
        "{body}"
    );
    for bad in [
        json!({"tender": "wallet", "staff_id": "max", "idempotency_key": "p-9"}),
        json!({"tender": "gold", "staff_id": "max", "idempotency_key": "p-9"}),
        json!({"tender": "cash", "staff_id": "", "idempotency_key": "p-9"}),
        json!({"tender": "cash", "staff_id": "max"}),
    ] {
        let (status, body) = json(
            server
                .client()
                .post(server.url(&fx.event, &format!("pos/wallets/token/{}/payout", band(3))))
                .bearer_auth(&fx.topup_token)
                .json(&bad)
                .send()
                .unwrap(),
        );
        assert_eq!(status, 400, "{bad} → {body}");
    }
    let (_, third) = admin.call("GET", &format!("wallets/token/{}", band(3)), None);
    assert!(
        third["data"]["balance"].as_i64().unwrap() > 0,
        "nothing was paid out"
    );

    // A band reported lost is not paid out to whoever holds it.
    let (status, _) = admin.call("POST", &format!("wallets/token/{}/block", band(2)), None);
    assert_eq!(status, 204);
    let (status, body) = payout(&fx.topup_token, &band(2), "p-3");
    assert_eq!(
        (status, body["error_code"].as_str()),
        (402, Some("wallet_blocked")),
        "{body}"
    );
    let (_, audit) = admin.call("GET", "audit?action=payout", None);
    assert_eq!(audit["data"].as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(audit["data"][0]["actor_id"], "max");
}

/// A category goes only when nothing is filed under it (archived products
/// count), the order is set as a whole, and tills learn both with the
/// catalogue; each change is in the audit trail once.
#[test]
fn categories_are_removed_when_empty_and_reordered_as_a_whole() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let admin = Admin {
        server: &server,
        fx: &fx,
    };
    let ids = |body: &Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, listed) = admin.call("GET", "categories", None);
    let mut order = ids(&listed);
    assert!(order.contains(&"food".to_string()), "{listed}");

    let (status, body) = admin.call("DELETE", "categories/food", None);
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("category_not_empty")),
        "{body}"
    );
    let (status, body) = admin.call("DELETE", "categories/Not%20an%20id", None);
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("invalid_parameters")),
        "{body}"
    );
    // Move food's products elsewhere, one of them archived first.
    let (_, products) = admin.call("GET", "products?archived=true", None);
    let food: Vec<Value> = products["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["category"] == "food")
        .cloned()
        .collect();
    assert!(!food.is_empty());
    let first = food[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        admin.call("DELETE", &format!("products/{first}"), None).0,
        200
    );
    for product in &food[1..] {
        let mut moved = product.clone();
        moved["category"] = json!("soft");
        let id = product["id"].as_str().unwrap();
        assert_eq!(
            admin.call("PUT", &format!("products/{id}"), Some(moved)).0,
            200
        );
    }
    let (status, body) = admin.call("DELETE", "categories/food", None);
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("category_not_empty")),
        "the archived one counts"
    );
    let (_, archived) = admin.call("GET", "products?archived=true", None);
    let mut last = archived["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == first.as_str())
        .unwrap()
        .clone();
    last["category"] = json!("soft");
    assert_eq!(
        admin
            .call("PUT", &format!("products/{first}"), Some(last.clone()))
            .0,
        200
    );

    let (status, left) = admin.call("DELETE", "categories/food", None);
    assert_eq!(status, 200, "{left}");
    order.retain(|id| id != "food");
    assert_eq!(ids(&left), order);
    let (status, body) = admin.call("DELETE", "categories/food", None);
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("unknown_category"))
    );
    let mut back = last.clone();
    back["category"] = json!("food");
    assert_eq!(
        admin
            .call("PUT", &format!("products/{first}"), Some(back))
            .0,
        400,
        "nothing is filed under a removed category"
    );

    // The order: every category once, or nothing changes.
    let mut reversed = order.clone();
    reversed.reverse();
    let (status, body) = admin.call("PUT", "category-order", Some(json!({ "order": reversed })));
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body), reversed);
    assert_eq!(
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["position"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        (1..=reversed.len() as i64).collect::<Vec<_>>()
    );
    for bad in [
        json!(reversed[1..]),
        json!([reversed[0], reversed[0]]),
        json!(["food"]),
    ] {
        let (status, _) = admin.call("PUT", "category-order", Some(json!({ "order": bad })));
        assert!(matches!(status, 400 | 404), "{bad}: {status}");
    }
    let (_, listed) = admin.call("GET", "categories", None);
    assert_eq!(ids(&listed), reversed);

    // A till's catalogue has them so.
    let (status, catalog) = server.get_json(&fx.event, "pos/catalog", &fx.bar_token);
    assert_eq!(status, 200);
    let till: Vec<String> = catalog["data"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(till, reversed);

    // Saving it again brings it back; then the audit trail.
    let (status, _) = admin.call(
        "POST",
        "categories",
        Some(json!({"id": "food", "name": "Essen", "position": 9})),
    );
    assert_eq!(status, 200);
    let (_, removed) = admin.call("GET", "audit?action=category_removed", None);
    let removed = removed["data"].as_array().unwrap();
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0]["subject"], "food");
    assert_eq!(removed[0]["detail"]["name"], "Essen");
    let (_, reordered) = admin.call("GET", "audit?action=categories_reordered", None);
    let reordered = reordered["data"].as_array().unwrap();
    assert_eq!(reordered.len(), 1, "refused orders leave no record");
    assert_eq!(reordered[0]["detail"]["order"], json!(reversed));
}

/// A badge logs one staff member in: never a second member's, never a
/// guest's wristband. Tills get it with the catalogue; the manager view
/// and the audit trail show it masked.
#[test]
fn a_badge_is_given_to_one_staff_member_and_taken_back() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let admin = Admin {
        server: &server,
        fx: &fx,
    };
    let badge = "04A1B2C3D4E5F6";
    let (status, body) = admin.call("PUT", "staff/anna/badge", Some(json!({ "badge": badge })));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["badge_masked"], "••••E5F6");
    // Again: nothing changes, nothing more recorded.
    assert_eq!(
        admin
            .call("PUT", "staff/anna/badge", Some(json!({ "badge": badge })))
            .0,
        200
    );
    let (status, body) = admin.call("PUT", "staff/sue/badge", Some(json!({ "badge": badge })));
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("badge_in_use")),
        "{body}"
    );
    assert!(body.to_string().contains("Anna"), "{body}");

    let (status, _) = admin.call(
        "POST",
        "wallets",
        Some(json!({"token_id": "04BBCCDDEEFF11"})),
    );
    assert_eq!(status, 201);
    let (status, body) = admin.call(
        "PUT",
        "staff/sue/badge",
        Some(json!({ "badge": "04BBCCDDEEFF11" })),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("badge_is_guest_band"))
    );
    let (status, body) = admin.call("PUT", "staff/nobody/badge", Some(json!({ "badge": null })));
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("unknown_staff"))
    );
    assert_eq!(
        admin
            .call("PUT", "staff/sue/badge", Some(json!({ "badge": "zz" })))
            .0,
        400
    );

    let (_, catalog) = server.get_json(&fx.event, "pos/catalog", &fx.bar_token);
    let holder = |catalog: &Value, id: &str| {
        catalog["data"]["staff"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap()["badge"]
            .clone()
    };
    assert_eq!(holder(&catalog, "anna"), json!(badge));

    // Taken from Anna, given to Sue.
    let (status, body) = admin.call("PUT", "staff/anna/badge", Some(json!({ "badge": null })));
    assert_eq!((status, &body["data"]["badge_masked"]), (200, &Value::Null));
    assert_eq!(
        admin
            .call("PUT", "staff/sue/badge", Some(json!({ "badge": badge })))
            .0,
        200
    );
    let (_, catalog) = server.get_json(&fx.event, "pos/catalog", &fx.bar_token);
    assert_eq!(
        (holder(&catalog, "anna"), holder(&catalog, "sue")),
        (Value::Null, json!(badge))
    );
    let (_, staff) = admin.call("GET", "staff", None);
    let sue = staff["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "sue")
        .unwrap()
        .clone();
    assert_eq!(sue["badge_masked"], "••••E5F6");

    // A badge never becomes a guest's wallet.
    let (status, body) = admin.call("POST", "wallets", Some(json!({ "token_id": badge })));
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("band_is_staff_badge")),
        "{body}"
    );

    let (_, audit) = admin.call("GET", "audit?action=staff_changed", None);
    let records = audit["data"].as_array().unwrap();
    assert_eq!(records.len(), 3, "{records:?}");
    assert!(
        !audit.to_string().contains(badge),
        "the whole UID is never in the trail"
    );
}

/// A new member made by a till's form (`create`): the same create again is
/// answered as made and recorded once; another member under the id is a
/// conflict. A save without it always takes the PIN (clearing a lockout).
#[test]
fn creating_the_same_staff_member_again_makes_them_once() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let admin = Admin {
        server: &server,
        fx: &fx,
    };
    let lena = json!({"id": "s-lena-4f2a", "name": "Lena", "role": "cashier", "pin": "86420", "create": true});
    let (first, made) = admin.call("POST", "staff", Some(lena.clone()));
    assert_eq!(first, 200, "{made}");
    let (again, answer) = admin.call("POST", "staff", Some(lena.clone()));
    assert_eq!((again, &answer["data"]), (200, &made["data"]));
    let mut other = lena.clone();
    other["pin"] = json!("97531");
    let (status, body) = admin.call("POST", "staff", Some(other));
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    let (_, audit) = admin.call("GET", "audit?action=staff_created", None);
    assert_eq!(audit["data"].as_array().unwrap().len(), 1, "{audit}");
    // Without `create`, the same PIN again is a change: it is recorded.
    let mut reset = lena.clone();
    reset["create"] = json!(false);
    assert_eq!(admin.call("POST", "staff", Some(reset)).0, 200);
    let (_, audit) = admin.call("GET", "audit?action=staff_changed", None);
    assert_eq!(audit["data"].as_array().unwrap().len(), 1, "{audit}");
}
