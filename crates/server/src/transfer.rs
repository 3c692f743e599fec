//! `tapster-server migrate --from sqlite:… --to postgres://…`: an event's
//! SQLite database copied to PostgreSQL, then verified.
//!
//! Every table is copied row by row with every column, parents before
//! children (by the foreign keys), in one transaction on the target: a
//! copy that fails leaves the target as empty as it was. The target must
//! hold no event yet. Afterwards each table's rows are compared as a
//! multiset of row digests (independent of order and collation) between
//! source and target, and the target's balances are checked against its
//! transactions: same rows means the same terminals' hash chains, the same
//! feed cursors, the same idempotency keys.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::db::{Connection, Engine, Value};
use crate::error::ServerError;
use crate::store::ServerStore;

/// What was copied: rows per table.
#[derive(Debug, Default, serde::Serialize)]
pub struct Transferred {
    pub tables: BTreeMap<String, u64>,
}

/// One table of the source: its name, columns (in order) and parents.
struct Table {
    name: String,
    columns: Vec<String>,
    parents: BTreeSet<String>,
    /// SQLite's rowid exists: rows are copied in the order they were made.
    has_rowid: bool,
}

/// The tables of the server's schema in `source`, parents first.
fn tables(source: &rusqlite::Connection) -> Result<Vec<Table>, ServerError> {
    let mut statement = source.prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name",
    )?;
    let found: Vec<(String, String)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut tables = Vec::new();
    for (name, sql) in found {
        let columns: Vec<String> = source
            .prepare(&format!(
                "SELECT name FROM pragma_table_info('{name}') ORDER BY cid"
            ))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let parents: BTreeSet<String> = source
            .prepare(&format!(
                "SELECT \"table\" FROM pragma_foreign_key_list('{name}')"
            ))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        tables.push(Table {
            has_rowid: !sql.contains("WITHOUT ROWID"),
            parents: parents.into_iter().filter(|p| *p != name).collect(),
            name,
            columns,
        });
    }
    // Parents first: a table comes once every table it refers to has.
    let mut ordered: Vec<Table> = Vec::with_capacity(tables.len());
    while !tables.is_empty() {
        let ready = tables
            .iter()
            .position(|t| {
                t.parents
                    .iter()
                    .all(|p| ordered.iter().any(|o| &o.name == p))
            })
            .ok_or_else(|| ServerError::Internal("the tables' foreign keys form a cycle".into()))?;
        ordered.push(tables.remove(ready));
    }
    Ok(ordered)
}

/// Copies the SQLite database at `from` into the (migrated, empty)
/// PostgreSQL database `to`, then verifies the copy.
pub fn transfer(from: &Path, to: &ServerStore) -> Result<Transferred, ServerError> {
    if to.engine() != Engine::Postgres {
        return Err(ServerError::invalid("to", "must be a postgres:// database"));
    }
    if !from.exists() {
        return Err(ServerError::NotFound(format!("{}", from.display())));
    }
    // The source is read as it is migrated to this server's schema.
    drop(ServerStore::open(
        from,
        std::sync::Arc::new(tapster_ledger::SystemClock),
    )?);
    let source =
        rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    // One read transaction: a running server may keep writing meanwhile.
    source.execute_batch("BEGIN DEFERRED")?;
    let tables = tables(&source)?;
    let target = to.reader()?;
    let events: i64 = target.query_row("SELECT COUNT(*) FROM events", (), |r| r.get(0usize))?;
    if events > 0 {
        return Err(ServerError::Conflict(
            "the target database already holds events: copy into an empty database".into(),
        ));
    }
    // Alone on the target, as an exclusive write.
    target.execute_batch(&format!(
        "BEGIN; SELECT pg_advisory_xact_lock({})",
        crate::db::WRITE_LOCK
    ))?;
    let copied = copy_all(&source, &target, &tables);
    match copied {
        Ok(transferred) => {
            target.execute_batch("COMMIT")?;
            verify(&source, &target, &tables)?;
            let problems = to.check()?;
            if !problems.is_empty() {
                return Err(ServerError::Internal(format!(
                    "the copy does not add up: {}",
                    problems.join("; ")
                )));
            }
            Ok(transferred)
        }
        Err(error) => {
            let _ = target.execute_batch("ROLLBACK");
            Err(error)
        }
    }
}

