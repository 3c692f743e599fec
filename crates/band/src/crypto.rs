//! The NTAG 424 DNA's cryptography, on the RustCrypto primitives (AES-128,
//! CBC, CMAC): key diversification (NXP AN10922), the session keys of
//! AuthenticateEV2First, secure messaging (NT4H2421Gx §9.1) and the
//! Secure Dynamic Messaging (SUN) of a band tapped by a phone (AN12196).

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit};
use aes::Aes128;
use cmac::{Cmac, Mac};

/// An AES-128 key.
pub type Key = [u8; 16];

/// CMAC-AES-128 of `data`.
pub fn cmac(key: &Key, data: &[u8]) -> [u8; 16] {
    let mut mac = <Cmac<Aes128> as KeyInit>::new(key.into());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The card's truncated MAC: the odd bytes of the CMAC (1, 3, …, 15).
pub fn mac_t(key: &Key, data: &[u8]) -> [u8; 8] {
    let full = cmac(key, data);
    std::array::from_fn(|i| full[2 * i + 1])
}

/// AES-128 of one block.
pub fn encrypt_block(key: &Key, block: &[u8; 16]) -> [u8; 16] {
    let cipher = Aes128::new(key.into());
    let mut out = (*block).into();
    cipher.encrypt_block(&mut out);
    out.into()
}

/// AES-128-CBC of whole blocks.
pub fn cbc_encrypt(key: &Key, iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    debug_assert!(data.len().is_multiple_of(16));
    let mut buffer = data.to_vec();
    let length = buffer.len();
    cbc::Encryptor::<Aes128>::new(key.into(), iv.into())
        .encrypt_padded::<NoPadding>(&mut buffer, length)
        .expect("whole blocks");
    buffer
}

/// AES-128-CBC decryption of whole blocks; `None` when `data` is not.
pub fn cbc_decrypt(key: &Key, iv: &[u8; 16], data: &[u8]) -> Option<Vec<u8>> {
    if data.is_empty() || !data.len().is_multiple_of(16) {
        return None;
    }
    let mut buffer = data.to_vec();
    cbc::Decryptor::<Aes128>::new(key.into(), iv.into())
        .decrypt_padded::<NoPadding>(&mut buffer)
        .ok()?;
    Some(buffer)
}

/// ISO/IEC 9797-1 padding method 2: `80`, then zeros to a whole block
/// (always at least one byte).
pub fn pad(data: &[u8]) -> Vec<u8> {
    let mut padded = data.to_vec();
    padded.push(0x80);
    while !padded.len().is_multiple_of(16) {
        padded.push(0);
    }
    padded
}

/// Removes method-2 padding; `None` when there is none.
pub fn unpad(data: &[u8]) -> Option<&[u8]> {
    let end = data.iter().rposition(|b| *b != 0)?;
    (data[end] == 0x80).then(|| &data[..end])
}

/// AN10922 AES-128 key diversification: CMAC of `01 ‖ M` over two blocks.
/// The note pads `01 ‖ M` to 32 bytes before the CMAC; for 16 to 30 bytes
/// of `M` that is exactly what CMAC's own padding does, so `M` must have
/// that length (a UID, an application id and a system identifier do).
pub fn diversify(master: &Key, input: &[u8]) -> Key {
    assert!(
        (16..=30).contains(&input.len()),
        "AN10922 diversification input of {} bytes",
        input.len()
    );
    let mut data = Vec::with_capacity(1 + input.len());
    data.push(0x01);
    data.extend_from_slice(input);
    cmac(master, &data)
}

/// `RndA` or `RndB` rotated left by one byte.
pub fn rotate_left(random: &[u8; 16]) -> [u8; 16] {
    std::array::from_fn(|i| random[(i + 1) % 16])
}

/// The keys of an authenticated session.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKeys {
    pub enc: Key,
    pub mac: Key,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(<hidden>)")
    }
}

/// NT4H2421Gx §9.1.7: the session vectors built from both randoms, CMACed
/// with the authentication key.
pub fn session_keys(key: &Key, rnd_a: &[u8; 16], rnd_b: &[u8; 16]) -> SessionKeys {
    let vector = |label: [u8; 2]| {
        let mut sv = [0u8; 32];
        sv[..6].copy_from_slice(&[label[0], label[1], 0x00, 0x01, 0x00, 0x80]);
        sv[6..8].copy_from_slice(&rnd_a[0..2]);
        for i in 0..6 {
            sv[8 + i] = rnd_a[2 + i] ^ rnd_b[i];
        }
        sv[14..24].copy_from_slice(&rnd_b[6..16]);
        sv[24..32].copy_from_slice(&rnd_a[8..16]);
        sv
    };
    SessionKeys {
        enc: cmac(key, &vector([0xA5, 0x5A])),
        mac: cmac(key, &vector([0x5A, 0xA5])),
    }
}

