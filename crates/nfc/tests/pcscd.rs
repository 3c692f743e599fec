//! The watcher against the real stack: pcscd with the virtual reader of
//! vsmartcard-vpcd and a card emulator (`tests/sandbox/vpcd_card.py`), in
//! private mount and network namespaces so the machine's own pcscd is not
//! touched. Needs root, `unshare`, `pcscd` and `vsmartcard-vpcd` (the
//! setup script installs them).

#[path = "sandbox/harness.rs"]
mod harness;

use std::time::Duration;

use harness::{Sandbox, POLL};
use serde_json::Value;

const WATCH: &str = env!("CARGO_BIN_EXE_tapster-nfc");
const READER: &str = "Virtual PCD 00 00";

fn tap_of(uid: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["event"] == "tap" && e["token_id"] == uid
}

fn is_tap(e: &Value) -> bool {
    e["event"] == "tap"
}

#[test]
fn taps_debounce_and_recovery_over_real_pcscd() {
    let sandbox = Sandbox::start(&[WATCH, "watch"]);
    sandbox.expect(Duration::from_secs(10), |e| {
        e["event"] == "reader_added" && e["reader"] == READER
    });

    // Insert: exactly one tap with the right UID and card type.
    sandbox.card("insert 04A1B2C3D4E5F6");
    let tap = sandbox.expect(Duration::from_secs(3), tap_of("04A1B2C3D4E5F6"));
    assert_eq!(tap["card"], "ultralight_ntag");
    assert_eq!(tap["reader"], READER);
    // Held on the reader: no second tap.
    sandbox.quiet(Duration::from_millis(1500), is_tap);

    // Taken away and put back: a second tap.
    sandbox.card("remove");
    std::thread::sleep(POLL);
    sandbox.card("insert 04A1B2C3D4E5F6");
    sandbox.expect(Duration::from_secs(3), tap_of("04A1B2C3D4E5F6"));

    // Another wristband: its own tap.
    sandbox.card("remove");
    std::thread::sleep(POLL);
    sandbox.card("insert 04112233");
    sandbox.expect(Duration::from_secs(3), tap_of("04112233"));

    // The card leaves in the middle of the read: an error state, no tap,
    // then the next placing works again.
    sandbox.card("remove");
    std::thread::sleep(POLL);
    sandbox.card("cut");
    sandbox.card("insert 04999999");
    let failed = sandbox.expect(Duration::from_secs(3), |e| {
        e["event"] == "read_failed" || is_tap(e)
    });
    assert_eq!(failed["event"], "read_failed", "{failed}");
    sandbox.card("remove");
    std::thread::sleep(POLL);
    sandbox.card("insert 04999999");
    sandbox.expect(Duration::from_secs(3), tap_of("04999999"));

    // pcscd stops and starts: the watcher says so and recovers by itself.
    sandbox.card("pcscd-stop");
    sandbox.expect(Duration::from_secs(5), |e| {
        e["event"] == "service_unavailable"
    });
    sandbox.card("pcscd-start");
    sandbox.expect(Duration::from_secs(10), |e| {
        e["event"] == "reader_added" && e["reader"] == READER
    });
    sandbox.card("insert 04ABCDEF");
    sandbox.expect(Duration::from_secs(3), tap_of("04ABCDEF"));
}
