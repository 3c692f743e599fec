//! The app's commands without a window: the same `Terminal` the Tauri
//! commands call, on a real ledger file. Security and money rules are
//! enforced here, whatever the UI does.

use std::time::Duration;

use tapster_app::error::ErrorCode;
use tapster_app::terminal::{AppEvent, Terminal};
use tapster_app::view::{PrinterState, Tender};
use tapster_ledger::demo;
use tapster_print::PrinterUri;

mod common;
use common::*;

#[test]
fn nothing_happens_without_a_login_and_the_session_locks_when_idle() {
    let f = start(|o| o.lock_after = Duration::from_millis(300));
    let t = &f.terminal;
    let refused = block(t.pay(&items(&[("beer", 1)]), Tender::Cash, None, "k1", None)).unwrap_err();
    assert_eq!(refused.code, ErrorCode::NotLoggedIn);
    assert_eq!(t.wallet(BAND).unwrap_err().code, ErrorCode::NotLoggedIn);
    assert_eq!(t.login("9999").unwrap_err().code, ErrorCode::WrongPin);
    assert_eq!(t.login("12").unwrap_err().code, ErrorCode::WrongPin);
    let session = t.login("1111").unwrap();
    assert_eq!(session.cashier.unwrap().name, "Anna");
    assert!(session.shift.is_none(), "no shift yet");
    assert_eq!(
        block(t.pay(&items(&[("beer", 1)]), Tender::Cash, None, "k2", None))
            .unwrap_err()
            .code,
        ErrorCode::NoOpenShift
    );
    t.open_shift(100_00, "open-1").unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(t.wallet(BAND).unwrap_err().code, ErrorCode::NotLoggedIn);
    assert!(
        t.session().unwrap().cashier.is_none(),
        "locked after inactivity"
    );
}

#[test]
fn a_wristband_pays_once_per_key_and_a_refusal_says_what_is_missing() {
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("1111").unwrap();
    t.open_shift(0, "open-2").unwrap();
    let cart = items(&[("beer", 2), ("cola", 1)]);
    let quote = t.quote(&cart).unwrap();
    assert_eq!(quote.total_cents, 19_50);
    assert_eq!(quote.deposit_cents, 6_00);
    // A total other than what the cart costs now is refused, and the tap
    // stays good for the corrected payment.
    tap(&f, BAND);
    let stale = block(t.pay(&cart, Tender::Wallet, Some(BAND), "sale-0", Some(19_00))).unwrap_err();
    assert_eq!(stale.code, ErrorCode::PriceChanged);
    let paid0 = block(t.pay(&cart, Tender::Wallet, Some(BAND), "sale-0", Some(19_50))).unwrap();
    assert_eq!(paid0.amount_cents, -19_50);
    let refund = t.cancel_last("undo-0").unwrap();
    assert_eq!(refund.amount_cents, 19_50);
    // Without the wristband on the reader nothing is charged.
    let untapped = block(t.pay(&cart, Tender::Wallet, Some(BAND), "sale-1", None)).unwrap_err();
    assert_eq!(untapped.code, ErrorCode::NoTap);
    tap(&f, BAND);
    let paid = block(t.pay(&cart, Tender::Wallet, Some(BAND), "sale-1", None)).unwrap();
    assert_eq!(paid.amount_cents, -19_50);
    assert_eq!(paid.balance_after_cents, Some(50));
    assert!(paid.receipt.text.contains("SUMME"));
    assert!(!paid.receipt.queued, "no printer: shown on screen");
    // A tap pays once: a second payment needs a second tap.
    assert_eq!(
        block(t.pay(&cart, Tender::Wallet, Some(BAND), "sale-x", None))
            .unwrap_err()
            .code,
        ErrorCode::NoTap
    );
    // The same key again (a retry, after another tap): the same entry, not
    // a second charge; the same key for another cart is refused.
    tap(&f, BAND);
    let again = block(t.pay(&cart, Tender::Wallet, Some(BAND), "sale-1", None)).unwrap();
    assert_eq!(again.entry_id, paid.entry_id);
    assert_eq!(t.wallet(BAND).unwrap().balance_cents, 50);
    tap(&f, BAND);
    let conflict = block(t.pay(
        &items(&[("water", 1)]),
        Tender::Wallet,
        Some(BAND),
        "sale-1",
        None,
    ))
    .unwrap_err();
    assert_eq!(
        conflict.code,
        ErrorCode::IdempotencyConflict,
        "{conflict:?}"
    );
    // Not enough left.
    tap(&f, BAND);
    let refused = block(t.pay(
        &items(&[("beer", 1)]),
        Tender::Wallet,
        Some(BAND),
        "sale-2",
        None,
    ))
    .unwrap_err();
    assert_eq!(refused.code, ErrorCode::InsufficientFunds);
    assert_eq!(refused.missing_cents, Some(6_50));
    assert!(!refused.retryable);
    let wallet = t.wallet(BAND).unwrap();
    assert_eq!(wallet.deposits[0].count, 3);
    assert_eq!(wallet.token_masked, "••••0001");
}

