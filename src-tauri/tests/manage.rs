//! The manager screens' commands without a window: roles checked in Rust,
//! reports and exports from the real ledger, catalogue, staff, wallets and
//! settings written where they belong.

use tapster_app::error::ErrorCode;
use tapster_app::view::{
    ExportFormat, ProductForm, ReportQuery, ReportSource, Role, SettingsForm, StaffForm, Tender,
};

mod common;
use common::*;

fn whole_event() -> ReportQuery {
    ReportQuery {
        source: ReportSource::Till,
        from_ms: None,
        until_ms: None,
        terminal: None,
        cashier: None,
    }
}

/// Anna sells 2 beers and a cola for cash, Ben a water by wristband.
fn a_little_evening(f: &Fixture) {
    let t = &f.terminal;
    t.login("1111").unwrap();
    t.open_shift(50_00, "open-anna").unwrap();
    block(t.pay(
        &items(&[("beer", 2), ("cola", 1)]),
        Tender::Cash,
        None,
        "sale-anna",
        None,
    ))
    .unwrap();
    t.close_shift(50_00 + 19_50, "close-anna").unwrap();
    t.login("2222").unwrap();
    t.open_shift(0, "open-ben").unwrap();
    tap(f, BAND);
    block(t.pay(
        &items(&[("water", 1)]),
        Tender::Wallet,
        Some(BAND),
        "sale-ben",
        None,
    ))
    .unwrap();
}

#[test]
fn manager_screens_are_refused_by_role_in_rust() {
    let f = start(|_| {});
    let t = &f.terminal;
    assert_eq!(
        t.manager_report(&whole_event()).unwrap_err().code,
        ErrorCode::NotLoggedIn
    );
    // A cashier: none of it.
    t.login("1111").unwrap();
    for refused in [
        t.manager_report(&whole_event()).map(|_| ()),
        t.catalogue_admin().map(|_| ()),
        t.staff_list().map(|_| ()),
        t.manage_wallet(BAND).map(|_| ()),
        t.set_wallet_blocked(BAND, true).map(|_| ()),
        t.sync_overview().map(|_| ()),
        t.terminals().map(|_| ()),
        t.settings().map(|_| ()),
        t.test_drawer("tcp://127.0.0.1:9").map(|_| ()),
    ] {
        assert_eq!(refused.unwrap_err().code, ErrorCode::RoleNotPermitted);
    }
    // A supervisor: reports, wallets, terminals, sync, not the rest.
    t.login("3333").unwrap();
    t.manager_report(&whole_event()).unwrap();
    t.manage_wallet(BAND).unwrap();
    t.sync_overview().unwrap();
    t.terminals().unwrap();
    assert_eq!(
        t.catalogue_admin().unwrap_err().code,
        ErrorCode::RoleNotPermitted
    );
    assert_eq!(
        t.staff_list().unwrap_err().code,
        ErrorCode::RoleNotPermitted
    );
    assert_eq!(t.settings().unwrap_err().code, ErrorCode::RoleNotPermitted);
    assert_eq!(
        block(t.payouts_on_server()).unwrap_err().code,
        ErrorCode::RoleNotPermitted,
        "paying balances back by bank is a manager's"
    );
    // A manager: everything.
    t.login("4444").unwrap();
    t.catalogue_admin().unwrap();
    t.staff_list().unwrap();
    t.settings().unwrap();
    assert_eq!(
        block(t.payouts_on_server()).unwrap_err().code,
        ErrorCode::ServerOwned,
        "payouts live on the event's server"
    );
    assert!(!t.wallet(BAND).unwrap().blocked, "nothing was changed");
}