/// The IV of a command (`A5 5A`) or a response (`5A A5`) in full mode.
pub fn data_iv(enc: &Key, label: [u8; 2], ti: &[u8; 4], counter: u16) -> [u8; 16] {
    let mut block = [0u8; 16];
    block[..2].copy_from_slice(&label);
    block[2..6].copy_from_slice(ti);
    block[6..8].copy_from_slice(&counter.to_le_bytes());
    encrypt_block(enc, &block)
}

/// What a band tapped by a phone put in its URL (SUN), once verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SunMessage {
    /// The band's UID (7 bytes).
    pub uid: [u8; 7],
    /// Its read counter: goes up at every tap by a phone.
    pub counter: u32,
}

/// Why a SUN link is not a genuine band's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SunError {
    #[error("the link's encrypted part is not 16 bytes")]
    BadLength,
    #[error("the link was not made by a band of this event (unknown data tag)")]
    UnknownTag,
    #[error("the link's signature does not match: not a genuine band, or a changed link")]
    BadSignature,
}

/// The UID and read counter in a SUN link's encrypted PICC data
/// (`e=`, decrypted with the band's SDM meta read key).
pub fn decrypt_picc_data(meta_read: &Key, encrypted: &[u8]) -> Result<SunMessage, SunError> {
    if encrypted.len() != 16 {
        return Err(SunError::BadLength);
    }
    let plain = cbc_decrypt(meta_read, &[0; 16], encrypted).ok_or(SunError::BadLength)?;
    // PICCDataTag: UID mirrored (bit 7), counter mirrored (bit 6), UID
    // length 7 (low nibble).
    if plain[0] != 0xC7 {
        return Err(SunError::UnknownTag);
    }
    Ok(SunMessage {
        uid: plain[1..8].try_into().expect("7 bytes"),
        counter: u32::from_le_bytes([plain[8], plain[9], plain[10], 0]),
    })
}

/// The session MAC key of a SUN message (AN12196 §3.4.4): the file read
/// key CMACed over `3C C3 00 01 00 80 ‖ UID ‖ counter`.
pub fn sdm_session_mac_key(file_read: &Key, uid: &[u8; 7], counter: u32) -> Key {
    let mut sv = [0u8; 16];
    sv[..6].copy_from_slice(&[0x3C, 0xC3, 0x00, 0x01, 0x00, 0x80]);
    sv[6..13].copy_from_slice(uid);
    sv[13..16].copy_from_slice(&counter.to_le_bytes()[..3]);
    cmac(file_read, &sv)
}

/// The 8-byte SDMMAC a band puts in its link (`c=`) over `mac_input` (the
/// part of the URL between the MAC input offset and the MAC; empty when
/// they are the same).
pub fn sdm_mac(file_read: &Key, message: &SunMessage, mac_input: &[u8]) -> [u8; 8] {
    mac_t(
        &sdm_session_mac_key(file_read, &message.uid, message.counter),
        mac_input,
    )
}

