//! The app's terminal connected to the real `tapster-server` process: it
//! takes catalogue and staff from the server, sells online, and its entries
//! reach the server exactly once.

#[path = "../../crates/nfc/tests/sandbox/harness.rs"]
mod nfc_sandbox;
#[path = "../../crates/sync/tests/common/mod.rs"]
mod sync_common;

mod common;
use common::connected::{pinned, wait, ConnectedTill};

use std::sync::Arc;
use std::time::Duration;

use sync_common::{Event, Server};
use tapster_app::error::ErrorCode;
use tapster_app::terminal::Terminal;
use tapster_app::view::{
    AuditForm, CartItem, Connectivity, ProductForm, ReportQuery, ReportSource, Role, SettingsForm,
    StaffForm, Tender,
};
use tapster_ledger::demo;

#[test]
fn a_connected_terminal_sells_online_and_its_entries_reach_the_server_once() {
    let event = Event::new(5, 40_00);
    let server = Server::start(&event.db, 0.0);
    let (till, terminal_id) = start_till(&event, &server, "Bar Nord");
    let terminal = &till.terminal;
    let runtime = &till.runtime;
    // Catalogue and staff came from the server; the status bar was told it
    // is online.
    assert!(
        till.statuses
            .lock()
            .unwrap()
            .contains(&Connectivity::Online),
        "the status bar was told it is online"
    );
    terminal.login("1111").unwrap();
    terminal.open_shift(0, "open-1").unwrap();

    let band = demo::wristband(1).to_string();
    let beer = vec![CartItem {
        product: "beer".into(),
        quantity: 1,
    }];
    till.tap(&band);
    let done = runtime
        .block_on(terminal.pay(&beer, Tender::Wallet, Some(&band), "online-1", None))
        .unwrap();
    assert!(!done.offline, "authorised by the server");
    assert_eq!(done.balance_after_cents, Some(40_00 - 7_00));
    // An event without a fiscal device: no TSE block, nothing kept.
    assert!(!done.receipt.text.contains("TSE"), "{}", done.receipt.text);
    assert_eq!(
        terminal
            .ledger()
            .reader()
            .unwrap()
            .fiscal_receipt(&done.entry_id.parse().unwrap())
            .unwrap(),
        None
    );
    // A retry of the same sale is the same sale, on the server too.
    till.tap(&band);
    let again = runtime
        .block_on(terminal.pay(&beer, Tender::Wallet, Some(&band), "online-1", None))
        .unwrap();
    assert_eq!(again.entry_id, done.entry_id);
    till.tap(&band);
    terminal
        .top_up(&band, 10_00, Tender::Cash, "top-up-1")
        .unwrap();

    till.wait_synced();
    assert_eq!(
        event.transactions_of(&terminal_id),
        2,
        "one sale and one top-up"
    );
    let balances = event.balances();
    assert_eq!(balances.get(&band).copied(), Some(40_00 - 7_00 + 10_00));
    assert!(event.check(), "tapster-server check is clean");
    // The terminal's token is in none of the till's files (ledger, WAL,
    // logs): the app keeps it in memory and secrets.toml only.
    let mut files = vec![till.dir.path().to_path_buf()];
    let mut searched = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if let Ok(bytes) = std::fs::read(&path) {
            searched += 1;
            assert!(
                !bytes
                    .windows(till.token.len())
                    .any(|w| w == till.token.as_bytes()),
                "the terminal's token is in {}",
                path.display()
            );
        }
    }
    assert!(searched >= 2, "the ledger was searched");
}

/// A till of `event` named `name`, connected to `server`; with its id.
fn start_till(event: &Event, server: &Server, name: &str) -> (ConnectedTill, String) {
    let (terminal_id, token) = event.terminal(name);
    let settings = pinned(server.base(), &event.id, token, server.fingerprint);
    (
        ConnectedTill::connect(settings, &terminal_id, |_| {}),
        terminal_id,
    )
}

/// The TSE's QR code in a receipt's preview (`[QR: V0;…]`), read back.
fn tse_qr(receipt: &str) -> Option<tapster_fiscal::qr::QrFields> {
    let start = receipt.find("[QR: V0;")? + "[QR: ".len();
    let end = start + receipt[start..].find(']')?;
    tapster_fiscal::qr::parse_qr(&receipt[start..end])
}

/// An event that signs with the simulated TSE: the till has each receipt
/// signed through the server and prints the TSE block and its QR code,
/// reprints the same; with the server gone, the receipt says the TSE
/// failed and the sale stands.
#[test]
fn a_connected_till_prints_the_tse_block_and_marks_an_outage() {
    let event = Event::new(3, 40_00);
    let server = Server::start(&event.db, 0.0);
    let response = server
        .blocking_client()
        .put(format!(
            "{}/api/v1/events/{}/manage/fiscal",
            server.base(),
            event.id
        ))
        .bearer_auth(&event.admin_token)
        .json(&serde_json::json!({ "scheme": "simulated" }))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let (till, _) = start_till(&event, &server, "Bar TSE");
    let terminal = &till.terminal;
    till.login("1111");
    terminal.open_shift(0, "open-1").unwrap();

    let band = demo::wristband(1).to_string();
    till.tap(&band);
    let beer = common::items(&[("beer", 1)]);
    let sale = till
        .runtime
        .block_on(terminal.pay(&beer, Tender::Wallet, Some(&band), "tse-1", None))
        .unwrap();
    let qr = tse_qr(&sale.receipt.text).expect(&sale.receipt.text);
    assert_eq!(qr.process_type, "Kassenbeleg-V1");
    // A wallet sale redeems the voucher: goods by rate, no payment at the till.
    assert_eq!(qr.process_data, "Beleg^5.00_0.00_0.00_0.00_2.00^");
    assert_eq!((qr.number, qr.signature_counter), (1, 1));
    assert!(
        sale.receipt.text.contains("NOT CERTIFIED")
            || sale.receipt.text.contains("NICHT ZERTIFIZIERT"),
        "{}",
        sale.receipt.text
    );
    till.tap(&band);
    let top_up = terminal
        .top_up(&band, 10_00, Tender::Cash, "tse-2")
        .unwrap();
    let qr = tse_qr(&top_up.receipt.text).expect(&top_up.receipt.text);
    assert_eq!(qr.process_data, "Beleg^0.00_0.00_0.00_0.00_10.00^10.00:Bar");
    assert_eq!(qr.number, 2);
    let reprint = terminal.reprint_last().unwrap();
    assert_eq!(
        tse_qr(&reprint.text),
        Some(qr),
        "a reprint carries the same signature"
    );

    // The manager's Fiscal tab: the device, the counts, and the tax
    // auditors' export saved where the dialog chose.
    terminal.lock().unwrap();
    till.login("4444");
    let fiscal = till.runtime.block_on(terminal.fiscal_on_server()).unwrap();
    assert_eq!(
        (fiscal.scheme.as_str(), fiscal.certified),
        ("simulated", false)
    );
    assert_eq!(fiscal.reachable, Some(true));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dsfinvk.zip");
    let saved = till
        .runtime
        .block_on(terminal.save_dsfinvk("", "", &path))
        .unwrap();
    assert!(saved.bytes > 0);
    let zip = std::fs::read(&path).unwrap();
    assert_eq!(&zip[..2], b"PK", "a ZIP file");
    let refused = till
        .runtime
        .block_on(terminal.save_dsfinvk("2026-07-20", "2026-07-17", &path));
    assert_eq!(refused.unwrap_err().code, ErrorCode::InvalidInput);
    terminal.lock().unwrap();
    till.login("1111");
    // The count at close is 0.50 short of the 10.00 top-up: the difference
    // is signed as a transaction of its own.
    let closed = terminal.close_shift(9_50, "close-1").unwrap();
    assert_eq!(closed.difference_cents, -50);
    let reader = terminal.ledger().reader().unwrap();
    let difference = reader.recent_entries(None, 1).unwrap().remove(0);
    let kept: tapster_fiscal::Signing =
        serde_json::from_str(&reader.fiscal_receipt(&difference.id).unwrap().unwrap()).unwrap();
    assert_eq!(
        kept.signed().expect("signed").process_data,
        "Beleg^0.00_0.00_0.00_0.00_-0.50^-0.50:Bar"
    );
    terminal.open_shift(0, "open-2").unwrap();

    server.kill();
    let water = common::items(&[("water", 1)]);
    let offline = till
        .runtime
        .block_on(terminal.pay(&water, Tender::Cash, None, "tse-3", None))
        .unwrap();
    assert!(tse_qr(&offline.receipt.text).is_none());
    assert!(
        offline.receipt.text.contains("TSE FAILED")
            || offline.receipt.text.contains("TSE AUSGEFALLEN"),
        "{}",
        offline.receipt.text
    );
}