#[test]
fn the_report_adds_up_filters_and_exports_as_pdf_and_csv() {
    let f = start(|_| {});
    a_little_evening(&f);
    let t = &f.terminal;
    t.login("3333").unwrap();
    let report = t.manager_report(&whole_event()).unwrap();
    assert_eq!(report.sales_count, 2);
    // 2 × 5.00 beer + 3.50 cola + 2.50 water; deposits are not revenue.
    assert_eq!(report.revenue_cents, 2 * 5_00 + 3_50 + 2_50, "{report:#?}");
    let beer = report.by_product.iter().find(|r| r.key == "beer").unwrap();
    assert_eq!((beer.count, beer.amount_cents), (2, 10_00));
    assert_eq!(
        report.by_hour.iter().map(|h| h.amount_cents).sum::<i64>(),
        report.revenue_cents
    );
    assert_eq!(
        report
            .by_vat_rate
            .iter()
            .map(|v| v.gross_cents)
            .sum::<i64>(),
        report.revenue_cents
    );
    assert_eq!(report.by_cashier.len(), 2);
    assert!(report.cashiers.iter().any(|c| c.id == "ben"));
    assert!(!report.event_available, "standalone: no event report");
    assert!(report.deposits_issued.count >= 4);

    let only_ben = t
        .manager_report(&ReportQuery {
            cashier: Some("ben".into()),
            ..whole_event()
        })
        .unwrap();
    assert_eq!((only_ben.sales_count, only_ben.revenue_cents), (1, 2_50));
    let later = t
        .manager_report(&ReportQuery {
            from_ms: Some(report.generated_at_ms + 60_000),
            ..whole_event()
        })
        .unwrap();
    assert_eq!(later.sales_count, 0);
    assert_eq!(
        t.manager_report(&ReportQuery {
            source: ReportSource::Event,
            ..whole_event()
        })
        .unwrap_err()
        .code,
        ErrorCode::ServerOwned
    );

    let exports = tempfile::tempdir().unwrap();
    let out = exports.path().to_path_buf();
    std::fs::create_dir_all(f.dir.path().join("config")).unwrap();
    let pdf = out.join("report.pdf");
    let written = t
        .export_report(&whole_event(), ExportFormat::Pdf, &pdf)
        .unwrap();
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    assert_eq!(written.bytes, bytes.len() as i64);
    let text = std::process::Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is installed by the setup script");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Umsatz") && text.contains("16,00"), "{text}");

    let csv = out.join("report.csv");
    t.export_report(
        &ReportQuery {
            cashier: Some("anna".into()),
            ..whole_event()
        },
        ExportFormat::Csv,
        &csv,
    )
    .unwrap();
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.starts_with('\u{FEFF}'), "German CSV for spreadsheets");
    assert!(csv.contains("13,50") && !csv.contains("Wasser"), "{csv}");
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        2,
        "no half-written file is left"
    );
    // Only .pdf/.csv files as the format, never among the app's own files.
    for (format, path) in [
        (ExportFormat::Csv, out.join("report.pdf")),
        (ExportFormat::Pdf, out.join("report")),
        (ExportFormat::Csv, f.dir.path().join("ledger.csv")),
        (ExportFormat::Csv, f.dir.path().join("config/x.csv")),
        (ExportFormat::Csv, out.clone()),
    ] {
        let refused = t.export_report(&whole_event(), format, &path).unwrap_err();
        assert_eq!(
            refused.code,
            ErrorCode::InvalidInput,
            "{path:?}: {refused:?}"
        );
    }
    assert!(std::fs::read(out.join("report.pdf"))
        .unwrap()
        .starts_with(b"%PDF"));
    let nowhere = t
        .export_report(
            &whole_event(),
            ExportFormat::Csv,
            &f.dir.path().join("missing/dir/r.csv"),
        )
        .unwrap_err();
    assert_eq!(nowhere.code, ErrorCode::SaveFailed);
    assert_eq!(
        t.export_report(&whole_event(), ExportFormat::Csv, "relative.csv".as_ref())
            .unwrap_err()
            .code,
        ErrorCode::InvalidInput
    );
}

fn new_product(name: &str, price_cents: i64) -> ProductForm {
    ProductForm {
        id: None,
        creation_key: None,
        name: name.into(),
        subtitle: Some("0,3 l".into()),
        category: "soft".into(),
        price_cents,
        vat_basis_points: 1900,
        background: "#2266aa".into(),
        text_colour: "#ffffff".into(),
        sale_price_cents: None,
        on_sale: false,
        use_stock: true,
        stock: 24,
        available_from_ms: None,
        available_until_ms: None,
        deposit_product: Some("cup".into()),
        returnable: false,
        archived: false,
        thumbnail_url: None,
        ribbon_colour: None,
        sale_text: None,
        description: None,
    }
}

