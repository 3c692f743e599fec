//! The guest pages against the real server over HTTPS, on either engine:
//! codes made by the manager, a guest signing in with one (typed, or by the
//! QR code's link, or by tapping a genuine band), the balance and a sale
//! made at a bar a moment ago, blocking a lost band, and what a stranger
//! trying codes gets.

mod common;

use common::band::{keyring, link};
use common::guest::{codes, csrf, page, request_payout, sell, session_cookie, sign_in};
use common::smtp::SmtpSink;
use common::{json, Fixture, Server};
use serde_json::json;

const BAND: &str = "04D30000000001"; // demo wristband 1: 20.00
const LOST: &str = "04D30000000002";
const MOVED: &str = "04D30000000003";
const NEW_BAND: &str = "04D300000000AA";
const UNUSED: &str = "04D300000000BB"; // never topped up

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

#[test]
fn a_guest_signs_in_with_the_code_and_sees_the_sale_made_a_moment_ago() {
    let fx = Fixture::new(3);
    let server = Server::start(&fx.db);
    let code = codes(&server, &fx, &[BAND])[0].clone();
    assert_eq!(code.len(), 14, "printed in three groups: {code}");
    let (status, body) = sell(&server, &fx, BAND, &["beer", "bratwurst"]);
    assert_eq!(status, 200, "{body}");

    // Typed the way people type a printed code.
    let typed = code.to_lowercase().replace('-', " ").replace('0', "o");
    let answer = sign_in(&server, &fx, &format!(" {typed} "));
    assert_eq!(answer.status(), 303);
    assert_eq!(
        answer.headers()["location"],
        format!("/guest/{}?lang=en", fx.event).as_str()
    );
    let (cookie, attributes) = session_cookie(&answer);
    for attribute in [
        "Path=/",
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
        "Max-Age=1800",
    ] {
        assert!(
            attributes.contains(attribute),
            "{attribute} in {attributes}"
        );
    }

    let response = server
        .page_client()
        .get(format!("{}/guest/{}?lang=en", server.base, fx.event))
        .header("Cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-security-policy"], CSP);
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
    let shown = response.text().unwrap();
    // 20.00 − (5.00 beer + 2.00 cup + 4.50 bratwurst): the ledger's figure.
    assert!(shown.contains("€8.50"), "{shown}");
    assert!(
        shown.contains("Purchase") && shown.contains("Bar 1"),
        "{shown}"
    );
    assert!(
        shown.contains("Bier 0,5 l") && shown.contains("Bratwurst"),
        "{shown}"
    );
    assert!(shown.contains("−€11.50"), "the sale's amount: {shown}");
    assert!(shown.contains("1 × Pfandbecher"), "the cup out: {shown}");
    assert!(shown.contains("Top-up"), "the demo's top-up: {shown}");
    assert!(!shown.contains("<script"), "no script at all");

    // The same page in German, and without the cookie only the sign-in.
    let german = server
        .page_client()
        .get(format!("{}/guest/{}", server.base, fx.event))
        .header("Cookie", &cookie)
        .header("Accept-Language", "de-DE,de;q=0.9,en;q=0.5")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        german.contains("8,50 €") && german.contains("Kauf"),
        "{german}"
    );
    let (status, anonymous) = page(&server, &fx, None);
    assert_eq!(status, 200);
    assert!(anonymous.contains("name=\"code\"") && !anonymous.contains("8.50"));
    let stylesheet = server
        .page_client()
        .get(format!("{}/guest-static/portal.css", server.base))
        .send()
        .unwrap();
    assert_eq!(stylesheet.status(), 200);
    assert!(stylesheet.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));

    // Signing out ends the session (the form token is required).
    let (_, mine) = page(&server, &fx, Some(&cookie));
    let out = server
        .page_client()
        .post(format!("{}/guest/{}/sign-out", server.base, fx.event))
        .header("Cookie", &cookie)
        .form(&[("csrf", csrf(&mine).as_str())])
        .send()
        .unwrap();
    assert_eq!(out.status(), 303);
    assert!(session_cookie(&out).1.contains("Max-Age=0"));
    assert!(page(&server, &fx, Some(&cookie))
        .1
        .contains("name=\"code\""));
}

