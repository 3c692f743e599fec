//! The ledger's errors. Each variant is a message a cashier or manager can
//! act on, and has a stable `code()` that user interfaces switch on.

use serde::Serialize;
use thiserror::Error;

use crate::clock::Timestamp;
use crate::ids::{BillId, CategoryId, EntryId, IdempotencyKey, ProductId, StaffId, TokenId};
use crate::model::{Permission, Role};
use crate::money::Cents;

#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenIdError {
    #[error("no wristband id was given")]
    Empty,
    #[error("wristband id has '{character}' at position {position}; only hex digits 0-9 and A-F are allowed")]
    NotHex { character: char, position: usize },
    #[error("wristband id has {digits} hex digits; a byte needs two")]
    OddDigits { digits: usize },
    #[error("wristband id is {bytes} bytes long; NFC ids are 4, 7 or 10 bytes")]
    WrongLength { bytes: usize },
}

/// A field of a request that does not have an acceptable value.
#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize)]
#[error("{field} {reason}")]
pub struct InputError {
    pub field: &'static str,
    pub reason: String,
}

impl InputError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        InputError {
            field,
            reason: reason.into(),
        }
    }
}

/// One of the offline risk limits that a wallet debit without the server
/// would break.
#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum OfflineLimit {
    #[error(
        "this terminal has never seen this wristband's balance; it can only be used while online"
    )]
    BalanceUnknown,
    #[error("this wristband's balance is {age_secs} s old (at most {max_age_secs} s allowed offline); it can only be used while online")]
    BalanceTooOld { age_secs: i64, max_age_secs: i64 },
    #[error("offline payments for this wristband would reach {would_be} (limit {cap}); it can only be used while online")]
    WalletCap { cap: Cents, would_be: Cents },
    #[error("this terminal's offline payments would reach {would_be} (limit {cap}); reconnect to sell more")]
    TerminalCap { cap: Cents, would_be: Cents },
    #[error("{amount} is above the offline limit of {limit} per sale")]
    PerSale { limit: Cents, amount: Cents },
    #[error("passes taken off offline on this terminal would reach {would_be} (limit {cap}); reconnect to take off more")]
    PassCap { cap: Cents, would_be: Cents },
}

