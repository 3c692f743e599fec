//! The code printed on a wristband that lets its guest open the guest
//! pages (balance, history, blocking a lost band, the payout).
//!
//! Twelve characters of Crockford's base32 (`0-9`, `A-Z` without `I`, `L`,
//! `O`, `U`): 60 bits, so guessing one code among 100,000 bands takes
//! about 2^43 tries, against a server that slows every address down after
//! a few wrong ones. It is printed in three groups (`7QK2-M9XD-4HNB`);
//! reading it back forgives what people do with printed codes: spaces and
//! dashes anywhere, lower case, and the look-alikes `O` for `0` and `I`,
//! `L` for `1`.
//!
//! A code is a secret: its `Debug` form hides it, and the server stores
//! only a keyed hash of it.

use std::fmt;

use rand::Rng;

/// Characters of a code.
pub const CODE_LENGTH: usize = 12;

/// Crockford's base32 alphabet.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A guest code, normalised: twelve characters of [`ALPHABET`].
#[derive(Clone, PartialEq, Eq)]
pub struct GuestCode(String);

/// Why a typed code is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuestCodeError {
    #[error("the code on the wristband has 12 letters and digits, for example 7QK2-M9XD-4HNB")]
    Malformed,
}

impl GuestCode {
    /// A new random code (the operating system's generator).
    pub fn generate() -> GuestCode {
        let mut rng = rand::rngs::OsRng;
        GuestCode(
            (0..CODE_LENGTH)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect(),
        )
    }

    /// A code as a guest typed it, or as a link carries it.
    pub fn parse(typed: &str) -> Result<GuestCode, GuestCodeError> {
        let mut code = String::with_capacity(CODE_LENGTH);
        for c in typed.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' | '\u{a0}' | '\t' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) || code.len() == CODE_LENGTH {
                return Err(GuestCodeError::Malformed);
            }
            code.push(c);
        }
        if code.len() == CODE_LENGTH {
            Ok(GuestCode(code))
        } else {
            Err(GuestCodeError::Malformed)
        }
    }

    /// The twelve characters, as hashed and put in links.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As printed on the band: three groups of four.
    pub fn grouped(&self) -> String {
        format!("{}-{}-{}", &self.0[..4], &self.0[4..8], &self.0[8..])
    }
}

/// The link a band's QR code carries: the guest page of `event` at the
/// public address `base`, with the `printed` code (its dashes left out).
/// The page takes the code out of the address bar at once.
pub fn portal_link(base: &str, event: &str, printed: &str) -> String {
    format!(
        "{}/guest/{event}?code={}",
        base.trim_end_matches('/'),
        printed.replace('-', "")
    )
}

impl fmt::Debug for GuestCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GuestCode(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_link_carries_the_code_without_dashes() {
        assert_eq!(
            portal_link("https://pay.example.org/", "evt_1", "7QK2-M9XD-4HNB"),
            "https://pay.example.org/guest/evt_1?code=7QK2M9XD4HNB"
        );
    }

    #[test]
    fn codes_are_twelve_characters_of_the_alphabet_and_differ() {
        let a = GuestCode::generate();
        let b = GuestCode::generate();
        assert_ne!(a, b);
        for code in [&a, &b] {
            assert_eq!(code.as_str().len(), CODE_LENGTH);
            assert!(code.as_str().bytes().all(|c| ALPHABET.contains(&c)));
        }
        // 32 symbols, 12 of them: at least the 55 bits asked for.
        assert!((ALPHABET.len() as f64).log2() * CODE_LENGTH as f64 >= 55.0);
    }

    #[test]
    fn typing_forgives_case_separators_and_look_alikes() {
        let code = GuestCode::parse("7QK2-M9XD-4HNB").unwrap();
        assert_eq!(code.as_str(), "7QK2M9XD4HNB");
        assert_eq!(code.grouped(), "7QK2-M9XD-4HNB");
        assert_eq!(GuestCode::parse(" 7qk2 m9xd 4hnb ").unwrap(), code);
        assert_eq!(
            GuestCode::parse("O1I2-L000-0000").unwrap().as_str(),
            "011210000000"
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for typed in [
            "",
            "7QK2-M9XD-4HN",
            "7QK2-M9XD-4HNBX",
            "7QK2-M9XD-4HNU",
            "7QK2_M9XD_4HNB",
            "7QK2-M9XD-4HNÄ",
        ] {
            assert_eq!(
                GuestCode::parse(typed),
                Err(GuestCodeError::Malformed),
                "{typed}"
            );
        }
    }

    #[test]
    fn a_code_never_shows_in_debug_output() {
        let code = GuestCode::parse("7QK2M9XD4HNB").unwrap();
        assert!(!format!("{code:?}").contains("7QK2"));
    }

    proptest! {
        #[test]
        fn a_grouped_code_reads_back_as_itself(symbols in proptest::collection::vec(0..ALPHABET.len(), CODE_LENGTH)) {
            let code = GuestCode(symbols.iter().map(|&i| char::from(ALPHABET[i])).collect());
            prop_assert_eq!(GuestCode::parse(&code.grouped()).unwrap(), code.clone());
            prop_assert_eq!(GuestCode::parse(&code.as_str().to_lowercase()).unwrap(), code);
        }
    }
}