#[test]
fn a_connected_managers_edits_go_to_the_server_through_their_staff_session() {
    let event = Event::new(3, 40_00);
    let server = Server::start(&event.db, 0.0);
    let (till, terminal_id) = start_till(&event, &server, "Bar Süd");
    let t = &till.terminal;
    let rt = &till.runtime;
    let event_report = ReportQuery {
        source: ReportSource::Event,
        from_ms: None,
        until_ms: None,
        terminal: None,
        cashier: None,
    };

    // A cashier gets no server session and no manager screens.
    till.login("1111");
    assert_eq!(
        rt.block_on(t.report(&event_report)).unwrap_err().code,
        ErrorCode::RoleNotPermitted
    );
    t.open_shift(0, "open-anna").unwrap();
    let band = demo::wristband(1).to_string();
    till.tap(&band);
    rt.block_on(t.pay(
        &[CartItem {
            product: "beer".into(),
            quantity: 2,
        }],
        Tender::Wallet,
        Some(&band),
        "sale-1",
        None,
    ))
    .unwrap();
    wait("the sale on the server", || {
        till.handle.sync_now();
        t.ledger().pending_count().unwrap_or(1) == 0
    });

    // A supervisor: the event's report from the server, not its catalogue.
    till.login("3333");
    let report = rt.block_on(t.report(&event_report)).unwrap();
    assert!(report.event_available);
    assert_eq!(report.sales_count, 1);
    assert_eq!(report.revenue_cents, 2 * 5_00);
    assert_eq!(
        report.by_product[0].label, "Bier 0,5 l",
        "names from the catalogue"
    );
    assert!(report
        .terminals
        .iter()
        .any(|c| c.id == terminal_id && c.name == "Bar Süd"));
    assert_eq!(
        report.by_hour.iter().map(|h| h.amount_cents).sum::<i64>(),
        10_00
    );
    let exports = tempfile::tempdir().unwrap();
    let pdf = exports.path().join("event.pdf");
    rt.block_on(t.export(&event_report, tapster_app::view::ExportFormat::Pdf, &pdf))
        .unwrap();
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    let terminals = rt.block_on(t.terminals_on_server()).unwrap();
    assert!(terminals.iter().any(|x| x.this_till && x.name == "Bar Süd"));
    let sync = rt.block_on(t.sync_overview_with_server()).unwrap();
    assert!(sync.from_server);
    assert_eq!(
        rt.block_on(t.save_product_on_server(&beer_form(t)))
            .unwrap_err()
            .code,
        ErrorCode::RoleNotPermitted
    );
    // Blocking a wristband: on the server, and here at once.
    let blocked = rt
        .block_on(t.set_wallet_blocked_on_server(&band, true))
        .unwrap();
    assert!(blocked.blocked);
    assert_eq!(
        blocked.balance_cents,
        40_00 - 2 * 7_00,
        "the server's balance"
    );
    let (status, _) = server_debit(&event, &server, &band);
    assert_eq!(status, 402, "the server refuses the blocked wristband");
    rt.block_on(t.set_wallet_blocked_on_server(&band, false))
        .unwrap();
    // A balance moved to a new wristband on the reader.
    let new_band = "04D3AAAAAAAA01";
    till.tap(new_band);
    let moved = rt
        .block_on(t.move_wallet_on_server(&band, new_band))
        .unwrap();
    assert_eq!(moved.balance_cents, 40_00 - 2 * 7_00);
    assert_eq!(
        event.balances().get(new_band).copied(),
        Some(40_00 - 2 * 7_00)
    );
    // Paying the balance out: the server decides, as it holds the balance
    // (this till has not even seen the new band in its feed yet).
    till.tap(new_band);
    let paid = rt
        .block_on(t.payout_wallet(new_band, Tender::Cash, "payout-1"))
        .unwrap();
    assert!(!paid.offline, "decided online");
    assert_eq!(paid.amount_cents, -(40_00 - 2 * 7_00));
    wait("the payout on the server", || {
        till.handle.sync_now();
        t.ledger().pending_count().unwrap_or(1) == 0
    });
    assert_eq!(event.balances().get(new_band).copied(), Some(0));

    // A manager: a new product and a price on the server, here at once, and
    // in every till's next catalogue.
    till.login("4444");
    let admin = rt
        .block_on(t.save_product_on_server(&ProductForm {
            id: None,
            name: "Spezi".into(),
            ..beer_form(t)
        }))
        .unwrap();
    let spezi = admin.products.iter().find(|p| p.name == "Spezi").unwrap();
    let spezi_id = spezi.id.clone().unwrap();
    assert_eq!(admin.layout.last(), Some(&spezi_id));
    let on_server = event.manage_get(&server, "products");
    assert!(on_server.contains(&spezi_id), "{on_server}");
    assert!(t
        .catalog()
        .unwrap()
        .products
        .iter()
        .any(|p| p.id == spezi_id));
    // Staff: a new cashier with a PIN the server hashes; it reaches the till.
    // Saved twice under one creation key (the first answer lost): one Lena.
    let lena = StaffForm {
        creation_key: Some("9b2d61f0".into()),
        id: None,
        name: "Lena".into(),
        role: Role::Cashier,
        pin: Some("8642".into()),
        active: true,
    };
    rt.block_on(t.save_staff_on_server(&lena)).unwrap();
    let staff = rt.block_on(t.save_staff_on_server(&lena)).unwrap();
    assert_eq!(staff.iter().filter(|s| s.name == "Lena").count(), 1);
    wait("Lena's PIN on the till", || {
        till.handle.sync_now();
        t.login("8642").is_ok()
    });
    // Receipt texts are the event's: changed on the server.
    till.login("4444");
    let settings = t.settings().unwrap();
    assert!(settings.event_settings_from_server);
    rt.block_on(t.save_settings_on_server(&SettingsForm {
        receipt_footer: "Danke, Bar Süd!".into(),
        ..settings.form
    }))
    .unwrap();
    assert_eq!(t.settings().unwrap().form.receipt_footer, "Danke, Bar Süd!");
    let on_server = event.manage_get(&server, "settings");
    assert!(on_server.contains("Danke, Bar Süd!"), "{on_server}");
    // Local edits of what the server owns are refused, not silently lost.
    assert_eq!(
        t.save_product(&beer_form(t)).unwrap_err().code,
        ErrorCode::ServerOwned
    );

    // The Audit tab: who did what here, newest first, the chain intact.
    let everything = AuditForm::default();
    let audit = rt.block_on(t.audit_on_server(&everything)).unwrap();
    assert!(audit.intact, "{audit:?}");
    let done_here: Vec<(&str, &str, &str)> = audit
        .rows
        .iter()
        .filter(|r| r.terminal == "Bar Süd")
        .map(|r| (r.action.as_str(), r.actor_kind.as_str(), r.actor.as_str()))
        .collect();
    assert_eq!(
        done_here,
        [
            ("settings_changed", "staff", "Max"),
            ("staff_created", "staff", "Max"),
            // The new product on this till's grid.
            ("terminal_changed", "staff", "Max"),
            ("product_created", "staff", "Max"),
            ("payout", "staff", "Sue"),
            ("balance_moved", "staff", "Sue"),
            ("wallet_unblocked", "staff", "Sue"),
            ("wallet_blocked", "staff", "Sue"),
        ],
        "{audit:#?}"
    );
    let payouts = rt
        .block_on(t.audit_on_server(&AuditForm {
            action: "payout".into(),
            ..AuditForm::default()
        }))
        .unwrap();
    assert_eq!(payouts.rows.len(), 1);
    assert_eq!(payouts.rows[0].wallet, new_band);
    let csv = exports.path().join("audit.csv");
    rt.block_on(t.save_audit_csv(&everything, &csv)).unwrap();
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.starts_with("seq,time_utc,actor_kind"), "{csv}");
    assert!(csv.contains(",payout,"), "{csv}");
    // A supervisor does not read it.
    till.login("3333");
    assert_eq!(
        rt.block_on(t.audit_on_server(&everything))
            .unwrap_err()
            .code,
        ErrorCode::RoleNotPermitted
    );
    assert!(event.check(), "tapster-server check is clean");
    rt.block_on(till.handle.stop());
}

