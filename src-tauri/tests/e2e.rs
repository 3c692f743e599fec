//! The cashier's night in the real app window (Xvfb + WebKitWebDriver), on
//! the demo event with the simulated reader: login, open shift, sell two
//! beers and a soft drink to a wristband, insufficient funds and the jump
//! to top-up, deposit return, cash sale and its cancellation, balance
//! check, shift close with the Z report. A screenshot of every screen is
//! saved under the target dir's `tmp/e2e/` (looked at by a person).

mod common;
mod webdriver;

use common::listening_printer;

use std::path::Path;

use webdriver::App;

const BAND: &str = "04D30000000001";

fn tap(app: &App, token: &str) {
    app.click(&format!("demo-tap-{token}"));
}

/// Waits for the success screen and lets it go away by itself.
fn expect_success(app: &mut App, shot: &str) -> (String, String) {
    app.wait("result-success");
    let amount = app.text("result-amount");
    let balance = app
        .find("result-balance")
        .map(|_| app.text("result-balance"));
    app.screenshot(shot);
    app.wait_gone("result-success");
    (amount, balance.unwrap_or_default())
}

#[test]
fn a_cashiers_shift_in_the_real_window() {
    let binary = Path::new(env!("CARGO_BIN_EXE_tapster-app"));
    let data = tempfile::tempdir().unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e");
    let _ = std::fs::remove_dir_all(&shots);
    let mut app = App::launch(binary, &["--demo"], data.path(), &shots);

    // Login by touch, with the demo PINs on screen.
    app.wait("screen-login");
    assert!(app.text("demo-pins").contains("1111"));
    app.screenshot("login");
    for digit in ["1", "1", "1", "1"] {
        app.click(&format!("pin-{digit}"));
    }
    app.click("login");

    // A shift must be open to sell: the float, by keyboard this time.
    app.wait("screen-open-shift");
    app.press("Escape");
    app.type_keys("15000");
    app.wait_text("float-display", "150,00 €");
    app.screenshot("open-shift");
    app.click("open-shift");

    // Two beers and a soft drink; the cups' deposit comes with them.
    app.wait("screen-sell");
    app.click("product-beer");
    app.click("product-beer");
    app.click("product-cola");
    assert_eq!(app.text("count-beer"), "2");
    app.wait_text("cart-total", "19,50 €");
    assert!(app.text("cart").contains("Pfand"), "deposit line shown");
    assert!(app.text("ready-for-tap").contains("Armband"));
    app.screenshot("sell-cart");

    // The wristband pays by being tapped: 20,00 € − 19,50 €; with no
    // printer the receipt is shown with the result.
    tap(&app, BAND);
    app.wait("result-success");
    // The guest taps again while "paid" shows: ignored (the balances
    // checked later would show a second charge).
    tap(&app, BAND);
    let receipt = app.text("receipt-preview");
    for expected in [
        "2 × Bier 0,5 l",
        "1 × Cola 0,4 l",
        "SUMME",
        "19,50 €",
        "••••0001",
    ] {
        assert!(
            receipt.contains(expected),
            "{expected} missing from:\n{receipt}"
        );
    }
    let (paid, balance) = expect_success(&mut app, "paid");
    assert_eq!(paid, "19,50 €");
    assert_eq!(balance, "0,50 €");

    // Reprint shows the last receipt again, marked as a copy.
    app.click("nav-reprint");
    let copy = app.text("receipt-reprint");
    assert!(copy.contains("KOPIE") && copy.contains("19,50 €"), "{copy}");
    app.screenshot("reprint");
    app.click("receipt-close");

    // Not enough left: the refusal says how much is missing and offers a top-up.
    app.click("product-beer");
    app.wait_text("cart-total", "7,00 €");
    tap(&app, BAND);
    app.wait("result-error");
    assert!(app.text("result-error").contains("Guthaben reicht nicht"));
    assert!(app.text("result-missing").contains("6,50 €"));
    app.screenshot("insufficient-funds");
    app.click("result-top-up");
    app.wait("screen-top-up");
    app.wait_text("top-up-amount", "7,00 €");
    app.click("quick-2000");
    app.wait_text("top-up-amount", "20,00 €");
    app.screenshot("top-up");
    tap(&app, BAND);
    let (topped, balance) = expect_success(&mut app, "topped-up");
    assert_eq!((topped.as_str(), balance.as_str()), ("20,00 €", "20,50 €"));

    // Two of the three cups come back onto the wristband.
    app.click("nav-deposit");
    app.wait("screen-deposit");
    app.click("cups-plus");
    app.wait_text("deposit-value", "4,00 €");
    app.screenshot("deposit-return");
    tap(&app, BAND);
    let (credited, balance) = expect_success(&mut app, "deposit-returned");
    assert_eq!((credited.as_str(), balance.as_str()), ("4,00 €", "24,50 €"));

    // A cash sale, then its cancellation.
    app.click("nav-sell");
    app.wait("screen-sell");
    app.click("clear-cart");
    app.click("product-cola");
    app.wait_text("cart-total", "5,50 €");
    app.click("pay-cash");
    let (cash, _) = expect_success(&mut app, "cash-sale");
    assert_eq!(cash, "5,50 €");
    app.click("nav-cancel-last");
    app.wait("result-success");
    assert!(app.text("result-success").contains("Storniert"));
    app.screenshot("cancelled");
    app.wait_gone("result-success");

    // The sell screen fits from 1024×768 to 1920×1080: nothing cut off
    // sideways, the pay buttons on screen.
    for (width, height) in [(1024, 768), (1920, 1080), (1280, 800)] {
        app.resize(width, height);
        let overflow =
            app.script("return document.documentElement.scrollWidth - window.innerWidth;");
        assert_eq!(
            overflow.as_i64(),
            Some(0),
            "horizontal overflow at {width}x{height}"
        );
        for button in [
            "pay-cash",
            "pay-card",
            "clear-cart",
            "nav-lock",
            "product-beer",
        ] {
            assert!(
                app.fully_visible(button),
                "{button} cut off at {width}x{height}"
            );
        }
        app.screenshot(&format!("sell-{width}x{height}"));
    }

    // The sell screen in English, then back.
    app.click("language");
    app.wait_text("nav-top_up", "Top up");
    app.screenshot("sell-english");
    app.click("language");
    app.wait_text("nav-top_up", "Aufladen");

    // Balance check by tap.
    app.click("nav-balance");
    app.wait("screen-balance");
    tap(&app, BAND);
    app.wait_text("wallet-balance", "24,50 €");
    assert!(app.text("wallet-cups").contains("1 × Pfandbecher"));
    app.screenshot("balance");

    // Shift close: 150 float + 20 cash top-up + 5,50 cash sale − 5,50 cancelled.
    app.click("nav-close-shift");
    app.wait("screen-close-shift");
    app.type_keys("17000");
    app.wait_text("counted-display", "170,00 €");
    app.click("close-shift");
    app.wait("z-summary");
    assert_eq!(app.text("z-difference"), "0,00 €");
    let z = app.text("z-receipt");
    assert!(z.contains("Z-BERICHT #"), "{z}");
    app.screenshot("z-report");
    app.click("z-done");
    app.wait("screen-open-shift");

    // The next shift starts on an empty sell screen, not on the old form.
    app.click("open-shift");
    app.wait("screen-sell");
    app.wait_text("cart-total", "0,00 €");

    // Locking returns to the login screen.
    app.click("nav-lock");
    app.wait("screen-login");
    app.screenshot("locked");

    // Anna left her new shift open: Sue, a supervisor, closes it.
    pin(&app, "3333");
    app.wait("screen-open-shift");
    app.click("close-other-shift");
    app.wait("screen-close-shift");
    app.type_keys("10000");
    app.wait_text("counted-display", "100,00 €");
    app.click("close-shift");
    app.wait("z-summary");
    assert_eq!(app.text("z-difference"), "0,00 €");
    app.wait_content("z-closed-by", "Sue");
    let z = app.text("z-receipt");
    assert!(z.contains("Anna") && z.contains("Geschlossen von"), "{z}");
    app.screenshot("z-closed-by-supervisor");
    app.click("z-done");
    app.wait("screen-open-shift");
    app.wait("open-shift");
}

