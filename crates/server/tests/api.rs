//! Black-box tests of the PointOfSale API: the real server process, real
//! HTTP on loopback, a fresh database each.

mod common;

use std::process::Command;
use std::sync::{Arc, Barrier};

use common::{admin, json, Fixture, Server, BIN};
use serde_json::{json, Value};

const GUEST: &str = "04D30000000001"; // demo wristband 1: 20.00
const POOR: &str = "04D30000000005"; // demo wristband 5: 10.00

fn post(server: &Server, fx: &Fixture, token: &str, wristband: &str, body: Value) -> (u16, Value) {
    json(
        server
            .client()
            .post(server.url(
                &fx.event,
                &format!("pos/wallets/token/{wristband}/transactions"),
            ))
            .bearer_auth(token)
            .json(&body)
            .send()
            .unwrap(),
    )
}

fn balance(server: &Server, fx: &Fixture, wristband: &str) -> i64 {
    let (status, body) = json(
        server
            .client()
            .get(server.url(&fx.event, &format!("pos/wallets/token/{wristband}")))
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    body["data"]["balance"].as_i64().unwrap()
}

#[test]
fn the_terminal_sees_itself_with_its_products() {
    let fx = Fixture::new(3);
    let server = Server::start(&fx.db);
    let (status, body) = json(
        server
            .client()
            .get(server.url(&fx.event, "pos/terminal"))
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    let data = &body["data"];
    assert_eq!(data["id"], "bar-1");
    assert_eq!(data["friendly_name"], "Bar 1");
    assert_eq!(data["permission"], "debit");
    assert!(
        data.get("api_token").is_none(),
        "the token is shown only once"
    );
    let beer = data["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "beer")
        .unwrap();
    assert_eq!(
        beer,
        &json!({"id": "beer", "friendly_name": "Bier 0,5 l", "price": 500})
    );
    assert!(data["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "idempotency_header"));
}

#[test]
fn missing_wrong_and_foreign_tokens_are_unauthenticated() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let url = server.url(&fx.event, "pos/terminal");
    for request in [
        server.client().get(&url),
        server.client().get(&url).bearer_auth("not-a-token"),
        server.client().get(&url).bearer_auth(&fx.other_token),
        server
            .client()
            .get(&url)
            .header("Authorization", format!("Basic {}", fx.bar_token)),
    ] {
        let (status, body) = json(request.send().unwrap());
        assert_eq!(status, 401);
        assert_eq!(body["error_code"], "unauthenticated");
        assert!(body["error_message"]
            .as_str()
            .unwrap()
            .contains("API token"));
    }
    // The other event's terminal works on its own event.
    let (status, _) = json(
        server
            .client()
            .get(server.url(&fx.other_event, "pos/terminal"))
            .bearer_auth(&fx.other_token)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
}

#[test]
fn wallets_are_found_by_token_id() {
    let fx = Fixture::new(2);
    let server = Server::start(&fx.db);
    let (status, body) = json(
        server
            .client()
            .get(server.url(
                &fx.event,
                &format!("pos/wallets/token/{}", GUEST.to_lowercase()),
            ))
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    let wallet = &body["data"];
    assert!(wallet["id"].as_str().unwrap().starts_with("wal_"));
    assert_eq!(wallet["token_id"], GUEST);
    assert_eq!(wallet["balance"], 20_00);
    assert!(wallet["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(wallet.get("transactions").is_none());

    let (status, body) = json(
        server
            .client()
            .get(server.url(&fx.event, "pos/wallets/token/04D30000000099"))
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap(),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, body) = json(
        server
            .client()
            .get(server.url(&fx.event, "pos/wallets/token/xyz"))
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap(),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("invalid_parameters"))
    );
}

#[test]
fn a_debit_prices_products_with_deposits_and_moves_the_balance() {
    let fx = Fixture::new(2);
    let server = Server::start(&fx.db);
    let (status, body) = post(
        &server,
        &fx,
        &fx.bar_token,
        GUEST,
        json!({
            "products": ["beer", "beer", "bratwurst"], "description": "Bier und Wurst", "tag": "bar"
        }),
    );
    assert_eq!(status, 200, "{body}");
    // 2 × 5.00 + 2 cups × 2.00 + 4.50
    assert_eq!(body["data"]["balance"], 20_00 - 18_50);
    assert_eq!(balance(&server, &fx, GUEST), 1_50);
}

#[test]
fn idempotency_keys_apply_once_and_refuse_other_requests() {
    let fx = Fixture::new(2);
    let server = Server::start(&fx.db);
    let body = json!({"products": ["water"], "idempotency_key": "0QwKc2c9jUIxPyaHEjYQ"});
    let (first_status, first) = post(&server, &fx, &fx.bar_token, GUEST, body.clone());
    assert_eq!(first_status, 200);
    let (status, again) = post(&server, &fx, &fx.bar_token, GUEST, body);
    assert_eq!(status, 202);
    assert_eq!(again, first, "the original result");
    // The same key in a header, the body without it.
    let (status, via_header) = json(
        server
            .client()
            .post(server.url(
                &fx.event,
                &format!("pos/wallets/token/{GUEST}/transactions"),
            ))
            .bearer_auth(&fx.bar_token)
            .header("Idempotency-Key", "0QwKc2c9jUIxPyaHEjYQ")
            .json(&json!({"products": ["water"]}))
            .send()
            .unwrap(),
    );
    assert_eq!((status, &via_header), (202, &first));
    assert_eq!(balance(&server, &fx, GUEST), 20_00 - 4_50);
    // Same key, other products: refused, nothing changes.
    let (status, conflict) = post(
        &server,
        &fx,
        &fx.bar_token,
        GUEST,
        json!({"products": ["beer"], "idempotency_key": "0QwKc2c9jUIxPyaHEjYQ"}),
    );
    assert_eq!(
        (status, conflict["error_code"].as_str()),
        (409, Some("idempotency_conflict"))
    );
    assert_eq!(balance(&server, &fx, GUEST), 20_00 - 4_50);
    // Different keys in body and header.
    let (status, _) = json(
        server
            .client()
            .post(server.url(
                &fx.event,
                &format!("pos/wallets/token/{GUEST}/transactions"),
            ))
            .bearer_auth(&fx.bar_token)
            .header("X-Idempotency-Key", "other")
            .json(&json!({"products": ["water"], "idempotency_key": "one"}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 400);
    // Without a key every request applies (seed 001: the key is optional).
    post(
        &server,
        &fx,
        &fx.bar_token,
        GUEST,
        json!({"products": ["water"]}),
    );
    post(
        &server,
        &fx,
        &fx.bar_token,
        GUEST,
        json!({"products": ["water"]}),
    );
    assert_eq!(balance(&server, &fx, GUEST), 20_00 - 3 * 4_50);
}

#[test]
fn concurrent_requests_with_one_key_apply_exactly_once() {
    let fx = Fixture::new(1);
    let server = Arc::new(Server::start(&fx.db));
    let fx = Arc::new(fx);
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (server, fx, barrier) = (server.clone(), fx.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                post(
                    &server,
                    &fx,
                    &fx.bar_token,
                    GUEST,
                    json!({"products": ["cola"], "idempotency_key": "same-key"}),
                )
                .0
            })
        })
        .collect();
    let mut statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    statuses.sort();
    assert_eq!(statuses, vec![200, 202, 202, 202, 202, 202, 202, 202]);
    assert_eq!(balance(&server, &fx, GUEST), 20_00 - 5_50);
}

#[test]
fn permissions_funds_and_bad_input_get_clear_errors_and_change_nothing() {
    let fx = Fixture::new(5);
    let server = Server::start(&fx.db);
    let (status, body) = post(
        &server,
        &fx,
        &fx.topup_token,
        GUEST,
        json!({"products": ["beer"]}),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (403, Some("terminal_not_permitted")),
        "{body}"
    );

    let (status, body) = post(
        &server,
        &fx,
        &fx.bar_token,
        POOR,
        json!({"products": ["spritz", "spritz"]}),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (402, Some("insufficient_funds")),
        "{body}"
    );
    assert!(
        body["error_message"]
            .as_str()
            .unwrap()
            .contains("9.00 missing"),
        "{body}"
    );

    let url = server.url(
        &fx.event,
        &format!("pos/wallets/token/{GUEST}/transactions"),
    );
    let raw = |body: &str| {
        json(
            server
                .client()
                .post(&url)
                .bearer_auth(&fx.bar_token)
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .unwrap(),
        )
    };
    for (body, code) in [
        ("{not json", "invalid_parameters"),
        (
            r#"{"products": ["beer"], "amount": -100}"#,
            "invalid_parameters",
        ),
        (r#"{"products": "beer"}"#, "invalid_parameters"),
        (r#"{"products": [1, 2]}"#, "invalid_parameters"),
        (r#"{"products": []}"#, "empty_cart"),
        (r#"{"products": ["absinth"]}"#, "unknown_product"),
        (
            r#"{"products": ["beer'; DROP TABLE wallets; --"]}"#,
            "invalid_parameters",
        ),
        (r#"{}"#, "invalid_parameters"),
    ] {
        let (status, response) = raw(body);
        assert_eq!(
            (status, response["error_code"].as_str()),
            (400, Some(code)),
            "{body}: {response}"
        );
        assert!(!response["error_message"].as_str().unwrap().is_empty());
    }
    let huge = format!(
        r#"{{"products": ["beer"], "description": "{}"}}"#,
        "x".repeat(100_000)
    );
    let (status, response) = raw(&huge);
    assert_eq!(
        (status, response["error_code"].as_str()),
        (413, Some("body_too_large")),
        "{response}"
    );
    let (status, response) = post(
        &server,
        &fx,
        &fx.bar_token,
        "04D3000000000Z",
        json!({"products": ["beer"]}),
    );
    assert_eq!(
        (status, response["error_code"].as_str()),
        (400, Some("invalid_parameters"))
    );
    let (status, _) = post(
        &server,
        &fx,
        &fx.bar_token,
        "04D30000000099",
        json!({"products": ["beer"]}),
    );
    assert_eq!(status, 404);

    assert_eq!(balance(&server, &fx, GUEST), 20_00, "nothing was written");
    assert_eq!(balance(&server, &fx, POOR), 10_00);
    // Text with SQL metacharacters is just text.
    let (status, _) = post(
        &server,
        &fx,
        &fx.bar_token,
        GUEST,
        json!({"products": ["water"], "description": "Robert'); DROP TABLE wallets;--"}),
    );
    assert_eq!(status, 200);
    let (status, body) = json(
        server
            .client()
            .get(format!("{}/nope", server.base))
            .send()
            .unwrap(),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("not_found"))
    );
}

#[test]
fn acknowledged_transactions_survive_a_crash_and_a_restart() {
    let fx = Fixture::new(2);
    let server = Server::start(&fx.db);
    for i in 0..4 {
        let (status, _) = post(
            &server,
            &fx,
            &fx.bar_token,
            GUEST,
            json!({"products": ["water"], "idempotency_key": format!("k{i}")}),
        );
        assert_eq!(status, 200);
    }
    server.kill_hard(); // SIGKILL: no shutdown, no checkpoint
    let server = Server::start(&fx.db);
    assert_eq!(balance(&server, &fx, GUEST), 20_00 - 4 * 4_50);
    let (status, _) = post(
        &server,
        &fx,
        &fx.bar_token,
        GUEST,
        json!({"products": ["water"], "idempotency_key": "k3"}),
    );
    assert_eq!(status, 202, "a retry after the crash is recognised");
    assert!(server.stop().success(), "SIGTERM shuts down cleanly");
    let check = Command::new(BIN)
        .args(["check", "--db", fx.db.as_str()])
        .output()
        .unwrap();
    assert!(check.status.success());
    assert_eq!(
        serde_json::from_slice::<Value>(&check.stdout).unwrap()["ok"],
        true
    );
}

#[test]
fn the_command_line_refuses_unknown_events_and_bad_permissions() {
    let fx = Fixture::new(0);
    let d = fx.db.as_str();
    let out = Command::new(BIN)
        .args([
            "terminal",
            "create",
            "--db",
            d,
            "--event",
            "evt_nope",
            "--name",
            "X",
            "--permission",
            "all",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("evt_nope"));
    let out = Command::new(BIN)
        .args([
            "terminal",
            "create",
            "--db",
            d,
            "--event",
            &fx.event,
            "--name",
            "X",
            "--permission",
            "root",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let token = admin(&["admin-token", "--db", d, "--event", &fx.event]);
    assert_eq!(token["admin_token"].as_str().unwrap().len(), 40);
    // A second terminal of the same name gets its own id.
    let again = admin(&[
        "terminal",
        "create",
        "--db",
        d,
        "--event",
        &fx.event,
        "--name",
        "Bar 1",
        "--permission",
        "debit",
    ]);
    assert_eq!(again["id"], "bar-1-2");
}

#[test]
fn the_rate_limit_answers_429_with_retry_after_and_recovers() {
    let fx = Fixture::new(1);
    let server = Server::start_limited(&fx.db, 5.0);
    let url = server.url(&fx.event, "pos/terminal");
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..15 {
        let response = server
            .client()
            .get(&url)
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap();
        if response.status().as_u16() == 429 {
            retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let (_, body) = json(response);
            assert_eq!(body["error_code"], "rate_limited");
            statuses.push(429);
        } else {
            statuses.push(response.status().as_u16());
        }
    }
    let allowed = statuses.iter().filter(|s| **s == 200).count();
    assert!(
        (10..=11).contains(&allowed),
        "a burst of two seconds' worth: {statuses:?}"
    );
    assert_eq!(retry_after.as_deref(), Some("1"));
    // Another endpoint of the same terminal has its own budget.
    let (status, _) = json(
        server
            .client()
            .get(server.url(&fx.event, &format!("pos/wallets/token/{GUEST}")))
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (status, _) = json(
        server
            .client()
            .get(&url)
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "after waiting as told");
}

#[test]
fn the_openapi_document_describes_every_endpoint() {
    let fx = Fixture::new(0);
    let server = Server::start(&fx.db);
    let (status, doc) = json(
        server
            .client()
            .get(format!("{}/api/v1/openapi.json", server.base))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/events/{event_id}/pos/terminal",
        "/api/v1/events/{event_id}/pos/wallets/token/{token_id}",
        "/api/v1/events/{event_id}/pos/wallets/token/{token_id}/transactions",
        "/api/v1/events/{event_id}/pos/transactions/batch",
        "/api/v1/events/{event_id}/pos/wallets",
        "/api/v1/events/{event_id}/pos/terminal/heartbeat",
        "/api/v1/events/{event_id}/manage/products/{product_id}",
        "/api/v1/events/{event_id}/manage/reports/sales",
        "/api/v1/events/{event_id}/manage/conflicts",
    ] {
        assert!(paths.contains_key(path), "{path} is missing");
    }
    let post =
        &paths["/api/v1/events/{event_id}/pos/wallets/token/{token_id}/transactions"]["post"];
    for code in [
        "200", "202", "400", "401", "402", "403", "404", "409", "429",
    ] {
        assert!(
            post["responses"].get(code).is_some(),
            "status {code} is not documented"
        );
    }
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert!(schemes.contains_key("api_token") && schemes.contains_key("admin_token"));
}

/// A schema that says only "an object": no fields, no map, no variants.
fn is_bare_object(schema: &Value) -> bool {
    let says_object = match &schema["type"] {
        Value::String(t) => t == "object",
        Value::Array(types) => types.iter().any(|t| t == "object"),
        _ => false,
    };
    says_object
        && [
            "properties",
            "additionalProperties",
            "allOf",
            "oneOf",
            "anyOf",
            "$ref",
        ]
        .iter()
        .all(|key| schema.get(key).is_none())
}

/// Every bare object in `schema` and what it contains, following `$ref`s
/// into `components.schemas` (each once), as `where` paths.
fn bare_objects(
    schema: &Value,
    components: &Value,
    at: String,
    seen: &mut std::collections::HashSet<String>,
    found: &mut Vec<String>,
) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{at}: a $ref outside components.schemas: {reference}"));
        if seen.insert(name.to_string()) {
            let target = components
                .get(name)
                .unwrap_or_else(|| panic!("{at}: $ref to a missing schema {name}"));
            bare_objects(target, components, format!("{at} → {name}"), seen, found);
        }
        return;
    }
    if is_bare_object(schema) {
        found.push(at.clone());
    }
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            bare_objects(property, components, format!("{at}.{name}"), seen, found);
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if schema[key].is_object() {
            bare_objects(
                &schema[key],
                components,
                format!("{at}[{key}]"),
                seen,
                found,
            );
        }
    }
    for key in ["allOf", "oneOf", "anyOf", "prefixItems"] {
        for (i, member) in schema[key].as_array().into_iter().flatten().enumerate() {
            bare_objects(member, components, format!("{at}<{key} {i}>"), seen, found);
        }
    }
}

#[test]
fn every_body_in_the_openapi_document_is_typed() {
    let fx = Fixture::new(0);
    let server = Server::start(&fx.db);
    let (status, doc) = json(
        server
            .client()
            .get(format!("{}/api/v1/openapi.json", server.base))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    let components = &doc["components"]["schemas"];
    let mut found = Vec::new();
    let mut bodies = 0;
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let Some(responses) = operation["responses"].as_object() else {
                continue;
            };
            let name = format!("{} {path}", method.to_uppercase());
            // Every route is rate limited; a token is checked before the
            // handler; a body can be unreadable or too large.
            let mut needed = vec!["429"];
            if operation.get("security").is_some() {
                needed.push("401");
            }
            if operation.get("requestBody").is_some() {
                needed.extend(["400", "413"]);
            }
            for code in needed {
                assert!(
                    responses.contains_key(code),
                    "{name} does not document {code}"
                );
            }
            let mut contents = vec![("request".to_string(), &operation["requestBody"]["content"])];
            for (code, response) in responses {
                contents.push((code.clone(), &response["content"]));
            }
            for (which, content) in contents {
                for (media, body) in content.as_object().into_iter().flatten() {
                    bodies += 1;
                    // Each body on its own: a schema seen in another body
                    // is checked again.
                    let mut seen = std::collections::HashSet::new();
                    bare_objects(
                        &body["schema"],
                        components,
                        format!("{} {path} {which} {media}", method.to_uppercase()),
                        &mut seen,
                        &mut found,
                    );
                }
            }
        }
    }
    assert!(bodies > 100, "only {bodies} bodies: the walk missed them");
    assert!(is_bare_object(&json!({"type": "object"})));
    assert!(is_bare_object(&json!({"type": ["object", "null"]})));
    assert!(!is_bare_object(
        &json!({"type": "object", "additionalProperties": {"type": "integer"}})
    ));
    assert!(
        found.is_empty(),
        "bodies with an untyped object:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_command_line_works_on_the_database_while_the_server_runs() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    assert_eq!(
        post(
            &server,
            &fx,
            &fx.bar_token,
            GUEST,
            json!({"products": ["water"]})
        )
        .0,
        200
    );
    let created = admin(&[
        "terminal",
        "create",
        "--db",
        fx.db.as_str(),
        "--event",
        &fx.event,
        "--name",
        "Late Bar",
        "--permission",
        "debit",
    ]);
    let token = created["api_token"].as_str().unwrap();
    let (status, body) = json(
        server
            .client()
            .get(server.url(&fx.event, "pos/terminal"))
            .bearer_auth(token)
            .send()
            .unwrap(),
    );
    assert_eq!((status, &body["data"]["id"]), (200, &json!("late-bar")));
    assert_eq!(
        post(&server, &fx, token, GUEST, json!({"products": ["water"]})).0,
        200
    );
}

#[test]
fn a_paired_wallet_keeps_its_user_and_readable_times_are_in_the_events_time_zone() {
    let fx = Fixture::new(3);
    let server = Server::start(&fx.db);
    let manage = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut request = server
            .client()
            .request(method, server.url(&fx.event, path))
            .bearer_auth(&fx.admin_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        json(request.send().unwrap())
    };
    // Pairing stores the guest's account, and the seed's wallet shows it.
    let band = "04D3CCCCCCCC01";
    let (status, body) = manage(
        reqwest::Method::POST,
        "manage/wallets",
        Some(json!({"token_id": band, "balance": 10_00, "paired_user": " sebastian.walker "})),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["paired_user"], "sebastian.walker");
    let (status, body) = json(
        server
            .client()
            .get(server.url(&fx.event, &format!("pos/wallets/token/{band}")))
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert_eq!(body["data"]["paired_user"], "sebastian.walker");
    let (status, body) = manage(
        reqwest::Method::POST,
        "manage/wallets",
        Some(json!({"token_id": "04D3CCCCCCCC02", "paired_user": "x".repeat(101)})),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("invalid_parameters")),
        "{body}"
    );
    let (status, _) = manage(
        reqwest::Method::GET,
        "manage/wallets/token/04D3CCCCCCCC02",
        None,
    );
    assert_eq!(status, 404, "a refused pairing writes no wallet");

    // A sale, then the wallet's history in the event's zone: Berlin by
    // default, then New York once the manager says so.
    let (status, _) = post(
        &server,
        &fx,
        &fx.bar_token,
        band,
        json!({"products": ["water"], "description": "Wasser"}),
    );
    assert_eq!(status, 200, "a debit answers 200 with the wallet");
    let readable_in = |zone: &str| {
        let (status, body) = manage(
            reqwest::Method::GET,
            &format!("manage/wallets/token/{band}"),
            None,
        );
        assert_eq!(status, 200, "{body}");
        let stamp = &body["data"]["transactions"][0]["timestamp"];
        let raw: jiff::Timestamp = stamp["raw"].as_str().unwrap().parse().unwrap();
        let expected = raw
            .to_zoned(jiff::tz::TimeZone::get(zone).unwrap())
            .strftime("%d.%m.%Y %H:%M")
            .to_string();
        (stamp["readable"].as_str().unwrap().to_string(), expected)
    };
    let (readable, expected) = readable_in("Europe/Berlin");
    assert_eq!(readable, expected);
    let (status, mut settings) = manage(reqwest::Method::GET, "manage/settings", None);
    assert_eq!(status, 200);
    assert_eq!(settings["data"]["time_zone"], "Europe/Berlin");
    settings["data"]["time_zone"] = "Mars/Olympus".into();
    let (status, body) = manage(
        reqwest::Method::PUT,
        "manage/settings",
        Some(settings["data"].clone()),
    );
    assert_eq!(status, 400, "{body}");
    let (_, unchanged) = manage(reqwest::Method::GET, "manage/settings", None);
    assert_eq!(
        unchanged["data"]["time_zone"], "Europe/Berlin",
        "a refused zone changes nothing"
    );
    settings["data"]["time_zone"] = "America/New_York".into();
    let (status, body) = manage(
        reqwest::Method::PUT,
        "manage/settings",
        Some(settings["data"].clone()),
    );
    assert_eq!(status, 200, "{body}");
    let (readable, expected) = readable_in("America/New_York");
    assert_eq!(readable, expected);
    assert_ne!(
        readable,
        readable_in("Europe/Berlin").1,
        "the zone changed what people read"
    );
}
