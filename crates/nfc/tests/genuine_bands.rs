//! Genuine wristbands against the real stack: pcscd with the virtual
//! reader and an emulated NTAG 424 DNA (`tests/sandbox/vpcd_card.py`, with
//! its own AES keys) — encode blank bands, then taps: a genuine band, a
//! clone with the same UID, a card holding another band's keys, a card
//! whose inner UID differs, a band pulled away mid-authentication, and a
//! key rotation with a band re-keyed at the encoding station.

#[path = "sandbox/harness.rs"]
mod harness;

use std::time::Duration;

use harness::{Sandbox, POLL};
use serde_json::Value;

const NFC: &str = env!("CARGO_BIN_EXE_tapster-nfc");
const BAND: &str = "04A1B2C3D4E5F6";
const OTHER: &str = "04112233445566";

fn tap(sandbox: &Sandbox, insert: &str) -> Value {
    sandbox.card(insert);
    let tap = sandbox.expect(Duration::from_secs(5), |e| {
        e["event"] == "tap" || e["event"] == "read_failed"
    });
    sandbox.card("remove");
    std::thread::sleep(POLL);
    tap
}

fn encoded(sandbox: &Sandbox, uid: &str) -> Value {
    sandbox.expect(Duration::from_secs(10), |e| e.get("ready").is_some());
    sandbox.card(&format!("insert-424 {uid}"));
    let line = sandbox.expect(Duration::from_secs(5), |e| {
        e.get("encoded").is_some() || e.get("error").is_some()
    });
    sandbox.card("remove");
    std::thread::sleep(POLL);
    assert!(line.get("encoded").is_some(), "{line}");
    line["encoded"].clone()
}

#[test]
fn genuine_bands_pay_and_clones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("band-keys.json");
    let keys = keys.to_str().unwrap();
    let new = std::process::Command::new(NFC)
        .args(["keys", "new", "--file", keys])
        .output()
        .unwrap();
    assert!(new.status.success());
    // The whole evening in one sandbox (the emulated bands keep their keys
    // between steps): encode two blank bands, watch six taps, rotate the
    // master key, watch one tap, re-key one band, watch two taps.
    let script = format!(
        "set -e
         {NFC} encode --band-keys {keys} --count 2
         {NFC} watch --band-keys {keys} --taps 6
         {NFC} keys rotate --file {keys}
         {NFC} watch --band-keys {keys} --taps 1
         {NFC} encode --band-keys {keys} --count 1
         {NFC} watch --band-keys {keys} --taps 2"
    );
    let sandbox = Sandbox::start(&["sh", "-c", &script]);

    // The encoding station personalises factory-fresh bands.
    let first = encoded(&sandbox, BAND);
    assert_eq!(first["token_id"], BAND);
    assert_eq!(first["from_version"], 0);
    assert_eq!(first["key_version"], 1);
    sandbox.card(&format!("insert-424 {OTHER}"));
    let second = sandbox.expect(Duration::from_secs(5), |e| e.get("encoded").is_some());
    assert_eq!(second["encoded"]["token_id"], OTHER);
    sandbox.card("remove");
    sandbox.expect(Duration::from_secs(10), |e| e["event"] == "reader_added");

    // A card that is no NTAG 424 DNA at all.
    let plain = tap(&sandbox, &format!("insert {OTHER}"));
    assert_eq!(plain["band"]["status"], "not_genuine", "{plain}");

    // A genuine band: authenticated, its key version said.
    let genuine = tap(&sandbox, &format!("insert-424 {BAND}"));
    assert_eq!(genuine["token_id"], BAND);
    assert_eq!(genuine["band"]["status"], "genuine", "{genuine}");
    assert_eq!(genuine["band"]["key_version"], 1);
    assert_eq!(genuine["band"]["rekey"], false);
    assert_eq!(genuine["card"], "desfire", "ISO 14443-4 ATR");

    // A clone: the same UID on a card with factory keys.
    let clone = tap(&sandbox, &format!("insert-clone {BAND}"));
    assert_eq!(clone["token_id"], BAND);
    assert_eq!(clone["band"]["status"], "not_genuine", "{clone}");
    assert!(clone["band"]["reason"].as_str().unwrap().contains("blank"));

    // The UID of one band with the keys read out of another.
    let foreign = tap(&sandbox, &format!("insert-foreign {BAND} {OTHER}"));
    assert_eq!(foreign["band"]["status"], "not_genuine", "{foreign}");
    assert!(foreign["band"]["reason"]
        .as_str()
        .unwrap()
        .contains("refused the key"));

    // One UID at anticollision, another inside (with the right keys).
    let twin = tap(&sandbox, &format!("insert-foreign {BAND} {BAND} {OTHER}"));
    assert_eq!(twin["band"]["status"], "not_genuine", "{twin}");
    assert!(twin["band"]["reason"]
        .as_str()
        .unwrap()
        .contains("UID inside the band"));

    // Pulled away between the two parts of the authentication: an error
    // state, no tap; the next placing works.
    sandbox.card("cut 5");
    let cut = tap(&sandbox, &format!("insert-424 {BAND}"));
    assert_eq!(cut["event"], "read_failed", "{cut}");
    let again = tap(&sandbox, &format!("insert-424 {BAND}"));
    assert_eq!(again["band"]["status"], "genuine", "{again}");

    // After the rotation (version 2, version 1 kept): a band of version 1
    // still works, flagged for re-keying.
    sandbox.expect(Duration::from_secs(10), |e| e["event"] == "reader_added");
    let old = tap(&sandbox, &format!("insert-424 {BAND}"));
    assert_eq!(old["band"]["status"], "genuine", "{old}");
    assert_eq!(old["band"]["key_version"], 1);
    assert_eq!(old["band"]["rekey"], true);

    // Re-keyed at the encoding station, it has version 2; the band not
    // re-keyed yet still passes on version 1.
    let rekeyed = encoded(&sandbox, BAND);
    assert_eq!(rekeyed["from_version"], 1);
    assert_eq!(rekeyed["key_version"], 2);
    sandbox.expect(Duration::from_secs(10), |e| e["event"] == "reader_added");
    let new = tap(&sandbox, &format!("insert-424 {BAND}"));
    assert_eq!(new["band"]["key_version"], 2, "{new}");
    assert_eq!(new["band"]["rekey"], false);
    let other = tap(&sandbox, &format!("insert-424 {OTHER}"));
    assert_eq!(other["band"]["key_version"], 1, "{other}");
    assert_eq!(other["band"]["rekey"], true);
}