fn app_running(data_dir: &Path) -> bool {
    std::process::Command::new("pgrep")
        .arg("-f")
        .arg(format!("tapster-app.*{}", data_dir.display()))
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false)
}

#[test]
fn kiosk_mode_fills_the_screen_and_ends_only_with_a_managers_pin() {
    let binary = Path::new(env!("CARGO_BIN_EXE_tapster-app"));
    let data = tempfile::tempdir().unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-kiosk");
    let _ = std::fs::remove_dir_all(&shots);
    let app = App::launch(binary, &["--demo", "--kiosk"], data.path(), &shots);
    app.wait("screen-login");
    let width =
        app.script("return [window.innerWidth, window.innerHeight, screen.width, screen.height];");
    assert_eq!(width[0], width[2], "full screen width: {width}");
    app.screenshot("kiosk-login");
    app.click("kiosk-exit");
    // A cashier's PIN does not close the app.
    app.type_keys("1111");
    app.press("Enter");
    app.wait_text("login-error", "Berechtigung");
    assert!(app_running(data.path()));
    app.screenshot("kiosk-refused");
    // A manager's does.
    app.type_keys("4444");
    app.press("Enter");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while app_running(data.path()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the app is still running"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn the_customer_display_shows_the_cart_takes_the_guests_tip_and_shows_the_balance_after() {
    let binary = Path::new(env!("CARGO_BIN_EXE_tapster-app"));
    let data = tempfile::tempdir().unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-customer");
    let _ = std::fs::remove_dir_all(&shots);
    let app = App::launch(
        binary,
        &["--demo", "--customer-display"],
        data.path(),
        &shots,
    );
    app.wait("screen-login");
    let cashier = app.current_window();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let customer = loop {
        if let Some(other) = app.windows().into_iter().find(|h| *h != cashier) {
            break other;
        }
        assert!(std::time::Instant::now() < deadline, "no second window");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    app.type_keys("1111");
    app.press("Enter");
    app.wait("screen-open-shift");
    app.click("open-shift");
    app.wait("screen-sell");
    app.click("product-beer");
    app.wait_text("cart-total", "7,00 €");

    app.switch_to(&customer);
    app.wait_text("customer-total", "7,00 €");
    assert!(app.text("customer-display").contains("Bier 0,5 l"));
    app.screenshot("customer-cart");
    // The guest chooses 10 % on the display: 0,50 € on the 5,00 € beer.
    app.click("customer-tip-10");
    app.wait_text("customer-total", "7,50 €");
    app.screenshot("customer-tip");

    app.switch_to(&cashier);
    app.wait_text("cart-total", "7,50 €");
    tap(&app, BAND);
    app.wait("result-success");
    app.switch_to(&customer);
    app.wait_text("customer-balance", "12,50 €");
    app.screenshot("customer-paid");
}

/// Cups back with a round (one tap), a split bill over two bands and a
/// cash note with a tip, and a short band whose rest goes on a card: what
/// the cashier touches, in the real window.
#[test]
fn split_bills_tips_and_cups_back_in_the_real_window() {
    let binary = Path::new(env!("CARGO_BIN_EXE_tapster-app"));
    let data = tempfile::tempdir().unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-bills");
    let _ = std::fs::remove_dir_all(&shots);
    let mut app = App::launch(binary, &["--demo"], data.path(), &shots);
    app.wait("screen-login");
    pin(&app, "1111");
    app.wait("screen-open-shift");
    app.click("open-shift");
    app.wait("screen-sell");
    let (band1, band2, band5) = ("04D30000000001", "04D30000000002", "04D30000000005");

    // Three beers on band 2 (30,00 €), then three cups back with two more
    // beers: 14,00 € − 6,00 €, one tap.
    for _ in 0..3 {
        app.click("product-beer");
    }
    app.wait_text("cart-total", "21,00 €");
    tap(&app, band2);
    expect_success(&mut app, "bills-three-beers");
    app.click("product-beer");
    app.click("product-beer");
    for _ in 0..3 {
        app.click("cups-back-plus");
    }
    app.wait_text("cups-back-count", "3");
    app.wait_text("cart-total", "8,00 €");
    app.screenshot("bills-cups-back");
    tap(&app, band2);
    let (paid, balance) = expect_success(&mut app, "bills-cups-back-paid");
    assert_eq!((paid.as_str(), balance.as_str()), ("8,00 €", "1,00 €"));

    // Five beers and 10 % on the beer: 37,50 €. Split: band 1 pays its
    // 20,00 €, band 5 its 10,00 €, a 10 € note the rest — two touches
    // and two taps after the cart.
    for _ in 0..5 {
        app.click("product-beer");
    }
    app.click("tip");
    app.click("tip-10");
    app.wait_text("cart-total", "37,50 €");
    assert!(app.text("cart").contains("Trinkgeld"));
    app.screenshot("bills-tip");
    app.click("pay-split");
    app.wait("screen-split");
    app.wait_text("split-remaining", "37,50 €");
    tap(&app, band1);
    app.wait_text("split-remaining", "17,50 €");
    tap(&app, band5);
    app.wait_text("split-remaining", "7,50 €");
    assert!(app.text("split-payment-0").contains("20,00 €"));
    assert!(app.text("split-payment-1").contains("10,00 €"));
    app.screenshot("bills-split");
    app.click("split-cash-1000");
    app.wait("result-success");
    assert_eq!(app.text("result-amount"), "37,50 €");
    assert_eq!(app.text("result-change"), "2,50 €");
    let receipt = app.text("receipt-preview");
    for expected in [
        "5 × Bier 0,5 l",
        "Trinkgeld",
        "Zahlungen",
        "••••0001",
        "••••0005",
        "Rückgeld",
    ] {
        assert!(
            receipt.contains(expected),
            "{expected} missing from:\n{receipt}"
        );
    }
    app.screenshot("bills-split-done");
    app.wait_gone("result-success");
    app.wait_text("cart-total", "0,00 €");

    // Band 2 has 1,00 € left: the beer is short; the rest goes on a card.
    app.click("product-beer");
    app.wait_text("cart-total", "7,00 €");
    tap(&app, band2);
    app.wait("result-error");
    app.screenshot("bills-short-band");
    app.click("pay-rest");
    app.wait("screen-split");
    app.wait_text("split-remaining", "6,00 €");
    app.click("split-card");
    app.fill("split-card-reference", "4711");
    app.click("split-card-confirm");
    app.wait("result-success");
    assert!(app.text("receipt-preview").contains("4711"));
    app.wait_gone("result-success");

    // The drawer: the 100,00 € float and 7,50 € kept of the note; the Z
    // report shows the tip.
    app.click("nav-close-shift");
    app.wait("screen-close-shift");
    app.type_keys("10750");
    app.wait_text("counted-display", "107,50 €");
    app.click("close-shift");
    app.wait("z-summary");
    assert_eq!(app.text("z-difference"), "0,00 €");
    let z = app.text("z-receipt");
    assert!(z.contains("Trinkgeld") && z.contains("2,50 €"), "{z}");
    app.screenshot("bills-z-report");
}

fn pin(app: &App, digits: &str) {
    for digit in digits.chars() {
        app.click(&format!("pin-{digit}"));
    }
    app.click("login");
}

#[test]
fn a_managers_screens_in_the_real_window() {
    let binary = Path::new(env!("CARGO_BIN_EXE_tapster-app"));
    let data = tempfile::tempdir().unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-manage");
    let _ = std::fs::remove_dir_all(&shots);
    let app = App::launch(binary, &["--demo"], data.path(), &shots);

    // Max (manager) sells two beers for cash, then opens the manager area.
    app.wait("screen-login");
    pin(&app, "4444");
    app.wait("screen-open-shift");
    app.wait("open-manage");
    app.click("open-shift");
    app.wait("screen-sell");
    app.click("product-beer");
    app.click("product-beer");
    app.wait_text("cart-total", "14,00 €");
    app.click("pay-cash");
    app.wait("result-success");
    app.wait_gone("result-success");
    app.click("nav-manage");
    app.wait("screen-manage");

    // Reports: figures, charts, filters; live while sales come in.
    app.click("manage-tab-reports");
    app.wait_text("report-revenue", "10,00 €");
    assert_eq!(app.text("report-sales-count"), "1");
    app.wait("report-chart-hours");
    app.wait("report-chart-categories");
    assert!(app.text("report-products").contains("Bier 0,5 l"));
    app.screenshot("reports");
    app.resize(1024, 768);
    app.screenshot("reports-1024");
    app.resize(1920, 1080);
    // The save dialog is the desktop's own window, which WebDriver cannot
    // reach: the export command it leads to is called as the page calls it.
    let exports = tempfile::tempdir().unwrap();
    let csv = exports.path().join("report.csv");
    let exported = app.post_async(&format!(
        "const done = arguments[0]; window.__TAURI_INTERNALS__.invoke('export_report', {{ query: {{ source: 'till', from_ms: null, until_ms: null, terminal: null, cashier: null }}, format: 'csv', path: {:?} }}).then(done, (e) => done({{ error: e }}));",
        csv.display().to_string()
    ));
    assert!(exported["path"].is_string(), "{exported}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        text.contains("Bier 0,5 l") && text.contains("10,00"),
        "{text}"
    );

    // Catalogue: a new product, which the sell grid then offers.
    app.click("manage-tab-catalogue");
    app.click("product-new");
    app.wait("product-form");
    app.fill("product-name", "Mate");
    app.fill("product-price", "3,80");
    app.select("product-category", "soft");
    app.wait("product-preview");
    app.screenshot("product-form");
    app.click("product-save");
    app.wait_gone("product-form");
    app.wait_content("tab-catalogue", "Mate");
    app.screenshot("catalogue");

    // Categories: a new one moved to the front, then removed (it is empty);
    // a full one says why it cannot go.
    app.click("category-new");
    app.fill("category-name", "Cocktails");
    app.click("category-save");
    app.wait_gone("category-form");
    // Its id is made from the name and a key made once per form.
    let cocktails = app.script(
        "return [...document.querySelectorAll('.categories .chip')].find((c) => c.textContent.startsWith('Cocktails')).dataset.testid",
    );
    let cocktails = cocktails.as_str().unwrap().to_string();
    assert!(
        cocktails.starts_with("category-edit-c-cocktails-"),
        "{cocktails}"
    );
    app.click(&cocktails);
    app.wait("category-form");
    let first_category =
        || app.script("return document.querySelector('.categories .chip').dataset.testid");
    for _ in 0..8 {
        if first_category() == serde_json::json!(cocktails) {
            break;
        }
        app.click("category-earlier");
        std::thread::sleep(std::time::Duration::from_millis(150));
    }
    assert_eq!(first_category(), serde_json::json!(cocktails));
    app.click("category-remove");
    app.wait("category-remove-step");
    app.screenshot("category-remove");
    app.click("category-remove-confirm");
    app.wait("category-removed");
    assert!(!app.text("tab-catalogue").contains("Cocktails ✎"));
    app.click("category-edit-beer");
    app.wait("category-not-empty");
    app.click("category-cancel");

    // Staff: a new cashier with a PIN.
    app.click("manage-tab-staff");
    app.click("staff-new");
    app.fill("staff-name", "Lena");
    app.select("staff-role", "cashier");
    app.fill("staff-pin", "90817");
    app.click("staff-save");
    app.wait_content("tab-staff", "Lena");
    app.screenshot("staff");
    // Lena's badge: paired by a tap on the reader, shown masked.
    let lena = app.script(
        "return [...document.querySelectorAll('[data-testid^=staff-row-]')].find((r) => r.textContent.includes('Lena')).dataset.testid",
    );
    app.click(lena.as_str().unwrap());
    // A guest's wristband is refused, with why.
    app.click("staff-badge-pair");
    app.wait("staff-badge-wait");
    tap(&app, BAND);
    app.wait_content("manage-error", "Gäste-Armband (mit Guthaben)");
    app.screenshot("staff-badge-refused");
    app.click("staff-badge-pair");
    app.wait("staff-badge-wait");
    tap(&app, "04D3FFFFFFFFFF");
    app.wait_text("staff-badge-current", "••••FFFF");
    app.wait("staff-badge-done");
    app.screenshot("staff-badge");
    app.click("staff-cancel");
    app.wait_content("tab-staff", "••••FFFF");

    // Wallets: a tap shows the wristband; block and unblock it.
    app.click("manage-tab-wallets");
    app.wait("wallet-token-input");
    tap(&app, BAND);
    app.wait_text("wallet-balance", "20,00 €");
    app.click("wallet-block");
    app.wait("wallet-unblock");
    app.screenshot("wallet-blocked");
    app.click("wallet-unblock");
    app.wait("wallet-block");

    app.click("manage-tab-terminals");
    app.wait("terminal-this-till");
    app.screenshot("terminals");
    app.click("manage-tab-sync");
    app.wait_text("sync-pending", "0");
    app.screenshot("sync");
    // Passes live on the server: a standalone demo till says so.
    app.click("manage-tab-passes");
    app.wait("passes-need-server");
    app.screenshot("passes-standalone");
    // The encoding station: a demo till has no band keys to encode with.
    app.click("manage-tab-bands");
    app.wait("encoding-no-keys");
    assert_eq!(
        app.script("return document.querySelector('[data-testid=encoding-start]').disabled"),
        serde_json::json!(true)
    );
    app.screenshot("bands");

    // Settings: a test print on a real socket, the tap test, receipt texts.
    app.click("manage-tab-settings");
    app.wait("settings-save");
    let (printer, received) = listening_printer();
    app.fill("settings-printer", &printer);
    app.click("settings-test-print");
    let bytes = received.join().unwrap();
    assert!(bytes.starts_with(&[0x1B, b'@']), "an ESC/POS test receipt");
    tap(&app, BAND);
    app.wait_text("settings-tap-last", "0001");
    app.fill("settings-header", "Bar Nord");
    app.click("settings-save");
    app.wait("settings-saved");
    app.wait("settings-restart");
    app.screenshot("settings");
    let file = std::fs::read_to_string(data.path().join("config/tapster.toml")).unwrap();
    assert!(file.contains(&printer), "{file}");

    // The Audit tab: this standalone till's own trail, newest first, with
    // the settings just saved on top and the product made further down.
    app.click("manage-tab-audit");
    app.wait("audit-intact");
    let actions = app.script(
        "return [...document.querySelectorAll('[data-testid=audit-row]')].map((r) => r.textContent)",
    );
    let actions = actions.as_array().unwrap();
    assert!(
        actions[0].as_str().unwrap().contains("Einstellungen"),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|a| a.as_str().unwrap().contains("Produkt angelegt")),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|a| a.as_str().unwrap().contains("Kategorie entfernt")),
        "{actions:?}"
    );
    app.screenshot("audit-standalone");

    // Back at the bar, the new product is on the grid.
    app.click("manage-back");
    app.wait("screen-sell");
    app.wait_content("screen-sell", "Mate");
    app.screenshot("grid-with-new-product");

    // A cashier sees no manager area.
    app.click("nav-lock");
    app.wait("screen-login");
    pin(&app, "1111");
    app.wait("screen-open-shift");
    assert!(app.find("open-manage").is_none());

    // The app's own log of all this holds no PIN and no full wristband id.
    // (In demo mode the data dir is `<data dir>/demo`.)
    let logs: String = std::fs::read_dir(data.path().join("demo/logs"))
        .unwrap()
        .map(|file| std::fs::read_to_string(file.unwrap().path()).unwrap_or_default())
        .collect();
    assert!(logs.contains("logged in"), "the run was logged");
    for secret in ["90817", BAND, "PIN 4444", "\"4444\""] {
        assert!(!logs.contains(secret), "{secret} is in the app's log");
    }
}

