//! Staff PINs: 4 to 8 digits, stored only as Argon2id hashes, verified in
//! constant time by the Argon2 crate.
//!
//! A short PIN is weak against anyone who holds the database file (10^4 to
//! 10^8 guesses); the hash makes that slower, the lockout in the ledger
//! stops guessing at the terminal, and the file itself must stay protected.
//!
//! A PIN alone logs in, so a till must find whose PIN it is. Trying every
//! staff member's salted hash costs one Argon2id per member (seconds with
//! 300 volunteers). Instead each member also carries a [`PinTag`]: the
//! Argon2id of the PIN keyed with the event's secret [`PinLookupKey`] and
//! one fixed salt, so the same PIN always gives the same tag. A login
//! computes one tag, finds the one member with it by index, and verifies
//! that member's own salted hash: two Argon2id runs, whatever the staff
//! count. Keyed Argon2id rather than an HMAC: whoever steals the tags with
//! the key still pays a full Argon2id per guess (though one guess then
//! tests every member at once), where an HMAC would give up every PIN in
//! milliseconds.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

use crate::error::{InputError, LedgerError, Result};

/// How expensive a new PIN hash is. Verification reads the cost from the
/// stored hash, so hashes of either cost verify everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinHashCost {
    /// OWASP's Argon2id setting of 7 MiB and 5 passes, which it lists as
    /// equivalent to its 19 MiB and 2 passes: the same work, and a till
    /// keeps 12 MiB less of it around after a login (BENCHMARKS.md).
    /// PIN lookup keys name this cost (`p`): changing it needs a new name,
    /// or tags made before would no longer be found.
    Production,
    /// Minimal cost, for tests and simulations only.
    Fast,
}

impl PinHashCost {
    fn params(self) -> Params {
        match self {
            PinHashCost::Production => Params::new(7 * 1024, 5, 1, None),
            PinHashCost::Fast => Params::new(8, 1, 1, None),
        }
        .unwrap_or_default()
    }

    fn hasher(self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params())
    }
}

/// The event's secret for finding a staff member by PIN ([`PinTag`]s),
/// with the cost its tags are computed at (fixed for the key's life, or
/// the tags it made would no longer be found). Written as text
/// `v1.<p|f>.<64 hex digits>`; never logged: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct PinLookupKey {
    secret: [u8; 32],
    cost: PinHashCost,
}

/// A staff member's PIN under the event's [`PinLookupKey`]: equal PINs
/// give equal tags, so it finds whose PIN was typed by index. 64 hex digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinTag(String);

/// The one salt of every tag: the key is the secret, the salt only fills
/// Argon2's required slot (and keeps tags apart from any other use).
const TAG_SALT: &[u8] = b"tapster-pin-tag/v1";

impl PinLookupKey {
    pub fn generate(cost: PinHashCost) -> Self {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        PinLookupKey { secret, cost }
    }

    pub fn parse(text: &str) -> Result<Self, InputError> {
        let invalid = || InputError::new("PIN lookup key", "is not a Tapster PIN lookup key");
        let mut parts = text.split('.');
        let (Some("v1"), Some(cost), Some(secret), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let cost = match cost {
            "p" => PinHashCost::Production,
            "f" => PinHashCost::Fast,
            _ => return Err(invalid()),
        };
        let bytes = hex::decode(secret).map_err(|_| invalid())?;
        let secret = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| invalid())?;
        Ok(PinLookupKey { secret, cost })
    }

    /// The key as text, to store it or hand it to the event's tills.
    pub fn expose(&self) -> String {
        let cost = match self.cost {
            PinHashCost::Production => "p",
            PinHashCost::Fast => "f",
        };
        format!("v1.{cost}.{}", hex::encode(self.secret))
    }

    /// The tag of `pin` under this key: one Argon2id at the key's cost.
    pub fn tag(&self, pin: &Pin) -> Result<PinTag> {
        let hasher = Argon2::new_with_secret(
            &self.secret,
            Algorithm::Argon2id,
            Version::V0x13,
            self.cost.params(),
        )
        .map_err(|e| LedgerError::Corrupt(format!("PIN lookup key unusable: {e}")))?;
        let mut out = [0u8; 32];
        hasher
            .hash_password_into(pin.0.as_bytes(), TAG_SALT, &mut out)
            .map_err(|e| LedgerError::Corrupt(format!("could not tag PIN: {e}")))?;
        Ok(PinTag(hex::encode(out)))
    }
}

impl std::fmt::Debug for PinLookupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinLookupKey(<hidden>)")
    }
}

impl serde::Serialize for PinLookupKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.expose())
    }
}

