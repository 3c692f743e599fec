//! A certificate's SHA-256 fingerprint: what a setup code carries
//! (`fp=sha256:…`) and what a till pins.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};
use thiserror::Error;

/// SHA-256 over a certificate's DER bytes, written `sha256:` and 64 hex
/// digits (the form `openssl x509 -fingerprint -sha256` prints, with its
/// colons, is read too).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("a certificate fingerprint is sha256: followed by 64 hex digits, not {0:?}")]
pub struct MalformedFingerprint(String);

impl Fingerprint {
    /// The fingerprint of a certificate in DER form.
    pub fn of_der(der: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(der).into())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Fingerprint {
    type Err = MalformedFingerprint;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || MalformedFingerprint(text.chars().take(80).collect());
        let trimmed = text.trim();
        let digits = match trimmed.split_once(':') {
            Some((algorithm, rest)) if algorithm.eq_ignore_ascii_case("sha256") => rest,
            _ => trimmed,
        };
        let digits: String = digits.chars().filter(|c| *c != ':').collect();
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&digits, &mut bytes).map_err(|_| bad())?;
        Ok(Fingerprint(bytes))
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes_and_what_openssl_prints() {
        let fingerprint = Fingerprint::of_der(b"certificate");
        let written = fingerprint.to_string();
        assert!(written.starts_with("sha256:"));
        assert_eq!(written.len(), 7 + 64);
        assert_eq!(written.parse::<Fingerprint>().unwrap(), fingerprint);
        let openssl = hex::encode_upper(fingerprint.0)
            .as_bytes()
            .chunks(2)
            .map(|pair| std::str::from_utf8(pair).unwrap())
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(
            format!("SHA256:{openssl}").parse::<Fingerprint>().unwrap(),
            fingerprint
        );
        assert_eq!(openssl.parse::<Fingerprint>().unwrap(), fingerprint);
    }

    #[test]
    fn refuses_anything_but_32_bytes_of_hex() {
        for bad in [
            "",
            "sha256:",
            "sha256:abcd",
            "md5:00112233445566778899aabbccddeeff",
            &format!("sha256:{}", "g".repeat(64)),
            &format!("sha256:{}", "a".repeat(66)),
        ] {
            assert!(bad.parse::<Fingerprint>().is_err(), "{bad:?}");
        }
    }
}