#[test]
fn a_cashier_cancels_only_their_own_last_sale() {
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("1111").unwrap();
    t.open_shift(0, "open-3").unwrap();
    assert_eq!(
        t.cancel_last("c0").unwrap_err().code,
        ErrorCode::NothingToCancel
    );
    block(t.pay(&items(&[("fries", 1)]), Tender::Cash, None, "s1", None)).unwrap();
    let cancelled = t.cancel_last("c1").unwrap();
    assert_eq!(cancelled.kind, "cancel");
    assert_eq!(cancelled.amount_cents, 4_00);
    assert_eq!(
        t.cancel_last("c2").unwrap_err().code,
        ErrorCode::AlreadyCancelled
    );
    // Ben, on Anna's terminal while her shift is open, can neither sell nor cancel.
    t.lock().unwrap();
    t.login("2222").unwrap();
    let session = t.session().unwrap();
    assert!(!session.shift.unwrap().mine);
    assert_eq!(
        block(t.pay(&items(&[("fries", 1)]), Tender::Cash, None, "s2", None))
            .unwrap_err()
            .code,
        ErrorCode::ShiftOfAnotherCashier
    );
    assert_eq!(
        t.cancel_last("c3").unwrap_err().code,
        ErrorCode::NothingToCancel
    );
}

#[test]
fn top_up_deposit_return_and_shift_close_add_up() {
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("1111").unwrap();
    t.open_shift(50_00, "open-4").unwrap();
    tap(&f, BAND);
    let topped = t.top_up(BAND, 30_00, Tender::Cash, "t1").unwrap();
    assert_eq!(topped.balance_after_cents, Some(50_00));
    tap(&f, BAND);
    block(t.pay(
        &items(&[("beer", 1)]),
        Tender::Wallet,
        Some(BAND),
        "s1",
        None,
    ))
    .unwrap();
    tap(&f, BAND);
    let cups = t
        .return_deposit(Some(BAND), 1, Tender::Wallet, "d1")
        .unwrap();
    assert_eq!(cups.amount_cents, 2_00);
    assert_eq!(cups.balance_after_cents, Some(45_00));
    tap(&f, BAND);
    let too_many = t
        .return_deposit(Some(BAND), 1, Tender::Wallet, "d2")
        .unwrap_err();
    assert_eq!(too_many.code, ErrorCode::DepositReturnExceeded);
    // 50 float + 30 cash top-up.
    let closed = t.close_shift(79_00, "close-1").unwrap();
    assert_eq!(closed.expected_cents, 80_00);
    assert_eq!(closed.difference_cents, -1_00);
    assert!(closed.receipt.text.contains("Z-BERICHT"));
    assert!(t.session().unwrap().shift.is_none());
}