fn copy_all(
    source: &rusqlite::Connection,
    target: &Connection,
    tables: &[Table],
) -> Result<Transferred, ServerError> {
    let mut transferred = Transferred::default();
    for table in tables {
        let list = table.columns.join(", ");
        let placeholders: Vec<String> =
            (1..=table.columns.len()).map(|i| format!("?{i}")).collect();
        let insert = format!(
            "INSERT INTO {} ({list}) VALUES ({})",
            table.name,
            placeholders.join(", ")
        );
        let order = if table.has_rowid {
            " ORDER BY rowid"
        } else {
            ""
        };
        let mut select = source.prepare(&format!("SELECT {list} FROM {}{order}", table.name))?;
        let mut rows = select.query([])?;
        let mut insert = target.prepare_cached(&insert)?;
        let mut count = 0u64;
        while let Some(row) = rows.next()? {
            let values: Vec<Value> = (0..table.columns.len())
                .map(|i| crate::db::sqlite_column(row, i))
                .collect::<Result<_, _>>()?;
            insert.execute(&values)?;
            count += 1;
        }
        tracing::info!(table = %table.name, rows = count, "copied");
        transferred.tables.insert(table.name.clone(), count);
    }
    // Numbered columns go on from the copied rows' highest number.
    for (table, column) in [
        ("transactions", "seq"),
        ("stock_movements", "seq"),
        ("vendor_lines", "seq"),
        ("guest_log", "seq"),
    ] {
        target.execute_batch(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                           COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
        ))?;
    }
    Ok(transferred)
}

/// Each table's rows as a multiset of digests, on either engine.
fn fingerprint(rows: impl Iterator<Item = Vec<Value>>) -> (u64, u128) {
    let (mut count, mut sum) = (0u64, 0u128);
    for row in rows {
        let mut hash = Sha256::new();
        for value in row {
            match value {
                Value::Null => hash.update([0]),
                Value::Integer(i) => {
                    hash.update([1]);
                    hash.update(i.to_be_bytes());
                }
                Value::Real(r) => {
                    hash.update([2]);
                    hash.update(r.to_be_bytes());
                }
                Value::Text(t) => {
                    hash.update([3]);
                    hash.update((t.len() as u64).to_be_bytes());
                    hash.update(t.as_bytes());
                }
                Value::Blob(b) => {
                    hash.update([4]);
                    hash.update((b.len() as u64).to_be_bytes());
                    hash.update(b);
                }
            }
        }
        let digest = hash.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        sum = sum.wrapping_add(u128::from_be_bytes(first));
        count += 1;
    }
    (count, sum)
}

fn verify(
    source: &rusqlite::Connection,
    target: &Connection,
    tables: &[Table],
) -> Result<(), ServerError> {
    for table in tables {
        let sql = format!("SELECT {} FROM {}", table.columns.join(", "), table.name);
        let mut select = source.prepare(&sql)?;
        let mut rows = select.query([])?;
        let mut source_rows = Vec::new();
        while let Some(row) = rows.next()? {
            source_rows.push(
                (0..table.columns.len())
                    .map(|i| crate::db::sqlite_column(row, i))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        let width = table.columns.len();
        let target_rows: Vec<Vec<Value>> = target
            .prepare(&sql)?
            .query_map((), |r| (0..width).map(|i| r.get(i)).collect())?
            .collect::<Result<_, _>>()?;
        if fingerprint(source_rows.into_iter()) != fingerprint(target_rows.into_iter()) {
            return Err(ServerError::Internal(format!(
                "table {} differs after the copy",
                table.name
            )));
        }
    }
    Ok(())
}