#[test]
fn a_link_signs_in_and_takes_the_code_out_of_the_address() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let code = codes(&server, &fx, &[BAND])[0].replace('-', "");
    let answer = server
        .page_client()
        .get(format!("{}/guest/{}?code={code}", server.base, fx.event))
        .send()
        .unwrap();
    assert_eq!(answer.status(), 303);
    let location = answer.headers()["location"].to_str().unwrap();
    assert!(!location.contains("code"), "{location}");
    let (cookie, _) = session_cookie(&answer);
    assert!(page(&server, &fx, Some(&cookie)).1.contains(BAND));
}

#[test]
fn a_tap_of_a_genuine_band_signs_in_once() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let (status, keys) = json(
        server
            .client()
            .get(server.url(&fx.event, "pos/band-keys"))
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{keys}");
    let (e, c) = link(&keyring(&keys).current, [0x04, 0xD3, 0, 0, 0, 0, 1], 3);
    let tap = || {
        server
            .page_client()
            .get(format!(
                "{}/guest/{}/tap?e={e}&c={c}",
                server.base, fx.event
            ))
            .send()
            .unwrap()
    };
    let answer = tap();
    assert_eq!(answer.status(), 303);
    let (cookie, _) = session_cookie(&answer);
    assert!(page(&server, &fx, Some(&cookie)).1.contains(BAND));
    assert_eq!(tap().status(), 401, "the same link again is a replay");
}

#[test]
fn unknown_blocked_and_moved_bands_get_one_answer_and_wrong_codes_wait() {
    let fx = Fixture::new(3);
    let server = Server::start(&fx.db);
    let issued = codes(&server, &fx, &[BAND, LOST, MOVED]);
    let manage = |path: &str, body: Option<serde_json::Value>| {
        let request = server
            .client()
            .post(server.url(&fx.event, path))
            .bearer_auth(&fx.admin_token);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        let status = request.send().unwrap().status().as_u16();
        assert!(status < 300, "{path}: {status}");
    };
    manage(&format!("manage/wallets/token/{LOST}/block"), None);
    manage(
        &format!("manage/wallets/token/{MOVED}/move"),
        Some(json!({ "to_token_id": NEW_BAND })),
    );

    // Not a code at all: said so, and not counted. The page answering the
    // form's POST switches language to the event's page, not to the POST.
    let answer = sign_in(&server, &fx, "12345");
    assert_eq!(answer.status(), 400);
    let text = answer.text().unwrap();
    assert!(text.contains("12 letters and digits"));
    assert!(
        text.contains(&format!("href=\"/guest/{}?lang=de\"", fx.event)),
        "{text}"
    );

    let mut answers = Vec::new();
    for code in ["7QK2-M9XD-4HNB", &issued[1], &issued[2]] {
        let answer = sign_in(&server, &fx, code);
        answers.push((answer.status().as_u16(), answer.text().unwrap()));
    }
    assert_eq!(answers[0].0, 401);
    assert!(
        answers.iter().all(|a| *a == answers[0]),
        "unknown, blocked and moved answer alike"
    );
    // Five wrong codes are free; then the address must wait. (Each wrong
    // code tried after a wait doubles the next one, so on a slow machine
    // the wait shows a try or two later, never before the fifth.)
    let mut wrong = answers.len();
    loop {
        let status = sign_in(&server, &fx, "0000-0000-0000").status().as_u16();
        if status == 429 {
            break;
        }
        assert_eq!(status, 401);
        wrong += 1;
        assert!(wrong <= 8, "no wait after {wrong} wrong codes");
    }
    assert!(wrong >= 5, "only {wrong} wrong codes were free");
    // Waiting: now even the right code is not looked at.
    let waiting = sign_in(&server, &fx, &issued[0]);
    assert_eq!(waiting.status(), 429);
    let retry_after: u64 = waiting.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=8).contains(&retry_after), "{retry_after}");
    assert!(waiting.text().unwrap().contains("Too many wrong codes"));
    std::thread::sleep(std::time::Duration::from_millis(retry_after * 1000 + 100));
    assert_eq!(sign_in(&server, &fx, &issued[0]).status(), 303);
    // A right code does not wipe the count: the next wrong one waits longer.
    assert_eq!(sign_in(&server, &fx, "0000-0000-0001").status(), 401);
    let waiting = sign_in(&server, &fx, "0000-0000-0002");
    assert_eq!(waiting.status(), 429);
    let longer: u64 = waiting.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(longer >= 2, "the sixth wrong code or later: {longer}");
}

