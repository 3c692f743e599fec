//! Staff login by PIN or badge, with lockout after repeated failures.
//!
//! Failures are counted in the ledger (they survive restarts) per staff
//! member when one was chosen, and per terminal for PIN-only logins. While
//! locked, no PIN is even checked.
//!
//! A PIN alone is found through its tag (see [`crate::pin`]): one lookup
//! key per event, one tag per staff member, so a login costs two Argon2id
//! runs however many staff there are.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::catalog::staff_from_row;
use super::Ledger;
use crate::error::{LedgerError, Result};
use crate::ids::{StaffId, TokenId};
use crate::model::{EventSettings, Staff};
use crate::pin::{verify_pin, Pin, PinLookupKey, PinTag};
use crate::rules::LoginAttempts as Attempts;

fn settings(conn: &Connection) -> Result<EventSettings> {
    super::catalog::read_settings(conn)
}

/// The ledger's key for finding staff by PIN.
pub(super) fn pin_lookup_key(conn: &Connection) -> Result<PinLookupKey> {
    let text: String = conn
        .query_row("SELECT key FROM pin_lookup_key WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| LedgerError::Corrupt("the PIN lookup key is missing".into()))?;
    PinLookupKey::parse(&text).map_err(|e| LedgerError::Corrupt(e.to_string()))
}

/// A tag made outside the writer is only good while the key it was made
/// with is still the ledger's (a sync round may have replaced it since):
/// else a stale tag would miss its member, or be stored for them.
pub(super) fn ensure_same_key(conn: &Connection, key: &PinLookupKey) -> Result<()> {
    if pin_lookup_key(conn)? != *key {
        return Err(LedgerError::StorageBusy);
    }
    Ok(())
}

/// The active staff who may have `pin`: the one whose tag is `tag`, and
/// those with no tag yet (checked the slow way). Each with their hash.
pub(super) fn pin_candidates(conn: &Connection, tag: &PinTag) -> Result<Vec<(Staff, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, role, badge, active, pin_hash FROM staff
         WHERE active = 1 AND (pin_tag = ?1 OR pin_tag IS NULL)",
    )?;
    let rows = stmt.query_map([tag.as_str()], |row| {
        Ok((staff_from_row(row)?, row.get::<_, String>(5)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Ledger {
    /// Logs in a chosen staff member with their PIN.
    pub fn login(&self, staff: &StaffId, pin: &Pin) -> Result<Staff> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = self.options.clock.now();
        let settings = settings(&tx)?;
        let found = tx
            .query_row(
                "SELECT id, name, role, badge, active, pin_hash, failed_logins, locked_until FROM staff WHERE id = ?1",
                [staff.as_str()],
                |row| Ok((staff_from_row(row)?, row.get::<_, String>(5)?, row.get::<_, u32>(6)?, row.get::<_, Option<i64>>(7)?)),
            )
            .optional()?;
        let Some((member, hash, failed, locked_until)) = found else {
            return Err(LedgerError::UnknownStaff(staff.clone()));
        };
        let attempts = Attempts {
            failed,
            locked_until,
        };
        attempts.check_not_locked(now)?;
        if !member.active {
            return Err(LedgerError::StaffInactive(staff.clone()));
        }
        if verify_pin(pin, &hash)? {
            tx.execute(
                "UPDATE staff SET failed_logins = 0, locked_until = NULL WHERE id = ?1",
                [staff.as_str()],
            )?;
            tx.commit()?;
            tracing::info!(staff = %staff, "login");
            return Ok(member);
        }
        let (next, error) = attempts.fail(&settings, now);
        tx.execute(
            "UPDATE staff SET failed_logins = ?2, locked_until = ?3 WHERE id = ?1",
            params![staff.as_str(), next.failed, next.locked_until],
        )?;
        tx.commit()?;
        tracing::warn!(staff = %staff, failed = next.failed, "wrong PIN");
        Err(error)
    }

    /// Logs in whoever has this PIN: the staff member with its tag, or one
    /// not tagged yet whose hash it matches (who then gets their tag).
    pub fn login_by_pin(&self, pin: &Pin) -> Result<Staff> {
        // The tag's Argon2id runs before the writer is taken: sales and
        // sync wait only for the one verification below.
        let key = pin_lookup_key(&self.reader()?.conn)?;
        let tag = key.tag(pin)?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = self.options.clock.now();
        let settings = settings(&tx)?;
        let attempts = tx
            .query_row(
                "SELECT failed_logins, locked_until FROM login_throttle WHERE id = 1",
                [],
                |r| {
                    Ok(Attempts {
                        failed: r.get(0)?,
                        locked_until: r.get(1)?,
                    })
                },
            )
            .optional()?
            .unwrap_or(Attempts {
                failed: 0,
                locked_until: None,
            });
        attempts.check_not_locked(now)?;
        ensure_same_key(&tx, &key)?;
        let mut matched = None;
        for (member, hash) in pin_candidates(&tx, &tag)? {
            if verify_pin(pin, &hash)? && matched.is_none() {
                matched = Some(member);
            }
        }
        if let Some(member) = &matched {
            tx.execute(
                "UPDATE staff SET pin_tag = ?2 WHERE id = ?1 AND pin_tag IS NULL",
                params![member.id.as_str(), tag.as_str()],
            )?;
        }
        let (failed, locked_until, result) = match matched {
            Some(member) => (0, None, Ok(member)),
            None => {
                let (next, error) = attempts.fail(&settings, now);
                (next.failed, next.locked_until, Err(error))
            }
        };
        tx.execute(
            "INSERT INTO login_throttle (id, failed_logins, locked_until) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET failed_logins = excluded.failed_logins,
                 locked_until = excluded.locked_until",
            params![failed, locked_until],
        )?;
        tx.commit()?;
        match &result {
            Ok(member) => tracing::info!(staff = %member.id, "login by PIN"),
            Err(_) => tracing::warn!(failed, "wrong PIN"),
        }
        result
    }

    /// Logs in the active staff member whose NFC badge this is.
    pub fn login_by_badge(&self, badge: &TokenId) -> Result<Staff> {
        let conn = self.lock();
        let member = conn
            .query_row(
                "SELECT id, name, role, badge, active FROM staff WHERE badge = ?1",
                [badge.as_str()],
                staff_from_row,
            )
            .optional()?
            .ok_or_else(|| {
                LedgerError::InvalidInput(crate::error::InputError::new(
                    "badge",
                    "is not registered to anyone",
                ))
            })?;
        if !member.active {
            return Err(LedgerError::StaffInactive(member.id));
        }
        tracing::info!(staff = %member.id, "login by badge");
        Ok(member)
    }
}
