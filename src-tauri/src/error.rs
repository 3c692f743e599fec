//! Errors as the UI receives them: `{code, message, retryable}` with a
//! closed set of codes the UI switches on (never on message text).

use serde::Serialize;
use tapster_ledger::LedgerError;
use tapster_print::PrintError;
use tapster_sync::SaleError;
use ts_rs::TS;

/// Every error code the UI can receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotLoggedIn,
    WrongPin,
    LoginLocked,
    UnknownBadge,
    RoleNotPermitted,
    TerminalNotPermitted,
    NoOpenShift,
    ShiftAlreadyOpen,
    ShiftOfAnotherCashier,
    EmptyCart,
    /// The cart now costs something else than the total the cashier saw.
    PriceChanged,
    InvalidQuantity,
    UnknownProduct,
    ProductNotAvailable,
    OutOfStock,
    /// Sold out at this till's bar (the manager marked it so).
    SoldOut,
    InsufficientFunds,
    WalletBlocked,
    /// The band did not prove it is a genuine band of the event (a clone,
    /// a blank band) while the event requires genuine bands.
    WristbandNotGenuine,
    /// The till cannot encode wristbands: no band keys (not paired with
    /// the server) or no NFC reader.
    NoBandKeys,
    UnknownWallet,
    OfflineLimit,
    MaxBalanceExceeded,
    TenderMismatch,
    NothingToCancel,
    NotYourLastSale,
    AlreadyCancelled,
    CannotCancel,
    NotReturnable,
    DepositReturnExceeded,
    NothingToPayOut,
    /// A pass that is blocked, used up, not yet or no longer valid.
    PassRefused,
    /// A pass that does not fit the cart (its product is not in it…).
    PassNotApplicable,
    /// The cups brought back are worth more than the order.
    ReturnsExceedOrder,
    /// A payment above what is left on a bill, or to a bill already paid.
    BillOverpaid,
    /// A bill that is settled or cancelled, or does not exist.
    BillClosed,
    /// A sale that belongs to a bill: only the whole bill is cancelled.
    PartOfBill,
    /// A shift with an open bill: finish or cancel the bill first.
    BillsOpen,
    InvalidInput,
    /// The same idempotency key was used for a different request.
    IdempotencyConflict,
    /// A wristband operation without a tap of that wristband on the reader.
    NoTap,
    RefusedByServer,
    /// The server did not answer (setup, connection test).
    ServerUnreachable,
    /// The encrypted connection was refused: the server is not the one
    /// pinned (ask for a new setup code) or its certificate is not valid.
    ServerUntrusted,
    /// Kept on the event's server: change it there.
    ServerOwned,
    /// A category that still holds products cannot be removed.
    CategoryNotEmpty,
    /// The badge is another staff member's.
    BadgeInUse,
    /// The band is a guest's wristband (it has a wallet), not a badge.
    BadgeIsGuestBand,
    /// The band is a staff badge: it cannot become a guest's wallet.
    BandIsStaffBadge,
    /// A file (an exported report, the settings) could not be written.
    SaveFailed,
    OutcomeUnknown,
    StorageFull,
    StorageBusy,
    PrinterProblem,
    NotInDemoMode,
    Internal,
}

/// An error for the UI: what happened in words, and whether trying again
/// unchanged may work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    pub retryable: bool,
    /// For `insufficient_funds`: how much is missing, to offer a top-up.
    #[ts(type = "number | null")]
    pub missing_cents: Option<i64>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
            retryable: false,
            missing_cents: None,
        }
    }

    pub fn not_logged_in() -> Self {
        AppError::new(
            ErrorCode::NotLoggedIn,
            "Not logged in, or locked after inactivity: log in with your PIN",
        )
    }
}