#[test]
fn the_catalogue_editor_changes_what_the_grid_sells() {
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("4444").unwrap();
    let before = t.catalogue_admin().unwrap();
    assert!(!before.edits_go_to_server);
    assert!(before.vat_rates.contains(&700) && before.vat_rates.contains(&1900));

    let admin = t.save_product(&new_product("Mate", 3_80)).unwrap();
    let mate = admin.products.iter().find(|p| p.name == "Mate").unwrap();
    let id = mate.id.clone().unwrap();
    assert!(id.starts_with("mate-"), "{id}");
    assert_eq!(
        admin.layout.last(),
        Some(&id),
        "new products join the grid at the end"
    );
    let grid = t.catalog().unwrap();
    let sold = grid.products.iter().find(|p| p.id == id).unwrap();
    assert_eq!((sold.price_cents, sold.stock), (3_80, Some(24)));
    // A new product saved twice with its form's key (the first answer
    // never reached the screen) is one product, once on the grid.
    let club_mate = ProductForm {
        creation_key: Some("form-opened-once".into()),
        ..new_product("Club-Mate", 3_50)
    };
    t.save_product(&club_mate).unwrap();
    let admin = t.save_product(&club_mate).unwrap();
    let made: Vec<_> = admin
        .products
        .iter()
        .filter(|p| p.name == "Club-Mate")
        .collect();
    assert_eq!(made.len(), 1, "{made:?}");
    let club_id = made[0].id.clone().unwrap();
    assert_eq!(admin.layout.iter().filter(|p| **p == club_id).count(), 1);
    assert_eq!(sold.deposit_cents, Some(2_00));

    // A new price counts for the next quote; an invalid form writes nothing.
    t.save_product(&ProductForm {
        id: Some(id.clone()),
        price_cents: 4_20,
        ..mate.clone()
    })
    .unwrap();
    t.open_shift(0, "open-max").unwrap();
    let quote = t.quote(&items(&[(id.as_str(), 1)])).unwrap();
    assert_eq!(quote.total_cents, 4_20 + 2_00);
    for broken in [
        ProductForm {
            background: "blue".into(),
            ..mate.clone()
        },
        ProductForm {
            name: " ".into(),
            ..mate.clone()
        },
        ProductForm {
            price_cents: -1,
            ..mate.clone()
        },
        ProductForm {
            category: "nope".into(),
            ..mate.clone()
        },
        ProductForm {
            deposit_product: Some("beer".into()),
            ..mate.clone()
        },
    ] {
        let refused = t
            .save_product(&ProductForm {
                id: Some(id.clone()),
                ..broken
            })
            .unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidInput, "{refused:?}");
    }
    let unchanged = t.catalogue_admin().unwrap();
    let now = unchanged
        .products
        .iter()
        .find(|p| p.id.as_deref() == Some(&id))
        .unwrap();
    assert_eq!(
        (now.price_cents, now.background.as_str()),
        (4_20, "#2266AA")
    );

    // Move it to the front of the grid, then archive it: off the grid.
    let mut admin = t.catalogue_admin().unwrap();
    while admin.layout.first() != Some(&id) {
        admin = t.move_in_layout(&id, -1).unwrap();
    }
    assert_eq!(t.catalog().unwrap().products[0].id, id);
    t.save_product(&ProductForm {
        id: Some(id.clone()),
        archived: true,
        ..now.clone()
    })
    .unwrap();
    assert!(!t.catalog().unwrap().products.iter().any(|p| p.id == id));
    let admin = t.catalogue_admin().unwrap();
    assert!(admin.products.last().unwrap().archived, "archived last");

    let admin = t.save_category(None, "Cocktails", None).unwrap();
    let cocktails = admin
        .categories
        .iter()
        .find(|c| c.name == "Cocktails")
        .unwrap();
    let admin = t
        .save_category(Some(&cocktails.id), "Longdrinks", None)
        .unwrap();
    assert!(admin.categories.iter().any(|c| c.name == "Longdrinks"));
}

