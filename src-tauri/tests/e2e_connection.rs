//! What a cashier sees of the till's connection to the server, in the real
//! window (Xvfb + WebKitWebDriver) against the real server: a pinned HTTPS
//! connection is simply online; a server presenting another certificate
//! says "identity changed"; a plain-HTTP server shows the red "not
//! encrypted" badge. Screenshots under the target dir's
//! `tmp/e2e-connection/` (looked at by a person).

mod webdriver;

#[path = "../../crates/sync/tests/common/mod.rs"]
#[allow(unused_imports)]
mod sync_common;

use std::path::Path;

use sync_common::{Event, Server};
use tapster_sync::Fingerprint;
use webdriver::App;

fn till(
    server: &str,
    fingerprint: Option<Fingerprint>,
    event: &Event,
    terminal: &(String, String),
    data: &Path,
) -> App {
    let binary = Path::new(env!("CARGO_BIN_EXE_tapster-app"));
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-connection");
    let mut args = vec![
        "--server",
        server,
        "--event",
        &event.id,
        "--token",
        &terminal.1,
        "--terminal",
        &terminal.0,
        "--reader",
        "none",
        "--lang",
        "en",
    ];
    let fingerprint = fingerprint.map(|f| f.to_string());
    if let Some(fingerprint) = &fingerprint {
        args.extend(["--fingerprint", fingerprint]);
    }
    App::launch(binary, &args, data, &shots)
}

#[test]
fn the_status_bar_shows_a_pinned_connection_an_impostor_and_plain_http() {
    let _ = std::fs::remove_dir_all(Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-connection"));
    let event = Event::new(5, 100_00);
    let terminal = event.terminal("Bar 1");
    let server = Server::start(&event.db, 0.0);

    // A new till takes the setup code the server printed: the fingerprint
    // comes with it, and the connection test passes through the pin.
    let made = event.terminal_with_setup_code(&server, "Bar Nord");
    let data = tempfile::tempdir().unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_tapster-app"));
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-connection");
    let app = App::launch(
        binary,
        &["--reader", "none", "--lang", "en"],
        data.path(),
        &shots,
    );
    app.wait("screen-setup");
    app.fill("setup-code", made["setup_code"].as_str().unwrap());
    app.click("setup-take-code");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.script("return document.querySelector('[data-testid=\"setup-fingerprint\"]').value;")
        != serde_json::Value::String(server.fingerprint.to_string())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the fingerprint was not taken from the code"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    app.click("setup-test");
    app.wait_text("setup-ok", "Bar Nord");
    app.screenshot("setup-code-taken");
    drop(app);

    // The setup code's pin: online, no warning.
    let data = tempfile::tempdir().unwrap();
    let app = till(
        &server.base(),
        Some(server.fingerprint),
        &event,
        &terminal,
        data.path(),
    );
    app.wait_text("status-connectivity", "Online");
    assert!(app.find("status-not-encrypted").is_none());
    app.screenshot("pinned-online");
    drop(app);

    // Another certificate at the server's address: nothing is sent, and the
    // cashier reads what to do.
    let data = tempfile::tempdir().unwrap();
    let app = till(
        &server.base(),
        Some(Fingerprint::of_der(b"the certificate of another server")),
        &event,
        &terminal,
        data.path(),
    );
    app.wait_text(
        "status-connectivity",
        "ask the manager for a new setup code",
    );
    app.screenshot("identity-changed");
    drop(app);
    drop(server);

    // A server run with --insecure-http: it works, in red.
    let plain = Server::start_with(&event.db, &["--insecure-http"]);
    let data = tempfile::tempdir().unwrap();
    let app = till(
        &format!("http://{}", plain.address),
        None,
        &event,
        &terminal,
        data.path(),
    );
    app.wait_text("status-connectivity", "Online");
    app.wait_text("status-not-encrypted", "not encrypted");
    app.screenshot("not-encrypted");
}

/// A manager on a connected till makes a batch of vouchers in the real
/// window; the server holds them.
#[test]
fn a_manager_makes_vouchers_on_a_connected_till() {
    let event = Event::new(1, 10_00);
    let terminal = event.terminal("Info");
    let server = Server::start(&event.db, 0.0);
    let data = tempfile::tempdir().unwrap();
    let app = till(
        &server.base(),
        Some(server.fingerprint),
        &event,
        &terminal,
        data.path(),
    );
    manager_area(&app);
    app.click("manage-tab-passes");
    app.wait("pass-create");
    app.fill("pass-count", "4");
    app.fill("pass-title", "Free drink");
    app.fill("pass-subtitle", "Helpers' party");
    app.fill("pass-amount", "5.00");
    app.click("pass-create");
    app.wait_text("pass-batch-redeemed", "0");
    let table = app.text("pass-batches");
    assert!(
        table.contains("Free drink") && table.contains("credit"),
        "{table}"
    );
    app.screenshot("passes");
    let listed = server
        .blocking_client()
        .get(format!(
            "{}/api/v1/events/{}/manage/passes",
            server.base(),
            event.id
        ))
        .bearer_auth(&event.admin_token)
        .send()
        .unwrap()
        .json::<serde_json::Value>()
        .unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 4, "{listed}");
}