fn beer_form(t: &Terminal) -> ProductForm {
    // Supervisors may not open the editor: then the form is built by hand.
    t.catalogue_admin()
        .ok()
        .and_then(|a| {
            a.products
                .into_iter()
                .find(|p| p.id.as_deref() == Some("beer"))
        })
        .unwrap_or(ProductForm {
            id: Some("beer".into()),
            creation_key: None,
            name: "Bier 0,5 l".into(),
            subtitle: None,
            category: "beer".into(),
            price_cents: 5_00,
            vat_basis_points: 1900,
            background: "#C8961E".into(),
            text_colour: "#FFFFFF".into(),
            sale_price_cents: None,
            on_sale: false,
            use_stock: false,
            stock: 0,
            available_from_ms: None,
            available_until_ms: None,
            deposit_product: Some("cup".into()),
            returnable: false,
            archived: false,
            thumbnail_url: None,
            ribbon_colour: None,
            sale_text: None,
            description: None,
        })
}

/// A debit straight on the server, as another till would make it.
fn server_debit(event: &Event, server: &Server, band: &str) -> (u16, String) {
    let (_, token) = event.terminal("Other");
    let response = server
        .blocking_client()
        .post(format!(
            "{}/api/v1/events/{}/pos/wallets/token/{band}/transactions",
            server.base(),
            event.id
        ))
        .bearer_auth(token)
        .json(&serde_json::json!({ "products": ["water"] }))
        .send()
        .unwrap();
    (response.status().as_u16(), response.text().unwrap())
}

#[test]
fn a_connected_till_keeps_the_events_band_keys_for_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let event = Event::new(1, 10_00);
    let server = Server::start(&event.db, 0.0);
    let (_, token) = event.terminal("Encoder");
    let client = tapster_sync::ServerClient::new(
        &tapster_sync::ServerAddress::new(&server.base(), Some(server.fingerprint)),
        &event.id,
        &token,
        Duration::from_secs(5),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let shared: tapster_nfc::SharedKeyring = Arc::new(std::sync::RwLock::new(None));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let refresh = || {
        runtime.block_on(tapster_app::band_keys::refresh(
            &client,
            dir.path(),
            &shared,
        ))
    };
    assert_eq!(refresh(), Ok(true));
    assert_eq!(refresh(), Ok(false), "unchanged keys are not written again");
    let path = tapster_app::band_keys::path(dir.path());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let kept = tapster_nfc::ntag424::Keyring::load(&path).unwrap();
    assert_eq!(shared.read().unwrap().as_ref(), Some(&kept));
    assert_eq!(kept.current.version, 1);
}

