//! Receipts signed by the event's fiscal device through the server, from
//! whatever thread or task a sale finishes on: the request runs on a
//! runtime of its own, and the till waits for it no longer than it is
//! told. Every failure is an outage with its reason — selling never waits
//! for a TSE — and after a request that timed out, the till does not ask
//! again for [`REST_AFTER_TIMEOUT`], so a bad line does not slow every
//! sale by the full timeout.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tapster_api::fiscal::{SignReceipt, Signing};

use crate::client::ServerClient;

/// How long a till waits for a signature before it prints the receipt
/// as made during an outage.
pub const SIGN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a till does not ask after a request timed out.
pub const REST_AFTER_TIMEOUT: Duration = Duration::from_secs(30);

pub struct ReceiptSigner {
    client: ServerClient,
    /// Its own worker: a sale may finish inside another runtime's task or
    /// on a plain thread alike. Taken on drop (shut down without waiting).
    runtime: Option<tokio::runtime::Runtime>,
    /// Until when it does not ask, after a timeout.
    resting_until: Arc<Mutex<Option<Instant>>>,
}

impl ReceiptSigner {
    pub fn new(client: ServerClient) -> std::io::Result<ReceiptSigner> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("fiscal-signer")
            .enable_all()
            .build()?;
        Ok(ReceiptSigner {
            client,
            runtime: Some(runtime),
            resting_until: Arc::default(),
        })
    }

    /// The server's answer, or an outage; blocks the calling thread (a
    /// plain or blocking-pool thread) for at most `timeout`.
    pub fn sign(&self, request: SignReceipt, timeout: Duration) -> Signing {
        let Some(task) = self.spawn(request, timeout) else {
            return self.not_asked();
        };
        let (answer, wait) = std::sync::mpsc::channel();
        task.handle.spawn(async move {
            let _ = answer.send(task.join.await);
        });
        match wait.recv_timeout(timeout + Duration::from_secs(1)) {
            Ok(Ok(signing)) => signing,
            _ => outage("the signer did not finish"),
        }
    }

    /// As [`ReceiptSigner::sign`], awaited: for a sale that finishes in an
    /// async task (the request still runs on the signer's own runtime).
    pub async fn sign_async(&self, request: SignReceipt, timeout: Duration) -> Signing {
        match self.spawn(request, timeout) {
            Some(task) => task
                .join
                .await
                .unwrap_or_else(|_| outage("the signer did not finish")),
            None => self.not_asked(),
        }
    }

    /// The request on the signer's runtime, its timeout inside; `None`
    /// while resting or shut down.
    fn spawn(&self, request: SignReceipt, timeout: Duration) -> Option<Task> {
        let runtime = self.runtime.as_ref()?;
        if self
            .resting_until
            .lock()
            .ok()?
            .is_some_and(|until| Instant::now() < until)
        {
            return None;
        }
        let (client, resting) = (self.client.clone(), self.resting_until.clone());
        let join = runtime.spawn(async move {
            match tokio::time::timeout(timeout, client.sign_receipt(&request)).await {
                Ok(Ok(signing)) => signing,
                Ok(Err(error)) => outage(&error.to_string()),
                Err(_) => {
                    if let Ok(mut until) = resting.lock() {
                        *until = Some(Instant::now() + REST_AFTER_TIMEOUT);
                    }
                    outage(&format!(
                        "no answer from the server within {} s",
                        timeout.as_secs()
                    ))
                }
            }
        });
        Some(Task {
            join,
            handle: runtime.handle().clone(),
        })
    }

    fn not_asked(&self) -> Signing {
        outage(&format!(
            "not asked: the server did not answer a moment ago (asked again within {} s)",
            REST_AFTER_TIMEOUT.as_secs()
        ))
    }
}

struct Task {
    join: tokio::task::JoinHandle<Signing>,
    handle: tokio::runtime::Handle,
}

impl Drop for ReceiptSigner {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn outage(reason: &str) -> Signing {
    tracing::warn!(
        reason,
        "receipt not signed: printed as made during a TSE outage"
    );
    Signing::Outage {
        reason: reason.to_string(),
    }
}
