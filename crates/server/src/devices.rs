//! Seed 003's devices and locations. A device is one of the event's
//! terminals (one model, not two) with the seed's extra fields: a uuid,
//! the integrator's `external_device_id` (unique per event), a PIN (kept
//! as an Argon2 hash, never answered), point multipliers and a location.

use crate::db::{params, Connection, OptionalExtension};
use tapster_api::walletapp::{DeviceResource, DeviceUpdate, LocationResource, NewDevice};
use tapster_ledger::model::Permission;
use tapster_ledger::pin::{hash_pin, Pin, PinHashCost};

use crate::error::ServerError;
use crate::store::{terminal_name, ServerStore};

const DEVICE_COLUMNS: &str =
    "t.friendly_name, t.identifier, t.external_device_id, t.add_multiplier,
     t.subtract_multiplier, t.id, t.permission, t.archived, l.identifier, l.address";

fn device_row(r: &crate::db::Row<'_>) -> crate::db::Result<DeviceResource> {
    let location = match (
        r.get::<_, Option<String>>(8)?,
        r.get::<_, Option<String>>(9)?,
    ) {
        (Some(identifier), Some(address)) => Some(LocationResource {
            identifier,
            address,
        }),
        _ => None,
    };
    Ok(DeviceResource {
        name: r.get(0)?,
        identifier: r.get(1)?,
        external_device_id: r.get(2)?,
        add_multiplier: r.get(3)?,
        subtract_multiplier: r.get(4)?,
        pin: None,
        location,
        terminal_id: r.get(5)?,
        permission: r.get::<_, String>(6)?.parse().unwrap_or(Permission::Debit),
        archived: r.get(7)?,
    })
}

fn check_multiplier(field: &str, value: i64) -> Result<(), ServerError> {
    if (1..=1000).contains(&value) {
        Ok(())
    } else {
        Err(ServerError::invalid(field, "must be 1 to 1000"))
    }
}

fn check_external_id(value: &str) -> Result<String, ServerError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 100 {
        return Err(ServerError::invalid(
            "external_device_id",
            "must be 1 to 100 characters",
        ));
    }
    Ok(value.to_string())
}

fn pin_hash(pin: &str, cost: PinHashCost) -> Result<String, ServerError> {
    let pin = Pin::new(pin).map_err(|e| ServerError::invalid("pin", e.reason))?;
    Ok(hash_pin(&pin, cost)?)
}

fn location_exists(conn: &Connection, event: &str, id: &str) -> Result<(), ServerError> {
    let found: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM locations WHERE event_id = ?1 AND identifier = ?2)",
        params![event, id],
        |r| r.get(0),
    )?;
    if found {
        Ok(())
    } else {
        Err(ServerError::invalid(
            "location_id",
            format!("location '{id}' does not exist"),
        ))
    }
}

fn external_id_taken(
    conn: &Connection,
    event: &str,
    external: &str,
    except: &str,
) -> Result<(), ServerError> {
    let taken: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM terminals WHERE event_id = ?1 AND external_device_id = ?2 AND identifier <> ?3)",
        params![event, external, except],
        |r| r.get(0),
    )?;
    if taken {
        Err(ServerError::Conflict(format!(
            "external_device_id '{external}' belongs to another device"
        )))
    } else {
        Ok(())
    }
}

