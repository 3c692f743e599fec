//! Wallet, permission and role rules, written once. Pure functions: the
//! terminal's store and the server gather the facts and call these.

use crate::clock::Timestamp;
use crate::error::{LedgerError, OfflineLimit, Result};
use crate::ids::{CategoryId, StaffId, TokenId};
use crate::model::{
    BandPolicy, Direction, EntryKind, EventSettings, OfflineLimits, Permission, Role,
};
use crate::money::Cents;

/// Who decides whether a wallet debit is covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authority {
    /// This ledger is the event's truth (a standalone terminal, or the
    /// server itself): the balance it holds is exact.
    Ledger,
    /// A connected terminal that cannot reach the server: the offline risk
    /// limits apply on top of the funds check.
    Offline,
}

/// What a ledger knows about a wallet when it is asked to debit it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletPosition {
    pub token: TokenId,
    pub blocked: bool,
    /// `false` when no balance for this wallet was ever confirmed here.
    pub balance_known: bool,
    pub confirmed_at: Option<Timestamp>,
    pub available: Cents,
    /// This wallet's unacknowledged offline debits on this terminal, as a
    /// positive amount.
    pub offline_exposure: Cents,
}

/// Checks that a wallet may be debited by `amount` (a positive amount).
///
/// Refuses blocked wallets, then missing funds (naming the missing amount),
/// then, offline, each of the risk limits: the worst case per wallet is thus
/// the wallet cap times the number of terminals it can reach.
pub fn authorize_debit(
    wallet: &WalletPosition,
    amount: Cents,
    authority: Authority,
    limits: &OfflineLimits,
    terminal_offline_exposure: Cents,
    now: Timestamp,
) -> Result<()> {
    if wallet.blocked {
        return Err(LedgerError::WalletBlocked {
            token: wallet.token.clone(),
        });
    }
    if authority == Authority::Offline {
        if !wallet.balance_known {
            return Err(LedgerError::OfflineLimit(OfflineLimit::BalanceUnknown));
        }
        let age_secs = wallet
            .confirmed_at
            .map_or(i64::MAX, |at| now.secs_since(at));
        if age_secs > limits.max_balance_age_secs {
            return Err(LedgerError::OfflineLimit(OfflineLimit::BalanceTooOld {
                age_secs,
                max_age_secs: limits.max_balance_age_secs,
            }));
        }
    }
    if wallet.available < amount {
        return Err(LedgerError::InsufficientFunds {
            available: wallet.available,
            required: amount,
            missing: amount
                .checked_sub(wallet.available)
                .ok_or(LedgerError::AmountOverflow)?,
        });
    }
    if authority == Authority::Offline {
        if amount > limits.per_sale_limit {
            return Err(LedgerError::OfflineLimit(OfflineLimit::PerSale {
                limit: limits.per_sale_limit,
                amount,
            }));
        }
        let wallet_would_be = wallet
            .offline_exposure
            .checked_add(amount)
            .ok_or(LedgerError::AmountOverflow)?;
        if wallet_would_be > limits.wallet_cap {
            return Err(LedgerError::OfflineLimit(OfflineLimit::WalletCap {
                cap: limits.wallet_cap,
                would_be: wallet_would_be,
            }));
        }
        let terminal_would_be = terminal_offline_exposure
            .checked_add(amount)
            .ok_or(LedgerError::AmountOverflow)?;
        if terminal_would_be > limits.terminal_cap {
            return Err(LedgerError::OfflineLimit(OfflineLimit::TerminalCap {
                cap: limits.terminal_cap,
                would_be: terminal_would_be,
            }));
        }
    }
    Ok(())
}

/// Checks that what a pass takes off (`value`) keeps the passes this
/// terminal let go offline, unconfirmed (`exposure`), within the cap.
pub fn check_offline_pass(limits: &OfflineLimits, exposure: Cents, value: Cents) -> Result<()> {
    let would_be = exposure
        .checked_add(value)
        .ok_or(LedgerError::AmountOverflow)?;
    if would_be > limits.pass_cap {
        return Err(LedgerError::OfflineLimit(OfflineLimit::PassCap {
            cap: limits.pass_cap,
            would_be,
        }));
    }
    Ok(())
}

/// Checks that a top-up keeps the wallet at or below the event's maximum.
pub fn check_max_balance(available: Cents, top_up: Cents, max: Cents) -> Result<()> {
    let would_be = available
        .checked_add(top_up)
        .ok_or(LedgerError::AmountOverflow)?;
    if would_be > max {
        return Err(LedgerError::MaxBalanceExceeded { max, would_be });
    }
    Ok(())
}

