//! Payout runs against the real server over HTTPS, on either engine: the
//! guests ask on their pages, the organiser runs, the run freezes those
//! wallets (a bar cannot sell on them, the desk cannot pay them out in
//! cash, the guest cannot change the request), the SEPA file is valid
//! against the pain.001.001.09 schema and pays exactly what was frozen,
//! booking empties the wallets, revoking gives them back.

mod common;

use common::guest::{codes, csrf, page, request_payout, sell, session_cookie, sign_in};
use common::{json, Fixture, Server};
use serde_json::{json, Value};

const TRANSFER: &str = "04D30000000001";
const PART: &str = "04D30000000002";
const ALL: &str = "04D30000000003";
const LATER: &str = "04D30000000004";

struct Desk<'a> {
    server: &'a Server,
    fx: &'a Fixture,
}

impl Desk<'_> {
    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .server
            .client()
            .request(method, self.server.url(&self.fx.event, path))
            .bearer_auth(&self.fx.admin_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        json(request.send().unwrap())
    }

    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body))
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None)
    }

    fn text(&self, path: &str) -> (u16, String) {
        let answer = self
            .server
            .client()
            .get(self.server.url(&self.fx.event, path))
            .bearer_auth(&self.fx.admin_token)
            .send()
            .unwrap();
        (answer.status().as_u16(), answer.text().unwrap())
    }

    fn balance(&self, token: &str) -> i64 {
        let (status, body) = self.get(&format!("manage/wallets/token/{token}"));
        assert_eq!(status, 200, "{body}");
        body["data"]["balance"].as_i64().unwrap()
    }

    fn settings(&self, body: Value) {
        let (status, answer) =
            self.call(reqwest::Method::PUT, "manage/payout-settings", Some(body));
        assert_eq!(status, 200, "{answer}");
    }
}

/// The guest of `token` signs in and asks for the payout: their session
/// cookie.
fn ask(server: &Server, fx: &Fixture, code: &str, fields: &[(&str, &str)]) -> String {
    let (cookie, _) = session_cookie(&sign_in(server, fx, code));
    let token = csrf(&page(server, fx, Some(&cookie)).1);
    let (status, body) = request_payout(server, fx, &cookie, &token, fields);
    assert_eq!(status, 303, "{body}");
    cookie
}

fn holder<'a>(name: &'a str, iban: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("account_holder", name),
        ("iban", iban),
        ("email", "guest@example.org"),
    ]
}

/// The one element `tag` of `xml`, as text.
fn element<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    xml.match_indices(&format!("<{tag}"))
        .map(|(at, _)| {
            let start = at + xml[at..].find('>').unwrap() + 1;
            &xml[start..start + xml[start..].find('<').unwrap()]
        })
        .collect()
}