/// Across the whole chain: the server's band keys reach the till's key
/// file, the encoding station (pcscd, emulated NTAG 424 DNA) puts a SUN
/// link to the server's guest page on a band, a phone reads it, and the
/// server resolves each fresh link once and refuses it replayed.
#[test]
fn a_band_encoded_with_the_servers_keys_opens_its_guest_page_once_per_read() {
    const BAND: &str = "04D30000000001";
    let event = Event::new(1, 10_00);
    let server = Server::start(&event.db, 0.0);
    let (_, token) = event.terminal("Encoder");
    let client = tapster_sync::ServerClient::new(
        &tapster_sync::ServerAddress::new(&server.base(), Some(server.fingerprint)),
        &event.id,
        &token,
        Duration::from_secs(5),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let shared: tapster_nfc::SharedKeyring = Arc::new(std::sync::RwLock::new(None));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(tapster_app::band_keys::refresh(
            &client,
            dir.path(),
            &shared,
        ))
        .unwrap();
    let keys = tapster_app::band_keys::path(dir.path());
    let guest_page = format!("{}/api/v1/events/{}/guest/sun", server.base(), event.id);
    let nfc = nfc_sandbox::nfc_binary();
    let (nfc, keys) = (nfc.to_str().unwrap(), keys.to_str().unwrap());
    let script = format!(
        "set -e
         {nfc} encode --band-keys {keys} --count 1 --link {guest_page}
         {nfc} read-link
         {nfc} read-link"
    );
    let sandbox = nfc_sandbox::Sandbox::start(&["sh", "-c", &script]);
    let wait = Duration::from_secs(25);
    sandbox.expect(wait, |e| e["event"] == "reader_added");
    sandbox.card(&format!("insert-424 {BAND}"));
    let encoded = sandbox.expect(wait, |e| {
        e["event"] == "encoded" || e["event"] == "encode_failed"
    });
    assert_eq!(encoded["link"], true, "{encoded}");
    let mut links = Vec::new();
    for _ in 0..2 {
        sandbox.card("remove");
        std::thread::sleep(nfc_sandbox::POLL);
        sandbox.card(&format!("insert-424 {BAND}"));
        let line = sandbox.expect(wait, |e| {
            e.get("link").is_some() || e.get("error").is_some()
        });
        links.push(
            line["link"]
                .as_str()
                .unwrap_or_else(|| panic!("{line}"))
                .to_string(),
        );
    }
    sandbox.card("remove");

    let http = server.blocking_client();
    let open = |link: &str| {
        assert!(link.starts_with(&guest_page), "{link}");
        let response = http.get(link).send().unwrap();
        let status = response.status().as_u16();
        (status, response.json::<serde_json::Value>().unwrap())
    };
    let (status, first) = open(&links[0]);
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["data"]["token_id"], BAND);
    assert_eq!(first["data"]["key_version"], 1);
    assert_eq!(first["data"]["wallet"]["balance"], 10_00, "{first}");
    let (status, replayed) = open(&links[0]);
    assert_eq!(status, 400, "a replayed link: {replayed}");
    let (status, second) = open(&links[1]);
    assert_eq!(status, 200, "{second}");
    assert!(second["data"]["counter"].as_u64() > first["data"]["counter"].as_u64());
}

/// A manager on a connected till makes a batch of passes on the server,
/// prints its sheet, blocks one; a device's scan then sees it blocked and
/// the others redeemable; a supervisor may neither see nor make them.
#[test]
fn a_manager_makes_prints_and_blocks_passes_on_the_server() {
    use tapster_app::view::{AllowancePer, PassBatchForm, PassKind};
    let event = Event::new(1, 10_00);
    let server = Server::start(&event.db, 0.0);
    let (till, _) = start_till(&event, &server, "Info");
    let t = &till.terminal;
    let rt = &till.runtime;
    let form = PassBatchForm {
        count: 3,
        title: "Helfer-Getränk".into(),
        subtitle: String::new(),
        kind: PassKind::Allowance,
        amount_cents: 0,
        percent: 0,
        allowance_count: 2,
        allowance_per: AllowancePer::Day,
        products: vec!["beer".into(), "water".into()],
        valid_from_ms: None,
        valid_until_ms: None,
        max_redemptions: 1,
    };

    // The codes are as good as cash: a supervisor neither sees nor makes them.
    till.login("3333");
    assert_eq!(
        rt.block_on(t.passes_on_server()).unwrap_err().code,
        ErrorCode::RoleNotPermitted
    );
    assert_eq!(
        rt.block_on(t.create_passes_on_server(&form, "batch-0"))
            .unwrap_err()
            .code,
        ErrorCode::RoleNotPermitted
    );
    till.login("4444");
    assert!(rt
        .block_on(t.passes_on_server())
        .unwrap()
        .batches
        .is_empty());
    let mut bad = form.clone();
    bad.products.clear();
    assert_eq!(
        rt.block_on(t.create_passes_on_server(&bad, "batch-bad"))
            .unwrap_err()
            .code,
        ErrorCode::InvalidInput
    );
    let view = rt
        .block_on(t.create_passes_on_server(&form, "batch-1"))
        .unwrap();
    // Pressed again after a lost answer: still one batch.
    let again = rt
        .block_on(t.create_passes_on_server(&form, "batch-1"))
        .unwrap();
    assert_eq!(again.batches, view.batches);
    let mut other = form.clone();
    other.count = 4;
    assert_eq!(
        rt.block_on(t.create_passes_on_server(&other, "batch-1"))
            .unwrap_err()
            .code,
        ErrorCode::IdempotencyConflict
    );
    assert_eq!(view.batches.len(), 1);
    let batch = &view.batches[0];
    assert_eq!((batch.count, batch.redeemed), (3, 0));
    assert_eq!(batch.pass_type, "allowance");
    assert!(batch.gives.contains("2 × pro Tag"), "{}", batch.gives);

    // The sheet, saved where the dialog chose.
    let exports = tempfile::tempdir().unwrap();
    let pdf = exports.path().join("passes.pdf");
    let saved = rt.block_on(t.save_pass_sheet(&batch.batch, &pdf)).unwrap();
    assert!(saved.bytes > 1000);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    let wrong = exports.path().join("passes.csv");
    assert_eq!(
        rt.block_on(t.save_pass_sheet(&batch.batch, &wrong))
            .unwrap_err()
            .code,
        ErrorCode::InvalidInput
    );

    // Block one code (as typed or scanned); a device's scan sees it.
    let admin = &event.admin_token;
    let http = server.blocking_client();
    let passes: serde_json::Value = http
        .get(format!(
            "{}/api/v1/events/{}/manage/passes",
            server.base(),
            event.id
        ))
        .bearer_auth(admin)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let codes: Vec<String> = passes["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pass_identifier"].as_str().unwrap().to_string())
        .collect();
    let view = rt
        .block_on(t.set_pass_blocked_on_server(&format!(" {}\n", codes[0]), true))
        .unwrap();
    assert_eq!(view.batches[0].blocked, vec![codes[0].clone()]);
    let scan = |code: &str| {
        http.post(format!(
            "{}/api/v1/events/{}/devices/scan",
            server.base(),
            event.id
        ))
        .bearer_auth(&till.token)
        .json(&serde_json::json!({ "code": code }))
        .send()
        .unwrap()
        .status()
        .as_u16()
    };
    assert_eq!(scan(&codes[0]), 422, "blocked");
    assert_eq!(scan(&codes[1]), 200);
    let view = rt.block_on(t.passes_on_server()).unwrap();
    assert_eq!(view.batches[0].redeemed, 1);
    let view = rt
        .block_on(t.set_pass_blocked_on_server(&codes[0], false))
        .unwrap();
    assert!(view.batches[0].blocked.is_empty());
    // A ticket shop's codes: imported whole, or not at all.
    let mut voucher = form.clone();
    voucher.kind = tapster_app::view::PassKind::Voucher;
    voucher.amount_cents = 3_00;
    voucher.title = "Ticket bonus".into();
    let view = rt
        .block_on(
            t.import_passes_on_server(&voucher, "code,reference\nSHOP-000001,o1\nSHOP-000002,o2\n"),
        )
        .unwrap();
    assert_eq!(view.batches.len(), 2);
    assert!(view
        .batches
        .iter()
        .any(|b| b.title == "Ticket bonus" && b.count == 2));
    assert_eq!(
        rt.block_on(t.import_passes_on_server(&voucher, "code\nSHOP-000003\nSHOP-000001\n"))
            .unwrap_err()
            .code,
        ErrorCode::RefusedByServer,
        "a code that exists refuses the import"
    );
    assert_eq!(rt.block_on(t.passes_on_server()).unwrap().batches.len(), 2);
    assert_eq!(scan("SHOP-000002"), 200);
    assert_eq!(
        rt.block_on(t.set_pass_blocked_on_server("x y", true))
            .unwrap_err()
            .code,
        ErrorCode::InvalidInput
    );
}