#[test]
fn a_guest_blocks_a_lost_band_at_once_and_the_bar_refuses_it() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let issued = codes(&server, &fx, &[BAND, UNUSED]);
    let (cookie, _) = session_cookie(&sign_in(&server, &fx, &issued[0]));
    let (_, shown) = page(&server, &fx, Some(&cookie));
    let token = csrf(&shown);
    let block = |csrf: &str, confirm: bool| {
        let mut form = vec![("csrf", csrf.to_string()), ("lang", "en".to_string())];
        if confirm {
            form.push(("confirm", "yes".to_string()));
        }
        server
            .page_client()
            .post(format!("{}/guest/{}/block", server.base, fx.event))
            .header("Cookie", &cookie)
            .form(&form)
            .send()
            .unwrap()
    };
    // Without the session's form token: refused, nothing blocked.
    assert_eq!(block("forged", true).status(), 403);
    // Without ticking the box: back to the form.
    let unconfirmed = block(&token, false);
    assert_eq!(unconfirmed.status(), 303);
    assert_eq!(
        sell(&server, &fx, BAND, &["water"]).0,
        200,
        "not blocked yet"
    );

    let blocked = block(&token, true);
    assert_eq!(blocked.status(), 303);
    assert!(blocked.headers()["location"]
        .to_str()
        .unwrap()
        .contains("blocked=1"));
    assert!(session_cookie(&blocked).1.contains("Max-Age=0"));
    let (status, body) = sell(&server, &fx, BAND, &["water"]);
    assert_eq!(status, 402, "the bar refuses the band: {body}");
    assert!(
        page(&server, &fx, Some(&cookie))
            .1
            .contains("name=\"code\""),
        "signed out"
    );
    assert_eq!(
        sign_in(&server, &fx, &issued[0]).status(),
        401,
        "as an unknown code"
    );

    // A band never topped up can be blocked too, before anyone uses it.
    let (cookie, _) = session_cookie(&sign_in(&server, &fx, &issued[1]));
    let (_, shown) = page(&server, &fx, Some(&cookie));
    assert!(shown.contains("not been topped up"), "{shown}");
    let answer = server
        .page_client()
        .post(format!("{}/guest/{}/block", server.base, fx.event))
        .header("Cookie", &cookie)
        .form(&[("csrf", csrf(&shown).as_str()), ("confirm", "yes")])
        .send()
        .unwrap();
    assert_eq!(answer.status(), 303);
    // The tills learn it from the wallet feed: blocked, nothing on it.
    let feed = common::till::feed(&server, &fx, 0, 1000);
    let wallet = feed["wallets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["token_id"] == UNUSED)
        .expect("the band in the feed")
        .clone();
    assert_eq!(wallet["blocked"], true, "{wallet}");
    assert_eq!(wallet["balance"], 0, "{wallet}");
    assert_eq!(sign_in(&server, &fx, &issued[1]).status(), 401);
}

#[test]
fn codes_and_sessions_never_reach_the_log() {
    let fx = Fixture::new(1);
    let log = fx.dir.path().join("server.log");
    let server = Server::start_logging(&fx.db, &log);
    let code = codes(&server, &fx, &[BAND])[0].clone();
    let bare = code.replace('-', "");
    let answer = server
        .page_client()
        .get(format!("{}/guest/{}?code={bare}", server.base, fx.event))
        .send()
        .unwrap();
    let (cookie, _) = session_cookie(&answer);
    assert_eq!(sign_in(&server, &fx, &code).status(), 303);
    assert_eq!(sign_in(&server, &fx, "7QK2-M9XD-4HNB").status(), 401);
    page(&server, &fx, Some(&cookie));
    drop(server);
    let written = std::fs::read_to_string(&log).unwrap();
    assert!(
        written.contains("guest codes issued"),
        "the log is there: {written}"
    );
    let value = cookie.split_once('=').unwrap().1;
    for secret in [bare.as_str(), &code, "7QK2M9XD4HNB", value] {
        assert!(!written.contains(secret), "{secret} in the log");
    }
}

#[test]
fn an_unknown_event_has_no_guest_pages() {
    let fx = Fixture::new(0);
    let server = Server::start(&fx.db);
    let answer = server
        .page_client()
        .get(format!("{}/guest/evt_nothing", server.base))
        .send()
        .unwrap();
    assert_eq!(answer.status(), 404);
    assert_eq!(answer.headers()["content-security-policy"], CSP);
    assert_eq!(
        sign_in(
            &server,
            &Fixture {
                event: "evt_nothing".into(),
                ..fx
            },
            "7QK2-M9XD-4HNB"
        )
        .status(),
        404
    );
}

