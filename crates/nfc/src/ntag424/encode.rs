//! The encoding station's work: a blank band (or one of the previous key
//! version) gets the band's diversified keys of the current version and,
//! optionally, a SUN link — an NDEF URL into which the band mirrors its
//! encrypted UID and read counter and a MAC at every read, so a guest who
//! taps it with a phone lands on their own balance page.
//!
//! Every step can be torn (the band taken away): each key is changed from
//! the key its own version says, so the next placing finishes the job.

use tapster_band::keys::{SDM_FILE_READ_KEY_NO, SDM_META_READ_KEY_NO};
use tapster_ledger::TokenId;

use super::{
    authenticate, key_version, select, status, uid_bytes, wrap, BandError, Card, Keyring, Session,
    FACTORY_KEY, MASTER_KEY_NO, TAP_KEY_NO,
};

/// The NDEF file: what a phone reads.
const NDEF_FILE_NO: u8 = 2;
const NDEF_FILE_SIZE: usize = 256;
const SELECT_NDEF_FILE: [u8; 7] = [0x00, 0xA4, 0x00, 0x0C, 0x02, 0xE1, 0x04];
const READ_BINARY: [u8; 5] = [0x00, 0xB0, 0x00, 0x00, 0x00];
/// `https://` in an NDEF URI record.
const HTTPS_PREFIX: u8 = 0x04;
/// Hex digits the band puts in for its encrypted PICC data and its MAC.
const PICC_DIGITS: usize = 32;
const MAC_DIGITS: usize = 16;

/// What encoding did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Encoded {
    pub token_id: String,
    /// The key version the band had before (0: factory-fresh).
    pub from_version: u8,
    pub key_version: u8,
    /// The band carries a SUN link for phones.
    pub link: bool,
}

/// A SUN link as it goes on a band: `BASE?e=<PICC data>&c=<MAC>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SunLink {
    /// The NDEF file with zeros where the band mirrors its data.
    file: Vec<u8>,
    picc_offset: u32,
    mac_offset: u32,
}

impl SunLink {
    /// The link for bands whose guest page is at `base` (an `https://`
    /// URL, such as the server's `…/guest/sun`).
    pub fn new(base: &str) -> Result<SunLink, BandError> {
        let bad = |why: &str| Err(BandError::BadLink(why.into()));
        let Some(rest) = base.strip_prefix("https://") else {
            return bad("it must start with https:// (phones open it)");
        };
        if rest.is_empty()
            || !rest.is_ascii()
            || rest.contains(|c: char| c.is_ascii_whitespace() || c.is_ascii_control() || c == '#')
        {
            return bad("it must be a web address without spaces or #");
        }
        let separator = if rest.contains('?') { '&' } else { '?' };
        let url = format!(
            "{rest}{separator}e={}&c={}",
            "0".repeat(PICC_DIGITS),
            "0".repeat(MAC_DIGITS)
        );
        // NLEN, the record's header (short record, well-known type "U"),
        // the URI prefix, the URL.
        let payload = 1 + url.len();
        let length = 4 + payload;
        if 2 + length > NDEF_FILE_SIZE {
            return Err(BandError::BadLink(format!(
                "it is {} characters too long for the band",
                2 + length - NDEF_FILE_SIZE
            )));
        }
        let mut file = (length as u16).to_be_bytes().to_vec();
        file.extend_from_slice(&[0xD1, 0x01, payload as u8, b'U', HTTPS_PREFIX]);
        file.extend_from_slice(url.as_bytes());
        let mac_offset = (file.len() - MAC_DIGITS) as u32;
        let picc_offset = mac_offset - 3 - PICC_DIGITS as u32;
        Ok(SunLink {
            file,
            picc_offset,
            mac_offset,
        })
    }

