//! What kind of card answered, guessed from its ATR as PC/SC part 3
//! describes contactless storage cards.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardType {
    MifareClassic,
    /// MIFARE Ultralight and the NTAG family, which readers report alike.
    UltralightNtag,
    Desfire,
    Other,
}

/// PC/SC part 3: `3B 8F 80 01 80 4F 0C A0 00 00 03 06 SS NN NN …`, where
/// SS is the standard and NN NN the card name.
const PART3_PREFIX: [u8; 12] = [
    0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06,
];

impl CardType {
    pub fn from_atr(atr: &[u8]) -> CardType {
        if atr.len() >= 15 && atr[..12] == PART3_PREFIX {
            return match (atr[13], atr[14]) {
                (0x00, 0x01) | (0x00, 0x02) | (0x00, 0x26) => CardType::MifareClassic,
                (0x00, 0x03) | (0x00, 0x3A) => CardType::UltralightNtag,
                _ => CardType::Other,
            };
        }
        // DESFire answers with a short ATR whose historical bytes are
        // `75 77 81 02 80` or, through most readers, `3B 81 80 01 80 80`.
        if atr == [0x3B, 0x81, 0x80, 0x01, 0x80, 0x80]
            || atr.windows(5).any(|w| w == [0x75, 0x77, 0x81, 0x02, 0x80])
        {
            return CardType::Desfire;
        }
        CardType::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn atrs_of_common_wristbands() {
        assert_eq!(
            CardType::from_atr(&hex("3B8F8001804F0CA000000306030001000000006A")),
            CardType::MifareClassic
        );
        assert_eq!(
            CardType::from_atr(&hex("3B8F8001804F0CA0000003060300030000000068")),
            CardType::UltralightNtag
        );
        assert_eq!(CardType::from_atr(&hex("3B8180018080")), CardType::Desfire);
        assert_eq!(
            CardType::from_atr(&hex("3B8F8001804F0CA0000003061100F00400000004")),
            CardType::Other
        );
        assert_eq!(CardType::from_atr(&[]), CardType::Other);
    }
}