#[test]
fn a_guest_asks_for_the_payout_and_changes_it_within_the_organisers_rules() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let code = codes(&server, &fx, &[BAND])[0].clone();
    let (cookie, _) = session_cookie(&sign_in(&server, &fx, &code));
    let (_, shown) = page(&server, &fx, Some(&cookie));
    assert!(shown.contains("Get the rest paid out"), "{shown}");
    let token = csrf(&shown);
    let send =
        |csrf: &str, fields: &[(&str, &str)]| request_payout(&server, &fx, &cookie, csrf, fields);
    let erika = |iban: &'static str| {
        vec![
            ("account_holder", "Erika Müller"),
            ("iban", iban),
            ("email", "erika@example.org"),
        ]
    };
    let settings = |body: serde_json::Value| {
        json(
            server
                .client()
                .put(server.url(&fx.event, "manage/payout-settings"))
                .bearer_auth(&fx.admin_token)
                .json(&body)
                .send()
                .unwrap(),
        )
    };

    // A wrong checksum, a donation where the event takes none: refused
    // with the reason, nothing saved.
    let (status, body) = send(&token, &erika("DE45 5001 0517 5407 3249 31"));
    assert_eq!(status, 400);
    assert!(body.contains("This IBAN is not right"), "{body}");
    let mut donating = erika("DE44 5001 0517 5407 3249 31");
    donating.extend([("donation", "part"), ("donation_amount", "5")]);
    let (status, body) = send(&token, &donating);
    assert_eq!(status, 400);
    assert!(body.contains("takes no donations"), "{body}");
    assert!(!page(&server, &fx, Some(&cookie))
        .1
        .contains("Your payout goes to"));
    // Without the session's form token: nothing saved either.
    assert_eq!(send("forged", &erika("DE44 5001 0517 5407 3249 31")).0, 403);

    let (status, _) = send(&token, &erika("DE44 5001 0517 5407 3249 31"));
    assert_eq!(status, 303);
    let (_, shown) = page(&server, &fx, Some(&cookie));
    assert!(
        shown.contains("Your payout goes to") && shown.contains("DE44 … 4931"),
        "{shown}"
    );
    assert!(
        !shown.contains("DE44500105175407324931"),
        "the IBAN is never shown in full"
    );

    // The organiser pays to Germany only and names a cause.
    assert_eq!(settings(json!({ "countries": ["de"] })).0, 400);
    let (status, body) =
        settings(json!({ "countries": ["DE"], "donation_target": "Seenotrettung" }));
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(&token, &erika("AT61 1904 3002 3457 3201"));
    assert_eq!(status, 400);
    assert!(body.contains("countries only: DE"), "{body}");
    // An empty IBAN keeps the earlier one; a part of the rest is donated.
    let (status, body) = send(
        &token,
        &[
            ("account_holder", "Erika Müller"),
            ("iban", ""),
            ("email", "erika@example.org"),
            ("donation", "part"),
            ("donation_amount", "5,50"),
        ],
    );
    assert_eq!(status, 303, "{body}");
    let (_, shown) = page(&server, &fx, Some(&cookie));
    assert!(
        shown.contains("DE44 … 4931") && shown.contains("€5.50 donated"),
        "{shown}"
    );
    assert!(shown.contains("Donate to Seenotrettung"), "{shown}");

    // Closed by the organiser: no more changes.
    let (status, _) = settings(json!({ "countries": ["DE"], "closes_at": 1000 }));
    assert_eq!(status, 200);
    let (status, body) = send(&token, &erika("DE44 5001 0517 5407 3249 31"));
    assert_eq!(status, 409);
    assert!(body.contains("can no longer be requested"), "{body}");
}

