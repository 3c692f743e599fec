//! The background task: rounds at an interval, exponential backoff with
//! full jitter after failures, `Retry-After` honoured, a stop at a wrong
//! token, and a status the app shows.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tapster_ledger::{Clock, Timestamp};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::client::ApiError;
use crate::engine::{Progress, SyncError, Syncer};

/// Where the terminal stands with the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// Not tried yet.
    Starting,
    /// The last round succeeded.
    Online,
    /// The last round failed; trying again soon.
    Degraded,
    /// Several rounds failed in a row; selling goes on offline.
    Offline,
    /// The server refuses this terminal's token: nothing is retried until
    /// a new token is set.
    AuthFailed,
    /// The encrypted connection was refused: the server presented another
    /// certificate than the pinned one, or one that does not validate.
    /// Nothing is sent; selling goes on offline, and the till keeps trying
    /// (the right server may come back).
    Untrusted,
    /// The server refuses the till's requests for good (a route it does
    /// not have, an address that is not its API root, a redirect
    /// elsewhere): a setting to fix. Selling goes on offline; the till asks
    /// again only after the longest backoff, never in a loop.
    Incompatible,
}

/// What the app shows in its status bar.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SyncStatus {
    pub connection: Connection,
    pub pending: i64,
    /// Age of the oldest entry not yet delivered.
    pub oldest_pending_secs: Option<i64>,
    /// An entry has waited longer than the configured limit.
    pub stuck: bool,
    pub last_success: Option<Timestamp>,
    pub last_error: Option<String>,
    /// While catching up a backlog.
    pub progress: Option<(u64, u64)>,
    pub failures_in_a_row: u32,
    /// Changed catalogues taken in so far (see [`Syncer::catalog_changes`]).
    pub catalog_changes: u64,
    /// Uncertain, kept-locally and rejected entries, for the manager.
    pub attention: tapster_ledger::store::SyncAttention,
}

impl SyncStatus {
    fn starting() -> Self {
        SyncStatus {
            connection: Connection::Starting,
            pending: 0,
            oldest_pending_secs: None,
            stuck: false,
            last_success: None,
            last_error: None,
            progress: None,
            failures_in_a_row: 0,
            catalog_changes: 0,
            attention: Default::default(),
        }
    }
}

/// The running task: its status, a way to sync now, and a way to stop.
pub struct SyncHandle {
    pub status: watch::Receiver<SyncStatus>,
    wake: Arc<Notify>,
    stop: Arc<Notify>,
    task: JoinHandle<()>,
}

impl SyncHandle {
    /// Syncs now (after a sale, or after a new token was set).
    pub fn sync_now(&self) {
        self.wake.notify_one();
    }

    pub async fn stop(self) {
        self.stop.notify_one();
        let _ = self.task.await;
    }
}

/// The delay before retry number `failures` (1, 2, …): a random time up to
/// `base · 2^(failures-1)`, capped. Full jitter spreads terminals that
/// come back from the same outage over the whole window.
pub fn backoff(failures: u32, base: Duration, cap: Duration, random: f64) -> Duration {
    let exponent = failures.saturating_sub(1).min(20);
    let ceiling = base.saturating_mul(1u32 << exponent).min(cap);
    ceiling.mul_f64(random.clamp(0.0, 1.0))
}

/// Returns once the server's address accepts a connection, trying every
/// `every`, then after a random part of `every`: tills that come back
/// from the same outage do not all ask in the same instant.
async fn until_connectable(syncer: &Syncer, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        if syncer.client().accepts_connections(every).await {
            let spread = every.mul_f64(rand::thread_rng().gen::<f64>());
            tokio::time::sleep(spread).await;
            return;
        }
    }
}

pub fn start(syncer: Arc<Syncer>, clock: Arc<dyn Clock>) -> SyncHandle {
    let (sender, receiver) = watch::channel(SyncStatus::starting());
    let wake = Arc::new(Notify::new());
    let stop = Arc::new(Notify::new());
    let task = tokio::spawn(run(syncer, clock, sender, wake.clone(), stop.clone()));
    SyncHandle {
        status: receiver,
        wake,
        stop,
        task,
    }
}

