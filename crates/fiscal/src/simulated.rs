//! A TSE for demos and for events outside Germany. It signs with ECDSA
//! P-256 like a real one, counts transactions and signatures, and says on
//! every signature that it is not certified: its serial number starts
//! with [`NOT_CERTIFIED`], receipts print that, and exports carry it. What
//! it signs is [`signed_message`], which [`verify`] checks.

use std::sync::Mutex;

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};

use crate::process::{ProcessData, RECEIPT_PROCESS};
use crate::tse::{Health, Signed, Started, Tse, TseError};

/// How every simulated serial number starts.
pub const NOT_CERTIFIED: &str = "SIMULATED-NOT-CERTIFIED";
/// The signature algorithm's name as the specification writes it.
pub const ALGORITHM: &str = "ecdsa-plain-SHA256";

pub struct SimulatedTse {
    key: EcdsaKeyPair,
    serial: String,
    rng: SystemRandom,
    clock: Box<dyn Fn() -> i64 + Send + Sync>,
    /// Transactions started and signatures made.
    counters: Mutex<(u64, u64)>,
}

impl SimulatedTse {
    /// A new device with a fresh key, its clock the system's.
    pub fn new() -> Result<SimulatedTse, TseError> {
        Self::with_clock(Box::new(|| jiff::Timestamp::now().as_second()))
    }

    /// With a clock giving Unix seconds (tests, accelerated demos).
    pub fn with_clock(clock: Box<dyn Fn() -> i64 + Send + Sync>) -> Result<SimulatedTse, TseError> {
        Self::restore(&generate_key()?, (0, 0), clock)
    }

    /// The device whose key is `pkcs8` (from [`generate_key`]), its
    /// counters where they stood (`(transactions, signatures)`): a server
    /// restart goes on with the same serial number and counts.
    pub fn restore(
        pkcs8: &[u8],
        counters: (u64, u64),
        clock: Box<dyn Fn() -> i64 + Send + Sync>,
    ) -> Result<SimulatedTse, TseError> {
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
            .map_err(|_| TseError::Misconfigured("the simulated TSE's key is unusable".into()))?;
        let digest = ring::digest::digest(&ring::digest::SHA256, key.public_key().as_ref());
        let hex: String = digest.as_ref()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(SimulatedTse {
            serial: format!("{NOT_CERTIFIED}-{hex}"),
            key,
            rng,
            clock,
            counters: Mutex::new(counters),
        })
    }

    fn public_key(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.key.public_key().as_ref())
    }
}

/// A new key for a simulated TSE (PKCS#8), to keep with the event.
pub fn generate_key() -> Result<Vec<u8>, TseError> {
    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .map(|pkcs8| pkcs8.as_ref().to_vec())
        .map_err(|_| TseError::Misconfigured("no key could be made".into()))
}

/// What the simulated TSE signs for a transaction.
pub fn signed_message(signed: &Signed) -> String {
    format!(
        "{};{};{};{};{};{};{};{}",
        signed.tss_serial,
        signed.client_serial,
        signed.process_type,
        signed.process_data,
        signed.number,
        signed.signature_counter,
        signed.time_start,
        signed.time_end
    )
}

/// Whether `signed`'s signature is the simulated TSE's over
/// [`signed_message`].
pub fn verify(signed: &Signed) -> bool {
    let engine = base64::engine::general_purpose::STANDARD;
    let (Ok(key), Ok(signature)) = (
        engine.decode(&signed.public_key),
        engine.decode(&signed.signature),
    ) else {
        return false;
    };
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key)
        .verify(signed_message(signed).as_bytes(), &signature)
        .is_ok()
}

impl Tse for SimulatedTse {
    fn start(&self, client: &str) -> Result<Started, TseError> {
        let mut counters = self
            .counters
            .lock()
            .map_err(|_| TseError::Refused("poisoned".into()))?;
        counters.0 += 1;
        Ok(Started {
            id: uuid::Uuid::new_v4().to_string(),
            client: client.to_string(),
            number: counters.0,
            time_start: (self.clock)(),
        })
    }