/// Whether a wristband may pay or be topped up under the event's band
/// policy: with genuine bands required, only one that proved its key at
/// this tap (`refused` says why it did not).
pub fn check_band(policy: BandPolicy, token: &TokenId, refused: Option<&str>) -> Result<()> {
    match (policy, refused) {
        (BandPolicy::GenuineRequired, Some(reason)) => Err(LedgerError::WristbandNotGenuine {
            token: token.clone(),
            reason: reason.to_string(),
        }),
        _ => Ok(()),
    }
}

/// What each kind of entry needs from the terminal's permission. Credits to
/// a wallet need `credit`; payouts too, since they hand out cash like a
/// cash desk. A cancellation needs what the entry it reverses needed.
pub fn required_direction(kind: EntryKind, amount: Cents) -> Direction {
    match kind {
        EntryKind::Sale => Direction::Debit,
        EntryKind::TopUp | EntryKind::DepositReturn | EntryKind::Payout => Direction::Credit,
        EntryKind::Cancel | EntryKind::Adjustment => {
            if amount.is_negative() {
                Direction::Debit
            } else {
                Direction::Credit
            }
        }
    }
}

pub fn check_terminal_permission(
    permission: Permission,
    kind: EntryKind,
    amount: Cents,
) -> Result<()> {
    let direction = required_direction(kind, amount);
    if permission.allows(direction) {
        Ok(())
    } else {
        Err(LedgerError::TerminalNotPermitted {
            permission,
            action: match kind {
                EntryKind::Sale => "sell",
                EntryKind::TopUp => "top up wallets",
                EntryKind::DepositReturn => "take back deposits",
                EntryKind::Payout => "pay out balances",
                EntryKind::Cancel => "cancel this entry",
                EntryKind::Adjustment => "adjust wallets",
            },
        })
    }
}

/// Things only some roles may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Sell,
    TopUp,
    ReturnDeposit,
    PayOut,
    CancelAnyEntry,
    Adjust,
    CloseOthersShift,
    /// Open the cash drawer of a shift that is not one's own.
    OpenOthersDrawer,
    /// End a till's kiosk mode (close the app).
    EndKiosk,
    ManageCatalogue,
    ManageStaff,
    ViewReports,
    /// Block or unblock a wristband, move its balance to a new one.
    ManageWallets,
    /// Change the till's and the event's settings.
    ChangeSettings,
    /// Run the encoding station: personalise wristbands with the event's
    /// band keys.
    EncodeBands,
    /// Book deliveries, transfers, waste and counts at a bar, mark a
    /// product sold out there: a bar lead's work.
    BookStock,
    /// Vendors, their commission, and correcting stock by hand.
    ManageVendors,
    /// Pay the guests' rests back by bank: payout runs, their SEPA files,
    /// booking and revoking them.
    RunPayouts,
    /// Read the audit trail: who did what, to money and its rules.
    ViewAuditTrail,
}

impl Action {
    pub fn minimum_role(self) -> Role {
        match self {
            Action::Sell | Action::TopUp | Action::ReturnDeposit | Action::PayOut => Role::Cashier,
            Action::CancelAnyEntry
            | Action::CloseOthersShift
            | Action::OpenOthersDrawer
            | Action::ViewReports
            | Action::ManageWallets
            | Action::BookStock => Role::Supervisor,
            Action::Adjust
            | Action::EndKiosk
            | Action::ManageCatalogue
            | Action::ManageStaff
            | Action::ChangeSettings
            | Action::EncodeBands
            | Action::ManageVendors
            | Action::RunPayouts
            | Action::ViewAuditTrail => Role::Manager,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Action::Sell => "sell",
            Action::TopUp => "top up",
            Action::ReturnDeposit => "take back deposits",
            Action::PayOut => "pay out balances",
            Action::CancelAnyEntry => "cancel other entries than their own last sale",
            Action::Adjust => "adjust balances",
            Action::CloseOthersShift => "close another cashier's shift",
            Action::OpenOthersDrawer => "open the drawer of another cashier's shift",
            Action::EndKiosk => "end kiosk mode",
            Action::ManageCatalogue => "change products",
            Action::ManageStaff => "manage staff",
            Action::ViewReports => "view reports",
            Action::ManageWallets => "block wristbands or move balances",
            Action::ChangeSettings => "change settings",
            Action::EncodeBands => "encode wristbands",
            Action::BookStock => "book stock at the bars",
            Action::ManageVendors => "manage vendors and correct stock",
            Action::RunPayouts => "pay balances back by bank transfer",
            Action::ViewAuditTrail => "read the audit trail",
        }
    }
}