    /// NT4H2421Gx §10.7.1: plain file with SDM, read free, write and
    /// change with key 0; UID and read counter mirrored (ASCII), encrypted
    /// with the meta read key, MACed with the file read key over nothing
    /// (MAC input offset = MAC offset).
    fn file_settings(&self) -> Vec<u8> {
        let mut settings = vec![
            0x40,
            0x00,
            0xE0,
            0xC1,
            0xFF,
            (SDM_META_READ_KEY_NO << 4) | SDM_FILE_READ_KEY_NO,
        ];
        settings.extend_from_slice(&self.picc_offset.to_le_bytes()[..3]);
        settings.extend_from_slice(&self.mac_offset.to_le_bytes()[..3]);
        settings.extend_from_slice(&self.mac_offset.to_le_bytes()[..3]);
        settings
    }
}

impl Session {
    /// WriteData of a plain file inside the session (counted, not MACed).
    fn write_plain(
        &mut self,
        card: &mut dyn Card,
        file_no: u8,
        data: &[u8],
    ) -> Result<(), BandError> {
        for (index, chunk) in data.chunks(128).enumerate() {
            let mut command = vec![file_no];
            command.extend_from_slice(&((index * 128) as u32).to_le_bytes()[..3]);
            command.extend_from_slice(&(chunk.len() as u32).to_le_bytes()[..3]);
            command.extend_from_slice(chunk);
            let answer = card.transmit(&wrap(0x8D, &command))?;
            match status(&answer) {
                (_, [0x91, 0x00]) => self.counter = self.counter.wrapping_add(1),
                (_, [0x91, 0x9D]) => return Err(BandError::WrongKey),
                _ => return Err(BandError::Unexpected(answer)),
            }
        }
        Ok(())
    }
}

/// Personalises a band: a factory-fresh one (keys of version 0) or one of
/// an older key version of `keyring` gets the band keys of the current
/// version — tap key and link keys first, the master key last — and, with
/// `link`, a SUN link (a band that has one keeps it).
pub fn encode_band(
    card: &mut dyn Card,
    uid: &TokenId,
    keyring: &Keyring,
    link: Option<&SunLink>,
) -> Result<Encoded, BandError> {
    let uid_bytes = uid_bytes(uid).ok_or(BandError::BadUid)?;
    select(card)?;
    let mut versions = [0u8; 5];
    for key_no in [
        MASTER_KEY_NO,
        TAP_KEY_NO,
        SDM_META_READ_KEY_NO,
        SDM_FILE_READ_KEY_NO,
    ] {
        versions[usize::from(key_no)] = key_version(card, key_no)?;
    }
    let target = &keyring.current;
    let has_link = versions[usize::from(SDM_META_READ_KEY_NO)] != 0;
    let add_link = link.filter(|_| !has_link);
    let mut keys = vec![TAP_KEY_NO];
    if has_link || add_link.is_some() {
        keys.extend([SDM_META_READ_KEY_NO, SDM_FILE_READ_KEY_NO]);
    }
    keys.push(MASTER_KEY_NO);
    keys.retain(|k| versions[usize::from(*k)] != target.version);
    let encoded = Encoded {
        token_id: uid.to_string(),
        from_version: versions[usize::from(MASTER_KEY_NO)],
        key_version: target.version,
        link: has_link || add_link.is_some(),
    };
    if keys.is_empty() && add_link.is_none() {
        // Versions are only numbers: another event's band (or one set up
        // by someone else) can carry the same. It is ours only if it
        // proves it holds our master key.
        authenticate(card, MASTER_KEY_NO, &target.key(&uid_bytes, MASTER_KEY_NO)).map_err(
            |error| match error {
                BandError::WrongKey | BandError::BadProof => BandError::ForeignBand,
                other => other,
            },
        )?;
        return Ok(encoded);
    }
    let old_key = |key_no: u8| match versions[usize::from(key_no)] {
        0 => Ok(FACTORY_KEY),
        v => keyring
            .version(v)
            .map(|keys| keys.key(&uid_bytes, key_no))
            .ok_or(BandError::UnknownVersion(v)),
    };
    let old_master = old_key(MASTER_KEY_NO)?;
    let mut session = authenticate(card, MASTER_KEY_NO, &old_master)?;
    if let Some(link) = add_link {
        session.write_plain(card, NDEF_FILE_NO, &link.file)?;
        session.change_file_settings(card, NDEF_FILE_NO, &link.file_settings())?;
    }
    for key_no in keys {
        let new = target.key(&uid_bytes, key_no);
        match session.change_key(
            card,
            key_no,
            MASTER_KEY_NO,
            &old_key(key_no)?,
            &new,
            target.version,
        )? {
            Some(next) => session = next,
            // The master key, changed last, ends the session.
            None => break,
        }
    }
    Ok(encoded)
}

