//! NFC over the virtual reader, in the tests' pcscd sandbox (needs root):
//! the GET DATA round trip, the time from pcscd reporting a card to the
//! tap event leaving the crate, and the same for genuine NTAG 424 DNA
//! bands checked with the event's keys next to the same bands read by
//! UID only, in one run.
//!
//! `cargo bench -p tapster-nfc --bench nfc_bench`

#[path = "../tests/sandbox/harness.rs"]
mod harness;

use std::time::Duration;

use harness::{Sandbox, POLL};

const CLI: &str = env!("CARGO_BIN_EXE_tapster-nfc");
const TAPS: usize = 30;

fn main() {
    // The tap latency: pcscd's status change -> the event, per tap.
    let sandbox = Sandbox::start(&[CLI, "watch"]);
    sandbox.expect(Duration::from_secs(10), |e| e["event"] == "reader_added");
    let mut latencies = Vec::new();
    for n in 0..TAPS {
        let uid = format!("04{n:06X}");
        sandbox.card(&format!("insert {uid}"));
        let tap = sandbox.expect(Duration::from_secs(3), |e| e["event"] == "tap");
        latencies.push(tap["latency_micros"].as_u64().unwrap());
        sandbox.card("remove");
        std::thread::sleep(POLL);
    }
    drop(sandbox);
    latencies.sort_unstable();
    let at = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    println!("== NFC over pcscd + vsmartcard-vpcd");
    println!(
        "tap: pcscd reports the card -> tap event (connect, GET DATA, checks): p50 {} us, p99 {} us over {TAPS} taps (target p99 < 5 ms)",
        at(0.5),
        at(0.99)
    );

    // Genuine bands: encode them, tap each by UID only, then each with the
    // genuineness check (SELECT, GetKeyVersion, AuthenticateEV2First in
    // two parts, GetCardUID in full mode: 5 APDUs after GET DATA).
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("band-keys.json");
    let keys = keys.to_str().unwrap();
    assert!(std::process::Command::new(CLI)
        .args(["keys", "new", "--file", keys])
        .status()
        .unwrap()
        .success());
    let script = format!(
        "set -e; {CLI} encode --band-keys {keys} --count {TAPS}; {CLI} watch --taps {TAPS}; {CLI} watch --band-keys {keys} --taps {TAPS}"
    );
    let sandbox = Sandbox::start(&["sh", "-c", &script]);
    sandbox.expect(Duration::from_secs(10), |e| e["event"] == "reader_added");
    let band = |n: usize| format!("04A0{n:010X}");
    for n in 0..TAPS {
        sandbox.card(&format!("insert-424 {}", band(n)));
        sandbox.expect(Duration::from_secs(5), |e| e["event"] == "encoded");
        sandbox.card("remove");
        std::thread::sleep(POLL);
    }
    let mut phases = Vec::new();
    for genuine in [false, true] {
        sandbox.expect(Duration::from_secs(10), |e| e["event"] == "reader_added");
        let mut latencies = Vec::new();
        for n in 0..TAPS {
            sandbox.card(&format!("insert-424 {}", band(n)));
            let tap = sandbox.expect(Duration::from_secs(5), |e| e["event"] == "tap");
            assert_eq!(tap["band"]["status"] == "genuine", genuine, "{tap}");
            latencies.push(tap["latency_micros"].as_u64().unwrap());
            sandbox.card("remove");
            std::thread::sleep(POLL);
        }
        latencies.sort_unstable();
        phases.push(latencies);
    }
    drop(sandbox);
    let p = |l: &[u64], q: f64| l[((l.len() as f64 - 1.0) * q).round() as usize];
    let (uid_only, genuine) = (&phases[0], &phases[1]);
    println!(
        "NTAG 424 DNA bands, UID only: p50 {} us, p99 {} us; genuineness checked (8 APDUs instead of 1): p50 {} us, p99 {} us — added at p99: {:.2} ms (target under 30 ms), over {TAPS} taps each",
        p(uid_only, 0.5),
        p(uid_only, 0.99),
        p(genuine, 0.5),
        p(genuine, 0.99),
        (p(genuine, 0.99) as f64 - p(uid_only, 0.99) as f64) / 1000.0
    );

    // The bare GET DATA round trip over an open connection.
    let sandbox = Sandbox::start(&[CLI, "roundtrip", "--count", "2000"]);
    std::thread::sleep(Duration::from_millis(300));
    sandbox.card("insert 04A1B2C3D4E5F6");
    let result = sandbox.expect(Duration::from_secs(30), |e| {
        e.get("p99_micros").is_some() || e.get("error").is_some()
    });
    println!(
        "GET DATA round trip: p50 {} us, p99 {} us over {} commands",
        result["p50_micros"], result["p99_micros"], result["roundtrips"]
    );
}