async fn run(
    syncer: Arc<Syncer>,
    clock: Arc<dyn Clock>,
    status: watch::Sender<SyncStatus>,
    wake: Arc<Notify>,
    stop: Arc<Notify>,
) {
    let config = syncer.config.clone();
    let mut current = SyncStatus::starting();
    loop {
        let span = tracing::info_span!("sync_round", failures = current.failures_in_a_row);
        let progress_status = status.clone();
        let mut on_progress = move |p: Progress| {
            if p.total > 0 {
                progress_status.send_modify(|s| s.progress = Some((p.sent, p.total)));
            }
        };
        let result = tracing::Instrument::instrument(syncer.round(&mut on_progress), span).await;
        let mut no_connection = false;
        let wait = match result {
            Ok(report) => {
                if report != Default::default() {
                    tracing::info!(
                        acknowledged = report.acknowledged,
                        rejected = report.rejected,
                        uncertain = report.uncertain,
                        kept_locally = report.kept_locally,
                        "pushed"
                    );
                }
                current.connection = Connection::Online;
                current.failures_in_a_row = 0;
                current.last_success = Some(clock.now());
                current.last_error = None;
                Some(config.interval)
            }
            Err(SyncError::Api(ApiError::Unauthorized)) => {
                tracing::error!(
                    "the server refuses this terminal's token; sync stops until a new one is set"
                );
                current.connection = Connection::AuthFailed;
                current.last_error = Some(ApiError::Unauthorized.to_string());
                None
            }
            Err(error) if error.is_permanent() => {
                current.failures_in_a_row = current.failures_in_a_row.saturating_add(1);
                current.connection = Connection::Incompatible;
                current.last_error = Some(error.to_string());
                tracing::error!(%error, "the server refuses this till's requests; asked again after the longest backoff");
                Some(config.backoff_cap)
            }
            Err(error) => {
                current.failures_in_a_row = current.failures_in_a_row.saturating_add(1);
                no_connection = matches!(error, SyncError::Api(ApiError::NotConnected(_)));
                current.connection = if matches!(error, SyncError::Api(ApiError::Untrusted(_))) {
                    Connection::Untrusted
                } else if current.failures_in_a_row >= 3 {
                    Connection::Offline
                } else {
                    Connection::Degraded
                };
                current.last_error = Some(error.to_string());
                tracing::warn!(%error, failures = current.failures_in_a_row, "sync round failed");
                let told = match &error {
                    SyncError::Api(ApiError::RateLimited { retry_after_secs }) => {
                        Some(*retry_after_secs)
                    }
                    SyncError::Api(ApiError::ServerTrouble {
                        retry_after_secs, ..
                    }) => *retry_after_secs,
                    _ => None,
                };
                let jittered = backoff(
                    current.failures_in_a_row,
                    config.backoff_base,
                    config.backoff_cap,
                    rand::thread_rng().gen(),
                );
                Some(match told {
                    // The server's word is the minimum; jitter on top keeps
                    // terminals from coming back in the same instant.
                    Some(secs) => Duration::from_secs(secs) + jittered.min(Duration::from_secs(1)),
                    None => jittered,
                })
            }
        };
        let ledger = syncer.ledger();
        current.pending = ledger.pending_count().unwrap_or(current.pending);
        current.oldest_pending_secs = ledger
            .oldest_pending_time()
            .ok()
            .flatten()
            .map(|t| clock.now().secs_since(t));
        current.stuck = current
            .oldest_pending_secs
            .is_some_and(|age| age > config.stuck_after.as_secs() as i64);
        if current.stuck {
            tracing::error!(
                oldest_secs = current.oldest_pending_secs,
                "sync stuck: entries have waited too long"
            );
        }
        current.progress = None;
        current.catalog_changes = syncer.catalog_changes();
        if let Ok(attention) = ledger.reader().and_then(|r| r.sync_attention()) {
            if attention.uncertain > current.attention.uncertain {
                tracing::error!(
                    uncertain = attention.uncertain,
                    "sales with an unknown outcome on the server: a manager must look"
                );
            }
            current.attention = attention;
        }
        status.send_replace(current.clone());

        match wait {
            // After a failure the backoff (or the server's Retry-After) is
            // kept even when sales ask to sync now: no retry per sale. When
            // no connection could be made at all, the till watches for one
            // and goes again the moment it can.
            Some(wait) if current.failures_in_a_row > 0 => {
                let back = async {
                    if no_connection && !config.reconnect_probe.is_zero() {
                        until_connectable(&syncer, config.reconnect_probe).await
                    } else {
                        std::future::pending().await
                    }
                };
                tokio::select! {
                    () = tokio::time::sleep(wait) => {},
                    () = back => tracing::info!("the server accepts connections again: syncing now"),
                    () = stop.notified() => return,
                }
            }
            Some(wait) => {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {},
                    () = wake.notified() => {},
                    () = stop.notified() => return,
                }
            }
            // Auth failed: wait for a new token (a wake) or the stop.
            None => {
                tokio::select! {
                    () = wake.notified() => {},
                    () = stop.notified() => return,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_with_full_jitter_and_a_cap() {
        let base = Duration::from_millis(500);
        let cap = Duration::from_secs(60);
        assert_eq!(backoff(1, base, cap, 1.0), Duration::from_millis(500));
        assert_eq!(backoff(2, base, cap, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(4, base, cap, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(30, base, cap, 1.0), cap);
        assert_eq!(backoff(4, base, cap, 0.0), Duration::ZERO);
        assert_eq!(backoff(4, base, cap, 0.5), Duration::from_secs(2));
    }
}
