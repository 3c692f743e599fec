//! Genuine wristbands as a test needs them: the event's keys as the
//! server hands them to a till, and the SUN link a band makes when a
//! phone reads it.

use tapster_band::crypto::{cbc_encrypt, sdm_mac, SunMessage};
use tapster_band::{BandKeys, Keyring};

/// The keyring in the answer of `GET …/pos/band-keys`.
pub fn keyring(body: &serde_json::Value) -> Keyring {
    let keys = |v: &serde_json::Value| {
        let mut master = [0u8; 16];
        hex::decode_to_slice(v["key"].as_str().unwrap(), &mut master).unwrap();
        BandKeys {
            version: v["version"].as_u64().unwrap() as u8,
            master,
        }
    };
    Keyring {
        current: keys(&body["data"]["current"]),
        previous: body["data"]["previous"]
            .as_object()
            .map(|_| keys(&body["data"]["previous"])),
    }
}

/// A SUN link (`e`, `c`) as a band with `uid` makes it with `keys` at `counter`.
pub fn link(keys: &BandKeys, uid: [u8; 7], counter: u32) -> (String, String) {
    let mut plain = vec![0xC7];
    plain.extend_from_slice(&uid);
    plain.extend_from_slice(&counter.to_le_bytes()[..3]);
    plain.extend_from_slice(&[9, 8, 7, 6, 5]);
    let picc = cbc_encrypt(&keys.sdm_meta_read(), &[0; 16], &plain);
    let mac = sdm_mac(&keys.sdm_file_read(&uid), &SunMessage { uid, counter }, b"");
    (hex::encode_upper(picc), hex::encode_upper(mac))
}