/// A voucher scanned at a connected till lands on the tapped wristband as
/// promo credit: spent before the guest's own money, shown apart, never
/// paid out — on the till and on the server.
#[test]
fn a_voucher_credited_at_the_till_is_spent_first_and_never_paid_out() {
    use tapster_app::view::{AllowancePer, PassBatchForm, PassKind};
    let event = Event::new(1, 10_00);
    let server = Server::start(&event.db, 0.0);
    let (till, _) = start_till(&event, &server, "Info");
    let t = &till.terminal;
    let rt = &till.runtime;
    till.login("4444");
    t.open_shift(0, "open-voucher").unwrap();
    let form = PassBatchForm {
        count: 1,
        title: "Getränkegutschein".into(),
        subtitle: String::new(),
        kind: PassKind::Voucher,
        amount_cents: 5_00,
        percent: 0,
        allowance_count: 0,
        allowance_per: AllowancePer::Day,
        products: Vec::new(),
        valid_from_ms: None,
        valid_until_ms: None,
        max_redemptions: 1,
    };
    rt.block_on(t.create_passes_on_server(&form, "vouchers-1"))
        .unwrap();
    let passes = event.manage_get(&server, "passes");
    let passes: serde_json::Value = serde_json::from_str(&passes).unwrap();
    let code = passes["data"][0]["pass_identifier"]
        .as_str()
        .unwrap()
        .to_string();

    // Scanned (a scanner's line, with its Enter): what it is and gives.
    let scanned = rt.block_on(t.scan_pass(&format!("{code}\r\n"))).unwrap();
    assert!(scanned.creditable);
    assert_eq!(scanned.title, "Getränkegutschein");
    assert!(scanned.gives.contains("5,00"), "{}", scanned.gives);
    assert_eq!(scanned.redemptions_left, 1);

    let band = demo::wristband(1).to_string();
    till.tap(&band);
    let credited = rt
        .block_on(t.redeem_voucher(&code, &band, "voucher-1"))
        .unwrap();
    assert_eq!(
        (
            credited.credited_cents,
            credited.balance_cents,
            credited.promo_cents
        ),
        (5_00, 15_00, 5_00)
    );
    // The till's retry after a lost answer: the same answer, no second credit.
    till.tap(&band);
    let again = rt
        .block_on(t.redeem_voucher(&code, &band, "voucher-1"))
        .unwrap();
    assert_eq!(again, credited);
    // Another attempt is refused with the seed's words.
    till.tap(&band);
    let refused = rt
        .block_on(t.redeem_voucher(&code, &band, "voucher-2"))
        .unwrap_err();
    assert!(
        refused.message.contains("already redeemed"),
        "{}",
        refused.message
    );
    let wallet = t.wallet(&band).unwrap();
    assert_eq!((wallet.balance_cents, wallet.promo_cents), (15_00, 5_00));

    // Fries (4.00) are paid from the promo credit first.
    let fries = vec![CartItem {
        product: "fries".into(),
        quantity: 1,
    }];
    till.tap(&band);
    let sale = rt
        .block_on(t.pay(&fries, Tender::Wallet, Some(&band), "fries-1", None))
        .unwrap();
    assert!(!sale.offline);
    assert!(
        sale.receipt.text.contains("davon Gutschein"),
        "{}",
        sale.receipt.text
    );
    let wallet = t.wallet(&band).unwrap();
    assert_eq!((wallet.balance_cents, wallet.promo_cents), (11_00, 1_00));

    // The payout hands out the guest's own 10.00; the promo stays.
    till.tap(&band);
    let payout = till
        .runtime
        .block_on(t.payout_wallet(&band, Tender::Cash, "payout-1"))
        .unwrap();
    assert_eq!(payout.amount_cents, -10_00);
    assert_eq!(payout.balance_after_cents, Some(1_00));
    wait("nothing pending", || {
        till.handle.sync_now();
        t.ledger().pending_count().unwrap_or(1) == 0
    });
    assert_eq!(event.balances().get(&band).copied(), Some(1_00));
    assert!(event.check(), "tapster-server check is clean");
    let wallet = t.wallet(&band).unwrap();
    assert_eq!((wallet.balance_cents, wallet.promo_cents), (1_00, 1_00));
}