/// The URL in a band's NDEF file, read as a phone reads it (ISO SELECT of
/// the application and the NDEF file, READ BINARY).
pub fn read_link(card: &mut dyn Card) -> Result<String, BandError> {
    select(card)?;
    let answer = card.transmit(&SELECT_NDEF_FILE)?;
    if status(&answer).1 != [0x90, 0x00] {
        return Err(BandError::Unexpected(answer));
    }
    let answer = card.transmit(&READ_BINARY)?;
    match status(&answer) {
        (file, [0x90, 0x00]) => parse_link(file),
        _ => Err(BandError::Unexpected(answer)),
    }
}

fn parse_link(file: &[u8]) -> Result<String, BandError> {
    let none = || BandError::BadLink("the band carries no link".into());
    let length = usize::from(u16::from_be_bytes([
        *file.first().ok_or_else(none)?,
        *file.get(1).ok_or_else(none)?,
    ]));
    let record = file.get(2..2 + length).ok_or_else(none)?;
    // A short, well-known record of type "U".
    if record.len() < 5 || record[0] & 0x17 != 0x11 || record[1] != 1 || record[3] != b'U' {
        return Err(none());
    }
    let payload = record.get(4..4 + usize::from(record[2])).ok_or_else(none)?;
    let prefix = match payload[0] {
        0x00 => "",
        0x03 => "http://",
        HTTPS_PREFIX => "https://",
        _ => return Err(none()),
    };
    let rest = std::str::from_utf8(&payload[1..]).map_err(|_| none())?;
    Ok(format!("{prefix}{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_laid_out_with_its_placeholders_where_the_settings_say() {
        let link = SunLink::new("https://bar.example/api/v1/events/e1/guest/sun").unwrap();
        let url = parse_link(&link.file).unwrap();
        assert_eq!(
            url,
            format!(
                "https://bar.example/api/v1/events/e1/guest/sun?e={}&c={}",
                "0".repeat(32),
                "0".repeat(16)
            )
        );
        let at = |offset: u32, len: usize| {
            std::str::from_utf8(&link.file[offset as usize..offset as usize + len]).unwrap()
        };
        assert_eq!(at(link.picc_offset - 2, 2), "e=");
        assert_eq!(at(link.mac_offset - 3, 3), "&c=");
        let settings = link.file_settings();
        assert_eq!(settings[..6], [0x40, 0x00, 0xE0, 0xC1, 0xFF, 0x24]);
        assert_eq!(settings[6..9], link.picc_offset.to_le_bytes()[..3]);
        assert_eq!(settings[9..12], settings[12..15], "a MAC over nothing");
        // A query already there: the parameters are added to it.
        let with_query = SunLink::new("https://bar.example/g?lang=de").unwrap();
        assert!(parse_link(&with_query.file)
            .unwrap()
            .contains("?lang=de&e="));
    }

    #[test]
    fn links_phones_cannot_open_or_that_do_not_fit_are_refused() {
        for base in [
            "http://bar.example/g",
            "bar.example/g",
            "https://",
            "https://bar example/g",
            "https://bar.example/g#top",
        ] {
            assert!(SunLink::new(base).is_err(), "{base}");
        }
        let long = format!("https://bar.example/{}", "x".repeat(300));
        assert!(
            matches!(SunLink::new(&long), Err(BandError::BadLink(m)) if m.contains("too long"))
        );
    }
}
