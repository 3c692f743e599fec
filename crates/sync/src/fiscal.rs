//! Receipts signed by the event's fiscal device through the server, from
//! whatever thread a sale finishes on: the request runs on a runtime of
//! its own, and the till waits for it no longer than it is told. Every
//! failure is an outage with its reason — selling never waits for a TSE.

use std::time::Duration;

use tapster_api::fiscal::{SignReceipt, Signing};

use crate::client::ServerClient;

/// How long a till waits for a signature before it prints the receipt
/// as made during an outage.
pub const SIGN_TIMEOUT: Duration = Duration::from_secs(5);

pub struct ReceiptSigner {
    client: ServerClient,
    /// Its own worker: a sale may finish inside another runtime's task or
    /// on a plain thread alike. Taken on drop (shut down without waiting).
    runtime: Option<tokio::runtime::Runtime>,
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
        })
    }

    /// The server's answer, or an outage when there is none within
    /// `timeout`; blocks the calling thread.
    pub fn sign(&self, request: SignReceipt, timeout: Duration) -> Signing {
        let Some(runtime) = &self.runtime else {
            return outage("the signer is shut down");
        };
        let client = self.client.clone();
        let (answer, wait) = std::sync::mpsc::channel();
        runtime.spawn(async move {
            let signed = client.sign_receipt(&request).await;
            let _ = answer.send(signed);
        });
        match wait.recv_timeout(timeout) {
            Ok(Ok(signing)) => signing,
            Ok(Err(error)) => outage(&error.to_string()),
            Err(_) => outage(&format!(
                "no answer from the server within {} s",
                timeout.as_secs()
            )),
        }
    }
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
