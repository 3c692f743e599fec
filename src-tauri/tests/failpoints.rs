//! Nothing is printed for a sale that did not commit: the ledger's write
//! fails at its last step (disk full), the cashier gets the storage error,
//! and the printer — a real socket — receives only the next, committed
//! sale's receipt. Needs `--features failpoints`.
#![cfg(feature = "failpoints")]

mod common;
#[path = "../../crates/sync/tests/common/mod.rs"]
mod sync_common;

use common::*;
use tapster_app::error::ErrorCode;
use tapster_app::view::Tender;

/// A printer on a real socket that answers status queries (`DLE EOT n`:
/// all well) and keeps everything sent to it, over any number of
/// connections, until it has been idle for two seconds.
/// What the printer has received so far, while it still listens.
type Received = std::sync::Arc<std::sync::Mutex<Vec<u8>>>;

fn collecting_printer() -> (String, std::thread::JoinHandle<Vec<u8>>, Received) {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("tcp://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let so_far = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = so_far.clone();
    let handle = std::thread::spawn(move || {
        let mut received = Vec::new();
        let mut idle_since = Instant::now();
        while idle_since.elapsed() < Duration::from_secs(2) {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            let mut quiet_since = Instant::now();
            let mut buffer = [0u8; 4096];
            while quiet_since.elapsed() < Duration::from_secs(1) {
                match stream.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => {
                        let chunk = &buffer[..n];
                        if chunk.windows(2).any(|w| w == [0x10, 0x04]) {
                            let _ = stream.write_all(&[0x12]);
                        }
                        received.extend_from_slice(chunk);
                        seen.lock().unwrap().extend_from_slice(chunk);
                        quiet_since = Instant::now();
                    }
                    Err(_) => {}
                }
            }
            idle_since = Instant::now();
        }
        received
    });
    (uri, handle, so_far)
}

#[test]
fn nothing_is_printed_for_a_sale_that_did_not_commit() {
    let scenario = fail::FailScenario::setup();
    let (printer, received, so_far) = collecting_printer();
    let f = start(|o| o.printer = Some(printer.parse().unwrap()));
    let t = &f.terminal;
    t.login("1111").unwrap();
    t.open_shift(0, "open").unwrap();

    fail::cfg("ledger::operation::before_commit", "return(full)").unwrap();
    let refused =
        block(t.pay(&items(&[("water", 1)]), Tender::Card, None, "sale-1", None)).unwrap_err();
    fail::remove("ledger::operation::before_commit");
    assert_eq!(refused.code, ErrorCode::StorageFull, "{refused:?}");

    let done = block(t.pay(&items(&[("cola", 1)]), Tender::Card, None, "sale-2", None)).unwrap();
    assert!(done.receipt.queued);
    // Until the receipt has reached the printer (the queue's status
    // reaches the terminal asynchronously, so "no job waiting" alone can be
    // read before the job was counted).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !String::from_utf8_lossy(&so_far.lock().unwrap()).contains("SUMME")
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // A moment for anything else (a wrongly printed second receipt) to come.
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(f);
    let bytes = received.join().unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("Cola"),
        "the committed sale is printed: {text:?}"
    );
    assert!(!text.contains("Wasser"), "the failed one is not: {text:?}");
    assert_eq!(text.matches("SUMME").count(), 1);
    scenario.teardown();
}

/// A wristband sale the server took while the till's own write failed (as
/// a crash between the two would leave it): the next sync round books it as
/// the server did, and the cashier is told on screen which band, how much
/// and under which number, until they confirm it.
#[test]
fn a_sale_settled_after_an_interruption_is_shown_to_the_cashier() {
    use common::connected::{pinned, wait, ConnectedTill};

    let scenario = fail::FailScenario::setup();
    let event = sync_common::Event::new(2, 40_00);
    let server = sync_common::Server::start(&event.db, 0.0);
    let (terminal_id, token) = event.terminal("Bar 1");
    let settings = pinned(server.base(), &event.id, token, server.fingerprint);
    let till = ConnectedTill::connect(settings, &terminal_id, |_| {});
    let t = &till.terminal;
    till.login("1111");
    t.open_shift(0, "open").unwrap();
    let band = tapster_ledger::demo::wristband(1).to_string();
    till.tap(&band);

    fail::cfg("ledger::operation::before_commit", "return(full)").unwrap();
    let refused = till
        .runtime
        .block_on(t.pay(
            &items(&[("beer", 1)]),
            Tender::Wallet,
            Some(&band),
            "sale-1",
            None,
        ))
        .unwrap_err();
    fail::remove("ledger::operation::before_commit");
    assert_eq!(refused.code, ErrorCode::StorageFull, "{refused:?}");
    assert!(t.status().notices.is_empty());

    wait("the interrupted sale settled and shown", || {
        till.handle.sync_now();
        !t.status().notices.is_empty()
    });
    let notice = t.status().notices.remove(0);
    assert_eq!(notice.kind, "interrupted_sale_recorded");
    assert_eq!(notice.token_masked, "••••0001");
    assert_eq!(notice.amount_cents, Some(7_00), "a beer and its cup");
    let recorded = t
        .ledger()
        .reader()
        .unwrap()
        .recent_entries(None, 1)
        .unwrap();
    assert_eq!(notice.entry_sequence, Some(recorded[0].sequence));
    assert_eq!(event.balances().get(&band).copied(), Some(40_00 - 7_00));
    // Confirmed: gone, and not shown again by later rounds.
    assert!(t.dismiss_notice(&notice.id).notices.is_empty());
    till.wait_synced();
    assert!(t.status().notices.is_empty());
    till.runtime.block_on(till.handle.stop());
    scenario.teardown();
}