/// A cashier left without closing: another cashier cannot close the
/// shift, a supervisor can — the drawer is counted, the Z report stays in
/// the cashier's name and says who closed it.
#[test]
fn a_supervisor_closes_a_shift_its_cashier_left_open() {
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("1111").unwrap();
    t.open_shift(20_00, "open-anna").unwrap();
    block(t.pay(&items(&[("fries", 1)]), Tender::Cash, None, "fries-1", None)).unwrap();
    t.lock().unwrap();

    t.login("2222").unwrap();
    let shift = t.session().unwrap().shift.unwrap();
    assert!(!shift.mine && !shift.closable, "a cashier cannot");
    let refused = t.close_shift(24_00, "close-ben").unwrap_err();
    assert_eq!(refused.code, ErrorCode::ShiftOfAnotherCashier);
    t.lock().unwrap();

    t.login("3333").unwrap();
    let shift = t.session().unwrap().shift.unwrap();
    assert_eq!(shift.cashier_name, "Anna");
    assert!(!shift.mine && shift.closable);
    let closed = t.close_shift(24_00, "close-sue").unwrap();
    assert_eq!((closed.expected_cents, closed.difference_cents), (24_00, 0));
    assert_eq!(closed.closed_by_name.as_deref(), Some("Sue"));
    assert!(
        closed.receipt.text.contains("Anna"),
        "{}",
        closed.receipt.text
    );
    assert!(
        closed
            .receipt
            .text
            .lines()
            .any(|line| line.starts_with("Geschlossen von:") && line.ends_with("Sue")),
        "{}",
        closed.receipt.text
    );
    assert!(t.session().unwrap().shift.is_none());
    // Her own shift's Z report names nobody else.
    t.open_shift(0, "open-sue").unwrap();
    let own = t.close_shift(0, "close-own").unwrap();
    assert_eq!(own.closed_by_name, None);
    assert!(!own.receipt.text.contains("Geschlossen von"));
}

#[test]
fn simulated_taps_reach_the_ui_only_in_demo_mode() {
    let f = start(|_| {});
    f.terminal.simulate_tap(BAND).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let tapped = f.events.lock().unwrap().iter().find_map(|e| match e {
            AppEvent::Tap(tap) => Some(tap.clone()),
            _ => None,
        });
        if let Some(tap) = tapped {
            assert_eq!(tap.token, BAND);
            assert_eq!(tap.token_masked, "••••0001");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no tap event");
        std::thread::sleep(Duration::from_millis(10));
    }
    let live = start(|o| {
        o.demo = false;
        o.simulated_reader = false;
    });
    assert_eq!(
        live.terminal.simulate_tap(BAND).unwrap_err().code,
        ErrorCode::NotInDemoMode
    );
    assert!(live.terminal.session().unwrap().demo.is_none());
    // Demo mode shows the demo staff's PINs, nothing else does.
    let demo_session = f.terminal.session().unwrap();
    assert_eq!(demo_session.demo.unwrap().staff.len(), demo::STAFF.len());
}

