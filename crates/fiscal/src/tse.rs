//! The interface every fiscal device has: start a transaction, finish it
//! with what is signed, and say whether it is healthy.

use serde::{Deserialize, Serialize};

use crate::process::{ProcessData, RECEIPT_PROCESS};

/// A transaction started on a TSE.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Started {
    /// The device's id of the transaction (a UUID).
    pub id: String,
    /// The till: the TSE client's serial number.
    pub client: String,
    /// The TSE's transaction number.
    pub number: u64,
    /// Unix seconds.
    pub time_start: i64,
}

/// A finished, signed transaction: what the receipt and the export carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signed {
    pub number: u64,
    pub signature_counter: u64,
    /// Unix seconds.
    pub time_start: i64,
    pub time_end: i64,
    /// The TSE's serial number (the hash of its public key, hex).
    pub tss_serial: String,
    pub client_serial: String,
    /// e.g. `ecdsa-plain-SHA256`.
    pub algorithm: String,
    /// `unixTime`.
    pub time_format: String,
    /// Base64.
    pub public_key: String,
    /// Base64.
    pub signature: String,
    pub process_type: String,
    pub process_data: String,
    /// False for the simulated TSE: receipts and exports say so.
    pub certified: bool,
}

/// Whether the device can sign now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub reachable: bool,
    pub certified: bool,
    pub tss_serial: Option<String>,
    /// What is wrong, in words a manager can act on; empty when healthy.
    pub message: String,
}

/// What went wrong on the way to a signature.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TseError {
    #[error("the TSE cannot be reached: {0}")]
    Unreachable(String),
    #[error("the TSE refused: {0}")]
    Refused(String),
    #[error("the TSE is not set up: {0}")]
    Misconfigured(String),
}

/// A technical security device (or a scheme like it).
pub trait Tse: Send + Sync {
    /// Starts a transaction for the till `client`.
    fn start(&self, client: &str) -> Result<Started, TseError>;
    /// Finishes it: signs `data` (a receipt, `Kassenbeleg-V1`).
    fn finish(&self, started: &Started, data: &ProcessData) -> Result<Signed, TseError>;
    fn health(&self) -> Health;
}

/// A transaction's fiscal outcome. On the wire:
/// `{"state": "signed", "number": …}` or `{"state": "outage", "reason": …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Signing {
    Signed(Box<Signed>),
    /// The TSE could not sign: the sale stands, marked as made during a
    /// TSE outage (receipt: "TSE ausgefallen"; export: the failed-TSE
    /// fields).
    Outage {
        reason: String,
    },
}

impl Signing {
    pub fn signed(&self) -> Option<&Signed> {
        match self {
            Signing::Signed(signed) => Some(signed),
            Signing::Outage { .. } => None,
        }
    }
}

/// Signs a receipt, or records why it could not be: selling never waits
/// for a TSE.
pub fn sign_or_outage(tse: &dyn Tse, client: &str, data: &ProcessData) -> Signing {
    let signed = tse
        .start(client)
        .and_then(|started| tse.finish(&started, data));
    match signed {
        Ok(signed) => Signing::Signed(Box::new(signed)),
        Err(error) => {
            tracing::warn!(%error, client, process = RECEIPT_PROCESS, "TSE outage: the transaction is recorded unsigned");
            Signing::Outage {
                reason: error.to_string(),
            }
        }
    }
}
