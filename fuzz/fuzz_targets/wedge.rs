//! Any line a keyboard-wedge reader could type, in each format: a wristband
//! id or a typed refusal, never a panic; an id it gives is a valid one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapster_ledger::TokenId;
use tapster_nfc::{parse_wedge, WedgeFormat};

fuzz_target!(|line: &str| {
    for format in [
        WedgeFormat::Auto,
        WedgeFormat::Hex,
        WedgeFormat::ReversedDecimal,
    ] {
        if let Ok(token) = parse_wedge(line, format) {
            assert_eq!(TokenId::parse(token.as_str()).as_ref(), Ok(&token));
        }
    }
});
