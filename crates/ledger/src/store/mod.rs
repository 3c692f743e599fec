//! The terminal's local SQLite ledger.
//!
//! One writer: all writes go through the single connection behind
//! [`Ledger`]'s mutex, each operation in one `BEGIN IMMEDIATE` transaction
//! that either commits whole or leaves nothing. With WAL and
//! `synchronous=FULL` an operation returns only after its commit is on disk.
//! Readers ([`LedgerReader`]) have their own connections and never block it.

pub mod audit;
mod auth;
mod bills;
mod catalog;
mod entries;
pub mod migrate;
mod operations;
mod passes;
mod reports;
mod shifts;
mod sync;
mod verify;
mod wallets;

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::clock::{Clock, IdGenerator, SystemClock, UuidV7Ids};
use crate::error::{LedgerError, Result};
use crate::ids::TerminalId;
use crate::pin::PinHashCost;

pub use audit::{TillAudit, TillAuditCheck, TillAuditFilter, TillAuditRecord};
pub use bills::{
    Bill, BillPayment, BillPaymentRequest, CancelBillRequest, OpenBillRequest, PaidBill,
};
pub use catalog::NewStaff;
pub use entries::SyncAttention;
pub use operations::{
    AdjustmentRequest, Authorisation, CancelRequest, DepositReturnRequest, PayoutRequest, Recorded,
    SaleRequest, ServerApproval, TopUpRequest,
};
pub use reports::{AmountRow, CountRow, HourRow, ProductRow, ReportFilter, SalesReport, VatRow};
pub use shifts::{CloseShiftRequest, OpenShiftRequest, ShiftOpened, ZReport};
pub use sync::{Intent, PlainDelivery, PlainDeliveryState, WalletSnapshot};
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
    /// Event settings and this terminal's permission, read by every
    /// operation. Only this ledger's own methods change them (it is the
    /// file's one writer), and each of those clears this.
    rules_cache: Mutex<Option<(crate::model::EventSettings, crate::model::Permission)>>,
    _checkpointer: Checkpointer,
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
        // Checkpoints run beside the writer, not inside a sale's commit;
        // the writer's own auto-checkpoint stays as a backstop.
        conn.pragma_update(None, "wal_autocheckpoint", BACKSTOP_CHECKPOINT_PAGES)?;
        let checkpointer = Checkpointer::spawn(&path)?;
        let ledger = Ledger {
            writer: Mutex::new(conn),
            path,
            options,
            rules_cache: Mutex::new(None),
            _checkpointer: checkpointer,
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

    /// Settings and permission, from the cache or (within `conn`'s
    /// transaction) from the database.
    fn rules(
        &self,
        conn: &Connection,
    ) -> Result<(crate::model::EventSettings, crate::model::Permission)> {
        let mut cache = self
            .rules_cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(cached) = cache.as_ref() {
            return Ok(cached.clone());
        }
        let fresh = (
            catalog::read_settings(conn)?,
            catalog::terminal_permission(conn, &self.options.terminal)?,
        );
        *cache = Some(fresh.clone());
        Ok(fresh)
    }

    fn forget_rules(&self) {
        *self
            .rules_cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
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
            .query_row(
                "SELECT terminal_id FROM ledger_identity WHERE id = 1",
                [],
                |row| row.get(0),
            )
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
        // Every ledger has a key for finding staff by PIN; a connected
        // till's is replaced by its server's with the catalogue.
        tx.execute(
            "INSERT OR IGNORE INTO pin_lookup_key (id, key) VALUES (1, ?1)",
            [crate::pin::PinLookupKey::generate(self.options.pin_cost).expose()],
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// Small pages: a sale touches several B-trees, and every touched page is
/// one WAL frame written and synced at commit.
pub const PAGE_SIZE: i64 = 2048;

/// WAL pages after which the writer checkpoints by itself, should the
/// background checkpointer fall behind.
const BACKSTOP_CHECKPOINT_PAGES: i64 = 16_384;
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Copies the WAL back into the database file from its own thread and
/// connection (a passive checkpoint never blocks the writer), so sales do
/// not pay for checkpoints in their commit latency.
struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn spawn(path: &Path) -> Result<Checkpointer> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_millis(100))?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("ledger-checkpoint".into())
            .spawn(move || {
                // Runs until the ledger drops the sender.
                while let Err(mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(CHECKPOINT_EVERY)
                {
                    if let Err(error) =
                        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(%error, "background checkpoint failed");
                    }
                }
            })
            .map_err(|e| {
                LedgerError::Corrupt(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Pragmas for every connection: WAL so readers never block the writer,
/// FULL sync so a commit is durable when it returns, foreign keys enforced.
fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    // A sale runs some 30 distinct statements; parsing them anew each time
    // would cost more than executing them.
    conn.set_prepared_statement_cache_capacity(256);
    // The query planner's stability guarantee: plans never depend on bound
    // values. Without it a cached statement whose plan looked at a parameter
    // (`?2 IS NULL OR …`) is parsed and planned again on every use, because
    // clearing its bindings expires it — a tenth of a sale's CPU.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // Takes effect only when the file is new.
    conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -16_000)?;
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