#[test]
fn a_dead_printer_never_blocks_a_sale() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let f = start(|o| {
        o.printer = Some(PrinterUri::Tcp {
            host: "127.0.0.1".into(),
            port,
        })
    });
    let t = &f.terminal;
    t.login("1111").unwrap();
    t.open_shift(0, "open-5").unwrap();
    let paid = block(t.pay(&items(&[("water", 1)]), Tender::Cash, None, "s1", None)).unwrap();
    assert!(
        paid.receipt.queued,
        "queued for the printer, not printed yet"
    );
    // The status bar learns that the printer is away and the receipt waits
    // (status updates arrive in order, each a little later).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let status = t.status();
        if status.printer == PrinterState::Offline && status.print_jobs_waiting >= 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{status:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_staff_badge_on_the_reader_logs_in_and_an_unknown_one_does_not() {
    let f = start(|_| {});
    let t = &f.terminal;
    let badge = "04BADE000000AA";
    t.ledger()
        .add_staff(&tapster_ledger::store::NewStaff {
            id: tapster_ledger::StaffId::new("lea").unwrap(),
            name: "Lea".into(),
            role: tapster_ledger::model::Role::Cashier,
            pin: tapster_ledger::pin::Pin::new("5555").unwrap(),
            badge: Some(tapster_ledger::TokenId::parse(badge).unwrap()),
        })
        .unwrap();
    // The badge id alone, without the badge on the reader, is not enough.
    assert_eq!(
        t.login_with_badge(badge).unwrap_err().code,
        ErrorCode::NoTap
    );
    tap(&f, badge);
    let session = t.login_with_badge(badge).unwrap();
    assert_eq!(session.cashier.unwrap().name, "Lea");
    t.lock().unwrap();
    tap(&f, BAND);
    assert_eq!(
        t.login_with_badge(BAND).unwrap_err().code,
        ErrorCode::UnknownBadge
    );
    assert!(t.session().unwrap().cashier.is_none());
}

#[test]
fn only_a_managers_pin_ends_kiosk_mode() {
    let kiosk = start(|o| o.kiosk = true);
    let t = &kiosk.terminal;
    assert!(t.session().unwrap().kiosk);
    assert_eq!(
        t.authorise_exit("1111").unwrap_err().code,
        ErrorCode::RoleNotPermitted
    );
    assert_eq!(
        t.authorise_exit("3333").unwrap_err().code,
        ErrorCode::RoleNotPermitted
    );
    assert_eq!(
        t.authorise_exit("9999").unwrap_err().code,
        ErrorCode::WrongPin
    );
    t.authorise_exit("4444").unwrap();
    // Outside kiosk mode the app closes like any other.
    let normal = start(|_| {});
    normal.terminal.authorise_exit("").unwrap();
}

#[test]
fn bad_input_gets_a_typed_error_and_writes_nothing() {
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("1111").unwrap();
    t.open_shift(0, "open-bad").unwrap();
    let entries = |t: &Terminal| {
        t.ledger()
            .reader()
            .unwrap()
            .recent_entries(None, 1000)
            .unwrap()
            .len()
    };
    let before = entries(t);
    let code =
        |r: Result<tapster_app::view::Done, tapster_app::error::AppError>| r.unwrap_err().code;
    // A wristband id that is no UID.
    assert_eq!(
        code(block(t.pay(
            &items(&[("beer", 1)]),
            Tender::Wallet,
            Some("not-hex!"),
            "b1",
            None
        ))),
        ErrorCode::InvalidInput
    );
    assert_eq!(
        code(t.top_up("04D3", 10_00, Tender::Cash, "b2")),
        ErrorCode::InvalidInput
    );
    // Quantities, products and amounts that make no sense.
    assert_eq!(
        code(block(t.pay(
            &items(&[("beer", 0)]),
            Tender::Cash,
            None,
            "b3",
            None
        ))),
        ErrorCode::InvalidQuantity
    );
    assert_eq!(
        code(block(t.pay(
            &items(&[("champagne", 1)]),
            Tender::Cash,
            None,
            "b4",
            None
        ))),
        ErrorCode::UnknownProduct
    );
    assert_eq!(
        code(block(t.pay(&items(&[]), Tender::Cash, None, "b5", None))),
        ErrorCode::EmptyCart
    );
    tap(&f, BAND);
    assert_eq!(
        code(t.top_up(BAND, -5_00, Tender::Cash, "b6")),
        ErrorCode::InvalidInput
    );
    assert_eq!(
        code(t.return_deposit(None, 0, Tender::Cash, "b7")),
        ErrorCode::InvalidQuantity
    );
    // An idempotency key that is no key.
    assert_eq!(
        code(block(t.pay(
            &items(&[("beer", 1)]),
            Tender::Cash,
            None,
            "",
            None
        ))),
        ErrorCode::InvalidInput
    );
    assert_eq!(entries(t), before, "nothing was written");
}

#[test]
fn a_ledger_changed_outside_tapster_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let start = |dir: &std::path::Path| Terminal::start(options(dir), std::sync::Arc::new(|_| {}));
    {
        let t = start(dir.path()).unwrap();
        t.login("1111").unwrap();
        t.open_shift(0, "open").unwrap();
        block(t.pay(&items(&[("water", 1)]), Tender::Cash, None, "sale-1", None)).unwrap();
    }
    assert!(start(dir.path()).is_ok(), "an untouched ledger starts");
    // Someone makes the water cheaper in the file (past the append-only
    // triggers, which a file editor can drop).
    let conn = rusqlite::Connection::open(dir.path().join("ledger.sqlite")).unwrap();
    conn.execute_batch("DROP TRIGGER entries_no_update;")
        .unwrap();
    let changed = conn
        .execute(
            "UPDATE entries SET amount = amount + 100 WHERE idempotency_key = 'sale-1'",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);
    let refused = start(dir.path())
        .err()
        .expect("a tampered ledger is refused");
    assert!(
        format!("{refused:#}").contains("hash-chain check"),
        "{refused:#}"
    );
    // What the window shows instead of the login.
    let shown = refused
        .downcast_ref::<tapster_app::terminal::LedgerTampered>()
        .expect("a typed refusal")
        .view();
    assert_eq!(shown.first_kind, "content_changed");
    assert_eq!(shown.problems, 1);
    assert!(shown.ledger_path.ends_with("ledger.sqlite"));
}

