//! The print queue: a sale never waits for paper.
//!
//! Jobs are rendered bytes handed to a worker thread that owns the printer
//! connection. A printer that is off, unplugged or out of paper leaves jobs
//! queued and retried with backoff; the printer's state is kept for the
//! status bar. A job is sent again only when none of its bytes reached the
//! printer, so retries never print a receipt twice; a job cut off half-way
//! is marked `Uncertain` and left to the cashier to reprint.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::document::{Align, Block, Receipt, Size, Style};
use crate::escpos;
use crate::printer::{connect, Connection, PrinterStatus, PrinterUri, SendError, Timeouts};
use crate::PrintError;

/// A job's number in this queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Receipt,
    Report,
    DrawerKick,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Sending,
    /// The printer took every byte.
    Sent,
    /// The connection broke mid-job: part of it may have printed. Not
    /// retried, so nothing prints twice; reprint it if it is missing.
    Uncertain {
        reason: String,
    },
    /// Waited longer than its kind may (a drawer must not spring open
    /// minutes later); reprint it if still wanted.
    Expired,
    Cancelled,
}

impl JobState {
    pub fn is_finished(&self) -> bool {
        !matches!(self, JobState::Queued | JobState::Sending)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobInfo {
    pub id: JobId,
    pub kind: JobKind,
    pub title: String,
    pub state: JobState,
    pub attempts: u32,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    pub last_error: Option<String>,
}

/// What the status bar shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStatus {
    pub printer: String,
    pub status: PrinterStatus,
    /// Jobs waiting or being sent.
    pub pending: usize,
    pub last_error: Option<String>,
    /// Waiting jobs first, then the most recent finished ones, newest first.
    pub jobs: Vec<JobInfo>,
}

#[derive(Clone, Debug)]
pub struct QueueOptions {
    pub timeouts: Timeouts,
    /// The first retry waits this long, doubling up to `max_retry_delay`.
    pub first_retry_delay: Duration,
    pub max_retry_delay: Duration,
    /// How often the printer is asked for its state while nothing prints.
    pub status_interval: Duration,
    /// How long a receipt may wait before it is dropped as stale.
    pub receipt_max_age: Duration,
    /// How long a drawer kick may wait.
    pub drawer_max_age: Duration,
    /// Finished jobs kept for reprints and the status list.
    pub history: usize,
}

impl Default for QueueOptions {
    fn default() -> Self {
        QueueOptions {
            timeouts: Timeouts::default(),
            first_retry_delay: Duration::from_millis(500),
            max_retry_delay: Duration::from_secs(5),
            status_interval: Duration::from_secs(10),
            receipt_max_age: Duration::from_secs(15 * 60),
            drawer_max_age: Duration::from_secs(10),
            history: 50,
        }
    }
}

struct Job {
    info: JobInfo,
    bytes: Arc<Vec<u8>>,
    receipt: Option<Receipt>,
    queued_at: Instant,
    max_age: Option<Duration>,
}

type Listener = Box<dyn Fn(&QueueStatus) + Send + Sync>;

struct State {
    waiting: VecDeque<Job>,
    sending: Option<JobInfo>,
    finished: VecDeque<Job>,
    status: PrinterStatus,
    last_error: Option<String>,
    next_id: u64,
    retry_at: Option<Instant>,
    failures: u32,
    stopping: bool,
    check_status_now: bool,
}

struct Shared {
    uri: PrinterUri,
    options: QueueOptions,
    state: Mutex<State>,
    wake: Condvar,
    listener: Arc<Mutex<Option<Listener>>>,
    /// Status snapshots for the listener thread, which calls the listener
    /// without holding the queue's lock.
    changes: Mutex<std::sync::mpsc::Sender<QueueStatus>>,
}

/// The print queue of one printer. Dropping it stops its worker; jobs not
/// sent by then are not printed.
pub struct PrintQueue {
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind: go on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn snapshot(&self, state: &State) -> QueueStatus {
        let mut jobs: Vec<JobInfo> = Vec::new();
        jobs.extend(state.sending.iter().cloned());
        jobs.extend(state.waiting.iter().map(|j| j.info.clone()));
        jobs.extend(state.finished.iter().rev().map(|j| j.info.clone()));
        QueueStatus {
            printer: self.uri.to_string(),
            status: state.status,
            pending: state.waiting.len() + usize::from(state.sending.is_some()),
            last_error: state.last_error.clone(),
            jobs,
        }
    }

