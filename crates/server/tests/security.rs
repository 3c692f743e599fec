//! Every endpoint of the server's own OpenAPI document refuses a request
//! without a token of its event — missing, wrong, another event's, or the
//! wrong kind (a terminal's on the manager API) — with 401, before it reads
//! the body.

mod common;

use common::{json, Fixture, Server};
use serde_json::Value;

/// The document's operations as (method, path with ids filled in).
fn operations(server: &Server, fx: &Fixture) -> Vec<(String, String)> {
    let document: Value = server
        .client()
        .get(format!("{}/api/v1/openapi.json", server.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        if !path.contains("{event_id}") {
            continue;
        }
        let path = path
            .replace("{event_id}", &fx.event)
            .replace("{token_id}", "04D30000000001")
            .replace("{product_id}", "beer")
            .replace("{terminal_id}", "bar-1")
            .replace("{identifier}", "00000000-0000-4000-8000-000000000000")
            .replace("{code}", "TAP-UNKNOWN");
        for method in item.as_object().unwrap().keys() {
            found.push((method.to_uppercase(), path.clone()));
        }
    }
    found
}

fn send(server: &Server, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    let url = format!("{}{path}", server.base);
    let request = server
        .client()
        .request(method.parse().unwrap(), url)
        .header("content-type", "application/json")
        .body("{}");
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    json(request.send().unwrap())
}

#[test]
fn every_endpoint_refuses_a_missing_wrong_or_foreign_token() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let operations = operations(&server, &fx);
    assert!(
        operations.len() >= 30,
        "the document lists the API: {operations:?}"
    );
    for (method, path) in &operations {
        // A guest's phone has no token: a SUN link proves itself
        // (crates/server/tests/bands.rs).
        if path.contains("/guest/") {
            continue;
        }
        let manage = path.contains("/manage/");
        // Seed 000's back office: the manager's, its errors with a numeric
        // code.
        let back_office = path.contains("/backoffice/");
        // Seed 003: devices and locations for managers, scans for devices;
        // seed 004's products for managers. This event's other kind of
        // token gets 403 (checked below).
        let seed_004 = !manage && path.contains(&format!("/events/{}/products", fx.event));
        let seed_003 =
            !manage && (path.contains("/devices") || path.contains("/locations")) || seed_004;
        let scan = path.contains("/devices/scan");
        let foreign = if manage || back_office {
            vec![fx.other_admin_token.as_str(), fx.bar_token.as_str()]
        } else if seed_003 {
            vec![fx.other_admin_token.as_str(), fx.other_token.as_str()]
        } else {
            vec![fx.other_token.as_str(), fx.admin_token.as_str()]
        };
        for token in [None, Some("nonsense")]
            .into_iter()
            .chain(foreign.into_iter().map(Some))
        {
            let (status, body) = send(&server, method, path, token);
            let code = if back_office {
                body["error_code"] == 0
            } else {
                body["error_code"] == "unauthenticated"
            };
            assert_eq!(
                (status, code),
                (401, true),
                "{method} {path} with {}",
                if token.is_some() {
                    "a wrong token"
                } else {
                    "no token"
                }
            );
        }
        // The right token gets past the door: the refusals above were the
        // token's. (Reads only: a write with the admin token could roll or
        // archive the very terminal whose token this test uses.)
        if seed_003 {
            let other_ability = if scan { &fx.admin_token } else { &fx.bar_token };
            let (status, body) = send(&server, method, path, Some(other_ability));
            assert_eq!(status, 403, "{method} {path} without the ability: {body}");
        }
        if method == "GET" {
            let right = if manage || back_office || (seed_003 && !scan) {
                &fx.admin_token
            } else {
                &fx.bar_token
            };
            let (status, body) = send(&server, method, path, Some(right));
            assert_ne!(status, 401, "{method} {path} with its own token: {body}");
        }
    }
}
