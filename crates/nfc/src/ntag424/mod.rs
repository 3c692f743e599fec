//! Genuine wristbands: the NTAG 424 DNA proves with AES-128 that it holds
//! its own key, diversified from the event's master key for its UID
//! (AN10922), so a cloned UID — or a key read out of another band — pays
//! nothing.
//!
//! A tap: `SELECT` the NTAG 424 application, `GetKeyVersion` of the tap
//! key, `AuthenticateEV2First` with the band's diversified key (the
//! card's proof, its rotated `RndA`, checked), then `GetCardUID` in full
//! mode (encrypted and MACed) so that a card answering one UID at
//! anticollision and another inside cannot pass.
//!
//! Encoding ([`encode_band`]): a blank band (or one of the previous key
//! version) gets the band's diversified keys of the current version, and
//! optionally a SUN link a phone opens.

mod encode;

pub use encode::{encode_band, read_link, Encoded, SunLink};
pub use tapster_band::keys::{BandKeys, Keyring, MASTER_KEY_NO, TAP_KEY_NO};
pub use tapster_band::{crypto, keyfile};

use rand::RngCore;
use tapster_ledger::TokenId;

use crypto::{cbc_decrypt, cbc_encrypt, data_iv, mac_t, pad, rotate_left, unpad, Key};

/// `SELECT` of the NTAG 424 DNA application by its DF name.
pub const SELECT_APPLICATION: [u8; 13] = [
    0x00, 0xA4, 0x04, 0x0C, 0x07, 0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01, 0x00,
];
/// What a blank band's keys are (and their version 0).
pub const FACTORY_KEY: Key = [0; 16];

/// What a tap found out about the band.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum BandCheck {
    /// The till has no band keys (UID-only event, or a demo).
    NotChecked,
    /// The band proved it holds its key of `key_version`; `rekey` when
    /// that, or another of its keys, is not of the current version (the
    /// previous version, or an encoding cut short): re-key it at a top-up
    /// till or the encoding station.
    Genuine { key_version: u8, rekey: bool },
    /// Not a genuine band of this event: a clone, a blank band, a
    /// stranger's card.
    NotGenuine { reason: String },
}

impl BandCheck {
    pub fn is_genuine(&self) -> bool {
        matches!(self, BandCheck::Genuine { .. })
    }
}

/// The card's side of the conversation, failing when the card is gone.
pub trait Card {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardGone>;
}

/// The card left the reader (or the reader went away) mid-conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the wristband was taken away during the check")]
pub struct CardGone;

/// What went wrong talking to a band.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BandError {
    #[error(transparent)]
    Gone(#[from] CardGone),
    #[error("not an NTAG 424 DNA band (it does not answer the application select)")]
    NotNtag424,
    #[error("the band refused the key (authentication error)")]
    WrongKey,
    #[error("the band's proof of the key is wrong")]
    BadProof,
    #[error("the band's answer is not signed with the session key")]
    BadMac,
    #[error("the UID inside the band ({inside}) differs from the one it showed the reader")]
    UidMismatch { inside: String },
    #[error("the band answered {0:02X?}")]
    Unexpected(Vec<u8>),
    #[error("the band's key version {0} is not one this till knows")]
    UnknownVersion(u8),
    #[error("the band's link cannot be used: {0}")]
    BadLink(String),
    #[error("not a wristband's UID (an NTAG 424 DNA has 7 bytes)")]
    BadUid,
    #[error("the band holds another event's keys (or someone else's): it cannot be encoded here")]
    ForeignBand,
}

pub(crate) fn status(answer: &[u8]) -> (&[u8], [u8; 2]) {
    match answer.len() {
        0 | 1 => (&[], [0, 0]),
        n => (&answer[..n - 2], [answer[n - 2], answer[n - 1]]),
    }
}

/// A native command wrapped in ISO 7816-4 (`90 INS 00 00 Lc data 00`).
pub(crate) fn wrap(command: u8, data: &[u8]) -> Vec<u8> {
    let mut apdu = vec![0x90, command, 0x00, 0x00];
    if !data.is_empty() {
        apdu.push(data.len() as u8);
        apdu.extend_from_slice(data);
    }
    apdu.push(0x00);
    apdu
}