impl<'de> serde::Deserialize<'de> for PinLookupKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        PinLookupKey::parse(&text).map_err(|e| serde::de::Error::custom(e.to_string()))
    }
}

impl PinTag {
    /// A tag as stored or received: 64 lowercase hex digits.
    pub fn parse(text: &str) -> Result<Self, InputError> {
        if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(InputError::new(
                "PIN tag",
                "must be 64 lowercase hex digits",
            ));
        }
        Ok(PinTag(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A PIN as typed: 4 to 8 digits. Never logged: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl Pin {
    pub fn new(value: &str) -> Result<Self, InputError> {
        if !(4..=8).contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InputError::new("PIN", "must be 4 to 8 digits"));
        }
        Ok(Pin(value.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(****)")
    }
}

pub fn hash_pin(pin: &Pin, cost: PinHashCost) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    cost.hasher()
        .hash_password(pin.0.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| LedgerError::Corrupt(format!("could not hash PIN: {e}")))
}

/// `true` when `pin` matches the stored `hash`.
pub fn verify_pin(pin: &Pin, hash: &str) -> Result<bool> {
    let parsed = PasswordHash::new(hash)
        .map_err(|e| LedgerError::Corrupt(format!("stored PIN hash is unreadable: {e}")))?;
    Ok(Argon2::default()
        .verify_password(pin.0.as_bytes(), &parsed)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_digits_only() {
        assert!(Pin::new("1234").is_ok());
        assert!(Pin::new("12345678").is_ok());
        assert!(Pin::new("123").is_err());
        assert!(Pin::new("123456789").is_err());
        assert!(Pin::new("12a4").is_err());
        assert_eq!(format!("{:?}", Pin::new("1234").unwrap()), "Pin(****)");
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let pin = Pin::new("4711").unwrap();
        let a = hash_pin(&pin, PinHashCost::Fast).unwrap();
        let b = hash_pin(&pin, PinHashCost::Fast).unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains("4711"));
        assert!(verify_pin(&pin, &a).unwrap());
        assert!(!verify_pin(&Pin::new("4712").unwrap(), &a).unwrap());
        assert!(verify_pin(&pin, "not a hash").is_err());
    }

    #[test]
    fn tags_find_a_pin_only_under_its_key() {
        let key = PinLookupKey::generate(PinHashCost::Fast);
        let pin = Pin::new("4711").unwrap();
        let tag = key.tag(&pin).unwrap();
        assert_eq!(
            tag,
            key.tag(&pin).unwrap(),
            "the same PIN gives the same tag"
        );
        assert_ne!(tag, key.tag(&Pin::new("4712").unwrap()).unwrap());
        let other = PinLookupKey::generate(PinHashCost::Fast);
        assert_ne!(
            tag,
            other.tag(&pin).unwrap(),
            "another event's key, another tag"
        );
        assert_eq!(PinTag::parse(tag.as_str()).unwrap(), tag);
        assert!(!tag.as_str().contains("4711"));
        assert!(PinTag::parse("4711").is_err());
        // The cost is part of the key: tags made at production cost are
        // not those made at test cost with the same secret.
        let production = PinLookupKey {
            cost: PinHashCost::Production,
            ..key.clone()
        };
        assert_ne!(production.tag(&pin).unwrap(), tag);
    }

    #[test]
    fn lookup_keys_read_back_and_hide_in_debug() {
        let key = PinLookupKey::generate(PinHashCost::Production);
        let text = key.expose();
        assert!(text.starts_with("v1.p."));
        assert_eq!(PinLookupKey::parse(&text).unwrap(), key);
        assert!(!format!("{key:?}").contains(&text[5..]));
        for bad in [
            "",
            "v1.p.00",
            "v2.p.".to_string().as_str(),
            "v1.x.00",
            &text[..text.len() - 2],
        ] {
            assert!(PinLookupKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn production_cost_hashes_verify_too() {
        let pin = Pin::new("0000").unwrap();
        let hash = hash_pin(&pin, PinHashCost::Production).unwrap();
        assert!(hash.contains("m=7168,t=5,p=1"));
        // Hashes made before at OWASP's 19 MiB setting still verify: the
        // cost is read from the hash.
        let older = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$";
        let pin_hash = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(19 * 1024, 2, 1, None).unwrap(),
        )
        .hash_password(
            pin.0.as_bytes(),
            &SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").unwrap(),
        )
        .unwrap()
        .to_string();
        assert!(pin_hash.starts_with(older));
        assert!(verify_pin(&pin, &pin_hash).unwrap());
        assert!(verify_pin(&pin, &hash).unwrap());
    }
}