impl ServerStore {
    pub fn locations(&self, event: &str) -> Result<Vec<LocationResource>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let mut stmt = conn.prepare_cached(
            "SELECT identifier, address FROM locations WHERE event_id = ?1 ORDER BY address",
        )?;
        let rows = stmt.query_map([event], |r| {
            Ok(LocationResource {
                identifier: r.get(0)?,
                address: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<crate::db::Result<_>>()?)
    }

    pub fn create_location(
        &self,
        event: &str,
        address: &str,
    ) -> Result<LocationResource, ServerError> {
        let address = address.trim().to_string();
        if address.is_empty() || address.chars().count() > 200 {
            return Err(ServerError::invalid(
                "address",
                "must be 1 to 200 characters",
            ));
        }
        let (event, now) = (event.to_string(), self.clock.now().0);
        self.write(move |conn| {
            Self::ensure_event(conn, &event)?;
            let location = LocationResource {
                identifier: uuid::Uuid::new_v4().to_string(),
                address,
            };
            conn.execute(
                "INSERT INTO locations (event_id, identifier, address, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![event, location.identifier, location.address, now],
            )?;
            Ok(location)
        })
    }

    /// All devices, archived ones included (flagged).
    pub fn devices(&self, event: &str) -> Result<Vec<DeviceResource>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {DEVICE_COLUMNS} FROM terminals t
             LEFT JOIN locations l ON l.event_id = t.event_id AND l.identifier = t.location_id
             WHERE t.event_id = ?1 ORDER BY t.friendly_name, t.id"
        ))?;
        let rows = stmt.query_map([event], device_row)?;
        Ok(rows.collect::<crate::db::Result<_>>()?)
    }

    pub fn device(&self, event: &str, identifier: &str) -> Result<DeviceResource, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        Self::device_in(&conn, event, identifier)
    }

    fn device_in(
        conn: &Connection,
        event: &str,
        identifier: &str,
    ) -> Result<DeviceResource, ServerError> {
        conn.prepare_cached(&format!(
            "SELECT {DEVICE_COLUMNS} FROM terminals t
             LEFT JOIN locations l ON l.event_id = t.event_id AND l.identifier = t.location_id
             WHERE t.event_id = ?1 AND t.identifier = ?2"
        ))?
        .query_row(params![event, identifier], device_row)
        .optional()?
        .ok_or_else(|| ServerError::NotFound(format!("device '{identifier}'")))
    }

    /// `POST devices`: a new scanner — a terminal with the seed's fields
    /// whose token may only scan passes — in one transaction (a taken
    /// external id leaves nothing behind).
    pub fn create_device(
        &self,
        event: &str,
        new: NewDevice,
        cost: PinHashCost,
    ) -> Result<DeviceResource, ServerError> {
        let name = terminal_name(&new.name, "name")?;
        let external = check_external_id(&new.external_device_id)?;
        check_multiplier("add_multiplier", new.add_multiplier)?;
        check_multiplier("subtract_multiplier", new.subtract_multiplier)?;
        let pin = pin_hash(&new.pin, cost)?;
        let permission = new.permission.unwrap_or(Permission::Debit);
        let (event, now) = (event.to_string(), self.clock.now());
        let device = self.write(move |tx| {
            Self::ensure_event(tx, &event)?;
            location_exists(tx, &event, &new.location_id)?;
            external_id_taken(tx, &event, &external, "")?;
            let (id, _token) = Self::insert_terminal(tx, &event, &name, permission, now)?;
            tx.execute(
                "UPDATE terminals SET external_device_id = ?3, add_multiplier = ?4, subtract_multiplier = ?5,
                     pin_hash = ?6, location_id = ?7, kind = 'scanner'
                 WHERE event_id = ?1 AND id = ?2",
                params![event, id, external, new.add_multiplier, new.subtract_multiplier, pin, new.location_id],
            )?;
            let identifier: String = tx.query_row(
                "SELECT identifier FROM terminals WHERE event_id = ?1 AND id = ?2",
                params![event, id],
                |r| r.get(0),
            )?;
            Self::device_in(tx, &event, &identifier)
        })?;
        tracing::info!(device = %device.identifier, terminal = %device.terminal_id, "device created");
        Ok(device)
    }

    /// `PUT devices/{identifier}`.
    pub fn update_device(
        &self,
        event: &str,
        identifier: &str,
        update: DeviceUpdate,
        cost: PinHashCost,
    ) -> Result<DeviceResource, ServerError> {
        let name = update
            .name
            .as_deref()
            .map(|name| terminal_name(name, "name"))
            .transpose()?;
        let external = update
            .external_device_id
            .as_deref()
            .map(check_external_id)
            .transpose()?;
        for (field, value) in [
            ("add_multiplier", update.add_multiplier),
            ("subtract_multiplier", update.subtract_multiplier),
        ] {
            if let Some(value) = value {
                check_multiplier(field, value)?;
            }
        }
        let pin = pin_hash(&update.pin, cost)?;
        let (event, identifier) = (event.to_string(), identifier.to_string());
        self.write(move |tx| {
            Self::ensure_event(tx, &event)?;
            Self::device_in(tx, &event, &identifier)?;
            if let Some(location) = &update.location_id {
                location_exists(tx, &event, location)?;
            }
            if let Some(external) = &external {
                external_id_taken(tx, &event, external, &identifier)?;
            }
            tx.execute(
                "UPDATE terminals SET
                     friendly_name = COALESCE(?3, friendly_name),
                     external_device_id = COALESCE(?4, external_device_id),
                     add_multiplier = COALESCE(?5, add_multiplier),
                     subtract_multiplier = COALESCE(?6, subtract_multiplier),
                     location_id = COALESCE(?7, location_id),
                     permission = COALESCE(?8, permission),
                     pin_hash = ?9
                 WHERE event_id = ?1 AND identifier = ?2",
                params![
                    event,
                    identifier,
                    name,
                    external,
                    update.add_multiplier,
                    update.subtract_multiplier,
                    update.location_id,
                    update.permission.map(|p| p.as_str()),
                    pin
                ],
            )?;
            Self::device_in(tx, &event, &identifier)
        })
    }

    /// The terminal id behind a device's uuid.
    pub fn device_terminal(&self, event: &str, identifier: &str) -> Result<String, ServerError> {
        Ok(self.device(event, identifier)?.terminal_id)
    }

    /// A new device token (the seed's key icon); the old one stops working
    /// and the device's staff sessions end.
    pub fn device_token(&self, event: &str, identifier: &str) -> Result<String, ServerError> {
        let terminal = self.device_terminal(event, identifier)?;
        Ok(self.roll_terminal_token(event, &terminal)?.api_token)
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;
    use tapster_ledger::store::migrate;

    use crate::store::MIGRATIONS;

    /// Terminals made before devices existed get a uuid each, all
    /// different, and keep their seed-003 defaults.
    #[test]
    fn terminals_from_before_get_their_own_uuids() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate::apply(&mut conn, MIGRATIONS, 3).unwrap();
        conn.execute(
            "INSERT INTO events (id, name, settings, created_at) VALUES ('e', 'E', '{}', 0)",
            [],
        )
        .unwrap();
        for n in 0..20 {
            conn.execute(
                "INSERT INTO terminals (event_id, id, friendly_name, permission, token_hash, created_at)
                 VALUES ('e', ?1, 'T', 'all', ?1, 0)",
                [format!("t{n}")],
            )
            .unwrap();
        }
        migrate::apply(&mut conn, MIGRATIONS, MIGRATIONS.len() as i64).unwrap();
        let ids: Vec<(String, i64, i64)> = conn
            .prepare("SELECT identifier, add_multiplier, subtract_multiplier FROM terminals")
            .unwrap()
            .query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ids.len(), 20);
        let unique: std::collections::BTreeSet<_> = ids.iter().map(|(id, _, _)| id).collect();
        assert_eq!(unique.len(), 20);
        for (id, add, subtract) in &ids {
            let parsed = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version_num(), 4, "{id}");
            assert_eq!((add, subtract), (&1, &1));
        }
    }
}