/// Discount passes at connected tills: taken off the cart as the ledger
/// prices it, redeemed with the debit online; offline, each till lets a
/// pass go once, and when both sales reach the server the first counts
/// and the other is a conflict for the manager, balances exact.
#[test]
fn a_free_beer_pass_goes_once_online_and_offline_the_second_use_is_a_conflict() {
    use tapster_app::view::{AllowancePer, PassBatchForm, PassKind};
    let event = Event::new(3, 10_00);
    let server = Server::start(&event.db, 0.0);
    let listen = server.address.clone();
    event.set_offline_limits(&server, 50_00, 500_00);
    let (one, _) = start_till(&event, &server, "Bar A");
    let (two, _) = start_till(&event, &server, "Bar B");
    for (till, key) in [(&one, "open-a"), (&two, "open-b")] {
        till.login("4444");
        till.terminal.open_shift(0, key).unwrap();
    }
    let form = PassBatchForm {
        count: 3,
        title: "Freibier".into(),
        subtitle: String::new(),
        kind: PassKind::FreeProduct,
        amount_cents: 0,
        percent: 0,
        allowance_count: 0,
        allowance_per: AllowancePer::Day,
        products: vec!["beer".into()],
        valid_from_ms: None,
        valid_until_ms: None,
        max_redemptions: 1,
    };
    one.runtime
        .block_on(one.terminal.create_passes_on_server(&form, "free-beer"))
        .unwrap();
    let passes: serde_json::Value =
        serde_json::from_str(&event.manage_get(&server, "passes")).unwrap();
    let codes: Vec<String> = passes["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pass_identifier"].as_str().unwrap().to_string())
        .collect();
    let beer = vec![CartItem {
        product: "beer".into(),
        quantity: 1,
    }];
    let full = one.terminal.quote(&beer).unwrap();

    // Online: scanned, taken off the quote (not while the cart has no
    // beer: priced without, and told why), redeemed with the debit.
    let scanned = one
        .runtime
        .block_on(one.terminal.scan_pass(&codes[0]))
        .unwrap();
    assert!(scanned.applicable && !scanned.creditable);
    let fries = vec![CartItem {
        product: "fries".into(),
        quantity: 1,
    }];
    let waits = one
        .terminal
        .quote_with_pass(&fries, Some(&codes[0]))
        .unwrap();
    assert_eq!(
        waits.total_cents,
        one.terminal.quote(&fries).unwrap().total_cents
    );
    assert_eq!(
        waits.pass_waits.as_deref(),
        Some("the pass is for a product that is not in the cart")
    );
    let quote = one
        .terminal
        .quote_with_pass(&beer, Some(&codes[0]))
        .unwrap();
    assert_eq!(quote.pass_waits, None);
    let discount = quote.lines.iter().find(|l| l.discount).unwrap();
    assert_eq!(discount.name, "Freibier");
    let beer_price = full
        .lines
        .iter()
        .find(|l| l.product == "beer")
        .unwrap()
        .unit_cents;
    assert_eq!(discount.total_cents, -beer_price);
    assert_eq!(quote.total_cents, full.total_cents - beer_price);
    let band1 = demo::wristband(1).to_string();
    one.tap(&band1);
    let sale = one
        .runtime
        .block_on(one.terminal.pay_with_pass(
            &beer,
            Tender::Wallet,
            Some(&band1),
            "free-beer-1",
            Some(quote.total_cents),
            Some(&codes[0]),
        ))
        .unwrap();
    assert!(!sale.offline);
    assert!(
        sale.receipt.text.contains("Freibier"),
        "{}",
        sale.receipt.text
    );
    // Used up: another till's scan says so (and puts nothing on a cart).
    let again = two
        .runtime
        .block_on(two.terminal.scan_pass(&codes[0]))
        .unwrap_err();
    assert_eq!(again.code, ErrorCode::PassRefused);
    assert_eq!(again.message, "Pass already redeemed");
    let refused = two
        .runtime
        .block_on(two.terminal.pay_with_pass(
            &beer,
            Tender::Wallet,
            Some(&band1),
            "free-beer-2",
            None,
            Some(&codes[0]),
        ))
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::PassRefused, "never scanned here");

    // Offline: both tills scanned the second pass, then the server goes.
    for till in [&one, &two] {
        assert!(
            till.runtime
                .block_on(till.terminal.scan_pass(&codes[1]))
                .unwrap()
                .applicable
        );
    }
    // The third pass reaches till two with the pass feed only.
    let third = tapster_ledger::passes::PassCode::parse(&codes[2]).unwrap();
    wait("the pass feed", || {
        two.handle.sync_now();
        two.terminal
            .ledger()
            .known_pass(&third, tapster_ledger::Timestamp(0))
            .is_ok_and(|known| known.is_some())
    });
    server.kill();
    let offline_sale = |till: &ConnectedTill, band: &str, key: &str| {
        till.tap(band);
        till.runtime.block_on(till.terminal.pay_with_pass(
            &beer,
            Tender::Wallet,
            Some(band),
            key,
            None,
            Some(&codes[1]),
        ))
    };
    let band2 = demo::wristband(2).to_string();
    let band3 = demo::wristband(3).to_string();
    let first = offline_sale(&one, &band2, "offline-a").unwrap();
    assert!(first.offline);
    let refused = offline_sale(&one, &band2, "offline-a2").unwrap_err();
    assert_eq!(refused.code, ErrorCode::PassRefused, "once per till");
    let second = offline_sale(&two, &band3, "offline-b").unwrap();
    assert!(second.offline);
    // Scanned without the server: known from the feed, taken off offline.
    let known = two
        .runtime
        .block_on(two.terminal.scan_pass(&codes[2]))
        .unwrap();
    assert!(known.applicable, "{known:?}");
    assert_eq!(known.redemptions_left, 1);
    let unknown = two
        .runtime
        .block_on(two.terminal.scan_pass("SOME-OTHER-CODE"))
        .unwrap_err();
    assert_eq!(unknown.code, ErrorCode::ServerUnreachable);
    two.tap(&band3);
    let third_sale = two
        .runtime
        .block_on(two.terminal.pay_with_pass(
            &beer,
            Tender::Wallet,
            Some(&band3),
            "offline-b2",
            None,
            Some(&codes[2]),
        ))
        .unwrap();
    assert!(third_sale.offline);

    let server = Server::start_on(&event.db, 0.0, &listen);
    for till in [&one, &two] {
        wait("nothing pending", || {
            till.handle.sync_now();
            till.terminal.ledger().pending_count().unwrap_or(1) == 0
        });
    }
    let cup = full.total_cents - beer_price;
    let balances = event.balances();
    assert_eq!(balances.get(&band1).copied(), Some(10_00 - cup));
    assert_eq!(balances.get(&band2).copied(), Some(10_00 - cup));
    assert_eq!(balances.get(&band3).copied(), Some(10_00 - 2 * cup));
    let conflicts: serde_json::Value =
        serde_json::from_str(&event.manage_get(&server, "conflicts")).unwrap();
    let listed = conflicts["data"]["pass_conflicts"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{conflicts}");
    assert_eq!(listed[0]["value"], beer_price);
    assert_eq!(listed[0]["code"], codes[1].as_str());
    let report: serde_json::Value =
        serde_json::from_str(&event.manage_get(&server, "reports/passes")).unwrap();
    let redeemed: i64 = report["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["redemptions"].as_i64().unwrap())
        .sum();
    assert_eq!(redeemed, 3, "one per pass: {report}");
    assert!(event.check(), "tapster-server check is clean");
}

#[test]
fn a_split_bill_asks_the_server_for_each_band_and_settles_offline_too() {
    use tapster_app::view::TipChoice;
    let event = Event::new(3, 10_00);
    let server = Server::start(&event.db, 0.0);
    let listen = server.address.clone();
    event.set_offline_limits(&server, 50_00, 500_00);
    let (till, terminal_id) = start_till(&event, &server, "Bar Nord");
    let t = &till.terminal;
    t.login("1111").unwrap();
    t.open_shift(0, "open").unwrap();
    let (band1, band2, band3) = (
        demo::wristband(1).to_string(),
        demo::wristband(2).to_string(),
        demo::wristband(3).to_string(),
    );
    // Online: four beers (28.00) and a 2.00 tip; each band's share is a
    // debit the server makes at once.
    let round = vec![CartItem {
        product: "beer".into(),
        quantity: 4,
    }];
    let tip = Some(TipChoice::Amount { cents: 2_00 });
    let bill = t.open_bill(&round, tip, None, "bill-online").unwrap();
    assert_eq!(bill.total_cents, 30_00);
    for (band, key) in [(&band1, "share-1"), (&band2, "share-2")] {
        till.tap(band);
        let step = till
            .runtime
            .block_on(t.pay_bill(&bill.id, Tender::Wallet, Some(band), None, None, key))
            .unwrap();
        assert!(
            !step.bill.payments.last().unwrap().offline,
            "asked the server"
        );
    }
    let balances = event.balances();
    assert_eq!(
        balances.get(&band1).copied(),
        Some(0),
        "debited on the server at once"
    );
    assert_eq!(balances.get(&band2).copied(), Some(0));
    // The server refuses what a band does not have (the till thought it had).
    till.tap(&band1);
    let refused = till
        .runtime
        .block_on(t.pay_bill(
            &bill.id,
            Tender::Wallet,
            Some(&band1),
            Some(1_00),
            None,
            "share-3",
        ))
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::InsufficientFunds, "{refused:?}");
    let last = till
        .runtime
        .block_on(t.pay_bill(&bill.id, Tender::Cash, None, Some(10_00), None, "cash"))
        .unwrap();
    assert_eq!(last.bill.status, "settled");
    assert!(last.done.is_some());

    // Offline: the band's share is decided by the offline limits.
    server.kill();
    let bill = t
        .open_bill(
            &[CartItem {
                product: "beer".into(),
                quantity: 1,
            }],
            None,
            None,
            "bill-offline",
        )
        .unwrap();
    till.tap(&band3);
    let offline = till
        .runtime
        .block_on(t.pay_bill(
            &bill.id,
            Tender::Wallet,
            Some(&band3),
            None,
            None,
            "share-offline",
        ))
        .unwrap();
    assert!(offline.bill.payments[0].offline);
    assert_eq!(offline.bill.status, "settled");

    let _server = Server::start_on(&event.db, 0.0, &listen);
    wait("nothing pending", || {
        till.handle.sync_now();
        t.ledger().pending_count().unwrap_or(1) == 0
    });
    let balances = event.balances();
    assert_eq!(balances.get(&band3).copied(), Some(3_00));
    // Online shares, the cash payment, the two bills' sales, the offline share.
    assert_eq!(event.transactions_of(&terminal_id), 6);
    assert!(event.check(), "tapster-server check is clean");
}

