//! The server's errors and the HTTP status and `error_code` each maps to.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tapster_api::ErrorBody;
use tapster_ledger::LedgerError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServerError {
    #[error("unauthenticated: check your API token")]
    Unauthenticated,
    #[error("{0} was not found")]
    NotFound(String),
    #[error("invalid parameters: {field} {reason}")]
    InvalidParameters { field: String, reason: String },
    #[error("idempotency key '{0}' was already used for a different request; nothing was changed")]
    IdempotencyConflict(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the request body could not be read: {message}")]
    UnreadableBody { too_large: bool, message: String },
    #[error("{0}")]
    Ledger(#[from] LedgerError),
    #[error("{0}")]
    Forbidden(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServerError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ServerError::InvalidParameters {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        use LedgerError as L;
        match self {
            ServerError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ServerError::NotFound(_) => StatusCode::NOT_FOUND,
            ServerError::InvalidParameters { .. } => StatusCode::BAD_REQUEST,
            ServerError::IdempotencyConflict(_) | ServerError::Conflict(_) => StatusCode::CONFLICT,
            ServerError::UnreadableBody {
                too_large: true, ..
            } => StatusCode::PAYLOAD_TOO_LARGE,
            ServerError::UnreadableBody {
                too_large: false, ..
            } => StatusCode::BAD_REQUEST,
            ServerError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ServerError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServerError::Ledger(error) => match error {
                L::TerminalNotPermitted { .. }
                | L::RoleNotPermitted { .. }
                | L::WrongPin { .. }
                | L::LoginLocked { .. }
                | L::StaffInactive(_) => StatusCode::FORBIDDEN,
                L::UnknownStaff(_) | L::UnknownCategory(_) => StatusCode::NOT_FOUND,
                L::CategoryNotEmpty { .. }
                | L::BadgeInUse { .. }
                | L::BadgeIsGuestBand
                | L::BandIsStaffBadge => StatusCode::CONFLICT,
                // The wallet cannot pay: seed 001 names no status for it.
                L::InsufficientFunds { .. } | L::WalletBlocked { .. } => {
                    StatusCode::PAYMENT_REQUIRED
                }
                L::IdempotencyConflict(_) => StatusCode::CONFLICT,
                // As a scan of a used pass answers (seed 003).
                L::PassRefused(tapster_ledger::passes::PassRefusal::AlreadyRedeemed { .. }) => {
                    StatusCode::CONFLICT
                }
                L::PassRefused(_)
                | L::PassNotApplicable(_)
                | L::DepositReturnExceeded { .. }
                | L::ReturnsExceedOrder => StatusCode::UNPROCESSABLE_ENTITY,
                L::UnknownWallet { .. } => StatusCode::NOT_FOUND,
                L::StorageBusy => StatusCode::SERVICE_UNAVAILABLE,
                L::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
                L::Storage(_)
                | L::Corrupt(_)
                | L::SchemaTooNew { .. }
                | L::MigrationChanged { .. }
                | L::WrongTerminal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            },
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ServerError::Unauthenticated => "unauthenticated",
            ServerError::NotFound(_) => "not_found",
            ServerError::Forbidden(_) => "forbidden",
            ServerError::InvalidParameters { .. } => "invalid_parameters",
            ServerError::IdempotencyConflict(_) => "idempotency_conflict",
            ServerError::Conflict(_) => "conflict",
            ServerError::UnreadableBody {
                too_large: true, ..
            } => "body_too_large",
            ServerError::UnreadableBody {
                too_large: false, ..
            } => "invalid_body",
            ServerError::Internal(_) => "internal",
            ServerError::Ledger(error) => error.code(),
        }
    }
}

impl From<crate::db::Error> for ServerError {
    fn from(error: crate::db::Error) -> Self {
        use crate::db::Error;
        match error {
            Error::Sqlite(error) => error.into(),
            Error::Postgres(ref pg) => match pg.code().map(|c| c.code()) {
                Some("53100") => ServerError::Ledger(LedgerError::StorageFull),
                // Serialization failure, deadlock, lock timeout, shutdown,
                // connection trouble: worth trying again.
                Some("40001" | "40P01" | "55P03" | "57P01" | "57P02" | "57P03") => {
                    ServerError::Ledger(LedgerError::StorageBusy)
                }
                Some(code) if code.starts_with("08") => {
                    ServerError::Ledger(LedgerError::StorageBusy)
                }
                None if pg.is_closed() => ServerError::Ledger(LedgerError::StorageBusy),
                _ => ServerError::Internal(error.to_string()),
            },
            Error::Unavailable(_) => ServerError::Ledger(LedgerError::StorageBusy),
            Error::NoRows | Error::Conversion { .. } | Error::AfterCommit(_) => {
                ServerError::Internal(error.to_string())
            }
        }
    }
}

impl From<rusqlite::Error> for ServerError {
    fn from(error: rusqlite::Error) -> Self {
        ServerError::Ledger(error.into())
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let body = ErrorBody {
            error_code: self.code().to_string(),
            // Internal details stay in the log.
            error_message: if status == StatusCode::INTERNAL_SERVER_ERROR {
                "internal error; see the server log".to_string()
            } else {
                self.to_string()
            },
        };
        (status, Json(body)).into_response()
    }
}