    /// Hands the new status to the listener thread; never blocks.
    fn notify(&self, state: &State) {
        let has_listener = self
            .listener
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        if has_listener {
            let changes = self.changes.lock().unwrap_or_else(|e| e.into_inner());
            let _ = changes.send(self.snapshot(state));
        }
    }

    fn finish(&self, state: &mut State, mut job: Job, outcome: JobState) {
        tracing::info!(job = job.info.id.0, title = %job.info.title, state = ?outcome, "print job finished");
        job.info.state = outcome;
        state.finished.push_back(job);
        while state.finished.len() > self.options.history {
            state.finished.pop_front();
        }
    }

    fn retry_delay(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
        self.options
            .first_retry_delay
            .saturating_mul(factor)
            .min(self.options.max_retry_delay)
    }
}

impl PrintQueue {
    /// Starts the worker for the printer at `uri`. Nothing is connected
    /// until there is something to print or a status to check.
    pub fn start(uri: PrinterUri, options: QueueOptions) -> Result<PrintQueue, PrintError> {
        let listener: Arc<Mutex<Option<Listener>>> = Arc::new(Mutex::new(None));
        let (changes, changed) = std::sync::mpsc::channel::<QueueStatus>();
        let listening = Arc::clone(&listener);
        std::thread::Builder::new()
            .name("tapster-print-status".into())
            .spawn(move || {
                for status in changed {
                    let listener = listening.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(listener) = listener.as_ref() {
                        listener(&status);
                    }
                }
            })?;
        let shared = Arc::new(Shared {
            uri,
            options,
            state: Mutex::new(State {
                waiting: VecDeque::new(),
                sending: None,
                finished: VecDeque::new(),
                status: PrinterStatus::Unknown,
                last_error: None,
                next_id: 1,
                retry_at: None,
                failures: 0,
                stopping: false,
                check_status_now: true,
            }),
            wake: Condvar::new(),
            listener,
            changes: Mutex::new(changes),
        });
        let worker_shared = Arc::clone(&shared);
        let worker = std::thread::Builder::new()
            .name("tapster-print-queue".into())
            .spawn(move || work(&worker_shared))?;
        Ok(PrintQueue {
            shared,
            worker: Some(worker),
        })
    }

    /// Called with the new status after every change, on a thread of its
    /// own without any lock held: the app forwards it to the UI.
    pub fn on_change(&self, listener: impl Fn(&QueueStatus) + Send + Sync + 'static) {
        *self
            .shared
            .listener
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Box::new(listener));
    }

    fn push(&self, kind: JobKind, title: &str, bytes: Vec<u8>, receipt: Option<Receipt>) -> JobId {
        let options = &self.shared.options;
        let max_age = match kind {
            JobKind::Receipt => Some(options.receipt_max_age),
            JobKind::DrawerKick => Some(options.drawer_max_age),
            JobKind::Report => None,
        };
        let mut state = self.shared.lock();
        let id = JobId(state.next_id);
        state.next_id += 1;
        let job = Job {
            info: JobInfo {
                id,
                kind,
                title: title.to_string(),
                state: JobState::Queued,
                attempts: 0,
                created_at_ms: now_ms(),
                last_error: None,
            },
            bytes: Arc::new(bytes),
            receipt,
            queued_at: Instant::now(),
            max_age,
        };
        tracing::info!(job = id.0, kind = ?kind, title, "print job queued");
        if kind == JobKind::DrawerKick {
            state.waiting.push_front(job);
        } else {
            state.waiting.push_back(job);
        }
        // Someone is waiting at the counter: try now, not at the next backoff.
        state.retry_at = None;
        self.shared.notify(&state);
        self.shared.wake.notify_all();
        id
    }

    /// Queues a receipt; returns at once. A receipt that opens the drawer
    /// becomes a drawer kick (which expires after seconds, not minutes)
    /// ahead of the receipt itself.
    pub fn print(&self, receipt: &Receipt, title: &str) -> Result<JobId, PrintError> {
        let mut receipt = receipt.clone();
        let kick = std::mem::take(&mut receipt.open_drawer);
        let bytes = escpos::render(&receipt)?;
        if kick {
            self.open_drawer();
        }
        Ok(self.push(JobKind::Receipt, title, bytes, Some(receipt)))
    }

