//! `tapster-nfc watch [--reader NAME]`: one JSON line per event until
//! stopped (Ctrl-C).
//!
//! `tapster-nfc roundtrip [--count N] [--reader NAME]`: waits for a card,
//! then times N GET DATA commands (for the benchmark).

use std::sync::mpsc;

use tapster_nfc::{watch, WatchConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reader = args
        .iter()
        .position(|a| a == "--reader")
        .and_then(|i| args.get(i + 1))
        .cloned();
    match args.get(1).map(String::as_str) {
        Some("watch") => {}
        Some("roundtrip") => {
            let count = args
                .iter()
                .position(|a| a == "--count")
                .and_then(|i| args.get(i + 1))
                .and_then(|c| c.parse().ok())
                .unwrap_or(1000);
            roundtrip(count, reader.as_deref());
            return;
        }
        _ => {
            eprintln!("usage: tapster-nfc watch|roundtrip [--reader NAME] [--count N]");
            std::process::exit(2);
        }
    }
    let (sender, receiver) = mpsc::channel();
    let _watcher = watch(
        WatchConfig {
            reader,
            ..WatchConfig::default()
        },
        move |event| {
            let _ = sender.send(event);
        },
    );
    for event in receiver {
        match serde_json::to_string(&event) {
            Ok(line) => println!("{line}"),
            Err(error) => eprintln!("{error}"),
        }
    }
}

/// Waits up to 20 s for a card, then times `count` GET DATA round trips
/// over one connection and prints p50/p99 in microseconds.
fn roundtrip(count: usize, reader: Option<&str>) {
    use pcsc::{Context, Protocols, Scope, ShareMode};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let attempt = (|| -> Result<Vec<u128>, pcsc::Error> {
            let context = Context::establish(Scope::User)?;
            let names = context.list_readers_owned()?;
            let name = names
                .iter()
                .find(|n| reader.is_none_or(|r| n.to_string_lossy().starts_with(r)))
                .ok_or(pcsc::Error::NoReadersAvailable)?;
            let card = context.connect(name, ShareMode::Shared, Protocols::ANY)?;
            let mut buffer = [0u8; 64];
            let mut times = Vec::with_capacity(count);
            for _ in 0..count {
                let started = std::time::Instant::now();
                card.transmit(&tapster_nfc::pcsc_reader::GET_UID, &mut buffer)?;
                times.push(started.elapsed().as_micros());
            }
            Ok(times)
        })();
        match attempt {
            Ok(mut times) => {
                times.sort_unstable();
                let at = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
                println!(
                    "{}",
                    serde_json::json!({"roundtrips": times.len(), "p50_micros": at(0.5), "p99_micros": at(0.99)})
                );
                return;
            }
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(100))
            }
            Err(error) => {
                println!("{}", serde_json::json!({"error": error.to_string()}));
                std::process::exit(1);
            }
        }
    }
}