pub fn check_role(role: Role, action: Action) -> Result<()> {
    if role >= action.minimum_role() {
        Ok(())
    } else {
        Err(LedgerError::RoleNotPermitted {
            role,
            action: action.describe(),
        })
    }
}

/// The facts about an entry someone wants to cancel.
#[derive(Clone, Debug)]
pub struct CancelTarget {
    pub kind: EntryKind,
    pub staff: StaffId,
    pub already_cancelled: bool,
    /// The server refused the entry: it never moved money, so there is
    /// nothing to reverse.
    pub rejected_by_server: bool,
    /// The entry is a sale in the actor's open shift, with no later sale of
    /// the actor in that shift.
    pub is_actors_last_sale_in_open_shift: bool,
}

/// A cashier may cancel only the last sale of their own open shift; a
/// supervisor or manager any entry; nobody cancels twice or a cancellation.
pub fn check_cancel(actor: &StaffId, role: Role, target: &CancelTarget) -> Result<()> {
    if target.kind == EntryKind::Cancel {
        return Err(LedgerError::CannotCancelCancellation);
    }
    if target.already_cancelled {
        return Err(LedgerError::AlreadyCancelled);
    }
    if target.rejected_by_server {
        return Err(LedgerError::CannotCancelRejected);
    }
    if role >= Action::CancelAnyEntry.minimum_role() {
        return Ok(());
    }
    if &target.staff == actor
        && target.kind == EntryKind::Sale
        && target.is_actors_last_sale_in_open_shift
    {
        Ok(())
    } else {
        Err(LedgerError::NotYourLastSale)
    }
}

/// A deposit return may give back at most what the guest has outstanding.
pub fn check_deposit_return(name: &str, outstanding: i64, requested: i64) -> Result<()> {
    if requested > outstanding {
        return Err(LedgerError::DepositReturnExceeded {
            name: name.to_string(),
            outstanding,
            requested,
        });
    }
    Ok(())
}

/// An event keeps at least one active manager: without one, nobody could
/// manage staff any more. `active_managers` is the count after a change.
pub fn check_managers_left(active_managers: i64) -> Result<()> {
    if active_managers > 0 {
        return Ok(());
    }
    Err(crate::error::InputError::new(
        "staff",
        "the event needs at least one active manager: make someone else manager first",
    )
    .into())
}

/// A category is removed only when no product is filed under it (archived
/// ones count: restoring one would leave it without a category).
pub fn check_category_empty(name: &str, products: i64) -> Result<()> {
    if products == 0 {
        return Ok(());
    }
    Err(LedgerError::CategoryNotEmpty {
        name: name.to_string(),
        products,
    })
}

/// A new order of the categories names each of them exactly once.
pub fn check_category_order(current: &[CategoryId], order: &[CategoryId]) -> Result<()> {
    let mut wanted: Vec<&CategoryId> = order.iter().collect();
    wanted.sort();
    let mut known: Vec<&CategoryId> = current.iter().collect();
    known.sort();
    if wanted == known {
        return Ok(());
    }
    let unknown = order.iter().find(|id| !current.contains(id));
    if let Some(id) = unknown {
        return Err(LedgerError::UnknownCategory(id.clone()));
    }
    Err(
        crate::error::InputError::new("category order", "must name every category exactly once")
            .into(),
    )
}

/// A staff badge logs its holder in on any till: it belongs to one member
/// and is no guest's wristband. `holder` is the member who has it now.
pub fn check_badge(
    staff: &StaffId,
    holder: Option<(&StaffId, &str)>,
    guest_band: bool,
) -> Result<()> {
    if guest_band {
        return Err(LedgerError::BadgeIsGuestBand);
    }
    match holder {
        Some((id, name)) if id != staff => Err(LedgerError::BadgeInUse {
            holder: name.to_string(),
        }),
        _ => Ok(()),
    }
}

/// A staff badge never becomes a guest's wallet (its holder would pay with
/// the band that logs them in).
pub fn check_not_a_badge(is_badge: bool) -> Result<()> {
    if is_badge {
        return Err(LedgerError::BandIsStaffBadge);
    }
    Ok(())
}

/// Failed PIN tries and the lock they led to: the same rule for a till's
/// login and the server's staff sessions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoginAttempts {
    pub failed: u32,
    /// Milliseconds since the Unix epoch.
    pub locked_until: Option<i64>,
}

impl LoginAttempts {
    /// Refuses while a lock runs.
    pub fn check_not_locked(&self, now: Timestamp) -> Result<()> {
        match self.locked_until {
            Some(until) if until > now.0 => Err(LedgerError::LoginLocked {
                retry_after_secs: (until - now.0 + 999) / 1000,
            }),
            _ => Ok(()),
        }
    }