fn cents(decimal: &str) -> i64 {
    let (euros, cents) = decimal.split_once('.').unwrap();
    euros.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

#[test]
fn a_run_freezes_the_wallets_and_pays_exactly_what_it_froze() {
    let fx = Fixture::new(4);
    let server = Server::start(&fx.db);
    let desk = Desk {
        server: &server,
        fx: &fx,
    };
    let issued = codes(&server, &fx, &[TRANSFER, PART, ALL, LATER]);
    desk.settings(json!({
        "donation_target": "Seenotrettung",
        "fee_cents": 100,
        "minimum_cents": 500,
    }));
    let (status, body) = sell(&server, &fx, TRANSFER, &["beer"]);
    assert_eq!(status, 200, "{body}");
    let transfer_cookie = ask(
        &server,
        &fx,
        &issued[0],
        &holder("Jürgen Müller & Söhne", "DE44 5001 0517 5407 3249 31"),
    );
    let mut part = holder("Zoë Ørsted", "AT61 1904 3002 3457 3201");
    part.extend([("donation", "part"), ("donation_amount", "5")]);
    ask(&server, &fx, &issued[1], &part);
    ask(
        &server,
        &fx,
        &issued[2],
        &[("email", "all@example.org"), ("donation", "all")],
    );
    ask(
        &server,
        &fx,
        &issued[3],
        &holder("Later Guest", "DE44 5001 0517 5407 3249 31"),
    );
    let frozen: Vec<i64> = [TRANSFER, PART, ALL]
        .iter()
        .map(|t| desk.balance(t))
        .collect();

    // Without the organiser's account there is no run.
    let (status, body) = desk.post("manage/payout-runs", json!({ "max_count": 3 }));
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("debtor"), "{body}");
    desk.settings(json!({
        "donation_target": "Seenotrettung",
        "fee_cents": 100,
        "minimum_cents": 500,
        "debtor": { "name": "Festival GmbH & Co. KG", "iban": "DE89 3704 0044 0532 0130 00" },
    }));
    // The request window is open: a warning to accept.
    let (status, body) = desk.post("manage/payout-runs", json!({ "max_count": 3 }));
    assert_eq!(status, 409, "{body}");
    assert!(
        body.to_string().contains("request window is still open"),
        "{body}"
    );
    let (status, body) = desk.post(
        "manage/payout-runs",
        json!({ "max_count": 3, "accept_warnings": true, "execution_date": "2099-01-02" }),
    );
    assert_eq!(status, 201, "{body}");
    let run = body["data"].clone();
    let id = run["id"].as_str().unwrap().to_string();
    assert_eq!(run["state"], "pending");
    assert_eq!(run["bands"], 3);
    assert_eq!(run["transfers"], 2);
    assert_eq!(
        run["left_out"],
        json!([{ "token_id": LATER, "reason": "limit" }])
    );
    assert_eq!(
        run["total_cents"].as_i64().unwrap(),
        frozen.iter().sum::<i64>(),
        "the run takes the frozen balances, to the cent"
    );
    assert_eq!(run["fee_cents"], 200);
    assert_eq!(run["donation_cents"], 500 + frozen[2]);

    // Frozen: the bar, the desk and the guest cannot touch them.
    assert_eq!(sell(&server, &fx, TRANSFER, &["beer"]).0, 402);
    assert_eq!(sell(&server, &fx, ALL, &["beer"]).0, 402);
    let (status, body) = desk.call(
        reqwest::Method::DELETE,
        &format!("manage/wallets/token/{TRANSFER}/block"),
        None,
    );
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        desk.post(&format!("manage/wallets/token/{PART}/payout"), json!({}))
            .0,
        409
    );
    let (_, shown) = page(&server, &fx, Some(&transfer_cookie));
    assert!(shown.contains("being made"), "{shown}");
    // Not taken twice: a second run finds only the band left out.
    let (status, body) = desk.post("manage/payout-runs", json!({ "accept_warnings": true }));
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["bands"], 1);
    let second = body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(sell(&server, &fx, LATER, &["beer"]).0, 402);
    let (status, body) = desk.post(&format!("manage/payout-runs/{second}/revoke"), json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["state"], "revoked");
    assert_eq!(sell(&server, &fx, LATER, &["beer"]).0, 200, "unfrozen");

    // Not booked before the bank has the file.
    assert_eq!(
        desk.post(&format!("manage/payout-runs/{id}/done"), json!({}))
            .0,
        409
    );
    let (status, xml) = desk.text(&format!("manage/payout-runs/{id}/sepa.xml"));
    assert_eq!(status, 200, "{xml}");
    tapster_sepa::testing::validate(&xml).unwrap();
    let amounts: Vec<i64> = element(&xml, "InstdAmt").into_iter().map(cents).collect();
    assert_eq!(amounts, vec![frozen[0] - 100, frozen[1] - 500 - 100]);
    assert_eq!(
        element(&xml, "CtrlSum"),
        vec![element(&xml, "CtrlSum")[0]; 2]
    );
    assert_eq!(
        cents(element(&xml, "CtrlSum")[0]),
        amounts.iter().sum::<i64>()
    );
    assert_eq!(
        element(&xml, "Nm"),
        vec![
            "Festival GmbH + Co. KG",
            "Festival GmbH + Co. KG",
            "Juergen Mueller + Soehne",
            "Zoe Orsted"
        ]
    );
    assert_eq!(element(&xml, "Dt"), vec!["2099-01-02"]);
    let ids = element(&xml, "EndToEndId");
    assert_eq!(ids, vec![format!("{id}-00001"), format!("{id}-00002")]);
    // Downloaded again: the same file.
    assert_eq!(
        desk.text(&format!("manage/payout-runs/{id}/sepa.xml")).1,
        xml
    );
    let (_, listed) = desk.get("manage/payout-runs");
    let states: Vec<(&str, &str)> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    assert!(states.contains(&(id.as_str(), "exported")), "{listed}");
    assert!(states.contains(&(second.as_str(), "revoked")), "{listed}");
    let (status, csv) = desk.text(&format!("manage/payout-runs/{id}/bands.csv?style=comma"));
    assert_eq!(status, 200);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 4, "{csv}");
    assert!(
        rows[3].starts_with(&format!(",{ALL},,,all@example.org,0.00,0.00,")),
        "{csv}"
    );

    let (status, body) = desk.post(&format!("manage/payout-runs/{id}/done"), json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["state"], "done");
    for token in [TRANSFER, PART, ALL] {
        assert_eq!(desk.balance(token), 0, "{token} paid out");
    }
    assert_eq!(
        sell(&server, &fx, TRANSFER, &["beer"]).0,
        402,
        "stays blocked"
    );
    let (_, shown) = page(&server, &fx, Some(&transfer_cookie));
    assert!(
        shown.contains("Paid out by bank transfer") && shown.contains("Bank transfer fee"),
        "{shown}"
    );
    // Done is final.
    for action in ["done", "revoke"] {
        assert_eq!(
            desk.post(&format!("manage/payout-runs/{id}/{action}"), json!({}))
                .0,
            409
        );
    }
    assert_eq!(
        desk.text(&format!("manage/payout-runs/{id}/sepa.xml")).0,
        409
    );

    // What nobody is paying out: the band whose run was revoked.
    let (status, body) = desk.get("manage/payouts/unclaimed");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["bands"], 1, "{body}");
    assert_eq!(body["data"]["rows"][0]["token_id"], LATER);
    assert_eq!(body["data"]["rows"][0]["requested"], true);
    assert_eq!(
        body["data"]["total_cents"].as_i64().unwrap(),
        desk.balance(LATER)
    );
}

