//! The band keys on a till's disk: a JSON file readable by its owner only
//! (mode 0600, refused otherwise, as ssh does with keys), never in the
//! ledger, a log or an export.
//!
//! ```json
//! {"current": {"version": 2, "key": "32 hex digits"},
//!  "previous": {"version": 1, "key": "…"}}
//! ```

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::keys::{BandKeys, Keyring};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileKeys {
    version: u8,
    key: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    current: FileKeys,
    #[serde(default)]
    previous: Option<FileKeys>,
}

/// What is wrong with a band key file.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} can be read by others (mode {mode:o}): run `chmod 600 {path}`")]
    TooOpen { path: String, mode: u32 },
    #[error("{path} is not a band key file: {reason}")]
    Invalid { path: String, reason: String },
}

fn to_keys(keys: &FileKeys) -> Result<BandKeys, String> {
    let mut master = [0u8; 16];
    if keys.key.len() != 32 {
        return Err("a key is 32 hex digits".into());
    }
    for (i, byte) in master.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&keys.key[2 * i..2 * i + 2], 16)
            .map_err(|_| "a key is 32 hex digits".to_string())?;
    }
    if keys.version == 0 {
        return Err("key version 0 is a factory-fresh band's".into());
    }
    Ok(BandKeys {
        version: keys.version,
        master,
    })
}

fn from_keys(keys: &BandKeys) -> FileKeys {
    FileKeys {
        version: keys.version,
        key: keys.master.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

impl Keyring {
    /// A new keyring with a random master key of `version`.
    pub fn generate(version: u8) -> Keyring {
        use rand::RngCore;
        let mut master = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut master);
        Keyring {
            current: BandKeys { version, master },
            previous: None,
        }
    }

    /// A rotated keyring: a new random master key of the next version, the
    /// current one kept as the previous.
    pub fn rotated(&self) -> Keyring {
        let mut next = Keyring::generate(self.current.version.wrapping_add(1).max(1));
        next.previous = Some(self.current.clone());
        next
    }

    pub fn load(path: &Path) -> Result<Keyring, KeyFileError> {
        let shown = path.display().to_string();
        let io = |source| KeyFileError::Io {
            path: shown.clone(),
            source,
        };
        let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::TooOpen { path: shown, mode });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let invalid = |reason: String| KeyFileError::Invalid {
            path: shown.clone(),
            reason,
        };
        let file: File = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        Ok(Keyring {
            current: to_keys(&file.current).map_err(invalid)?,
            previous: file
                .previous
                .as_ref()
                .map(to_keys)
                .transpose()
                .map_err(invalid)?,
        })
    }

    /// Writes the keyring to `path`, mode 0600 from the start, through a
    /// temporary file.
    pub fn save(&self, path: &Path) -> Result<(), KeyFileError> {
        let io = |source| KeyFileError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = File {
            current: from_keys(&self.current),
            previous: self.previous.as_ref().map(from_keys),
        };
        let text = serde_json::to_string(&file).expect("plain JSON");
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".new");
        let _ = std::fs::remove_file(&temporary);
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)
            .map_err(io)?;
        out.write_all(text.as_bytes()).map_err(io)?;
        out.sync_all().map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_for_its_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("band-keys.json");
        let keyring = Keyring::generate(1).rotated();
        keyring.save(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let read = Keyring::load(&path).unwrap();
        assert_eq!(read, keyring);
        assert_eq!(read.current.version, 2);
        assert_eq!(read.previous.unwrap().version, 1);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Keyring::load(&path),
            Err(KeyFileError::TooOpen { .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, r#"{"current": {"version": 0, "key": "00"}}"#).unwrap();
        assert!(matches!(
            Keyring::load(&path),
            Err(KeyFileError::Invalid { .. })
        ));
    }
}