#[derive(Debug, Error)]
pub enum LedgerError {
    #[error(transparent)]
    InvalidTokenId(#[from] TokenIdError),
    #[error("invalid input: {0}")]
    InvalidInput(#[from] InputError),
    #[error("the cart is empty")]
    EmptyCart,
    #[error("quantity {quantity} of '{product}' is not allowed; use 1 to {max}")]
    InvalidQuantity {
        product: ProductId,
        quantity: i64,
        max: i64,
    },
    #[error("product '{0}' does not exist")]
    UnknownProduct(ProductId),
    #[error("'{name}' is archived and cannot be sold")]
    ProductArchived { name: String },
    #[error("'{name}' is not available at this time")]
    ProductNotAvailable {
        name: String,
        from: Option<Timestamp>,
        until: Option<Timestamp>,
    },
    #[error("'{name}' is sold out at this bar")]
    SoldOut { name: String },
    #[error("only {available} of '{name}' left in stock, {requested} requested")]
    OutOfStock {
        name: String,
        available: i64,
        requested: i64,
    },
    #[error("amount too large to compute")]
    AmountOverflow,
    #[error("not enough balance: {missing} missing ({available} available, {required} needed)")]
    InsufficientFunds {
        available: Cents,
        required: Cents,
        missing: Cents,
    },
    #[error("this wristband is blocked; send the guest to the info booth")]
    WalletBlocked { token: TokenId },
    #[error("wristband not genuine — call the manager ({reason})")]
    WristbandNotGenuine { token: TokenId, reason: String },
    #[error("this wristband is not known to the event")]
    UnknownWallet { token: TokenId },
    #[error("payment refused offline: {0}")]
    OfflineLimit(OfflineLimit),
    #[error("top-up refused: the balance would be {would_be}, above the event's maximum of {max}")]
    MaxBalanceExceeded { max: Cents, would_be: Cents },
    #[error("this terminal may not {action} (its permission is '{permission}')")]
    TerminalNotPermitted {
        permission: Permission,
        action: &'static str,
    },
    #[error("a {role} may not {action}")]
    RoleNotPermitted { role: Role, action: &'static str },
    #[error("this wristband needs the wallet tender; cash and card need no wristband")]
    TenderMismatch,
    #[error("no shift is open on this terminal; open a shift first")]
    NoOpenShift,
    #[error("a shift is already open on this terminal; close it first")]
    ShiftAlreadyOpen,
    #[error("this shift belongs to another cashier")]
    ShiftOfAnotherCashier,
    #[error("entry {0} does not exist")]
    UnknownEntry(EntryId),
    #[error("a cashier can only cancel the last sale of their own open shift; ask a supervisor")]
    NotYourLastSale,
    #[error("this entry was already cancelled")]
    AlreadyCancelled,
    #[error("a cancellation cannot itself be cancelled")]
    CannotCancelCancellation,
    #[error("the server refused this entry, so it moved no money; there is nothing to cancel")]
    CannotCancelRejected,
    #[error("'{name}' is not a returnable deposit")]
    NotReturnable { name: String },
    #[error(
        "the guest has only {outstanding} deposit(s) of '{name}' to return, {requested} requested"
    )]
    DepositReturnExceeded {
        name: String,
        outstanding: i64,
        requested: i64,
    },
    #[error("there is no balance to pay out")]
    NothingToPayOut,
    #[error("pass refused: {0}")]
    PassRefused(crate::passes::PassRefusal),
    #[error("the pass does not apply: {0}")]
    PassNotApplicable(crate::passes::NotApplicable),
    #[error("the cups brought back are worth more than the order; take them back on the cup screen first")]
    ReturnsExceedOrder,
    #[error("this bill is already paid in full")]
    BillAlreadyCovered,
    #[error("{offered} is more than the {remaining} left on the bill; a wristband or a card pays at most the rest")]
    BillOverpaid { remaining: Cents, offered: Cents },
    #[error("bill {0} does not exist")]
    UnknownBill(BillId),
    #[error("this bill is {status}; it takes no more payments or changes")]
    BillNotOpen { status: &'static str },
    #[error("this sale is part of a bill; cancel the whole bill")]
    PartOfBill { bill: BillId },
    #[error("a wristband's payment towards this bill is waiting for the server's answer; try again in a moment")]
    BillPaymentPending,
    #[error("this shift still has {count} open bill(s): finish or cancel them first")]
    BillsOpen { count: i64 },
    #[error("idempotency key '{0}' was already used for a different request")]
    IdempotencyConflict(IdempotencyKey),
    #[error("wrong PIN ({attempts_left} attempts left before login is locked)")]
    WrongPin { attempts_left: u32 },
    #[error("login is locked after too many wrong PINs; try again in {retry_after_secs} s")]
    LoginLocked { retry_after_secs: i64 },
    #[error("staff member '{0}' does not exist")]
    UnknownStaff(StaffId),
    #[error("staff member '{0}' is deactivated")]
    StaffInactive(StaffId),
    #[error("that PIN is already used by another staff member")]
    PinInUse,
    #[error("category '{0}' does not exist")]
    UnknownCategory(CategoryId),
    #[error("'{name}' still holds {products} product(s), archived ones included: move them to another category first")]
    CategoryNotEmpty { name: String, products: i64 },
    #[error("this badge already belongs to {holder}")]
    BadgeInUse { holder: String },
    #[error("this wristband is a guest's (it holds a wallet); a staff badge must be a band no guest uses")]
    BadgeIsGuestBand,
    #[error(
        "this band is a staff member's badge, not a guest's wristband: give the guest another band"
    )]
    BandIsStaffBadge,
    #[error("the ledger database was made by a newer Tapster (schema {found}, this version knows up to {supported}); update the app")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("migration {version} changed after it was applied; refusing to open the ledger")]
    MigrationChanged { version: i64 },
    #[error("this ledger belongs to terminal '{found}', not '{expected}'")]
    WrongTerminal { found: String, expected: String },
    #[error("the disk is full: the sale was not saved; free space or call support")]
    StorageFull,
    #[error("the ledger database is busy; try again")]
    StorageBusy,
    #[error("the ledger database failed: {0}")]
    Storage(rusqlite::Error),
    #[error("the ledger holds a value it cannot read: {0}")]
    Corrupt(String),
}

