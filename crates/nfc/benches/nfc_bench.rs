//! NFC over the virtual reader, in the tests' pcscd sandbox (needs root):
//! the GET DATA round trip, and the time from pcscd reporting a card to
//! the tap event leaving the crate.
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
