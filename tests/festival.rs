//! A festival end to end, on one machine as at an event: the real
//! `tapster-server` over pinned HTTPS; Bar Nord, the app in its real window
//! (Xvfb, WebDriver) with a PC/SC reader (pcscd, the virtual reader, an
//! emulated wristband) and an ESC/POS printer (`emupos`); Bar Süd and the
//! top-up booth, two headless till cores (the app's `Terminal`), Bar Süd
//! printing on a second `emupos`. From the setup code to the Z reports and
//! the server's books.
//!
//! What each part's own tests cannot check, and this one does:
//! - money put on a band at one till is spent at another: the window shows
//!   a balance that only the server can know;
//! - each till's Z report (on screen, on paper, in its ledger) is what the
//!   server books for that terminal;
//! - every entry of every till reached the server exactly once, none was
//!   refused, and the server's balances are what the screens said.
//!
//! Screenshots under the target dir's `tmp/e2e-festival/`.

use std::path::Path;

use serde_json::Value;
use tapster_app::view::{CartItem, Tender};
use tapster_e2e::books::{assert_booked_once, server_entries};
use tapster_e2e::printer::Emupos;
use tapster_e2e::sandbox;
use tapster_e2e::server::{Event, Server};
use tapster_e2e::till::connected::{pinned, wait, ConnectedTill};
use tapster_e2e::window::{processes_of, App};
use tapster_e2e::{binaries, cents, end_app_on, ledger_of_ended_app, printed};
use tapster_ledger::{demo, Ledger};

const START_BALANCE: i64 = 10_00;
const TOP_UP: i64 = 20_00;
const BAR_FLOAT: i64 = 100_00;
const BOOTH_FLOAT: i64 = 50_00;