/// A guest's drink voucher at a connected bar, in the real window: the
/// cashier scans its QR code (a scanner in keyboard mode), the guest's
/// wristband is read (a keyboard-mode reader), the credit shows apart as
/// promo credit, and the next drink is paid with it.
#[test]
fn a_cashier_credits_a_scanned_voucher_and_the_guest_pays_with_it() {
    let event = Event::new(1, 10_00);
    let terminal = event.terminal("Bar");
    let server = Server::start(&event.db, 0.0);
    let made = server
        .blocking_client()
        .post(format!(
            "{}/api/v1/events/{}/manage/passes",
            server.base(),
            event.id
        ))
        .bearer_auth(&event.admin_token)
        .json(
            &serde_json::json!({"count": 1, "title": "Drink voucher", "subtitle": "Crew",
            "benefit": {"type": "voucher", "value": 500}}),
        )
        .send()
        .unwrap()
        .json::<serde_json::Value>()
        .unwrap();
    let code = made["data"]["codes"][0].as_str().unwrap().to_string();
    let data = tempfile::tempdir().unwrap();
    let app = selling_at_a_connected_bar(&event, &server, &terminal, data.path());

    // The scanner's line opens the voucher: what it is, then the band.
    app.scan(&code);
    app.wait("screen-voucher");
    app.wait_content("voucher-gives", "5.00");
    app.wait("voucher-ready");
    app.screenshot("voucher-scanned");
    let band = tapster_ledger::demo::wristband(1).to_string();
    app.scan(&band);
    app.wait("voucher-credited");
    app.wait_content("voucher-credited-amount", "5.00");
    app.wait_content("voucher-balance", "15.00");
    app.wait_content("voucher-promo", "5.00");
    app.screenshot("voucher-credited");

    // Fries (4.00) paid from the promo credit, which the balance shows apart.
    app.click("nav-sell");
    app.click("product-fries");
    app.scan(&band);
    app.wait("result-success");
    app.wait_content("result-balance", "11.00");
    app.wait_content("receipt-preview", "of which voucher");
    app.click("result-next");
    app.click("nav-balance");
    app.scan(&band);
    app.wait_content("wallet-balance", "11.00");
    app.wait_content("wallet-promo", "1.00");
    app.screenshot("voucher-balance");
    // The reader types on the keyboard: its digits never become an amount.
    app.click("nav-top_up");
    app.scan(&band);
    app.scan(&band);
    app.wait_content("top-up-amount", "0.00");
    assert_eq!(event.balances().get(&band).copied(), Some(11_00));
}

