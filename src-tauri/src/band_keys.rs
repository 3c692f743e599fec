//! A connected till keeps the event's band keys: fetched from the server
//! over the pinned TLS channel (never over plain HTTP), written to
//! `band-keys.json` in the config dir (mode 0600; never the ledger, a log
//! or an export), and handed to the reader at once — also after the
//! manager rotated them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tapster_nfc::ntag424::{BandKeys, Keyring};
use tapster_nfc::SharedKeyring;
use tapster_sync::ServerClient;

/// How often a till asks for new band keys.
const EVERY: Duration = Duration::from_secs(60);

/// The file the keys are kept in.
pub fn path(config_dir: &Path) -> PathBuf {
    config_dir.join("band-keys.json")
}

fn keyring(resource: &tapster_api::BandKeysResource) -> Option<Keyring> {
    let keys = |r: &tapster_api::BandKeyResource| {
        let mut master = [0u8; 16];
        hex::decode_to_slice(&r.key, &mut master).ok()?;
        Some(BandKeys {
            version: r.version,
            master,
        })
    };
    Some(Keyring {
        current: keys(&resource.current)?,
        previous: match &resource.previous {
            Some(previous) => Some(keys(previous)?),
            None => None,
        },
    })
}

/// Fetches the keys once; when they differ from what the reader has,
/// keeps them and hands them over. Returns whether they changed.
pub async fn refresh(
    client: &ServerClient,
    config_dir: &Path,
    shared: &SharedKeyring,
) -> Result<bool, String> {
    let resource = client.band_keys().await.map_err(|e| e.to_string())?;
    let fresh = keyring(&resource).ok_or("the server's band keys do not parse")?;
    let known = shared.read().unwrap_or_else(|e| e.into_inner()).clone();
    if known.as_ref() == Some(&fresh) {
        return Ok(false);
    }
    std::fs::create_dir_all(config_dir).map_err(|e| e.to_string())?;
    fresh.save(&path(config_dir)).map_err(|e| e.to_string())?;
    tracing::info!(
        version = fresh.current.version,
        "band keys from the server kept"
    );
    *shared.write().unwrap_or_else(|e| e.into_inner()) = Some(fresh);
    Ok(true)
}

/// Keeps the keys fresh while the app runs.
pub async fn keep(client: ServerClient, config_dir: PathBuf, shared: SharedKeyring) {
    loop {
        if let Err(error) = refresh(&client, &config_dir, &shared).await {
            tracing::warn!(%error, "band keys not fetched; the ones kept stay in use");
        }
        tokio::time::sleep(EVERY).await;
    }
}