    /// The counters after one more failure, and the error to report.
    pub fn fail(&self, settings: &EventSettings, now: Timestamp) -> (LoginAttempts, LedgerError) {
        // A lock that has run out starts a fresh count; one still running
        // keeps counting (callers check it first, but never lift it here).
        let previous = match self.locked_until {
            Some(until) if until <= now.0 => 0,
            _ => self.failed,
        };
        let failed = previous.saturating_add(1);
        if failed >= settings.max_failed_logins {
            let until = now.saturating_add_secs(settings.login_lockout_secs).0;
            (
                LoginAttempts {
                    failed,
                    locked_until: Some(until),
                },
                LedgerError::LoginLocked {
                    retry_after_secs: settings.login_lockout_secs,
                },
            )
        } else {
            (
                LoginAttempts {
                    failed,
                    locked_until: None,
                },
                LedgerError::WrongPin {
                    attempts_left: settings.max_failed_logins - failed,
                },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wallet(available: i64) -> WalletPosition {
        WalletPosition {
            token: TokenId::parse("04A1B2C3").unwrap(),
            blocked: false,
            balance_known: true,
            confirmed_at: Some(Timestamp::from_secs(1000)),
            available: Cents(available),
            offline_exposure: Cents(0),
        }
    }

    const NOW: Timestamp = Timestamp::from_secs(1060);

    #[test]
    fn debit_needs_funds_and_names_what_is_missing() {
        let limits = OfflineLimits::default();
        assert!(authorize_debit(
            &wallet(500),
            Cents(500),
            Authority::Ledger,
            &limits,
            Cents(0),
            NOW
        )
        .is_ok());
        let err = authorize_debit(
            &wallet(450),
            Cents(500),
            Authority::Ledger,
            &limits,
            Cents(0),
            NOW,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            LedgerError::InsufficientFunds {
                missing: Cents(50),
                available: Cents(450),
                required: Cents(500)
            }
        ));
    }

    #[test]
    fn blocked_wallets_are_refused_first() {
        let mut w = wallet(10_000);
        w.blocked = true;
        let err = authorize_debit(
            &w,
            Cents(1),
            Authority::Ledger,
            &OfflineLimits::default(),
            Cents(0),
            NOW,
        )
        .unwrap_err();
        assert!(matches!(err, LedgerError::WalletBlocked { .. }));
    }

    #[test]
    fn passes_taken_off_offline_stay_under_the_cap() {
        let limits = OfflineLimits {
            pass_cap: Cents(10_00),
            ..OfflineLimits::default()
        };
        assert!(check_offline_pass(&limits, Cents(5_00), Cents(5_00)).is_ok());
        assert!(matches!(
            check_offline_pass(&limits, Cents(5_00), Cents(5_01)),
            Err(LedgerError::OfflineLimit(OfflineLimit::PassCap { would_be, .. })) if would_be == Cents(10_01)
        ));
    }

    #[test]
    fn each_offline_limit_is_enforced() {
        let limits = OfflineLimits {
            pass_cap: Cents(10_00),
            wallet_cap: Cents(1000),
            max_balance_age_secs: 120,
            terminal_cap: Cents(5000),
            per_sale_limit: Cents(800),
        };
        let check = |w: &WalletPosition, amount: i64, terminal: i64, now: Timestamp| {
            authorize_debit(
                w,
                Cents(amount),
                Authority::Offline,
                &limits,
                Cents(terminal),
                now,
            )
        };
        let w = wallet(10_000);
        assert!(check(&w, 800, 0, NOW).is_ok());

        let mut unknown = w.clone();
        unknown.balance_known = false;
        assert!(matches!(
            check(&unknown, 1, 0, NOW),
            Err(LedgerError::OfflineLimit(OfflineLimit::BalanceUnknown))
        ));

        assert!(matches!(
            check(&w, 1, 0, Timestamp::from_secs(1121)),
            Err(LedgerError::OfflineLimit(OfflineLimit::BalanceTooOld {
                age_secs: 121,
                max_age_secs: 120
            }))
        ));
        assert!(
            check(&w, 1, 0, Timestamp::from_secs(1120)).is_ok(),
            "the limit itself is allowed"
        );

        assert!(matches!(
            check(&w, 801, 0, NOW),
            Err(LedgerError::OfflineLimit(OfflineLimit::PerSale { .. }))
        ));

        let mut exposed = w.clone();
        exposed.offline_exposure = Cents(600);
        assert!(check(&exposed, 400, 0, NOW).is_ok());
        assert!(matches!(
            check(&exposed, 401, 0, NOW),
            Err(LedgerError::OfflineLimit(OfflineLimit::WalletCap {
                would_be: Cents(1001),
                ..
            }))
        ));

        assert!(check(&w, 500, 4500, NOW).is_ok());
        assert!(matches!(
            check(&w, 501, 4500, NOW),
            Err(LedgerError::OfflineLimit(OfflineLimit::TerminalCap { .. }))
        ));
        // The ledger authority ignores offline limits.
        assert!(authorize_debit(
            &unknown,
            Cents(5000),
            Authority::Ledger,
            &limits,
            Cents(1_000_000),
            NOW
        )
        .is_ok());
    }

    #[test]
    fn max_balance_is_inclusive() {
        assert!(check_max_balance(Cents(100), Cents(100), Cents(200)).is_ok());
        assert!(matches!(
            check_max_balance(Cents(100), Cents(101), Cents(200)),
            Err(LedgerError::MaxBalanceExceeded {
                would_be: Cents(201),
                ..
            })
        ));
        assert!(matches!(
            check_max_balance(Cents(i64::MAX), Cents(1), Cents(i64::MAX)),
            Err(LedgerError::AmountOverflow)
        ));
    }

    #[test]
    fn terminal_permissions_follow_the_direction() {
        assert!(check_terminal_permission(Permission::Debit, EntryKind::Sale, Cents(-1)).is_ok());
        assert!(check_terminal_permission(Permission::Debit, EntryKind::TopUp, Cents(1)).is_err());
        assert!(check_terminal_permission(Permission::Credit, EntryKind::Sale, Cents(-1)).is_err());
        assert!(check_terminal_permission(Permission::Credit, EntryKind::TopUp, Cents(1)).is_ok());
        assert!(check_terminal_permission(Permission::Debit, EntryKind::Cancel, Cents(5)).is_err());
        assert!(
            check_terminal_permission(Permission::Debit, EntryKind::Payout, Cents(-5)).is_err()
        );
        assert!(check_terminal_permission(Permission::All, EntryKind::Payout, Cents(-5)).is_ok());
    }

    #[test]
    fn roles_gate_actions() {
        assert!(check_role(Role::Cashier, Action::Sell).is_ok());
        assert!(check_role(Role::Cashier, Action::CancelAnyEntry).is_err());
        assert!(check_role(Role::Supervisor, Action::CancelAnyEntry).is_ok());
        assert!(check_role(Role::Supervisor, Action::ManageStaff).is_err());
        assert!(check_role(Role::Manager, Action::ManageStaff).is_ok());
    }

    #[test]
    fn cancel_rules() {
        let anna = StaffId::new("anna").unwrap();
        let ben = StaffId::new("ben").unwrap();
        let target = CancelTarget {
            kind: EntryKind::Sale,
            staff: anna.clone(),
            already_cancelled: false,
            rejected_by_server: false,
            is_actors_last_sale_in_open_shift: true,
        };
        assert!(check_cancel(&anna, Role::Cashier, &target).is_ok());
        assert!(matches!(
            check_cancel(&ben, Role::Cashier, &target),
            Err(LedgerError::NotYourLastSale)
        ));
        assert!(check_cancel(&ben, Role::Supervisor, &target).is_ok());
        let older = CancelTarget {
            is_actors_last_sale_in_open_shift: false,
            ..target.clone()
        };
        assert!(matches!(
            check_cancel(&anna, Role::Cashier, &older),
            Err(LedgerError::NotYourLastSale)
        ));
        let top_up = CancelTarget {
            kind: EntryKind::TopUp,
            ..target.clone()
        };
        assert!(matches!(
            check_cancel(&anna, Role::Cashier, &top_up),
            Err(LedgerError::NotYourLastSale)
        ));
        let done = CancelTarget {
            already_cancelled: true,
            ..target.clone()
        };
        assert!(matches!(
            check_cancel(&anna, Role::Manager, &done),
            Err(LedgerError::AlreadyCancelled)
        ));
        let cancel = CancelTarget {
            kind: EntryKind::Cancel,
            ..target
        };
        assert!(matches!(
            check_cancel(&anna, Role::Manager, &cancel),
            Err(LedgerError::CannotCancelCancellation)
        ));
    }

    #[test]
    fn deposit_returns_are_bounded() {
        assert!(check_deposit_return("Becher", 3, 3).is_ok());
        assert!(matches!(
            check_deposit_return("Becher", 3, 4),
            Err(LedgerError::DepositReturnExceeded {
                outstanding: 3,
                requested: 4,
                ..
            })
        ));
    }
}
