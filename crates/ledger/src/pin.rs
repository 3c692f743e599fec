//! Staff PINs: 4 to 8 digits, stored only as Argon2id hashes, verified in
//! constant time by the Argon2 crate.
//!
//! A short PIN is weak against anyone who holds the database file (10^4 to
//! 10^8 guesses); the hash makes that slower, the lockout in the ledger
//! stops guessing at the terminal, and the file itself must stay protected.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{InputError, LedgerError, Result};

/// How expensive a new PIN hash is. Verification reads the cost from the
/// stored hash, so hashes of either cost verify everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinHashCost {
    /// OWASP's Argon2id recommendation: 19 MiB, 2 passes.
    Production,
    /// Minimal cost, for tests and simulations only.
    Fast,
}

impl PinHashCost {
    fn hasher(self) -> Argon2<'static> {
        let params = match self {
            PinHashCost::Production => Params::new(19 * 1024, 2, 1, None),
            PinHashCost::Fast => Params::new(8, 1, 1, None),
        }
        .unwrap_or_default();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
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
    fn production_cost_hashes_verify_too() {
        let pin = Pin::new("0000").unwrap();
        let hash = hash_pin(&pin, PinHashCost::Production).unwrap();
        assert!(hash.contains("m=19456,t=2,p=1"));
        assert!(verify_pin(&pin, &hash).unwrap());
    }
}
