//! The guest pages in a real browser: headless Chromium (Debian's), driven
//! over WebDriver by chromedriver, against the real server over HTTPS. A
//! guest on a phone signs in with the code on the band, sees a sale made
//! at a bar a moment ago, asks for the payout, blocks the band; a stranger
//! typing wrong codes meets the limit. Screenshots (phone and desktop) are written to
//! `target/tmp/guest-pages/` for a person to look at.

mod common;

use common::browser::Browser;
use common::{json, Fixture, Server};
use serde_json::json;

const BAND: &str = "04D30000000001"; // demo wristband 1: 20.00

fn screens() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("guest-pages");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sell(server: &Server, fx: &Fixture, products: &[&str]) {
    let (status, body) = json(
        server
            .client()
            .post(server.url(&fx.event, &format!("pos/wallets/token/{BAND}/transactions")))
            .bearer_auth(&fx.bar_token)
            .json(&json!({ "products": products }))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{body}");
}

fn code_for(server: &Server, fx: &Fixture) -> String {
    let (status, body) = json(
        server
            .client()
            .post(server.url(&fx.event, "manage/guest-codes"))
            .bearer_auth(&fx.admin_token)
            .json(&json!({ "token_ids": [BAND] }))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    body["data"]["codes"][0]["code"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_guest_on_a_phone_signs_in_sees_a_fresh_sale_and_blocks_the_band() {
    let fx = Fixture::new(2);
    let server = Server::start(&fx.db);
    let code = code_for(&server, &fx);
    sell(&server, &fx, &["beer", "bratwurst"]);
    let page = format!("{}/guest/{}", server.base, fx.event);

    let phone = Browser::start(390, 844, "en-GB");
    phone.open(&page);
    assert!(
        phone.text().contains("Code on the wristband"),
        "{}",
        phone.text()
    );
    phone.screenshot(&screens().join("phone-sign-in.png"));
    phone.type_into("#code", &code.to_lowercase());
    phone.submit("button[type=submit]");
    let shown = phone.text();
    // 20.00 − (5.00 beer + 2.00 cup + 4.50 bratwurst).
    assert!(shown.contains("€8.50"), "{shown}");
    assert!(
        shown.contains("Bar 1") && shown.contains("Bier 0,5 l"),
        "{shown}"
    );
    phone.screenshot(&screens().join("phone-account.png"));

    // The organiser's words and terms above the payout form.
    let (status, body) = json(
        server
            .client()
            .put(server.url(&fx.event, "manage/payout-settings"))
            .bearer_auth(&fx.admin_token)
            .json(&json!({
                "fee_cents": 150,
                "minimum_cents": 500,
                "page_text": "Payouts are made in the week after the festival.",
            }))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{body}");

    // A sale at the bar a moment ago shows on the next look.
    sell(&server, &fx, &["water"]);
    phone.open(&page);
    let shown = phone.text();
    assert!(
        shown.contains("Wasser 0,5 l") && shown.contains("€4.00"),
        "{shown}"
    );

    // The payout, asked for from the phone: the IBAN shows only masked.
    phone.type_into("#holder", "Erika Müller");
    phone.type_into("#iban", "DE44 5001 0517 5407 3249 31");
    phone.type_into("#email", "erika@example.org");
    phone.submit("#payout button[type=submit]");
    let shown = phone.text();
    assert!(
        shown.contains("Your payout goes to") && shown.contains("DE44 … 4931"),
        "{shown}"
    );
    assert!(phone.url().ends_with("#payout"), "{}", phone.url());
    assert!(
        shown.contains("Payouts are made in the week after the festival.")
            && shown.contains("A bank transfer costs €1.50; we transfer from €5.00 on."),
        "{shown}"
    );
    phone.screenshot(&screens().join("phone-payout.png"));

    // The lost band, blocked from the phone: the bar refuses it at once.
    phone.click("#confirm");
    phone.submit("button.danger");
    let shown = phone.text();
    assert!(shown.contains("Your wristband is blocked"), "{shown}");
    phone.screenshot(&screens().join("phone-blocked.png"));
    let (status, _) = json(
        server
            .client()
            .post(server.url(&fx.event, &format!("pos/wallets/token/{BAND}/transactions")))
            .bearer_auth(&fx.bar_token)
            .json(&json!({ "products": ["water"] }))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 402);
}

#[test]
fn the_qr_link_signs_in_in_german_and_leaves_no_code_in_the_address_bar() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let code = code_for(&server, &fx).replace('-', "");
    let desktop = Browser::start(1280, 900, "de-DE");
    desktop.open(&format!("{}/guest/{}?code={code}", server.base, fx.event));
    let url = desktop.url();
    assert!(!url.contains("code"), "{url}");
    let shown = desktop.text();
    assert!(
        shown.contains("Guthaben") && shown.contains("20,00 €"),
        "{shown}"
    );
    desktop.screenshot(&screens().join("desktop-account-de.png"));
}

#[test]
fn wrong_codes_typed_past_the_limit_are_answered_429() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    code_for(&server, &fx);
    let phone = Browser::start(390, 844, "en-GB");
    phone.open(&format!("{}/guest/{}", server.base, fx.event));
    for n in 0..5 {
        phone.type_into("#code", &format!("0000-0000-000{n}"));
        phone.submit("button[type=submit]");
        assert_eq!(phone.status(), 401);
        assert!(phone.text().contains("does not open any wristband"));
    }
    // The next tries wait (one or two more may still count on a slow
    // machine, each doubling the wait).
    let mut statuses = Vec::new();
    for n in 5..9 {
        phone.type_into("#code", &format!("0000-0000-000{n}"));
        phone.submit("button[type=submit]");
        statuses.push(phone.status());
        if statuses.last() == Some(&429) {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(
        phone.text().contains("Too many wrong codes"),
        "{}",
        phone.text()
    );
    phone.screenshot(&screens().join("phone-too-many.png"));
}