#[test]
fn staff_get_roles_and_pins_and_the_last_manager_stays() {
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("4444").unwrap();
    let added = t
        .save_staff(&StaffForm {
            creation_key: None,
            id: None,
            name: "Lena".into(),
            role: Role::Cashier,
            pin: Some("5678".into()),
            active: true,
        })
        .unwrap();
    let lena = added.iter().find(|s| s.name == "Lena").unwrap().clone();
    assert_eq!(
        t.save_staff(&StaffForm {
            creation_key: None,
            id: None,
            name: "Twin".into(),
            role: Role::Cashier,
            pin: Some("1111".into()),
            active: true,
        })
        .unwrap_err()
        .code,
        ErrorCode::InvalidInput,
        "a PIN logs in alone: it must be unique"
    );
    assert_eq!(
        t.save_staff(&StaffForm {
            creation_key: None,
            id: None,
            name: "No Pin".into(),
            role: Role::Cashier,
            pin: None,
            active: true,
        })
        .unwrap_err()
        .code,
        ErrorCode::InvalidInput
    );
    // The only manager cannot demote or deactivate themselves.
    for (role, active) in [(Role::Supervisor, true), (Role::Manager, false)] {
        let refused = t
            .save_staff(&StaffForm {
                creation_key: None,
                id: Some("max".into()),
                name: "Max".into(),
                role,
                pin: None,
                active,
            })
            .unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidInput, "{refused:?}");
    }
    // Lena becomes manager and gets a new PIN; then Max steps down, and his
    // open session loses the manager screens at once.
    t.save_staff(&StaffForm {
        creation_key: None,
        id: Some(lena.id.clone()),
        name: "Lena K.".into(),
        role: Role::Manager,
        pin: Some("8765".into()),
        active: true,
    })
    .unwrap();
    t.save_staff(&StaffForm {
        creation_key: None,
        id: Some("max".into()),
        name: "Max".into(),
        role: Role::Cashier,
        pin: None,
        active: true,
    })
    .unwrap();
    assert_eq!(
        t.staff_list().unwrap_err().code,
        ErrorCode::RoleNotPermitted
    );
    assert_eq!(t.session().unwrap().cashier.unwrap().role, Role::Cashier);
    assert_eq!(
        t.login("5678").unwrap_err().code,
        ErrorCode::WrongPin,
        "old PIN"
    );
    let session = t.login("8765").unwrap();
    let me = session.cashier.unwrap();
    assert_eq!((me.name.as_str(), me.role), ("Lena K.", Role::Manager));
}

#[test]
fn wallets_are_blocked_paid_out_only_on_a_tap_and_moved_only_by_a_server() {
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("3333").unwrap();
    let blocked = t.set_wallet_blocked(BAND, true).unwrap();
    assert!(blocked.blocked);
    t.login("1111").unwrap();
    t.open_shift(0, "open-anna").unwrap();
    tap(&f, BAND);
    let refused = block(t.pay(
        &items(&[("water", 1)]),
        Tender::Wallet,
        Some(BAND),
        "sale-blocked",
        None,
    ))
    .unwrap_err();
    assert_eq!(refused.code, ErrorCode::WalletBlocked);
    t.login("3333").unwrap();
    let wallet = t.set_wallet_blocked(BAND, false).unwrap();
    assert!(!wallet.blocked);
    let balance = wallet.balance_cents;
    assert!(balance > 0);
    // A payout needs the wristband on the reader.
    assert_eq!(
        block(t.payout_wallet(BAND, Tender::Cash, "payout-1"))
            .unwrap_err()
            .code,
        ErrorCode::NoTap
    );
    tap(&f, BAND);
    let paid = block(t.payout_wallet(BAND, Tender::Cash, "payout-1")).unwrap();
    assert_eq!(paid.amount_cents, -balance);
    assert_eq!(t.manage_wallet(BAND).unwrap().balance_cents, 0);
    tap(&f, "04D3FFFFFFFFFF");
    assert_eq!(
        t.move_wallet(BAND, "04D3FFFFFFFFFF").unwrap_err().code,
        ErrorCode::ServerOwned
    );
    assert_eq!(
        t.manage_wallet("not a uid").unwrap_err().code,
        ErrorCode::InvalidInput
    );
}