impl From<LedgerError> for AppError {
    fn from(error: LedgerError) -> Self {
        use LedgerError::*;
        let code = match &error {
            WrongPin { .. } => ErrorCode::WrongPin,
            LoginLocked { .. } => ErrorCode::LoginLocked,
            UnknownStaff(_) | StaffInactive(_) => ErrorCode::UnknownBadge,
            RoleNotPermitted { .. } => ErrorCode::RoleNotPermitted,
            TerminalNotPermitted { .. } => ErrorCode::TerminalNotPermitted,
            NoOpenShift => ErrorCode::NoOpenShift,
            ShiftAlreadyOpen => ErrorCode::ShiftAlreadyOpen,
            ShiftOfAnotherCashier => ErrorCode::ShiftOfAnotherCashier,
            EmptyCart => ErrorCode::EmptyCart,
            InvalidQuantity { .. } => ErrorCode::InvalidQuantity,
            UnknownProduct(_) => ErrorCode::UnknownProduct,
            ProductArchived { .. } | ProductNotAvailable { .. } => ErrorCode::ProductNotAvailable,
            OutOfStock { .. } => ErrorCode::OutOfStock,
            SoldOut { .. } => ErrorCode::SoldOut,
            InsufficientFunds { .. } => ErrorCode::InsufficientFunds,
            WalletBlocked { .. } => ErrorCode::WalletBlocked,
            WristbandNotGenuine { .. } => ErrorCode::WristbandNotGenuine,
            UnknownWallet { .. } => ErrorCode::UnknownWallet,
            OfflineLimit(_) => ErrorCode::OfflineLimit,
            MaxBalanceExceeded { .. } => ErrorCode::MaxBalanceExceeded,
            TenderMismatch => ErrorCode::TenderMismatch,
            UnknownEntry(_) => ErrorCode::NothingToCancel,
            NotYourLastSale => ErrorCode::NotYourLastSale,
            AlreadyCancelled => ErrorCode::AlreadyCancelled,
            CannotCancelCancellation | CannotCancelRejected => ErrorCode::CannotCancel,
            NotReturnable { .. } => ErrorCode::NotReturnable,
            DepositReturnExceeded { .. } => ErrorCode::DepositReturnExceeded,
            NothingToPayOut => ErrorCode::NothingToPayOut,
            PassRefused(_) => ErrorCode::PassRefused,
            PassNotApplicable(_) => ErrorCode::PassNotApplicable,
            ReturnsExceedOrder => ErrorCode::ReturnsExceedOrder,
            BillOverpaid { .. } | BillAlreadyCovered => ErrorCode::BillOverpaid,
            UnknownBill(_) | BillNotOpen { .. } => ErrorCode::BillClosed,
            PartOfBill { .. } => ErrorCode::PartOfBill,
            BillsOpen { .. } => ErrorCode::BillsOpen,
            // The server may have taken a band's payment: as unknown as
            // an unanswered sale, and worth trying again.
            BillPaymentPending => ErrorCode::OutcomeUnknown,
            IdempotencyConflict(_) => ErrorCode::IdempotencyConflict,
            InvalidTokenId(_) | InvalidInput(_) | AmountOverflow | PinInUse
            | UnknownCategory(_) => ErrorCode::InvalidInput,
            CategoryNotEmpty { .. } => ErrorCode::CategoryNotEmpty,
            BadgeInUse { .. } => ErrorCode::BadgeInUse,
            BadgeIsGuestBand => ErrorCode::BadgeIsGuestBand,
            BandIsStaffBadge => ErrorCode::BandIsStaffBadge,
            StorageFull => ErrorCode::StorageFull,
            StorageBusy => ErrorCode::StorageBusy,
            SchemaTooNew { .. }
            | MigrationChanged { .. }
            | WrongTerminal { .. }
            | Storage(_)
            | Corrupt(_) => ErrorCode::Internal,
        };
        let missing_cents = match &error {
            InsufficientFunds { missing, .. } => Some(missing.0),
            _ => None,
        };
        AppError {
            code,
            message: error.to_string(),
            retryable: error.retryable(),
            missing_cents,
        }
    }
}

impl From<SaleError> for AppError {
    fn from(error: SaleError) -> Self {
        match error {
            SaleError::Ledger(e) => e.into(),
            SaleError::Refused { code, message } => {
                let code = match code.as_str() {
                    "insufficient_funds" => ErrorCode::InsufficientFunds,
                    "wallet_blocked" | "blocked" => ErrorCode::WalletBlocked,
                    "out_of_stock" => ErrorCode::OutOfStock,
                    "sold_out" => ErrorCode::SoldOut,
                    "idempotency_conflict" => ErrorCode::IdempotencyConflict,
                    "unknown_wallet" | "wallet_not_found" => ErrorCode::UnknownWallet,
                    "pass_refused" => ErrorCode::PassRefused,
                    "pass_not_applicable" => ErrorCode::PassNotApplicable,
                    "deposit_return_exceeded" => ErrorCode::DepositReturnExceeded,
                    "returns_exceed_order" => ErrorCode::ReturnsExceedOrder,
                    "nothing_to_pay_out" => ErrorCode::NothingToPayOut,
                    _ => ErrorCode::RefusedByServer,
                };
                AppError::new(code, message)
            }
            e @ SaleError::OutcomeUnknown { .. } => AppError {
                retryable: true,
                ..AppError::new(ErrorCode::OutcomeUnknown, e.to_string())
            },
        }
    }
}

impl From<PrintError> for AppError {
    fn from(error: PrintError) -> Self {
        match error {
            PrintError::Ledger(e) => e.into(),
            other => AppError::new(ErrorCode::PrinterProblem, other.to_string()),
        }
    }
}