/// A free-beer pass at a connected bar, in the real window: scanned onto
/// the cart, taken off once the beer is in it (the cup's deposit stays),
/// paid with the wristband; scanned again, the till says it is used.
#[test]
fn a_cashier_takes_a_scanned_free_beer_pass_off_the_cart() {
    let event = Event::new(1, 10_00);
    let terminal = event.terminal("Bar");
    let server = Server::start(&event.db, 0.0);
    let made = server
        .blocking_client()
        .post(format!(
            "{}/api/v1/events/{}/manage/passes",
            server.base(),
            event.id
        ))
        .bearer_auth(&event.admin_token)
        .json(
            &serde_json::json!({"count": 1, "title": "Free beer", "benefit":
            {"type": "discount", "discount": {"off": "free_product", "product": "beer"}}}),
        )
        .send()
        .unwrap()
        .json::<serde_json::Value>()
        .unwrap();
    let code = made["data"]["codes"][0].as_str().unwrap().to_string();
    let data = tempfile::tempdir().unwrap();
    let app = selling_at_a_connected_bar(&event, &server, &terminal, data.path());

    // Scanned on the sell screen: the pass waits for its beer.
    app.scan(&code);
    app.wait_content("cart-pass", "Free beer");
    app.click("product-fries");
    app.wait("cart-pass-waits");
    app.wait_content("cart-total", "4.00");
    app.click("product-beer");
    app.wait("line-discount");
    // Fries 4.00 + beer 5.00 − 5.00 + its cup 2.00.
    app.wait_content("cart-total", "6.00");
    app.screenshot("pass-on-cart");
    let band = tapster_ledger::demo::wristband(1).to_string();
    app.scan(&band);
    app.wait("result-success");
    app.wait_content("result-balance", "4.00");
    app.wait_content("receipt-preview", "Free beer");
    app.screenshot("pass-paid");
    app.click("result-next");
    // The pass went with the sale; scanned again, it is used up.
    app.scan(&code);
    app.wait("screen-voucher");
    app.wait("result-error");
    app.wait_content("result-detail", "Pass already redeemed");
    app.screenshot("pass-used");
    assert_eq!(event.balances().get(&band).copied(), Some(4_00));
}

/// The app in the real window, paired with `server` as `terminal`, a
/// keyboard-mode reader, in English: Anna logged in, her shift open, on
/// the sell screen.
fn selling_at_a_connected_bar(
    event: &Event,
    server: &Server,
    terminal: &(String, String),
    data: &Path,
) -> App {
    let binary = Path::new(env!("CARGO_BIN_EXE_tapster-app"));
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-connection");
    let fingerprint = server.fingerprint.to_string();
    let base = server.base();
    let app = App::launch(
        binary,
        &[
            "--server",
            &base,
            "--event",
            &event.id,
            "--token",
            &terminal.1,
            "--terminal",
            &terminal.0,
            "--fingerprint",
            &fingerprint,
            "--reader",
            "none",
            "--keyboard-reader",
            "--lang",
            "en",
        ],
        data,
        &shots,
    );
    app.wait_text("status-connectivity", "Online");
    for digit in "1111".chars() {
        app.click(&format!("pin-{digit}"));
    }
    app.click("login");
    app.wait("screen-open-shift");
    app.click("open-shift");
    app.wait("screen-sell");
    app
}

/// The manager (PIN 4444) logs in on the connected till and opens the
/// manager area.
fn manager_area(app: &App) {
    app.wait_text("status-connectivity", "Online");
    for digit in "4444".chars() {
        app.click(&format!("pin-{digit}"));
    }
    app.click("login");
    app.wait("open-manage");
    app.click("open-manage");
    app.wait("screen-manage");
}