    /// Queues a long document (Z report) that must not expire.
    pub fn print_report(&self, receipt: &Receipt, title: &str) -> Result<JobId, PrintError> {
        let bytes = escpos::render(receipt)?;
        Ok(self.push(JobKind::Report, title, bytes, Some(receipt.clone())))
    }

    /// Opens the cash drawer without printing, ahead of waiting receipts.
    pub fn open_drawer(&self) -> JobId {
        self.push(JobKind::DrawerKick, "drawer", escpos::drawer_kick(), None)
    }

    /// Prints a finished receipt again, marked as a copy at the top.
    pub fn reprint(&self, id: JobId, copy_mark: &str) -> Result<JobId, PrintError> {
        let (receipt, title, kind) = {
            let state = self.shared.lock();
            let job = state
                .finished
                .iter()
                .find(|j| j.info.id == id)
                .ok_or(PrintError::UnknownJob(id.0))?;
            let receipt = job.receipt.clone().ok_or(PrintError::UnknownJob(id.0))?;
            (receipt, job.info.title.clone(), job.info.kind)
        };
        let copy = receipt.marked_as_copy(copy_mark);
        let bytes = escpos::render(&copy)?;
        Ok(self.push(kind, &title, bytes, Some(copy)))
    }

    /// Drops a job that has not been sent yet.
    pub fn cancel(&self, id: JobId) -> bool {
        let mut state = self.shared.lock();
        let Some(index) = state.waiting.iter().position(|j| j.info.id == id) else {
            return false;
        };
        if let Some(job) = state.waiting.remove(index) {
            self.shared.finish(&mut state, job, JobState::Cancelled);
        }
        self.shared.notify(&state);
        self.shared.wake.notify_all();
        true
    }

    /// Retries waiting jobs now instead of after the backoff ("printer is
    /// back" button), and refreshes the printer's status.
    pub fn retry_now(&self) {
        let mut state = self.shared.lock();
        state.retry_at = None;
        state.check_status_now = true;
        self.shared.wake.notify_all();
    }

    pub fn status(&self) -> QueueStatus {
        let state = self.shared.lock();
        self.shared.snapshot(&state)
    }

    pub fn job(&self, id: JobId) -> Option<JobInfo> {
        self.status().jobs.into_iter().find(|j| j.id == id)
    }