#[test]
fn settings_are_saved_where_they_belong_and_the_printer_can_be_tried() {
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("4444").unwrap();
    let view = t.settings().unwrap();
    assert!(!view.event_settings_from_server);
    let (printer, received) = listening_printer();
    let form = SettingsForm {
        printer: Some(printer.clone()),
        paper_mm: 58,
        lock_after_secs: 120,
        receipt_header: "Bar Nord\nTel. 0123".into(),
        receipt_footer: "Prost!".into(),
        offline_per_sale_cents: 30_00,
        ..view.form.clone()
    };
    let saved = t.save_settings(&form).unwrap();
    assert!(saved.restart_needed);
    assert_eq!(saved.view.form.receipt_header, "Bar Nord\nTel. 0123");
    assert_eq!(saved.view.form.offline_per_sale_cents, 30_00);
    let file = std::fs::read_to_string(f.dir.path().join("config/tapster.toml")).unwrap();
    assert!(
        file.contains(&printer)
            && file.contains("paper = \"58\"")
            && file.contains("lock_after = 120"),
        "{file}"
    );
    // The event's receipt texts count at once.
    t.open_shift(0, "open-max").unwrap();
    let done = block(t.pay(&items(&[("water", 1)]), Tender::Cash, None, "sale-1", None)).unwrap();
    assert!(
        done.receipt.text.contains("Bar Nord"),
        "{}",
        done.receipt.text
    );
    assert!(done.receipt.text.contains("Prost!"));

    for bad in [
        SettingsForm {
            printer: Some("lpt1".into()),
            ..form.clone()
        },
        SettingsForm {
            paper_mm: 72,
            ..form.clone()
        },
        SettingsForm {
            lock_after_secs: 0,
            ..form.clone()
        },
    ] {
        assert!(t.save_settings(&bad).is_err());
    }
    assert_eq!(
        t.settings().unwrap().form.paper_mm,
        58,
        "saved (not the refused ones) and read back"
    );

    t.test_print(&printer, 58).unwrap();
    let bytes = received.join().unwrap();
    assert!(bytes.starts_with(&[0x1B, b'@']), "ESC @ first");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("TESTBELEG"),
        "the test receipt's text: {text:?}"
    );
    let (drawer, received) = listening_printer();
    t.test_drawer(&drawer).unwrap();
    assert_eq!(received.join().unwrap(), vec![0x1B, b'p', 0, 25, 250]);
    assert_eq!(
        t.test_print("tcp://127.0.0.1:9", 80).unwrap_err().code,
        ErrorCode::PrinterProblem
    );
}

#[test]
fn the_sync_screen_of_a_standalone_till_shows_its_own_figures() {
    let f = start(|_| {});
    a_little_evening(&f);
    let t = &f.terminal;
    t.login("3333").unwrap();
    let sync = t.sync_overview().unwrap();
    assert_eq!(sync.pending, 0);
    assert!(sync.rejected.is_empty() && !sync.from_server);
    let terminals = t.terminals().unwrap();
    assert_eq!(terminals.len(), 1);
    assert!(terminals[0].this_till);
}

#[test]
fn a_new_till_becomes_a_standalone_event_with_its_first_manager() {
    let f = start(|o| o.demo = false);
    let t = &f.terminal;
    assert!(t.session().unwrap().needs_setup);
    for (event, manager, pin) in [("", "Mia", "2468"), ("Sommerfest", "Mia", "12")] {
        assert_eq!(
            t.setup_standalone(event, manager, pin).unwrap_err().code,
            ErrorCode::InvalidInput
        );
    }
    let session = t.setup_standalone(" Sommerfest ", "Mia", "2468").unwrap();
    assert!(!session.needs_setup);
    assert_eq!(session.event_name, "Sommerfest");
    assert!(session.cashier.is_none(), "the manager logs in next");
    assert_eq!(
        t.setup_standalone("Again", "Eve", "1357").unwrap_err().code,
        ErrorCode::RoleNotPermitted,
        "only a till never set up"
    );
    // Mia logs in and builds the bar: a category, a product, a cashier.
    let me = t.login("2468").unwrap().cashier.unwrap();
    assert_eq!((me.name.as_str(), me.role), ("Mia", Role::Manager));
    let admin = t.save_category(None, "Getränke", None).unwrap();
    let drinks = admin
        .categories
        .iter()
        .find(|c| c.name == "Getränke")
        .unwrap()
        .id
        .clone();
    t.save_product(&ProductForm {
        category: drinks,
        deposit_product: None,
        use_stock: false,
        ..new_product("Apfelschorle", 3_00)
    })
    .unwrap();
    t.save_staff(&StaffForm {
        creation_key: None,
        id: None,
        name: "Tom".into(),
        role: Role::Cashier,
        pin: Some("1357".into()),
        active: true,
    })
    .unwrap();
    let grid = t.catalog().unwrap();
    assert_eq!(grid.products.len(), 1);
    assert_eq!(grid.products[0].name, "Apfelschorle");
    assert_eq!(t.login("1357").unwrap().cashier.unwrap().name, "Tom");
}

