//! Passes at this till: the server's pass feed (by code digest) and the
//! uses this till let go with its sales. Offline, a pass goes no more
//! often than the pass allows by what the till knows: the server's count
//! when it last told, plus its own uses.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::entries::load_lines;
use super::Ledger;
use crate::clock::Timestamp;
use crate::error::{LedgerError, Result};
use crate::money::Cents;
use crate::passes::{KnownPass, Pass, PassCode};

impl Ledger {
    /// Takes in a page of the server's pass feed, in one transaction.
    pub fn apply_pass_feed(&self, passes: &[KnownPass]) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for known in passes {
            let json =
                serde_json::to_string(known).map_err(|e| LedgerError::Corrupt(e.to_string()))?;
            tx.prepare_cached(
                "INSERT INTO known_passes (code_digest, pass, used, version) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (code_digest) DO UPDATE SET pass = excluded.pass, used = excluded.used,
                     version = excluded.version
                 WHERE excluded.version > known_passes.version",
            )?
            .execute(params![
                known.code_digest,
                json,
                i64::from(known.used),
                known.version
            ])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The pass feed's version this till has taken in (0: nothing yet).
    pub fn pass_feed_version(&self) -> Result<i64> {
        Ok(self.lock().query_row(
            "SELECT COALESCE(MAX(version), 0) FROM known_passes",
            [],
            |r| r.get(0),
        )?)
    }

    /// A scanned code as this till knows it from the pass feed, and how
    /// often it counts as used here (the server's count plus this till's
    /// own uses since). `None`: the feed never named it.
    pub fn known_pass(&self, code: &PassCode, now: Timestamp) -> Result<Option<(Pass, u32)>> {
        let conn = self.lock();
        let Some(known) = known(&conn, code)? else {
            return Ok(None);
        };
        let pass = known.pass(code.clone());
        let used = uses_known_here(&conn, &pass, now)?;
        Ok(Some((pass, used)))
    }
}

fn known(conn: &Connection, code: &PassCode) -> Result<Option<KnownPass>> {
    let json: Option<String> = conn
        .prepare_cached("SELECT pass FROM known_passes WHERE code_digest = ?1")?
        .query_row([code.digest()], |r| r.get(0))
        .optional()?;
    json.map(|json| {
        serde_json::from_str(&json).map_err(|e| LedgerError::Corrupt(format!("known pass: {e}")))
    })
    .transpose()
}

/// How often `pass` counts as used by what this till knows: the server's
/// count when its feed last told (an allowance's, for its period then)
/// and this till's own uses in the period (a cancelled sale gave its use
/// back). Uses the server counted already are counted twice until the
/// feed tells again: on the safe side.
pub(super) fn uses_known_here(conn: &Connection, pass: &Pass, now: Timestamp) -> Result<u32> {
    let server = known(conn, &pass.code)?.map_or(0, |known| known.used);
    let own: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM pass_uses WHERE code = ?1 AND at >= ?2")?
        .query_row(
            params![pass.code.as_str(), pass.counted_since(now).0],
            |r| r.get(0),
        )?;
    Ok(server.saturating_add(u32::try_from(own).unwrap_or(u32::MAX)))
}

/// What passes took off this terminal's sales that the server has not
/// decided yet (the passes' offline exposure).
pub(super) fn offline_pass_exposure(conn: &Connection) -> Result<Cents> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.sequence FROM entries e
         LEFT JOIN entry_sync s ON s.entry_sequence = e.sequence
         WHERE e.sequence > (SELECT decided_through FROM sync_progress WHERE id = 1)
           AND s.state IS NULL AND e.kind = 'sale' AND e.lines LIKE '%\"x\":%'",
    )?;
    let sequences: Vec<i64> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut exposure = Cents::ZERO;
    for sequence in sequences {
        for line in load_lines(conn, sequence)?
            .iter()
            .filter(|line| line.pass.is_some())
        {
            let off = line
                .total()
                .and_then(Cents::checked_neg)
                .ok_or(LedgerError::AmountOverflow)?;
            exposure = exposure
                .checked_add(off)
                .ok_or(LedgerError::AmountOverflow)?;
        }
    }
    Ok(exposure)
}
