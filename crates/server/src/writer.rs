//! One writer thread with group commit, and a pool of read connections.
//!
//! Every write is a job for the writer thread, which owns the only write
//! connection. It takes all jobs waiting, runs each inside its own
//! savepoint of one transaction (a failing job rolls back alone), commits
//! once (one fsync for the group) and only then answers each caller. Under
//! load this turns many small durable commits into few larger ones; alone,
//! a job is committed at once.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::ServerError;

/// The most jobs one commit carries.
const MAX_GROUP: usize = 512;
const READERS: usize = 4;

type Deliver = Box<dyn FnOnce(Option<ServerError>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> (bool, Deliver) + Send>;

pub(crate) struct Writer {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

/// Pragmas for every connection of the server's database.
pub(crate) fn configure(conn: &Connection) -> Result<(), ServerError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

impl Writer {
    pub(crate) fn start(conn: Connection) -> Result<Writer, ServerError> {
        let (sender, receiver) = mpsc::channel::<Job>();
        let thread = thread::Builder::new()
            .name("server-writer".into())
            .spawn(move || run(conn, receiver))
            .map_err(|e| ServerError::Internal(format!("cannot start the writer: {e}")))?;
        Ok(Writer {
            jobs: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Runs `work` in the writer's transaction and returns its result once
    /// it is durably committed (or the error that kept it from being).
    pub(crate) fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, ServerError> + Send + 'static,
    ) -> Result<T, ServerError> {
        let (answer, answered) = mpsc::sync_channel::<Result<T, ServerError>>(1);
        let job: Job = Box::new(move |conn| {
            let result = work(conn);
            let ok = result.is_ok();
            let deliver: Deliver = Box::new(move |commit_error| {
                let _ = answer.send(match commit_error {
                    Some(error) => Err(error),
                    None => result,
                });
            });
            (ok, deliver)
        });
        let sender = self
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| ServerError::Internal("the server is shutting down".into()))?;
        sender
            .send(job)
            .map_err(|_| ServerError::Internal("the writer stopped".into()))?;
        answered
            .recv()
            .map_err(|_| ServerError::Internal("the write failed unexpectedly".into()))?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take());
        if let Some(thread) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = thread.join();
        }
    }
}

fn commit_error(error: &rusqlite::Error) -> ServerError {
    use rusqlite::ErrorCode;
    match error.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => ServerError::Ledger(tapster_ledger::LedgerError::StorageFull),
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            ServerError::Ledger(tapster_ledger::LedgerError::StorageBusy)
        }
        _ => ServerError::Internal(format!("commit failed: {error}")),
    }
}

fn run(conn: Connection, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let size = group.len();
        if let Err(error) = conn.execute_batch("BEGIN IMMEDIATE") {
            // Dropping the jobs unanswered tells each caller the write failed.
            drop(group);
            tracing::error!(%error, "cannot begin a write transaction");
            continue;
        }
        let mut deliveries = Vec::with_capacity(size);
        // Set when SQLite has rolled the whole transaction back (disk full,
        // I/O error) or a savepoint could not be handled: nothing of this
        // group may then be reported as done.
        let mut broken: Option<String> = None;
        for job in group {
            if broken.is_some() {
                // Dropping it unanswered tells its caller the write failed.
                continue;
            }
            if let Err(error) = conn.execute_batch("SAVEPOINT job") {
                broken = Some(format!("cannot open a savepoint: {error}"));
                continue;
            }
            let ok = match catch_unwind(AssertUnwindSafe(|| job(&conn))) {
                Ok((ok, deliver)) => {
                    deliveries.push(deliver);
                    ok
                }
                Err(_) => {
                    tracing::error!("a write job panicked; rolled back");
                    false
                }
            };
            let end = if ok {
                "RELEASE job"
            } else {
                "ROLLBACK TO job; RELEASE job"
            };
            if let Err(error) = conn.execute_batch(end) {
                broken = Some(format!("cannot close a savepoint: {error}"));
            } else if conn.is_autocommit() {
                broken = Some("the database rolled the transaction back".into());
            }
        }
        if let Some(reason) = broken {
            tracing::error!(%reason, size, "group commit abandoned");
            let _ = conn.execute_batch("ROLLBACK");
            for deliver in deliveries {
                deliver(Some(ServerError::Internal(format!("not saved: {reason}"))));
            }
            continue;
        }
        match conn.execute_batch("COMMIT") {
            Ok(()) => {
                for deliver in deliveries {
                    deliver(None);
                }
            }
            Err(error) => {
                tracing::error!(%error, size, "group commit failed");
                let _ = conn.execute_batch("ROLLBACK");
                for deliver in deliveries {
                    deliver(Some(commit_error(&error)));
                }
            }
        }
    }
}

/// Read-only work runs on a small pool of connections of its own; with WAL
/// readers never wait for the writer.
pub(crate) struct Readers {
    pool: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl Readers {
    pub(crate) fn open(path: &Path) -> Result<Readers, ServerError> {
        let mut pool = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let conn = Connection::open(path)?;
            configure(&conn)?;
            pool.push(Mutex::new(conn));
        }
        Ok(Readers {
            pool,
            next: AtomicUsize::new(0),
        })
    }

    /// A free read connection, or the next one in turn.
    pub(crate) fn get(&self) -> MutexGuard<'_, Connection> {
        for conn in &self.pool {
            if let Ok(guard) = conn.try_lock() {
                return guard;
            }
        }
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.pool.len();
        self.pool[index].lock().unwrap_or_else(|p| p.into_inner())
    }
}