/// Selects the NTAG 424 DNA application.
pub fn select(card: &mut dyn Card) -> Result<(), BandError> {
    match status(&card.transmit(&SELECT_APPLICATION)?) {
        (_, [0x90, 0x00]) => Ok(()),
        _ => Err(BandError::NotNtag424),
    }
}

/// The version of key `key_no` (plain, before authentication).
pub fn key_version(card: &mut dyn Card, key_no: u8) -> Result<u8, BandError> {
    let answer = card.transmit(&wrap(0x64, &[key_no]))?;
    match status(&answer) {
        ([version], [0x91, 0x00]) => Ok(*version),
        _ => Err(BandError::Unexpected(answer)),
    }
}

/// An authenticated session with a band.
pub struct Session {
    keys: crypto::SessionKeys,
    ti: [u8; 4],
    counter: u16,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("counter", &self.counter)
            .finish()
    }
}

/// AuthenticateEV2First with key `key_no`: the band proves it holds `key`.
pub fn authenticate(card: &mut dyn Card, key_no: u8, key: &Key) -> Result<Session, BandError> {
    let mut rnd_a = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut rnd_a);
    authenticate_with(card, key_no, key, rnd_a)
}

fn authenticate_with(
    card: &mut dyn Card,
    key_no: u8,
    key: &Key,
    rnd_a: [u8; 16],
) -> Result<Session, BandError> {
    let answer = card.transmit(&wrap(0x71, &[key_no, 0x00]))?;
    let encrypted_b = match status(&answer) {
        (data, [0x91, 0xAF]) if data.len() == 16 => data.to_vec(),
        (_, [0x91, 0xAE]) => return Err(BandError::WrongKey),
        _ => return Err(BandError::Unexpected(answer)),
    };
    let rnd_b: [u8; 16] = cbc_decrypt(key, &[0; 16], &encrypted_b)
        .ok_or(BandError::BadProof)?
        .try_into()
        .map_err(|_| BandError::BadProof)?;
    let mut both = rnd_a.to_vec();
    both.extend_from_slice(&rotate_left(&rnd_b));
    let answer = card.transmit(&wrap(0xAF, &cbc_encrypt(key, &[0; 16], &both)))?;
    let proof = match status(&answer) {
        (data, [0x91, 0x00]) if data.len() == 32 => {
            cbc_decrypt(key, &[0; 16], data).ok_or(BandError::BadProof)?
        }
        (_, [0x91, 0xAE]) => return Err(BandError::WrongKey),
        _ => return Err(BandError::Unexpected(answer)),
    };
    if proof[4..20] != rotate_left(&rnd_a) {
        return Err(BandError::BadProof);
    }
    Ok(Session {
        keys: crypto::session_keys(key, &rnd_a, &rnd_b),
        ti: proof[0..4].try_into().expect("4 bytes"),
        counter: 0,
    })
}

impl Session {
    /// The MAC of a command: `Cmd ‖ CmdCtr ‖ TI ‖ header ‖ data`.
    fn command_mac(&self, command: u8, header_and_data: &[u8]) -> [u8; 8] {
        let mut input = vec![command];
        input.extend_from_slice(&self.counter.to_le_bytes());
        input.extend_from_slice(&self.ti);
        input.extend_from_slice(header_and_data);
        mac_t(&self.keys.mac, &input)
    }

    /// Checks the MAC of an answer (`00 ‖ CmdCtr+1 ‖ TI ‖ data`) and counts
    /// the command.
    fn accept_answer(&mut self, data: &[u8], mac: &[u8]) -> Result<(), BandError> {
        let next = self.counter.wrapping_add(1);
        let mut input = vec![0x00];
        input.extend_from_slice(&next.to_le_bytes());
        input.extend_from_slice(&self.ti);
        input.extend_from_slice(data);
        if mac_t(&self.keys.mac, &input) != mac {
            return Err(BandError::BadMac);
        }
        self.counter = next;
        Ok(())
    }

    /// The band's UID as it tells it inside the session (full mode).
    pub fn card_uid(&mut self, card: &mut dyn Card) -> Result<Vec<u8>, BandError> {
        let mac = self.command_mac(0x51, &[]);
        let answer = card.transmit(&wrap(0x51, &mac))?;
        let (data, code) = status(&answer);
        if code != [0x91, 0x00] || data.len() != 24 {
            return Err(BandError::Unexpected(answer));
        }
        let (encrypted, mac) = data.split_at(16);
        self.accept_answer(encrypted, mac)?;
        let iv = data_iv(&self.keys.enc, [0x5A, 0xA5], &self.ti, self.counter);
        let plain = cbc_decrypt(&self.keys.enc, &iv, encrypted).ok_or(BandError::BadMac)?;
        Ok(unpad(&plain).ok_or(BandError::BadMac)?.to_vec())
    }

