//! Schema migrations: numbered SQL files from the top-level `migrations/`
//! folder, embedded at build time. The runner serves the terminal ledger
//! (`migrations/ledger`) and the server (`migrations/server`) alike. All pending ones run in one transaction
//! together with their bookkeeping, so a crash cannot half-apply them; a
//! migration whose text changed after it ran is refused, and so is a
//! database written by a newer Tapster.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

use crate::error::{LedgerError, Result};

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "ledger",
        sql: include_str!("../../../../migrations/ledger/0001_ledger.sql"),
    },
    Migration {
        version: 2,
        name: "report_rollups",
        sql: include_str!("../../../../migrations/ledger/0002_report_rollups.sql"),
    },
    Migration {
        version: 3,
        name: "sale_intents",
        sql: include_str!("../../../../migrations/ledger/0003_sale_intents.sql"),
    },
    Migration {
        version: 4,
        name: "genuine_bands",
        sql: include_str!("../../../../migrations/ledger/0004_genuine_bands.sql"),
    },
    Migration {
        version: 5,
        name: "promo_credit",
        sql: include_str!("../../../../migrations/ledger/0005_promo_credit.sql"),
    },
    Migration {
        version: 6,
        name: "passes_and_shift_closers",
        sql: include_str!("../../../../migrations/ledger/0006_passes_and_shift_closers.sql"),
    },
    Migration {
        version: 7,
        name: "bills",
        sql: include_str!("../../../../migrations/ledger/0007_bills.sql"),
    },
    Migration {
        version: 8,
        name: "back_office",
        sql: include_str!("../../../../migrations/ledger/0008_back_office.sql"),
    },
    Migration {
        version: 9,
        name: "plain_servers",
        sql: include_str!("../../../../migrations/ledger/0009_plain_servers.sql"),
    },
    Migration {
        version: 10,
        name: "fiscal",
        sql: include_str!("../../../../migrations/ledger/0010_fiscal.sql"),
    },
    Migration {
        version: 11,
        name: "pin_lookup",
        sql: include_str!("../../../../migrations/ledger/0011_pin_lookup.sql"),
    },
    Migration {
        version: 12,
        name: "category_removal",
        sql: include_str!("../../../../migrations/ledger/0012_category_removal.sql"),
    },
    Migration {
        version: 13,
        name: "till_audit",
        sql: include_str!("../../../../migrations/ledger/0013_till_audit.sql"),
    },
];

/// The schema version this build writes.
pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

pub fn schema_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |row| row.get(0))?)
}

/// Brings the ledger database to `target` (normally [`LATEST_VERSION`]).
pub fn migrate_to(conn: &mut Connection, target: i64) -> Result<()> {
    apply(conn, MIGRATIONS, target)
}

/// Applies `migrations` (numbered 1, 2, …) up to `target` in one
/// transaction, after checking the ones already applied are unchanged.
pub fn apply(conn: &mut Connection, migrations: &[Migration], target: i64) -> Result<()> {
    let latest = migrations.len() as i64;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > latest {
        return Err(LedgerError::SchemaTooNew {
            found: current,
            supported: latest,
        });
    }
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             name    TEXT NOT NULL,
             sha256  TEXT NOT NULL
         ) STRICT",
    )?;
    for migration in migrations.iter().filter(|m| m.version <= current) {
        let recorded: Option<String> = tx
            .query_row(
                "SELECT sha256 FROM schema_migrations WHERE version = ?1",
                [migration.version],
                |row| row.get(0),
            )
            .optional()?;
        if recorded.as_deref() != Some(checksum(migration.sql).as_str()) {
            return Err(LedgerError::MigrationChanged {
                version: migration.version,
            });
        }
    }
    for migration in migrations
        .iter()
        .filter(|m| m.version > current && m.version <= target)
    {
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applying migration"
        );
        tx.execute_batch(migration.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, sha256) VALUES (?1, ?2, ?3)",
            params![migration.version, migration.name, checksum(migration.sql)],
        )?;
        tx.pragma_update(None, "user_version", migration.version)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, index as i64 + 1);
        }
    }

    #[test]
    fn migrates_in_steps_and_refuses_newer_or_changed_schemas() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 1).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), 1);
        migrate_to(&mut conn, LATEST_VERSION).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), LATEST_VERSION);
        // Running again is a no-op.
        migrate_to(&mut conn, LATEST_VERSION).unwrap();

        conn.execute(
            "UPDATE schema_migrations SET sha256 = 'x' WHERE version = 1",
            [],
        )
        .unwrap();
        assert!(matches!(
            migrate_to(&mut conn, LATEST_VERSION),
            Err(LedgerError::MigrationChanged { version: 1 })
        ));

        let mut newer = Connection::open_in_memory().unwrap();
        newer
            .pragma_update(None, "user_version", LATEST_VERSION + 1)
            .unwrap();
        assert!(matches!(
            migrate_to(&mut newer, LATEST_VERSION),
            Err(LedgerError::SchemaTooNew { .. })
        ));
    }

    #[test]
    fn a_failing_migration_leaves_nothing_behind() {
        let mut conn = Connection::open_in_memory().unwrap();
        // A table the first migration wants to create makes it fail half-way.
        conn.execute_batch("CREATE TABLE entries (x INTEGER)")
            .unwrap();
        assert!(migrate_to(&mut conn, LATEST_VERSION).is_err());
        assert_eq!(schema_version(&conn).unwrap(), 0);
        let tables: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('event_settings', 'schema_migrations')",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
    }
}