fn checked_tap(f: &Fixture, token: &str, band: tapster_nfc::ntag424::BandCheck) {
    let taps = |f: &Fixture| {
        f.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, AppEvent::Tap(_)))
            .count()
    };
    let before = taps(f);
    f.terminal.simulate_checked_tap(token, band).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while taps(f) == before {
        assert!(
            std::time::Instant::now() < deadline,
            "the tap never arrived"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn with_genuine_bands_required_a_clone_is_refused_recorded_and_books_nothing() {
    use tapster_nfc::ntag424::BandCheck;
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("4444").unwrap();
    t.open_shift(0, "open-genuine").unwrap();
    // The demo event takes UIDs; the manager requires genuine bands.
    let mut form = t.settings().unwrap().form;
    assert!(!form.genuine_bands_required);
    assert!(t.sync_overview().unwrap().uid_only, "a permanent warning");
    form.genuine_bands_required = true;
    t.save_settings(&form).unwrap();
    assert!(!t.sync_overview().unwrap().uid_only);
    let entries = || {
        t.ledger()
            .reader()
            .unwrap()
            .sales_report(&Default::default())
            .unwrap()
            .sales_count
    };
    let before = entries();
    let balance = t.wallet(BAND).unwrap().balance_cents;

    // A clone (its reason from the reader), then an unchecked tap: refused
    // for a payment and a top-up, nothing booked.
    let cart = items(&[("water", 1)]);
    checked_tap(
        &f,
        BAND,
        BandCheck::NotGenuine {
            reason: "a blank band (not encoded)".into(),
        },
    );
    let refused = block(t.pay(&cart, Tender::Wallet, Some(BAND), "clone-1", None)).unwrap_err();
    assert_eq!(refused.code, ErrorCode::WristbandNotGenuine);
    assert!(
        refused.message.contains("call the manager"),
        "{}",
        refused.message
    );
    tap(&f, BAND);
    let unchecked = t.top_up(BAND, 10_00, Tender::Cash, "clone-2").unwrap_err();
    assert_eq!(unchecked.code, ErrorCode::WristbandNotGenuine);
    assert_eq!(entries(), before, "nothing booked");
    assert_eq!(t.wallet(BAND).unwrap().balance_cents, balance);
    // The same key once the real band is tapped: paid.
    checked_tap(
        &f,
        BAND,
        BandCheck::Genuine {
            key_version: 1,
            rekey: false,
        },
    );
    let paid = block(t.pay(&cart, Tender::Wallet, Some(BAND), "clone-1", None)).unwrap();
    assert!(paid.amount_cents < 0);

    // The manager sees both refusals: which till, which band, why.
    let refusals = t.sync_overview().unwrap().refused_bands;
    assert_eq!(refusals.len(), 2);
    assert_eq!(refusals[1].token, BAND);
    assert_eq!(refusals[1].terminal, "bar-1");
    assert!(refusals[1].reason.contains("blank band"));
    assert!(refusals[0].reason.contains("no band keys"));
    // A cashier may not look.
    t.login("1111").unwrap();
    assert_eq!(
        t.sync_overview().unwrap_err().code,
        ErrorCode::RoleNotPermitted
    );
}

/// The encoding station: only a manager runs it, only with band keys and a
/// reader; it switches the reader from taps to encoding and back (login,
/// lock, stop), and shows each band the reader encoded or could not.
#[test]
fn a_manager_runs_the_encoding_station() {
    use tapster_nfc::ntag424::{Encoded, Keyring};
    use tapster_nfc::{NfcEvent, ReaderMode};
    // A reader by name that is not there (no pcscd here): the till still
    // has one configured; the bands come from the simulated reader.
    let f = common::start(|o| o.pcsc_reader = Some("Tapster test reader".into()));
    let t = &f.terminal;
    assert_eq!(
        t.reader_mode(),
        ReaderMode::TapsRekeying,
        "the demo till tops up"
    );
    t.login("1111").unwrap();
    assert_eq!(
        t.start_encoding(None).unwrap_err().code,
        ErrorCode::RoleNotPermitted
    );
    t.login("4444").unwrap();
    assert_eq!(
        t.start_encoding(None).unwrap_err().code,
        ErrorCode::NoBandKeys
    );
    *t.band_keys().write().unwrap() = Some(Keyring::generate(1));
    let bad = t.start_encoding(Some("http://bar.example/g")).unwrap_err();
    assert_eq!(bad.code, ErrorCode::InvalidInput);
    assert!(bad.message.contains("https://"), "{}", bad.message);
    assert!(!t.encoding_station().unwrap().active);

    let link = "https://bar.example/api/v1/events/e1/guest/sun";
    let started = t.start_encoding(Some(link)).unwrap();
    assert!(started.active);
    assert_eq!(started.key_version, Some(1));
    assert_eq!(started.link.as_deref(), Some(link));
    assert!(matches!(
        t.reader_mode(),
        ReaderMode::Encoding { link: Some(_) }
    ));

    let stations = |f: &common::Fixture| {
        f.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                AppEvent::Encoding(station) => Some(station.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    t.simulate_reader_event(NfcEvent::Encoded {
        reader: "r".into(),
        encoded: Encoded {
            token_id: BAND.into(),
            from_version: 0,
            key_version: 1,
            link: true,
        },
    })
    .unwrap();
    t.simulate_reader_event(NfcEvent::EncodeFailed {
        reader: "r".into(),
        token_id: Some("04D30000000002".into()),
        error: "the wristband was taken away during the check".into(),
    })
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while stations(&f).last().is_none_or(|s| s.failed == 0) {
        assert!(std::time::Instant::now() < deadline, "no station update");
        std::thread::sleep(Duration::from_millis(5));
    }
    let station = t.encoding_station().unwrap();
    assert_eq!((station.encoded, station.failed), (1, 1));
    assert!(station.bands[0]
        .error
        .as_deref()
        .unwrap()
        .contains("taken away"));
    assert_eq!(station.bands[1].key_version, Some(1));
    assert!(station.bands[1].link);
    assert_eq!(station.bands[1].token_masked.as_deref(), Some("••••0001"));
    assert!(
        !f.events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, AppEvent::Tap(_))),
        "an encoded band is not a tap"
    );

    // Locking the till ends it; so does the next login; stop too.
    t.lock().unwrap();
    assert_eq!(t.reader_mode(), ReaderMode::TapsRekeying);
    t.login("4444").unwrap();
    assert!(!t.encoding_station().unwrap().active);
    t.start_encoding(None).unwrap();
    assert!(matches!(
        t.reader_mode(),
        ReaderMode::Encoding { link: None }
    ));
    t.login("4444").unwrap();
    assert_eq!(t.reader_mode(), ReaderMode::TapsRekeying);
    t.start_encoding(None).unwrap();
    assert!(!t.stop_encoding().active);
    assert_eq!(t.reader_mode(), ReaderMode::TapsRekeying);
}