    /// Waits until job `id` is finished or `timeout` passes (for command
    /// lines and tests; the app listens to [`PrintQueue::on_change`]).
    pub fn wait_for(&self, id: JobId, timeout: Duration) -> Option<JobInfo> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            let finished = state.finished.iter().find(|j| j.info.id == id);
            if let Some(job) = finished {
                return Some(job.info.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            state = self
                .shared
                .wake
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Drop for PrintQueue {
    fn drop(&mut self) {
        self.shared.lock().stopping = true;
        self.shared.wake.notify_all();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl Receipt {
    /// This receipt with `mark` (e.g. "*** KOPIE ***") as its first line.
    pub fn marked_as_copy(&self, mark: &str) -> Receipt {
        let mut copy = self.clone();
        let line = Block::Line {
            text: crate::text::sanitize(mark, self.code_page),
            style: Style {
                align: Align::Centre,
                bold: true,
                size: Size::Tall,
                inverted: false,
            },
        };
        copy.blocks.insert(0, line);
        // A reprint never opens the drawer again.
        copy.open_drawer = false;
        copy
    }
}

enum Next {
    Stop,
    Send(Job),
    CheckStatus,
}

fn work(shared: &Shared) {
    loop {
        let next = {
            let mut state = shared.lock();
            loop {
                if state.stopping {
                    break Next::Stop;
                }
                expire(shared, &mut state);
                let now = Instant::now();
                let due = state.retry_at.is_none_or(|at| now >= at);
                if due && !state.waiting.is_empty() {
                    let mut job = state.waiting.pop_front().expect("not empty");
                    job.info.state = JobState::Sending;
                    job.info.attempts += 1;
                    state.sending = Some(job.info.clone());
                    shared.notify(&state);
                    break Next::Send(job);
                }
                if state.check_status_now {
                    state.check_status_now = false;
                    break Next::CheckStatus;
                }
                let wait = match state.retry_at {
                    Some(at) if !state.waiting.is_empty() => at.saturating_duration_since(now),
                    _ => shared.options.status_interval,
                };
                let (guard, timeout) = shared
                    .wake
                    .wait_timeout(state, wait)
                    .unwrap_or_else(|e| e.into_inner());
                state = guard;
                if timeout.timed_out() && state.waiting.is_empty() {
                    state.check_status_now = true;
                }
            }
        };
        match next {
            Next::Stop => return,
            Next::CheckStatus => {
                let status = match connect(&shared.uri, shared.options.timeouts) {
                    Ok(mut connection) => Ok(connection.status()),
                    Err(e) => Err(e),
                };
                let mut state = shared.lock();
                match status {
                    Ok(status) => {
                        state.status = status;
                        if status.can_print() {
                            state.last_error = None;
                        }
                    }
                    Err(e) => {
                        state.status = PrinterStatus::Offline;
                        state.last_error = Some(e.to_string());
                    }
                }
                shared.notify(&state);
                shared.wake.notify_all();
            }
            Next::Send(job) => {
                let _span = tracing::info_span!("print_job", job = job.info.id.0).entered();
                let result = send(shared, &job);
                let mut state = shared.lock();
                state.sending = None;
                record(shared, &mut state, job, result);
                shared.notify(&state);
                shared.wake.notify_all();
            }
        }
    }
}

enum Attempt {
    Sent(PrinterStatus),
    /// Nothing reached the printer: keep the job and retry.
    NotSent(PrinterStatus, String),
    Broken(String),
}

fn send(shared: &Shared, job: &Job) -> Attempt {
    let mut connection: Box<dyn Connection> = match connect(&shared.uri, shared.options.timeouts) {
        Ok(connection) => connection,
        Err(e) => return Attempt::NotSent(PrinterStatus::Offline, e.to_string()),
    };
    let status = connection.status();
    if !status.can_print() {
        return Attempt::NotSent(status, format!("the printer reports {status:?}"));
    }
    match connection.send(&job.bytes) {
        Ok(()) => Attempt::Sent(status),
        Err(SendError::NothingSent(reason)) => Attempt::NotSent(PrinterStatus::Offline, reason),
        Err(e @ SendError::PartlySent { .. }) => Attempt::Broken(e.to_string()),
    }
}

fn record(shared: &Shared, state: &mut State, mut job: Job, attempt: Attempt) {
    match attempt {
        Attempt::Sent(status) => {
            state.status = status;
            state.last_error = None;
            state.failures = 0;
            state.retry_at = None;
            shared.finish(state, job, JobState::Sent);
        }
        Attempt::NotSent(status, reason) => {
            tracing::warn!(job = job.info.id.0, %reason, "printer not ready; job kept");
            state.status = status;
            state.last_error = Some(reason.clone());
            state.failures = state.failures.saturating_add(1);
            state.retry_at = Some(Instant::now() + shared.retry_delay(state.failures));
            job.info.state = JobState::Queued;
            job.info.last_error = Some(reason);
            // Back to the front: receipts print in the order they were made.
            state.waiting.push_front(job);
        }
        Attempt::Broken(reason) => {
            tracing::warn!(job = job.info.id.0, %reason, "print job cut off; not retried");
            state.status = PrinterStatus::Offline;
            state.last_error = Some(reason.clone());
            state.failures = state.failures.saturating_add(1);
            state.retry_at = Some(Instant::now() + shared.retry_delay(state.failures));
            job.info.last_error = Some(reason.clone());
            shared.finish(state, job, JobState::Uncertain { reason });
        }
    }
}

fn expire(shared: &Shared, state: &mut State) {
    let now = Instant::now();
    let mut changed = false;
    let mut index = 0;
    while index < state.waiting.len() {
        let job = &state.waiting[index];
        let stale = job
            .max_age
            .is_some_and(|age| now.duration_since(job.queued_at) > age);
        if stale {
            if let Some(job) = state.waiting.remove(index) {
                shared.finish(state, job, JobState::Expired);
                changed = true;
            }
        } else {
            index += 1;
        }
    }
    if changed {
        shared.notify(state);
        shared.wake.notify_all();
    }
}
