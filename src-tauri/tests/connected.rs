//! The app's terminal connected to the real `tapster-server` process: it
//! takes catalogue and staff from the server, sells online, and its entries
//! reach the server exactly once.

#[path = "../../crates/sync/tests/common/mod.rs"]
mod sync_common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sync_common::{Event, Server};
use tapster_app::config::{syncer, ServerSettings};
use tapster_app::terminal::{AppEvent, Options, Terminal};
use tapster_app::view::{CartItem, Connectivity, Language, Tender};
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::{demo, SystemClock, TerminalId};
use tapster_print::ReceiptFormat;

fn wait(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_connected_terminal_sells_online_and_its_entries_reach_the_server_once() {
    let event = Event::new(5, 40_00);
    let (terminal_id, token) = event.terminal("Bar Nord");
    let server = Server::start(&event.db, 0.0);
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        config_dir: dir.path().join("config"),
        data_dir: dir.path().to_path_buf(),
        terminal: TerminalId::new(&terminal_id).unwrap(),
        demo: false,
        // On-screen taps stand in for the reader here.
        simulated_reader: true,
        printer: None,
        receipt_format: ReceiptFormat::default(),
        language: Language::De,
        lock_after: Duration::from_secs(300),
        confirm_wallet_payments: false,
        pcsc_reader: None,
        pin_cost: PinHashCost::Fast,
        kiosk: false,
    };
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let taps = Arc::new(Mutex::new(0usize));
    let (seen_statuses, seen_taps) = (statuses.clone(), taps.clone());
    let mut terminal = Terminal::start(
        options,
        Arc::new(move |event| match event {
            AppEvent::Status(status) => seen_statuses.lock().unwrap().push(status.connectivity),
            AppEvent::Tap(_) => *seen_taps.lock().unwrap() += 1,
        }),
    )
    .unwrap();
    let tap = |terminal: &Terminal, token: &str| {
        let before = *taps.lock().unwrap();
        terminal.simulate_tap(token).unwrap();
        wait("the tap", || *taps.lock().unwrap() > before);
    };
    let settings = ServerSettings {
        url: format!("http://{}", server.address),
        event: event.id.clone(),
        token,
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sync = syncer(&settings, terminal.ledger().clone()).unwrap();
    let handle = runtime.block_on(async {
        let handle = tapster_sync::start(sync.clone(), Arc::new(SystemClock));
        terminal.connect(sync, handle.status.clone());
        handle
    });

    // Catalogue and staff come from the server; the status bar says online.
    wait("the catalogue from the server", || {
        terminal
            .catalog()
            .map(|c| c.products.iter().any(|p| p.id == "beer"))
            .unwrap_or(false)
    });
    wait("online", || {
        terminal.status().connectivity == Connectivity::Online
    });
    assert!(
        statuses.lock().unwrap().contains(&Connectivity::Online),
        "the status bar was told it is online"
    );
    terminal.login("1111").unwrap();
    terminal.open_shift(0, "open-1").unwrap();

    let band = demo::wristband(1).to_string();
    let beer = vec![CartItem {
        product: "beer".into(),
        quantity: 1,
    }];
    tap(&terminal, &band);
    let done = runtime
        .block_on(terminal.pay(&beer, Tender::Wallet, Some(&band), "online-1", None))
        .unwrap();
    assert!(!done.offline, "authorised by the server");
    assert_eq!(done.balance_after_cents, Some(40_00 - 7_00));
    // A retry of the same sale is the same sale, on the server too.
    tap(&terminal, &band);
    let again = runtime
        .block_on(terminal.pay(&beer, Tender::Wallet, Some(&band), "online-1", None))
        .unwrap();
    assert_eq!(again.entry_id, done.entry_id);
    tap(&terminal, &band);
    terminal
        .top_up(&band, 10_00, Tender::Cash, "top-up-1")
        .unwrap();

    wait("nothing pending", || {
        handle.sync_now();
        terminal.status().pending == 0 && terminal.ledger().pending_count().unwrap_or(1) == 0
    });
    assert_eq!(
        event.transactions_of(&terminal_id),
        2,
        "one sale and one top-up"
    );
    let balances = event.balances();
    assert_eq!(balances.get(&band).copied(), Some(40_00 - 7_00 + 10_00));
    assert!(event.check(), "tapster-server check is clean");
    runtime.block_on(handle.stop());
}
