//! Tapster end to end: the scenarios in this directory run the parts
//! together, as an event runs them — the `tapster-server` process over
//! pinned HTTPS, the app in its real window (Xvfb, WebDriver) and headless
//! till cores, pcscd with a virtual reader and an emulated wristband, the
//! `emupos` ESC/POS printer emulator — and check what no part's own tests
//! can: that they agree.
//!
//! The scenarios:
//! - `festival.rs`: Bar Nord in its real window with a PC/SC reader and a
//!   printer, Bar Süd and a top-up booth as headless till cores, from the
//!   setup code to the Z reports and the server's books;
//! - `soak.rs`: a till that runs all weekend, compressed: the real window
//!   selling on through paper out, the reader gone and the server gone for
//!   hours of its fast-running wall clock (libfaketime), its memory, open
//!   files, threads, WAL and logs sampled and kept flat, its daily logs
//!   rotating;
//! - `festival_night.rs`: the server and 20 till processes at bar rates,
//!   the line to five bars cut for a quarter of the night, every ledger and
//!   the server agreeing to the cent;
//! - `build_cache.rs`: the test command's cap on the build cache it shares
//!   between clones.
//!
//! The harness is the parts' own test harnesses, shared (one copy of each),
//! plus what crossing them needs.

/// The server process, events and terminals made by its admin commands.
#[path = "../../crates/sync/tests/common/mod.rs"]
pub mod server;

/// The app's real window under Xvfb, driven over WebDriver.
#[path = "../../src-tauri/tests/webdriver/mod.rs"]
pub mod window;

/// pcscd with the virtual reader and the card emulator, as the NFC crate
/// tests them.
#[path = "../../crates/nfc/tests/sandbox/harness.rs"]
pub mod nfc;

/// The `emupos` printer emulator. (A test harness's fixtures have no
/// `Default`, and need none.)
#[allow(clippy::new_without_default)]
#[path = "../../crates/print/tests/common/mod.rs"]
pub mod printer;

/// The app's till core without a window, connected to a server.
#[path = "../../src-tauri/tests/common/mod.rs"]
pub mod till;

pub mod binaries;
pub mod books;
pub mod sandbox;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Ends every process of the app on `data_dir` (one that restarted itself
/// included) and waits until none is left and its ledger is free.
pub fn end_app_on(data_dir: &Path) {
    let pattern = data_dir.display().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut quiet = 0;
    while quiet < 3 {
        assert!(
            Instant::now() < deadline,
            "the app on {pattern} does not end"
        );
        let _ = Command::new("pkill").args(["-f", &pattern]).status();
        std::thread::sleep(Duration::from_millis(300));
        let running = Command::new("pgrep")
            .args(["-f", &pattern])
            .output()
            .is_ok_and(|o| !o.stdout.is_empty());
        quiet = if running { 0 } else { quiet + 1 };
    }
    let lock = std::fs::File::create(data_dir.join("app.lock")).unwrap();
    while lock.try_lock().is_err() {
        assert!(
            Instant::now() < deadline,
            "the ledger on {pattern} stays locked"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The ledger the app on `data_dir` kept, opened once the app has ended.
pub fn ledger_of_ended_app(data_dir: &Path, terminal: &str) -> tapster_ledger::Ledger {
    end_app_on(data_dir);
    tapster_ledger::Ledger::open(
        data_dir.join("ledger.sqlite"),
        tapster_ledger::LedgerOptions::new(tapster_ledger::TerminalId::new(terminal).unwrap()),
    )
    .unwrap()
}

/// Cents from an amount as a screen or receipt shows it
/// (`16,00 €`, `€16.00`, `-0,50 €`).
pub fn cents(shown: &str) -> i64 {
    let digits: String = shown.chars().filter(char::is_ascii_digit).collect();
    let value: i64 = digits
        .parse()
        .unwrap_or_else(|_| panic!("no amount in {shown:?}"));
    if shown.contains('-') || shown.contains('−') {
        -value
    } else {
        value
    }
}

/// An amount as the German screens and receipts print it (`1.234,50`),
/// without the currency: the print crate's own formatting.
pub fn printed(cents: i64) -> String {
    tapster_print::Language::De.number(tapster_ledger::Cents(cents))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_back_as_shown() {
        assert_eq!(cents("16,00 €"), 16_00);
        assert_eq!(cents("€16.05"), 16_05);
        assert_eq!(cents("-0,50 €"), -50);
        assert_eq!(printed(-50), "-0,50");
        assert_eq!(printed(1_234_00), "1.234,00");
        assert_eq!(cents(&printed(1_234_00)), 1_234_00);
    }
}