#[test]
fn a_manager_pays_the_guests_rests_back_by_a_sepa_file() {
    use tapster_app::view::{ExportFormat, NewPayoutRunForm};
    let event = Event::new(1, 10_00);
    let server = Server::start(&event.db, 0.0);
    let band = demo::wristband(1).to_string();
    let (till, _) = start_till(&event, &server, "Info");
    let t = &till.terminal;
    let rt = &till.runtime;
    sync_common::guest_asks_for_payout(&event, &server, &band, "DE44 5001 0517 5407 3249 31");

    till.login("3333");
    assert_eq!(
        rt.block_on(t.payouts_on_server()).unwrap_err().code,
        ErrorCode::RoleNotPermitted,
        "a supervisor does not pay money out"
    );
    till.login("4444");
    let view = rt.block_on(t.payouts_on_server()).unwrap();
    assert!(view.runs.is_empty());
    assert_eq!((view.unclaimed_bands, view.unclaimed_cents), (1, 10_00));
    assert!(view.settings.countries.contains("DE"));
    assert_eq!(view.wrong_code_budget, 300);

    let mut settings = view.settings.clone();
    settings.debtor_name = "Festival GmbH".into();
    settings.debtor_iban = "DE89 3704 0044 0532 0130 00".into();
    settings.fee_cents = 50;
    let view = rt
        .block_on(t.save_payout_settings_on_server(&settings))
        .unwrap();
    assert_eq!(view.settings.fee_cents, 50);

    // The request window is open: the server's warning, then accepted.
    let mut form = NewPayoutRunForm {
        max_count: None,
        max_cents: None,
        execution_date: None,
        accept_warnings: false,
    };
    let refused = rt
        .block_on(t.create_payout_run_on_server(&form))
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::RefusedByServer);
    assert!(refused.message.contains("window"), "{}", refused.message);
    form.accept_warnings = true;
    let view = rt.block_on(t.create_payout_run_on_server(&form)).unwrap();
    let run = &view.runs[0];
    assert_eq!((run.state.as_str(), run.bands), ("pending", 1));
    assert_eq!((run.transfer_cents, run.fee_cents), (9_50, 50));
    assert_eq!(view.unclaimed_bands, 0, "the run holds it");

    let files = tempfile::tempdir().unwrap();
    // Codes for the bands' guest pages, in a file only.
    let codes_csv = files.path().join("codes.csv");
    assert_eq!(
        rt.block_on(t.save_guest_codes("not a band", "", &codes_csv))
            .unwrap_err()
            .code,
        ErrorCode::InvalidInput
    );
    rt.block_on(t.save_guest_codes(&format!("{band}\n"), "https://pay.example.org", &codes_csv))
        .unwrap();
    let written = std::fs::read_to_string(&codes_csv).unwrap();
    let row: Vec<&str> = written.lines().nth(1).unwrap().split(';').collect();
    assert_eq!(row[0], band);
    assert_eq!(row[1].len(), 14, "{written}");
    assert_eq!(
        row[2],
        format!(
            "https://pay.example.org/guest/{}?code={}",
            event.id,
            row[1].replace('-', "")
        )
    );
    let xml = files.path().join("payout.xml");
    rt.block_on(t.save_payout_run_file(&run.id, ExportFormat::Xml, &xml))
        .unwrap();
    let written = std::fs::read_to_string(&xml).unwrap();
    tapster_sepa::testing::validate(&written).unwrap();
    assert!(written.contains("<Nm>Juergen Mueller</Nm>"));
    let csv = files.path().join("payout.csv");
    rt.block_on(t.save_payout_run_file(&run.id, ExportFormat::Csv, &csv))
        .unwrap();
    assert!(std::fs::read_to_string(&csv).unwrap().contains("9,50"));
    assert_eq!(
        rt.block_on(t.save_payout_run_file(&run.id, ExportFormat::Pdf, &csv))
            .unwrap_err()
            .code,
        ErrorCode::InvalidInput
    );
    let view = rt
        .block_on(t.end_payout_run_on_server(&run.id, true))
        .unwrap();
    assert_eq!(view.runs[0].state, "done");
    let wallet = event.manage_get(&server, &format!("wallets/token/{band}"));
    assert!(wallet.contains("\"balance\":0"), "{wallet}");
}