#[test]
fn categories_move_and_go_when_empty_on_a_standalone_till() {
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("4444").unwrap();
    let names = |admin: &tapster_app::view::CatalogueAdmin| -> Vec<String> {
        admin.categories.iter().map(|c| c.id.clone()).collect()
    };
    let before = names(&t.catalogue_admin().unwrap());
    let admin = t.move_category(&before[1], -1).unwrap();
    let mut expected = before.clone();
    expected.swap(0, 1);
    assert_eq!(names(&admin), expected);
    // Past either end it stays put.
    assert_eq!(names(&t.move_category(&expected[0], -1).unwrap()), expected);

    let refused = t.remove_category("beer").unwrap_err();
    assert_eq!(refused.code, ErrorCode::CategoryNotEmpty, "{refused:?}");
    let admin = t.save_category(None, "Cocktails", None).unwrap();
    let cocktails = admin
        .categories
        .iter()
        .find(|c| c.name == "Cocktails")
        .unwrap()
        .id
        .clone();
    let admin = t.remove_category(&cocktails).unwrap();
    assert!(!admin.categories.iter().any(|c| c.id == cocktails));
    assert_eq!(names(&admin), expected);

    // A cashier may do neither.
    t.lock().unwrap();
    t.login("1111").unwrap();
    assert_eq!(
        t.move_category(&expected[0], 1).unwrap_err().code,
        ErrorCode::RoleNotPermitted
    );
    assert_eq!(
        t.remove_category(&expected[0]).unwrap_err().code,
        ErrorCode::RoleNotPermitted
    );
}

#[test]
fn a_badge_is_paired_only_by_a_tap_and_then_logs_its_holder_in() {
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("4444").unwrap();
    let badge = "04B0000000AA01";
    assert_eq!(
        t.set_staff_badge("anna", Some(badge)).unwrap_err().code,
        ErrorCode::NoTap,
        "a UID read off a receipt is not enough"
    );
    tap(&f, badge);
    let staff = t.set_staff_badge("anna", Some(badge)).unwrap();
    let anna = staff.iter().find(|s| s.id == "anna").unwrap();
    assert_eq!(anna.badge_masked.as_deref(), Some("••••AA01"));
    tap(&f, badge);
    assert_eq!(
        t.set_staff_badge("ben", Some(badge)).unwrap_err().code,
        ErrorCode::BadgeInUse
    );

    t.lock().unwrap();
    tap(&f, badge);
    let session = t.login_with_badge(badge).unwrap();
    assert_eq!(session.cashier.unwrap().name, "Anna");
    t.lock().unwrap();

    t.login("4444").unwrap();
    let staff = t.set_staff_badge("anna", None).unwrap();
    assert!(staff.iter().all(|s| s.badge_masked.is_none()));
    t.lock().unwrap();
    tap(&f, badge);
    assert!(t.login_with_badge(badge).is_err());
}

