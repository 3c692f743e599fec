//! The event's master keys for bands and the per-band keys diversified
//! from them (NXP AN10922), so a key read out of one band opens no other.

use crate::crypto::{diversify, Key, SunError, SunMessage};

/// The application master key: changes keys (encoding station only).
pub const MASTER_KEY_NO: u8 = 0;
/// The key a till authenticates a band with at every tap.
pub const TAP_KEY_NO: u8 = 1;
/// The key a band encrypts its UID and read counter in its SUN links with
/// (SDM meta read key; one per key version, see [`BandKeys::sdm_meta_read`]).
pub const SDM_META_READ_KEY_NO: u8 = 2;
/// The key a band signs its SUN links with (SDM file read key).
pub const SDM_FILE_READ_KEY_NO: u8 = 4;

/// One version of the event's master key for bands.
#[derive(Clone, PartialEq, Eq)]
pub struct BandKeys {
    /// 1–255 (0 is a factory-fresh band).
    pub version: u8,
    pub master: Key,
}

impl std::fmt::Debug for BandKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BandKeys(version {}, <hidden>)", self.version)
    }
}

impl BandKeys {
    /// Band key `key_no` of the band with `uid`: AN10922 over
    /// `UID ‖ key number ‖ "tapster-band"`.
    pub fn for_band(&self, uid: &[u8], key_no: u8) -> Key {
        let mut input = Vec::with_capacity(uid.len() + 13);
        input.extend_from_slice(uid);
        input.push(key_no);
        input.extend_from_slice(b"tapster-band");
        diversify(&self.master, &input)
    }
}

/// The master keys a till knows: the current version, and the one before
/// while bands are re-keyed after a rotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyring {
    pub current: BandKeys,
    pub previous: Option<BandKeys>,
}

impl Keyring {
    /// The keys of `version`, if this keyring has them.
    pub fn version(&self, version: u8) -> Option<&BandKeys> {
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .find(|k| k.version == version)
    }
}

impl BandKeys {
    /// The key that encrypts the UID and counter in every band's SUN link
    /// (SDM meta read key). The same for all bands of a key version: the
    /// UID is what it hides, so it cannot be diversified by it.
    pub fn sdm_meta_read(&self) -> Key {
        diversify(&self.master, b"tapster-sdm-meta-read")
    }

    /// The key the band with `uid` signs its SUN links with.
    pub fn sdm_file_read(&self, uid: &[u8]) -> Key {
        self.for_band(uid, SDM_FILE_READ_KEY_NO)
    }
}

impl BandKeys {
    /// Key `key_no` of the band with `uid` as encoding gives it.
    pub fn key(&self, uid: &[u8], key_no: u8) -> Key {
        if key_no == SDM_META_READ_KEY_NO {
            self.sdm_meta_read()
        } else {
            self.for_band(uid, key_no)
        }
    }
}

impl Keyring {
    /// Checks a SUN link (`e=` PICC data, `c=` MAC over nothing) made by a
    /// band of this event under the current or the previous key version.
    /// Whether its counter went up is the caller's to check.
    pub fn verify_sun(&self, picc: &[u8], mac: &[u8]) -> Result<(SunMessage, u8), SunError> {
        let mut last = SunError::UnknownTag;
        for keys in std::iter::once(&self.current).chain(self.previous.as_ref()) {
            let message = match crate::crypto::decrypt_picc_data(&keys.sdm_meta_read(), picc) {
                Ok(message) => message,
                // A version whose key does not even decrypt the link says
                // less than one whose signature did not match.
                Err(error) => {
                    if last != SunError::BadSignature {
                        last = error;
                    }
                    continue;
                }
            };
            match crate::crypto::verify_sun(
                &keys.sdm_meta_read(),
                &keys.sdm_file_read(&message.uid),
                picc,
                mac,
                b"",
            ) {
                Ok(message) => return Ok((message, keys.version)),
                Err(error) => last = error,
            }
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{cbc_encrypt, sdm_mac};

    fn band_keys(version: u8, byte: u8) -> BandKeys {
        BandKeys {
            version,
            master: [byte; 16],
        }
    }

    /// A SUN link as a band with `uid` of `keys` would make it at `counter`.
    fn link(keys: &BandKeys, uid: [u8; 7], counter: u32) -> (Vec<u8>, [u8; 8]) {
        let mut plain = vec![0xC7];
        plain.extend_from_slice(&uid);
        plain.extend_from_slice(&counter.to_le_bytes()[..3]);
        plain.extend_from_slice(&[0x11, 0x22, 0x33, 0x44, 0x55]);
        let picc = cbc_encrypt(&keys.sdm_meta_read(), &[0; 16], &plain);
        let mac = sdm_mac(&keys.sdm_file_read(&uid), &SunMessage { uid, counter }, b"");
        (picc, mac)
    }

    #[test]
    fn band_keys_differ_per_band_key_number_and_version() {
        let one = band_keys(1, 7);
        let two = band_keys(2, 8);
        let uid = [4, 1, 2, 3, 4, 5, 6];
        let other = [4, 1, 2, 3, 4, 5, 7];
        assert_ne!(one.for_band(&uid, 1), one.for_band(&other, 1));
        assert_ne!(one.for_band(&uid, 0), one.for_band(&uid, 1));
        assert_ne!(one.for_band(&uid, 1), two.for_band(&uid, 1));
        assert!(format!("{one:?}").contains("<hidden>"));
    }

    #[test]
    fn sun_links_of_this_events_bands_verify_under_either_key_version() {
        let uid = [0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6];
        let old = band_keys(1, 7);
        let keyring = Keyring {
            current: band_keys(2, 8),
            previous: Some(old.clone()),
        };
        let (picc, mac) = link(&keyring.current, uid, 5);
        let (message, version) = keyring.verify_sun(&picc, &mac).unwrap();
        assert_eq!((message.uid, message.counter, version), (uid, 5, 2));
        let (picc, mac) = link(&old, uid, 9);
        assert_eq!(keyring.verify_sun(&picc, &mac).unwrap().1, 1);
        // Another event's band, or a changed MAC: refused.
        let (picc, mac) = link(&band_keys(1, 9), uid, 5);
        assert!(keyring.verify_sun(&picc, &mac).is_err());
        let (picc, mut mac) = link(&keyring.current, uid, 5);
        mac[0] ^= 1;
        assert_eq!(keyring.verify_sun(&picc, &mac), Err(SunError::BadSignature));
    }
}
