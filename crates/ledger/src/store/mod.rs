//! The terminal's local SQLite ledger.
//!
//! One writer: all writes go through the single connection behind
//! [`Ledger`]'s mutex, each operation in one `BEGIN IMMEDIATE` transaction
//! that either commits whole or leaves nothing. With WAL and
//! `synchronous=FULL` an operation returns only after its commit is on disk.
//! Readers ([`LedgerReader`]) have their own connections and never block it.

mod auth;
mod catalog;
mod entries;
pub mod migrate;
mod operations;
mod reports;
mod shifts;
mod sync;
mod verify;
mod wallets;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::clock::{Clock, IdGenerator, SystemClock, UuidV7Ids};
use crate::error::{LedgerError, Result};
use crate::ids::TerminalId;
use crate::pin::PinHashCost;

pub use catalog::NewStaff;
pub use operations::{
    AdjustmentRequest, Authorisation, CancelRequest, DepositReturnRequest, PayoutRequest, Recorded,
    SaleRequest, ServerApproval, TopUpRequest,
};
pub use reports::{
    AmountRow, CountRow, HourRow, ProductRow, ReportFilter, SalesReport, VatRow,
};
pub use shifts::{CloseShiftRequest, OpenShiftRequest, ShiftOpened, ZReport};
pub use sync::WalletSnapshot;
pub use verify::InvariantViolation;

/// How to open a ledger.
#[derive(Clone)]
pub struct LedgerOptions {
    /// The terminal this ledger file belongs to.
    pub terminal: TerminalId,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub pin_cost: PinHashCost,
}

impl LedgerOptions {
    pub fn new(terminal: TerminalId) -> Self {
        LedgerOptions {
            terminal,
            clock: Arc::new(SystemClock),
            ids: Arc::new(UuidV7Ids),
            pin_cost: PinHashCost::Production,
        }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_ids(mut self, ids: Arc<dyn IdGenerator>) -> Self {
        self.ids = ids;
        self
    }

    pub fn with_pin_cost(mut self, cost: PinHashCost) -> Self {
        self.pin_cost = cost;
        self
    }
}

pub struct Ledger {
    writer: Mutex<Connection>,
    path: PathBuf,
    options: LedgerOptions,
}

impl Ledger {
    /// Opens (or creates) the ledger at `path`, applying pending migrations.
    /// A new ledger gets default event settings and this terminal with
    /// permission `all`; a ledger of another terminal is refused.
    pub fn open(path: impl AsRef<Path>, options: LedgerOptions) -> Result<Ledger> {
        let path = path.as_ref().to_path_buf();
        let mut conn = Connection::open(&path)?;
        configure(&conn)?;
        migrate::migrate_to(&mut conn, migrate::LATEST_VERSION)?;
        let ledger = Ledger {
            writer: Mutex::new(conn),
            path,
            options,
        };
        ledger.ensure_identity()?;
        Ok(ledger)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn terminal_id(&self) -> &TerminalId {
        &self.options.terminal
    }

    /// A read-only connection of its own, for reports and views.
    pub fn reader(&self) -> Result<LedgerReader> {
        LedgerReader::open(&self.path)
    }

    pub fn schema_version(&self) -> Result<i64> {
        migrate::schema_version(&self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-done write:
        // the transaction rolls back when dropped.
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn ensure_identity(&self) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let found: Option<String> = tx
            .query_row("SELECT terminal_id FROM ledger_identity WHERE id = 1", [], |row| row.get(0))
            .optional()?;
        match found {
            Some(found) if found != self.options.terminal.as_str() => {
                return Err(LedgerError::WrongTerminal {
                    found,
                    expected: self.options.terminal.to_string(),
                })
            }
            Some(_) => {}
            None => {
                catalog::insert_default_settings(&tx)?;
                tx.execute(
                    "INSERT OR IGNORE INTO terminals (id, friendly_name, permission) VALUES (?1, ?1, 'all')",
                    [self.options.terminal.as_str()],
                )?;
                tx.execute(
                    "INSERT INTO ledger_identity (id, terminal_id) VALUES (1, ?1)",
                    [self.options.terminal.as_str()],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

/// Pragmas for every connection: WAL so readers never block the writer,
/// FULL sync so a commit is durable when it returns, foreign keys enforced.
fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// A read-only view of a ledger for reports, wallet look-ups and listings.
pub struct LedgerReader {
    conn: Connection,
}

impl LedgerReader {
    pub fn open(path: &Path) -> Result<LedgerReader> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let version = migrate::schema_version(&conn)?;
        if version > migrate::LATEST_VERSION {
            return Err(LedgerError::SchemaTooNew {
                found: version,
                supported: migrate::LATEST_VERSION,
            });
        }
        Ok(LedgerReader { conn })
    }
}