/// A standalone till keeps its own trail: each manager action and each
/// shift close once, with who did it; the Audit tab reads it, checks its
/// chain and exports it; a cashier may not.
#[test]
fn a_standalone_tills_audit_tab_shows_who_did_what_here() {
    use tapster_app::view::AuditForm;
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("4444").unwrap();
    // What the setup of this till left in the trail already.
    let earlier = block(t.audit_trail(&AuditForm::default())).unwrap().total;
    let admin = t.save_product(&new_product("Mate", 3_80)).unwrap();
    let mate = admin
        .products
        .iter()
        .find(|p| p.name == "Mate")
        .unwrap()
        .clone();
    t.save_product(&ProductForm {
        price_cents: 4_20,
        ..mate.clone()
    })
    .unwrap();
    let admin = t.save_category(None, "Cocktails", Some("k-1")).unwrap();
    let cocktails = admin
        .categories
        .iter()
        .find(|c| c.name == "Cocktails")
        .unwrap()
        .id
        .clone();
    t.move_category(&cocktails, -1).unwrap();
    t.remove_category(&cocktails).unwrap();
    let lena = StaffForm {
        creation_key: Some("lena".into()),
        id: None,
        name: "Lena".into(),
        role: Role::Cashier,
        pin: Some("5678".into()),
        active: true,
    };
    t.save_staff(&lena).unwrap();
    // Saved again (a second tap): one Lena, one record.
    let staff = t.save_staff(&lena).unwrap();
    assert_eq!(staff.iter().filter(|s| s.name == "Lena").count(), 1);
    t.save_staff(&StaffForm {
        creation_key: None,
        id: Some("anna".into()),
        name: "Anna".into(),
        role: Role::Supervisor,
        pin: Some("9753".into()),
        active: true,
    })
    .unwrap();
    t.set_wallet_blocked(BAND, true).unwrap();
    let settings = t.settings().unwrap();
    t.save_settings(&SettingsForm {
        receipt_footer: "Danke!".into(),
        ..settings.form
    })
    .unwrap();
    // Max closes his own shift (opened at start).
    t.open_shift(0, "open-max").unwrap();
    t.close_shift(0, "close-max").unwrap();

    let audit = block(t.audit_trail(&AuditForm::default())).unwrap();
    assert!(audit.intact, "{audit:?}");
    let done: Vec<(&str, &str)> = audit
        .rows
        .iter()
        .rev()
        .filter(|r| r.seq > earlier)
        .map(|r| (r.action.as_str(), r.actor.as_str()))
        .collect();
    assert_eq!(
        done,
        [
            ("product_created", "Max"),
            ("product_changed", "Max"),
            ("category_saved", "Max"),
            ("categories_reordered", "Max"),
            ("category_removed", "Max"),
            ("staff_created", "Max"),
            ("staff_changed", "Max"),
            ("wallet_blocked", "Max"),
            ("settings_changed", "Max"),
            ("shift_closed", "Max"),
        ]
    );
    let row = |action: &str| {
        audit
            .rows
            .iter()
            .find(|r| r.action == action && r.seq > earlier)
            .unwrap()
    };
    assert!(
        row("product_changed").detail.contains("[380,420]"),
        "{:?}",
        row("product_changed")
    );
    let anna = row("staff_changed");
    assert!(anna.detail.contains("pin_changed") && anna.detail.contains("supervisor"));
    assert!(
        !audit
            .rows
            .iter()
            .any(|r| r.detail.contains("9753") || r.detail.contains("5678")),
        "never a PIN"
    );
    assert_eq!(row("wallet_blocked").wallet, BAND);
    assert!(row("settings_changed").detail.contains("Danke!"));
    assert_eq!(row("shift_closed").terminal, "Bar Nord");

    // Filters and the export.
    let payouts = block(t.audit_trail(&AuditForm {
        action: "shift_closed".into(),
        ..AuditForm::default()
    }))
    .unwrap();
    assert_eq!(payouts.rows.len() as i64, 1 + earlier);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.csv");
    block(t.save_audit_csv(&AuditForm::default(), &path)).unwrap();
    let csv = std::fs::read_to_string(&path).unwrap();
    assert!(csv.starts_with("seq,time_utc,actor_kind"), "{csv}");
    assert_eq!(csv.lines().count() as i64, 1 + audit.total, "{csv}");
    assert!(
        csv.lines().nth(1).unwrap().starts_with("1,"),
        "oldest first"
    );

    // A supervisor (Anna, now) sees none of it.
    t.lock().unwrap();
    t.login("9753").unwrap();
    assert_eq!(
        block(t.audit_trail(&AuditForm::default()))
            .unwrap_err()
            .code,
        ErrorCode::RoleNotPermitted
    );
}
