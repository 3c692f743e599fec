//! `tapster-nfc watch [--reader NAME] [--band-keys FILE]`: one JSON line
//! per event until stopped (Ctrl-C, or after `--taps N` taps); with the
//! event's band keys every tap says whether the band is genuine.
//!
//! `tapster-nfc encode --band-keys FILE [--reader NAME] [--count N]`: the
//! encoding station — personalises each blank band put on the reader
//! (or re-keys one of an older key version) and prints one JSON line per
//! band; take it away, put the next one on.
//!
//! `tapster-nfc keys new|rotate --file FILE`: a band key file (0600) with
//! a new random master key (for a standalone event or tests; a connected
//! till gets its keys from the server).
//!
//! `tapster-nfc roundtrip [--count N] [--reader NAME]`: waits for a card,
//! then times N GET DATA commands (for the benchmark).

use std::sync::mpsc;

use tapster_nfc::ntag424::Keyring;
use tapster_nfc::{watch, WatchConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reader = args
        .iter()
        .position(|a| a == "--reader")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let keyring = value("--band-keys").map(|path| {
        Keyring::load(std::path::Path::new(&path)).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        })
    });
    match args.get(1).map(String::as_str) {
        Some("watch") => {}
        Some("encode") => {
            let Some(keyring) = keyring else {
                eprintln!("encode needs --band-keys FILE");
                std::process::exit(2);
            };
            let count = value("--count")
                .and_then(|c| c.parse().ok())
                .unwrap_or(usize::MAX);
            encode(&keyring, reader.as_deref(), count);
            return;
        }
        Some("keys") => {
            let Some(file) = value("--file") else {
                eprintln!("keys new|rotate --file FILE");
                std::process::exit(2);
            };
            let path = std::path::Path::new(&file);
            let keyring = match args.get(2).map(String::as_str) {
                Some("new") => Keyring::generate(1),
                Some("rotate") => Keyring::load(path)
                    .unwrap_or_else(|e| {
                        eprintln!("{e}");
                        std::process::exit(2)
                    })
                    .rotated(),
                _ => {
                    eprintln!("keys new|rotate --file FILE");
                    std::process::exit(2);
                }
            };
            if let Err(e) = keyring.save(path) {
                eprintln!("{e}");
                std::process::exit(1);
            }
            println!(
                "{}",
                serde_json::json!({"key_version": keyring.current.version})
            );
            return;
        }
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
            eprintln!("usage: tapster-nfc watch|encode|keys|roundtrip [--reader NAME] [--band-keys FILE] [--count N]");
            std::process::exit(2);
        }
    }
    let (sender, receiver) = mpsc::channel();
    let _watcher = watch(
        WatchConfig {
            reader,
            keyring: std::sync::Arc::new(std::sync::RwLock::new(keyring)),
            ..WatchConfig::default()
        },
        move |event| {
            let _ = sender.send(event);
        },
    );
    // `--taps N`: stop after N taps (scripted tests).
    let mut taps_left = value("--taps").and_then(|t| t.parse::<usize>().ok());
    for event in receiver {
        match serde_json::to_string(&event) {
            Ok(line) => println!("{line}"),
            Err(error) => eprintln!("{error}"),
        }
        if let (tapster_nfc::NfcEvent::Tap { reader, .. }, Some(left)) =
            (&event, taps_left.as_mut())
        {
            *left -= 1;
            if *left == 0 {
                // Leave only once the band has left: a client that goes away
                // while a card lies on the reader makes pcscd fail the next
                // client's first exchange with it.
                wait_until_empty(reader);
                return;
            }
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

/// The encoding station: waits for a band, encodes it, waits for it to be
/// taken away; `count` bands.
fn encode(keyring: &Keyring, reader: Option<&str>, count: usize) {
    use pcsc::{Context, Protocols, ReaderState, Scope, ShareMode, State};
    use std::time::Duration;
    use tapster_nfc::ntag424::encode_band;
    use tapster_nfc::pcsc_reader::{read_uid, PcscCard};
    let mut done = 0;
    while done < count {
        let attempt = (|| -> Result<(), pcsc::Error> {
            let context = Context::establish(Scope::User)?;
            let names = context.list_readers_owned()?;
            let name = names
                .iter()
                .find(|n| reader.is_none_or(|r| n.to_string_lossy().starts_with(r)))
                .ok_or(pcsc::Error::NoReadersAvailable)?
                .clone();
            let mut states = [ReaderState::new(name.clone(), State::UNAWARE)];
            println!(
                "{}",
                serde_json::json!({"ready": name.to_string_lossy(), "band_key_version": keyring.current.version})
            );
            while done < count {
                // A band on the reader.
                loop {
                    context
                        .get_status_change(Duration::from_millis(500), &mut states)
                        .ok();
                    states[0].sync_current_state();
                    if states[0].current_state().contains(State::PRESENT) {
                        break;
                    }
                }
                let outcome = match read_uid(&context, &name) {
                    Ok(uid) => {
                        let card = context.connect(&name, ShareMode::Shared, Protocols::ANY)?;
                        let mut card = PcscCard(&card);
                        match encode_band(&mut card, &uid, keyring) {
                            Ok(encoded) => serde_json::json!({"encoded": encoded}),
                            Err(error) => {
                                serde_json::json!({"token_id": uid.to_string(), "error": error.to_string()})
                            }
                        }
                    }
                    Err(error) => serde_json::json!({"error": error.to_string()}),
                };
                let ok = outcome.get("encoded").is_some();
                println!("{outcome}");
                if ok {
                    done += 1;
                }
                // Taken away before the next one.
                while states[0].current_state().contains(State::PRESENT) {
                    context
                        .get_status_change(Duration::from_millis(500), &mut states)
                        .ok();
                    states[0].sync_current_state();
                }
            }
            Ok(())
        })();
        if let Err(error) = attempt {
            eprintln!("{error}");
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    }
}

/// Waits (up to 10 s) until no card is on `reader`.
fn wait_until_empty(reader: &str) {
    use pcsc::{Context, ReaderState, Scope, State};
    let Ok(context) = Context::establish(Scope::User) else {
        return;
    };
    let Ok(name) = std::ffi::CString::new(reader) else {
        return;
    };
    let mut states = [ReaderState::new(name, State::UNAWARE)];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if context
            .get_status_change(std::time::Duration::from_millis(250), &mut states)
            .is_err()
        {
            continue;
        }
        states[0].sync_current_state();
        if !states[0].current_state().contains(State::PRESENT) {
            return;
        }
    }
}
