//! What the app's tests of the `Terminal` share: a demo till on a real
//! ledger file in a temporary directory, taps on its simulated reader.
#![allow(dead_code)]

pub mod connected;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tapster_app::terminal::{AppEvent, Options, Terminal};
use tapster_app::view::{CartItem, Language};
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::TerminalId;
use tapster_print::ReceiptFormat;

pub struct Fixture {
    pub terminal: Terminal,
    pub events: Arc<Mutex<Vec<AppEvent>>>,
    pub dir: tempfile::TempDir,
}

pub fn options(dir: &std::path::Path) -> Options {
    Options {
        config_dir: dir.join("config"),
        data_dir: dir.to_path_buf(),
        terminal: TerminalId::new("bar-1").unwrap(),
        demo: true,
        simulated_reader: true,
        printer: None,
        receipt_format: ReceiptFormat::default(),
        language: Language::De,
        lock_after: Duration::from_secs(300),
        confirm_wallet_payments: false,
        pcsc_reader: None,
        pin_cost: PinHashCost::Fast,
        kiosk: false,
        keyboard_reader: false,
        band_keys: None,
    }
}

pub fn start(change: impl FnOnce(&mut Options)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut options = options(dir.path());
    change(&mut options);
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let terminal =
        Terminal::start(options, Arc::new(move |e| sink.lock().unwrap().push(e))).unwrap();
    Fixture {
        terminal,
        events,
        dir,
    }
}

pub fn items(list: &[(&str, i64)]) -> Vec<CartItem> {
    list.iter()
        .map(|(product, quantity)| CartItem {
            product: product.to_string(),
            quantity: *quantity,
        })
        .collect()
}

pub fn block<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

pub const BAND: &str = "04D30000000001";

/// The wristband on the (simulated) reader, as a guest does before paying;
/// returns once the app has seen the tap.
pub fn tap(f: &Fixture, token: &str) {
    let taps = |f: &Fixture| {
        f.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, AppEvent::Tap(_)))
            .count()
    };
    let before = taps(f);
    f.terminal.simulate_tap(token).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while taps(f) == before {
        assert!(
            std::time::Instant::now() < deadline,
            "the tap never arrived"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A printer on a real socket that keeps what it is sent.
pub fn listening_printer() -> (String, std::thread::JoinHandle<Vec<u8>>) {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("tcp://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut received = Vec::new();
        let _ = stream.read_to_end(&mut received);
        received
    });
    (uri, handle)
}

/// A till on the data in `dir` (the caller keeps it): started again on
/// the same directory, it finds what the last one left.
pub fn start_in(dir: &std::path::Path) -> Fixture {
    let dir = dir.to_path_buf();
    start(move |o| {
        o.config_dir = dir.join("config");
        o.data_dir = dir;
    })
}