/// `METHOD /api/v1/events/{event}/{path}` as the event's manager.
fn as_manager(
    server: &Server,
    event: &Event,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let url = format!("{}/api/v1/events/{}/{path}", server.base(), event.id);
    let client = server.blocking_client();
    let request = match method {
        "POST" => client.post(url).json(&body),
        "PUT" => client.put(url).json(&body),
        "DELETE" => client.delete(url),
        _ => client.get(url),
    };
    let response = request.bearer_auth(&event.admin_token).send().unwrap();
    let status = response.status().as_u16();
    let answer: serde_json::Value = response.json().unwrap_or_default();
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

/// Polls a script on the page until it returns true (the till takes in
/// the server's catalogue in its sync rounds).
fn wait_until(app: &App, what: &str, script: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.script(script).as_bool() != Some(true) {
        if std::time::Instant::now() >= deadline {
            let status = app.post_async("const done = arguments[0]; window.__TAURI_INTERNALS__.invoke('status').then(done, (e) => done({error: e}));");
            let catalog = app.post_async("const done = arguments[0]; window.__TAURI_INTERNALS__.invoke('catalog').then((c) => done(c.products.filter((p) => p.id === 'radler')), (e) => done({error: e}));");
            panic!("{what} did not happen; status {status}, catalog {catalog}");
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn a_bar_sees_its_low_stock_a_product_sold_out_there_and_the_tiles_picture_and_ribbon() {
    let event = Event::new(2, 50_00);
    let terminal = event.terminal("Bar 1");
    let server = Server::start(&event.db, 0.0);
    // The bar's location, with this till standing there.
    let location = as_manager(
        &server,
        &event,
        "POST",
        "locations",
        serde_json::json!({"address": "Hauptbar"}),
    )["data"]["identifier"]
        .as_str()
        .unwrap()
        .to_string();
    let devices = as_manager(&server, &event, "GET", "devices", serde_json::Value::Null);
    let device = devices["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["terminal_id"] == terminal.0.as_str())
        .unwrap()["identifier"]
        .as_str()
        .unwrap()
        .to_string();
    as_manager(
        &server,
        &event,
        "PUT",
        &format!("devices/{device}"),
        serde_json::json!({"location_id": location, "pin": "1234"}),
    );
    // Little beer left there; a recipe books every beer against it.
    as_manager(
        &server,
        &event,
        "PUT",
        "manage/inventory/items/beer-keg",
        serde_json::json!({"name": "Beer keg", "unit": "l", "low_stock": 20_000}),
    );
    as_manager(
        &server,
        &event,
        "PUT",
        "products/beer",
        serde_json::json!({"consumes": [{"item": "beer-keg", "quantity": 500}]}),
    );
    as_manager(
        &server,
        &event,
        "POST",
        "manage/inventory/movements",
        serde_json::json!({"kind": "delivery", "item_id": "beer-keg", "location_id": location, "quantity": 12_500}),
    );
    // The spritz on sale with a picture and a ribbon (seed 004's fields);
    // the radler sold out at this bar only.
    let picture = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCA0MCA0MCI+PGNpcmNsZSBjeD0iMjAiIGN5PSIyMCIgcj0iMTYiIGZpbGw9IiNmZmEwMDAiLz48L3N2Zz4=";
    as_manager(
        &server,
        &event,
        "PUT",
        "products/spritz",
        serde_json::json!({
        "thumbnail_url": picture, "sale": true, "sale_price": 6.00,
        "sale_text": "Happy Hour", "ribbon_color": "#1E88E5"}),
    );
    as_manager(
        &server,
        &event,
        "PUT",
        &format!("manage/locations/{location}/sold-out/radler"),
        serde_json::Value::Null,
    );

    let data = tempfile::tempdir().unwrap();
    let app = selling_at_a_connected_bar(&event, &server, &terminal, data.path());
    let inside = |tile: &str, part: &str| {
        format!("return document.querySelector('[data-testid=\"product-{tile}\"] [data-testid=\"{part}\"]') !== null;")
    };
    wait_until(
        &app,
        "the spritz's ribbon",
        &inside("spritz", "tile-ribbon"),
    );
    let ribbon = app.script(
        "return document.querySelector('[data-testid=\"product-spritz\"] [data-testid=\"tile-ribbon\"]').textContent;",
    );
    assert!(ribbon.as_str().unwrap().contains("Happy Hour"), "{ribbon}");
    let src = app.script(
        "return document.querySelector('[data-testid=\"product-spritz\"] [data-testid=\"tile-thumbnail\"]').getAttribute('src');",
    );
    assert_eq!(src.as_str(), Some(picture));
    assert_eq!(
        app.script(&inside("beer", "tile-ribbon")).as_bool(),
        Some(false)
    );
    wait_until(
        &app,
        "the radler sold out",
        &inside("radler", "tile-sold-out"),
    );
    app.wait_content("stock-warnings", "Beer keg");
    app.screenshot("stock-on-the-grid");

    // A sold-out product cannot be tapped; the spritz sells at its sale
    // price (with its cup).
    assert_eq!(
        app.script("return document.querySelector('[data-testid=\"product-radler\"]').disabled;")
            .as_bool(),
        Some(true)
    );
    app.click("product-spritz");
    app.wait_content("cart-total", "8.00");

    // Back on sale at this bar: the till hears it in its next round.
    as_manager(
        &server,
        &event,
        "DELETE",
        &format!("manage/locations/{location}/sold-out/radler"),
        serde_json::Value::Null,
    );
    wait_until(
        &app,
        "the radler on sale again",
        "return document.querySelector('[data-testid=\"product-radler\"] [data-testid=\"tile-sold-out\"]') === null;",
    );
    app.screenshot("radler-back");
}

/// A manager pays a guest's rest back in the real window: the settings,
/// a run (accepting the open request window), its SEPA file, and "bank
/// has paid" after a confirmation step.
#[test]
fn a_manager_makes_a_payout_run_on_a_connected_till() {
    let event = Event::new(1, 10_00);
    let terminal = event.terminal("Office");
    let server = Server::start(&event.db, 0.0);
    let band = tapster_ledger::demo::wristband(1).to_string();
    sync_common::guest_asks_for_payout(&event, &server, &band, "DE44 5001 0517 5407 3249 31");
    let data = tempfile::tempdir().unwrap();
    let app = till(
        &server.base(),
        Some(server.fingerprint),
        &event,
        &terminal,
        data.path(),
    );
    manager_area(&app);
    app.click("manage-tab-payouts");
    app.wait("payouts-save");
    app.wait_text(
        "payouts-unclaimed",
        "1 wristbands holding €10.00; 1 of them",
    );
    app.fill("payouts-debtor-name", "Festival GmbH");
    app.fill("payouts-debtor-iban", "DE89 3704 0044 0532 0130 00");
    app.fill("payouts-fee", "0.50");
    app.click("payouts-save");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let saved = as_manager(
            &server,
            &event,
            "GET",
            "manage/payout-settings",
            serde_json::json!({}),
        );
        if saved["data"]["fee_cents"] == 50 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not saved: {saved}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    app.screenshot("payouts-settings");

    // Without accepting the warning, the server says why not.
    app.click("payouts-create");
    app.wait_text("manage-error", "window");
    app.click("payouts-accept");
    app.click("payouts-create");
    app.wait_text("payout-run-state", "Pending");
    app.screenshot("payouts-run");
    let runs = as_manager(
        &server,
        &event,
        "GET",
        "manage/payout-runs",
        serde_json::json!({}),
    );
    let run = runs["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(runs["data"][0]["transfer_cents"], 9_50, "{runs}");

    // The save dialog cannot be driven: the command it leads to can.
    let files = tempfile::tempdir().unwrap();
    let xml = files.path().join("payout.xml");
    let exported = app.post_async(&format!(
        "const done = arguments[0]; window.__TAURI_INTERNALS__.invoke('save_payout_run_file', {{ run: {run:?}, format: 'xml', path: {:?} }}).then(done, (e) => done({{ error: e }}));",
        xml.display().to_string()
    ));
    assert!(exported.get("error").is_none(), "{exported}");
    tapster_sepa::testing::validate(&std::fs::read_to_string(&xml).unwrap()).unwrap();
    app.click("payouts-refresh");
    app.wait_text("payout-run-state", "At the bank");
    app.click("payout-run-done");
    app.wait("payout-run-confirm-step");
    app.screenshot("payouts-confirm");
    app.click("payout-run-confirm");
    app.wait_text("payout-run-state", "Done");
    app.screenshot("payouts-done");
    let wallet = as_manager(
        &server,
        &event,
        "GET",
        &format!("manage/wallets/token/{band}"),
        serde_json::json!({}),
    );
    assert_eq!(wallet["data"]["balance"], 0, "{wallet}");
}

/// The TSE tab on a connected till: the event's simulated device shown as
/// not certified and reachable, the business's details saved on the
/// server, the DSFinV-K export written where the (undrivable) save dialog
/// would have chosen.
#[test]
fn a_manager_sees_the_tse_and_exports_dsfinvk_on_a_connected_till() {
    let event = Event::new(1, 10_00);
    let terminal = event.terminal("Office");
    let server = Server::start(&event.db, 0.0);
    as_manager(
        &server,
        &event,
        "PUT",
        "manage/fiscal",
        serde_json::json!({ "scheme": "simulated" }),
    );
    let data = tempfile::tempdir().unwrap();
    let app = till(
        &server.base(),
        Some(server.fingerprint),
        &event,
        &terminal,
        data.path(),
    );
    manager_area(&app);
    app.click("manage-tab-fiscal");
    app.wait("fiscal-status");
    app.wait_text("fiscal-reachable", "reachable");
    app.wait_text("fiscal-counts", "0 receipts signed");
    app.fill("fiscal-business-name", "Sommerfest GmbH");
    app.fill("fiscal-country", "DEU");
    app.click("fiscal-save");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let saved = as_manager(
            &server,
            &event,
            "GET",
            "manage/fiscal",
            serde_json::json!({}),
        );
        if saved["data"]["business"]["name"] == "Sommerfest GmbH" {
            assert_eq!(saved["data"]["scheme"], "simulated", "{saved}");
            assert_eq!(saved["data"]["business"]["country"], "DEU", "{saved}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not saved: {saved}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    app.screenshot("fiscal-tab");

    // The save dialog cannot be driven: the command it leads to can.
    let files = tempfile::tempdir().unwrap();
    let zip = files.path().join("dsfinvk.zip");
    let exported = app.post_async(&format!(
        "const done = arguments[0]; window.__TAURI_INTERNALS__.invoke('save_dsfinvk', {{ from: '', to: '', path: {:?} }}).then(done, (e) => done({{ error: e }}));",
        zip.display().to_string()
    ));
    assert!(exported.get("error").is_none(), "{exported}");
    assert_eq!(&std::fs::read(&zip).unwrap()[..2], b"PK");

    // The Audit tab: both changes of the TSE, the admin token's and Max's
    // at this till, newest first, the chain checked.
    app.click("manage-tab-audit");
    app.wait("audit-intact");
    let rows = "const rows = [...document.querySelectorAll('[data-testid=audit-row]')];";
    wait_until(
        &app,
        "Max's TSE change in the trail",
        &format!("{rows} return rows.some((r) => r.dataset.action === 'fiscal_device_changed' && r.textContent.includes('Max') && r.textContent.includes('Office'))"),
    );
    app.screenshot("audit-tab");
    // Filtered by action: only those two.
    app.script(
        "const s = document.querySelector('[data-testid=audit-action]'); \
         s.value = 'fiscal_device_changed'; s.dispatchEvent(new Event('change', { bubbles: true }));",
    );
    app.click("audit-apply");
    wait_until(
        &app,
        "the trail filtered by action",
        &format!("{rows} return rows.length === 2 && rows.every((r) => r.dataset.action === 'fiscal_device_changed')"),
    );
    let texts = app
        .script(&format!(
            "{rows} return rows.map((r) => r.textContent).join('\\n')"
        ))
        .to_string();
    assert!(texts.contains("Admin"), "{texts}");
    assert!(texts.contains("scheme: simulated"), "{texts}");
}
