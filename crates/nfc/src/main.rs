//! `tapster-nfc watch [--reader NAME] [--band-keys FILE]`: one JSON line
//! per event until stopped (Ctrl-C, or after `--taps N` taps); with the
//! event's band keys every tap says whether the band is genuine.
//!
//! `tapster-nfc watch … --rekey`: a top-up till's reader — a band of the
//! previous key version is re-keyed at its tap.
//!
//! `tapster-nfc encode --band-keys FILE [--link URL] [--reader NAME]
//! [--count N]`: the encoding station — personalises each blank band put
//! on the reader (or re-keys one of an older key version), with `--link`
//! also a SUN link to the guest page at URL, and prints one JSON line per
//! band (`encoded` or `encode_failed`); take it away, put the next one on.
//!
//! `tapster-nfc read-link [--reader NAME]`: the band's link as a phone
//! reads it.
//!
//! `tapster-nfc keys new|rotate --file FILE`: a band key file (0600) with
//! a new random master key (for a standalone event or tests; a connected
//! till gets its keys from the server).
//!
//! `tapster-nfc roundtrip [--count N] [--reader NAME]`: waits for a card,
//! then times N GET DATA commands (for the benchmark).

use std::sync::mpsc;

use tapster_nfc::ntag424::{read_link as read_link_from, Keyring, SunLink};
use tapster_nfc::pcsc_reader::PcscCard;
use tapster_nfc::{watch, NfcEvent, ReaderMode, WatchConfig};

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
    let mut mode = if args.iter().any(|a| a == "--rekey") {
        ReaderMode::TapsRekeying
    } else {
        ReaderMode::Taps
    };
    match args.get(1).map(String::as_str) {
        Some("watch") => {}
        Some("encode") => {
            if keyring.is_none() {
                eprintln!("encode needs --band-keys FILE");
                std::process::exit(2);
            }
            let link = value("--link").map(|base| {
                SunLink::new(&base).unwrap_or_else(|e| {
                    eprintln!("--link: {e}");
                    std::process::exit(2)
                })
            });
            mode = ReaderMode::Encoding { link };
        }
        Some("read-link") => {
            read_link(reader.as_deref());
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
            eprintln!("usage: tapster-nfc watch|encode|read-link|keys|roundtrip [--reader NAME] [--band-keys FILE] [--count N] [--link URL] [--rekey]");
            std::process::exit(2);
        }
    }
    let (sender, receiver) = mpsc::channel();
    let _watcher = watch(
        WatchConfig {
            reader,
            keyring: std::sync::Arc::new(std::sync::RwLock::new(keyring)),
            mode: std::sync::Arc::new(std::sync::RwLock::new(mode)),
            ..WatchConfig::default()
        },
        move |event| {
            let _ = sender.send(event);
        },
    );
    // `--taps N` / `--count N`: stop after N taps or bands encoded.
    let mut taps_left = value("--taps")
        .or_else(|| value("--count"))
        .and_then(|t| t.parse::<usize>().ok());
    for event in receiver {
        match serde_json::to_string(&event) {
            Ok(line) => println!("{line}"),
            Err(error) => eprintln!("{error}"),
        }
        let done = match &event {
            NfcEvent::Tap { reader, .. } | NfcEvent::Encoded { reader, .. } => Some(reader),
            _ => None,
        };
        if let (Some(reader), Some(left)) = (done, taps_left.as_mut()) {
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

/// A phone's view of the band on the reader: waits up to 20 s for one,
/// prints the link in its NDEF file.
fn read_link(reader: Option<&str>) {
    use pcsc::{Context, Protocols, Scope, ShareMode};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let attempt = (|| -> Result<(Result<String, String>, String), pcsc::Error> {
            let context = Context::establish(Scope::User)?;
            let names = context.list_readers_owned()?;
            let name = names
                .iter()
                .find(|n| reader.is_none_or(|r| n.to_string_lossy().starts_with(r)))
                .ok_or(pcsc::Error::NoReadersAvailable)?;
            let card = context.connect(name, ShareMode::Shared, Protocols::ANY)?;
            let link = read_link_from(&mut PcscCard(&card)).map_err(|e| e.to_string());
            Ok((link, name.to_string_lossy().into_owned()))
        })();
        match attempt {
            Ok((Ok(link), name)) => {
                println!("{}", serde_json::json!({ "link": link }));
                wait_until_empty(&name);
                return;
            }
            Ok((Err(error), _)) => {
                println!("{}", serde_json::json!({ "error": error }));
                std::process::exit(1);
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