impl From<rusqlite::Error> for LedgerError {
    fn from(error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match error.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => LedgerError::StorageFull,
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
                LedgerError::StorageBusy
            }
            _ => LedgerError::Storage(error),
        }
    }
}

impl LedgerError {
    /// A stable code per kind of error, for user interfaces and APIs.
    pub fn code(&self) -> &'static str {
        use LedgerError::*;
        match self {
            InvalidTokenId(_) => "invalid_token_id",
            InvalidInput(_) => "invalid_input",
            EmptyCart => "empty_cart",
            InvalidQuantity { .. } => "invalid_quantity",
            UnknownProduct(_) => "unknown_product",
            ProductArchived { .. } => "product_archived",
            ProductNotAvailable { .. } => "product_not_available",
            OutOfStock { .. } => "out_of_stock",
            SoldOut { .. } => "sold_out",
            AmountOverflow => "amount_overflow",
            InsufficientFunds { .. } => "insufficient_funds",
            WalletBlocked { .. } => "wallet_blocked",
            WristbandNotGenuine { .. } => "wristband_not_genuine",
            UnknownWallet { .. } => "unknown_wallet",
            OfflineLimit(_) => "offline_limit",
            MaxBalanceExceeded { .. } => "max_balance_exceeded",
            TerminalNotPermitted { .. } => "terminal_not_permitted",
            RoleNotPermitted { .. } => "role_not_permitted",
            TenderMismatch => "tender_mismatch",
            NoOpenShift => "no_open_shift",
            ShiftAlreadyOpen => "shift_already_open",
            ShiftOfAnotherCashier => "shift_of_another_cashier",
            UnknownEntry(_) => "unknown_entry",
            NotYourLastSale => "not_your_last_sale",
            AlreadyCancelled => "already_cancelled",
            CannotCancelCancellation => "cannot_cancel_cancellation",
            CannotCancelRejected => "cannot_cancel_rejected",
            NotReturnable { .. } => "not_returnable",
            DepositReturnExceeded { .. } => "deposit_return_exceeded",
            NothingToPayOut => "nothing_to_pay_out",
            PassRefused(_) => "pass_refused",
            PassNotApplicable(_) => "pass_not_applicable",
            ReturnsExceedOrder => "returns_exceed_order",
            BillAlreadyCovered => "bill_already_covered",
            BillOverpaid { .. } => "bill_overpaid",
            UnknownBill(_) => "unknown_bill",
            BillNotOpen { .. } => "bill_not_open",
            PartOfBill { .. } => "part_of_bill",
            BillPaymentPending => "bill_payment_pending",
            BillsOpen { .. } => "bills_open",
            IdempotencyConflict(_) => "idempotency_conflict",
            WrongPin { .. } => "wrong_pin",
            LoginLocked { .. } => "login_locked",
            UnknownStaff(_) => "unknown_staff",
            StaffInactive(_) => "staff_inactive",
            PinInUse => "pin_in_use",
            UnknownCategory(_) => "unknown_category",
            CategoryNotEmpty { .. } => "category_not_empty",
            BadgeInUse { .. } => "badge_in_use",
            BadgeIsGuestBand => "badge_is_guest_band",
            BandIsStaffBadge => "band_is_staff_badge",
            SchemaTooNew { .. } => "schema_too_new",
            MigrationChanged { .. } => "migration_changed",
            WrongTerminal { .. } => "wrong_terminal",
            StorageFull => "storage_full",
            StorageBusy => "storage_busy",
            Storage(_) => "storage",
            Corrupt(_) => "corrupt",
        }
    }

    /// Whether trying the same request again later may succeed without
    /// anyone changing anything.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            LedgerError::StorageBusy
                | LedgerError::StorageFull
                | LedgerError::LoginLocked { .. }
                | LedgerError::BillPaymentPending
        )
    }
}

pub type Result<T, E = LedgerError> = std::result::Result<T, E>;