    /// Sends a command in full mode: `plain` encrypted with the session's
    /// key, the whole MACed; the band's raw answer.
    fn send_full(
        &self,
        card: &mut dyn Card,
        command: u8,
        header: &[u8],
        plain: &[u8],
    ) -> Result<Vec<u8>, BandError> {
        let iv = data_iv(&self.keys.enc, [0xA5, 0x5A], &self.ti, self.counter);
        let encrypted = cbc_encrypt(&self.keys.enc, &iv, &pad(plain));
        let mut header_and_data = header.to_vec();
        header_and_data.extend_from_slice(&encrypted);
        let mac = self.command_mac(command, &header_and_data);
        header_and_data.extend_from_slice(&mac);
        Ok(card.transmit(&wrap(command, &header_and_data))?)
    }

    /// Checks an answer that carries only a MAC.
    fn accept_mac_only(&mut self, answer: Vec<u8>) -> Result<(), BandError> {
        match status(&answer) {
            (mac, [0x91, 0x00]) if mac.len() == 8 => self.accept_answer(&[], mac),
            (_, [0x91, 0xAE]) | (_, [0x91, 0x9D]) => Err(BandError::WrongKey),
            _ => Err(BandError::Unexpected(answer)),
        }
    }

    /// ChangeKey in full mode. Changing the key this session was opened
    /// with (the master key) ends the session.
    pub fn change_key(
        mut self,
        card: &mut dyn Card,
        key_no: u8,
        authenticated_with: u8,
        old: &Key,
        new: &Key,
        version: u8,
    ) -> Result<Option<Session>, BandError> {
        let mut plain = Vec::with_capacity(21);
        if key_no == authenticated_with {
            plain.extend_from_slice(new);
            plain.push(version);
        } else {
            plain.extend(new.iter().zip(old).map(|(n, o)| n ^ o));
            plain.push(version);
            plain.extend_from_slice(&crypto::crc32_nk(new));
        }
        let answer = self.send_full(card, 0xC4, &[key_no], &plain)?;
        match status(&answer) {
            ([], [0x91, 0x00]) if key_no == authenticated_with => Ok(None),
            _ => {
                self.accept_mac_only(answer)?;
                Ok(Some(self))
            }
        }
    }

    /// ChangeFileSettings of file `file_no` in full mode (`settings` as
    /// NT4H2421Gx §10.7.1 lays them out).
    pub fn change_file_settings(
        &mut self,
        card: &mut dyn Card,
        file_no: u8,
        settings: &[u8],
    ) -> Result<(), BandError> {
        let answer = self.send_full(card, 0x5F, &[file_no], settings)?;
        self.accept_mac_only(answer)
    }
}

/// The tap check: is this band, showing `uid` at anticollision, a genuine
/// band of this event? `Err` only when the band left mid-check (an error
/// state: the next tap starts over).
pub fn check_band(
    card: &mut dyn Card,
    uid: &TokenId,
    keyring: &Keyring,
) -> Result<BandCheck, CardGone> {
    let not_genuine = |reason: String| Ok(BandCheck::NotGenuine { reason });
    let uid_bytes = match uid_bytes(uid) {
        Some(bytes) => bytes,
        None => return not_genuine("not a 7-byte UID".into()),
    };
    let result = (|| {
        select(card)?;
        let version = key_version(card, TAP_KEY_NO)?;
        let keys = keyring
            .version(version)
            .ok_or(BandError::UnknownVersion(version))?;
        let mut session = authenticate(card, TAP_KEY_NO, &keys.for_band(&uid_bytes, TAP_KEY_NO))?;
        let inside = session.card_uid(card)?;
        if inside != uid_bytes {
            return Err(BandError::UidMismatch {
                inside: hex(&inside),
            });
        }
        // A band taken away mid-encoding has its tap key of the current
        // version but not yet its master (or link) keys: it pays, and is
        // flagged so a re-keying till or the station finishes it.
        let current = keyring.current.version;
        let mut behind = version != current;
        if !behind {
            behind = key_version(card, MASTER_KEY_NO)? != current;
        }
        if !behind {
            let link = key_version(card, tapster_band::keys::SDM_META_READ_KEY_NO)?;
            behind = link != 0
                && (link != current
                    || key_version(card, tapster_band::keys::SDM_FILE_READ_KEY_NO)? != current);
        }
        Ok(BandCheck::Genuine {
            key_version: version,
            rekey: behind,
        })
    })();
    match result {
        Ok(check) => Ok(check),
        Err(BandError::Gone(gone)) => Err(gone),
        Err(BandError::UnknownVersion(0)) => not_genuine("a blank band (not encoded)".into()),
        Err(error) => not_genuine(error.to_string()),
    }
}