#[test]
fn a_staff_cashier_cannot_run_payouts_and_small_rests_are_left_out() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let desk = Desk {
        server: &server,
        fx: &fx,
    };
    let issued = codes(&server, &fx, &[TRANSFER]);
    ask(
        &server,
        &fx,
        &issued[0],
        &holder("Erika", "DE44500105175407324931"),
    );
    // The window has closed: no warning to accept.
    desk.settings(json!({
        "fee_cents": 150,
        "minimum_cents": 5000,
        "closes_at": 1000,
        "debtor": { "name": "Festival", "iban": "DE89370400440532013000" },
    }));
    // 20.00 on the band, 1.50 fee: 18.50 is below the 50.00 minimum.
    let (status, body) = desk.post("manage/payout-runs", json!({}));
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("below the minimum"), "{body}");
    assert_eq!(sell(&server, &fx, TRANSFER, &["beer"]).0, 200, "not frozen");
    // Bad input: a clear 400 naming the field, and nothing frozen.
    for (asked, field) in [
        (json!({ "max_count": 0 }), "max_count"),
        (json!({ "max_cents": 0 }), "max_cents"),
        (json!({ "execution_date": "8.12.2026" }), "execution_date"),
        (json!({ "execution_date": "2020-01-01" }), "execution_date"),
        (json!({ "max_cents": "5 EUR" }), "body"),
        (json!({ "spend": true }), "body"),
    ] {
        let (status, body) = desk.post("manage/payout-runs", asked.clone());
        assert_eq!(status, 400, "{asked}: {body}");
        assert!(body.to_string().contains(field), "{asked}: {body}");
    }
    let (_, runs) = desk.get("manage/payout-runs");
    assert_eq!(runs["data"], json!([]), "nothing made");
    assert_eq!(
        sell(&server, &fx, TRANSFER, &["beer"]).0,
        200,
        "nothing frozen"
    );
    let (status, _) = server
        .client()
        .get(server.url(&fx.event, "manage/payout-runs"))
        .bearer_auth(&fx.bar_token)
        .send()
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 401, "a till's token is not the organiser's");
}

