//! Genuine wristbands against the real stack: pcscd with the virtual
//! reader and an emulated NTAG 424 DNA (`tests/sandbox/vpcd_card.py`, with
//! its own AES keys) — encode blank bands, then taps: a genuine band, a
//! clone with the same UID, a card holding another band's keys, a card
//! whose inner UID differs, a band pulled away mid-authentication, a band
//! with a SUN link read by a "phone", and a key rotation with bands
//! re-keyed at the encoding station and at a top-up till.

#[path = "sandbox/harness.rs"]
mod harness;

use std::time::Duration;

use harness::{Sandbox, POLL};
use serde_json::Value;
use tapster_nfc::ntag424::Keyring;

const NFC: &str = env!("CARGO_BIN_EXE_tapster-nfc");
const BAND: &str = "04A1B2C3D4E5F6";
const OTHER: &str = "04112233445566";
const LINKED: &str = "04C0FFEE000001";
const GUEST_PAGE: &str = "https://bar.example/api/v1/events/e1/guest/sun";

fn tap(sandbox: &Sandbox, insert: &str) -> Value {
    sandbox.card(insert);
    let tap = sandbox.expect(Duration::from_secs(5), |e| {
        e["event"] == "tap" || e["event"] == "read_failed"
    });
    sandbox.card("remove");
    std::thread::sleep(POLL);
    tap
}

/// A band on a freshly started reader process (encoding station or till).
fn encoded(sandbox: &Sandbox, uid: &str) -> Value {
    sandbox.expect(Duration::from_secs(10), |e| e["event"] == "reader_added");
    sandbox.card(&format!("insert-424 {uid}"));
    let line = sandbox.expect(Duration::from_secs(5), |e| {
        e["event"] == "encoded" || e["event"] == "encode_failed"
    });
    sandbox.card("remove");
    std::thread::sleep(POLL);
    assert_eq!(line["event"], "encoded", "{line}");
    line
}

/// The band's link as a phone reads it, and its `e=` and `c=` parameters.
fn phone_reads(sandbox: &Sandbox, uid: &str) -> (String, Vec<u8>, Vec<u8>) {
    sandbox.card(&format!("insert-424 {uid}"));
    let line = sandbox.expect(Duration::from_secs(25), |e| {
        e.get("link").is_some() || e.get("error").is_some()
    });
    sandbox.card("remove");
    std::thread::sleep(POLL);
    let link = line["link"].as_str().unwrap_or_else(|| panic!("{line}"));
    let parameter = |name: &str| {
        let at = link.find(&format!("{name}=")).unwrap() + 2;
        hex::decode(&link[at..at + if name == "e" { 32 } else { 16 }]).unwrap()
    };
    (link.to_string(), parameter("e"), parameter("c"))
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
    // between steps): encode two blank bands, watch six taps, encode a
    // band with a link and read it twice as a phone; rotate the master
    // key, watch one tap, re-key one band at the encoding station, watch
    // two taps, watch two taps at a top-up till (re-keying), read the
    // link again.
    let script = format!(
        "set -e
         {NFC} encode --band-keys {keys} --count 2
         {NFC} watch --band-keys {keys} --taps 6
         {NFC} encode --band-keys {keys} --count 1 --link {GUEST_PAGE}
         {NFC} read-link
         {NFC} read-link
         {NFC} keys rotate --file {keys}
         {NFC} watch --band-keys {keys} --taps 1
         {NFC} encode --band-keys {keys} --count 1
         {NFC} watch --band-keys {keys} --taps 2
         {NFC} watch --band-keys {keys} --taps 2 --rekey
         {NFC} read-link"
    );
    let sandbox = Sandbox::start(&["sh", "-c", &script]);

    // The encoding station personalises factory-fresh bands.
    let first = encoded(&sandbox, BAND);
    assert_eq!(first["token_id"], BAND);
    assert_eq!(first["from_version"], 0);
    assert_eq!(first["key_version"], 1);
    assert_eq!(first["link"], false);
    sandbox.card(&format!("insert-424 {OTHER}"));
    let second = sandbox.expect(Duration::from_secs(5), |e| e["event"] == "encoded");
    assert_eq!(second["token_id"], OTHER);
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

    // A band with a SUN link: a phone reads a link that verifies with the
    // event's keys (as the server's guest page does), and the next read's
    // counter is higher, so a replayed link can be told apart.
    let linked = encoded(&sandbox, LINKED);
    assert_eq!(linked["link"], true, "{linked}");
    let keyring = Keyring::load(std::path::Path::new(keys)).unwrap();
    let (link, picc, mac) = phone_reads(&sandbox, LINKED);
    assert!(link.starts_with(&format!("{GUEST_PAGE}?e=")), "{link}");
    let (first_read, version) = keyring.verify_sun(&picc, &mac).unwrap();
    assert_eq!(hex::encode_upper(first_read.uid), LINKED);
    assert_eq!(version, 1);
    let (_, picc, mut mac) = phone_reads(&sandbox, LINKED);
    let (second_read, _) = keyring.verify_sun(&picc, &mac).unwrap();
    assert_eq!(second_read.counter, first_read.counter + 1);
    mac[7] ^= 1;
    assert!(keyring.verify_sun(&picc, &mac).is_err(), "a changed link");

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
    assert_eq!(rekeyed["token_id"], BAND);
    assert_eq!(rekeyed["from_version"], 1);
    assert_eq!(rekeyed["key_version"], 2);
    sandbox.expect(Duration::from_secs(10), |e| e["event"] == "reader_added");
    let new = tap(&sandbox, &format!("insert-424 {BAND}"));
    assert_eq!(new["band"]["key_version"], 2, "{new}");
    assert_eq!(new["band"]["rekey"], false);
    let other = tap(&sandbox, &format!("insert-424 {OTHER}"));
    assert_eq!(other["band"]["key_version"], 1, "{other}");
    assert_eq!(other["band"]["rekey"], true);

    // At a top-up till the old bands are re-keyed as they pay: the tap
    // already counts under version 2, the link keys move along too.
    sandbox.expect(Duration::from_secs(10), |e| e["event"] == "reader_added");
    let other = tap(&sandbox, &format!("insert-424 {OTHER}"));
    assert_eq!(other["band"]["status"], "genuine", "{other}");
    assert_eq!(other["band"]["key_version"], 2, "{other}");
    assert_eq!(other["band"]["rekey"], false);
    let linked = tap(&sandbox, &format!("insert-424 {LINKED}"));
    assert_eq!(linked["band"]["key_version"], 2, "{linked}");
    let keyring = Keyring::load(std::path::Path::new(keys)).unwrap();
    let (_, picc, mac) = phone_reads(&sandbox, LINKED);
    let (third_read, version) = keyring.verify_sun(&picc, &mac).unwrap();
    assert_eq!((version, third_read.counter), (2, second_read.counter + 1));
}