/// A band's balance paid out at one till cannot be paid out again at
/// another that still holds the old balance: the server decides payouts.
/// The payout is in the audit trail once, as the cashier's at that till,
/// and the till's entry reaches the server as that same payout.
#[test]
fn a_payout_is_decided_by_the_server_and_cannot_be_made_twice() {
    let event = Event::new(2, 25_00);
    let server = Server::start(&event.db, 0.0);
    let (nord, nord_id) = start_till(&event, &server, "Bar Nord");
    let (sued, _) = start_till(&event, &server, "Bar Süd");
    let band = demo::wristband(1).to_string();
    for till in [&nord, &sued] {
        till.login("4444");
        till.terminal.open_shift(0, "open").unwrap();
        // Both know the band's 25.00 from their feed.
        wait("the band in the feed", || {
            till.handle.sync_now();
            till.terminal.wallet(&band).is_ok_and(|w| w.known)
        });
    }
    nord.tap(&band);
    let paid = nord
        .runtime
        .block_on(
            nord.terminal
                .payout_wallet(&band, Tender::Cash, "payout-nord"),
        )
        .unwrap();
    assert_eq!(paid.amount_cents, -25_00);
    assert!(!paid.offline, "decided by the server");
    assert_eq!(event.balances().get(&band).copied(), Some(0));

    // Bar Süd still shows 25.00 until its next feed: the server refuses.
    sued.tap(&band);
    let refused = sued
        .runtime
        .block_on(
            sued.terminal
                .payout_wallet(&band, Tender::Cash, "payout-sued"),
        )
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::NothingToPayOut, "{refused:?}");
    assert_eq!(event.balances().get(&band).copied(), Some(0));

    // Bar Nord's entry reaches the server as the payout it already made.
    nord.wait_synced();
    assert_eq!(event.balances().get(&band).copied(), Some(0));
    let trail: serde_json::Value =
        serde_json::from_str(&event.manage_get(&server, "audit?action=payout")).unwrap();
    let payouts = trail["data"].as_array().unwrap();
    assert_eq!(payouts.len(), 1, "{trail}");
    assert_eq!(payouts[0]["actor_id"], "max");
    assert_eq!(payouts[0]["terminal_id"], nord_id.as_str());
    assert_eq!(payouts[0]["detail"]["amount"], 25_00);
    assert!(event.check(), "tapster-server check is clean");
    for till in [nord, sued] {
        till.runtime.block_on(till.handle.stop());
    }
}

/// A connected manager's category order, removal and badges go to the
/// server; what another manager changes there reaches this till with the
/// next catalogue pull (a removed category, a badge moved to someone else).
#[test]
fn a_connected_manager_orders_and_removes_categories_and_pairs_badges_on_the_server() {
    let event = Event::new(1, 40_00);
    let server = Server::start(&event.db, 0.0);
    let (till, _) = start_till(&event, &server, "Bar Süd");
    let t = &till.terminal;
    let rt = &till.runtime;
    till.login("4444");
    let ids = |admin: &tapster_app::view::CatalogueAdmin| -> Vec<String> {
        admin.categories.iter().map(|c| c.id.clone()).collect()
    };
    let before = ids(&t.catalogue_admin().unwrap());
    let admin = rt
        .block_on(t.move_category_on_server(&before[2], -2))
        .unwrap();
    let mut order = before.clone();
    let moved = order.remove(2);
    order.insert(0, moved);
    assert_eq!(ids(&admin), order, "here at once");
    let on_server: serde_json::Value =
        serde_json::from_str(&event.manage_get(&server, "categories")).unwrap();
    let server_order: Vec<&str> = on_server["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(server_order, order);
    assert_eq!(
        rt.block_on(t.remove_category_on_server("beer"))
            .unwrap_err()
            .code,
        ErrorCode::CategoryNotEmpty
    );
    // Saved twice under one creation key (the first answer lost): one.
    for _ in 0..2 {
        rt.block_on(t.save_category_on_server(None, "Cocktails", Some("3c1f7a2e")))
            .unwrap();
    }
    let admin = t.catalogue_admin().unwrap();
    assert_eq!(
        admin
            .categories
            .iter()
            .filter(|c| c.name == "Cocktails")
            .count(),
        1
    );
    let cocktails = admin
        .categories
        .iter()
        .find(|c| c.name == "Cocktails")
        .unwrap()
        .id
        .clone();
    let admin = rt
        .block_on(t.remove_category_on_server(&cocktails))
        .unwrap();
    assert_eq!(ids(&admin), order);
    assert!(!event.manage_get(&server, "categories").contains(&cocktails));

    // Removed on the server by someone else: gone here after a pull.
    let admin_api = |method: reqwest::Method, path: &str, body: Option<serde_json::Value>| {
        let request = server
            .blocking_client()
            .request(
                method,
                format!("{}/api/v1/events/{}/manage/{path}", server.base(), event.id),
            )
            .bearer_auth(&event.admin_token);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        request.send().unwrap().status().as_u16()
    };
    assert_eq!(
        admin_api(
            reqwest::Method::POST,
            "categories",
            Some(serde_json::json!({"id": "c-extra", "name": "Extra", "position": 99}))
        ),
        200
    );
    wait("the new category on the till", || {
        till.handle.sync_now();
        ids(&t.catalogue_admin().unwrap()).contains(&"c-extra".to_string())
    });
    assert_eq!(
        admin_api(reqwest::Method::DELETE, "categories/c-extra", None),
        200
    );
    wait("the removed category gone from the till", || {
        till.handle.sync_now();
        !ids(&t.catalogue_admin().unwrap()).contains(&"c-extra".to_string())
    });

    // A badge tapped here goes to the server; it logs Sue in.
    let badge = "04B0000000BB02";
    till.tap(badge);
    let staff = rt
        .block_on(t.set_staff_badge_on_server("sue", Some(badge)))
        .unwrap();
    let sue = staff.iter().find(|s| s.id == "sue").unwrap();
    assert_eq!(sue.badge_masked.as_deref(), Some("••••BB02"));
    assert!(event.manage_get(&server, "staff").contains("••••BB02"));
    t.lock().unwrap();
    till.tap(badge);
    assert_eq!(
        t.login_with_badge(badge).unwrap().cashier.unwrap().name,
        "Sue"
    );
    t.lock().unwrap();
    // Moved to Anna on the server: after a pull it logs Anna in, not Sue
    // (Anna's record comes first in the catalogue, while Sue still has it
    // on the till).
    assert_eq!(
        admin_api(
            reqwest::Method::PUT,
            "staff/sue/badge",
            Some(serde_json::json!({ "badge": null }))
        ),
        200
    );
    assert_eq!(
        admin_api(
            reqwest::Method::PUT,
            "staff/anna/badge",
            Some(serde_json::json!({ "badge": badge }))
        ),
        200
    );
    wait("the badge moved to Anna on the till", || {
        till.handle.sync_now();
        till.tap(badge);
        let who = t
            .login_with_badge(badge)
            .ok()
            .and_then(|s| s.cashier)
            .map(|c| c.name);
        let _ = t.lock();
        who.as_deref() == Some("Anna")
    });
}