/// Checks a SUN link: decrypts the PICC data, then compares the MAC in
/// constant time.
pub fn verify_sun(
    meta_read: &Key,
    file_read: &Key,
    encrypted: &[u8],
    mac: &[u8],
    mac_input: &[u8],
) -> Result<SunMessage, SunError> {
    let message = decrypt_picc_data(meta_read, encrypted)?;
    let expected = sdm_mac(file_read, &message, mac_input);
    if mac.len() != 8 || !constant_time_eq(&expected, mac) {
        return Err(SunError::BadSignature);
    }
    Ok(message)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// CRC-32 as the card computes it over a new key in ChangeKey (the
/// standard CRC-32 without its final inversion, little-endian).
pub fn crc32_nk(data: &[u8]) -> [u8; 4] {
    (!crc32fast::hash(data)).to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h<const N: usize>(text: &str) -> [u8; N] {
        let mut out = [0u8; N];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    fn v(text: &str) -> Vec<u8> {
        (0..text.len() / 2)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn an10922_diversification_example() {
        let master: Key = h("00112233445566778899AABBCCDDEEFF");
        let input = v("04782E21801D803042F54E585020416275");
        assert_eq!(
            diversify(&master, &input),
            h::<16>("A8DD63A3B89D54B37CA802473FDA9175")
        );
    }

    #[test]
    fn an12196_session_keys_of_the_first_authentication() {
        let keys = session_keys(
            &[0; 16],
            &h("13C5DB8A5930439FC3DEF9A4C675360F"),
            &h("B9E2FC789B64BF237CCCAA20EC7E6E48"),
        );
        assert_eq!(keys.enc, h::<16>("1309C877509E5A215007FF0ED19CA564"));
        assert_eq!(keys.mac, h::<16>("4C6626F5E72EA694202139295C7A7FC7"));
    }

    #[test]
    fn an12196_get_card_uid_in_full_mode() {
        // Table 28: session keys, TI and counter as published.
        let enc: Key = h("2B4D963C014DC36F24F69A50A394F875");
        let mac: Key = h("379D32130CE61705DD5FD8C36B95D764");
        let ti: [u8; 4] = h("DF055522");
        let mut command = vec![0x51];
        command.extend_from_slice(&0u16.to_le_bytes());
        command.extend_from_slice(&ti);
        assert_eq!(mac_t(&mac, &command), h::<8>("8E2C155ADDA99BE3"));
        let iv = data_iv(&enc, [0x5A, 0xA5], &ti, 1);
        assert_eq!(iv, h::<16>("7F6BB0B278EA054CBD238C5D9E9E342B"));
        let encrypted = v("70756055688505B52A5E26E59E329CD6");
        let mut answer = vec![0x00];
        answer.extend_from_slice(&1u16.to_le_bytes());
        answer.extend_from_slice(&ti);
        answer.extend_from_slice(&encrypted);
        assert_eq!(
            cmac(&mac, &answer),
            h::<16>("F4593D5FAB671F225798C4EA894195B7")
        );
        assert_eq!(mac_t(&mac, &answer), h::<8>("595F672298EA41B7"));
        let plain = cbc_decrypt(&enc, &iv, &encrypted).unwrap();
        assert_eq!(unpad(&plain).unwrap(), v("04958CAA5C5E80"));
    }

    #[test]
    fn an12196_sun_messages() {
        // Factory keys, MAC over nothing (§3.4.2).
        let message = verify_sun(
            &[0; 16],
            &[0; 16],
            &v("EF963FF7828658A599F3041510671E88"),
            &v("94EED9EE65337086"),
            b"",
        )
        .unwrap();
        assert_eq!(message.uid, h::<7>("04DE5F1EACC040"));
        assert_eq!(message.counter, 61);
        // A changed link, or another band's key: refused.
        assert_eq!(
            verify_sun(
                &[0; 16],
                &[0; 16],
                &v("EF963FF7828658A599F3041510671E88"),
                &v("94EED9EE65337087"),
                b"",
            ),
            Err(SunError::BadSignature)
        );
        assert!(verify_sun(
            &[0; 16],
            &[1; 16],
            &v("EF963FF7828658A599F3041510671E88"),
            &v("94EED9EE65337086"),
            b"",
        )
        .is_err());
        // Table 5: a MAC over part of the URL.
        let second = SunMessage {
            uid: h("04958CAA5C5E80"),
            counter: 8,
        };
        assert_eq!(
            sdm_session_mac_key(&[0; 16], &second.uid, 8),
            h::<16>("3ED0920E5E6A0320D823D5987FEAFBB1")
        );
        assert_eq!(
            sdm_mac(&[0; 16], &second, b"CEE9A53E3E463EF1F459635736738962&cmac="),
            h::<8>("ECC1E7F6C6C73BF6")
        );
    }

    #[test]
    fn padding_and_rotation() {
        assert_eq!(pad(&[1, 2]).len(), 16);
        assert_eq!(pad(&[0; 16]).len(), 32);
        assert_eq!(unpad(&pad(&[1, 2, 0])).unwrap(), &[1, 2, 0]);
        assert_eq!(unpad(&[1, 2, 3]), None);
        let r: [u8; 16] = std::array::from_fn(|i| i as u8);
        assert_eq!(rotate_left(&r)[0], 1);
        assert_eq!(rotate_left(&r)[15], 0);
    }
}
