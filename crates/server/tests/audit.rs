//! The audit trail against the real server: each audited action leaves
//! exactly one record naming who did it (the admin token, a manager's
//! session on a till, a cashier's synced cancellation, a guest); no API
//! changes or removes a record, the database refuses to, and the chain
//! check finds one changed behind the server's back.

mod common;

use common::till::{pending_batch, pull, push, sell, statuses, terminal_ledger};
use common::{json, Fixture, Server, BIN};
use serde_json::{json, Value};
use tapster_ledger::store::{Authorisation, CancelRequest};
use tapster_ledger::{IdempotencyKey, StaffId};

fn call(
    server: &Server,
    fx: &Fixture,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = server.url(&fx.event, &format!("manage/{path}"));
    let client = server.client();
    let request = match method {
        "GET" => client.get(url),
        "POST" => client.post(url),
        "PUT" => client.put(url),
        "PATCH" => client.patch(url),
        "DELETE" => client.delete(url),
        _ => unreachable!(),
    }
    .bearer_auth(token);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    json(request.send().unwrap())
}

fn ok(
    server: &Server,
    fx: &Fixture,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Value {
    let (status, answer) = call(server, fx, token, method, path, body);
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

/// The trail's records after `seq`, as the manager API lists them.
fn records_after(server: &Server, fx: &Fixture, seq: i64) -> Vec<Value> {
    let answer = ok(
        server,
        fx,
        &fx.admin_token,
        "GET",
        &format!("audit?after={seq}"),
        None,
    );
    answer["data"].as_array().unwrap().clone()
}

fn last_seq(server: &Server, fx: &Fixture) -> i64 {
    records_after(server, fx, 0)
        .last()
        .map_or(0, |r| r["seq"].as_i64().unwrap())
}

fn manager_session(server: &Server, fx: &Fixture, staff: &str, pin: &str) -> String {
    let (status, body) = json(
        server
            .client()
            .post(server.url(&fx.event, "pos/staff-sessions"))
            .bearer_auth(&fx.bar_token)
            .json(&json!({ "staff_id": staff, "pin": pin }))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 201, "{body}");
    body["data"]["token"].as_str().unwrap().to_string()
}

/// (action, actor kind, actor id, terminal, wallet, subject) of a record.
fn summary(record: &Value) -> (String, String, String, String, String, String) {
    let text = |field: &str| record[field].as_str().unwrap_or("").to_string();
    (
        text("action"),
        text("actor_kind"),
        text("actor_id"),
        text("terminal_id"),
        text("wallet"),
        text("subject"),
    )
}

fn expect(
    action: &str,
    kind: &str,
    id: &str,
    terminal: &str,
    wallet: &str,
    subject: &str,
) -> (String, String, String, String, String, String) {
    (
        action.into(),
        kind.into(),
        id.into(),
        terminal.into(),
        wallet.into(),
        subject.into(),
    )
}

#[test]
fn each_manager_action_leaves_one_record_naming_who_did_it() {
    let fx = Fixture::new(3);
    let server = Server::start(&fx.db);
    let admin = fx.admin_token.clone();
    let start = last_seq(&server, &fx);
    let bands: Vec<String> = (1..=3)
        .map(|n| tapster_ledger::demo::wristband(n).to_string())
        .collect();
    let new_band = "04AABBCCDDEE80";

    // The admin token.
    let settings = ok(&server, &fx, &admin, "GET", "settings", None)["data"].clone();
    let mut changed = settings.clone();
    changed["max_wallet_balance"] = json!(321_00);
    ok(&server, &fx, &admin, "PUT", "settings", Some(changed));
    ok(
        &server,
        &fx,
        &admin,
        "POST",
        "categories",
        Some(json!({"id": "snacks", "name": "Snacks", "position": 5})),
    );
    let product = ok(&server, &fx, &admin, "GET", "products", None)["data"][0].clone();
    let product_id = product["id"].as_str().unwrap().to_string();
    let old_price = product["price"].clone();
    let mut dearer = product.clone();
    dearer["price"] = json!(old_price.as_i64().unwrap() + 50);
    ok(
        &server,
        &fx,
        &admin,
        "PUT",
        &format!("products/{product_id}"),
        Some(dearer),
    );
    ok(
        &server,
        &fx,
        &admin,
        "DELETE",
        &format!("products/{product_id}"),
        None,
    );
    ok(
        &server,
        &fx,
        &admin,
        "PATCH",
        &format!("products/{product_id}"),
        None,
    );
    let made = ok(
        &server,
        &fx,
        &admin,
        "POST",
        "terminals",
        Some(json!({"friendly_name": "Bar 9", "permission": "debit"})),
    );
    let terminal = made["data"]["id"].as_str().unwrap().to_string();
    ok(
        &server,
        &fx,
        &admin,
        "POST",
        &format!("terminals/{terminal}/token"),
        None,
    );
    ok(
        &server,
        &fx,
        &admin,
        "DELETE",
        &format!("terminals/{terminal}"),
        None,
    );
    ok(
        &server,
        &fx,
        &admin,
        "POST",
        "staff",
        Some(json!({"id": "lea", "name": "Lea", "role": "cashier", "pin": "8642"})),
    );
    ok(&server, &fx, &admin, "POST", "band-keys/rotate", None);
    let made = ok(
        &server,
        &fx,
        &admin,
        "POST",
        "passes",
        Some(
            json!({"count": 2, "title": "Freigetränk", "subtitle": "Helfer", "benefit": {"type": "voucher", "value": 5_00}}),
        ),
    );
    let batch = made["data"]["batch"].as_str().unwrap().to_string();
    let code = made["data"]["codes"][0].as_str().unwrap().to_string();
    ok(
        &server,
        &fx,
        &admin,
        "POST",
        &format!("passes/{code}/block"),
        None,
    );

    // A manager's session opened on the bar's till.
    let max = manager_session(&server, &fx, "max", "4444");
    ok(
        &server,
        &fx,
        &max,
        "POST",
        "staff",
        Some(json!({"id": "lea", "name": "Lea", "role": "supervisor"})),
    );
    ok(
        &server,
        &fx,
        &max,
        "POST",
        &format!("wallets/token/{}/block", bands[0]),
        None,
    );
    ok(
        &server,
        &fx,
        &max,
        "DELETE",
        &format!("wallets/token/{}/block", bands[0]),
        None,
    );
    ok(
        &server,
        &fx,
        &max,
        "POST",
        &format!("wallets/token/{}/move", bands[1]),
        Some(json!({"to_token_id": new_band})),
    );
    let paid = ok(
        &server,
        &fx,
        &max,
        "POST",
        &format!("wallets/token/{}/payout", bands[2]),
        None,
    );
    ok(
        &server,
        &fx,
        &max,
        "POST",
        "wallets",
        Some(json!({"token_id": "04AABBCCDDEE81", "balance": 5_00})),
    );

    let records = records_after(&server, &fx, start);
    let got: Vec<_> = records.iter().map(summary).collect();
    let bar = "bar-1";
    assert_eq!(
        got,
        vec![
            expect("settings_changed", "admin", "", "", "", ""),
            expect("category_saved", "admin", "", "", "", "snacks"),
            expect("product_changed", "admin", "", "", "", &product_id),
            expect("product_archived", "admin", "", "", "", &product_id),
            expect("product_restored", "admin", "", "", "", &product_id),
            expect("terminal_created", "admin", "", "", "", &terminal),
            expect("terminal_token_rolled", "admin", "", "", "", &terminal),
            expect("terminal_archived", "admin", "", "", "", &terminal),
            expect("staff_created", "admin", "", "", "", "lea"),
            expect("band_keys_rotated", "admin", "", "", "", ""),
            expect("passes_created", "admin", "", "", "", &batch),
            expect("pass_blocked", "admin", "", "", "", &code),
            expect("staff_changed", "staff", "max", bar, "", "lea"),
            expect("wallet_blocked", "staff", "max", bar, &bands[0], ""),
            expect("wallet_unblocked", "staff", "max", bar, &bands[0], ""),
            expect("balance_moved", "staff", "max", bar, &bands[1], ""),
            expect("payout", "staff", "max", bar, &bands[2], ""),
            expect("wallet_paired", "staff", "max", bar, "04AABBCCDDEE81", ""),
        ],
        "{records:#?}"
    );
    // The figures: what changed, from what to what; never a PIN.
    let detail =
        |action: &str| records.iter().find(|r| r["action"] == action).unwrap()["detail"].clone();
    assert_eq!(detail("settings_changed")["max_wallet_balance"][1], 321_00);
    assert_eq!(
        detail("product_changed")["price"],
        json!([old_price, old_price.as_i64().unwrap() + 50])
    );
    assert_eq!(
        detail("staff_changed")["role"],
        json!(["cashier", "supervisor"])
    );
    assert_eq!(detail("payout")["amount"], paid["data"]["amount"]);
    assert_eq!(detail("balance_moved")["to"], new_band);
    assert_eq!(detail("wallet_paired")["starting_credit"], 5_00);
    assert_eq!(detail("passes_created")["count"], 2);
    let text = serde_json::to_string(&records).unwrap();
    assert!(!text.contains("8642"), "no PIN in the trail");
    let second_code = made["data"]["codes"][1].as_str().unwrap();
    assert!(
        !text.contains(second_code),
        "no pass code that was not blocked"
    );
    // Names beside the ids, for people.
    let moved = records
        .iter()
        .find(|r| r["action"] == "balance_moved")
        .unwrap();
    assert_eq!(moved["actor_name"], "Max");
    assert_eq!(moved["terminal_name"], "Bar 1");

    // Filters: by staff member, by action, by wallet, by time.
    let by_max = ok(&server, &fx, &admin, "GET", "audit?staff=max", None)["data"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(by_max, 6);
    let payouts = ok(&server, &fx, &admin, "GET", "audit?action=payout", None)["data"].clone();
    assert_eq!(payouts.as_array().unwrap().len(), 1);
    let band = ok(
        &server,
        &fx,
        &admin,
        "GET",
        &format!("audit?wallet={}", bands[0]),
        None,
    )["data"]
        .clone();
    // The band was paired by the server's own command (the demo), then
    // blocked and unblocked by Max.
    let history: Vec<_> = band
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["actor_kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("wallet_paired", "console"),
            ("wallet_blocked", "staff"),
            ("wallet_unblocked", "staff")
        ]
    );
    let first_at = records[0]["at"].as_i64().unwrap();
    let none_before = ok(
        &server,
        &fx,
        &admin,
        "GET",
        &format!("audit?until={}", first_at - 1),
        None,
    );
    assert!(none_before["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["seq"].as_i64().unwrap() <= start));
    let (status, body) = call(&server, &fx, &admin, "GET", "audit?action=nonsense", None);
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("invalid_parameters")),
        "{body}"
    );

    // The CSV: a header and a row per record.
    let csv = server
        .client()
        .get(server.url(&fx.event, "manage/audit.csv?staff=max"))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert_eq!(csv.status().as_u16(), 200);
    let csv = csv.text().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("seq,time_utc,actor_kind,actor_id,actor_name"),
        "{csv}"
    );
    assert_eq!(lines.len(), 1 + 6, "{csv}");
    assert!(lines.iter().any(|l| l.contains(",payout,")), "{csv}");

    // Only a manager reads it: a supervisor's session does not.
    let sue = manager_session(&server, &fx, "sue", "3333");
    let (status, body) = call(&server, &fx, &sue, "GET", "audit", None);
    assert_eq!(
        (status, body["error_code"].as_str()),
        (403, Some("role_not_permitted"))
    );
    let (status, _) = call(&server, &fx, &max, "GET", "audit", None);
    assert_eq!(status, 200);
    let verified = ok(&server, &fx, &admin, "GET", "audit/verify", None)["data"].clone();
    assert_eq!(verified["intact"], true, "{verified}");
}

#[test]
fn a_cashiers_cancellation_synced_from_the_till_names_the_cashier_and_the_till() {
    let fx = Fixture::new(2);
    let server = Server::start(&fx.db);
    let ledger = terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    let start = last_seq(&server, &fx);
    sell(&ledger, 1, &[("beer", 1)]);
    let sale = ledger.pending_entries(10).unwrap().last().unwrap().id;
    ledger
        .cancel(
            &CancelRequest {
                key: IdempotencyKey::random(),
                staff: StaffId::new("anna").unwrap(),
                entry: sale,
            },
            Authorisation::ThisLedger,
        )
        .unwrap();
    let batch = pending_batch(&ledger);
    let (status, body) = push(&server, &fx, &fx.bar_token, &batch);
    assert_eq!(status, 200, "{body}");
    assert!(statuses(&body).iter().all(|s| s == "created"), "{body}");
    // The same batch again (a till that lost the answer) adds nothing.
    let (status, body) = push(&server, &fx, &fx.bar_token, &batch);
    assert_eq!(status, 200, "{body}");

    let records = records_after(&server, &fx, start);
    let band = tapster_ledger::demo::wristband(1).to_string();
    assert_eq!(
        records.len(),
        1,
        "the sale is not audited, its cancellation once: {records:#?}"
    );
    let (action, kind, id, terminal, wallet, _) = summary(&records[0]);
    assert_eq!(
        (
            action.as_str(),
            kind.as_str(),
            id.as_str(),
            terminal.as_str(),
            wallet.as_str()
        ),
        ("cancellation", "staff", "anna", "bar-1", band.as_str())
    );
    assert_eq!(records[0]["detail"]["reverses"], sale.to_string());
    assert_eq!(records[0]["actor_name"], "Anna");
}

#[test]
fn no_api_changes_the_trail_the_database_refuses_and_the_check_finds_tampering() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let admin = fx.admin_token.clone();
    for n in 0..3 {
        ok(
            &server,
            &fx,
            &admin,
            "POST",
            "categories",
            Some(json!({"id": format!("c{n}"), "name": format!("Kategorie {n}"), "position": n})),
        );
    }
    let records = records_after(&server, &fx, 0);
    let victim = records[records.len() - 2]["seq"].as_i64().unwrap();

    // No route writes to it.
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        for path in ["audit", &format!("audit/{victim}")] {
            let (status, _) = call(
                &server,
                &fx,
                &admin,
                method,
                path,
                Some(json!({"detail": {}})),
            );
            assert!(status == 405 || status == 404, "{method} {path}: {status}");
        }
    }
    assert_eq!(records_after(&server, &fx, 0), records);

    // The database refuses an update and a delete.
    let statement_fails = |sql: &str| -> String {
        match common::postgres_cluster() {
            Some(_) => {
                let output = std::process::Command::new("psql")
                    .args([fx.db.as_str(), "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
                    .output()
                    .unwrap();
                assert!(!output.status.success(), "{sql} went through");
                String::from_utf8_lossy(&output.stderr).to_string()
            }
            None => {
                let conn = rusqlite::Connection::open(&fx.db).unwrap();
                conn.execute_batch(sql).unwrap_err().to_string()
            }
        }
    };
    let update = format!("UPDATE audit_log SET detail = '{{}}' WHERE seq = {victim}");
    assert!(statement_fails(&update).contains("append-only"));
    assert!(
        statement_fails(&format!("DELETE FROM audit_log WHERE seq = {victim}"))
            .contains("append-only")
    );

    // Someone with the database's own keys gets past the trigger: the
    // chain check finds the record.
    let tamper = match common::postgres_cluster() {
        Some(_) => format!(
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update; \
             UPDATE audit_log SET detail = '{{\"name\":\"Harmlos\",\"position\":1}}' WHERE seq = {victim}"
        ),
        None => format!(
            "DROP TRIGGER audit_log_no_update; \
             UPDATE audit_log SET detail = '{{\"name\":\"Harmlos\",\"position\":1}}' WHERE seq = {victim}"
        ),
    };
    match common::postgres_cluster() {
        Some(_) => {
            common::psql(&fx.db, &tamper);
        }
        None => rusqlite::Connection::open(&fx.db)
            .unwrap()
            .execute_batch(&tamper)
            .unwrap(),
    }
    let verified = ok(&server, &fx, &admin, "GET", "audit/verify", None)["data"].clone();
    assert_eq!(verified["intact"], false, "{verified}");
    assert_eq!(verified["first_broken"], victim);
    drop(server);
    let check = std::process::Command::new(BIN)
        .args(["check", "--db", &fx.db])
        .output()
        .unwrap();
    assert!(!check.status.success(), "the check fails");
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert!(
        report["problems"].as_array().unwrap().iter().any(|p| p
            .as_str()
            .unwrap()
            .contains(&format!("audit trail is broken at record {victim}"))),
        "{report}"
    );
}

/// A till hands over its shift closes: each shift once, named after who
/// closed it on that till; bad input is refused whole.
#[test]
fn a_tills_shift_closes_are_recorded_once_and_bad_ones_refused() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let post = |body: serde_json::Value| {
        common::json(
            server
                .client()
                .post(server.url(&fx.event, "pos/audit/shift-closes"))
                .bearer_auth(&fx.bar_token)
                .json(&body)
                .send()
                .unwrap(),
        )
    };
    let close = |shift: &str, staff: &str, detail: serde_json::Value| serde_json::json!({"seq": 1, "at": 1_700_000_000_000_i64, "staff_id": staff, "shift_id": shift, "detail": detail});
    let good = close(
        "shift-1",
        "sue",
        serde_json::json!({"cashier": "anna", "counted_cash": 9500}),
    );
    for bad in [
        serde_json::json!({ "closes": [close("shift-2", "Not an id!", serde_json::json!({}))] }),
        serde_json::json!({ "closes": [close("", "sue", serde_json::json!({}))] }),
        serde_json::json!({ "closes": [close("shift-2", "sue", serde_json::json!([1, 2]))] }),
        serde_json::json!({ "closes": [good.clone(), close("shift-3", "sue", serde_json::json!("x"))] }),
        serde_json::json!({ "closes": vec![good.clone(); 101] }),
        serde_json::json!({ "closes": [good.clone()], "extra": 1 }),
    ] {
        let (status, body) = post(bad.clone());
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, body) = post(serde_json::json!({ "closes": [good.clone()] }));
    assert_eq!(
        (status, &body["data"]["recorded"]),
        (200, &serde_json::json!(1)),
        "{body}"
    );
    let (status, body) = post(serde_json::json!({ "closes": [good] }));
    assert_eq!(
        (status, &body["data"]["recorded"]),
        (200, &serde_json::json!(0))
    );

    let (_, trail) = server.get_json(
        &fx.event,
        "manage/audit?action=shift_closed",
        &fx.admin_token,
    );
    let records = trail["data"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{trail}");
    assert_eq!(records[0]["actor_id"], "sue");
    assert_eq!(records[0]["subject"], "shift-1");
    assert_eq!(records[0]["detail"]["terminal_time"], 1_700_000_000_000_i64);
    assert!(records[0]["terminal_id"].is_string());
}