#[test]
fn a_payout_request_is_confirmed_by_mail_and_a_change_is_told_to_the_earlier_address() {
    let fx = Fixture::new(1);
    let sink = SmtpSink::start();
    let log = fx.dir.path().join("server.log");
    let server = Server::start_options(
        &fx.db,
        &log,
        &[
            "--mail-relay",
            &sink.url(),
            "--mail-from",
            "Sommerfest <payout@festival.test>",
            "--portal-url",
            "https://pay.festival.test/",
        ],
    );
    let code = codes(&server, &fx, &[BAND])[0].clone();
    let (cookie, _) = session_cookie(&sign_in(&server, &fx, &code));
    let token = csrf(&page(&server, &fx, Some(&cookie)).1);
    let (status, body) = request_payout(
        &server,
        &fx,
        &cookie,
        &token,
        &[
            ("account_holder", "Erika Müller"),
            ("iban", "DE44 5001 0517 5407 3249 31"),
            ("email", "erika@example.org"),
        ],
    );
    assert_eq!(status, 303, "{body}");
    let mails = sink.wait_for(1);
    assert_eq!(mails.len(), 1);
    let receipt = &mails[0];
    assert_eq!(receipt.to, vec!["<erika@example.org>".to_string()]);
    assert_eq!(receipt.from, "<payout@festival.test>");
    assert_eq!(
        receipt.header("Subject").as_deref(),
        Some("Your payout from Sommerfest")
    );
    let text = receipt.text();
    assert!(
        text.contains("Account holder: Erika Müller") && text.contains("IBAN: DE44 … 4931"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "https://pay.festival.test/guest/{}?lang=en",
            fx.event
        )),
        "{text}"
    );
    for secret in ["DE44500105175407324931", "5407 3249", code.as_str()] {
        assert!(
            !receipt.data.contains(secret) && !text.contains(secret),
            "{secret}"
        );
    }

    // Someone with the code changes where mail goes: the earlier address
    // is told.
    let (status, body) = request_payout(
        &server,
        &fx,
        &cookie,
        &token,
        &[
            ("account_holder", "Erika Müller"),
            ("iban", ""),
            ("email", "someone.else@example.org"),
        ],
    );
    assert_eq!(status, 303, "{body}");
    let mails = sink.wait_for(3);
    assert_eq!(mails.len(), 3, "{mails:?}");
    let notice = mails
        .iter()
        .find(|m| m.header("Subject").as_deref() == Some("Payout details changed at Sommerfest"))
        .expect("a notice of the change");
    assert_eq!(notice.to, vec!["<erika@example.org>".to_string()]);
    assert!(
        notice.text().contains("block your wristband"),
        "{}",
        notice.text()
    );
    assert!(mails
        .iter()
        .any(|m| m.to == vec!["<someone.else@example.org>".to_string()]
            && m.header("Subject").as_deref() == Some("Your payout from Sommerfest")));
    drop(server);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("handed to the relay"),
        "the log says mail went"
    );
    for secret in ["example.org", "DE44500105175407324931", code.as_str()] {
        assert!(
            !logged.contains(secret),
            "{secret} in the log: {}",
            logged
                .lines()
                .filter(|l| l.contains(secret))
                .take(3)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn many_addresses_guessing_a_little_each_raise_the_managers_alarm() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let alarm = || {
        let (status, body) = json(
            server
                .client()
                .get(server.url(&fx.event, "manage/guest-security"))
                .bearer_auth(&fx.admin_token)
                .send()
                .unwrap(),
        );
        assert_eq!(status, 200, "{body}");
        body["data"].clone()
    };
    codes(&server, &fx, &[BAND]);
    // Two wrong codes from the browser's own address count too.
    for _ in 0..2 {
        assert_eq!(sign_in(&server, &fx, "7QK2-M9XD-4HNB").status(), 401);
    }
    assert_eq!(alarm()["this_hour"], 2);
    assert_eq!(alarm()["alarms"], json!([]));
    // The same database as the server's, as a second server process would
    // share it: a botnet's addresses, each under its own limit.
    let store = tapster_server::store::ServerStore::connect(
        &fx.db,
        std::sync::Arc::new(tapster_ledger::SystemClock),
    )
    .unwrap();
    let budget = tapster_server::guest::FAILURE_BUDGET;
    for n in 0..budget - 3 {
        let answer = store
            .guest_sign_in(
                &fx.event,
                "7QK2-M9XD-4HNB",
                &format!("198.51.100.{}", n % 250),
            )
            .unwrap();
        assert!(
            matches!(answer, tapster_server::guest::SignIn::Refused),
            "{n}"
        );
    }
    assert_eq!(alarm()["alarms"], json!([]), "one short of the budget");
    assert_eq!(sign_in(&server, &fx, "7QK2-M9XD-4HNB").status(), 401);
    let raised = alarm();
    assert_eq!(raised["this_hour"], budget);
    assert_eq!(raised["alarms"].as_array().unwrap().len(), 1, "{raised}");
    assert_eq!(raised["alarms"][0]["failures"], budget);
}