/// A band taken away between its tap key and its master key at the
/// encoding station pays, is flagged, and a re-keying till finishes it; a
/// band of another event with the same key version is refused by the
/// station, not reported as encoded.
#[test]
fn a_band_cut_off_mid_encoding_is_finished_later_and_a_strangers_band_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.json");
    let theirs = dir.path().join("theirs.json");
    for file in [&ours, &theirs] {
        let made = std::process::Command::new(NFC)
            .args(["keys", "new", "--file", file.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(made.status.success());
    }
    let (ours, theirs) = (ours.to_str().unwrap(), theirs.to_str().unwrap());
    let script = format!(
        "set -e
         {NFC} encode --band-keys {ours} --count 1
         {NFC} watch --band-keys {ours} --taps 1
         {NFC} watch --band-keys {ours} --taps 2 --rekey
         {NFC} encode --band-keys {theirs} --count 1"
    );
    let sandbox = Sandbox::start(&["sh", "-c", &script]);
    const FRESH: &str = "04FFEEDDCCBBAA";

    // GET DATA, SELECT, four key versions, two halves of the
    // authentication, the tap key — and gone before the master key.
    sandbox.expect(Duration::from_secs(10), |e| e["event"] == "reader_added");
    sandbox.card("cut 10");
    sandbox.card(&format!("insert-424 {BAND}"));
    let torn = sandbox.expect(Duration::from_secs(5), |e| {
        e["event"] == "encoded" || e["event"] == "encode_failed"
    });
    assert_eq!(torn["event"], "encode_failed", "{torn}");
    sandbox.card("remove");
    std::thread::sleep(POLL);
    // The same station goes on with the next band.
    sandbox.card(&format!("insert-424 {OTHER}"));
    let other = sandbox.expect(Duration::from_secs(5), |e| e["event"] == "encoded");
    assert_eq!(other["key_version"], 1);
    sandbox.card("remove");
    std::thread::sleep(POLL);

    // It pays (its tap key is ours) and says it is not finished.
    sandbox.expect(Duration::from_secs(10), |e| e["event"] == "reader_added");
    let half = tap(&sandbox, &format!("insert-424 {BAND}"));
    assert_eq!(half["band"]["status"], "genuine", "{half}");
    assert_eq!(
        half["band"]["rekey"], true,
        "the master key is still the factory's"
    );
    // A re-keying till finishes it during the tap; the next tap is clean.
    sandbox.expect(Duration::from_secs(10), |e| e["event"] == "reader_added");
    let finished = tap(&sandbox, &format!("insert-424 {BAND}"));
    assert_eq!(finished["band"]["rekey"], false, "{finished}");
    let clean = tap(&sandbox, &format!("insert-424 {BAND}"));
    assert_eq!(clean["band"]["status"], "genuine");
    assert_eq!(clean["band"]["rekey"], false, "{clean}");

    // Another event's station: our band has "version 1" too, but not its
    // keys — refused; a blank band is encoded.
    sandbox.expect(Duration::from_secs(10), |e| e["event"] == "reader_added");
    sandbox.card(&format!("insert-424 {OTHER}"));
    let foreign = sandbox.expect(Duration::from_secs(5), |e| {
        e["event"] == "encoded" || e["event"] == "encode_failed"
    });
    assert_eq!(foreign["event"], "encode_failed", "{foreign}");
    assert!(
        foreign["error"].as_str().unwrap().contains("another event"),
        "{foreign}"
    );
    sandbox.card("remove");
    std::thread::sleep(POLL);
    sandbox.card(&format!("insert-424 {FRESH}"));
    let fresh = sandbox.expect(Duration::from_secs(5), |e| e["event"] == "encoded");
    assert_eq!(fresh["from_version"], 0);
    sandbox.card("remove");
}
