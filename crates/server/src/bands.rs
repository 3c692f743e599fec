//! Genuine wristbands on the server: the event's master keys for bands
//! (made with the event, rotated on demand), and the SUN links a band
//! makes for a guest's phone, verified once each.

use crate::db::{params, Connection, OptionalExtension};
use tapster_band::{BandKeys, Keyring};
use tapster_ledger::TokenId;

use crate::error::ServerError;
use crate::store::ServerStore;

fn keys_of(conn: &Connection, event: &str) -> Result<Vec<BandKeys>, ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT version, master FROM band_keys WHERE event_id = ?1 ORDER BY version DESC LIMIT 2",
    )?;
    let rows = stmt.query_map([event], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut keys = Vec::new();
    for row in rows {
        let (version, master) = row?;
        let mut key = [0u8; 16];
        hex::decode_to_slice(&master, &mut key).map_err(|_| {
            ServerError::Internal("a band key in the database is not 32 hex digits".into())
        })?;
        keys.push(BandKeys {
            version: u8::try_from(version)
                .map_err(|_| ServerError::Internal("a band key version out of range".into()))?,
            master: key,
        });
    }
    Ok(keys)
}

fn insert(conn: &Connection, event: &str, keys: &BandKeys, at: i64) -> Result<(), ServerError> {
    conn.execute(
        "INSERT INTO band_keys (event_id, version, master, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![event, i64::from(keys.version), hex::encode(keys.master), at],
    )?;
    Ok(())
}

/// The first master key version of a new event.
pub(crate) fn create_first_keys(
    conn: &Connection,
    event: &str,
    at: i64,
) -> Result<(), ServerError> {
    insert(conn, event, &Keyring::generate(1).current, at)
}

/// A SUN link resolved to its band.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SunTap {
    pub token: TokenId,
    pub counter: u32,
    pub key_version: u8,
}

impl ServerStore {
    /// The event's keyring for bands (current and previous version); the
    /// first version is made now for an event from before genuine bands.
    pub fn band_keys(&self, event: &str) -> Result<Keyring, ServerError> {
        let event = event.to_string();
        let now = self.clock.now().0;
        self.write(move |conn| {
            Self::ensure_event(conn, &event)?;
            let mut keys = keys_of(conn, &event)?;
            if keys.is_empty() {
                let first = Keyring::generate(1).current;
                insert(conn, &event, &first, now)?;
                keys.push(first);
            }
            let mut keys = keys.into_iter();
            Ok(Keyring {
                current: keys.next().expect("one version at least"),
                previous: keys.next(),
            })
        })
    }

    /// A new master key version (after a till was lost): tills that sync
    /// get it, and re-key bands of the old version as they are tapped at
    /// an encoding station or a top-up till; the old version keeps working
    /// until the next rotation. With `expected`, only when that is the
    /// current version (a repeated request does not rotate twice and drop
    /// the version most bands still carry). Decided inside the writer.
    pub fn rotate_band_keys(
        &self,
        event: &str,
        expected: Option<u8>,
    ) -> Result<Keyring, ServerError> {
        // Makes the first version for an event from before band keys.
        self.band_keys(event)?;
        let (event, now) = (event.to_string(), self.clock.now().0);
        let next = self.write(move |conn| {
            let mut versions = keys_of(conn, &event)?.into_iter();
            let current = Keyring {
                current: versions
                    .next()
                    .ok_or_else(|| ServerError::Internal("no band keys".into()))?,
                previous: versions.next(),
            };
            if let Some(expected) = expected.filter(|v| *v != current.current.version) {
                return Err(ServerError::Conflict(format!(
                    "the band keys are at version {}, not {expected}: nothing was rotated",
                    current.current.version
                )));
            }
            if current.current.version == u8::MAX {
                return Err(ServerError::invalid(
                    "band keys",
                    "all 255 key versions are used: start a new event",
                ));
            }
            let next = current.rotated();
            insert(conn, &event, &next.current, now)?;
            let audit = crate::audit::Audit::new(
                tapster_api::audit::AuditAction::BandKeysRotated,
                serde_json::json!({ "from_version": current.current.version, "to_version": next.current.version }),
            );
            crate::audit::record(conn, &event, now, audit)?;
            Ok(next)
        })?;
        tracing::info!(version = next.current.version, "band keys rotated");
        Ok(next)
    }

    /// Verifies a band's SUN link (`e=`, `c=` as hex) and resolves it to
    /// the band; a link whose read counter does not go up is a replay.
    pub fn resolve_sun_link(
        &self,
        event: &str,
        picc: &str,
        mac: &str,
    ) -> Result<SunTap, ServerError> {
        let bad = |what: &str| ServerError::invalid(what, "must be hex: e 32 digits, c 16 digits");
        let picc = hex::decode(picc).map_err(|_| bad("e"))?;
        let mac = hex::decode(mac).map_err(|_| bad("c"))?;
        let keyring = self.band_keys(event)?;
        let (message, key_version) = keyring
            .verify_sun(&picc, &mac)
            .map_err(|e| ServerError::invalid("link", e.to_string()))?;
        let token = TokenId::from_bytes(&message.uid)
            .map_err(|e| ServerError::invalid("link", e.to_string()))?;
        let (event, id, counter) = (event.to_string(), token.to_string(), message.counter);
        self.write(move |conn| {
            let last: Option<i64> = conn
                .query_row(
                    "SELECT counter FROM sun_counters WHERE event_id = ?1 AND token_id = ?2",
                    params![event, id],
                    |r| r.get(0),
                )
                .optional()?;
            if last.is_some_and(|last| i64::from(counter) <= last) {
                return Err(ServerError::invalid(
                    "link",
                    "this link was used before: tap the wristband with the phone again",
                ));
            }
            conn.execute(
                "INSERT INTO sun_counters (event_id, token_id, counter) VALUES (?1, ?2, ?3)
                 ON CONFLICT (event_id, token_id) DO UPDATE SET counter = excluded.counter",
                params![event, id, i64::from(counter)],
            )?;
            Ok(())
        })?;
        Ok(SunTap {
            token,
            counter: message.counter,
            key_version,
        })
    }
}
