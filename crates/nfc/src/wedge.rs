//! Keyboard-wedge readers type the UID as keystrokes, ending with Enter.
//! Their usual forms: hex (any case, with or without `:`/`-`/space
//! separators) and the decimal number of the UID's bytes in reversed
//! order (what many cheap readers print for a 4-byte UID, often 10 digits
//! with leading zeros).

use tapster_ledger::passes::PassCode;
use tapster_ledger::{error::TokenIdError, TokenId};

/// How the reader is set up to type UIDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WedgeFormat {
    /// Decide by the characters: digits only is decimal, else hex.
    Auto,
    Hex,
    /// Decimal of the bytes in reversed order (little-endian).
    ReversedDecimal,
}

/// The token id in a line a wedge reader typed.
pub fn parse_wedge(line: &str, format: WedgeFormat) -> Result<TokenId, TokenIdError> {
    let text = line.trim();
    let decimal = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match format {
        WedgeFormat::Hex => parse_hex(text),
        WedgeFormat::ReversedDecimal => parse_reversed_decimal(text),
        // A 10-digit line of digits is the classic decimal form; hex of
        // 4, 7 or 10 bytes has 8, 14 or 20 characters.
        WedgeFormat::Auto if decimal && text.len() != 8 && text.len() != 14 && text.len() != 20 => {
            parse_reversed_decimal(text)
        }
        WedgeFormat::Auto => parse_hex(text),
    }
}

/// What a keyboard-mode scanner (a 2D barcode scanner, or a wedge NFC
/// reader) typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scanned {
    Wristband(TokenId),
    Pass(PassCode),
}

/// Tells a pass's QR code from a wristband's UID in a typed line:
/// Tapster's own codes (`TAP-` and 26 base-32 digits) are passes; then a
/// line that is a UID in `format` is a wristband; any other printable
/// line is an imported pass code (a third party's code that happens to
/// look like a UID is read as a UID — import codes with a prefix).
pub fn parse_scan(line: &str, format: WedgeFormat) -> Option<Scanned> {
    let text = line.trim();
    let code = PassCode::parse(text).ok();
    if let Some(code) = code.as_ref().filter(|c| c.is_tapster()) {
        return Some(Scanned::Pass(code.clone()));
    }
    if let Ok(token) = parse_wedge(text, format) {
        return Some(Scanned::Wristband(token));
    }
    code.map(Scanned::Pass)
}

fn parse_hex(text: &str) -> Result<TokenId, TokenIdError> {
    let cleaned: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | ' '))
        .collect();
    TokenId::parse(&cleaned)
}

fn parse_reversed_decimal(text: &str) -> Result<TokenId, TokenIdError> {
    if text.is_empty() {
        return Err(TokenIdError::Empty);
    }
    let mut value: u128 = 0;
    for (position, c) in text.chars().enumerate() {
        let digit = c.to_digit(10).ok_or(TokenIdError::NotHex {
            character: c,
            position,
        })?;
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u128::from(digit)))
            .ok_or(TokenIdError::WrongLength { bytes: 17 })?;
    }
    // The smallest UID size the number fits in.
    let bytes = [4usize, 7, 10]
        .into_iter()
        .find(|n| value < 1u128 << (8 * n))
        .ok_or(TokenIdError::WrongLength { bytes: 16 })?;
    let little_endian = value.to_le_bytes();
    TokenId::from_bytes(&little_endian[..bytes])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanned_lines_are_passes_or_wristbands() {
        let code = PassCode::generate();
        assert_eq!(
            parse_scan(&format!("{code}\r\n"), WedgeFormat::Auto),
            Some(Scanned::Pass(code))
        );
        assert_eq!(
            parse_scan("04:A1:B2:C3", WedgeFormat::Auto),
            Some(Scanned::Wristband(TokenId::parse("04A1B2C3").unwrap()))
        );
        assert_eq!(
            parse_scan("EVT-2026-0001", WedgeFormat::Auto),
            Some(Scanned::Pass(PassCode::parse("EVT-2026-0001").unwrap()))
        );
        assert_eq!(parse_scan("", WedgeFormat::Auto), None);
        assert_eq!(parse_scan("a b c d", WedgeFormat::Auto), None);
    }

    #[test]
    fn hex_in_its_usual_shapes() {
        for line in [
            "04A1B2C3D4E5F6",
            "04a1b2c3d4e5f6\n",
            "04:A1:B2:C3:D4:E5:F6",
            "04-a1-b2-c3-d4-e5-f6",
            " 04 A1 B2 C3 D4 E5 F6 ",
        ] {
            assert_eq!(
                parse_wedge(line, WedgeFormat::Auto).unwrap().as_str(),
                "04A1B2C3D4E5F6",
                "{line}"
            );
        }
        assert_eq!(
            parse_wedge("DEADBEEF", WedgeFormat::Hex).unwrap().as_str(),
            "DEADBEEF"
        );
    }

    #[test]
    fn reversed_decimal_as_cheap_readers_type_it() {
        // UID 04 A1 B2 C3 → bytes reversed C3 B2 A1 04 = 3283263748.
        assert_eq!(
            parse_wedge("3283263748", WedgeFormat::Auto)
                .unwrap()
                .as_str(),
            "04A1B2C3"
        );
        assert_eq!(
            parse_wedge("0000000001", WedgeFormat::Auto)
                .unwrap()
                .as_str(),
            "01000000"
        );
        assert_eq!(
            parse_wedge("3283263748", WedgeFormat::ReversedDecimal)
                .unwrap()
                .as_str(),
            "04A1B2C3"
        );
        // A 7-byte UID needs more than 32 bits.
        let uid7 = u128::from_le_bytes([
            0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ]);
        assert_eq!(
            parse_wedge(&uid7.to_string(), WedgeFormat::ReversedDecimal)
                .unwrap()
                .as_str(),
            "04A1B2C3D4E5F6"
        );
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert!(matches!(
            parse_wedge("", WedgeFormat::Auto),
            Err(TokenIdError::Empty)
        ));
        assert!(parse_wedge("hello", WedgeFormat::Auto).is_err());
        assert!(parse_wedge("04A1B2", WedgeFormat::Auto).is_err());
        assert!(parse_wedge("12a4", WedgeFormat::ReversedDecimal).is_err());
        assert!(parse_wedge(
            "99999999999999999999999999999999999999999",
            WedgeFormat::ReversedDecimal
        )
        .is_err());
    }
}