#[test]
fn a_festival_from_setup_codes_to_z_reports_and_the_servers_books() {
    let Some(band_emulator) =
        sandbox::enter("a_festival_from_setup_codes_to_z_reports_and_the_servers_books")
    else {
        return;
    };
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-festival");
    let _ = std::fs::remove_dir_all(&shots);
    let event = Event::new(3, START_BALANCE);
    let server = Server::start(&event.db, 0.0);
    let band = demo::wristband(1).to_string();
    // The bands were funded before the doors opened: the night's books
    // start here.
    let doors_open = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();

    // The organiser makes Bar Nord's setup code; the booth and Bar Süd are
    // set up from their terminal tokens.
    let made = event.terminal_with_setup_code(&server, "Bar Nord");
    let setup_code = made["setup_code"].as_str().unwrap();
    let bar_nord = made["id"].as_str().unwrap().to_string();
    let headless = |name: &str, printer: Option<&Emupos>| {
        let (id, token) = event.terminal(name);
        let settings = pinned(server.base(), &event.id, token, server.fingerprint);
        let printer = printer.map(Emupos::uri);
        let till = ConnectedTill::connect(settings, &id, |o| o.printer = printer);
        (till, id)
    };
    let bar_sued_printer = Emupos::start();
    let (booth, booth_id) = headless("Kasse Eingang", None);
    let (bar_sued, bar_sued_id) = headless("Bar Süd", Some(&bar_sued_printer));

    // The guest puts money on the band at the booth.
    booth.login("1111");
    booth
        .terminal
        .open_shift(BOOTH_FLOAT, "booth-open")
        .unwrap();
    booth.tap(&band);
    let top_up = booth
        .terminal
        .top_up(&band, TOP_UP, Tender::Cash, "booth-top-up-1")
        .unwrap();
    assert_eq!(top_up.balance_after_cents, Some(START_BALANCE + TOP_UP));
    booth.wait_synced();

    // Bar Nord: a new till takes its setup code, restarts connected...
    let printer = Emupos::start();
    let data = tempfile::tempdir().unwrap();
    let hardware = sandbox::till_hardware(&printer);
    let args: Vec<&str> = hardware.iter().map(String::as_str).collect();
    let app = App::launch(&binaries::app(), &args, data.path(), &shots);
    app.wait("screen-setup");
    app.fill("setup-code", setup_code);
    app.click("setup-take-code");
    wait("the server's fingerprint taken from the code", || {
        app.script("return document.querySelector('[data-testid=\"setup-fingerprint\"]').value;")
            == Value::String(server.fingerprint.to_string())
    });
    app.click("setup-test");
    app.wait_text("setup-ok", "Bar Nord");
    app.screenshot("setup-code-taken");
    let app_pids = |dir: &Path| -> Vec<u32> {
        processes_of(dir)
            .into_iter()
            .filter(|p| p.name.starts_with("tapster"))
            .map(|p| p.pid)
            .collect()
    };
    let before_save = app_pids(data.path());
    app.click("setup-save");
    // The app restarts itself, out of WebDriver's hands. Once the new
    // process is there (ending the old one earlier could race its restart
    // onto the ledger's lock), it is ended and started again on what it
    // saved, as a person would find it.
    wait("the app's restart", || {
        app_pids(data.path())
            .iter()
            .any(|pid| !before_save.contains(pid))
    });
    drop(app);
    end_app_on(data.path());
    let app = App::launch(&binaries::app(), &args, data.path(), &shots);
    app.wait_text("status-connectivity", "Online");

    // ...and sells two beers to the band on its PC/SC reader.
    app.wait("screen-login");
    for digit in "1111".chars() {
        app.click(&format!("pin-{digit}"));
    }
    app.click("login");
    app.wait("screen-open-shift");
    app.press("Escape");
    app.type_keys(&BAR_FLOAT.to_string());
    app.wait_text("float-display", &printed(BAR_FLOAT));
    app.click("open-shift");
    app.wait("screen-sell");
    app.click("product-beer");
    let one_beer = cents(&app.wait_text("cart-total", ","));
    app.click("product-beer");
    // The total once it shows the second beer, not the first one's still.
    let two_beers = 2 * one_beer;
    app.wait_text("cart-total", &printed(two_beers));
    band_emulator.lay(&band);
    app.wait("result-success");
    let paid = cents(&app.text("result-amount"));
    let balance_shown = cents(&app.text("result-balance"));
    app.screenshot("paid-by-band");
    band_emulator.take_away();
    app.wait_gone("result-success");
    assert_eq!(paid, two_beers);
    // The booth's top-up is on no ledger of this till: only the server
    // knows this balance.
    assert_eq!(balance_shown, START_BALANCE + TOP_UP - two_beers);
    let receipt = printer.wait_for_receipts(1).remove(0);
    assert!(receipt.contains(&printed(two_beers)), "{receipt}");
    assert!(receipt.contains("Bier"), "{receipt}");

    // Bar Süd: the same band, a cash sale, and that one cancelled.
    bar_sued.login("1111");
    bar_sued.terminal.open_shift(0, "sued-open").unwrap();
    let beer = [CartItem {
        product: "beer".into(),
        quantity: 1,
    }];
    bar_sued.tap(&band);
    let one_beer = bar_sued
        .runtime
        .block_on(
            bar_sued
                .terminal
                .pay(&beer, Tender::Wallet, Some(&band), "sued-1", None),
        )
        .unwrap();
    assert!(!one_beer.offline, "authorised by the server");
    let band_left = START_BALANCE + TOP_UP - two_beers + one_beer.amount_cents;
    assert_eq!(one_beer.balance_after_cents, Some(band_left));
    bar_sued
        .runtime
        .block_on(
            bar_sued
                .terminal
                .pay(&beer, Tender::Cash, None, "sued-2", None),
        )
        .unwrap();
    bar_sued.terminal.cancel_last("sued-3").unwrap();
    let sued_receipts = bar_sued_printer.wait_for_receipts(3);
    assert!(
        sued_receipts.iter().any(|r| r.contains("STORNO")),
        "{sued_receipts:?}"
    );

    // Closing time. Bar Nord counts its float: only the band paid.
    app.click("nav-close-shift");
    app.wait("screen-close-shift");
    app.type_keys(&BAR_FLOAT.to_string());
    app.wait_text("counted-display", &printed(BAR_FLOAT));
    app.click("close-shift");
    app.wait("z-summary");
    assert_eq!(cents(&app.text("z-difference")), 0);
    let z_on_screen = app.text("z-receipt");
    app.screenshot("z-report");
    app.click("z-done");
    let z_on_paper = printer.wait_for_receipts(2).remove(1);
    assert!(z_on_paper.contains("Z-BERICHT"), "{z_on_paper}");
    let closed_sued = bar_sued.terminal.close_shift(0, "sued-close").unwrap();
    assert_eq!(closed_sued.difference_cents, 0);
    let closed_booth = booth
        .terminal
        .close_shift(BOOTH_FLOAT + TOP_UP, "booth-close")
        .unwrap();
    assert_eq!(closed_booth.difference_cents, 0);

    // Everything reaches the server; Bar Nord is then ended, and its
    // ledger read as the file it left.
    bar_sued.wait_synced();
    booth.wait_synced();
    wait("Bar Nord's sale on the server", || {
        server_entries(&event.db, &bar_nord).len() == 1
    });
    drop(app);
    let bar_nord_ledger = ledger_of_ended_app(data.path(), &bar_nord);

    // The server's books: each till's Z report is what the server booked
    // for that terminal.
    let summary: Value = serde_json::from_str(&event.manage_get(
        &server,
        &format!("reports/summary?terminal_timestamp=gte:{doors_open}"),
    ))
    .unwrap();
    let summary = &summary["data"];
    let by_terminal = |id: &str| -> (i64, i64) {
        let row = summary["by_terminal"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == id)
            .unwrap_or_else(|| panic!("{id} not in the server's summary: {summary}"));
        (
            row["amount"].as_i64().unwrap(),
            row["sales"].as_i64().unwrap(),
        )
    };
    for (name, id, ledger) in [
        ("Bar Nord", &bar_nord, &bar_nord_ledger),
        ("Bar Süd", &bar_sued_id, bar_sued.terminal.ledger().as_ref()),
    ] {
        let z = last_z_report(ledger);
        assert_eq!(
            by_terminal(id),
            (z.sales.revenue.0, z.sales.sales_count),
            "{name}: the server's books and the Z report"
        );
    }
    // The Z report on screen and on paper is the one in the ledger.
    let bar_nord_z = last_z_report(&bar_nord_ledger);
    for z in [&z_on_screen, &z_on_paper] {
        assert!(z.contains(&printed(bar_nord_z.sales.revenue.0)), "{z}");
    }
    let booth_z = last_z_report(booth.terminal.ledger());
    let top_ups: i64 = summary["top_ups_by_tender"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount"].as_i64().unwrap())
        .sum();
    let booth_top_ups: i64 = booth_z
        .sales
        .top_ups_by_tender
        .iter()
        .map(|r| r.amount.0)
        .sum();
    assert_eq!((top_ups, booth_top_ups), (TOP_UP, TOP_UP));
    let bar_sued_z = last_z_report(bar_sued.terminal.ledger());
    assert_eq!(
        summary["revenue"].as_i64().unwrap(),
        bar_nord_z.sales.revenue.0 + bar_sued_z.sales.revenue.0,
        "the event's revenue: the two bars' Z reports"
    );

    // Every entry of every till reached the server once; none refused; the
    // band holds what the screens said.
    for (id, dir) in [
        (&bar_nord, data.path()),
        (&bar_sued_id, bar_sued.dir.path()),
        (&booth_id, booth.dir.path()),
    ] {
        assert_booked_once(&dir.join("ledger.sqlite"), &event.db, id);
    }
    assert_eq!(event.balances().get(&band).copied(), Some(band_left));
    for ledger in [
        &bar_nord_ledger,
        bar_sued.terminal.ledger().as_ref(),
        booth.terminal.ledger().as_ref(),
    ] {
        assert_eq!(ledger.verify_chain().unwrap(), vec![], "a till's chain");
    }
    assert!(event.check(), "tapster-server check is clean");
}

/// The Z report of a ledger's last closed shift.
fn last_z_report(ledger: &Ledger) -> tapster_ledger::store::ZReport {
    let reader = ledger.reader().unwrap();
    let shift = reader
        .shifts()
        .unwrap()
        .into_iter()
        .filter(|s| s.closed.is_some())
        .max_by_key(|s| s.opened_at)
        .expect("a closed shift");
    reader.shift_report(&shift.id).unwrap()
}
