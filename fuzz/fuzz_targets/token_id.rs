//! Any text as a wristband id: parsed or refused with a typed error, never
//! a panic; what parses prints back as what parses again, and its mask
//! shows four hex digits only.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapster_ledger::TokenId;

fuzz_target!(|text: &str| {
    if let Ok(token) = TokenId::parse(text) {
        let again = TokenId::parse(token.as_str()).expect("a parsed id parses again");
        assert_eq!(again, token);
        assert!(token
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase()));
        assert!(TokenId::VALID_BYTE_LENGTHS.contains(&(token.as_str().len() / 2)));
        let masked = token.masked();
        assert_eq!(masked.chars().filter(char::is_ascii_hexdigit).count(), 4);
    }
});