#[test]
fn a_new_till_is_set_up_as_a_standalone_event_in_the_real_window() {
    let binary = Path::new(env!("CARGO_BIN_EXE_tapster-app"));
    let data = tempfile::tempdir().unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-setup");
    let _ = std::fs::remove_dir_all(&shots);
    // No demo, no server: a till as it comes out of the box.
    let app = App::launch(binary, &["--reader", "none"], data.path(), &shots);
    app.wait("screen-setup");
    app.click("setup-mode-standalone");
    app.fill("setup-event-name", "Sommerfest");
    app.fill("setup-manager-name", "Mia");
    app.fill("setup-manager-pin", "2468");
    app.fill("setup-manager-pin-again", "2468");
    app.screenshot("standalone");
    app.click("setup-standalone");
    app.wait("screen-login");
    pin(&app, "2468");
    app.wait("screen-open-shift");
    app.click("open-manage");
    app.wait("screen-manage");
    app.click("manage-tab-catalogue");
    app.wait("category-new");
    app.screenshot("empty-catalogue");
}

/// A ledger changed outside Tapster (a sale's amount edited in the file):
/// the till does not start selling; its window says so, in German and
/// English, with what to do and which file to keep, and closes normally.
#[test]
fn a_till_whose_ledger_was_changed_outside_tapster_says_so_on_screen() {
    let data = tempfile::tempdir().unwrap();
    // The demo event's ledger lives in the data dir's `demo/`.
    let demo = data.path().join("demo");
    {
        let till = common::start_in(&demo);
        let t = &till.terminal;
        t.login("1111").unwrap();
        t.open_shift(0, "open").unwrap();
        common::block(t.pay(
            &common::items(&[("water", 1)]),
            tapster_app::view::Tender::Cash,
            None,
            "cash-1",
            None,
        ))
        .unwrap();
    }
    let ledger = demo.join("ledger.sqlite");
    let conn = rusqlite::Connection::open(&ledger).unwrap();
    conn.execute_batch("DROP TRIGGER entries_no_update")
        .unwrap();
    let edited = conn
        .execute("UPDATE entries SET amount = 1 WHERE kind = 'sale'", [])
        .unwrap();
    assert_eq!(edited, 1);
    drop(conn);
    let problems = tapster_ledger::LedgerReader::open(&ledger)
        .unwrap()
        .verify_chain()
        .unwrap();
    assert!(!problems.is_empty(), "the edit breaks the chain");

    let binary = Path::new(env!("CARGO_BIN_EXE_tapster-app"));
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-refused");
    let _ = std::fs::remove_dir_all(&shots);
    let app = App::launch(binary, &["--demo"], data.path(), &shots);
    app.wait("startup-refused");
    let what = app.text("refused-what-de");
    assert!(what.contains("eine Buchung wurde verändert"), "{what}");
    assert!(app.text("refused-what-en").contains("an entry was changed"));
    assert!(app.text("refused-facts").contains("ledger.sqlite"));
    assert!(
        app.find("screen-login").is_none(),
        "no login on a changed ledger"
    );
    app.screenshot("refused");
}
