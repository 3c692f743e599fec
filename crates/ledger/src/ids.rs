//! Identifiers as types, each with its own validation.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{InputError, TokenIdError};

/// The UID of an NFC wristband or badge as uppercase hex: 4, 7 or 10 bytes,
/// the three UID sizes ISO/IEC 14443-3 allows.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "04A1B2C3"))]
pub struct TokenId(String);

impl TokenId {
    pub const VALID_BYTE_LENGTHS: [usize; 3] = [4, 7, 10];

    /// Accepts hex in either case, with optional `:` or space separators
    /// between bytes (as reader tools print UIDs); stores uppercase hex.
    pub fn parse(input: &str) -> Result<Self, TokenIdError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(TokenIdError::Empty);
        }
        let mut hex = String::with_capacity(trimmed.len());
        for (position, character) in trimmed.chars().enumerate() {
            match character {
                ':' | ' ' => continue,
                c if c.is_ascii_hexdigit() => hex.push(c.to_ascii_uppercase()),
                c => {
                    return Err(TokenIdError::NotHex {
                        character: c,
                        position,
                    })
                }
            }
        }
        if !hex.len().is_multiple_of(2) {
            return Err(TokenIdError::OddDigits { digits: hex.len() });
        }
        let bytes = hex.len() / 2;
        if !Self::VALID_BYTE_LENGTHS.contains(&bytes) {
            return Err(TokenIdError::WrongLength { bytes });
        }
        Ok(TokenId(hex))
    }

    pub fn from_bytes(uid: &[u8]) -> Result<Self, TokenIdError> {
        if !Self::VALID_BYTE_LENGTHS.contains(&uid.len()) {
            return Err(TokenIdError::WrongLength { bytes: uid.len() });
        }
        Ok(TokenId(hex::encode_upper(uid)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For receipts and logs: only the last four hex digits, so a printed
    /// receipt cannot be used to clone the wristband's UID.
    pub fn masked(&self) -> String {
        let tail = &self.0[self.0.len() - 4..];
        format!("••••{tail}")
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for TokenId {
    type Err = TokenIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TokenId::parse(s)
    }
}

impl TryFrom<String> for TokenId {
    type Error = TokenIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        TokenId::parse(&value)
    }
}

impl From<TokenId> for String {
    fn from(value: TokenId) -> Self {
        value.0
    }
}

/// Declares a newtype over a short textual id (`a-z0-9_-`, 1–64 characters),
/// the shape the PointOfSale API uses for terminal and product ids.
macro_rules! slug_id {
    ($(#[$meta:meta])* $name:ident, $field:literal) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Result<Self, InputError> {
                let value = value.into();
                validate_slug($field, &value)?;
                Ok($name(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InputError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                $name::new(value)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InputError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::new(s)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

slug_id!(
    /// A terminal's id, unique in the event (`bar-1`, `coffee_machine`).
    TerminalId,
    "terminal id"
);
slug_id!(
    /// A product's id (`beer-05`, `espresso`).
    ProductId,
    "product id"
);
slug_id!(
    /// A category's id (`drinks`).
    CategoryId,
    "category id"
);
slug_id!(
    /// A staff member's id (`anna`).
    StaffId,
    "staff id"
);
slug_id!(
    /// A vendor's id (`crepes-marie`): who owns products and bars and is
    /// settled with at the end.
    VendorId,
    "vendor id"
);
slug_id!(
    /// An inventory item's id (`beer-keg`): what is counted at a bar.
    ItemId,
    "inventory item id"
);

pub const MAX_SLUG_LEN: usize = 64;

/// An id from a name, as the slug ids accept it: `Bar Nord 2` →
/// `bar-nord-2`, umlauts plain, at most `max_len` characters; empty when
/// nothing of the name is usable.
pub fn slug(name: &str, max_len: usize) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        // Letters with accents as their base letter, as menus need them.
        let c = match c {
            'ä' | 'à' | 'á' | 'â' | 'ã' | 'å' => 'a',
            'ö' | 'ò' | 'ó' | 'ô' | 'õ' | 'ø' => 'o',
            'ü' | 'ù' | 'ú' | 'û' => 'u',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ç' => 'c',
            'ñ' => 'n',
            'ß' => 's',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.truncate(max_len.min(MAX_SLUG_LEN));
    out.trim_end_matches('-').to_string()
}

/// A new thing's id from its name and the key of the request that makes
/// it: `Spezi` → `spezi-3fa91c`. The same key gives the same id, so a
/// retry of a create whose answer was lost names the same thing (and the
/// store answers it as made) instead of making a second one.
pub fn slug_for_key(name: &str, key: &str, max_slug_len: usize) -> String {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    let slug = slug(name, max_slug_len);
    if slug.is_empty() {
        format!("p-{}", &digest[..6])
    } else {
        format!("{slug}-{}", &digest[..6])
    }
}

fn validate_slug(field: &'static str, value: &str) -> Result<(), InputError> {
    if value.is_empty() || value.len() > MAX_SLUG_LEN {
        return Err(InputError::new(
            field,
            format!("must be 1 to {MAX_SLUG_LEN} characters long"),
        ));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(InputError::new(
            field,
            "may only contain a-z, 0-9, '-' and '_'",
        ));
    }
    Ok(())
}

/// A client-chosen key that makes an operation safe to retry: the same key
/// always means the same operation. 1–128 printable ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 128;

    pub fn new(value: impl Into<String>) -> Result<Self, InputError> {
        let value = value.into();
        if value.is_empty() || value.len() > Self::MAX_LEN {
            return Err(InputError::new(
                "idempotency key",
                format!("must be 1 to {} characters long", Self::MAX_LEN),
            ));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InputError::new(
                "idempotency key",
                "may only contain printable ASCII characters without spaces",
            ));
        }
        Ok(IdempotencyKey(value))
    }

    /// A fresh key for callers that make one per attempt and persist it
    /// before the first try. Time-ordered (UUIDv7: 48-bit milliseconds and
    /// 74 random bits), so the ledger's unique index on keys grows at its
    /// end instead of splitting pages all over the tree on every sale.
    pub fn random() -> Self {
        IdempotencyKey(Uuid::now_v7().simple().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for IdempotencyKey {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdempotencyKey::new(s)
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = InputError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        IdempotencyKey::new(value)
    }
}

impl From<IdempotencyKey> for String {
    fn from(value: IdempotencyKey) -> Self {
        value.0
    }
}

/// Declares a newtype over a UUID.
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name(pub Uuid);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InputError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s)
                    .map($name)
                    .map_err(|_| InputError::new(stringify!($name), "is not a UUID"))
            }
        }
    };
}

uuid_id!(
    /// A ledger entry's id: a UUIDv7, so ids sort by creation time.
    EntryId
);
uuid_id!(
    /// A cashier shift's id.
    ShiftId
);
uuid_id!(
    /// A bill's id: one order paid by one or more payments.
    BillId
);

#[cfg(test)]
mod tests {
    #[test]
    fn a_key_names_a_new_thing_the_same_each_time() {
        let once = slug_for_key("Spezi 0,5 l", "key-1", 24);
        assert_eq!(once, slug_for_key("Spezi 0,5 l", "key-1", 24));
        assert_ne!(once, slug_for_key("Spezi 0,5 l", "key-2", 24));
        assert!(once.starts_with("spezi-0-5-l-"), "{once}");
        assert!(slug_for_key("!!!", "key-1", 24).starts_with("p-"));
    }

    use super::*;

    #[test]
    fn token_ids_are_normalised_to_uppercase_hex() {
        assert_eq!(TokenId::parse("04a1b2c3").unwrap().as_str(), "04A1B2C3");
        assert_eq!(
            TokenId::parse(" 04:A1:B2:C3:D4:E5:F6 ").unwrap().as_str(),
            "04A1B2C3D4E5F6"
        );
        assert_eq!(
            TokenId::parse("0102030405060708090A").unwrap().as_str(),
            "0102030405060708090A"
        );
        assert_eq!(
            TokenId::from_bytes(&[0xde, 0xad, 0xbe, 0xef])
                .unwrap()
                .as_str(),
            "DEADBEEF"
        );
    }

    #[test]
    fn token_ids_of_other_shapes_are_refused() {
        assert_eq!(TokenId::parse(""), Err(TokenIdError::Empty));
        assert_eq!(TokenId::parse("   "), Err(TokenIdError::Empty));
        assert_eq!(
            TokenId::parse("04A1B2"),
            Err(TokenIdError::WrongLength { bytes: 3 })
        );
        assert_eq!(
            TokenId::parse("04A1B2C3D4"),
            Err(TokenIdError::WrongLength { bytes: 5 })
        );
        assert_eq!(
            TokenId::parse("04A1B2C"),
            Err(TokenIdError::OddDigits { digits: 7 })
        );
        assert_eq!(
            TokenId::parse("04A1B2CG"),
            Err(TokenIdError::NotHex {
                character: 'G',
                position: 7
            })
        );
        assert!(TokenId::parse("04A1'; DROP TABLE x").is_err());
        assert_eq!(
            TokenId::from_bytes(&[1, 2, 3]),
            Err(TokenIdError::WrongLength { bytes: 3 })
        );
    }

    #[test]
    fn token_ids_round_trip_through_json_and_refuse_bad_ones() {
        let token: TokenId = serde_json::from_str("\"04a1b2c3\"").unwrap();
        assert_eq!(serde_json::to_string(&token).unwrap(), "\"04A1B2C3\"");
        assert!(serde_json::from_str::<TokenId>("\"xyz\"").is_err());
    }

    #[test]
    fn masked_token_shows_only_the_tail() {
        let token = TokenId::parse("04A1B2C3D4E5F6").unwrap();
        assert_eq!(token.masked(), "••••E5F6");
    }

    #[test]
    fn slugs_and_keys_are_validated() {
        assert!(ProductId::new("beer-05").is_ok());
        assert!(ProductId::new("").is_err());
        assert!(ProductId::new("Beer").is_err());
        assert!(ProductId::new("a".repeat(65)).is_err());
        assert!(StaffId::new("anna o'neil").is_err());
        assert!(IdempotencyKey::new("0QwKc2c9jUIxPyaHEjYQ").is_ok());
        assert!(IdempotencyKey::new("").is_err());
        assert!(IdempotencyKey::new("with space").is_err());
        assert!(IdempotencyKey::new("k".repeat(129)).is_err());
        assert_ne!(IdempotencyKey::random(), IdempotencyKey::random());
    }

    #[test]
    fn fresh_keys_sort_in_the_order_they_were_made() {
        let keys: Vec<String> = (0..2_000)
            .map(|_| IdempotencyKey::random().as_str().to_owned())
            .collect();
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]));
    }
}