#[test]
fn a_frozen_band_still_signs_in_and_a_band_lost_meanwhile_stays_blocked() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let desk = Desk {
        server: &server,
        fx: &fx,
    };
    let issued = codes(&server, &fx, &[TRANSFER]);
    ask(
        &server,
        &fx,
        &issued[0],
        &holder("Erika", "DE44500105175407324931"),
    );
    desk.settings(json!({
        "debtor": { "name": "Festival", "iban": "DE89370400440532013000" },
    }));
    let (status, body) = desk.post("manage/payout-runs", json!({ "accept_warnings": true }));
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["id"].as_str().unwrap().to_string();

    // Frozen for the tills, not for its guest.
    let answer = sign_in(&server, &fx, &issued[0]);
    assert_eq!(answer.status(), 303);
    let (cookie, _) = session_cookie(&answer);
    let (_, shown) = page(&server, &fx, Some(&cookie));
    assert!(shown.contains("being made"), "{shown}");
    // The guest loses the band while the run holds it.
    let answer = server
        .page_client()
        .post(format!("{}/guest/{}/block", server.base, fx.event))
        .header("Cookie", &cookie)
        .form(&[
            ("csrf", csrf(&shown).as_str()),
            ("lang", "en"),
            ("confirm", "yes"),
        ])
        .send()
        .unwrap();
    assert_eq!(answer.status(), 303);
    let (status, body) = desk.post(&format!("manage/payout-runs/{id}/revoke"), json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        sell(&server, &fx, TRANSFER, &["beer"]).0,
        402,
        "revoking the run does not unblock a lost band"
    );
}

#[test]
fn unclaimed_money_is_retained_or_donated_once_the_window_closed() {
    let fx = Fixture::new(2);
    let server = Server::start(&fx.db);
    let desk = Desk {
        server: &server,
        fx: &fx,
    };
    let (status, body) = desk.post("manage/payouts/unclaimed/settle", json!({}));
    assert_eq!(status, 409, "the window is open: {body}");
    // Donating needs a cause.
    let (status, _) = desk.call(
        reqwest::Method::PUT,
        "manage/payout-settings",
        Some(json!({ "closes_at": 1000, "unclaimed": "donate" })),
    );
    assert_eq!(status, 400);
    desk.settings(json!({
        "closes_at": 1000,
        "unclaimed": "donate",
        "donation_target": "Seenotrettung",
    }));
    let before = desk.balance(TRANSFER) + desk.balance(PART);
    let (status, body) = desk.post("manage/payouts/unclaimed/settle", json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!({ "rule": "donate", "bands": 2, "total_cents": before })
    );
    assert_eq!(desk.balance(TRANSFER), 0);
    assert_eq!(
        sell(&server, &fx, PART, &["beer"]).0,
        402,
        "nothing left to spend"
    );
    let (_, again) = desk.post("manage/payouts/unclaimed/settle", json!({}));
    assert_eq!(again["data"]["bands"], 0, "booked once");
    let (_, report) = desk.get("manage/payouts/unclaimed");
    assert_eq!(report["data"]["bands"], 0);
}