pub(crate) fn uid_bytes(uid: &TokenId) -> Option<Vec<u8>> {
    let text = uid.as_str();
    let bytes: Option<Vec<u8>> = (0..text.len() / 2)
        .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    bytes.filter(|b| b.len() == 7)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The card side of the first authentication, as AN12196 prints it
    /// (key 0 all zeros, its RndB), answering the reader's real messages.
    struct PublishedCard {
        rnd_b: [u8; 16],
        sent: Vec<Vec<u8>>,
    }

    impl Card for PublishedCard {
        fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardGone> {
            self.sent.push(command.to_vec());
            let key = [0u8; 16];
            match command[1] {
                0x71 => {
                    let mut answer = cbc_encrypt(&key, &[0; 16], &self.rnd_b);
                    answer.extend_from_slice(&[0x91, 0xAF]);
                    Ok(answer)
                }
                0xAF => {
                    let plain = cbc_decrypt(&key, &[0; 16], &command[5..37]).unwrap();
                    let rnd_a: [u8; 16] = plain[..16].try_into().unwrap();
                    assert_eq!(plain[16..], rotate_left(&self.rnd_b), "the reader's RndB'");
                    let mut proof = vec![0x9D, 0x00, 0xC4, 0xDF];
                    proof.extend_from_slice(&rotate_left(&rnd_a));
                    proof.extend_from_slice(&[0; 12]);
                    let mut answer = cbc_encrypt(&key, &[0; 16], &proof);
                    answer.extend_from_slice(&[0x91, 0x00]);
                    Ok(answer)
                }
                _ => Ok(vec![0x91, 0x1C]),
            }
        }
    }

    #[test]
    fn the_first_authentication_as_an12196_prints_it() {
        let mut card = PublishedCard {
            rnd_b: [
                0xB9, 0xE2, 0xFC, 0x78, 0x9B, 0x64, 0xBF, 0x23, 0x7C, 0xCC, 0xAA, 0x20, 0xEC, 0x7E,
                0x6E, 0x48,
            ],
            sent: Vec::new(),
        };
        let rnd_a = [
            0x13, 0xC5, 0xDB, 0x8A, 0x59, 0x30, 0x43, 0x9F, 0xC3, 0xDE, 0xF9, 0xA4, 0xC6, 0x75,
            0x36, 0x0F,
        ];
        let session = authenticate_with(&mut card, 0, &[0; 16], rnd_a).unwrap();
        assert_eq!(
            card.sent[0],
            [0x90, 0x71, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]
        );
        assert_eq!(card.sent[1][..5], [0x90, 0xAF, 0x00, 0x00, 0x20]);
        assert_eq!(session.ti, [0x9D, 0x00, 0xC4, 0xDF]);
        assert_eq!(
            session.keys.enc,
            [
                0x13, 0x09, 0xC8, 0x77, 0x50, 0x9E, 0x5A, 0x21, 0x50, 0x07, 0xFF, 0x0E, 0xD1, 0x9C,
                0xA5, 0x64
            ]
        );
    }

    #[test]
    fn a_wrong_proof_is_not_genuine() {
        struct Liar;
        impl Card for Liar {
            fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardGone> {
                Ok(match command[1] {
                    0x71 => {
                        let mut a = vec![7u8; 16];
                        a.extend_from_slice(&[0x91, 0xAF]);
                        a
                    }
                    _ => {
                        let mut a = vec![1u8; 32];
                        a.extend_from_slice(&[0x91, 0x00]);
                        a
                    }
                })
            }
        }
        assert_eq!(
            authenticate(&mut Liar, 1, &[0; 16]).unwrap_err(),
            BandError::BadProof
        );
    }
}