    fn finish(&self, started: &Started, data: &ProcessData) -> Result<Signed, TseError> {
        let counter = {
            let mut counters = self
                .counters
                .lock()
                .map_err(|_| TseError::Refused("poisoned".into()))?;
            counters.1 += 1;
            counters.1
        };
        let mut signed = Signed {
            number: started.number,
            signature_counter: counter,
            time_start: started.time_start,
            time_end: (self.clock)(),
            tss_serial: self.serial.clone(),
            client_serial: started.client.clone(),
            algorithm: ALGORITHM.into(),
            time_format: "unixTime".into(),
            public_key: self.public_key(),
            signature: String::new(),
            process_type: RECEIPT_PROCESS.into(),
            process_data: data.text(),
            certified: false,
        };
        let signature = self
            .key
            .sign(&self.rng, signed_message(&signed).as_bytes())
            .map_err(|_| TseError::Refused("the key did not sign".into()))?;
        signed.signature = base64::engine::general_purpose::STANDARD.encode(signature.as_ref());
        Ok(signed)
    }

    fn health(&self) -> Health {
        Health {
            reachable: true,
            certified: false,
            tss_serial: Some(self.serial.clone()),
            message: "simulated TSE: not a certified device, not for events in Germany".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::{parse_qr, qr_text};
    use tapster_ledger::Cents;

    fn receipt() -> ProcessData {
        ProcessData {
            receipt_type: "Beleg".into(),
            gross: [
                Cents(1000),
                Cents::ZERO,
                Cents::ZERO,
                Cents::ZERO,
                Cents::ZERO,
            ],
            payments: vec![(Cents(1000), crate::PaymentKind::Cash)],
        }
    }

    #[test]
    fn it_signs_counts_and_says_it_is_not_certified() {
        let tse = SimulatedTse::with_clock(Box::new(|| 1_765_000_000)).unwrap();
        let first = crate::sign_or_outage(&tse, "till-1", &receipt());
        let second = crate::sign_or_outage(&tse, "till-2", &receipt());
        let (first, second) = (first.signed().unwrap(), second.signed().unwrap());
        assert_eq!((first.number, first.signature_counter), (1, 1));
        assert_eq!((second.number, second.signature_counter), (2, 2));
        assert!(first.tss_serial.starts_with(NOT_CERTIFIED));
        assert!(!first.certified && !tse.health().certified);
        assert!(verify(first) && verify(second));
        let mut forged = first.clone();
        forged.process_data = "Beleg^1.00_0.00_0.00_0.00_0.00^1.00:Bar".into();
        assert!(!verify(&forged), "a changed receipt no longer verifies");

        let qr = parse_qr(&qr_text(first)).unwrap();
        assert_eq!(qr.process_data, "Beleg^10.00_0.00_0.00_0.00_0.00^10.00:Bar");
        assert_eq!(
            (qr.number, qr.time_start, qr.time_format.as_str()),
            (1, 1_765_000_000, "unixTime")
        );
        assert_eq!(qr.signature, first.signature);
    }

    #[test]
    fn a_restored_device_keeps_its_serial_and_counts_on() {
        let key = generate_key().unwrap();
        let first = SimulatedTse::restore(&key, (0, 0), Box::new(|| 1)).unwrap();
        let signed = crate::sign_or_outage(&first, "till-1", &receipt());
        let later = SimulatedTse::restore(&key, (1, 1), Box::new(|| 2)).unwrap();
        let again = crate::sign_or_outage(&later, "till-1", &receipt());
        let (signed, again) = (signed.signed().unwrap(), again.signed().unwrap());
        assert_eq!(signed.tss_serial, again.tss_serial);
        assert_eq!(signed.public_key, again.public_key);
        assert_eq!((again.number, again.signature_counter), (2, 2));
        assert!(verify(again));
        assert!(SimulatedTse::restore(b"not a key", (0, 0), Box::new(|| 1)).is_err());
    }
}
