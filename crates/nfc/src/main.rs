//! `tapster-nfc watch [--reader NAME]`: one JSON line per event until
//! stopped (Ctrl-C).

use std::sync::mpsc;

use tapster_nfc::{watch, WatchConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some("watch") {
        eprintln!("usage: tapster-nfc watch [--reader NAME]");
        std::process::exit(2);
    }
    let reader = args
        .iter()
        .position(|a| a == "--reader")
        .and_then(|i| args.get(i + 1))
        .cloned();
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
